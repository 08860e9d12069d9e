"""Results files: lineprof's JSON (schema, sources, metadata, atomic writing, refusing what is
not results), line_profiler's .lprof (a restricted reader, a writer checked against the real
line_profiler) and merging."""

from __future__ import annotations

import datetime
import importlib.util
import io
import json
import linecache
import os
import pickle
import pickletools
import platform
import stat
import subprocess
import sys
import textwrap
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

import lineprof
import lineprof.stats
from lineprof import LineProfiler, LineStats, ResultsFileError, json_format, load_stats
from lineprof.json_format import FORMAT_NAME, SCHEMA_VERSION
from lineprof.report import format_text
from lineprof.stats import Metadata, atomic_write, results_format, write_target
from tests import targets

pytestmark = pytest.mark.usefixtures("fake_clock")

Make = Callable[..., LineProfiler]
ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "lineprof" / "results.schema.json"
HAVE_LINE_PROFILER = importlib.util.find_spec("line_profiler") is not None
needs_line_profiler = pytest.mark.skipif(
    not HAVE_LINE_PROFILER, reason="line_profiler is not installed (pip install line_profiler)"
)

SCRIPT = '''\
from lineprof._lineprof import advance_fake_clock as tick


def hot(n):
    """Docstring line."""
    total = 0
    for i in range(n):
        tick(7)
        total += i
    return total
'''


def run_script(tmp_path: Path, make: Make, name: str = "prog.py") -> tuple[LineProfiler, Path]:
    """Profile ``hot(3)`` from a script written to tmp_path; returns the profiler and script."""
    script = tmp_path / name
    script.write_text(SCRIPT)
    namespace: dict[str, Any] = {"__name__": "prog"}
    exec(compile(SCRIPT, str(script), "exec"), namespace)
    lp = make(namespace["hot"])
    lp.runcall(namespace["hot"], 3)
    return lp, script


def report(stats: LineStats) -> str:
    out = io.StringIO()
    stats.print(stream=out)
    return out.getvalue()


# ---- lineprof's JSON ------------------------------------------------------------------------


def test_json_round_trip_keeps_sources_and_metadata(make: Make, tmp_path: Path) -> None:
    lp, script = run_script(tmp_path, make)
    stats = lp.get_stats()
    ((key, rows),) = stats.timings.items()
    assert key == (str(script), 4, "hot")
    assert rows == [(6, 1, 0), (7, 4, 0), (8, 3, 21), (9, 3, 0), (10, 1, 0)]
    assert stats.sources[key] == SCRIPT.splitlines()[3:]
    path = tmp_path / "out.json"
    stats.dump(path)
    loaded = load_stats(path)
    assert loaded == stats
    assert loaded.sources == stats.sources
    assert loaded.metadata == stats.metadata
    assert loaded.metadata.lineprof_version == lineprof.__version__
    assert loaded.metadata.python_version == platform.python_version()
    assert loaded.metadata.command_line == tuple(sys.orig_argv)
    data = json.loads(path.read_text())
    assert data["functions"][0]["lines"] == [
        [6, 1, 0],
        [7, 4, 0],
        [8, 3, 21],
        [9, 3, 0],
        [10, 1, 0],
    ]


def test_start_time_and_duration_when_the_profiler_keeps_them(make: Make) -> None:
    utc = datetime.timezone.utc
    before = datetime.datetime.now(utc).replace(microsecond=0)
    lp = make(targets.basic)
    lp.runcall(targets.basic, 1)
    after = datetime.datetime.now(utc)
    meta = lp.get_stats().metadata
    # datetime's own class (lineprof takes it from _datetime, which datetime re-exports)
    assert type(meta.start_time) is datetime.datetime
    assert meta.start_time.utcoffset() == datetime.timedelta(0)
    assert before <= meta.start_time <= after
    assert meta.duration is not None and 0 <= meta.duration <= (after - before).total_seconds()


def test_results_pickle_with_metadata_not_yet_made(make: Make) -> None:
    """get_stats() makes the Metadata when it is first read: a copy pickled before that makes
    the same one, and a value set replaces it."""
    lp = make(targets.basic)
    lp.runcall(targets.basic, 1)
    stats = lp.get_stats()
    copy = pickle.loads(pickle.dumps(stats))
    assert copy.metadata == stats.metadata
    assert copy.metadata.start_time is not None and copy.metadata.command_line
    fresh = lp.get_stats()
    fresh.metadata = fresh.metadata._replace(command_line=("prog",))
    assert fresh.metadata.command_line == ("prog",)
    # Pickled by a lineprof whose LineStats kept metadata as a plain attribute.
    old = LineStats.__new__(LineStats)
    old.__dict__.update({k: v for k, v in fresh.__dict__.items() if "metadata" not in k})
    old.__dict__["metadata"] = fresh.metadata
    assert pickle.loads(pickle.dumps(old)).metadata.command_line == ("prog",)


