"""The HTML report: its structure from the markup, then rendered in headless Chromium (skipped
when Debian's ``chromium`` is not installed)."""

from __future__ import annotations

import datetime
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from lineprof import LineStats
from lineprof.html import FOLD_MIN, render_html, write_html
from lineprof.stats import Metadata

# A function whose file does not exist: its lines come from the results, as on another machine.
HOT = ("/nowhere/app.py", 10, "Parser.<locals>.hot")
HOT_SOURCE = [
    "def hot(items):",
    '    """Sum the items."""',
    "    total = 0",
    "    for item in items:",
    "        total += expensive(item)  # <- the hot line",
    "    return total",
]
HOT_LINES = [(12, 1, 1_000), (13, 11_802, 1_318_601), (14, 11_801, 16_605_222), (15, 1, 9_034)]
# A long function: only its first and last lines ran.
LONG = ("/nowhere/long.py", 1, "long")
LONG_SOURCE = (
    ["def long():", "    a = 1"] + [f"    # filler {i}" for i in range(30)] + ["    b = 2"]
)
LONG_LINES = [(2, 1, 500), (34, 1, 1_500)]
NEVER = ("/nowhere/never.py", 5, "never_called")
START = datetime.datetime(2026, 11, 21, 9, 30, tzinfo=datetime.timezone.utc)


def sample() -> LineStats:
    return LineStats(
        {HOT: HOT_LINES, LONG: LONG_LINES, NEVER: []},
        1e-9,
        sources={HOT: HOT_SOURCE, LONG: LONG_SOURCE},
        metadata=Metadata("0.1.0", "3.12.1", ("lineprof", "app.py", "--fast"), START, 2.5),
    )


