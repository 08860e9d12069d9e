"""Run lineprof (or a plain program) in a subprocess that imports this checkout of lineprof,
and read the results back."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lineprof
from lineprof import LineStats, load_stats

SCRIPTS = Path(__file__).resolve().parent
# The directory lineprof is imported from here: the checkout, or site-packages when installed.
IMPORT_ROOT = str(Path(lineprof.__file__).resolve().parent.parent)


def environment(**extra: str | None) -> dict[str, str]:
    """os.environ with lineprof importable, LINE_PROFILE and LINEPROF_OUTPUT cleared, and
    ``extra`` applied (None removes a variable)."""
    env = dict(os.environ)
    for name in ("LINE_PROFILE", "LINEPROF_OUTPUT", "PYTHONSTARTUP", "PYTHONSAFEPATH"):
        env.pop(name, None)
    parts = [IMPORT_ROOT, *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(parts))
    env["PYTHONIOENCODING"] = "utf-8"
    for name, value in extra.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def run_python(
    *args: str, cwd: Path, env: dict[str, str] | None = None, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=env if env is not None else environment(),
        input=input,
        capture_output=True,
        text=True,
        timeout=180,
    )


def run_lineprof(
    *args: str, cwd: Path, env: dict[str, str] | None = None, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m lineprof ARGS`` in ``cwd``."""
    return run_python("-m", "lineprof", *args, cwd=cwd, env=env, input=input)


def default_sigint() -> None:
    """preexec_fn: Ctrl-C tests need SIGINT's default action in the child, even when the
    test runner ignores SIGINT (as background jobs of a non-interactive shell do)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def lineprof_script() -> str | None:
    """The ``lineprof`` console script of this interpreter's environment, if installed."""
    here = os.path.dirname(sys.executable)
    return shutil.which("lineprof", path=here) or None


def copy_script(name: str, destination: Path) -> Path:
    """Copy tests/scripts/NAME (a file or a directory) into ``destination``."""
    source = SCRIPTS / name
    target = destination / name
    if source.is_dir():
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
    else:
        shutil.copy(source, target)
    return target


def functions(stats: LineStats) -> set[str]:
    return {qualname for (_, _, qualname) in stats.timings}


def hits(stats: LineStats, qualname: str, filename: str | None = None) -> dict[str, int]:
    """{stripped source text of the line: hits} for the function ``qualname``; lines that
    were never hit are left out."""
    found: dict[str, int] = {}
    matched = False
    for (path, _, name), rows in stats.timings.items():
        if name != qualname or (filename is not None and not path.endswith(filename)):
            continue
        matched = True
        source = Path(path).read_text(encoding="utf-8").splitlines()
        for line, count, _ in rows:
            if count:
                text = source[line - 1].strip()
                found[text] = found.get(text, 0) + count
    assert matched, f"{qualname} not in the results: {sorted(functions(stats))}"
    return found


def load(path: Path) -> LineStats:
    assert path.exists(), f"{path} was not written"
    return load_stats(path)


def stderr_lines(result: subprocess.CompletedProcess[Any]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


@contextlib.contextmanager
def read_only_directory(directory: Path) -> Iterator[None]:
    """Make ``directory`` read-only for this user, root included: ``chattr +i`` (immutable,
    even for root, on ext4 and similar) or else mode 0o555 for anyone else.  Skips the test
    when neither works."""
    import pytest

    if subprocess.run(["chattr", "+i", str(directory)], capture_output=True).returncode == 0:
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(directory)], check=True)
        return
    if os.geteuid() == 0:
        pytest.skip("cannot make a directory read-only for root here (chattr +i failed)")
    directory.chmod(0o555)
    try:
        yield
    finally:
        directory.chmod(0o755)