def test_report_from_json_where_the_source_file_is_gone(make: Make, tmp_path: Path) -> None:
    lp, script = run_script(tmp_path, make)
    here = report(lp.get_stats())
    assert "for i in range(n):" in here
    path = tmp_path / "out.json"
    lp.dump_stats(str(path))
    script.unlink()
    linecache.clearcache()
    elsewhere = report(load_stats(path))
    assert elsewhere == here
    assert "source not available" not in elsewhere


def test_stored_source_wins_over_an_edited_file(make: Make, tmp_path: Path) -> None:
    lp, script = run_script(tmp_path, make)
    stats = lp.get_stats()
    script.write_text(SCRIPT.replace("total += i", "total -= i  # edited"))
    linecache.clearcache()
    text = report(stats)
    assert "total += i" in text and "edited" not in text


def test_without_stored_source_the_file_is_read(make: Make, tmp_path: Path) -> None:
    lp, script = run_script(tmp_path, make)
    stats = lp.get_stats()
    bare = LineStats(stats.timings, stats.unit)  # e.g. read from a line_profiler file
    assert report(bare) == report(stats).replace(
        "Times: lineprof's own measured cost taken out\n", ""
    )
    script.unlink()
    linecache.clearcache()
    assert "source not available" in report(bare)


def test_source_covers_the_last_timed_line_of_module_code(make: Make, tmp_path: Path) -> None:
    script = tmp_path / "mod.py"
    script.write_text("import os\nx = 1\nfor i in range(2):\n    x += i\n")
    code = compile(script.read_text(), str(script), "exec")
    lp = make()
    lp.add_code(code, "<module>")
    lp.runctx(code, {}, None)
    stats = lp.get_stats()
    assert stats.sources[(str(script), 1, "<module>")] == [
        "import os",
        "x = 1",
        "for i in range(2):",
        "    x += i",
    ]


def test_old_v1_file_without_sources_or_metadata_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "old.json"
    path.write_text(
        '{"format": "lineprof-results", "schema_version": 1, "unit": 1e-09, "functions": '
        '[{"filename": "demo.py", "first_line": 22, "qualname": "word_stats", '
        '"lines": [[23, 1, 171], [24, 11802, 1291791]]}]}'
    )
    stats = load_stats(path)
    assert stats.timings == {("demo.py", 22, "word_stats"): [(23, 1, 171), (24, 11802, 1291791)]}
    assert stats.sources == {} and stats.metadata == Metadata()


def test_unknown_fields_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "future.json"
    path.write_text(
        '{"format": "lineprof-results", "schema_version": 1, "unit": 1e-09, "extra": [1], '
        '"functions": [{"filename": "a.py", "first_line": 1, "qualname": "f", "new": {}, '
        '"lines": [[2, 1, 5]]}]}'
    )
    assert load_stats(path).timings == {("a.py", 1, "f"): [(2, 1, 5)]}


