"""WARC and WET (fastwarc: gzip, lz4, zstd or plain; quirks mode for old WARC/0.18 files).

Documents are response, resource, revisit and conversion (WET) records; warcinfo, request and metadata
records are not documents. HTML responses carry their payload in ``raw`` for the extract step; other
responses (images, PDF, redirects, errors, revisits) are passed on already dropped, with a reason, so that
they are counted and never silently skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastwarc.warc import ArchiveIterator, WarcRecordType

from thresher.document import Document, Reason
from thresher.io.fs import open_input
from thresher.io.http import media_type, parse_response
from thresher.io.shards import OnError, ReadError, Shard

_DOC_TYPES = WarcRecordType.response | WarcRecordType.resource | WarcRecordType.revisit | WarcRecordType.conversion
HTML_TYPES = ("text/html", "application/xhtml+xml", "application/xml+xhtml")
_GZIP_MAGIC = b"\x1f\x8b\x08"


def _iterate(fileobj, record_types=_DOC_TYPES) -> ArchiveIterator:
    # HTTP is parsed by thresher.io.http rather than fastwarc: the raw block's length tells a truncated
    # record (quirks mode would pass it silently), and the decoding tolerates crawlers' false headers.
    return ArchiveIterator(fileobj, record_types=record_types, parse_http=False, quirks_mode=True,
                           auto_decode="none", fsspec_args=False)


_FRAME_MAGIC = {".gz": _GZIP_MAGIC, ".lz4": b"\x04\x22\x4d\x18", ".zst": b"\x28\xb5\x2f\xfd"}


def record_boundaries(path: str, shard_bytes: int) -> list[int]:
    """Record start offsets that cut ``path`` into pieces of about ``shard_bytes`` (a fast header-only scan).

    A cut is only made where a reader can start: a new compression frame (one gzip member per record, as
    Common Crawl writes them) or a plain ``WARC/`` line. A file compressed as one stream stays one shard.
    """
    magic = next((m for ext, m in _FRAME_MAGIC.items() if path.endswith(ext)), b"WARC/")
    bounds, last = [], 0
    with open_input(path) as fh, open_input(path) as probe:
        try:
            for record in _iterate(fh, record_types=WarcRecordType.any_type):
                pos = record.stream_pos
                if pos - last >= shard_bytes:
                    probe.seek(pos)
                    if probe.read(len(magic)) != magic:
                        continue
                    bounds.append(pos)
                    last = pos
        except OSError:
            pass  # a damaged tail: the reader reports it with its offset
    return bounds


def _resync(fh, after: int, compressed: bool) -> int | None:
    """Offset of the next plausible record start after a damaged one, or None at the end of the file."""
    marker = _GZIP_MAGIC if compressed else b"WARC/"
    fh.seek(after)
    window = 1 << 20
    base = after
    while chunk := fh.read(window + len(marker)):
        hit = chunk.find(marker, 1 if base == after else 0)
        if hit >= 0:
            return base + hit
        base += window
        fh.seek(base)
    return None


def read(shard: Shard, options: dict[str, Any], on_error: OnError) -> Iterator[Document]:
    compressed = shard.path.endswith((".gz", ".lz4", ".zst"))
    with open_input(shard.path) as fh:
        start: int | None = shard.start
        while start is not None and (shard.end is None or start < shard.end):
            fh.seek(start)
            last_ok = None   # offset of the last record yielded in this attempt
            failing = None   # offset of the record being converted, if it fails there
            try:
                for record in _iterate(fh):
                    pos = record.stream_pos  # absolute: fastwarc counts from the file's start
                    if shard.end is not None and pos >= shard.end:
                        return
                    failing = pos
                    doc = _to_document(record, shard, pos)
                    failing = None
                    yield doc
                    last_ok = pos
                return
            except (OSError, ValueError, UnicodeDecodeError) as exc:
                # A damaged record (corrupt gzip member, truncation). Report it once, at its own offset,
                # then carry on from the next record start after it.
                if failing is None and last_ok is not None:
                    start = _resync(fh, last_ok + 1, compressed)  # the bad record lies after last_ok
                    continue
                bad = failing if failing is not None else start
                on_error(ReadError(f"{shard.path}:{bad}", f"unreadable WARC record: {exc}"))
                start = _resync(fh, bad + 1, compressed)


def _header(record, name: str) -> str | None:
    value = record.headers.get(name)
    return value if value else None


def _to_document(record, shard: Shard, pos: int) -> Document:
    url = _header(record, "WARC-Target-URI")
    if url:
        url = url.strip("<> ")
    doc_id = _header(record, "WARC-Record-ID") or f"{shard.name}:{pos}"
    meta: dict[str, Any] = {}
    if date := _header(record, "WARC-Date"):
        meta["crawl_date"] = date
    doc = Document(id=doc_id, url=url, source=f"{shard.path}:{pos}", meta=meta)
    rtype = record.record_type
    if rtype == WarcRecordType.revisit:
        doc.reason = Reason("read", "revisit", _header(record, "WARC-Profile"))
        return doc
    block = record.reader.read()
    if len(block) < record.content_length:
        raise ValueError(f"truncated record: {len(block)} of {record.content_length} bytes")
    if rtype == WarcRecordType.conversion:  # WET: already-extracted text
        doc.text = block.decode("utf-8", errors="replace")
        meta["content_type"] = "text/plain"
        return doc
    warc_type = (_header(record, "Content-Type") or "").lower()
    if rtype == WarcRecordType.response and warc_type.startswith("application/http"):
        status, headers, payload = parse_response(block)
        ctype, charset = media_type(headers)
        ctype = ctype or (_header(record, "WARC-Identified-Payload-Type") or "").lower()
        meta["http_status"] = status
        if charset:
            meta["charset"] = charset
        if "last-modified" in headers:
            meta["last_modified"] = headers["last-modified"]
    else:
        status, payload = 200, block
        ctype = warc_type.split(";")[0].strip()
    meta["content_type"] = ctype
    if status != 200:
        doc.reason = Reason("read", "http_status", status, 200)
    elif not ctype.startswith(HTML_TYPES) and not (not ctype and payload.lstrip()[:1] == b"<"):
        doc.reason = Reason("read", "not_html", ctype or "unknown")
    else:
        doc.raw = payload
    return doc
