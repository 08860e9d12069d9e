"""Run what README.md and docs/*.md show, and compare it with what they say it prints.

    python tools/check_docs.py [--update] [FILE.md ...]   (default: README.md and docs/*.md)

``--update`` rewrites each console output that does not match with what the command printed
(read the diff before committing it: it is what a reader will see).

Each page runs in a fresh scratch directory, its fenced blocks in order:

- ``python`` (or ``toml``) whose first line is ``# NAME`` (a relative file name): written there
  as NAME, so the commands after it can run it.  Every ``python`` block is compiled (a syntax
  check).
- ``console``: a shell session.  ``$ command`` lines run with bash in the scratch directory
  (stdout and stderr together); the lines after one, up to the next ``$``, are what it must
  print.  The comparison forgives what differs from run to run and nothing else: every
  number with a decimal point or an exponent (times, percentages) matches any such number,
  runs of spaces match any run of spaces, the scratch directory is shown as ``/tmp/demo``,
  and a line ``...`` matches any lines (none included).  Hits, line numbers and text are
  exact (a duration's unit, ``0.03s``, goes with its number).  A command may end in
  ``# exit N``: it must exit with status N (else 0).
- ``pycon``: a doctest (``>>>``), same forgiveness for numbers.
- ``ipython``: an IPython session (``In [n]:`` and ``...:`` lines are the input, the rest what
  it prints); its cells run in a fresh IPython shell in the scratch directory, and the whole
  session as IPython would show it is compared, the same way.  Blank lines count.
- ``toml`` and ``json``: parsed.
- ``sh``: the set-up commands (`.ci/run` runs the two marked ones); checked with ``bash -n``.
- ``text``: shown as is (measured tables, a listing).  It must follow a line
  ``<!-- not run: why -->`` saying why it is not checked.

Exits 1 listing every block that did not match.  Needs lineprof installed (the commands run
``python -m lineprof``, ``lineprof`` and the ``python`` found first on PATH).
"""

from __future__ import annotations

import doctest
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHOWN_DIR = "/tmp/demo"
FENCE = re.compile(r"^```(\S*)\s*$")
NOT_RUN = re.compile(r"^<!-- not run: .+ -->$")
NUMBER = re.compile(
    r"(?<![\w.])[-+]?(?:\d+\.\d*|\.\d+|\d+(?=e))(?:e[-+]?\d+)?(?:s|ms|µs|ns)?(?![\w.])"
)
EXIT = re.compile(r"\s+# exit (\d+)$")


@dataclass
class Block:
    path: Path
    line: int  # of the opening fence, 1-based
    lang: str
    text: str
    note: str | None  # the line just before the fence


def blocks(path: Path) -> list[Block]:
    found = []
    lines = path.read_text().splitlines()
    index = 0
    while index < len(lines):
        match = FENCE.match(lines[index])
        if match is None:
            index += 1
            continue
        start = index
        index += 1
        body = []
        while index < len(lines) and lines[index] != "```":
            body.append(lines[index])
            index += 1
        before = next((ln for ln in reversed(lines[:start]) if ln.strip()), None)
        found.append(Block(path, start + 1, match.group(1), "\n".join(body) + "\n", before))
        index += 1
    return found


def normalise(text: str, scratch: str) -> list[str]:
    out = []
    for line in text.replace(scratch, SHOWN_DIR).splitlines():
        line = NUMBER.sub("#.#", line.rstrip())
        out.append(re.sub(r"\s+", " ", line))
    while out and not out[-1]:
        out.pop()
    return out


def matches(expected: list[str], actual: list[str]) -> bool:
    """Line by line; an expected line '...' stands for any number of lines."""
    if not expected:
        return not actual
    if expected[0] == "...":
        return any(matches(expected[1:], actual[i:]) for i in range(len(actual) + 1))
    return bool(actual) and expected[0] == actual[0] and matches(expected[1:], actual[1:])


