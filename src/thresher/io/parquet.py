"""Parquet (the ``parquet`` extra): one document per row; columns named like JSONL fields."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from thresher.document import Document
from thresher.io.fs import is_url, open_input
from thresher.io.jsonl import record_to_document
from thresher.io.shards import OnError, ReadError, Shard


def read(shard: Shard, options: dict[str, Any], on_error: OnError) -> Iterator[Document]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise RuntimeError("reading Parquet needs the parquet extra: pip install 'thresher[parquet]'") from None
    import orjson

    row = 0
    try:
        parquet = pq.ParquetFile(open_input(shard.path) if is_url(shard.path) else shard.path)
        for batch in parquet.iter_batches(batch_size=1024):
            for record in batch.to_pylist():
                for key in ("meta", "signals"):  # written by thresher as JSON strings
                    if isinstance(record.get(key), str):
                        record[key] = orjson.loads(record[key])
                yield record_to_document(record, shard, row, options.get("text_field", "text"),
                                   options.get("id_field", "id"), options.get("url_field", "url"))
                row += 1
    except (OSError, ValueError) as exc:
        on_error(ReadError(f"{shard.path}:{row}", f"unreadable Parquet: {exc}"))
