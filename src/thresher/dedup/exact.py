"""``exact_dedup``: drop documents whose normalised text (case-folded, whitespace collapsed) was seen
before. The kept copy is the first in input order (smallest shard, then position), whichever worker ran
which shard, so every engine produces the same output.

Phases (see ``thresher.steps.GlobalStep``): index writes, per shard and hash partition, the 128-bit hash
and position of every document; resolve sorts one partition and names, for each duplicate, the kept
document; load + filter drop the duplicates of one shard. Memory: 24 bytes per document in the partition
being resolved, plus the ids of the duplicates.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import orjson
import xxhash

from thresher.atomic import save_array
from thresher.document import Document, MetaKey, Reason
from thresher.steps import GlobalStep

_SPACE = re.compile(r"\s+")
_RECORD = np.dtype([("hi", "<u8"), ("lo", "<u8"), ("shard", "<u4"), ("pos", "<u4")])


def normalised_hash(text: str) -> tuple[int, int]:
    digest = xxhash.xxh3_128_intdigest(_SPACE.sub(" ", text.casefold()).strip().encode("utf-8", "replace"))
    return digest >> 64, digest & 0xFFFFFFFFFFFFFFFF


class ExactDedup(GlobalStep):
    name = "exact_dedup"

    def __init__(self, n_partitions: int = 4, against: str | list[str] | None = None, per_language: bool = False):
        self.n_partitions = n_partitions
        # per_language: a copy is a duplicate only within its language (meta.language), as FineWeb-2 dedups
        self.per_language = per_language
        # earlier run directories: their documents are always kept, new copies of them are dropped
        self.against = [against] if isinstance(against, str) else list(against or [])
        self._buffers: dict[str, list[tuple[int, int]]] = {}
        self._ids: dict[str, list[str]] = {}
        self._decisions: dict[int, str] = {}
        self._position = 0

    # -- index ------------------------------------------------------------------------------------------
    def index(self, doc: Document, shard: str) -> None:
        text = f"{doc.meta.get(MetaKey.LANGUAGE)}\n{doc.text}" if self.per_language else doc.text
        self._buffers.setdefault(shard, []).append(normalised_hash(text))
        self._ids.setdefault(shard, []).append(doc.id)

    def finish_index(self, shard: str) -> None:
        hashes = self._buffers.pop(shard, [])
        ids = self._ids.pop(shard, [])
        records = np.zeros(len(hashes), dtype=_RECORD)
        if hashes:
            arr = np.array(hashes, dtype=np.uint64)
            records["hi"], records["lo"] = arr[:, 0], arr[:, 1]
        records["shard"] = int(shard)
        records["pos"] = np.arange(len(hashes), dtype=np.uint32)
        part = records["hi"] % self.n_partitions
        folder = self._dir("index")
        for p in range(self.n_partitions):
            save_array(folder / f"{shard}-p{p}.npy", records[part == p])
        (folder / f"{shard}.ids.tmp").write_bytes(orjson.dumps(ids))
        (folder / f"{shard}.ids.tmp").replace(folder / f"{shard}.ids")

    # -- resolve ----------------------------------------------------------------------------------------
    def resolve(self, partition: int, n_partitions: int, shards: list[str]) -> None:
        index = self._dir("index")
        # tier: earlier runs (``against``) 0..k-1, this run k; an earlier copy sorts first, so it is kept
        folders = [_earlier_index(run, self.name, n_partitions) for run in self.against] + [index]
        parts, tiers = [], []
        for tier, folder in enumerate(folders[:-1]):
            for path in sorted(folder.glob(f"*-p{partition}.npy")):
                parts.append(np.load(path))
                tiers.append(np.full(len(parts[-1]), tier, dtype=np.uint8))
        for s in shards:
            parts.append(np.load(index / f"{s}-p{partition}.npy"))
            tiers.append(np.full(len(parts[-1]), len(folders) - 1, dtype=np.uint8))
        records = np.concatenate(parts) if parts else np.zeros(0, dtype=_RECORD)
        tier = np.concatenate(tiers) if tiers else np.zeros(0, dtype=np.uint8)
        order = np.lexsort((records["pos"], records["shard"], tier, records["lo"], records["hi"]))
        records, tier = records[order], tier[order]
        same = (records["hi"][1:] == records["hi"][:-1]) & (records["lo"][1:] == records["lo"][:-1])
        dup_rows = np.nonzero(same)[0] + 1
        dup_rows = dup_rows[tier[dup_rows] == len(folders) - 1]  # earlier runs' documents are never dropped
        # the kept row of each duplicate: the start of its run of equal hashes
        run_start = np.maximum.accumulate(np.where(np.concatenate([[True], ~same]), np.arange(len(records)), 0))
        kept_rows = run_start[dup_rows]
        caches = [_IdCache(folder) for folder in folders]
        decisions: dict[str, dict[int, str]] = {}
        for dup, kept, kept_tier in zip(records[dup_rows], records[kept_rows], tier[kept_rows].tolist()):
            kept_id = caches[kept_tier].get(f"{int(kept['shard']):05d}", int(kept["pos"]))
            decisions.setdefault(f"{int(dup['shard']):05d}", {})[int(dup["pos"])] = kept_id
        folder = self._dir("decisions")
        for shard, found in decisions.items():
            path = folder / f"{shard}-p{partition}.json"
            path.with_suffix(".tmp").write_bytes(orjson.dumps({str(k): v for k, v in found.items()}))
            path.with_suffix(".tmp").replace(path)

    # -- apply ------------------------------------------------------------------------------------------
    def load(self, shard: str) -> None:
        self._decisions = {}
        for path in self._dir("decisions").glob(f"{shard}-p*.json"):
            self._decisions.update({int(k): v for k, v in orjson.loads(path.read_bytes()).items()})
        self._position = 0

    def filter(self, doc: Document) -> Reason | None:
        # Documents arrive in the order they were indexed, so the position identifies them even where
        # a source repeats ids.
        kept_id = self._decisions.get(self._position)
        self._position += 1
        if kept_id is None:
            return None
        return self.reject("duplicate", duplicate_of=kept_id, similarity=1.0)

    def _dir(self, name: str) -> Path:
        folder = self.workdir / name
        folder.mkdir(parents=True, exist_ok=True)
        return folder


def _earlier_index(run: str, step: str, n_partitions: int) -> Path:
    """The index folder of an earlier run (its run directory, or its state/<step> folder)."""
    for folder in (Path(run) / "state" / step / "index", Path(run) / "index"):
        if folder.is_dir():
            if not list(folder.glob(f"*-p{n_partitions - 1}.npy")) or list(folder.glob(f"*-p{n_partitions}.npy")):
                raise ValueError(f"against {run}: its {step} index has another n_partitions than {n_partitions}")
            return folder
    raise FileNotFoundError(f"against {run}: no {step} index (expected state/{step}/index/)")


class _IdCache:
    """Document ids by (shard, position), loading each shard's id list at most once."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.cache: dict[str, list[str]] = {}

    def get(self, shard: str, pos: int) -> str:
        if shard not in self.cache:
            self.cache[shard] = orjson.loads((self.folder / f"{shard}.ids").read_bytes())
        return self.cache[shard][pos]