HEAD = '{"format": "lineprof-results", '


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty"),
        ("   \n", "not a lineprof results file"),
        (HEAD + '"schema_version": 1, "unit": 1e-9, "functions": [', "truncated"),
        (HEAD + '"schema_version": 3, "unit": 1, "functions": []}', "newer lineprof"),
        (HEAD + '"schema_version": "1", "unit": 1, "functions": []}', "schema_version"),
        (HEAD + '"schema_version": 1, "unit": 0, "functions": []}', "unit"),
        ("name,hits\nf,1\n", "neither lineprof's JSON nor line_profiler's .lprof"),
        ("[1, 2, 3]", "neither"),
        ('{"format": "lineprof-results", "unit": 1e-9 "functions": []}', "invalid JSON"),
        ("<!DOCTYPE html><html></html>", "HTML report cannot be read back"),
        ('{"format": "\xff\xfe"}', "not UTF-8"),
        ('{"a": ' + "[" * 100_000, "not a lineprof results file"),
    ],
)  # fmt: skip
def test_not_results_files_give_one_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content.encode("latin-1"))
    with pytest.raises(ResultsFileError, match=message) as info:
        load_stats(path)
    assert "\n" not in str(info.value)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    ("function", "message"),
    [
        ({"filename": "a.py", "first_line": "1", "qualname": "f", "lines": []}, "first_line"),
        ({"filename": "a.py", "first_line": 1, "qualname": "f", "lines": [[2, 1]]}, "row"),
        ({"filename": "a.py", "first_line": 1, "qualname": "f", "lines": [[2, 1, 1.5]]}, "row"),
        ({"filename": "a.py", "first_line": 1, "qualname": "f", "lines": [[2, -1, 1]]}, "row"),
        ({"filename": "a.py", "first_line": 1, "qualname": "f", "lines": [], "source": 1}, "sour"),
        ({"filename": "a.py", "first_line": 1, "lines": []}, "qualname"),
        ("f", "not an object"),
        # damaged numbers: a report shows every line from the first to the last
        ({"filename": "a.py", "first_line": 2**70, "qualname": "f", "lines": []}, "first_line"),
        ({"filename": "a.py", "first_line": 1, "qualname": "f", "lines": [[2**70, 1, 1]]}, "line"),
        ({"filename": "a.py", "first_line": 1, "qualname": "f", "lines": [[3 * 10**8, 1, 1]]},
         "within 1,000,000"),
    ],
)  # fmt: skip
def test_malformed_functions(tmp_path: Path, function: object, message: str) -> None:
    path = tmp_path / "bad.json"
    data = {"format": "lineprof-results", "schema_version": 1, "unit": 1e-9}
    path.write_text(json.dumps({**data, "functions": [function]}))
    with pytest.raises(ResultsFileError, match=f"malformed.*{message}"):
        load_stats(path)


def test_malformed_metadata_and_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    base = {"format": "lineprof-results", "schema_version": 1, "unit": 1e-9, "functions": []}
    for metadata, message in [
        ({"start_time": "yesterday"}, "ISO 8601"),
        ({"start_time": "2026-01-01T00:00:00"}, "UTC offset"),
        ({"duration": -1}, "duration"),
        ({"duration": 1e308}, "duration"),
        ({"duration": float("nan")}, "duration"),
        ({"command_line": "python x.py"}, "command_line"),
        ([], "metadata"),
    ]:
        path.write_text(json.dumps({**base, "metadata": metadata}))
        with pytest.raises(ResultsFileError, match=message):
            load_stats(path)
    twice = {"filename": "a.py", "first_line": 1, "qualname": "f", "lines": []}
    path.write_text(json.dumps({**base, "functions": [twice, twice]}))
    with pytest.raises(ResultsFileError, match="listed twice"):
        load_stats(path)


# ---- the schema file ------------------------------------------------------------------------


def test_schema_file_matches_the_code() -> None:
    schema = json.loads(SCHEMA.read_text())
    assert max(schema["properties"]["schema_version"]["enum"]) == SCHEMA_VERSION
    assert schema["properties"]["format"]["const"] == FORMAT_NAME
    assert set(schema["properties"]["metadata"]["properties"]) == set(Metadata().to_json())


def test_every_field_the_schema_requires_is_required_by_the_reader(tmp_path: Path) -> None:
    schema = json.loads(SCHEMA.read_text())
    good: dict[str, Any] = {
        "format": "lineprof-results",
        "schema_version": 1,
        "unit": 1e-9,
        "functions": [{"filename": "a.py", "first_line": 1, "qualname": "f", "lines": []}],
    }
    path = tmp_path / "r.json"
    for field in schema["required"]:
        path.write_text(json.dumps({k: v for k, v in good.items() if k != field}))
        with pytest.raises(ResultsFileError):
            load_stats(path)
    for field in schema["$defs"]["function"]["required"]:
        function = {k: v for k, v in good["functions"][0].items() if k != field}
        path.write_text(json.dumps({**good, "functions": [function]}))
        with pytest.raises(ResultsFileError):
            load_stats(path)


