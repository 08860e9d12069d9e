"""Benchmark environments: one venv per interpreter, in a cache directory outside the repository.

Each venv gets lineprof built from the repository (a copy of its source in a temporary
directory is pip-installed, so nothing is ever built inside the work tree) and the latest
line_profiler from PyPI.  A venv is reused while the lineprof source is unchanged (a hash of
the files that go into the build is kept next to it).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_CACHE = Path(os.environ.get("LINEPROF_BENCH_CACHE", "~/.cache/lineprof-bench")).expanduser()

# What goes into the lineprof build (hashed to decide whether to reinstall).
_BUILD_INPUTS = ("setup.py", "pyproject.toml", "README.md", "csrc", "lineprof")
_COPY_IGNORE = shutil.ignore_patterns(
    ".git", "build", "dist", "*.egg-info", "__pycache__", "*.so", "*.o", ".venv*", "*_cache"
)


@dataclass
class Env:
    base_python: str  # the interpreter the venv was made from
    version: str  # "3.12.1"
    python: str  # the venv's interpreter
    lineprof: str | None  # version installed, None if the build failed
    line_profiler: str | None  # version installed, None if unavailable
    source_hash: str = ""  # of the lineprof source installed


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def find_interpreters() -> list[str]:
    """Every CPython >= 3.10 under ~/.pyenv/versions, oldest first."""
    root = Path("~/.pyenv/versions").expanduser()
    found = []
    for path in sorted(root.glob("*/bin/python3")):
        version = probe_version(str(path))
        if version is not None and version >= (3, 10):
            found.append((version, str(path)))
    return [path for _, path in sorted(found)]


def probe_version(python: str) -> tuple[int, ...] | None:
    code = "import sys; print(sys.implementation.name, *sys.version_info[:3])"
    try:
        out = subprocess.run(
            [python, "-c", code], capture_output=True, text=True, timeout=30, check=True
        ).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return None
    if not out or out[0] != "cpython":
        return None
    return tuple(int(x) for x in out[1:4])


def source_hash(source: Path) -> str:
    digest = hashlib.sha256()
    for name in _BUILD_INPUTS:
        path = source / name
        files = [path] if path.is_file() else sorted(path.rglob("*"))
        for file in files:
            if file.is_file() and not file.name.endswith((".so", ".pyc", ".o")):
                digest.update(str(file.relative_to(source)).encode())
                digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def _pip(python: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [python, "-m", "pip", "--disable-pip-version-check", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PIP_NO_INPUT": "1"},
    )


def _installed_version(python: str, module: str) -> str | None:
    code = f"import {module} as m; print(m.__version__)"
    proc = subprocess.run(
        [python, "-c", code], capture_output=True, text=True, cwd=tempfile.gettempdir()
    )
    return proc.stdout.strip() if proc.returncode == 0 else None


def prepare(
    base_python: str,
    cache: Path,
    source: Path = REPO,
    with_line_profiler: bool = True,
    refresh: bool = False,
) -> Env:
    version = ".".join(map(str, probe_version(base_python) or ()))
    tag = hashlib.sha256(str(Path(base_python).resolve()).encode()).hexdigest()[:8]
    venv = cache / "venvs" / f"cpython-{version}-{tag}"
    python = str(venv / "bin" / "python")
    if refresh and venv.exists():
        shutil.rmtree(venv)
    if not Path(python).exists():
        log(f"[{version}] creating venv {venv}")
        subprocess.run([base_python, "-m", "venv", str(venv)], check=True)

    wanted = source_hash(source)
    stamp = venv / "lineprof-source.json"
    have = json.loads(stamp.read_text()) if stamp.exists() else {}
    lineprof_version = _installed_version(python, "lineprof")
    if have.get("hash") != wanted or have.get("source") != str(source) or not lineprof_version:
        log(f"[{version}] building lineprof from {source} (source {wanted})")
        with tempfile.TemporaryDirectory(prefix="lineprof-bench-src-") as tmp:
            copy = Path(tmp) / "lineprof"
            shutil.copytree(source, copy, ignore=_COPY_IGNORE)
            proc = _pip(python, "install", "--no-deps", "--force-reinstall", str(copy))
        if proc.returncode != 0:
            log(f"[{version}] lineprof build FAILED:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
            lineprof_version = None
        else:
            lineprof_version = _installed_version(python, "lineprof")
            stamp.write_text(json.dumps({"hash": wanted, "source": str(source)}))

    line_profiler_version = None
    if with_line_profiler:
        line_profiler_version = _installed_version(python, "line_profiler")
        if line_profiler_version is None:
            log(f"[{version}] installing line_profiler from PyPI")
            proc = _pip(python, "install", "--upgrade", "line_profiler")
            if proc.returncode != 0:
                log(
                    f"[{version}] line_profiler unavailable (pip failed); comparisons with it "
                    f"are skipped:\n{proc.stderr[-1500:]}"
                )
            line_profiler_version = _installed_version(python, "line_profiler")
    return Env(base_python, version, python, lineprof_version, line_profiler_version, wanted)
