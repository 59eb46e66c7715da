"""ARC (the pre-WARC Internet Archive format, Common Crawl 2008-2012), plain or gzipped.

fastwarc reads only WARC, and ARC is simple: a header line ``URL IP DATE CONTENT-TYPE LENGTH``, then
LENGTH bytes (the HTTP response), then a newline. Offsets are in the decompressed stream.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from typing import Any

from thresher.document import Document, Reason
from thresher.io.http import media_type, parse_response
from thresher.io.jsonl import open_bytes
from thresher.io.shards import OnError, ReadError, Shard
from thresher.io.warc import HTML_TYPES

# URL (may hold spaces) IP DATE CONTENT-TYPE LENGTH; anchored on the right, where the fields are fixed.
_HEADER_LINE = re.compile(rb"^(\S.*) (\S+) (\d{14})\d* (\S*) (-?\d+)\r?\n?$")


def read(shard: Shard, options: dict[str, Any], on_error: OnError) -> Iterator[Document]:
    pos = 0
    in_damage = False  # report a damaged stretch once, not once per line
    with open_bytes(shard.path) as fh:
        try:
            while True:
                line = fh.readline()
                if not line:
                    return
                here = pos
                pos += len(line)
                if not line.strip():
                    continue
                match = _HEADER_LINE.match(line)
                if not match or int(match.group(5)) < 0:
                    if not in_damage:
                        on_error(ReadError(f"{shard.path}:{here}", f"bad ARC header line {line[:200]!r}"))
                    in_damage = True
                    continue  # resynchronise on the next line that parses as a header
                in_damage = False
                url, date, length = match.group(1).decode("utf-8", "replace"), match.group(3), int(match.group(5))
                block = fh.read(length)
                pos += len(block)
                if url.startswith("filedesc:"):
                    continue  # the file's own description, not a document
                yield _to_document(shard, here, url, date.decode(), block, on_error)
        except (OSError, EOFError, zlib.error) as exc:
            on_error(ReadError(f"{shard.path}:{pos}", f"cannot decompress further: {exc}"))


def _to_document(shard: Shard, pos: int, url: str, date: str, block: bytes, on_error: OnError) -> Document:
    doc = Document(id=f"{shard.name}:{pos}", url=url, source=f"{shard.path}:{pos}", meta={"crawl_date": date})
    try:
        status, headers, body = parse_response(block)
    except (ValueError, zlib.error) as exc:
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