class Page(HTMLParser):
    """Collects the rows of every table (cells as text), with each row's attributes, and every
    URL the page refers to."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.sections: dict[str, list[tuple[dict[str, str | None], list[str]]]] = {}
        self.summary: list[list[str]] = []
        self.urls: list[str] = []
        self.attrs_of_html: dict[str, str | None] = {}
        self._section: str | None = None
        self._row: list[str] | None = None
        self._row_attrs: dict[str, str | None] = {}
        self._cell: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for name in ("href", "src", "action", "data", "poster"):
            if a.get(name):
                self.urls.append(str(a[name]))
        if tag == "html":
            self.attrs_of_html = a
        if tag == "section":
            self._section = a.get("id") or a.get("class")
        elif tag == "tr":
            self._row, self._row_attrs = [], a
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row.append("".join(self._cell))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._section == "summary":
                self.summary.append(self._row)
            elif self._section is not None:
                self.sections.setdefault(self._section, []).append((self._row_attrs, self._row))
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def line_rows(page: Page, anchor: str) -> dict[int, list[str]]:
    """Cells of the numbered source rows of one function, by line number."""
    return {int(cells[0]): cells for _, cells in page.sections[anchor] if cells[0].isdigit()}


def check_report(page: Page) -> None:
    """What every rendering of ``sample()`` must show."""
    # Summary: by total time, biggest first, with times and shares.
    rows = page.summary[1:]
    assert [r[3] for r in rows] == ["Parser.<locals>.hot", "long", "never_called"]
    assert rows[0][:2] == ["17.9\u202fms", "100.0%"]
    assert rows[0][4] == "/nowhere/app.py:10"
    assert rows[0][5] == "line 14 (92.6%)"
    assert rows[1][:2] == ["2.00\u202fµs", "0.0%"]
    # The hot function: every source line, numbers where lines ran.
    hot = line_rows(page, "f1")
    assert sorted(hot) == list(range(10, 16))
    assert hot[10][1:5] == ["", "", "", ""] and hot[10][-1] == "def hot(items):"
    assert hot[13][1:5] == ["11802", "1.32\u202fms", "112\u202fns", "7.4%"]
    assert hot[14][1:5] == ["11801", "16.6\u202fms", "1.41\u202fµs", "92.6%"]
    assert hot[14][-1] == "        total += expensive(item)  # <- the hot line"
    assert hot[15][1:5] == ["1", "9.03\u202fµs", "9.03\u202fµs", "0.1%"]
    # The long function: every line is there, the unrun stretch folded.
    long = line_rows(page, "f2")
    assert sorted(long) == list(range(1, 35))
    assert long[34][1:5] == ["1", "1.50\u202fµs", "1.50\u202fµs", "75.0%"]
    # Never run, and no source anywhere: its first line, no numbers.
    assert line_rows(page, "f3") == {5: ["5", "", "", "", "", "", ""]}


def test_markup_rows_numbers_and_escaping() -> None:
    html = render_html(sample())
    page = Page(html)
    check_report(page)
    assert "Parser.&lt;locals&gt;.hot" in html and "<locals>" not in html
    assert "# &lt;- the hot line" in html


def test_heat_bars_are_proportional_to_time() -> None:
    html = render_html(sample())
    section = html[html.index('id="f1"') : html.index('id="f2"')]
    widths = [float(w) for w in re.findall(r'class="bar" style="width:([\d.]+)%"', section)]
    total = sum(t for _, _, t in HOT_LINES)
    assert widths == pytest.approx([100 * t / total for _, _, t in HOT_LINES], abs=0.01)
    heats = [float(h) for h in re.findall(r"--heat:([\d.]+)", section)]
    hottest = max(t for _, _, t in HOT_LINES)
    assert heats == pytest.approx([t / hottest for _, _, t in HOT_LINES], abs=0.001)


def test_long_unrun_stretches_fold_short_ones_do_not() -> None:
    page = Page(render_html(sample()))
    long = page.sections["f2"]
    folded = [cells[0] for attrs, cells in long if "hidden" in attrs and cells[0].isdigit()]
    assert folded == [str(n) for n in range(3, 34)]  # lines 3..33 never ran
    buttons = [cells for attrs, cells in long if attrs.get("class") == "fold"]
    assert buttons == [["", "▸ 31 lines not run (3–33)"]]
    # The hot function's unrun docstring line (1 line) is not folded.
    assert not any("hidden" in attrs for attrs, _ in page.sections["f1"])
    for unrun, folds in [(FOLD_MIN - 1, False), (FOLD_MIN, True)]:
        source = ["def f():", "    a = 1"] + ["    # filler"] * unrun + ["    b = 2"]
        timings = [(2, 1, 1), (len(source), 1, 1)]
        rows = Page(render_html(LineStats({LONG: timings}, 1e-9, {LONG: source}))).sections["f1"]
        assert sum("hidden" in attrs for attrs, _ in rows) == (unrun if folds else 0)


def test_self_contained_and_metadata() -> None:
    html = render_html(sample())
    page = Page(html)
    assert all(url.startswith("#") for url in page.urls), page.urls
    assert not re.search(r"https?:|//[a-z]|@import|<link|<iframe|<img", html)
    assert "<style>" in html and "<script>" in html
    for text in ["lineprof app.py --fast", "2026-11-21 09:30:00 UTC", "2.50\u202fs", "3.12.1"]:
        assert text in html
    assert "<title>lineprof: lineprof app.py --fast</title>" in html
    assert "<title>Mine</title>" in render_html(sample(), title="Mine")


def test_missing_source_without_a_copy_shows_numbers_and_a_note() -> None:
    stats = LineStats({("/nowhere/x.py", 3, "f"): [(4, 2, 10), (6, 1, 30)]}, 1e-9)
    html = render_html(stats)
    assert "Source not available: /nowhere/x.py cannot be read" in html
    rows = line_rows(Page(html), "f1")
    assert sorted(rows) == [3, 4, 5, 6]
    assert rows[6][1:5] == ["1", "30.0\u202fns", "30.0\u202fns", "75.0%"]


def test_write_html_and_dump_are_atomic_files(tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    write_html(sample(), path)
    assert path.read_text(encoding="utf-8") == render_html(sample())
    sample().dump(tmp_path / "again.HTML")
    assert (tmp_path / "again.HTML").read_text(encoding="utf-8") == render_html(sample())
    assert sample().to_html() == render_html(sample())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again.HTML", "report.html"]


def test_empty_results() -> None:
    page = Page(render_html(LineStats({}, 1e-9)))
    assert page.summary == [["Time", "%", "", "Function", "File", "Hottest line"]]


# ---- in a real browser ----------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)"
)


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",  # root in CI containers; the page is a local file we wrote
        "--disable-gpu",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        *args,
    ]
    # Not under the sanitizer runs' LD_PRELOAD (tools/sanitize.sh): Chromium hangs with it.
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "ASAN_OPTIONS")}
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)


@needs_chromium
def test_rendered_in_chromium(tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    write_html(sample(), path)
    done = chromium(tmp_path, "--dump-dom", path.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    page = Page(done.stdout)
    assert page.attrs_of_html.get("data-ready") == "yes"  # the script ran without error
    check_report(page)

    shot = tmp_path / "report.png"
    size = "--window-size=1200,1400"
    done = chromium(tmp_path, "--hide-scrollbars", size, f"--screenshot={shot}", path.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 20_000  # a page with content, not a blank one
