"""Pieces the global dedup steps share: atomic on-disk shard indexes, ids by position, union-find on arrays.

Every phase of a global step may run in a different process (or machine), so all state between phases
is files under the step's ``workdir``; nothing here keeps module-level state between phases.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np


@contextmanager
def atomic_dir(final: Path) -> Iterator[Path]:
    """Build a directory under a temporary name and rename it into place only if the block succeeds.

    A re-run replaces an earlier complete directory: the shard is being redone, so its old index is stale.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)


class IdWriter:
    """Appends document ids to ``ids.bin`` with their end offsets in memory (8 bytes per document)."""

    def __init__(self, directory: Path):
        self._fh = open(directory / "ids.bin", "wb")
        self._ends: list[int] = []
        self._pos = 0

    def add(self, doc_id: str) -> None:
        raw = doc_id.encode("utf-8", errors="surrogatepass")
        self._fh.write(raw)
        self._pos += len(raw)
        self._ends.append(self._pos)

    def close(self, directory: Path) -> int:
        self._fh.close()
        off = np.zeros(len(self._ends) + 1, dtype=np.int64)
        off[1:] = self._ends
        np.save(directory / "ids_off.npy", off)
        return len(self._ends)


class IdReader:
    """Random access to the ids a shard index holds, by position, without loading them all."""

    def __init__(self, directory: Path):
        self._off = np.load(directory / "ids_off.npy", mmap_mode="r")
        size = int(self._off[-1])
        self._blob = np.memmap(directory / "ids.bin", dtype=np.uint8, mode="r") if size else np.zeros(0, np.uint8)

    def __len__(self) -> int:
        return len(self._off) - 1

    def get(self, pos: int) -> str:
        return bytes(self._blob[int(self._off[pos]):int(self._off[pos + 1])]).decode("utf-8", errors="surrogatepass")

    def all(self) -> list[str]:
        blob = bytes(self._blob[:]) if len(self._blob) else b""
        off = np.asarray(self._off)
        return [blob[off[i]:off[i + 1]].decode("utf-8", errors="surrogatepass") for i in range(len(off) - 1)]


def connected_roots(u: np.ndarray, v: np.ndarray, n: int) -> np.ndarray:
    """Union-find over nodes ``0..n-1`` given edges ``(u, v)``, vectorised: returns each node's root,
    which is the smallest node index in its component (so callers number nodes best-first).

    Hook-and-compress: every round hooks the larger root of each edge under the smaller one, then
    jumps pointers until every node points at a root. Rounds are few (logarithmic in practice).
    """
    parent = np.arange(n, dtype=np.int64)
    if len(u) == 0:
        return parent
    u = np.asarray(u, dtype=np.int64)
    v = np.asarray(v, dtype=np.int64)
    while True:
        pu, pv = parent[u], parent[v]
        differ = pu != pv
        if not differ.any():
            return parent
        lo = np.minimum(pu[differ], pv[differ])
        hi = np.maximum(pu[differ], pv[differ])
        np.minimum.at(parent, hi, lo)
        while True:
            nxt = parent[parent]
            if np.array_equal(nxt, parent):
                break
            parent = nxt
        # shrink the edge list to those still joining two different roots
        u, v = u[differ], v[differ]


def star_edges(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reduce an edge list over arbitrary (large, sparse) node ids to (node, component root) pairs with
    the same connectivity: one pair per node of a non-trivial component, root = smallest id."""
    if len(u) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    nodes, inv = np.unique(np.concatenate([u, v]), return_inverse=True)
    roots = connected_roots(inv[: len(u)], inv[len(u):], len(nodes))
    keep = roots != np.arange(len(nodes))
    return nodes[keep], nodes[roots[keep]]
