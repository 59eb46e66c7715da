"""Plain files: one ``.html`` page or one ``.txt`` text per file (optionally gzipped or zstd-compressed)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from thresher.document import Document
from thresher.io.base import Damaged, Decoded, Limits, OnError, ReadError, Shard, scrub


def _read_all(shard: Shard, options: dict[str, Any], on_error: OnError) -> bytes | None:
    """The file's bytes, or None (with an error) if it is unreadable or over the max_record_mb cap."""
    limits = Limits.from_options(options)
    with Decoded(shard.path, 0, limits.ratio) as stream:
        try:
            data = stream.read(limits.record_bytes + 1)
            if len(data) <= limits.record_bytes:
                return data
            size = len(data) + stream.skip(1 << 62)
            on_error(ReadError(f"{shard.path}:0", f"file of {size} bytes is over the max_record_mb cap "
                                                  f"({limits.record_bytes} bytes); skipped"))
        except Damaged as exc:
            on_error(ReadError(f"{shard.path}:0", f"{exc}; the file ({stream.size} bytes) was skipped"))
        except OSError as exc:
            on_error(ReadError(f"{shard.path}:0", f"unreadable file: {exc}"))
    return None


def read_html(shard: Shard, options: dict[str, Any], on_error: OnError) -> Iterator[Document]:
    data = _read_all(shard, options, on_error)
    if data is not None:
        yield Document(id=shard.name, source=f"{shard.path}:0", raw=data, meta={"content_type": "text/html"})


def read_text(shard: Shard, options: dict[str, Any], on_error: OnError) -> Iterator[Document]:
    data = _read_all(shard, options, on_error)
    if data is not None:
        yield Document(id=shard.name, source=f"{shard.path}:0", text=scrub(data.decode("utf-8", "replace")),
                       meta={"content_type": "text/plain"})
