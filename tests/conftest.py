"""Shared test helpers: build small WARC files by hand, and read a run directory back."""

from __future__ import annotations

import gzip
import io
import uuid
from pathlib import Path

import orjson
import pytest
import zstandard

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLE = Path(__file__).parent.parent / "sample"


def warc_record(url: str, body: bytes, content_type: str = "text/html; charset=utf-8", status: int = 200,
                record_type: str = "response") -> bytes:
    if record_type == "response":
        http = (f"HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
                .encode() + body)
        ctype = "application/http; msgtype=response"
    else:
        http, ctype = body, content_type
    headers = (f"WARC/1.0\r\nWARC-Type: {record_type}\r\nWARC-Record-ID: <urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, url + record_type)}>\r\n"
               f"WARC-Target-URI: {url}\r\nWARC-Date: 2024-01-01T00:00:00Z\r\nContent-Type: {ctype}\r\n"
               f"Content-Length: {len(http)}\r\n\r\n").encode()
    return headers + http + b"\r\n\r\n"


def write_warc(path: Path, records: list[bytes], compress: bool = True) -> Path:
    with open(path, "wb") as fh:
        for rec in records:
            fh.write(gzip.compress(rec) if compress else rec)  # one gzip member per record, like Common Crawl
    return path


def page(title: str, paragraphs: list[str]) -> bytes:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>{body}</article></body></html>".encode()


def read_docs(path: Path) -> list[dict]:
    data = path.read_bytes()
    if path.name.endswith(".zst"):
        data = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data)).read()
    return [orjson.loads(line) for line in data.splitlines() if line.strip()]


def read_run(run_dir: Path) -> dict[str, list[dict]]:
    """kept and rejected documents of a run, each list in file order."""
    out = {}
    for kind in ("kept", "rejected"):
        docs = []
        for f in sorted((run_dir / kind).glob("*.jsonl*")):
            docs += read_docs(f)
        out[kind] = docs
    return out


def lorem(i: int, words: int = 60) -> str:
    vocab = ("the river runs past old mills where workers once ground grain into flour for the town "
             "and every autumn farmers brought carts of wheat along muddy roads to sell").split()
    return " ".join(vocab[(i * 7 + k * 3) % len(vocab)] + ("." if k % 12 == 11 else "") for k in range(words))


@pytest.fixture
def small_warc(tmp_path: Path) -> Path:
    records = [warc_record(f"https://example.org/a{i}", page(f"Article {i}", [lorem(i), lorem(i + 1)]))
               for i in range(6)]
    records.append(warc_record("https://example.org/img.png", b"\x89PNG....", content_type="image/png"))
    records.append(warc_record("https://example.org/gone", b"<html>gone</html>", status=404))
    records.append(warc_record("https://example.org/a0-copy", page("Article 0", [lorem(0), lorem(1)])))
    return write_warc(tmp_path / "small.warc.gz", records)
