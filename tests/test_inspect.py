"""``thresher inspect``: the funnel table, one document (removed lines, signals, reason; a duplicate side by
side with its match), and samples of one rule's removals, on a real run."""

from __future__ import annotations

import shutil
import unicodedata
from pathlib import Path

import orjson
import pytest
from conftest import FIXTURES, read_run

from thresher.cli import main
from thresher.report.data import find_doc
from thresher.report.inspect import Style, side_by_side

REPORT_FIX = FIXTURES / "report"
SEED = "000_413360b961256174.txt"


def make_run(root: Path, *extra: str) -> Path:
    inputs = root / "in"
    inputs.mkdir()
    for src in [*sorted((FIXTURES / "seeds").glob("*.txt")), REPORT_FIX / "news.jsonl"]:
        shutil.copy(src, inputs / src.name)
    run_dir = root / "run"
    assert main(["run", str(inputs), "-o", str(run_dir), "--config", str(REPORT_FIX / "pipeline.yaml"),
                 "--workers", "1", "-q", *extra]) == 0
    return run_dir


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    return make_run(tmp_path_factory.mktemp("inspect"))


def inspect(capsys, *argv: str) -> tuple[int, str]:
    rc = main(["inspect", *argv, "--color", "never"])
    captured = capsys.readouterr()
    return rc, captured.out + captured.err


def cells(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)


def test_stats_prints_the_funnel(run_dir: Path, capsys):
    rc, out = inspect(capsys, str(run_dir), "--stats")
    assert rc == 0
    summary = orjson.loads((run_dir / "stats" / "summary.json").read_bytes())
    for name, st in summary["steps"].items():
        row = next(line for line in out.splitlines() if line.startswith(name + " "))
        assert row.split()[1:3] == [f"{st['in']:,}", f"{st['dropped']:,}"]
    for key, n in summary["reasons"].items():
        assert any(line.split()[:2] == [key, f"{n:,}"] for line in out.splitlines())
    assert "[ok]" in out


def test_id_of_a_kept_seed_shows_removed_lines_and_signals(run_dir: Path, capsys):
    rc, out = inspect(capsys, str(run_dir), "--id", SEED)
    assert rc == 0
    assert "status  KEPT" in out
    assert "c4_lines_removed" in out and "gopher_words" in out          # signals
    assert "language" in out                                              # meta
    # a line C4's rules removed, with the rule that removed it
    assert any("c4_lines.no_terminal_punct" in line and "© 2013 AFP" in line for line in out.splitlines())


def test_id_of_a_dropped_document_names_the_rule(run_dir: Path, capsys):
    rc, out = inspect(capsys, str(run_dir), "--id", "doc-13")
    assert rc == 0
    assert "DROPPED  c4_lines.too_few_sentences  value=0  threshold=3" in out
    assert "Click here." in out


def test_id_of_a_duplicate_shows_both_side_by_side(run_dir: Path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "90")
    docs = read_run(run_dir)
    dup = next(d for d in docs["rejected"] if d["reason"].get("duplicate_of"))
    rc, out = inspect(capsys, str(run_dir), "--id", dup["id"])
    assert rc == 0
    kept_id = dup["reason"]["duplicate_of"]
    assert f"duplicate of {kept_id} (kept" in out
    assert f"this document: {dup['id']}" in out and f"matched: {kept_id}" in out
    rows = [line for line in out.splitlines() if "│" in line]
    assert rows and all(cells(line) <= 90 for line in out.splitlines())
    # both columns hold the same first words (an exact duplicate)
    first = next(line for line in rows if "council" in line)
    left, right = first.split("│", 1)
    assert left.split()[:4] == right.split()[:4]


def test_side_by_side_marks_differences():
    a = "same line\nonly in a\nchanged here"
    b = "same line\nchanged there"
    out = side_by_side(a, b, "A", "B", 80, Style(False))
    assert any(" │ same line" in line for line in out)
    assert any("changed here" in line and "≠│" in line for line in out)
    assert any("changed there" in line and "≠│" in line for line in out)
    assert "2 differing lines" in out[-1]
    b_out = side_by_side(a, a, "A", "B", 80, Style(False))
    assert not any("≠" in line for line in b_out) and "identical" in b_out[-1]
    assert all(len(line) <= 80 for line in out)


def test_reason_sample(run_dir: Path, capsys):
    docs = read_run(run_dir)
    dups = {d["id"] for d in docs["rejected"] if d["reason"]["rule"] == "duplicate"}
    rc, out = inspect(capsys, str(run_dir), "--reason", "exact_dedup.duplicate", "--sample", "2")
    assert rc == 0
    assert f"2 of {len(dups)} documents dropped by 'exact_dedup.duplicate'" in out
    shown = [line.split()[1] for line in out.splitlines() if line.startswith("● ")]
    assert len(shown) == 2 and set(shown) <= dups


def test_reason_sample_of_removed_lines(run_dir: Path, capsys):
    rc, out = inspect(capsys, str(run_dir), "--reason", "no_terminal_punct", "--sample", "3")
    assert rc == 0
    assert "3 of " in out and "lines removed by 'no_terminal_punct'" in out
    assert sum("c4_lines.no_terminal_punct" in line for line in out.splitlines()) == 3


def test_unknown_id_and_rule(run_dir: Path, capsys):
    rc, out = inspect(capsys, str(run_dir), "--id", "no-such-doc")
    assert rc == 1 and "no document with id" in out
    rc, out = inspect(capsys, str(run_dir), "--reason", "no_such_rule")
    assert rc == 1 and "exact_dedup.duplicate" in out
    assert main(["inspect", str(run_dir / "nope"), "--stats"]) == 2


def test_parquet_output(tmp_path: Path, capsys):
    pytest.importorskip("pyarrow")
    run_dir = make_run(tmp_path, "--output-format", "parquet")
    assert (run_dir / "report.html").exists()
    found = find_doc(run_dir, "doc-01")
    assert found is not None and found[0]["reason"]["rule"] == "duplicate"
    rc, out = inspect(capsys, str(run_dir), "--id", "doc-01")
    assert rc == 0 and "duplicate of doc-00" in out
