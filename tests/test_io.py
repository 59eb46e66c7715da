"""Readers: every record accounted for, bad input reported with file and offset, the rest still read."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
import zstandard
from conftest import page, warc_record, write_warc

from thresher.document import Document
from thresher.io import ReadError, plan_shards, read_shard
from thresher.io.writers import open_writer


def read_all(inputs, shard_bytes=10**9, **options):
    errors: list[ReadError] = []
    docs = [d for s in plan_shards([str(i) for i in inputs], shard_bytes) for d in read_shard(s, options, errors.append)]
    return docs, errors


def test_warc_html_responses_are_documents_and_others_rejected_with_reason(small_warc):
    docs, errors = read_all([small_warc])
    assert errors == []
    assert len(docs) == 9
    html = [d for d in docs if d.reason is None]
    assert len(html) == 7 and all(d.raw.startswith(b"<html>") for d in html)
    reasons = {d.url: d.reason.key for d in docs if d.reason}
    assert reasons == {"https://example.org/img.png": "read.not_html", "https://example.org/gone": "read.http_status"}
    assert all(d.id.startswith("<urn:uuid:") and d.source.startswith(str(small_warc)) for d in docs)


def test_big_warc_is_split_into_shards_at_record_boundaries_without_losing_records(small_warc):
    whole, _ = read_all([small_warc])
    shards = plan_shards([str(small_warc)], shard_bytes=600)
    assert len(shards) > 3
    parts, _ = read_all([small_warc], shard_bytes=600)
    assert [d.id for d in parts] == [d.id for d in whole]


def test_corrupt_gzip_member_is_reported_and_reading_resumes_after_it(tmp_path):
    good = [gzip.compress(warc_record(f"https://e.org/{i}", page("t", ["some text here"]))) for i in range(3)]
    broken = bytearray(good[1])
    broken[20:40] = b"\x00" * 20  # damage the deflate stream of the middle record
    path = tmp_path / "damaged.warc.gz"
    path.write_bytes(good[0] + bytes(broken) + good[2])
    docs, errors = read_all([path])
    assert [d.url for d in docs] == ["https://e.org/0", "https://e.org/2"]
    assert len(errors) == 1 and errors[0].source == f"{path}:{len(good[0])}"


def test_truncated_warc_keeps_what_precedes_the_cut(tmp_path):
    data = b"".join(warc_record(f"https://e.org/{i}", page("t", ["text"])) for i in range(3))
    path = tmp_path / "cut.warc"
    path.write_bytes(data[: len(data) - 40])
    docs, errors = read_all([path])
    assert [d.url for d in docs][:2] == ["https://e.org/0", "https://e.org/1"]


def test_jsonl_fields_invalid_json_and_invalid_utf8(tmp_path):
    path = tmp_path / "docs.jsonl"
    lines = [json.dumps({"doc_id": "a", "content": "hello", "link": "https://x.org", "lang": "en"}).encode(),
             b"{not json",
             json.dumps({"doc_id": "b", "content": "caf\udce9"}).encode(),  # lone surrogate
             b'{"doc_id": "c", "content": "bad \xff byte"}',
             b'{"doc_id": "d", "other": 1}']
    path.write_bytes(b"\n".join(lines) + b"\n")
    docs, errors = read_all([path], text_field="content", id_field="doc_id", url_field="link")
    assert [d.id for d in docs] == ["a", "b", "c", "d"]
    assert docs[0].text == "hello" and docs[0].url == "https://x.org" and docs[0].meta == {"lang": "en"}
    assert docs[1].text.encode("utf-8") and docs[2].text.startswith("bad ")
    assert docs[3].reason.key == "read.no_text"
    assert len(errors) == 1 and errors[0].source == f"{path}:{len(lines[0]) + 1}"


def test_jsonl_plain_file_shards_split_on_lines(tmp_path):
    path = tmp_path / "many.jsonl"
    path.write_text("".join(json.dumps({"id": str(i), "text": "x" * 50}) + "\n" for i in range(200)))
    docs, _ = read_all([path], shard_bytes=1000)
    assert [d.id for d in docs] == [str(i) for i in range(200)]
    assert len(plan_shards([str(path)], 1000)) > 5


@pytest.mark.parametrize("fmt", ["jsonl.zst", "jsonl", "parquet"])
def test_writers_round_trip_through_readers(tmp_path, fmt):
    pytest.importorskip("pyarrow") if fmt == "parquet" else None
    writer = open_writer(tmp_path / "out", fmt)
    writer.write(Document(id="x1", text="héllo", url="u", meta={"title": "T"}, signals={"n": 1}))
    writer.close()
    out = next(tmp_path.glob("out*"))
    assert not list(tmp_path.glob("*.tmp"))
    docs, errors = read_all([out])
    assert errors == [] and docs[0].id == "x1" and docs[0].text == "héllo"
    assert docs[0].meta == {"title": "T"} and docs[0].signals == {"n": 1}


def test_empty_files_and_arc(tmp_path):
    (tmp_path / "empty.jsonl").write_bytes(b"")
    (tmp_path / "empty.warc.gz").write_bytes(b"")
    docs, errors = read_all([tmp_path])
    assert docs == [] and errors == []
    arc = Path(__file__).parent.parent / "sample" / "warcio-example.arc.gz"
    docs, errors = read_all([arc])
    assert len(docs) == 1 and docs[0].url == "http://example.com/" and docs[0].raw and errors == []


def test_unknown_input_format_is_a_clear_error(tmp_path):
    (tmp_path / "x.doc").write_bytes(b"x")
    with pytest.raises(ValueError, match="unknown input format"):
        plan_shards([str(tmp_path / "x.doc")])


# -- hostile input: each bad record costs that record only, with file and offset; nothing lost without a word
def _lines(*records) -> bytes:
    return b"".join((r if isinstance(r, bytes) else json.dumps(r).encode()) + b"\n" for r in records)


def test_jsonl_lone_surrogates_in_any_field_cost_nothing_and_the_documents_can_be_written(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_bytes(_lines({"id": "a\ud800", "url": "https://x.org/\udfff", "text": "t", "lang": "e\ud800n",
                             "meta": {"k\ud800": ["\udc00"]}}, *({"id": str(i), "text": "ok"} for i in range(1000))))
    docs, errors = read_all([path])
    assert errors == [] and len(docs) == 1001
    assert docs[0].id == "a\ufffd" and docs[0].url == "https://x.org/\ufffd"
    assert docs[0].meta == {"k\ufffd": ["\ufffd"], "lang": "e\ufffdn"}
    for doc in docs:
        orjson.dumps(doc.to_dict())  # the writer would raise on a lone surrogate


@pytest.mark.parametrize("bad", [
    {"id": "m", "text": "t", "meta": [1, 2]},                           # meta not an object
    {"id": "g", "text": "t", "meta": {}, "signals": "high"},           # signals not an object
    b'{"id": "d", "deep": ' + b"[" * 5000 + b"]" * 5000 + b', "text": "t"}',   # past orjson's depth
    b'{"id": "w", "text": "t", "x": ' + b"[" * 400 + b"]" * 400 + b"}",        # readable, not writable
    b"[1, 2, 3]",                                                       # not an object
])
def test_jsonl_bad_shape_costs_that_line_only(tmp_path, bad):
    path = tmp_path / "shape.jsonl"
    first = _lines({"id": "first", "text": "t"})
    path.write_bytes(first + _lines(bad) + _lines(*({"id": str(i), "text": "t"} for i in range(999))))
    docs, errors = read_all([path])
    assert len(docs) == 1000 and docs[0].id == "first" and docs[-1].id == "998"
    assert len(errors) == 1 and errors[0].source == f"{path}:{len(first)}"


def _warc_file(tmp_path, name, records, compress):
    return write_warc(tmp_path / name, records, compress=compress)


@pytest.mark.parametrize("compress", [False, True])
def test_warc_damage_is_reported_with_its_offset_and_the_next_record_is_read(tmp_path, compress):
    recs = [warc_record(f"https://e.org/{i}", page("t", ["text"])) for i in range(4)]
    recs[1] = recs[1].replace(b"WARC/1.0", b"WARC/9.9", 1)                    # unknown version line
    recs[2] = recs[2].replace(b"Content-Length:", b"Content-Lengt\x00:", 1)   # a damaged header
    path = _warc_file(tmp_path, "bad.warc" + ".gz" * compress, recs, compress)
    docs, errors = read_all([path])
    assert [d.url for d in docs] == ["https://e.org/0", "https://e.org/3"]
    starts = [0]
    for rec in recs:
        starts.append(starts[-1] + len(gzip.compress(rec) if compress else rec))
    assert [e.source for e in errors] == [f"{path}:{starts[1]}", f"{path}:{starts[2]}"]
    assert "WARC/9.9" in errors[0].message and "skipped" in errors[0].message


def test_warc_content_length_past_the_end_of_the_file_is_an_error(tmp_path):
    recs = [warc_record(f"https://e.org/{i}", page("t", ["text"])) for i in range(2)]
    recs[1] = re.sub(rb"Content-Length: \d+\r\n\r\nHTTP", b"Content-Length: 99999\r\n\r\nHTTP", recs[1])
    path = _warc_file(tmp_path, "long.warc", recs, False)
    docs, errors = read_all([path])
    assert [d.url for d in docs] == ["https://e.org/0"]
    assert len(errors) == 1 and errors[0].source == f"{path}:{len(recs[0])}" and "truncated" in errors[0].message


@pytest.mark.parametrize("name, data", [
    ("nul.warc", b"\x00" * 5000),
    ("zeros.warc.gz", gzip.compress(b"\x00" * 3_000_000)),
    ("text.warc.gz", b"this is not gzip at all\n" * 10),
    ("page.warc", b"<html>not a WARC</html>\n"),
])
def test_a_file_that_is_not_what_its_name_says_is_an_error(tmp_path, name, data):
    (tmp_path / name).write_bytes(data)
    docs, errors = read_all([tmp_path / name])
    assert docs == [] and len(errors) == 1 and errors[0].source == f"{tmp_path / name}:0"


def test_a_record_or_line_over_the_cap_is_skipped_with_its_size_and_reading_goes_on(tmp_path):
    big = warc_record("https://big.org/", b"<html>" + b"a" * 3_000_000)
    small = warc_record("https://small.org/", page("t", ["text"]))
    warc = write_warc(tmp_path / "big.warc.gz", [big, small])
    docs, errors = read_all([warc], max_record_mb=1)
    assert [d.url for d in docs] == ["https://small.org/"]
    assert len(errors) == 1 and errors[0].source == f"{warc}:0" and "over the max_record_mb cap" in errors[0].message
    assert str(len(big.split(b"\r\n\r\n", 1)[1]) - 4) in errors[0].message  # names the record's size

    line = json.dumps({"id": "big", "text": "w " * 1_000_000}).encode() + b"\n"
    jsonl = tmp_path / "big.jsonl.zst"
    jsonl.write_bytes(zstandard.ZstdCompressor().compress(line + _lines({"id": "after", "text": "t"})))
    docs, errors = read_all([jsonl], max_line_mb=1)
    assert [d.id for d in docs] == ["after"]
    assert len(errors) == 1 and f"line of {len(line)} bytes" in errors[0].message

    bomb = gzip.compress(b"<html>" + b" " * 3_000_000)  # an HTTP body that decodes past the cap
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\n\r\n" + bomb
    rec = (b"WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: https://gz.org/\r\nContent-Type: application/http;"
           b" msgtype=response\r\nContent-Length: " + str(len(http)).encode() + b"\r\n\r\n" + http + b"\r\n\r\n")
    warc = write_warc(tmp_path / "encoded.warc", [rec, small], compress=False)
    docs, errors = read_all([warc], max_record_mb=1)
    assert [d.url for d in docs] == ["https://small.org/"] and "decodes to over" in errors[0].message


def test_a_decompression_bomb_is_stopped_by_the_ratio_guard(tmp_path, monkeypatch):
    from thresher.io import base

    monkeypatch.setattr(base, "RATIO_FLOOR", 1 << 20)  # the guard's floor, lowered to keep the bomb small
    good = gzip.compress(warc_record("https://e.org/", page("t", ["text"])))
    path = tmp_path / "bomb.warc.gz"
    path.write_bytes(gzip.compress(b"\x00" * 20_000_000) + good)
    docs, errors = read_all([path])
    assert [d.url for d in docs] == ["https://e.org/"]
    assert len(errors) == 1 and errors[0].source == f"{path}:0" and "decompression bomb" in errors[0].message
    assert f"skipped {path.stat().st_size - len(good)} bytes" in errors[0].message


BOMBS = {
    # the bombs, made small (100 MB decompressed) with the caps lowered to 1 MB
    "line.jsonl.gz": (b'{"id": "x", "text": "', b"a", b'"}\n'),
    "body.warc.gz": (b"WARC/1.0\r\nWARC-Type: resource\r\nWARC-Target-URI: https://b.org/\r\nContent-Type: text/html"
                     b"\r\nContent-Length: 100000000\r\n\r\n", b"a", b"\r\n\r\n"),
    "zeros.warc.gz": (b"", b"\x00", b""),
}
MEASURE = r"""
import resource, sys, zlib
from thresher.io import plan_shards, read_shard
head, fill, tail = eval(sys.argv[2])
z = zlib.compressobj(1, zlib.DEFLATED, 31)
with open(sys.argv[1], "wb") as fh:  # the bomb, written in pieces: 100 MB decompressed
    fh.write(z.compress(head))
    for _ in range(100):
        fh.write(z.compress(fill * 1_000_000))
    fh.write(z.compress(tail) + z.flush())
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
errors = []
docs = [d for s in plan_shards([sys.argv[1]]) for d in read_shard(s, {"max_line_mb": 1, "max_record_mb": 1}, errors.append)]
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(len(docs), (after - before) // 1024, errors[0].message if errors else "")
"""


@pytest.mark.parametrize("name", BOMBS)
def test_bombs_cost_an_error_and_bounded_memory(tmp_path, name):
    out = subprocess.run([sys.executable, "-c", MEASURE, str(tmp_path / name), repr(BOMBS[name])],
                         capture_output=True, text=True, check=True).stdout.split(" ", 2)
    docs, grew_mb, message = int(out[0]), int(out[1]), out[2]
    assert docs == 0 and message
    assert grew_mb < 40, f"reading the bomb grew the peak memory by {grew_mb} MB"

def test_brotli_content_encoding_is_decoded():
    import brotli

    from thresher.io.http import parse_response

    html = b"<html><body><p>" + b"brotli encoded page " * 50 + b"</p></body></html>"
    encoded = brotli.compress(html)
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: br\r\n\r\n"
    assert parse_response(head + encoded)[2] == html
    assert parse_response(head + html)[2] == html  # header kept for a body stored decoded: left as it is
    assert html.startswith(parse_response(head + encoded[: len(encoded) // 2])[2])  # truncated: what decodes