def session(text: str) -> list[tuple[str, list[str]]]:
    """[(command, expected lines)] of a console block."""
    steps: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        elif steps:
            steps[-1][1].append(line)
        elif line.strip():
            raise ValueError(f"output before the first command: {line!r}")
    return steps


def run_console(
    block: Block, scratch: str, env: dict[str, str], update: list[str] | None = None
) -> list[str]:
    """Problems found; with ``update`` (a list to fill), the block's text as it should be:
    each command's expected lines kept where they match, replaced by what it printed where
    they do not."""
    problems = []
    for command, expected in session(block.text):
        shown = command
        status = 0
        exit_match = EXIT.search(command)
        if exit_match:
            status = int(exit_match.group(1))
            command = command[: exit_match.start()]
        done = subprocess.run(
            ["bash", "-c", command],
            cwd=scratch,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=300,
        )
        want = normalise("\n".join(expected), scratch)
        got = normalise(done.stdout, scratch)
        ok = done.returncode == status and matches(want, got)
        if update is not None:
            printed = done.stdout.replace(scratch, SHOWN_DIR).rstrip("\n")
            fresh = [ln.rstrip() for ln in printed.split("\n")] if printed else []
            update += [f"$ {shown}", *(expected if ok else fresh)]
        if not ok:
            problems.append(
                f"$ {command}\n  exit {done.returncode} (expected {status})\n"
                f"  expected:\n    " + "\n    ".join(want) + "\n  got:\n    " + "\n    ".join(got)
            )
    return problems


# Runs an ``ipython`` block's cells in a fresh IPython shell and prints the session as IPython
# shows it (each cell's input with its prompts, then what it printed), for the comparison.
_IPYTHON_SESSION = r"""
import re, sys
from IPython.core.interactiveshell import InteractiveShell

sys.path.insert(0, "")
cells = []
for line in sys.stdin.read().splitlines():
    start = re.match(r"In \[(\d+)\]: ?(.*)$", line)
    more = re.match(r"\s+\.\.\.: ?(.*)$", line)
    if start:
        cells.append((int(start.group(1)), [start.group(2)]))
    elif more and cells:
        cells[-1][1].append(more.group(1))
shell = InteractiveShell.instance(colors="nocolor")
for number, lines in cells:
    shell.execution_count = number
    print(f"In [{number}]: {lines[0]}".rstrip())
    for line in lines[1:]:
        print(f"   ...: {line}".rstrip())
    sys.stdout.flush()
    shell.run_cell("\n".join(lines).rstrip() + "\n", store_history=True)
    sys.stdout.flush()
    sys.stderr.flush()
    print()
"""


def run_ipython(
    block: Block, scratch: str, env: dict[str, str], update: list[str] | None = None
) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", _IPYTHON_SESSION],
        input=block.text,
        cwd=scratch,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=300,
    )
    want, got = normalise(block.text, scratch), normalise(done.stdout, scratch)
    if matches(want, got):
        return []
    if update is not None:
        shown = done.stdout.replace(scratch, SHOWN_DIR).rstrip("\n").split("\n")
        update += [line.rstrip() for line in shown]
    return ["  expected:\n    " + "\n    ".join(want) + "\n  got:\n    " + "\n    ".join(got)]


class _Checker(doctest.OutputChecker):
    def __init__(self, scratch: str) -> None:
        self.scratch = scratch

    def check_output(self, want: str, got: str, optionflags: int) -> bool:
        return matches(normalise(want, self.scratch), normalise(got, self.scratch))


def run_pycon(block: Block, scratch: str, globs: dict[str, object]) -> list[str]:
    test = doctest.DocTestParser().get_doctest(
        block.text, globs, f"{block.path.name}:{block.line}", str(block.path), block.line
    )
    out: list[str] = []
    runner = doctest.DocTestRunner(checker=_Checker(scratch), optionflags=doctest.ELLIPSIS)
    here = os.getcwd()
    os.chdir(scratch)
    try:
        runner.run(test, out=out.append, clear_globs=False)
    finally:
        os.chdir(here)
    return ["".join(out)] if runner.failures else []


