"""Bench helpers: the WARC packer writes records real readers accept; run_measured measures a child."""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

from fastwarc.warc import ArchiveIterator, WarcRecordType

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from common import fmt_table, run_measured  # noqa: E402
from pack_warc import declared_charset, pack  # noqa: E402


def test_declared_charset() -> None:
    assert declared_charset(b'<html><head><meta charset="UTF-8">') == "utf-8"
    assert declared_charset(b'<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1">') == (
        "iso-8859-1"
    )
    assert declared_charset(b"<html><head><title>none</title>") is None


def _make_data(root: Path) -> Path:
    html_dir, gt_dir = root / "wcxb-dev" / "html", root / "wcxb-dev" / "ground-truth"
    html_dir.mkdir(parents=True)
    gt_dir.mkdir()
    pages = {
        "0001": '<html><head><meta charset="utf-8"></head><body><p>Caf\u00e9 one</p></body></html>'.encode(),
        "0002": '<html><head><meta charset="windows-1252"></head><body><p>Caf\xe9</p></body></html>'.encode(
            "cp1252"
        ),
        "0003": b"<html><body><p>no charset, no ground truth</p></body></html>",
    }
    for fid, html in pages.items():
        (html_dir / f"{fid}.html.gz").write_bytes(gzip.compress(html))
    (gt_dir / "0001.json").write_text(json.dumps({"url": "https://example.org/a"}))
    (gt_dir / "0002.json").write_text(json.dumps({"url": "https://example.org/b"}))
    return root


def test_pack_warc_roundtrip(tmp_path: Path) -> None:
    data = _make_data(tmp_path / "data")
    out = tmp_path / "x.warc.gz"
    assert pack(data, out) == 3
    with open(out, "rb") as f:
        assert all(r.verify_block_digest(consume=True) for r in ArchiveIterator(f, parse_http=False))
    records = []
    for rec in ArchiveIterator(open(out, "rb"), record_types=WarcRecordType.response):
        records.append(
            (
                rec.headers["WARC-Target-URI"],
                rec.headers["WARC-Identified-Payload-Type"],
                rec.http_headers.get("Content-Type"),
                rec.reader.read(),
            )
        )
    assert [r[0] for r in records] == [
        "https://example.org/a",
        "https://example.org/b",
        "https://wcxb.invalid/0003",
    ]
    assert {r[1] for r in records} == {"text/html"}
    assert [r[2] for r in records] == [
        "text/html; charset=utf-8",
        "text/html; charset=windows-1252",
        "text/html",
    ]
    # The payload is the page, byte for byte.
    assert records[1][3] == gzip.decompress((data / "wcxb-dev/html/0002.html.gz").read_bytes())
    # Deterministic: a second pack is byte-identical.
    out2 = tmp_path / "y.warc.gz"
    pack(data, out2)
    assert out.read_bytes() == out2.read_bytes()


def test_run_measured(tmp_path: Path) -> None:
    log = tmp_path / "log.txt"
    code = "import sys; b = bytearray(50 * 1024 * 1024); sum(range(10**6)); print('hi'); sys.exit(3)"
    m = run_measured([sys.executable, "-c", code], log_path=log)
    assert m.returncode == 3
    assert log.read_text().strip() == "hi"
    assert m.cpu_s > 0 and m.wall_s > 0
    assert m.peak_rss_mb >= 50  # the 50 MB buffer was touched (zero-filled)


def test_fmt_table() -> None:
    t = fmt_table(["a", "b"], [["x", 1.23456], ["y", 1234.5]])
    assert t.splitlines() == ["| a | b |", "|---|---|", "| x | 1.23 |", "| y | 1234 |"]


def test_classify_corpus_is_4kb_documents_and_run_on_chunk_round_trips(tmp_path: Path) -> None:
    from bench_classify import DOC_BYTES, build_corpus
    from common import run_on_chunk

    gt = tmp_path / "wcxb-dev" / "ground-truth"
    gt.mkdir(parents=True)
    lines = [f"line {i} caf\u00e9 " + "word " * (i % 40) for i in range(300)]
    (gt / "0001.json").write_text(json.dumps({"ground_truth": {"main_content": "\n".join(lines)}}))
    out = tmp_path / "corpus.jsonl"
    build_corpus(tmp_path, out, 20)
    docs = [json.loads(line) for line in out.open(encoding="utf-8")]
    sizes = [len(d["text"].encode("utf-8")) for d in docs]
    assert len(docs) == 20 and all(DOC_BYTES - 60 <= n <= DOC_BYTES for n in sizes)
    assert len({d["text"][:40] for d in docs}) == 20   # each starts at another line

    echo = tmp_path / "echo.py"
    echo.write_text("import sys, shutil\nshutil.copy(sys.argv[1], sys.argv[2])\n")
    assert run_on_chunk([sys.executable, str(echo)], docs[:3], tmp_path) == docs[:3]
