"""Pack the WCXB dev pages into one WARC of HTTP response records, for extraction benchmarks.

    python bench/pack_warc.py [--data ../shared/data] [--out /tmp/bench/wcxb-dev.warc.gz] [--limit N]

Each page of ``DATA/wcxb-dev/html/NNNN.html.gz`` becomes one gzip member holding a WARC/1.0
``response`` record whose block is an HTTP/1.1 200 response with the page bytes unchanged. The
records carry ``WARC-Identified-Payload-Type: text/html`` (datatrove's WarcReader otherwise guesses
the type with libmagic and may skip pages) and ``WARC-Target-URI`` taken from the page's ground-truth
JSON (a synthetic ``https://wcxb.invalid/NNNN`` when it holds none). The HTTP Content-Type names the
charset the page declares in a ``<meta>`` tag, if any. Output is deterministic (fixed date, record
ids derived from the file id), so two packs of the same data are byte-identical.

Records are written by hand (the format is small) so the benchmark needs no WARC-writing library.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import json
import re
import sys
import uuid
from pathlib import Path

# Charset declared in the first bytes of the page: <meta charset="x"> or
# <meta http-equiv="Content-Type" content="text/html; charset=x">. Bounded classes, linear time.
_META_CHARSET = re.compile(rb"<meta[^>]{0,400}?charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]{1,40})", re.IGNORECASE)
_SNIFF_BYTES = 8192
_WARC_DATE = "2026-01-01T00:00:00Z"
_NAMESPACE = uuid.UUID("6f1c3a52-4a41-4d2b-9b0e-7c1e7a0b5e11")


def declared_charset(html: bytes) -> str | None:
    """Return the charset a page declares in a <meta> tag near its start, lower-cased, or None."""
    m = _META_CHARSET.search(html, 0, _SNIFF_BYTES)
    return m.group(1).decode("ascii").lower() if m else None


def _sha1_b32(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


def response_record(url: str, html: bytes, record_key: str) -> bytes:
    """One uncompressed WARC/1.0 response record (header block, HTTP block, trailing CRLFs)."""
    charset = declared_charset(html)
    content_type = f"text/html; charset={charset}" if charset else "text/html"
    http_head = (
        f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {len(html)}\r\n\r\n"
    ).encode("ascii")
    block = http_head + html
    headers = [
        "WARC/1.0",
        "WARC-Type: response",
        f"WARC-Record-ID: <urn:uuid:{uuid.uuid5(_NAMESPACE, record_key)}>",
        f"WARC-Date: {_WARC_DATE}",
        f"WARC-Target-URI: {url}",
        "WARC-Identified-Payload-Type: text/html",
        f"WARC-Payload-Digest: {_sha1_b32(html)}",
        f"WARC-Block-Digest: {_sha1_b32(block)}",
        "Content-Type: application/http; msgtype=response",
        f"Content-Length: {len(block)}",
    ]
    return ("\r\n".join(headers) + "\r\n\r\n").encode("utf-8") + block + b"\r\n\r\n"


def page_url(ground_truth: Path, file_id: str) -> str:
    """URL from the page's ground-truth JSON, or a synthetic one (never contains whitespace)."""
    url = None
    if ground_truth.exists():
        url = json.loads(ground_truth.read_text(encoding="utf-8")).get("url")
    if not url or any(c.isspace() for c in url):
        url = f"https://wcxb.invalid/{file_id}"
    return url


def pack(data_dir: Path, out: Path, limit: int | None = None) -> int:
    """Write the WARC; returns the number of response records written."""
    wcxb = data_dir / "wcxb-dev"
    pages = sorted((wcxb / "html").glob("*.html.gz"))
    if limit is not None:
        pages = pages[:limit]
    if not pages:
        raise SystemExit(f"no pages found under {wcxb / 'html'}")
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "wb") as f:
        for page in pages:
            file_id = page.name.removesuffix(".html.gz")
            html = gzip.decompress(page.read_bytes())
            url = page_url(wcxb / "ground-truth" / f"{file_id}.json", file_id)
            # One gzip member per record, as in Common Crawl files (readers can seek per record).
            f.write(
                gzip.compress(response_record(url, html, f"wcxb-dev/{file_id}"), compresslevel=6, mtime=0)
            )
    return len(pages)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"), help="data dir holding wcxb-dev/")
    ap.add_argument("--out", type=Path, default=Path("/tmp/bench/wcxb-dev.warc.gz"), help="output .warc.gz")
    ap.add_argument("--limit", type=int, default=None, help="pack only the first N pages")
    args = ap.parse_args(argv)
    n = pack(args.data, args.out, args.limit)
    print(
        f"wrote {n} response records to {args.out} ({args.out.stat().st_size / 1e6:.1f} MB)", file=sys.stderr
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
