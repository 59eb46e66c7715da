"""``thresher inspect``: the funnel table, one document (removed lines, signals, reason; a duplicate side by
side with its match), and samples of one rule's removals, on a real run."""

from __future__ import annotations

import json
import os
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


def test_wrapping_fits_the_column():
    from thresher.report.inspect import _cells, _fit

    for text in ("        indented line with some words in it", "x" * 130, " a  b   c ", "简体中文的句子" * 6, ""):
        for width in (10, 33):
            pieces = _fit(text, width)
            assert pieces and all(_cells(p) <= width for p in pieces)
            assert "".join(pieces).replace(" ", "") == text.replace(" ", "")


def test_id_index_finds_every_document(run_dir: Path):
    docs = read_run(run_dir)
    for kind in ("kept", "rejected"):
        for doc in docs[kind]:
            found = find_doc(run_dir, doc["id"])
            assert found is not None and found[0]["id"] == doc["id"]
            assert found[1].parent.name == kind      # the fixture's ids are unique
            assert find_doc(run_dir, doc["id"], use_index=False)[0] == found[0]
    assert (run_dir / "state" / "report" / "ids.npy").exists()
    assert find_doc(run_dir, "no-such-doc") is None


def test_id_index_is_rebuilt_when_outputs_change(tmp_path: Path):
    run_dir = make_run(tmp_path)
    assert find_doc(run_dir, SEED) is not None
    index = run_dir / "state" / "report" / "ids.npy"
    before = index.stat().st_mtime_ns
    kept = sorted((run_dir / "kept").iterdir())[0]
    kept.write_bytes(kept.read_bytes())    # same content, new mtime: as after a resumed run
    os.utime(kept, ns=(before + 10**9, before + 10**9))
    assert find_doc(run_dir, SEED) is not None
    assert index.stat().st_mtime_ns != before


def test_repeated_ids_are_all_reachable(tmp_path: Path, capsys):
    inputs = tmp_path / "in"
    inputs.mkdir()
    for name in ("a.jsonl", "b.jsonl"):      # the same records twice: every id appears in both
        shutil.copy(REPORT_FIX / "news.jsonl", inputs / name)
    run_dir = tmp_path / "run"
    assert main(["run", str(inputs), "-o", str(run_dir), "--config", str(REPORT_FIX / "pipeline.yaml"),
                 "--workers", "1", "-q"]) == 0
    rc, out = inspect(capsys, str(run_dir), "--id", "doc-00")
    assert rc == 0 and "status  KEPT" in out and "2 documents have this id" in out
    rc, out = inspect(capsys, str(run_dir), "--id", "doc-00", "--nth", "2")
    assert rc == 0 and "DROPPED  exact_dedup.duplicate" in out and "the texts are identical" in out
    rc, out = inspect(capsys, str(run_dir), "--id", "doc-00", "--nth", "3")
    assert rc == 1


def test_clean_labels_show_every_line_in_page_order():
    from thresher.report.data import removed_lines_of
    from thresher.report.inspect import _text_with_removed

    doc = {"id": "p", "text": "Body one.\nBody two.", "meta": {"clean_lines": [
        ["boilerplate", "Home | News"], ["title", "A title"], ["body", "Body one."], ["comment", "nice post"],
        ["body", "Body two."]]}}
    assert removed_lines_of(doc) == [{"line": "Home | News", "rule": "boilerplate", "step": "clean"},
                                     {"line": "A title", "rule": "title", "step": "clean"},
                                     {"line": "nice post", "rule": "comment", "step": "clean"}]
    out = _text_with_removed(doc, 80, Style(False), None)
    start = next(i for i, line in enumerate(out) if line.startswith("page lines"))
    assert out[start + 1:start + 6] == ["- │ [boilerplate] Home | News", "- │ [title] A title", "  │ Body one.",
                                        "- │ [comment] nice post", "  │ Body two."]


def test_control_characters_of_document_text_are_escaped(tmp_path: Path, capsys):
    hostile = "Title\x1b]0;pwned\x07 then \x1b[2J cleared\x9b31m, \rover\x08written"
    (tmp_path / "in.jsonl").write_text(json.dumps({"id": "evil", "text": hostile, "url": "https://x.org/\x1b[5m"}) + "\n")
    run_dir = tmp_path / "run"
    (tmp_path / "p.yaml").write_text("name: none\nsteps: []\n")
    assert main(["run", str(tmp_path / "in.jsonl"), "-o", str(run_dir), "--config", str(tmp_path / "p.yaml"),
                 "--workers", "1", "-q"]) == 0
    for argv in (["--id", "evil", "--full"], ["--reason", "nothing", "--sample", "1"]):
        rc, out = inspect(capsys, str(run_dir), *argv)
        assert not any(c in out for c in "\x1b\x07\x08\r\x9b")
    rc, out = inspect(capsys, str(run_dir), "--id", "evil", "--full")
    assert "Title\\x1b]0;pwned\\x07 then \\x1b[2J cleared\\x9b31m, \\x0dover\\x08written" in out
    assert "https://x.org/\\x1b[5m" in out

def test_the_more_lines_hint_is_a_command_a_shell_can_run(tmp_path: Path, capsys):
    import shlex

    doc_id = "<urn:uuid:it's (a) test>"   # what a shell would split or redirect, unquoted
    (tmp_path / "in.jsonl").write_bytes(orjson.dumps({"id": doc_id, "text": "\n".join(["a short line"] * 20)}) + b"\n")
    (tmp_path / "p.yaml").write_text("name: t\nsteps:\n  - gopher_quality: {min_doc_words: 1000}\n")
    run_dir = tmp_path / "my run"
    assert main(["run", str(tmp_path / "in.jsonl"), "-o", str(run_dir), "--config", str(tmp_path / "p.yaml"),
                 "--workers", "1", "-q"]) == 0
    _, out = inspect(capsys, str(run_dir), "--reason", "short_doc")
    hint = next(line for line in out.splitlines() if "more lines: thresher" in line).split("more lines: ", 1)[1]
    assert shlex.split(hint) == ["thresher", "inspect", str(run_dir), "--id", doc_id]
