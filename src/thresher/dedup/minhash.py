"""MinHash near-duplicate removal (``minhash_dedup``) as a global step: index -> resolve by band -> apply.

On-disk layout under ``workdir`` (= ``RUN_DIR/state/minhash_dedup/``), all written atomically::

    params.json                     the signature settings (an incremental run must match them)
    index/<shard>/                  one per shard, written by index + finish_index
        meta.json                   {"n": docs}
        ids.bin, ids_off.npy        document ids by position
        sig.bin    uint32 (n, num_perm)   MinHash signature (rensa, over hashed word n-grams)
        bands.bin  uint64 (n, bands)      one hash per LSH band (rows of the band hashed together)
        prio.npy   int64 (n)              keep-policy key, smaller is preferred (first: 0, longest: -chars,
                                          newest: -timestamp); ties go to the smaller global position
        empty.npy  bool (n)               no words: never bucketed (all empty docs would collide)
    resolve/p<k>.npy                partition k's (node, root) pairs: its bands' buckets, union-found
    result/                         the final combine of all partitions, written once by ``merge``
                                    (the engine runs it after every partition is resolved)
        layout.json                 shard order and global offsets used for the numbering
        removed.npy int64, kept.npy int64, sim.npy float32   sorted by removed global position

Global position (``gid``): documents of earlier runs given in ``against`` come first (in that order),
then this run's shards sorted by name, each in index order. The kept document of a cluster is the best
by (earlier run first, keep-policy key, gid): deterministic whichever worker indexed which shard.

Memory: index holds one batch of texts (``batch_bytes``); resolve holds one band column of all documents
at a time (8 bytes/doc plus sort temporaries) and the partition's edges; the combine holds only
documents in non-trivial clusters.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import xxhash

from thresher.atomic import read_json, save_array, write_json
from thresher.dedup.common import IdReader, IdWriter, atomic_dir, connected_roots, star_edges
from thresher.dedup.hashing import mix64, shingle_hashes
from thresher.document import Document, MetaKey, Reason
from thresher.filters.text import shingle_text
from thresher.steps import GlobalStep

KEEP_POLICIES = ("first", "longest", "newest")
_DATE_KEYS = ("date", "publish_date", "crawl_date", "last_modified", "timestamp")
_BAND_MULT = mix64(np.arange(1, 257, dtype=np.uint64)) | np.uint64(1)


def minhash_signatures(texts: list[str], ngram: int, num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(signatures uint32 (n, num_perm), empty bool (n)) for a batch of texts, hashed in bulk."""
    try:
        import rensa
    except ImportError as exc:  # an optional dependency: say how to get it
        raise ImportError("minhash_dedup needs rensa (a core dependency): pip install rensa") from exc

    hashes, offsets, n_words = shingle_hashes(texts, ngram)
    matrix = rensa.RMinHash.digest_matrix_from_flat_token_hashes(hashes, offsets.astype(np.uint64), num_perm, seed)
    sig = np.array(matrix.to_rows(), dtype=np.uint32).reshape(len(texts), num_perm)
    return sig, n_words == 0


