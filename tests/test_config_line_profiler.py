"""line_profiler's ``[tool.line_profiler]`` and LINE_PROFILER_RC, read when a project has no
``[tool.lineprof]``: the keys' translation, where the table is found, what wins, the warning
about the keys lineprof has no use for and the error for a value of the wrong type."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from lineprof import cli, config
from lineprof.config import LINE_PROFILER_TABLE, Config, ConfigError, find_pyproject, load_config
from lineprof.config_line_profiler import find_file, translate
from lineprof.results import LineStats
from tests.scripts._run import SCRIPTS, environment, load, run_lineprof

PROBE = str(SCRIPTS / "mainprobe.py")

KERNPROF = """\
[project]
name = "demo"

[tool.line_profiler.kernprof]
line-by-line = true
builtin = true
rich = true
skip-zero = true
summarize = true
prof-imports = true
preimports = false
verbose = 1
outfile = "out/results.lprof"
setup = "setup.py"
unit = 1e-3
output-interval = 2
prof-mod = ["pkg", "b.py"]

[tool.line_profiler.cli]
unit = 1e-9  # kernprof's unit wins: lineprof has one key for both
sort = true
"""

KERNPROF_VALUES = {
    "line-by-line": True,
    "builtin": True,
    "rich": True,
    "skip-zero": True,
    "summarize": True,
    "prof-imports": True,
    "preimports": False,
    "view": True,
    "quiet": False,
    "outfile": "out/results.lprof",
    "setup": "setup.py",
    "unit": 1e-3,
    "output-interval": 2.0,
    "prof-mod": ["pkg", "b.py"],
    "sort": True,
}


@pytest.fixture(autouse=True)
def _no_rc(monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment's LINE_PROFILER_RC, if any, is not the test's."""
    monkeypatch.delenv("LINE_PROFILER_RC", raising=False)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# ---- the translation ----------------------------------------------------------------------


def test_kernprof_and_cli_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pyproject = write(tmp_path / "pyproject.toml", KERNPROF)
    monkeypatch.chdir(tmp_path)
    loaded = load_config(find_pyproject())
    assert loaded == Config(str(pyproject), KERNPROF_VALUES, LINE_PROFILER_TABLE, [])
    assert type(loaded.values["output-interval"]) is float
    assert capsys.readouterr().err == ""  # every key has a lineprof meaning: no warning


@pytest.mark.parametrize(
    ("verbose", "view", "quiet"),
    [(0, False, False), (1, True, False), (2, True, False), (-1, False, True), (-3, False, True)],
)
def test_verbose_is_view_or_quiet(verbose: int, view: bool, quiet: bool) -> None:
    translated = translate({"kernprof": {"verbose": verbose}}).values
    assert translated == {
        "view": ("[tool.line_profiler.kernprof] verbose", view),
        "quiet": ("[tool.line_profiler.kernprof] verbose", quiet),
    }


def test_line_profiler_unset_values_are_left_out(tmp_path: Path) -> None:
    """outfile = "", setup = "" and output-interval = 0 are line_profiler's "not set"."""
    text = '[tool.line_profiler.kernprof]\noutfile = ""\nsetup = ""\noutput-interval = 0\n'
    path = write(tmp_path / "x.toml", text)
    assert load_config(str(path), explicit=True) == Config(str(path), {}, LINE_PROFILER_TABLE)


def test_cli_table_fills_what_kernprof_lacks(tmp_path: Path) -> None:
    text = (
        "[tool.line_profiler.cli]\nunit = 1e-3\nrich = true\nsort = true\nsummarize = false\n"
        "[tool.line_profiler.kernprof]\nsummarize = true\n"  # after cli's: still wins
    )
    path = write(tmp_path / "x.toml", text)
    assert load_config(str(path), explicit=True).values == {
        "unit": 1e-3,
        "rich": True,
        "sort": True,
        "summarize": True,
    }


# ---- keys lineprof has no use for: one warning line -----------------------------------------

IGNORED = """\
[tool.line_profiler.kernprof]
preimports = true
vieww = true
unit = 1e-6

[tool.line_profiler.setup]
environ_flags = ["LINE_PROFILE"]
cli_flags = ["--line-profile", "--line_profile"]

[tool.line_profiler.write]
output_prefix = "profile_output"
lprof = true
text = true
timestamped_text = false
stdout = true

[tool.line_profiler.show]
sort = true

[tool.line_profiler.show.column_widths]
line = 6

[tool.line_profiler.child_processes]
x = 1
"""


