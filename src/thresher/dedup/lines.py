"""``line_dedup``: a line found in at least ``min_docs`` documents is removed from all of them but one.

Boilerplate (menus, cookie notices, "Share this article") repeats across pages; the first document that
has the line (smallest shard, then position) keeps it, so the text is not lost from the corpus. With
``per_site: true`` a line counts only within one site (host of the URL, ``www.`` dropped), so a line
common across unrelated sites (a quotation, a licence) is left alone.

Lines are compared normalised (lowercased, outer whitespace stripped); blank lines and lines shorter than
``min_chars`` are never counted or removed. A document that loses every non-blank line is dropped with
rule ``all_lines_duplicate``.

On disk under ``workdir``::

    index/<shard>.n                 documents indexed in the shard (JSON int)
    index/<shard>-p<k>.bin          (line key uint64, position uint32) records, one per distinct line per
                                    document, for hash partition k
    index/<shard>.keys.bin          every line's key in order (uint64), with index/<shard>.lines.npy (lines
                                    per document): apply decides a whole shard at once from these
    resolve/p<k>.npy                partition k's frequent keys (sorted) with their keeper's global position
    resolve/layout.json             shard order and offsets of the global numbering

Memory: index streams to the partition files; resolve holds one partition's records (12 bytes per
distinct line per document, divided by ``n_partitions``), plus sort temporaries.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from thresher.atomic import read_json, save_array, write_json
from thresher.dedup.hashing import line_hashes, mix64, segment_hashes
from thresher.document import Document, MetaKey, Reason
from thresher.sites import site_of
from thresher.steps import REMOVED_LINES_FIELDS, GlobalStep

_RECORD = np.dtype([("key", "<u8"), ("pos", "<u4")])


def _site_hashes(sites: list[str]) -> np.ndarray:
    encoded = [s.encode("utf-8", errors="replace") for s in sites]
    buf = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    lens = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    ends = np.cumsum(lens)
    return segment_hashes(buf, ends - lens, ends)


class LineDedup(GlobalStep):
    """Remove lines repeated across documents (see module docstring). Parameters: ``min_docs``,
    ``per_site``, ``min_chars``, ``keep_removed`` (keep removed lines in ``meta["removed_lines"]``),
    ``n_partitions``."""

    name: ClassVar[str] = "line_dedup"
    SIGNALS: ClassVar[dict] = {"line_dedup_lines_removed": int, "line_dedup_chars_removed": int}

    def meta_fields(self) -> dict[str, Any]:
        return dict(REMOVED_LINES_FIELDS) if self.keep_removed else {}

    def __init__(self, min_docs: int = 3, per_site: bool = False, min_chars: int = 1, keep_removed: bool = False,
                 n_partitions: int = 4, batch_docs: int = 256):
        if min_docs < 2:
            raise ValueError("min_docs must be >= 2 (a line in one document is not a repeat)")
        self.min_docs, self.per_site, self.min_chars = min_docs, per_site, min_chars
        self.keep_removed, self.n_partitions, self.batch_docs = keep_removed, max(1, n_partitions), batch_docs
        self._pending: dict[str, list[Document]] = {}
        self._counts: dict[str, int] = {}
        self._files: dict[str, list[Any]] = {}
        self._frequent = np.zeros(0, dtype=np.uint64)
        self._keeper = np.zeros(0, dtype=np.int64)
        self._lines: dict[str, list[np.ndarray]] = {}
        self._remove = np.zeros(0, dtype=bool)
        self._line_off = np.zeros(1, dtype=np.int64)
        self._offset = 0
        self._position = 0

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_pending"], state["_counts"], state["_files"], state["_lines"] = {}, {}, {}, {}
        return state

    # ---------------------------------------------------------------- keys (shared by index and apply)

    def _keys(self, docs: list[Document]) -> tuple[np.ndarray, np.ndarray, list[list[str]] | None]:
        """Per-line keys for a batch (0 = never counted), their offsets, and the raw lines if needed."""
        texts = [d.text for d in docs]
        hashes, offsets = line_hashes(texts)
        lines = None
        if self.min_chars > 1:
            lines = [t.split("\n") for t in texts]
            short = np.fromiter((len(ln.strip()) < self.min_chars for per in lines for ln in per),
                                dtype=bool, count=len(hashes))
            hashes[short] = 0
        if self.per_site and len(hashes):
            per_doc = _site_hashes([site_of(d.url) for d in docs])
            site = np.repeat(per_doc, np.diff(offsets))
            with np.errstate(over="ignore"):
                keyed = mix64(hashes ^ (site * np.uint64(0x9E3779B97F4A7C15)))
            hashes = np.where(hashes == 0, np.uint64(0), keyed | np.uint64(1))
        return hashes, offsets, lines

    # ---------------------------------------------------------------- index

    def index(self, doc: Document, shard: str) -> None:
        pending = self._pending.setdefault(shard, [])
        pending.append(doc)
        if len(pending) >= self.batch_docs:
            self._flush(shard)

    def _flush(self, shard: str) -> None:
        docs = self._pending.pop(shard, [])
        files = self._files.get(shard)
        if files is None:
            folder = Path(self.workdir) / "index"
            folder.mkdir(parents=True, exist_ok=True)
            # one record file per hash partition, then every line's key in order (for apply)
            files = self._files[shard] = [open(folder / f".{shard}-p{k}.bin.{os.getpid()}.tmp", "wb")
                                          for k in range(self.n_partitions)]
            files.append(open(folder / f".{shard}.keys.bin.{os.getpid()}.tmp", "wb"))
            self._counts[shard] = 0
            self._lines[shard] = []
        base = self._counts[shard]
        self._counts[shard] = base + len(docs)
        if not docs:
            return
        keys, offsets, _ = self._keys(docs)
        files[-1].write(keys.tobytes())
        self._lines[shard].append(np.diff(offsets).astype(np.int32))
        pos = np.repeat(np.arange(base, base + len(docs), dtype=np.uint32), np.diff(offsets))
        rec = np.zeros(len(keys), dtype=_RECORD)
        rec["key"], rec["pos"] = keys, pos
        rec = np.unique(rec[keys != 0])  # one record per distinct line per document
        part = rec["key"] % np.uint64(self.n_partitions)
        for k in range(self.n_partitions):
            files[k].write(rec[part == k].tobytes())

    def finish_index(self, shard: str) -> None:
        self._flush(shard)
        folder = Path(self.workdir) / "index"
        files = self._files.pop(shard)
        for k, fh in enumerate(files[:-1]):
            fh.close()
            os.replace(fh.name, folder / f"{shard}-p{k}.bin")
        files[-1].close()
        os.replace(files[-1].name, folder / f"{shard}.keys.bin")
        lines = self._lines.pop(shard)
        save_array(folder / f"{shard}.lines.npy", np.concatenate(lines) if lines else np.zeros(0, np.int32))
        write_json(folder / f"{shard}.n", self._counts.pop(shard))

    # ---------------------------------------------------------------- resolve

    def resolve(self, partition: int, n_partitions: int, shards: list[str]) -> None:
        folder = Path(self.workdir) / "index"
        out = Path(self.workdir) / "resolve"
        out.mkdir(parents=True, exist_ok=True)
        layout, offset = {}, 0
        for shard in sorted(shards):
            layout[shard] = offset
            offset += int(read_json(folder / f"{shard}.n"))
        keys, gids = [], []
        for shard in sorted(shards):
            rec = np.fromfile(folder / f"{shard}-p{partition}.bin", dtype=_RECORD)
            keys.append(rec["key"])
            gids.append(rec["pos"].astype(np.int64) + layout[shard])
        key = np.concatenate(keys) if keys else np.zeros(0, np.uint64)
        gid = np.concatenate(gids) if gids else np.zeros(0, np.int64)
        del keys, gids
        order = np.lexsort((gid, key))
        key, gid = key[order], gid[order]
        del order
        if len(key):
            first = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]]))
            count = np.diff(np.append(first, len(key)))
            frequent = first[count >= self.min_docs]
            result = np.zeros(len(frequent), dtype=[("key", "<u8"), ("keeper", "<i8")])
            result["key"], result["keeper"] = key[frequent], gid[frequent]
        else:
            result = np.zeros(0, dtype=[("key", "<u8"), ("keeper", "<i8")])
        save_array(out / f"p{partition}.npy", result)
        write_json(out / "layout.json", {"offsets": layout, "n_partitions": n_partitions})

    # ---------------------------------------------------------------- apply

    def load(self, shard: str) -> None:
        out = Path(self.workdir) / "resolve"
        layout = read_json(out / "layout.json")
        parts = [np.load(out / f"p{k}.npy") for k in range(layout["n_partitions"])]
        merged = np.concatenate(parts) if parts else np.zeros(0, dtype=[("key", "<u8"), ("keeper", "<i8")])
        merged.sort(order="key")
        self._frequent, self._keeper = merged["key"].copy(), merged["keeper"].copy()
        self._offset = int(layout["offsets"][shard])
        self._position = 0
        # decide every line of the shard at once, from the keys the index kept
        folder = Path(self.workdir) / "index"
        keys = np.fromfile(folder / f"{shard}.keys.bin", dtype=np.uint64)
        counts = np.load(folder / f"{shard}.lines.npy").astype(np.int64)
        self._line_off = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(counts, out=self._line_off[1:])
        gid = self._offset + np.repeat(np.arange(len(counts), dtype=np.int64), counts)
        self._remove = self._removable(keys, gid)

    def _removable(self, keys: np.ndarray, gid: np.ndarray | int) -> np.ndarray:
        if len(self._frequent) == 0:
            return np.zeros(len(keys), dtype=bool)
        idx = np.minimum(np.searchsorted(self._frequent, keys), len(self._frequent) - 1)
        return (keys != 0) & (self._frequent[idx] == keys) & (self._keeper[idx] != gid)

    def filter(self, doc: Document) -> Reason | None:
        # Documents come back in index order (the engine's contract), so the position identifies them.
        pos = self._position
        self._position += 1
        lines = doc.text.split("\n")
        if pos + 1 < len(self._line_off) and self._line_off[pos + 1] - self._line_off[pos] == len(lines):
            remove = self._remove[self._line_off[pos]:self._line_off[pos + 1]]
        else:  # not the document indexed at this position: decide from its own text
            keys, _, _ = self._keys([doc])
            remove = self._removable(keys, self._offset + pos)
        n_removed = int(remove.sum())
        doc.signals["line_dedup_lines_removed"] = n_removed
        if n_removed == 0:
            return None
        gone = np.flatnonzero(remove).tolist()
        removed_text = [lines[i] for i in gone]
        doc.signals["line_dedup_chars_removed"] = sum(len(x) for x in removed_text)
        if self.keep_removed:
            doc.meta.setdefault(MetaKey.REMOVED_LINES, []).extend(
                {"line": x, "rule": "duplicate_line", "step": self.name} for x in removed_text)
        doc.text = "\n".join(ln for ln, k in zip(lines, remove.tolist()) if not k)
        if not doc.text.strip():
            return self.reject("all_lines_duplicate", value=n_removed)
        return None