def test_written_files_validate_against_the_schema(make: Make, tmp_path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    lp, _ = run_script(tmp_path, make)
    lp.dump_stats(str(tmp_path / "r.json"))
    data = json.loads((tmp_path / "r.json").read_text())
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(data)
    started = {**data, "metadata": {**data["metadata"], "start_time": "2026-01-01T00:00:00+00:00"}}
    jsonschema.Draft202012Validator(schema).validate(started)
    bad = {**data, "schema_version": SCHEMA_VERSION + 1}
    assert not jsonschema.Draft202012Validator(schema).is_valid(bad)


# ---- atomic writing -------------------------------------------------------------------------


def test_a_serializer_failing_midway_leaves_the_previous_file(
    make: Make, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lp = make(targets.basic, targets.rec)
    lp.runcall(targets.basic, 1)
    path = tmp_path / "out.json"
    path.write_text("previous results")
    item = json_format.function_item
    calls: list[int] = []

    def failing(*args: Any) -> dict[str, Any]:
        calls.append(1)
        if len(calls) == 2:  # the header and the first function are already written
            (partial,) = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
            assert partial.name.startswith(".out.json.")
            raise OSError("disk on fire")
        return item(*args)

    monkeypatch.setattr(json_format, "function_item", failing)
    with pytest.raises(OSError, match="disk on fire"):
        lp.dump_stats(str(path))
    assert path.read_text() == "previous results"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]  # the temporary is gone


def test_a_process_dying_mid_write_leaves_the_previous_file(tmp_path: Path) -> None:
    path = tmp_path / "out.json"
    path.write_text("previous results")
    code = textwrap.dedent(
        f"""
        import os, sys
        import lineprof.json_format as f, lineprof.stats as s
        stats = s.LineStats({{("a.py", 1, "f"): [(2, 1, 5)], ("b.py", 1, "g"): [(2, 1, 5)]}}, 1e-9)
        item = f.function_item
        calls = []
        def dying(*args):
            calls.append(args)
            if len(calls) == 2:
                sys.stdout.flush()
                os._exit(17)  # no cleanup at all, as if killed
            return item(*args)
        f.function_item = dying
        stats.dump({str(path)!r})
        """
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, timeout=60)
    assert done.returncode == 17
    assert path.read_text() == "previous results"


def test_atomic_write_keeps_the_mode_of_the_file_it_replaces(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text("old")
    path.chmod(0o640)
    atomic_write(path, lambda out: out.write(b"new"))
    assert path.read_text() == "new"
    assert path.stat().st_mode & 0o777 == 0o640
    fresh = tmp_path / "fresh.json"
    atomic_write(fresh, lambda out: out.write(b"x"))
    umask = os.umask(0)
    os.umask(umask)
    assert fresh.stat().st_mode & 0o777 == 0o666 & ~umask


def test_atomic_write_follows_a_symlink_and_keeps_it(tmp_path: Path) -> None:
    (tmp_path / "real.lprof").write_text("old")
    (tmp_path / "link.lprof").symlink_to("real.lprof")
    atomic_write(tmp_path / "link.lprof", lambda out: out.write(b"new"))
    assert (tmp_path / "link.lprof").is_symlink()
    assert (tmp_path / "real.lprof").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.lprof", "real.lprof"]


def test_atomic_write_writes_into_what_is_not_a_regular_file(tmp_path: Path) -> None:
    # Renaming a file over a FIFO, a device or a hard-linked file would replace it (as root,
    # -o /dev/null replaced the system's /dev/null): those are written into, as they are.
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    read = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    try:
        atomic_write(fifo, lambda out: out.write(b"through the pipe"))
        assert read.communicate(timeout=30)[0] == b"through the pipe"
    finally:
        read.kill()
        read.wait()
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    (tmp_path / "one").write_text("old")
    os.link(tmp_path / "one", tmp_path / "two")
    atomic_write(tmp_path / "two", lambda out: out.write(b"both"))
    assert (tmp_path / "one").read_text() == "both" and (tmp_path / "two").stat().st_nlink == 2
    # /dev/stdout is whatever stdout is (maybe a file the shell redirected it to): never
    # replaced.  Not written here: a regression would replace the machine's own.
    assert write_target("/dev/stdout") == ("/dev/stdout", True)
    assert write_target(tmp_path / "new.json") == (str(tmp_path / "new.json"), False)
    if os.geteuid() == 0:  # a device of this test's own: a null device, as /dev/null
        device = tmp_path / "null"
        os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        atomic_write(device, lambda out: out.write(b"gone"))
        assert stat.S_ISCHR(device.stat().st_mode)


# ---- the extension chooses the format --------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("r.json", "json"),
        ("r.lprof", "lprof"),
        ("R.LPROF", "lprof"),
        ("script.py.lprof", "lprof"),
        ("r.html", "html"),
        ("r.htm", "html"),
        ("r.out", "json"),
        ("results", "json"),
    ],
)
def test_extension_chooses_the_format(make: Make, tmp_path: Path, name: str, kind: str) -> None:
    assert results_format(name) == kind
    lp = make(targets.basic)
    lp.runcall(targets.basic, 1)
    path = tmp_path / name
    lp.dump_stats(str(path))
    head = path.read_bytes()[:16]
    expected = {"json": b"{", "lprof": b"\x80\x02", "html": b"<!DOCTYPE html>"}[kind]
    assert head.startswith(expected)
    if kind != "html":
        assert load_stats(path) == lp.get_stats()
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_reading_goes_by_content_not_name(make: Make, tmp_path: Path) -> None:
    lp = make(targets.basic)
    lp.runcall(targets.basic, 1)
    stats = lp.get_stats()
    (tmp_path / "a.json").write_bytes(lineprof.lprof_format.dumps(stats.timings, stats.unit))
    (tmp_path / "b.lprof").write_text(stats.to_json())  # lineprof 0.1 wrote JSON to any name
    assert load_stats(tmp_path / "a.json") == stats
    assert load_stats(tmp_path / "b.lprof") == stats


