"""Writers: the run's output files (``kept/``, ``rejected/``) and the files between phases (``work/``).

A file is written under a temporary name unique to the process (``thresher.atomic.tmp_path``) and renamed
when closed, so a crash never leaves a half-written file under its final name.

``OutputWriter`` writes one task's output in the run's schema (``thresher.schema``): every record has the
same columns and keys. It opens a file at the first document, never leaves an empty one, and starts a new
file once a file holds ``max_bytes`` of text: ``PREFIX-000.EXT``, ``PREFIX-001.EXT``, ...
``PartitionedWriter`` (writer option ``partition_by: language``) does the same in one folder per language.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import orjson
import zstandard

from thresher.atomic import tmp_path
from thresher.document import Document
from thresher.schema import Schema

EXTENSIONS = {"jsonl.zst": ".jsonl.zst", "jsonl": ".jsonl", "parquet": ".parquet"}
DEFAULT_MAX_FILE_BYTES = 512 << 20   # of text, uncompressed: a few hundred MB per file, as HF datasets ship


class _JsonlFile:
    def __init__(self, path: Path, compress: bool = True, level: int = 3):
        self.path = path
        self.tmp = tmp_path(path)
        self._raw = open(self.tmp, "wb")
        self._out = zstandard.ZstdCompressor(level=level).stream_writer(self._raw) if compress else self._raw

    def write(self, record: dict[str, Any]) -> None:
        self._out.write(orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE))

    def close(self) -> None:
        self._out.close() if self._out is not self._raw else None
        self._raw.close()
        os.replace(self.tmp, self.path)


class _ParquetFile:
    def __init__(self, path: Path, schema: Any, batch_rows: int = 2048):
        import pyarrow.parquet as pq

        self.path = path
        self.tmp = tmp_path(path)
        self.schema = schema
        self.batch_rows = batch_rows
        self._rows: list[dict[str, Any]] = []
        self._writer = pq.ParquetWriter(self.tmp, schema, compression="zstd")

    def write(self, record: dict[str, Any]) -> None:
        self._rows.append(record)
        if len(self._rows) >= self.batch_rows:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa

        if self._rows:
            self._writer.write_table(pa.Table.from_pylist(self._rows, schema=self.schema))
            self._rows = []

    def close(self) -> None:
        self._flush()
        self._writer.close()
        os.replace(self.tmp, self.path)


def check_format(fmt: str) -> None:
    """Raises (ValueError, ImportError) unless ``fmt`` can be written here: before a run, not in its tasks."""
    if fmt not in EXTENSIONS:
        raise ValueError(f"unknown output format {fmt!r}; choose from {sorted(EXTENSIONS)}")
    if fmt == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise ImportError("Parquet output needs the parquet extra: pip install 'thresher[parquet]'") from None


class OutputWriter:
    """One task's documents in ``folder`` as ``PREFIX-NNN.EXT`` files in the run's schema, rolled at
    ``max_bytes`` of text. Files this task wrote in an earlier, interrupted attempt are removed first."""

    def __init__(self, folder: Path, prefix: str, fmt: str, schema: Schema,
                 max_bytes: int = DEFAULT_MAX_FILE_BYTES):
        check_format(fmt)
        self.folder, self.prefix, self.fmt, self.schema = Path(folder), prefix, fmt, schema
        self.max_bytes = max(1, max_bytes)
        self.count = 0
        self.paths: list[Path] = []
        self._file: _JsonlFile | _ParquetFile | None = None
        self._bytes = 0
        self._arrow = schema.arrow() if fmt == "parquet" else None
        for stale in self.folder.glob(f"{prefix}-*{EXTENSIONS[fmt]}"):
            stale.unlink()

    def write(self, doc: Document) -> None:
        if self._file is None or self._bytes >= self.max_bytes:
            self._roll()
        self._file.write(self.schema.row(doc))
        self._bytes += len(doc.text)
        self.count += 1

    def _roll(self) -> None:
        if self._file is not None:
            self._file.close()
        path = self.folder / f"{self.prefix}-{len(self.paths):03d}{EXTENSIONS[self.fmt]}"
        self._file = (_ParquetFile(path, self._arrow) if self.fmt == "parquet"
                      else _JsonlFile(path, compress=self.fmt == "jsonl.zst"))
        self.paths.append(path)
        self._bytes = 0

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


# writer option partition_by -> the document field whose value names the partition folder
PARTITION_KEYS = {"language": "lang"}
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def partition_name(doc: Document, by: str) -> str:
    """``lang=cmn_Hani``: the folder of ``doc``'s partition (``und`` for a document without the field)."""
    value = _UNSAFE.sub("_", str(doc.meta.get(by) or "und")).lstrip(".") or "und"
    return f"{PARTITION_KEYS[by]}={value}"


class PartitionedWriter:
    """One ``OutputWriter`` per partition, ``folder/lang=CODE/PREFIX-NNN.EXT`` (Hive-style folders, so a
    user can take one language, and pyarrow/DuckDB/datasets read the folder name as a column)."""

    def __init__(self, folder: Path, prefix: str, fmt: str, schema: Schema, max_bytes: int = DEFAULT_MAX_FILE_BYTES,
                 by: str = "language"):
        if by not in PARTITION_KEYS:
            raise ValueError(f"partition_by must be one of {sorted(PARTITION_KEYS)}, got {by!r}")
        self.folder, self.prefix, self.fmt, self.schema, self.max_bytes, self.by = \
            Path(folder), prefix, fmt, schema, max_bytes, by
        self._writers: dict[str, OutputWriter] = {}
        for stale in self.folder.glob(f"{PARTITION_KEYS[by]}=*/{prefix}-*{EXTENSIONS[fmt]}"):
            stale.unlink()

    @property
    def count(self) -> int:
        return sum(w.count for w in self._writers.values())

    @property
    def paths(self) -> list[Path]:
        return [p for w in self._writers.values() for p in w.paths]

    def write(self, doc: Document) -> None:
        name = partition_name(doc, self.by)
        writer = self._writers.get(name)
        if writer is None:
            (self.folder / name).mkdir(parents=True, exist_ok=True)
            writer = self._writers[name] = OutputWriter(self.folder / name, self.prefix, self.fmt, self.schema,
                                                        self.max_bytes)
        writer.write(doc)

    def close(self) -> None:
        for writer in self._writers.values():
            writer.close()


class JsonlWriter:
    """Documents as they are (no schema), for the files between phases; always creates its file."""

    def __init__(self, path: Path, compress: bool = True):
        self._file = _JsonlFile(path, compress)
        self.count = 0

    def write(self, doc: Document) -> None:
        self._file.write(doc.to_dict())
        self.count += 1

    def close(self) -> None:
        self._file.close()


def open_writer(path_without_ext: Path, fmt: str = "jsonl.zst", schema: Schema | None = None,
                max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> OutputWriter:
    """An ``OutputWriter`` for ``PATH-NNN.EXT`` files (no declared keys unless ``schema`` is given)."""
    path = Path(path_without_ext)
    return OutputWriter(path.parent, path.name, fmt, schema or Schema.of([]), max_bytes)
