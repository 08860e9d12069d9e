"""The ``lineprof`` command's options without argparse: where lineprof's options end and the
program's begin (``split_command_line``), and the common options (``-l``, ``-v``, ``-q``,
``-b``, ``-o FILE``, ``-p TARGET``) read without argparse (``read_common``); anything else is
read by argparse (cli_parsers.py), which also prints --help and the errors.  cli.py runs what
they describe.
"""

from __future__ import annotations

from lineprof._typing import TYPE_CHECKING, NamedTuple

__all__ = [
    "BOOLEAN_WORDS",
    "CliError",
    "Command",
    "SWITCHES",
    "Options",
    "is_boolean_word",
    "read_common",
    "split_command_line",
]

# Options that take a value, and -i whose value is optional (as in kernprof).
_VALUE_OPTIONS = {"-o", "--outfile", "-s", "--setup", "-u", "--unit", "-p", "--prof-mod"}
_VALUE_OPTIONS |= {"--config", "--html"}
_OPTIONAL_VALUE_OPTIONS = {"-i", "--output-interval"}
_SHORT_WITH_VALUE = set("osup")

# kernprof 5.1's words for a switch's value: --builtin=yes, --skip-zero=off, --rich 1.
BOOLEAN_WORDS = {
    **{word.casefold(): False for word in ("", "0", "off", "False", "F", "no", "N")},
    **{word.casefold(): True for word in ("1", "on", "True", "T", "yes", "Y")},
}


def is_boolean_word(text: str) -> bool:
    return text.casefold() in BOOLEAN_WORDS


class CliError(Exception):
    """Bad input: one line for stderr, and the exit status."""

    def __init__(self, message: str, status: int = 2) -> None:
        super().__init__(message)
        self.status = status


# ---- splitting the command line -----------------------------------------------------------


class Command(NamedTuple):
    options: list[str]  # lineprof's own options, for argparse
    kind: str | None  # "script", "module", "command", "stdin"; None: nothing to run
    target: str
    args: list[str]  # the program's arguments


def split_command_line(argv: list[str]) -> Command:
    """Find where lineprof's options end: at the script, ``-m MODULE``, ``-c CODE``, ``-`` or
    ``--``.  Everything after belongs to the program."""
    options: list[str] = []
    i = 0
    while i < len(argv):
        token = argv[i]
        if token == "--":
            if i + 1 >= len(argv):
                raise CliError("no script after '--'")
            return Command(options, "script", argv[i + 1], argv[i + 2 :])
        if token == "-":
            return Command(options, "stdin", "-", argv[i + 1 :])
        if token.startswith("--"):
            options.append(token)
            name, equals, _ = token.partition("=")
            if not equals and i + 1 < len(argv):
                if (
                    name in _VALUE_OPTIONS
                    or (name in _OPTIONAL_VALUE_OPTIONS and _is_number(argv[i + 1]))
                    or (name in SWITCHES and is_boolean_word(argv[i + 1]))
                ):
                    options.append(argv[i + 1])
                    i += 1
            i += 1
            continue
        if token.startswith("-") and len(token) > 1:
            for j in range(1, len(token)):
                letter = token[j]
                if letter in "mc":
                    if j > 1:
                        options.append(token[:j])
                    value = token[j + 1 :]
                    if not value:
                        if i + 1 >= len(argv):
                            raise CliError(f"-{letter} needs an argument")
                        i += 1
                        value = argv[i]
                    kind = "module" if letter == "m" else "command"
                    return Command(options, kind, value, argv[i + 1 :])
                if letter in _SHORT_WITH_VALUE or letter == "i":
                    if j == len(token) - 1 and i + 1 < len(argv):
                        if letter != "i" or _is_number(argv[i + 1]):
                            options.extend([token, argv[i + 1]])
                            i += 2
                            break
                    options.append(token)
                    i += 1
                    break
            else:
                options.append(token)
                i += 1
            continue
        return Command(options, "script", token, argv[i + 1 :])
    return Command(options, None, "", [])


# The long switches and their --no- forms, which take a yes/no value (as kernprof does,
# ``--builtin no`` takes the word as the switch's value): cli_parsers.py's _add_flag makes
# exactly these (tests/test_cli_options.py).
SWITCHES = frozenset(
    f"--{prefix}{name}"
    for name in (
        "line-by-line", "builtin", "prof-imports", "preimports", "children", "memory",
        "skip-zero", "rich", "summarize",
    )
    for prefix in ("", "no-")
)  # fmt: skip


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# ---- the options ---------------------------------------------------------------------------


if TYPE_CHECKING:
    from argparse import Namespace as Options
else:

    class Options:
        """The options, as attributes named as argparse's ``dest`` names them (what
        argparse.Namespace is to cli.py, without importing argparse)."""

        def __init__(self, **values):
            self.__dict__.update(values)


# Every option's dest, and what it is when not given (tests/test_cli_options.py checks this
# against argparse's parser).
DEFAULTS: dict[str, object] = {
    **dict.fromkeys(
        "m c line_by_line builtin prof_mod prof_imports preimports children memory setup "
        "outfile view quiet output_interval unit skip_zero rich summarize html config".split()
    ),
    "no_config": False,
}
_LETTERS = {"l": "line_by_line", "b": "builtin", "v": "view", "q": "quiet"}
_COUNTED = {"view", "quiet"}
_WITH_VALUE = {"-o": "outfile", "-p": "prof_mod"}


def read_common(tokens: list[str]) -> Options | None:
    """What argparse would make of ``tokens`` (cli_parsers.build_parser) when each is one of
    -l, -b, -v, -q (or several of those letters in one: -lv), or -o/-p followed by a value that
    is not an option; None for anything else, which is argparse's to read (its messages, and
    SystemExit for --help and --version, are the command's)."""
    values = dict(DEFAULTS)
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token in _WITH_VALUE:
            if i + 1 >= len(tokens) or tokens[i + 1].startswith("-"):
                return None
            dest, value = _WITH_VALUE[token], tokens[i + 1]
            if dest == "prof_mod":
                values[dest] = [*(values[dest] or []), value]  # type: ignore[misc]
            else:
                values[dest] = value
            i += 2
            continue
        letters = token[1:]
        if token[:1] != "-" or not letters or any(letter not in _LETTERS for letter in letters):
            return None
        for letter in letters:
            dest = _LETTERS[letter]
            values[dest] = (values[dest] or 0) + 1 if dest in _COUNTED else True  # type: ignore[operator]
        i += 1
    return Options(**values)