# ---- line_profiler's .lprof: reading ----------------------------------------------------------


class Evil:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> Any:
        return (os.system, (f"touch {self.marker}",))


def test_a_malicious_pickle_is_refused_and_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.lprof"
    path.write_bytes(pickle.dumps(Evil(marker)))
    with pytest.raises(
        ResultsFileError, match=r"refers to (posix|os)\.system.*nothing in it was run"
    ):
        load_stats(path)
    assert not marker.exists()
    # Hidden inside a genuine-looking LineStats, too.
    nested = _lprof_with(timings={("a.py", 1, "f"): [(2, 1, Evil(marker))]})
    path.write_bytes(nested)
    with pytest.raises(ResultsFileError, match="refused"):
        load_stats(path)
    assert not marker.exists()


def _lprof_with(**state: Any) -> bytes:
    """A pickle shaped like line_profiler's, with any state (via the writer's own splice)."""
    body = pickle.dumps(state, protocol=2)
    return (
        b"\x80\x02cline_profiler.line_profiler\nLineStats\n)\x81" + body[2:-1] + pickle.BUILD + b"."
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (pickle.dumps({"timings": {}, "unit": 1e-9}), "a pickle of dict"),
        (pickle.dumps(datetime.date(2020, 1, 1)), "refers to datetime.date"),
        (pickle.dumps(Metadata()), "refers to lineprof.stats.Metadata"),
        (_lprof_with(timings={}, unit="1e-9"), "unit"),
        (_lprof_with(timings=[], unit=1e-9), "timings"),
        (_lprof_with(timings={("a.py", "1", "f"): []}, unit=1e-9), "key"),
        (_lprof_with(timings={("a.py", 1, "f"): [(1, 2)]}, unit=1e-9), "row"),
        (_lprof_with(timings={("a.py", 2**70, "f"): []}, unit=1e-9), "first line"),
        (_lprof_with(timings={("a.py", 1, "f"): [(3 * 10**8, 1, 5)]}, unit=1e-9), "line 3"),
        (_lprof_with(timings={("a.py", 1, "f"): [(2, 1, 5)]}, unit=1e-9)[:-20], "truncated"),
        (b"\x80\x04\xff\xff", "not a readable line_profiler results file"),
    ],
)
def test_pickles_that_are_not_line_profiler_results(
    tmp_path: Path, data: bytes, message: str
) -> None:
    path = tmp_path / "x.lprof"
    path.write_bytes(data)
    with pytest.raises(ResultsFileError, match=message) as info:
        load_stats(path)
    assert "\n" not in str(info.value)


def test_reads_every_place_line_profiler_kept_its_class(tmp_path: Path) -> None:
    timings = {("a.py", 1, "f"): [(2, 3, 40)]}
    state = pickle.dumps({"timings": timings, "unit": 1e-6}, protocol=2)[2:-1]
    for module in ["line_profiler.line_profiler", "line_profiler._line_profiler", "line_profiler"]:
        header = f"\x80\x02c{module}\nLineStats\n)\x81".encode("latin-1")
        (tmp_path / "x.lprof").write_bytes(header + state + b"b.")
        stats = load_stats(tmp_path / "x.lprof")
        assert stats.timings == timings and stats.unit == 1e-6


