"""JSONL (plain, .gz, .zst): one document per line. Field names are options (``text_field``,
``id_field``, ``url_field``); every other field is kept in ``meta``. Thresher's own output (with ``meta``
and ``signals``) reads back as it was written, so a run's output can feed another run."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import IO, Any

import orjson
import zstandard

from thresher.document import Document, Reason
from thresher.io.fs import open_gzip, open_input
from thresher.io.fs import size as file_size
from thresher.io.shards import OnError, ReadError, Shard
from thresher.schema import unpack_struct


def line_boundaries(path: str, shard_bytes: int) -> list[int]:
    """Offsets just after a newline, about ``shard_bytes`` apart (plain files only)."""
    size, bounds = file_size(path), []
    with open_input(path) as fh:
        target = shard_bytes
        while target < size:
            fh.seek(target)
            fh.readline()
            pos = fh.tell()
            if pos >= size:
                break
            if not bounds or pos > bounds[-1]:
                bounds.append(pos)
            target = pos + shard_bytes
    return bounds


def open_bytes(path: str) -> IO[bytes]:
    """Open a possibly compressed file for reading bytes (gzip and zstd by extension)."""
    if path.endswith(".gz"):
        return open_gzip(path)
    if path.endswith(".zst"):
        reader = zstandard.ZstdDecompressor().stream_reader(open_input(path), read_across_frames=True,
                                                            closefd=True)
        return io.BufferedReader(reader, buffer_size=1 << 20)  # adds readline / line iteration
    return open_input(path)


def scrub(text: str) -> str:
    """Replace lone surrogates (valid in JSON escapes, invalid in UTF-8) so the text can be written."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")


def _parse(line: bytes) -> Any:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        # orjson rejects invalid UTF-8 and lone surrogates; the standard library with replacement does not.
        return json.loads(line.decode("utf-8", "replace"))


def read(shard: Shard, options: dict[str, Any], on_error: OnError) -> Iterator[Document]:
    text_field = options.get("text_field", "text")
    id_field = options.get("id_field", "id")
    url_field = options.get("url_field", "url")
    pos = shard.start
    with open_bytes(shard.path) as fh:
        if shard.start:
            fh.seek(shard.start)
        try:
            for line in fh:
                here, pos = pos, pos + len(line)
                if shard.end is not None and here >= shard.end:
                    return
                if not line.strip():
                    continue
                try:
                    record = _parse(line)
                    if not isinstance(record, dict):
                        raise ValueError(f"expected a JSON object, got {type(record).__name__}")
                except ValueError as exc:
                    on_error(ReadError(f"{shard.path}:{here}", f"invalid JSON line: {exc}"))
                    continue
                yield record_to_document(record, shard, here, text_field, id_field, url_field)
        except (OSError, EOFError, zstandard.ZstdError) as exc:
            on_error(ReadError(f"{shard.path}:{pos}", f"cannot decompress further: {exc}"))


def record_to_document(record: dict, shard: Shard, pos: int, text_field: str, id_field: str, url_field: str) -> Document:
    source = f"{shard.path}:{pos}"
    if "meta" in record and "signals" in record:  # thresher's own output: keep where it first came from
        source = record.pop("source", None) or source
    doc_id = record.pop(id_field, None)
    doc_id = str(doc_id) if doc_id not in (None, "") else f"{shard.name}:{pos}"
    text = record.pop(text_field, None)
    url = record.pop(url_field, None)
    # thresher's output holds every declared key (absent ones null) and the undeclared ones as JSON text
    meta = unpack_struct(record.pop("meta", None))
    signals = unpack_struct(record.pop("signals", None))
    record.pop("reason", None)
    meta.update(record)
    doc = Document(id=doc_id, url=url if isinstance(url, str) else None, source=source, meta=meta,
                   signals=signals)
    if not isinstance(text, str):
        doc.reason = Reason("read", "no_text", text_field)
    else:
        doc.text = scrub(text)
    return doc
