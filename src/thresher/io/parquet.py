"""Parquet (the ``parquet`` extra): one document per row; columns named like JSONL fields."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from thresher.document import Document
from thresher.io.base import OnError, ReadError, RecordError, Shard
from thresher.io.fs import is_url, open_input
from thresher.io.jsonl import record_to_document


def read(shard: Shard, options: dict[str, Any], on_error: OnError) -> Iterator[Document]:
    """One document per row (offsets are row numbers). A bad row costs that row; a file pyarrow cannot read
    further costs the rest of the file, with an error saying from which row."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise RuntimeError("reading Parquet needs the parquet extra: pip install 'thresher[parquet]'") from None

    fields = (options.get("text_field", "text"), options.get("id_field", "id"), options.get("url_field", "url"))
    row, total = 0, None
    try:
        parquet = pq.ParquetFile(open_input(shard.path) if is_url(shard.path) else shard.path)
        total = parquet.metadata.num_rows
        for batch in parquet.iter_batches(batch_size=1024):
            for record in batch.to_pylist():
                try:
                    for key in ("meta", "signals"):  # written by thresher as JSON strings
                        if isinstance(record.get(key), str):
                            try:
                                record[key] = orjson.loads(record[key])
                            except orjson.JSONDecodeError as exc:
                                raise RecordError(f"column {key!r} is not valid JSON: {exc}") from None
                    yield record_to_document(record, shard, row, *fields)
                except RecordError as exc:
                    on_error(ReadError(f"{shard.path}:{row}", str(exc)))
                row += 1
    except Exception as exc:  # noqa: BLE001 - pyarrow raises many types (ArrowInvalid, OSError, ...) on bad files
        left = f"rows {row} to {total - 1} were not read" if total is not None else "the file was not read"
        on_error(ReadError(f"{shard.path}:{row}", f"unreadable Parquet: {type(exc).__name__}: {exc}; {left}"))
