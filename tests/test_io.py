"""Readers: every record accounted for, bad input reported with file and offset, the rest still read."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from conftest import page, warc_record

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


def test_brotli_content_encoding_is_decoded():
    import brotli

    from thresher.io.http import parse_response

    html = b"<html><body><p>" + b"brotli encoded page " * 50 + b"</p></body></html>"
    encoded = brotli.compress(html)
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: br\r\n\r\n"
    assert parse_response(head + encoded)[2] == html
    assert parse_response(head + html)[2] == html  # header kept for a body stored decoded: left as it is
    assert html.startswith(parse_response(head + encoded[: len(encoded) // 2])[2])  # truncated: what decodes