def _write_named(block: Block, scratch: str) -> None:
    """A block whose first line is ``# NAME`` (a relative file name) is written there."""
    first, _, rest = block.text.partition("\n")
    name = re.fullmatch(r"# ((?:[\w.-]+/)*[\w.-]+\.\w+)", first)
    if name:
        target = Path(scratch, name.group(1))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(rest)


def check_page(path: Path, env: dict[str, str], update: bool = False) -> list[str]:
    problems = []
    rewritten: dict[int, str] = {}  # a console block's fence line -> its new text
    scratch = tempfile.mkdtemp(prefix="lineprof-docs-")
    globs: dict[str, object] = {}
    try:
        shutil.copytree(ROOT / "examples", scratch, dirs_exist_ok=True)
        for block in blocks(path):
            where = f"{path.relative_to(ROOT)}:{block.line} ({block.lang or 'no language'})"
            found: list[str] = []
            try:
                if block.lang.startswith("{"):
                    pass  # a MyST directive ({toctree}, {eval-rst}): not an example
                elif block.lang == "python":
                    _write_named(block, scratch)
                    compile(block.text, where, "exec")
                elif block.lang == "console":
                    new_text: list[str] | None = [] if update else None
                    found = run_console(block, scratch, env, new_text)
                    if new_text is not None:
                        rewritten[block.line] = "\n".join(new_text) + "\n"
                elif block.lang == "ipython":
                    new_session: list[str] | None = [] if update else None
                    found = run_ipython(block, scratch, env, new_session)
                    if new_session:
                        rewritten[block.line] = "\n".join(new_session) + "\n"
                elif block.lang == "pycon":
                    found = run_pycon(block, scratch, globs)
                elif block.lang == "toml":
                    _write_named(block, scratch)
                    if sys.version_info >= (3, 11):
                        import tomllib

                        tomllib.loads(block.text)
                elif block.lang == "json":
                    json.loads(block.text)
                elif block.lang == "sh":
                    done = subprocess.run(["bash", "-n"], input=block.text, text=True)
                    if done.returncode:
                        found = ["not valid shell"]
                elif block.lang == "text":
                    if not (block.note and NOT_RUN.match(block.note.strip())):
                        found = ["a text block without '<!-- not run: why -->' before it"]
                else:
                    found = [f"unknown block language {block.lang!r}: say what it is"]
            except Exception as exc:  # a block that cannot even be checked is a problem too
                found = [f"{type(exc).__name__}: {exc}"]
            problems += [f"{where}:\n{p}" for p in found]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if update and rewritten:
        _rewrite(path, rewritten)
    return problems


def _rewrite(path: Path, texts: dict[int, str]) -> None:
    lines = path.read_text().split("\n")
    out: list[str] = []
    index = 0
    while index < len(lines):
        out.append(lines[index])
        if index + 1 in texts:
            out += texts[index + 1].rstrip("\n").split("\n")
            index += 1
            while lines[index] != "```":
                index += 1
            out.append("```")
        index += 1
    path.write_text("\n".join(out))


def main(argv: list[str]) -> int:
    update = "--update" in argv  # rewrite what does not match with what ran (then read it!)
    argv = [a for a in argv if a != "--update"]
    pages = [Path(a).resolve() for a in argv] or [
        ROOT / "README.md",
        *sorted((ROOT / "docs").glob("*.md")),
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINEPROF", "LINE_PROF"))}
    env.update(COLUMNS="100", NO_COLOR="1", PYTHONDONTWRITEBYTECODE="1")
    problems = []
    for page in pages:
        problems += check_page(page, env, update)
    for problem in problems:
        print(problem, end="\n\n")
    print(f"{len(pages)} pages, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
