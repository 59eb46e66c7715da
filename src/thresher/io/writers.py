"""Shard writers: JSONL.zst (default) and Parquet. A file is written under a temporary name unique to the
process (``thresher.atomic.tmp_path``) and renamed when closed, so a crash never leaves a half-written shard
under its final name."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson
import zstandard

from thresher.atomic import tmp_path
from thresher.document import Document

EXTENSIONS = {"jsonl.zst": ".jsonl.zst", "jsonl": ".jsonl", "parquet": ".parquet"}


class JsonlWriter:
    def __init__(self, path: Path, compress: bool = True, level: int = 3):
        self.path = path
        self.tmp = tmp_path(path)
        self._raw = open(self.tmp, "wb")
        self._out = zstandard.ZstdCompressor(level=level).stream_writer(self._raw) if compress else self._raw
        self.count = 0

    def write(self, doc: Document) -> None:
        self._out.write(orjson.dumps(doc.to_dict(), option=orjson.OPT_APPEND_NEWLINE))
        self.count += 1

    def close(self) -> None:
        self._out.close() if self._out is not self._raw else None
        self._raw.close()
        os.replace(self.tmp, self.path)


class ParquetWriter:
    """Rows of id, text, url, source, and meta/signals/reason as JSON strings (their keys vary by step)."""

    def __init__(self, path: Path, batch_rows: int = 2048):
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise RuntimeError("Parquet output needs the parquet extra: pip install 'thresher[parquet]'") from None
        self.path = path
        self.tmp = tmp_path(path)
        self.batch_rows = batch_rows
        self._rows: list[dict[str, Any]] = []
        self._writer = None
        self.count = 0

    def write(self, doc: Document) -> None:
        row = doc.to_dict()
        for key in ("meta", "signals", "reason"):
            row[key] = orjson.dumps(row[key]).decode() if row.get(key) is not None else None
        self._rows.append(row)
        self.count += 1
        if len(self._rows) >= self.batch_rows:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        schema = pa.schema([(name, pa.string()) for name in
                            ("id", "text", "url", "source", "meta", "signals", "reason")])
        table = pa.Table.from_pylist(self._rows, schema=schema)
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.tmp, schema, compression="zstd")
        self._writer.write_table(table)
        self._rows = []

    def close(self) -> None:
        if self._rows or self._writer is None:
            self._flush()
        self._writer.close()
        os.replace(self.tmp, self.path)


def open_writer(path_without_ext: Path, fmt: str = "jsonl.zst"):
    if fmt not in EXTENSIONS:
        raise ValueError(f"unknown output format {fmt!r}; choose from {sorted(EXTENSIONS)}")
    path = path_without_ext.with_name(path_without_ext.name + EXTENSIONS[fmt])
    if fmt == "parquet":
        return ParquetWriter(path)
    return JsonlWriter(path, compress=fmt == "jsonl.zst")