def band_hashes(sig: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """uint64 (n, bands): the ``rows`` signature values of each band hashed into one key."""
    out = np.zeros((sig.shape[0], bands), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for b in range(bands):
            acc = np.zeros(sig.shape[0], dtype=np.uint64)
            for r in range(rows):
                acc += sig[:, b * rows + r].astype(np.uint64) * _BAND_MULT[r]
            out[:, b] = mix64(acc)
    return out


def removal_probability(similarity: float, bands: int, rows: int) -> float:
    """P(two documents of Jaccard ``similarity`` share at least one band): the LSH S-curve."""
    return 1.0 - (1.0 - similarity**rows) ** bands


def doc_timestamp(doc: Document) -> float | None:
    for key in _DATE_KEYS:
        value = doc.meta.get(key)
        if not value:
            continue
        if isinstance(value, (int, float)):
            return float(value)
        text = str(value).strip()
        try:
            dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            try:
                dt = parsedate_to_datetime(text)
            except (TypeError, ValueError):
                continue
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=timezone.utc)
        return dt.timestamp()
    return None


class _ShardIndexWriter:
    """Streams one shard's index into a temporary directory; ``close`` renames it into place."""

    def __init__(self, final: Path):
        self.final = final
        self._ctx = atomic_dir(final)
        self.dir = self._ctx.__enter__()
        self.ids = IdWriter(self.dir)
        self.sig = open(self.dir / "sig.bin", "wb")
        self.bands = open(self.dir / "bands.bin", "wb")
        self.prio: list[int] = []
        self.empty: list[np.ndarray] = []
        self.pending: list[str] = []
        self.pending_langs: list[str] = []
        self.pending_chars = 0

    def close(self) -> int:
        n = self.ids.close(self.dir)
        self.sig.close()
        self.bands.close()
        np.save(self.dir / "prio.npy", np.asarray(self.prio, dtype=np.int64))
        np.save(self.dir / "empty.npy", np.concatenate(self.empty) if self.empty else np.zeros(0, dtype=bool))
        write_json(self.dir / "meta.json", {"n": n})
        self._ctx.__exit__(None, None, None)
        return n

    def abort(self) -> None:
        for fh in (self.sig, self.bands):
            fh.close()
        try:
            self._ctx.__exit__(RuntimeError, RuntimeError("aborted"), None)
        except RuntimeError:
            pass


class ShardIndex:
    """Read side of one shard's index (memory-mapped)."""

    def __init__(self, directory: Path, num_perm: int, bands: int):
        self.dir = directory
        self.n = int(read_json(directory / "meta.json")["n"])
        self.num_perm, self.n_bands = num_perm, bands
        self.prio = np.load(directory / "prio.npy", mmap_mode="r")
        self.empty = np.load(directory / "empty.npy", mmap_mode="r")

    def band(self, b: int) -> np.ndarray:
        if self.n == 0:
            return np.zeros(0, dtype=np.uint64)
        mm = np.memmap(self.dir / "bands.bin", dtype=np.uint64, mode="r", shape=(self.n, self.n_bands))
        return np.array(mm[:, b])

    def signatures(self, positions: np.ndarray) -> np.ndarray:
        mm = np.memmap(self.dir / "sig.bin", dtype=np.uint32, mode="r", shape=(self.n, self.num_perm))
        return np.array(mm[positions])

    def ids(self) -> IdReader:
        return IdReader(self.dir)


class MinHashDedup(GlobalStep):
    """Drop near-duplicate documents (MinHash LSH over word n-grams); the reason names the kept one.

    Parameters (YAML): ``ngram`` (words per shingle), ``bands`` x ``rows`` (LSH; ``num_perm`` defaults to
    their product), ``keep`` (first | longest | newest), ``seed``, ``n_partitions`` (resolve tasks, each a
    set of bands), ``against`` (earlier run directories, or a list of them: their documents are always
    kept and new documents matching them are dropped), ``batch_bytes`` (text hashed per bulk call),
    ``per_language`` (documents match only within their ``meta.language``, as FineWeb-2 dedups: the
    language is mixed into every band hash).

    Shingles are word n-grams of the document's words: for a script without spaces (``meta.script``,
    see ``thresher.filters.scripts``) the segmenter's words, else the text's own.
    """

    name: ClassVar[str] = "minhash_dedup"

    def __init__(self, ngram: int = 5, bands: int = 14, rows: int = 8, num_perm: int | None = None,
                 keep: str = "first", seed: int = 1, n_partitions: int = 4,
                 against: str | list[str] | None = None, batch_bytes: int = 1_000_000, per_language: bool = False):
        if keep not in KEEP_POLICIES:
            raise ValueError(f"keep must be one of {', '.join(KEEP_POLICIES)}, got {keep!r}")
        num_perm = num_perm if num_perm is not None else bands * rows
        if bands < 1 or rows < 1 or bands * rows > num_perm:
            raise ValueError(f"need bands * rows <= num_perm, got {bands} x {rows} > {num_perm}")
        if ngram < 1:
            raise ValueError("ngram must be >= 1")
        self.ngram, self.bands, self.rows, self.num_perm = ngram, bands, rows, num_perm
        self.keep, self.seed, self.batch_bytes = keep, seed, batch_bytes
        self.per_language = per_language
        self.n_partitions = max(1, min(n_partitions, bands))
        self.against = [against] if isinstance(against, str) else list(against or [])
        self._writers: dict[str, _ShardIndexWriter] = {}
        self._decisions: dict[str, list[tuple[str, float] | None]] = {}
        self._seen: dict[str, int] = {}

    # ---------------------------------------------------------------- settings

    def params(self) -> dict[str, Any]:
        params = {"ngram": self.ngram, "num_perm": self.num_perm, "bands": self.bands, "rows": self.rows,
                  "seed": self.seed, "hashing": 1}
        return {**params, "per_language": True} if self.per_language else params

    def __getstate__(self) -> dict[str, Any]:
        # open files and loaded decisions never travel to another worker
        state = dict(self.__dict__)
        state["_writers"], state["_decisions"], state["_seen"] = {}, {}, {}
        return state

    # ---------------------------------------------------------------- phase 1: index

    def index(self, doc: Document, shard: str) -> None:
        writer = self._writers.get(shard)
        if writer is None:
            self._check_params(Path(self.workdir))
            writer = self._writers[shard] = _ShardIndexWriter(Path(self.workdir) / "index" / shard)
        writer.ids.add(doc.id)
        writer.prio.append(self._priority(doc))
        text = shingle_text(doc)  # the text itself, or its words for a script with its own word splitter
        writer.pending.append(text)
        writer.pending_chars += len(text)
        writer.pending_langs.append(doc.meta.get(MetaKey.LANGUAGE) or "" if self.per_language else "")
        if writer.pending_chars >= self.batch_bytes:
            self._flush(writer)

    def finish_index(self, shard: str) -> None:
        writer = self._writers.pop(shard, None)
        if writer is None:  # a shard with no surviving documents still gets an (empty) index
            self._check_params(Path(self.workdir))
            writer = _ShardIndexWriter(Path(self.workdir) / "index" / shard)
        try:
            self._flush(writer)
        except BaseException:
            writer.abort()
            raise
        writer.close()

    def _priority(self, doc: Document) -> int:
        if self.keep == "longest":
            return -len(doc.text)
        if self.keep == "newest":
            ts = doc_timestamp(doc)
            return -int(ts) if ts is not None else 0
        return 0

    def _flush(self, writer: _ShardIndexWriter) -> None:
        if not writer.pending:
            return
        sig, empty = minhash_signatures(writer.pending, self.ngram, self.num_perm, self.seed)
        writer.sig.write(sig.tobytes())
        bands = band_hashes(sig, self.bands, self.rows)
        if self.per_language:   # the same band in two languages hashes apart: no candidate pair across them
            bands ^= np.array([xxhash.xxh3_64_intdigest(lang.encode("utf-8", "replace")) for lang in writer.pending_langs],
                              dtype=np.uint64)[:, None]
        writer.bands.write(bands.tobytes())
        writer.empty.append(empty)
        writer.pending, writer.pending_langs, writer.pending_chars = [], [], 0

    def _check_params(self, workdir: Path) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        path = workdir / "params.json"
        if path.exists():
            if read_json(path) != self.params():
                raise ValueError(f"{path}: index was built with other settings {read_json(path)}; "
                                 "remove the state directory or use the same settings")
        else:
            write_json(path, self.params())

    # ---------------------------------------------------------------- layout shared by resolve and apply

    def _layout(self, shards: list[str]) -> dict[str, Any]:
        """Global numbering: earlier runs' shards (their kept documents only), then ours sorted."""
        entries: list[dict[str, Any]] = []
        offset = 0
        for run in self.against:
            state = _state_dir(run, self.name)
            theirs = read_json(state / "params.json")
            if theirs != self.params():
                raise ValueError(f"against {run}: its index used {theirs}, this step uses {self.params()}")
            layout = read_json(state / "result" / "layout.json")
            for entry in layout["shards"]:
                if entry["tier"] != 1:
                    continue  # only that run's own documents; chain runs by listing each one
                entries.append({"dir": str(state / "index" / entry["shard"]), "shard": entry["shard"],
                                "tier": 0, "offset": offset, "n": entry["n"],
                                "removed_from": str(state / "result"), "their_offset": entry["offset"]})
                offset += entry["n"]
        for shard in sorted(shards):
            directory = Path(self.workdir) / "index" / shard
            n = int(read_json(directory / "meta.json")["n"])
            entries.append({"shard": shard, "tier": 1, "offset": offset, "n": n})
            offset += n
        return {"shards": entries, "total": offset}

    def _open(self, entry: dict[str, Any]) -> ShardIndex:
        # this run's shards are found from workdir, so a run directory can move (or be mounted elsewhere)
        directory = Path(self.workdir) / "index" / entry["shard"] if entry["tier"] == 1 else Path(entry["dir"])
        return ShardIndex(directory, self.num_perm, self.bands)

    def _excluded(self, entry: dict[str, Any], idx: ShardIndex) -> np.ndarray:
        """Positions that never enter a bucket: empty documents, and earlier documents that run removed."""
        mask = np.array(idx.empty, dtype=bool)
        if entry["tier"] == 0:
            removed = np.load(Path(entry["removed_from"]) / "removed.npy")
            local = removed - entry["their_offset"]
            local = local[(local >= 0) & (local < entry["n"])]
            mask[local] = True
        return mask

    # ---------------------------------------------------------------- phase 2: resolve

    def resolve(self, partition: int, n_partitions: int, shards: list[str]) -> None:
        workdir = Path(self.workdir)
        layout = self._layout(shards)
        indexes = [(entry, self._open(entry)) for entry in layout["shards"]]
        usable = [~self._excluded(entry, idx) for entry, idx in indexes]
        us, vs = [], []
        for band in range(partition, self.bands, n_partitions):
            keys, gids = [], []
            for (entry, idx), ok in zip(indexes, usable):
                if idx.n == 0:
                    continue
                keys.append(idx.band(band)[ok])
                gids.append(np.flatnonzero(ok) + entry["offset"])
            if not keys:
                continue
            key = np.concatenate(keys)
            gid = np.concatenate(gids)
            order = np.argsort(key, kind="stable")
            key, gid = key[order], gid[order]
            same = np.flatnonzero(key[1:] == key[:-1])
            # chain the members of each bucket: n-1 edges per bucket keep it connected
            us.append(gid[same])
            vs.append(gid[same + 1])
            del key, gid, order
            if sum(len(u) for u in us) > 4_000_000:  # bound memory: compress edges so far
                u, v = star_edges(np.concatenate(us), np.concatenate(vs))
                us, vs = [u], [v]
        u, v = star_edges(np.concatenate(us), np.concatenate(vs)) if us else (np.zeros(0, np.int64),) * 2
        out = workdir / "resolve"
        out.mkdir(parents=True, exist_ok=True)
        save_array(out / f"p{partition}.npy", np.stack([u, v]))
        write_json(out / f"p{partition}.done", {"n_partitions": n_partitions, "shards": sorted(shards)})

    def merge(self, n_partitions: int, shards: list[str]) -> None:
        if not self._all_resolved(Path(self.workdir) / "resolve", n_partitions, shards):
            raise RuntimeError(f"{self.name}: resolve is incomplete under {self.workdir}")
        self._combine(self._layout(shards), n_partitions)

    def _all_resolved(self, out: Path, n_partitions: int, shards: list[str]) -> bool:
        want = {"n_partitions": n_partitions, "shards": sorted(shards)}
        for k in range(n_partitions):
            done = out / f"p{k}.done"
            if not done.exists() or read_json(done) != want:
                return False
        return True

    def _combine(self, layout: dict[str, Any], n_partitions: int) -> None:
        """Union the partitions' clusters, pick each cluster's kept document, estimate similarities."""
        workdir = Path(self.workdir)
        parts = [np.load(workdir / "resolve" / f"p{k}.npy") for k in range(n_partitions)]
        u = np.concatenate([p[0] for p in parts])
        v = np.concatenate([p[1] for p in parts])
        entries = layout["shards"]
        starts = np.array([e["offset"] for e in entries], dtype=np.int64)
        removed = kept = np.zeros(0, dtype=np.int64)
        sim = np.zeros(0, dtype=np.float32)
        if len(u):
            nodes, inv = np.unique(np.concatenate([u, v]), return_inverse=True)
            which = np.searchsorted(starts, nodes, side="right") - 1
            tier = np.array([e["tier"] for e in entries], dtype=np.int64)[which]
            prio = np.empty(len(nodes), dtype=np.int64)
            for w in np.unique(which):
                sel = which == w
                idx = self._open(entries[w])
                prio[sel] = idx.prio[nodes[sel] - entries[w]["offset"]]
            # number nodes best-first so that union-find's smallest root is the document to keep
            order = np.lexsort((nodes, prio, tier))
            rank = np.empty(len(nodes), dtype=np.int64)
            rank[order] = np.arange(len(nodes))
            roots = connected_roots(rank[inv[: len(u)]], rank[inv[len(u):]], len(nodes))
            best = nodes[order]               # node by rank
            kept_all = best[roots]            # kept gid for each rank
            is_removed = (roots != np.arange(len(nodes))) & (tier[order] == 1)
            removed = best[is_removed]
            kept = kept_all[is_removed]
            srt = np.argsort(removed)
            removed, kept = removed[srt], kept[srt]
            sim = self._similarities(entries, starts, removed, kept)
        result = workdir / "result"
        result.mkdir(parents=True, exist_ok=True)
        save_array(result / "kept.npy", kept)
        save_array(result / "sim.npy", sim)
        save_array(result / "removed.npy", removed)
        write_json(result / "layout.json", layout)  # written last: its presence means the result is whole

    def _signatures(self, entries: list[dict[str, Any]], starts: np.ndarray, gids: np.ndarray) -> np.ndarray:
        out = np.empty((len(gids), self.num_perm), dtype=np.uint32)
        which = np.searchsorted(starts, gids, side="right") - 1
        for w in np.unique(which):
            sel = np.flatnonzero(which == w)
            out[sel] = self._open(entries[w]).signatures(gids[sel] - entries[w]["offset"])
        return out

    def _similarities(self, entries, starts, removed: np.ndarray, kept: np.ndarray) -> np.ndarray:
        sims = np.empty(len(removed), dtype=np.float32)
        step = 65536
        for lo in range(0, len(removed), step):
            a = self._signatures(entries, starts, removed[lo:lo + step])
            b = self._signatures(entries, starts, kept[lo:lo + step])
            sims[lo:lo + step] = (a == b).mean(axis=1)
        return sims

    # ---------------------------------------------------------------- phase 3: apply

    def load(self, shard: str) -> None:
        result = Path(self.workdir) / "result"
        if not (result / "layout.json").exists():  # written last by merge
            raise RuntimeError(f"{self.name}: no merged result under {self.workdir}")
        layout = read_json(result / "layout.json")
        entries = layout["shards"]
        mine = next((e for e in entries if e["tier"] == 1 and e["shard"] == shard), None)
        self._decisions, self._seen = {}, {}
        if mine is None or mine["n"] == 0:
            return
        removed = np.load(result / "removed.npy", mmap_mode="r")
        lo = np.searchsorted(removed, mine["offset"])
        hi = np.searchsorted(removed, mine["offset"] + mine["n"])
        if hi == lo:
            return
        kept = np.load(result / "kept.npy", mmap_mode="r")[lo:hi]
        sim = np.load(result / "sim.npy", mmap_mode="r")[lo:hi]
        local = np.asarray(removed[lo:hi]) - mine["offset"]
        starts = np.array([e["offset"] for e in entries], dtype=np.int64)
        readers: dict[int, IdReader] = {}
        names: list[tuple[str, float]] = []
        for k, s in zip(kept.tolist(), sim.tolist()):
            w = int(np.searchsorted(starts, k, side="right") - 1)
            if w not in readers:
                readers[w] = self._open(entries[w]).ids()
            names.append((readers[w].get(k - entries[w]["offset"]), round(float(s), 4)))
        own = self._open(mine).ids().all()
        decided = dict(zip(local.tolist(), names))
        # ids repeated inside a shard are told apart by occurrence order (filter sees index order)
        wanted = {own[p] for p in decided}
        for pos, doc_id in enumerate(own):
            if doc_id in wanted:
                self._decisions.setdefault(doc_id, []).append(decided.get(pos))

    def filter(self, doc: Document) -> Reason | None:
        slots = self._decisions.get(doc.id)
        if not slots:
            return None
        k = self._seen.get(doc.id, 0)
        self._seen[doc.id] = k + 1
        hit = slots[k] if k < len(slots) else None
        if hit is None:
            return None
        kept_id, sim = hit
        return self.reject("near_duplicate", value=sim, threshold=self.threshold_estimate(),
                           duplicate_of=kept_id, similarity=sim)

    def threshold_estimate(self) -> float:
        """Jaccard similarity at which removal becomes likely: where the S-curve is steepest, ~(1/b)^(1/r)."""
        return round((1.0 / self.bands) ** (1.0 / self.rows), 3)


def _state_dir(run: str | os.PathLike[str], step: str) -> Path:
    """An earlier run's state directory for ``step``: accepts the run directory or the state dir itself."""
    path = Path(run)
    for candidate in (path / "state" / step, path):
        if (candidate / "params.json").exists() and (candidate / "result" / "layout.json").exists():
            return candidate
    raise FileNotFoundError(f"{run}: no finished {step} index (expected state/{step}/result/layout.json)")


def explain_curve(bands: int, rows: int, points: int = 19) -> list[tuple[float, float]]:
    """(Jaccard, P(removal)) pairs from 0.05 to 0.95 plus 1.0."""
    sims = [round(0.05 * k, 2) for k in range(1, points + 1)] + [1.0]
    return [(s, removal_probability(s, bands, rows)) for s in sims]


def false_rates(bands: int, rows: int, threshold: float) -> tuple[float, float]:
    """Area of missed duplicates above and false candidates below ``threshold`` (uniform Jaccard prior)."""
    steps = 1000
    fp = sum(removal_probability(threshold * (k + 0.5) / steps, bands, rows) for k in range(steps)) * threshold / steps
    span = 1.0 - threshold
    fn = sum(1 - removal_probability(threshold + span * (k + 0.5) / steps, bands, rows) for k in range(steps)) * span / steps
    return fp, fn


__all__ = ["MinHashDedup", "minhash_signatures", "band_hashes", "removal_probability", "explain_curve",
           "false_rates"]
