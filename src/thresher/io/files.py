"""Plain files: one ``.html`` page or one ``.txt`` text per file (optionally gzipped)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from thresher.document import Document
from thresher.io.jsonl import open_bytes, scrub
from thresher.io.shards import OnError, ReadError, Shard


def _read_all(shard: Shard, on_error: OnError) -> bytes | None:
    try:
        with open_bytes(shard.path) as fh:
            return fh.read()
    except (OSError, EOFError) as exc:
        on_error(ReadError(f"{shard.path}:0", f"unreadable file: {exc}"))
        return None


def read_html(shard: Shard, options: dict[str, Any], on_error: OnError) -> Iterator[Document]:
    data = _read_all(shard, on_error)
    if data is not None:
        yield Document(id=shard.name, source=f"{shard.path}:0", raw=data, meta={"content_type": "text/html"})


def read_text(shard: Shard, options: dict[str, Any], on_error: OnError) -> Iterator[Document]:
    data = _read_all(shard, on_error)
    if data is not None:
        yield Document(id=shard.name, source=f"{shard.path}:0", text=scrub(data.decode("utf-8", "replace")),
                       meta={"content_type": "text/plain"})