def test_unknown_keys_warned_not_fatal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pyproject = write(tmp_path / "pyproject.toml", IGNORED)
    monkeypatch.chdir(tmp_path)
    loaded = load_config(find_pyproject())
    ignored = [
        "kernprof.vieww",  # unknown to line_profiler too
        "write.stdout",
        "show.sort",
        "show.column_widths",
        "child_processes.x",
    ]
    values = {"unit": 1e-6, "preimports": True}
    assert loaded == Config(str(pyproject), values, LINE_PROFILER_TABLE, ignored)
    assert capsys.readouterr().err == (
        f"lineprof: warning: {pyproject}: [tool.line_profiler] keys lineprof has no use for, "
        f"ignored: {', '.join(ignored)}\n"
    )


def test_values_that_are_what_lineprof_does_go_unwarned() -> None:
    table = {
        "setup": {"environ_flags": ["LINE_PROFILE"]},
        "write": {"lprof": True, "timestamped_text": False},
    }
    assert translate(table).ignored == []
    # the same keys with other values (1 is not true here) are warned about
    table = {
        "setup": {"environ_flags": ["PROFILE_ME"]},
        "write": {"lprof": 1, "timestamped_text": True},
    }
    assert translate(table).ignored == [
        "setup.environ_flags",
        "write.lprof",
        "write.timestamped_text",
    ]


def test_warning_through_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pyproject = write(tmp_path / "pyproject.toml", IGNORED)
    results = write_results(tmp_path / "r.json")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["show", str(results)]) == 0
    out, err = capsys.readouterr()
    assert err.splitlines() == [
        f"lineprof: warning: {pyproject}: [tool.line_profiler] keys lineprof has no use for, "
        "ignored: kernprof.vieww, write.stdout, show.sort, "
        "show.column_widths, child_processes.x"
    ]
    assert "Timer unit: 1e-06 s" in out  # kernprof.unit


# ---- values of the wrong type: lineprof's one-line error -----------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[tool.line_profiler.kernprof]\nunit = 'fast'\n",
            "[tool.line_profiler.kernprof] unit must be a positive number, not 'fast'",
        ),
        (
            "[tool.line_profiler.cli]\nsort = 1\n",
            "[tool.line_profiler.cli] sort must be true or false, not 1",
        ),
        (
            "[tool.line_profiler.kernprof]\nprof-mod = [1]\n",
            "[tool.line_profiler.kernprof] prof-mod must be a list of strings, not [1]",
        ),
        (
            "[tool.line_profiler.kernprof]\noutput-interval = -2\n",
            "[tool.line_profiler.kernprof] output-interval must be a positive number, not -2",
        ),
        (
            "[tool.line_profiler.kernprof]\noutfile = false\n",
            "[tool.line_profiler.kernprof] outfile must be a string, not False",
        ),
        (
            "[tool.line_profiler.kernprof]\nverbose = 'yes'\n",
            "[tool.line_profiler.kernprof] verbose must be a whole number, not 'yes'",
        ),
        (
            "[tool.line_profiler]\nkernprof = 3\n",
            "[tool.line_profiler.kernprof] must be a table",
        ),
        ("[tool]\nline_profiler = 3\n", "[tool.line_profiler] must be a table"),
    ],
)
def test_wrong_type_is_an_error(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path / "pyproject.toml", text)
    with pytest.raises(ConfigError) as caught:
        load_config(str(path), explicit=True)
    assert str(caught.value) == f"{path}: {message}"


def test_wrong_type_message_is_lineprofs_own(tmp_path: Path) -> None:
    """The same words as for [tool.lineprof], the table named being line_profiler's."""
    own = write(tmp_path / "a" / "pyproject.toml", "[tool.lineprof]\nunit = 'fast'\n")
    theirs = write(
        tmp_path / "b" / "pyproject.toml", "[tool.line_profiler.kernprof]\nunit = 'fast'\n"
    )
    messages = []
    for path in (own, theirs):
        with pytest.raises(ConfigError) as caught:
            load_config(str(path), explicit=True)
        messages.append(str(caught.value).split("] ", 1)[1])
    assert messages == ["unit must be a positive number, not 'fast'"] * 2


