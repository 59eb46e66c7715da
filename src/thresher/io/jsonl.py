"""JSONL (plain, .gz, .zst): one document per line. Field names are options (``text_field``,
``id_field``, ``url_field``); every other field is kept in ``meta``. Thresher's own output (with ``meta``
and ``signals``) reads back as it was written, so a run's output can feed another run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import orjson

from thresher.document import Document, Reason
from thresher.io.base import (
    Damaged,
    Decoded,
    Limits,
    OnError,
    ReadError,
    RecordError,
    Shard,
    open_bytes,
    scrub,
)
from thresher.io.fs import open_input
from thresher.io.fs import size as file_size
from thresher.schema import unpack_struct

__all__ = ["line_boundaries", "open_bytes", "read", "record_to_document", "scrub"]


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


def _parse(line: bytes) -> dict[str, Any]:
    """The line's JSON object, its strings valid UTF-8. RecordError if it is not one."""
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        if "surrogate" not in str(exc) and "UTF-8" not in str(exc):
            raise RecordError(f"invalid JSON line: {exc}") from None
        # invalid UTF-8 bytes or lone surrogate escapes: the standard library reads them, then they are
        # replaced in every string, keys included, so that the document can be written
        try:
            record = _scrub_all(json.loads(line.decode("utf-8", "replace")))
        except (ValueError, RecursionError) as exc2:
            raise RecordError(f"invalid JSON line: {type(exc2).__name__}: {str(exc2)[:200]}") from None
    if not isinstance(record, dict):
        raise RecordError(f"invalid JSON line: expected a JSON object, got {type(record).__name__}")
    return record


def _scrub_all(value: Any) -> Any:
    """``value`` with lone surrogates replaced in every string, however deeply nested (no recursion)."""
    root = [value]
    stack: list[tuple[Any, Any]] = [(root, 0)]
    while stack:
        container, key = stack.pop()
        item = container[key]
        if isinstance(item, str):
            container[key] = scrub(item)
        elif isinstance(item, list):
            stack += [(item, i) for i in range(len(item))]
        elif isinstance(item, dict):
            clean = {scrub(k) if isinstance(k, str) else k: v for k, v in item.items()}
            container[key] = clean
            stack += [(clean, k) for k in clean]
    return root[0]


def read(shard: Shard, options: dict[str, Any], on_error: OnError) -> Iterator[Document]:
    """One document per line. A bad line (JSON, encoding, shape, size) costs that line only."""
    limits = Limits.from_options(options)
    text_field = options.get("text_field", "text")
    id_field = options.get("id_field", "id")
    url_field = options.get("url_field", "url")
    with Decoded(shard.path, shard.start, limits.ratio) as stream:
        while True:
            here = stream.offset()
            if shard.end is not None and stream.at >= shard.end:
                return
            try:
                line = stream.readline(limits.line_bytes + 1)
                if len(line) > limits.line_bytes and not line.endswith(b"\n"):
                    size = len(line) + stream.skip_line()
                    on_error(ReadError(f"{shard.path}:{here}", f"line of {size} bytes is over the max_line_mb cap "
                                                               f"({limits.line_bytes} bytes); skipped"))
                    continue
            except Damaged as exc:
                on_error(stream.recover(exc))
                continue
            except OSError as exc:
                on_error(ReadError(f"{shard.path}:{here}", f"reading stopped: {exc}"))
                return
            if not line:
                return
            if not line.strip():
                continue
            try:
                yield record_to_document(_parse(line), shard, here, text_field, id_field, url_field)
            except RecordError as exc:
                on_error(ReadError(f"{shard.path}:{here}", str(exc)))


def _struct(record: dict, name: str) -> dict:
    """``record[name]`` (``meta`` or ``signals``) unpacked; RecordError if it is not an object."""
    value = record.pop(name, None)
    if value is not None and not isinstance(value, dict):
        raise RecordError(f"field {name!r} is a {type(value).__name__}, not an object")
    try:
        return unpack_struct(value)
    except (ValueError, TypeError) as exc:  # its "undeclared" part is not a JSON object
        raise RecordError(f"field {name!r}: {exc}") from None


def record_to_document(record: dict, shard: Shard, pos: int | str, text_field: str, id_field: str, url_field: str) -> Document:
    source = f"{shard.path}:{pos}"
    if "meta" in record and "signals" in record:  # thresher's own output: keep where it first came from
        kept_source = record.pop("source", None)
        source = kept_source if isinstance(kept_source, str) and kept_source else source
    doc_id = record.pop(id_field, None)
    doc_id = str(doc_id) if doc_id not in (None, "") else f"{shard.name}:{pos}"
    text = record.pop(text_field, None)
    url = record.pop(url_field, None)
    # thresher's output holds every declared key (absent ones null) and the undeclared ones as JSON text
    meta, signals = _struct(record, "meta"), _struct(record, "signals")
    record.pop("reason", None)
    meta.update(record)
    try:  # what cannot be written back (nesting past orjson's 254 levels, huge integers) fails here, alone
        orjson.dumps(meta)
        orjson.dumps(signals)
    except orjson.JSONEncodeError as exc:
        raise RecordError(f"fields that cannot be written: {exc}") from None
    doc = Document(id=doc_id, url=url if isinstance(url, str) else None, source=source, meta=meta,
                   signals=signals)
    if not isinstance(text, str):
        doc.reason = Reason("read", "no_text", text_field)
    else:
        doc.text = scrub(text)
    return doc
