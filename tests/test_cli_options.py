"""The command's common options are read without argparse (cli_options.parse_options), and
must read exactly as argparse's parser reads them; everything else goes to argparse."""

from __future__ import annotations

import itertools

import pytest

from lineprof.cli import _parse_with_argparse
from lineprof.cli_options import DEFAULTS, SWITCHES, CliError, read_common
from lineprof.cli_parsers import build_parser, switches

# Tokens a command line may hold before the script, alone or in sequence.
COMMON = [["-l"], ["-v"], ["-q"], ["-b"], ["-lv"], ["-vv"], ["-lbq"], ["-qq"], ["-vlv"]]
COMMON += [["-o", "out.lprof"], ["-p", "pkg.mod"], ["-p", "a,b"], ["-p", ""], ["-o", "x y"]]


def argparse_reads(tokens: list[str]) -> dict[str, object]:
    return vars(build_parser().parse_args(tokens))


def test_the_defaults_are_argparse_s() -> None:
    assert DEFAULTS == argparse_reads([])
    quick = read_common([])
    assert quick is not None and vars(quick) == argparse_reads([])


def test_the_switches_are_argparse_s() -> None:
    assert switches() == SWITCHES


@pytest.mark.parametrize("count", [1, 2, 3])
def test_common_options_read_as_argparse_reads_them(count: int) -> None:
    for parts in itertools.product(COMMON, repeat=count):
        tokens = [token for part in parts for token in part]
        quick = read_common(tokens)
        assert quick is not None, tokens  # these never need argparse
        assert vars(quick) == argparse_reads(tokens), tokens


@pytest.mark.parametrize(
    "tokens",
    [
        ["--line-by-line"],
        ["-l", "--view"],
        ["-lx"],
        ["-lo", "out"],
        ["-o"],
        ["-o", "-v"],
        ["-p"],
        ["-i"],
        ["-i", "2"],
        ["-u", "1e-6"],
        ["--no-config"],
        ["-V"],
        ["-"],
        ["l"],
        ["-z", "-l"],
    ],
)
def test_anything_else_is_left_to_argparse(tokens: list[str]) -> None:
    assert read_common(tokens) is None
    try:
        expected: object = argparse_reads(tokens)
    except (CliError, SystemExit) as exc:
        expected = type(exc)
    try:
        got: object = vars(read_common(tokens) or _parse_with_argparse(tokens))
    except (CliError, SystemExit) as exc:
        got = type(exc)
    assert got == expected