def test_wrong_type_through_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pyproject = write(tmp_path / "pyproject.toml", "[tool.line_profiler.cli]\nsort = 'yes'\n")
    results = write_results(tmp_path / "r.json")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["show", str(results)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"lineprof: error: {pyproject}: [tool.line_profiler.cli] sort must be true or false, "
        "not 'yes'"
    ]


# ---- where the table is found and what wins ------------------------------------------------


def test_lineprof_table_wins_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "[tool.lineprof]\nview = true\n\n" + IGNORED.replace("unit = 1e-6", "unit = 'bad'")
    pyproject = write(tmp_path / "pyproject.toml", text)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LINE_PROFILER_RC", str(tmp_path / "missing.toml"))  # would fail if read
    assert load_config(find_pyproject()) == Config(str(pyproject), {"view": True})
    # an empty [tool.lineprof] wins too: no defaults at all
    write(tmp_path / "pyproject.toml", "[tool.lineprof]\n" + KERNPROF.replace("[project]", "[x]"))
    assert load_config(find_pyproject()) == Config(str(pyproject), {})
    assert capsys.readouterr().err == ""  # line_profiler's keys not even looked at


def test_rc_file_beats_the_nearest_pyproject(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "pyproject.toml", "[tool.line_profiler.kernprof]\nunit = 1e-3\nrich = true\n")
    rc = write(tmp_path / "conf" / "lp.toml", "[tool.line_profiler.kernprof]\nunit = 1e-6\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LINE_PROFILER_RC", "conf/lp.toml")  # relative to the working directory
    # the whole file is line_profiler's: pyproject.toml's rich is not merged in
    assert load_config(find_pyproject()) == Config(str(rc), {"unit": 1e-6}, LINE_PROFILER_TABLE)
    monkeypatch.setenv("LINE_PROFILER_RC", "")  # empty: unset, as for line_profiler
    assert load_config(find_pyproject()).values == {"unit": 1e-3, "rich": True}
    monkeypatch.setenv("LINE_PROFILER_RC", "conf/missing.toml")
    with pytest.raises(ConfigError) as caught:
        load_config(find_pyproject())
    missing = tmp_path / "conf" / "missing.toml"
    assert (
        str(caught.value) == f"LINE_PROFILER_RC: cannot read {missing}: No such file or directory"
    )


def test_rc_file_without_any_pyproject(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rc = write(tmp_path / "lp.toml", "[tool.line_profiler.cli]\nskip-zero = true\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LINE_PROFILER_RC", str(rc))
    assert load_config(None) == Config(str(rc), {"skip-zero": True}, LINE_PROFILER_TABLE)


def test_line_profiler_toml_is_found_as_line_profiler_finds_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "pyproject.toml", "[project]\nname = 'x'\n")
    sub = tmp_path / "sub"
    own = write(sub / "line_profiler.toml", "[tool.line_profiler.kernprof]\nunit = 1e-3\n")
    write(sub / "pyproject.toml", "[tool.line_profiler.kernprof]\nunit = 1.0\n")
    (sub / "deeper").mkdir()
    monkeypatch.chdir(sub / "deeper")
    assert find_file() == str(own)  # line_profiler.toml before pyproject.toml in a directory
    assert load_config(find_pyproject()) == Config(str(own), {"unit": 1e-3}, LINE_PROFILER_TABLE)
    # a nearer pyproject.toml without the table ends the search: no defaults
    (sub / "deeper" / "pyproject.toml").write_text("[project]\nname = 'y'\n")
    assert load_config(find_pyproject()) == Config(str(sub / "deeper" / "pyproject.toml"))


def test_explicit_config_file_is_the_only_one_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "pyproject.toml", "[tool.line_profiler.kernprof]\nunit = 1e-3\n")
    other = write(tmp_path / "other.toml", "[tool.line_profiler.kernprof]\nunit = 1e-6\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LINE_PROFILER_RC", str(tmp_path / "missing.toml"))  # would fail if read
    expected = Config(str(other), {"unit": 1e-6}, LINE_PROFILER_TABLE)
    assert load_config(str(other), explicit=True) == expected
    assert load_config(str(other)) == expected  # not the nearest pyproject.toml: explicit


