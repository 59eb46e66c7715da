"""Inputs to shards, and a shard back to a stream of documents.

A shard is a byte range ``[start, end)`` of one input file that starts at a record boundary, so big
files are processed in parallel and a crash costs at most one shard. Files smaller than ``shard_bytes``
(and compressed JSONL, which cannot be entered mid-stream) are one shard each.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from thresher.document import Document
from thresher.io import arc, files, fs, jsonl, parquet, warc
from thresher.io.base import OnError, ReadError, Shard

__all__ = ["DEFAULT_SHARD_BYTES", "OnError", "ReadError", "Shard", "detect_format", "plan_shards", "read_shard"]

# file-name endings -> format family
_FORMATS = [
    ((".warc", ".warc.gz", ".warc.lz4", ".warc.zst"), "warc"),
    ((".wet", ".wet.gz", ".warc.wet.gz", ".wet.lz4"), "warc"),
    ((".arc", ".arc.gz"), "arc"),
    ((".jsonl", ".jsonl.gz", ".jsonl.zst", ".json", ".json.gz", ".json.zst", ".ndjson"), "jsonl"),
    ((".parquet",), "parquet"),
    ((".html", ".htm", ".html.gz", ".htm.gz"), "html"),
    ((".txt", ".txt.gz"), "text"),
]

DEFAULT_SHARD_BYTES = 128 * 1024 * 1024


def detect_format(path: str) -> str | None:
    lower = path.lower()
    for endings, fmt in _FORMATS:
        if lower.endswith(endings):
            return fmt
    return None


def _expand(inputs: list[str], skipped: list[str]) -> list[tuple[str, str]]:
    """(path, name) for every input file, sorted within each argument so plans are reproducible. Files of
    an unknown format found in a folder are appended to ``skipped``."""
    found: list[tuple[str, str]] = []

    def known(path: str) -> bool:
        if detect_format(path) is not None:
            return True
        skipped.append(path)
        return False

    for arg in inputs:
        if fs.is_url(arg):  # s3://, gs://, file://, ... through fsspec
            found += fs.expand(arg, keep=known)
        elif os.path.isdir(arg):
            root = Path(arg)
            files = sorted(p for p in root.rglob("*") if p.is_file() and known(str(p)))
            found += [(str(p), str(p.relative_to(root))) for p in files]
        elif any(ch in arg for ch in "*?["):
            matches = sorted(glob.glob(arg, recursive=True))
            found += [(m, os.path.basename(m)) for m in matches if os.path.isfile(m)]
        elif os.path.isfile(arg):
            found.append((arg, os.path.basename(arg)))
        else:
            raise FileNotFoundError(f"input not found: {arg}")
    return found


def plan_shards(inputs: list[str], shard_bytes: int = DEFAULT_SHARD_BYTES, fmt: str | None = None,
                skipped: list[str] | None = None) -> list[Shard]:
    """Split inputs into shards at record boundaries. Raises on an input file of unknown format; files of
    unknown format inside an input folder are left out, and listed in ``skipped`` when it is given."""
    shards: list[Shard] = []
    for path, name in _expand(inputs, skipped if skipped is not None else []):
        file_fmt = fmt or detect_format(path)
        if file_fmt is None:
            raise ValueError(f"{path}: unknown input format (name it .warc[.gz], .arc, .jsonl[.gz|.zst], "
                             ".parquet, .html or .txt, or pass --format)")
        size = fs.size(path)
        bounds: list[int] = []
        if size > shard_bytes:
            if file_fmt == "warc":
                bounds = warc.record_boundaries(path, shard_bytes)
            elif file_fmt == "jsonl" and not path.endswith((".gz", ".zst")):
                bounds = jsonl.line_boundaries(path, shard_bytes)
        cuts = [0, *bounds, None]
        for start, end in zip(cuts, cuts[1:]):
            shards.append(Shard(id="", path=path, name=name, format=file_fmt, start=start, end=end))
    return [Shard(**{**s.to_dict(), "id": f"{i:05d}"}) for i, s in enumerate(shards)]


def read_shard(shard: Shard, options: dict[str, Any], on_error: OnError) -> Iterator[Document]:
    """Stream a shard's documents. Unreadable records go to ``on_error``; reading carries on after them."""
    return _READERS[shard.format](shard, options, on_error)


_READERS = {"warc": warc.read, "arc": arc.read, "jsonl": jsonl.read, "parquet": parquet.read,
            "html": files.read_html, "text": files.read_text}
