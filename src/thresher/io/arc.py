"""ARC (the pre-WARC Internet Archive format, Common Crawl 2008-2012), plain or gzipped.

fastwarc reads only WARC, and ARC is simple: a header line ``URL IP DATE CONTENT-TYPE LENGTH``, then
LENGTH bytes (the HTTP response), then a newline. Offsets as for WARC: the file offset of the record's gzip
member, ``MEMBER+N`` inside one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from thresher.document import Document, Reason
from thresher.io.base import HTML_TYPES, Damaged, Decoded, Limits, OnError, ReadError, RecordError, Shard
from thresher.io.http import media_type, parse_response

# URL (may hold spaces) IP DATE CONTENT-TYPE LENGTH; anchored on the right, where the fields are fixed.
# No control characters: a damaged line must not pass for a header by swallowing the next one.
_HEADER_LINE = re.compile(rb"^(\S[^\x00-\x1f]*) (\S+) (\d{14})\d* (\S*) (\d+)\r?\n?$")


def read(shard: Shard, options: dict[str, Any], on_error: OnError) -> Iterator[Document]:
    limits = Limits.from_options(options)
    damage: tuple[str, int] | None = None  # (offset, bytes) of a damaged stretch: reported once, when it ends

    def report_damage() -> None:
        nonlocal damage
        if damage is not None:
            on_error(ReadError(f"{shard.path}:{damage[0]}", f"not an ARC record: skipped {damage[1]} bytes to "
                                                            "the next record header"))
            damage = None

    with Decoded(shard.path, 0, limits.ratio) as stream:
        while True:
            here = stream.offset()
            try:
                line = stream.readline(limits.header_bytes)
                if not line:
                    break
                if not line.strip():
                    continue
                match = _HEADER_LINE.match(line)
                if not match:  # resynchronise on the next line that parses as a header
                    damage = (damage[0], damage[1] + len(line)) if damage else (here, len(line))
                    continue
                report_damage()
                url, date, length = match.group(1).decode("utf-8", "replace"), match.group(3), int(match.group(5))
                if length > limits.record_bytes:
                    skipped = stream.skip(length)
                    on_error(ReadError(f"{shard.path}:{here}", f"record of {length} bytes is over the "
                                       f"max_record_mb cap ({limits.record_bytes} bytes); skipped {skipped} bytes"))
                    continue
                block = stream.read(length)
            except Damaged as exc:
                report_damage()
                on_error(stream.recover(exc))
                continue
            except OSError as exc:
                on_error(ReadError(f"{shard.path}:{here}", f"reading stopped: {exc}"))
                return
            if len(block) < length:
                on_error(ReadError(f"{shard.path}:{here}", f"truncated record: {len(block)} of {length} bytes"))
                break
            if url.startswith("filedesc:"):
                continue  # the file's own description, not a document
            try:
                yield _to_document(shard, here, url, date.decode(), block, limits)
            except RecordError as exc:
                on_error(ReadError(f"{shard.path}:{here}", str(exc)))
        report_damage()


def _to_document(shard: Shard, pos: str, url: str, date: str, block: bytes, limits: Limits) -> Document:
    doc = Document(id=f"{shard.name}:{pos}", url=url, source=f"{shard.path}:{pos}", meta={"crawl_date": date})
    try:
        status, headers, body = parse_response(block, limits.record_bytes)
    except ValueError as exc:
        if isinstance(exc, RecordError):
            raise
        doc.reason = Reason("read", "bad_http_payload", str(exc)[:200])
        return doc
    ctype, charset = media_type(headers)
    doc.meta.update(http_status=status, content_type=ctype)
    if charset:
        doc.meta["charset"] = charset
    if status != 200:
        doc.reason = Reason("read", "http_status", status, 200)
    elif not ctype.startswith(HTML_TYPES):
        doc.reason = Reason("read", "not_html", ctype or "unknown")
    else:
        doc.raw = body
    return doc
