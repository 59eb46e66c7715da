"""Input paths or fsspec URLs, behind one set of functions the readers and the planner call.

A plain path is opened with ``open()``: local runs need nothing more. A path with a scheme (``s3://``,
``gs://``, ``az://``, ``https://``, ``hf://``, ``memory://``, ``file://``) goes through fsspec, which
comes with the ``remote`` extra (and ``ray``); remote schemes also need their own package (``s3fs`` for
``s3://``, ``gcsfs`` for ``gs://``, ``huggingface_hub`` for ``hf://``, ``adlfs`` for ``az://``): the
``s3``, ``gcs`` and ``hf`` extras bring both.

Inputs only: the run directory must be a local or shared (NFS, Lustre) path, since resuming relies on
files renamed into place atomically, which object stores do not offer. ``file://`` is accepted there.
"""

from __future__ import annotations

import gzip
import os
import re
from collections.abc import Callable
from typing import IO, Any

# A scheme of two or more letters, so that a Windows drive ("C:\\") is never taken for one.
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]+://")
_GLOB = re.compile(r"[*?\[]")


def is_url(path: str) -> bool:
    return bool(_URL.match(path))


def _filesystem(url: str) -> tuple[Any, str]:
    try:
        from fsspec.core import url_to_fs
    except ImportError:
        raise ImportError(f"{url}: URLs need fsspec: pip install 'thresher[remote]' (or thresher[s3], "
                          "thresher[gcs], thresher[hf] for the scheme's package too)") from None
    return url_to_fs(url)


def open_input(path: str) -> IO[bytes]:
    """A binary, seekable file for reading (remote files are read in blocks, on demand)."""
    if not is_url(path):
        return open(path, "rb")
    fs, inner = _filesystem(path)
    return fs.open(inner, "rb")


class _GzipOwningFile(gzip.GzipFile):
    """A GzipFile over a file object it also closes (GzipFile leaves a passed-in file object open)."""

    def __init__(self, raw: IO[bytes]):
        super().__init__(fileobj=raw, mode="rb")
        self._raw = raw

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._raw.close()


def open_gzip(path: str) -> IO[bytes]:
    """A gzip file, decompressed, for reading."""
    return gzip.open(path, "rb") if not is_url(path) else _GzipOwningFile(open_input(path))


def size(path: str) -> int:
    if not is_url(path):
        return os.path.getsize(path)
    fs, inner = _filesystem(path)
    return int(fs.size(inner))


def expand(url: str, keep: Callable[[str], bool]) -> list[tuple[str, str]]:
    """(URL, name) for each file a URL names: a file, a glob, or a folder (walked, keeping the files for
    which ``keep(path)`` is true), sorted so plans are reproducible. Names are relative to the argument,
    as for local inputs."""
    fs, inner = _filesystem(url)
    if _GLOB.search(inner):
        found = [(p, p.rsplit("/", 1)[-1]) for p in sorted(fs.glob(inner)) if fs.isfile(p)]
    elif fs.isdir(inner):
        root = inner.rstrip("/") + "/"
        found = [(p, p[len(root):]) for p in sorted(fs.find(inner)) if keep(p)]
    elif fs.isfile(inner):
        found = [(inner, inner.rsplit("/", 1)[-1])]
    else:
        raise FileNotFoundError(f"input not found: {url}")
    return [(fs.unstrip_protocol(p), name) for p, name in found]


def local_dir(path: str) -> str:
    """The run directory as a local path: ``file://`` URLs are unwrapped, other schemes refused."""
    if not is_url(path):
        return path
    if path.startswith("file://"):
        return path[len("file://"):]
    raise ValueError(f"{path}: the run directory must be a local or shared-filesystem path (resuming relies "
                     "on atomic renames, which object stores lack); run into a shared disk and copy kept/ "
                     "to the bucket afterwards")