@needs_line_profiler
def test_reads_files_line_profiler_wrote(tmp_path: Path) -> None:
    script = tmp_path / "lp_prog.py"
    script.write_text(
        textwrap.dedent(
            """
            import json, sys
            from line_profiler import LineProfiler

            def work(n):
                total = 0
                for i in range(n):
                    total += i
                return total

            lp = LineProfiler(work)
            lp.runcall(work, 50)
            lp.dump_stats(sys.argv[1])
            stats = lp.get_stats()
            print(json.dumps([stats.unit, [[list(k), v] for k, v in stats.timings.items()]]))
            """
        )
    )
    out = tmp_path / "lp.lprof"
    done = subprocess.run(
        [sys.executable, str(script), str(out)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    unit, items = json.loads(done.stdout)
    expected = {tuple(key): [tuple(row) for row in rows] for key, rows in items}
    stats = load_stats(out)
    assert stats.unit == unit and stats.timings == expected
    ((key, rows),) = stats.timings.items()
    assert key[2] == "work" and [hits for _, hits, _ in rows] == [1, 51, 50, 1]


# ---- line_profiler's .lprof: writing ----------------------------------------------------------


def test_lprof_holds_only_line_profilers_class_and_plain_data(make: Make, tmp_path: Path) -> None:
    lp = make(targets.basic)
    lp.runcall(targets.basic, 2)
    path = tmp_path / "r.lprof"
    lp.dump_stats(str(path))
    data = path.read_bytes()
    globals_ = [arg for op, arg, _ in pickletools.genops(data) if op.name == "GLOBAL"]
    assert globals_ == ["line_profiler._line_profiler LineStats"]
    assert b"lineprof." not in data
    assert load_stats(path) == lp.get_stats()


PLAIN_VALUES: list[Any] = [
    0,
    1,
    255,
    256,
    65535,
    65536,
    -1,
    -128,
    -129,
    2**31 - 1,
    2**31,
    -(2**31),
    2**3000,  # LONG4
    -(2**3000),
    -(2**31) - 1,
    2**63,
    -(2**63),
    10**40,
    -(10**40),
    0.0,
    -0.0,
    1e-9,
    1.5e300,
    float("inf"),
    True,
    False,
    None,
    "",
    "a",
    "é€😀",
    "\udcff surrogate",
    "x" * 300,
    (),
    (1,),
    (1, "a"),
    (1, "a", 2.0),
    (1, 2, 3, 4, 5),
    [],
    [1, [2, [3]]],
    {},
    {("f.py", 3, "g"): [(4, 5, 6)], "k": {"n": None}},
]


@pytest.mark.parametrize("value", PLAIN_VALUES, ids=lambda v: repr(v)[:40])
def test_lprof_writer_rebuilds_plain_data_exactly(value: Any) -> None:
    """The .lprof writer spells protocol 2's opcodes itself (no pickle import at exit): the
    state it writes must unpickle to exactly what it was given, types included."""
    data = lineprof.lprof_format.dumps({}, 1e-9, {"lineprof_value": value})
    obj = _unpickle_state(data)
    got = obj["lineprof_value"]
    assert repr(got) == repr(value) and type(got) is type(value)
    assert obj["timings"] == {} and obj["unit"] == 1e-9


def _unpickle_state(data: bytes) -> dict[str, Any]:
    """The state dict of a .lprof, read with the standard unpickler (the class swapped for a
    plain one)."""

    class Record:
        pass

    class Unpickler(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> Any:
            assert (module, name) == ("line_profiler._line_profiler", "LineStats")
            return Record

    record = Unpickler(io.BytesIO(data)).load()
    return dict(vars(record))


def test_lprof_writer_refuses_what_is_not_plain_data() -> None:
    with pytest.raises(ValueError, match="plain data"):
        lineprof.lprof_format.dumps({}, 1e-9, {"lineprof_x": {1, 2}})


@needs_line_profiler
def test_python_m_line_profiler_shows_lineprofs_lprof(make: Make, tmp_path: Path) -> None:
    lp = make(targets.basic, targets.rec, targets.gen)
    lp.runcall(targets.basic, 3)
    lp.runcall(targets.rec, 2)
    stats = lp.get_stats()
    path = tmp_path / "targets.py.lprof"
    lp.dump_stats(str(path))
    # line_profiler 5 reads defaults from pyproject.toml files: not here.
    no_config = ["--no-config"] if int(version("line_profiler").split(".")[0]) >= 5 else []
    for unit in [1e-9, 1e-6]:
        done = subprocess.run(
            [sys.executable, "-m", "line_profiler", *no_config, "-u", str(unit), str(path)],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout == format_text(stats.timings, stats.unit, output_unit=unit)
        assert "Hits" in done.stdout and "tick(5)" in done.stdout
    # line_profiler's load_stats gives back the same numbers.
    code = (
        "import sys, json, line_profiler\n"
        "s = line_profiler.load_stats(sys.argv[1])\n"
        "print(json.dumps([s.unit, sorted([list(k), v] for k, v in s.timings.items())]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    unit, items = json.loads(done.stdout)
    assert unit == stats.unit
    assert {tuple(k): [tuple(r) for r in v] for k, v in items} == stats.timings


# ---- merging --------------------------------------------------------------------------------


def test_merge_sums_rescales_and_keeps_the_first_source() -> None:
    f = ("f.py", 1, "f")
    g = ("g.py", 10, "g")
    a = LineStats({f: [(2, 1, 1000)]}, 1e-9, sources={f: ["def f():", "    a"]})
    b = LineStats({f: [(2, 2, 3), (3, 1, 1)], g: [(11, 1, 1)]}, 1e-6, sources={f: ["x"]})
    c = LineStats({g: [(11, 4, 2)]}, 1e-3, sources={g: ["def g():", "    b"]})
    merged = LineStats.merge([a, b, c])
    assert merged.unit == 1e-9
    assert merged.timings == {f: [(2, 3, 4000), (3, 1, 1000)], g: [(11, 5, 2_001_000)]}
    assert merged.sources == {f: ["def f():", "    a"], g: ["def g():", "    b"]}
    assert a + b + c == merged == sum([a, b, c])
    assert LineStats.merge([]) == LineStats({}, 1e-9)
    assert a.timings == {f: [(2, 1, 1000)]}  # inputs untouched


def test_merge_metadata() -> None:
    t0 = datetime.datetime(2026, 1, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)
    parent = Metadata("0.1.0", "3.12.1", ("lineprof", "prog.py"), t0, 10.0)
    second = datetime.timedelta(seconds=1)
    child = Metadata("0.1.0", "3.12.1", ("python", "-c", "spawn"), t0 + 2 * second, 3.0)
    late = Metadata("0.2.0", "3.13.0", None, t0 + 5 * second, 7.0)
    unknown = Metadata()
    merged = Metadata.merge([unknown, parent, child, late])
    assert merged == Metadata("0.1.0, 0.2.0", "3.12.1, 3.13.0", ("lineprof", "prog.py"), t0, 12.0)
    assert Metadata.merge([unknown, unknown]) == Metadata()
    stats = LineStats({}, 1e-9, metadata=parent) + LineStats({}, 1e-9, metadata=child)
    assert stats.metadata.duration == 10.0 and stats.metadata.command_line == parent.command_line
    assert stats.metadata.start_time == t0
    assert Metadata.merge([parent]) == parent
    assert Metadata.merge([Metadata(start_time=t0)]).duration is None


def test_load_stats_merges_lineprof_and_line_profiler_files(make: Make, tmp_path: Path) -> None:
    lp = make(targets.basic)
    lp.runcall(targets.basic, 1)
    lp.dump_stats(str(tmp_path / "a.json"))
    lp.dump_stats(str(tmp_path / "b.lprof"))
    key = next(iter(lp.get_stats().timings))
    first = key[1]
    foreign = LineStats({key: [(first + 2, 1, 1)]}, 1e-6)  # as line_profiler 4 would time it
    foreign.dump(tmp_path / "c.lprof")
    merged = load_stats(tmp_path / "a.json", tmp_path / "b.lprof", str(tmp_path / "c.lprof"))
    single = {line: (h, t) for line, h, t in lp.get_stats().timings[key]}
    rows = {line: (h, t) for line, h, t in merged.timings[key]}
    assert rows[first + 1] == (2 * single[first + 1][0], 2 * single[first + 1][1])
    assert rows[first + 2] == (2 * single[first + 2][0] + 1, 2 * single[first + 2][1] + 1000)
    assert merged.sources[key] == lp.get_stats().sources[key]  # from the JSON file
    assert merged.metadata.lineprof_version == lineprof.__version__
