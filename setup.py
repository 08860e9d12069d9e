"""Build for lineprof's C extension.  Everything else is in pyproject.toml."""

import sys

from setuptools import Extension, setup

if sys.platform == "win32":
    # threadstate.c uses POSIX thread keys; a Windows port is not written yet.
    raise SystemExit("lineprof builds on Linux and macOS only")

SOURCES = [
    "csrc/module.c",
    "csrc/profiler.c",
    "csrc/linestats.c",
    "csrc/threadstate.c",
    "csrc/running.c",
    "csrc/greenlet.c",
    "csrc/throw.c",
    "csrc/timer.c",
    "csrc/hook_monitoring.c",
    "csrc/hook_settrace.c",
    "csrc/hook_setprofile.c",
    "csrc/hook_wrap.c",
    "csrc/entry.c",
    "csrc/memhook.c",
]

HEADERS = [
    "csrc/lineprof.h",
    "csrc/compat.h",
    "csrc/events.h",
    "csrc/timer.h",
]

setup(
    ext_modules=[
        Extension(
            "lineprof._lineprof",
            sources=SOURCES,
            depends=HEADERS,
            extra_compile_args=["-std=c11", "-Wall", "-Wextra", "-O2"],
        )
    ],
)
