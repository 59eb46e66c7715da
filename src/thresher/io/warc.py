"""WARC and WET (gzip, lz4, zstd or plain; WARC/1.0, 1.1 and the older 0.17/0.18).

Records are parsed here, over ``Decoded``, rather than by fastwarc: a parser that skips what it cannot read
loses records without a word (a Content-Length past the end of the file, an unknown version line, a
damaged header), and every byte must end in a record or in an error that says how many were skipped.
fastwarc still makes the planner's fast header-only scan for shard boundaries.

Documents are response, resource, revisit and conversion (WET) records; warcinfo, request and metadata
records are not documents. HTML responses carry their payload in ``raw`` for the extract step; other
responses (images, PDF, redirects, errors, revisits) are passed on already dropped, with a reason, so that
they are counted and never silently skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from fastwarc.warc import ArchiveIterator, WarcRecordType

from thresher.document import Document, Reason
from thresher.io.base import (
    HTML_TYPES,
    MAGIC,
    Damaged,
    Decoded,
    Limits,
    OnError,
    ReadError,
    RecordError,
    Shard,
    codec_of,
)
from thresher.io.fs import open_input
from thresher.io.http import media_type, parse_response


def record_boundaries(path: str, shard_bytes: int) -> list[int]:
    """Record start offsets that cut ``path`` into pieces of about ``shard_bytes`` (a fast header-only scan).

    A cut is only made where a reader can start: a new compression frame (one gzip member per record, as
    Common Crawl writes them) or a plain ``WARC/`` line. A file compressed as one stream, or with lz4, stays
    one shard.
    """
    codec = codec_of(path)
    if codec == "lz4":
        return []  # lz4 is decoded as one stream (``Decoded``), with no frame offsets to stop at
    magic = MAGIC.get(codec or "", b"WARC/")
    bounds, last = [], 0
    with open_input(path) as fh, open_input(path) as probe:
        try:
            for record in ArchiveIterator(fh, record_types=WarcRecordType.any_type, parse_http=False,
                                          quirks_mode=True, auto_decode="none", fsspec_args=False):
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


def read(shard: Shard, options: dict[str, Any], on_error: OnError) -> Iterator[Document]:
    """The shard's documents. A damaged record costs that record: its error names the offset and the bytes
    skipped, and reading resumes at the next ``WARC/`` line or compression frame."""
    limits = Limits.from_options(options)
    with Decoded(shard.path, shard.start, limits.ratio) as stream:
        while True:
            where, began = stream.offset(), stream.pos
            problem: str | None = None
            try:
                while stream.peek(2) == b"\r\n" or stream.peek(1) == b"\n":  # blank lines between records
                    stream.skip_line()
                where, began = stream.offset(), stream.pos
                if not stream.peek(1) or (shard.end is not None and stream.at >= shard.end):
                    return
                try:
                    record = _read_record(stream, limits)
                except _Skipped as exc:
                    on_error(ReadError(f"{shard.path}:{where}", str(exc)))
                    continue
                except RecordError as exc:
                    problem = str(exc)
                    stream.skip_to_line(b"WARC/")
                    on_error(ReadError(f"{shard.path}:{where}", f"{problem}; skipped {stream.pos - began} bytes to "
                                                                "the next record"))
                    continue
            except Damaged as exc:
                error = stream.recover(exc)
                if problem:  # met while looking for the next record after a bad one: one error for the two
                    error = ReadError(f"{shard.path}:{where}", f"{problem}, then while looking for the next "
                                                               f"record: {error.message}")
                on_error(error)
                continue
            except OSError as exc:
                on_error(ReadError(f"{shard.path}:{where}", f"reading stopped: {exc}; the rest of the file "
                                                            f"(from offset {stream.at}) was not read"))
                return
            if record is None:
                continue  # not a document (warcinfo, request, metadata)
            headers, block = record
            try:
                yield _to_document(headers, block, shard, where, limits)
            except RecordError as exc:
                on_error(ReadError(f"{shard.path}:{where}", str(exc)))


_VERSION = re.compile(rb"^WARC/(1\.[01]|0\.1[78])\r?\n$")
_DOC_TYPES = ("response", "resource", "revisit", "conversion")
_OTHER_TYPES = ("warcinfo", "request", "metadata", "continuation")


def _read_record(stream: Decoded, limits: Limits) -> tuple[dict[str, str], bytes] | None:
    """(headers, block) of the next record, or None for a record that is not a document. Raises
    RecordError for a damaged record (the caller resynchronises) and for one over the size cap (skipped)."""
    first = stream.readline(limits.header_bytes)
    if not _VERSION.match(first):
        raise RecordError(f"not a WARC record: {first[:40]!r}" if first.startswith(b"WARC/") or not first.strip()
                          else f"not a WARC record header: {first[:40]!r}")
    headers: dict[str, str] = {}
    size, last = len(first), None
    while True:
        line = stream.readline(limits.header_bytes)
        size += len(line)
        if size > limits.header_bytes:
            raise RecordError(f"record header over {limits.header_bytes} bytes")
        if not line.endswith(b"\n"):
            raise RecordError("the file ends inside a record header")
        if line in (b"\r\n", b"\n"):
            break
        if line[:1] in (b" ", b"\t") and last:  # a folded header line
            headers[last] += " " + line.strip().decode("utf-8", "replace")
            continue
        name, sep, value = line.partition(b":")
        if not sep or not name.strip():
            raise RecordError(f"bad header line {line[:60]!r}")
        last = name.strip().decode("utf-8", "replace").lower()
        headers[last] = value.strip().decode("utf-8", "replace")
    length = headers.get("content-length", "")
    if not length.isdigit():
        raise RecordError(f"bad Content-Length {length[:30]!r}")
    length_n = int(length)
    rtype = headers.get("warc-type", "").lower()
    if rtype not in _DOC_TYPES + _OTHER_TYPES:
        skipped = stream.skip(length_n)
        raise _Skipped(f"unknown WARC-Type {rtype[:30]!r}; record of {skipped} bytes skipped")
    if length_n > limits.record_bytes and rtype in _DOC_TYPES:
        skipped = stream.skip(length_n)
        raise _Skipped(f"record of {length_n} bytes is over the max_record_mb cap ({limits.record_bytes} "
                       f"bytes); skipped {skipped} bytes")
    if rtype not in _DOC_TYPES:
        if stream.skip(length_n) < length_n:
            raise _Skipped(f"truncated {rtype} record: the file ends before its {length_n} bytes")
        return None
    block = stream.read(length_n)
    if len(block) < length_n:
        raise _Skipped(f"truncated record: {len(block)} of {length_n} bytes")
    return headers, block


class _Skipped(RecordError):
    """A record read past (its length was known): reading goes on right after it, nothing to resynchronise."""


def _to_document(headers: dict[str, str], block: bytes, shard: Shard, pos: str, limits: Limits) -> Document:
    url = headers.get("warc-target-uri") or None
    if url:
        url = url.strip("<> ")
    doc_id = headers.get("warc-record-id") or f"{shard.name}:{pos}"
    meta: dict[str, Any] = {}
    if date := headers.get("warc-date"):
        meta["crawl_date"] = date
    doc = Document(id=doc_id, url=url, source=f"{shard.path}:{pos}", meta=meta)
    rtype = headers["warc-type"].lower()
    if rtype == "revisit":
        doc.reason = Reason("read", "revisit", headers.get("warc-profile"))
        return doc
    if rtype == "conversion":  # WET: already-extracted text
        doc.text = block.decode("utf-8", errors="replace")
        meta["content_type"] = "text/plain"
        return doc
    warc_type = headers.get("content-type", "").lower()
    if rtype == "response" and warc_type.startswith("application/http"):
        status, http_headers, payload = parse_response(block, limits.record_bytes)
        ctype, charset = media_type(http_headers)
        ctype = ctype or headers.get("warc-identified-payload-type", "").lower()
        meta["http_status"] = status
        if charset:
            meta["charset"] = charset
        if "last-modified" in http_headers:
            meta["last_modified"] = http_headers["last-modified"]
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
