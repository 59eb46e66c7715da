"""report.html: written by every complete run, self-contained, its figures equal the run's stats, and it
draws (rendered by headless Chromium when Debian's ``chromium`` package is installed)."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import orjson
import pytest
from conftest import FIXTURES, read_run

from thresher.cli import main
from thresher.report.data import cluster_histogram, parse_reason, size_bucket
from thresher.report.html import COLORS

REPORT_FIX = FIXTURES / "report"


def make_run(root: Path, *extra: str) -> Path:
    """A real run: the two seed pages (.txt) and a JSONL of near-identical news copies and junk pages,
    through line removal (kept), language ID, a quality filter and exact dedup."""
    inputs = root / "in"
    inputs.mkdir()
    for src in [*sorted((FIXTURES / "seeds").glob("*.txt")), REPORT_FIX / "news.jsonl"]:
        shutil.copy(src, inputs / src.name)
    run_dir = root / "run"
    rc = main(["run", str(inputs), "-o", str(run_dir), "--config", str(REPORT_FIX / "pipeline.yaml"),
               "--workers", "1", "-q", *extra])
    assert rc == 0
    return run_dir


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    return make_run(tmp_path_factory.mktemp("report"))


@pytest.fixture(scope="module")
def summary(run_dir: Path) -> dict:
    return orjson.loads((run_dir / "stats" / "summary.json").read_bytes())


class _Figures(HTMLParser):
    """Every element that carries figures: charts (data-chart) and the bars or tiles inside them."""

    def __init__(self):
        super().__init__()
        self.chart: str | None = None
        self.depth = 0
        self.rows: dict[str, list[dict[str, str]]] = {}
        self.tiles: dict[str, int] = {}
        self.rules: list[str] = []
        self.notes: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "data-chart" in a:
            self.chart = a["data-chart"]
            self.rows.setdefault(self.chart, [])
        elif self.chart and "data-key" in a:
            self.rows[self.chart].append(a)
        if "data-stat" in a:
            self.tiles[a["data-stat"]] = int(a["data-value"])
        if "data-rule" in a:
            self.rules.append(a["data-rule"])
        if "data-clusters" in a:
            self.notes = a

    def handle_endtag(self, tag):
        if tag == "svg":
            self.chart = None


def figures(run_dir: Path) -> _Figures:
    parser = _Figures()
    parser.feed((run_dir / "report.html").read_text(encoding="utf-8"))
    return parser


def test_run_writes_a_report(run_dir: Path):
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and html.rstrip().endswith("</html>")
    for title in ("Documents through each step", "Drop reasons", "Text length before and after", "Languages",
                  "Duplicate cluster sizes", "Top sites by removed documents", "Removed documents",
                  "Removed lines"):
        assert title in html


def test_report_is_self_contained(run_dir: Path):
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    # nothing to fetch: no external script, stylesheet, image or font; no script at all
    assert "<script" not in html.lower()
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html, re.I)
    assert "<link" not in html.lower() and "@import" not in html and "url(" not in html


def test_untrusted_text_is_escaped(run_dir: Path):
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    # doc-<17> holds a script tag and is dropped, so its text is in the sample of removed documents
    assert "&lt;script&gt;alert(" in html
    assert "doc-&lt;17&gt;" in html


def test_numbers_equal_the_run_stats(run_dir: Path, summary: dict):
    fig = figures(run_dir)
    for key in ("read", "kept", "rejected", "errors"):
        assert fig.tiles[key] == summary[key]
    plan = orjson.loads((run_dir / "state" / "plan.json").read_bytes())
    order = [next(iter(s)) if isinstance(s, dict) else s for s in plan["pipeline"]["steps"]]
    steps = [r for r in fig.rows["funnel"] if "data-in" in r]
    assert [r["data-key"] for r in steps] == order
    for r in steps:
        assert int(r["data-in"]) == summary["steps"][r["data-key"]]["in"]
        assert int(r["data-dropped"]) == summary["steps"][r["data-key"]]["dropped"]
    ends = {r["data-key"]: int(r["data-value"]) for r in fig.rows["funnel"] if "data-value" in r}
    assert ends == {"(read)": summary["read"], "(kept)": summary["kept"]}
    assert {r["data-key"]: int(r["data-value"]) for r in fig.rows["reasons"]} == summary["reasons"]
    assert {r["data-key"]: int(r["data-value"]) for r in fig.rows["languages"]} == summary["languages"]
    assert {r["data-key"]: int(r["data-value"]) for r in fig.rows["sites"]} == summary["removed_by_site"]
    for series in ("extracted", "kept"):
        shown = {r["data-key"]: int(r["data-value"]) for r in fig.rows["length"]
                 if r["data-series"] == series and r["data-value"] != "0"}
        assert shown == summary["length_hist"][series]
    # the fixture exercises every chart
    assert summary["reasons"] and len(summary["languages"]) >= 3 and summary["length_hist"]["extracted"]


def test_cluster_sizes_equal_the_rejected_documents(run_dir: Path):
    docs = read_run(run_dir)
    dups = Counter(d["reason"]["duplicate_of"] for d in docs["rejected"] if d["reason"].get("duplicate_of"))
    expected = Counter(size_bucket(n + 1) for n in dups.values())
    fig = figures(run_dir)
    assert {r["data-key"]: int(r["data-value"]) for r in fig.rows["clusters"]} == dict(expected)
    assert int(fig.notes["data-clusters"]) == len(dups) and int(fig.notes["data-duplicates"]) == sum(dups.values())
    # the five copies of the council story form one cluster of 5 (one kept + four duplicates)
    assert max(dups.values()) + 1 == 5


def test_samples_cover_every_rule_and_removed_lines(run_dir: Path, summary: dict):
    fig = figures(run_dir)
    assert set(fig.rules) == set(summary["reasons"])
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert "c4_lines.no_terminal_punct" in html       # a line rule, from meta.removed_lines of kept docs
    assert "Share this article" in html or "Partager cet article" in html


def test_report_command_rebuilds(run_dir: Path, tmp_path: Path, capsys):
    out = tmp_path / "again.html"
    assert main(["report", str(run_dir), "-o", str(out)]) == 0
    assert "Documents through each step" in out.read_text(encoding="utf-8")
    assert main(["report", str(tmp_path / "missing")]) == 2


def test_helpers():
    line = orjson.dumps({"id": "a", "text": '"reason": x', "meta": {}, "signals": {},
                         "reason": {"step": "s", "rule": "r", "value": 1}})
    assert parse_reason(line) == {"step": "s", "rule": "r", "value": 1}
    assert parse_reason(b'{"id": "a", "reason": {"step": "s", "rule": "r"}, "text": "x"}') == {"step": "s",
                                                                                            "rule": "r"}
    assert [size_bucket(n) for n in (2, 3, 4, 5, 8, 9, 16, 17)] == ["2", "3", "4", "5-8", "5-8", "9-16",
                                                                    "9-16", "17-32"]
    assert cluster_histogram(Counter({"a": 1, "b": 1, "c": 9})) == {"2": 2, "9-16": 1}


# -- the page as a browser draws it ---------------------------------------------------------------------
def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_screenshot_draws_charts(run_dir: Path, tmp_path: Path):
    browser = _chromium()
    if browser is None:
        pytest.skip("Debian's chromium package is not installed (apt-get install -y chromium): "
                    "the report is not rendered")
    image = pytest.importorskip("PIL.Image", reason="Pillow (dev extra) reads the screenshot")
    shot = tmp_path / "report.png"
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
           f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}", "--window-size=1280,2000",
           (run_dir / "report.html").resolve().as_uri()]
    proc = subprocess.run(cmd, capture_output=True, timeout=120)
    assert shot.exists(), proc.stderr.decode(errors="replace")[-2000:]
    img = image.open(shot).convert("RGB")
    assert img.size == (1280, 2000)
    counts = Counter({rgb: n for n, rgb in img.getcolors(maxcolors=1 << 24)})
    # not blank: many colours, and a good share of the page not background
    assert len(counts) > 200
    background = counts.most_common(1)[0][1]
    assert background < 0.9 * img.size[0] * img.size[1]
    # every chart drew its bars: each chart's colour covers a solid area
    for name, hex_color in COLORS.items():
        rgb = tuple(int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
        assert counts[rgb] >= 150, f"chart colour {name} ({hex_color}) missing: {counts[rgb]} pixels"


def test_reader_drops_open_the_funnel(small_warc: Path, tmp_path: Path):
    # a WARC with an image and a 404: the reader drops them before the first step
    run_dir = tmp_path / "run"
    assert main(["run", str(small_warc), "-o", str(run_dir), "--workers", "1", "-q"]) == 0
    summary = orjson.loads((run_dir / "stats" / "summary.json").read_bytes())
    at_read = sum(n for k, n in summary["reasons"].items() if k.startswith("read."))
    assert at_read == 2
    first = figures(run_dir).rows["funnel"][0]
    assert first["data-key"] == "(read)" and int(first["data-value"]) == summary["read"]
    assert int(first["data-dropped"]) == at_read


def _charts_of(html: str, chart: str) -> list[tuple[dict[str, str], list[dict[str, str]]]]:
    """(the chart's attributes, its bars' attributes) for every SVG ``data-chart=chart``."""

    class Charts(HTMLParser):
        def __init__(self):
            super().__init__()
            self.found: list = []
            self.inside = False

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "svg" and a.get("data-chart") == chart:
                self.found.append((a, []))
                self.inside = True
            elif self.inside and tag == "rect":
                self.found[-1][1].append(a)

        def handle_endtag(self, tag):
            if tag == "svg":
                self.inside = False

    parser = Charts()
    parser.feed(html)
    return parser.found


def test_each_rule_shows_its_signal_against_the_threshold(run_dir: Path, summary: dict):
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    docs = read_run(run_dir)
    everything = docs["kept"] + docs["rejected"]
    charts = {a["data-rule"]: (a, bars) for a, bars in _charts_of(html, "signal")}
    # gopher_quality's rules that dropped documents, on their own signals
    expected = {"gopher_quality.short_doc": "gopher_words", "gopher_quality.alpha_words": "gopher_alpha_words_ratio"}
    for rule, signal in expected.items():
        if rule not in summary["reasons"]:
            continue
        attrs, bars = charts[rule]
        assert attrs["data-signal"] == signal
        drops = [d for d in docs["rejected"] if f"{d['reason']['step']}.{d['reason']['rule']}" == rule]
        assert float(attrs["data-threshold"]) == drops[0]["reason"]["threshold"]
        # the histogram counts every document that carries the signal, kept or dropped
        assert sum(int(b["data-value"]) for b in bars) == sum(d["signals"][signal] is not None for d in everything)
        # the share it drops, against the documents that reached its step
        share = 100 * summary["reasons"][rule] / summary["steps"]["gopher_quality"]["in"]
        assert f"<b>{share:.1f}%</b>" in html
    assert "gopher_quality.short_doc" in charts


def test_kept_samples_throughput_and_rounding(run_dir: Path, summary: dict):
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    kept_ids = {d["id"] for d in read_run(run_dir)["kept"]}
    shown = re.findall(r'data-kept="([^"]*)"', html)
    assert shown and {s.replace("&lt;", "<").replace("&gt;", ">") for s in shown} <= kept_ids
    for phase, figures_ in summary["phases"].items():
        row = re.search(rf'<tr data-phase="{phase}">(.*?)</tr>', html).group(1)
        assert f'<td class="n">{figures_["read"]:,}</td>' in row
    for step in summary["steps"]:
        assert f'<tr data-step="{step}">' in html
    # reason values are rounded: no figure with more than 3 significant digits after the point
    whys = re.findall(r"(?:value|threshold|similarity) (-?[\d.,]+)", html)
    assert whys and all(len(w.split(".")[1]) <= 4 for w in whys if "." in w)


def test_number_format():
    from thresher.report.html import _num

    assert [_num(x) for x in (0.123456, 12.3456, 1234.5, 3, 2.0, "en")] == ["0.123", "12.3", "1,234", "3", "2", "en"]