# ---- through the command ------------------------------------------------------------------


def write_results(path: Path) -> Path:
    """Results of two functions, f (ran) and g (never ran), lineprof's JSON."""
    f = ("/nowhere/f.py", 1, "f")
    g = ("/nowhere/f.py", 4, "g")
    timings = {f: [(2, 3, 3000)], g: [(5, 0, 0)]}
    sources = {f: ["def f():", "    return 1"], g: ["def g():", "    return 2"]}
    LineStats(timings, 1e-9, sources).dump(path)
    return path


def test_show_reads_the_cli_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path / "pyproject.toml", "[tool.line_profiler.cli]\nunit = 1e-3\nskip-zero = true\n")
    results = write_results(tmp_path / "r.json")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["show", str(results)]) == 0
    out = capsys.readouterr().out
    assert "Timer unit: 0.001 s" in out
    assert "Function: f at line 1" in out
    assert "Function: g" not in out  # skip-zero
    # the command line wins, and --no-config forgets the table
    assert cli.main(["show", "-u", "1", "--no-skip-zero", str(results)]) == 0
    out = capsys.readouterr().out
    assert "Timer unit: 1 s" in out
    assert "Function: g at line 4" in out
    assert cli.main(["show", "--no-config", str(results)]) == 0
    out = capsys.readouterr().out
    assert "Timer unit: 1e-09 s" in out
    assert "Function: g at line 4" in out


def test_run_reads_the_kernprof_table_from_rc(tmp_path: Path) -> None:
    """A real run (a subprocess): verbose = 1 views, unit and outfile (relative to the file
    that says it) apply; the command line wins."""
    conf = tmp_path / "conf"
    text = '[tool.line_profiler.kernprof]\nverbose = 1\nunit = 1e-3\noutfile = "probe.lprof"\n'
    rc = write(conf / "lp.toml", text)
    env = environment(LINE_PROFILER_RC=str(rc))
    result = run_lineprof("-l", PROBE, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "Timer unit: 0.001 s" in result.stdout
    assert result.stderr == ""
    load(conf / "probe.lprof")  # written where the config file is
    result = run_lineprof("-l", "--no-view", PROBE, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "Timer unit" not in result.stdout


# ---- the 3.10 reader (no tomllib, no tomli) -----------------------------------------------


def test_fallback_reader_reads_line_profiler_tables() -> None:
    tool = config._read_tool_tables(KERNPROF, "p")
    kernprof = {
        "line-by-line": True,
        "builtin": True,
        "rich": True,
        "skip-zero": True,
        "summarize": True,
        "prof-imports": True,
        "preimports": False,
        "verbose": 1,
        "outfile": "out/results.lprof",
        "setup": "setup.py",
        "unit": 1e-3,
        "output-interval": 2,
        "prof-mod": ["pkg", "b.py"],
    }
    assert tool == {"line_profiler": {"kernprof": kernprof, "cli": {"unit": 1e-9, "sort": True}}}
    nested = config._read_tool_tables(IGNORED, "p")["line_profiler"]["show"]
    assert nested == {"sort": True, "column_widths": {"line": 6}}


@pytest.mark.parametrize("text", [KERNPROF, IGNORED, "[tool.lineprof]\n[tool.lineprof.x]\n", ""])
def test_fallback_reader_agrees_with_tomllib(text: str) -> None:
    if sys.version_info < (3, 11):
        pytest.skip("tomllib is 3.11+")
    import tomllib

    tool = tomllib.loads(text).get("tool", {})
    assert config._read_tool_tables(text, "p") == tool


def test_fallback_reader_through_load_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """3.10 without tomli: the same translation, the same warning."""
    if sys.version_info >= (3, 11):
        pytest.skip("3.11+ always reads TOML with tomllib")
    monkeypatch.setitem(sys.modules, "tomli", None)  # import tomli: ImportError
    pyproject = write(tmp_path / "pyproject.toml", KERNPROF)
    assert load_config(str(pyproject), explicit=True).values == KERNPROF_VALUES
    write(tmp_path / "pyproject.toml", IGNORED)
    values = load_config(str(pyproject), explicit=True).values
    assert values == {"unit": 1e-6, "preimports": True}
    assert "ignored: kernprof.vieww," in capsys.readouterr().err
