"""Reading a run directory back for the report and ``thresher inspect``: its stats, its step order, and its
output documents (kept/ and rejected/, JSONL[.zst] or Parquet).

Everything the charts count comes from ``stats/`` (exact, cheap). What the stats do not hold is gathered
by one pass over ``rejected/`` (drop samples per rule, duplicate cluster sizes) and a bounded pass over
``kept/`` (samples of removed lines). Both passes parse only what they need: the reason at the end of a
JSONL line, and whole documents only for the few that end up in a sample.

Finding one document by id (``find_doc``) uses a small id index (``IdIndex``: which file holds which id,
built on first use) and then scans only that file, comparing line prefixes (no JSON parsing).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import xxhash

from thresher.atomic import read_json, write_json
from thresher.document import MetaKey
from thresher.io.jsonl import open_bytes
from thresher.pipeline import step_entries
from thresher.rundir import RunDir, aggregate
from thresher.schema import reason_from_row, unpack_struct

JSONL_ENDINGS = (".jsonl.zst", ".jsonl")
# Per-line labels that a cleaning step may keep in ``meta`` (see docs/report.md): a list of dicts with at
# least "line" and, for a removed line, "rule".


# -- run-level data ---------------------------------------------------------------------------------------
def load_summary(run_dir: str | Path) -> dict[str, Any]:
    """``stats/summary.json``, or the aggregate of the per-shard stats when the run has not finished."""
    rd = RunDir(run_dir)
    path = rd.stats / "summary.json"
    if path.exists():
        return read_json(path)
    if not rd.stats.is_dir():
        raise FileNotFoundError(f"{rd.path} is not a run directory (no stats/)")
    total = aggregate(rd)
    total["complete"] = False
    return total


def load_plan(run_dir: str | Path) -> dict[str, Any]:
    path = RunDir(run_dir).plan_path
    return read_json(path) if path.exists() else {}


# YAML name -> the prefix of the per-instance names such a step takes in stats (classify_<name>, ...)
PER_INSTANCE_NAMES = {"classify": "classify_", "transformer_classify": "transformer_"}


def step_order(summary: dict[str, Any], plan: dict[str, Any]) -> list[str]:
    """Step names in pipeline order (stats keys are sorted; the plan keeps the YAML order)."""
    names: list[str] = []
    for name, _ in step_entries((plan.get("pipeline") or {}).get("steps") or []):  # validated when the run began
        if name not in names:
            names.append(name)
    stats = summary.get("steps", {})
    ordered: list[str] = []
    for name in names:
        # steps named per instance (several models in one pipeline) sit where their YAML name does
        prefix = PER_INSTANCE_NAMES.get(name)
        ordered += [n for n in stats if n not in ordered and (n == name or (prefix and n.startswith(prefix)))]
    return ordered + [n for n in stats if n not in ordered]


def reader_drops(summary: dict[str, Any]) -> int:
    """Documents dropped before the first step: by the reader (``read.*`` reasons: not HTML, HTTP errors),
    or by any other name that is not one of the run's steps."""
    steps = summary.get("steps", {})
    return sum(n for key, n in summary.get("reasons", {}).items() if key.split(".")[0] not in steps)


def funnel(summary: dict[str, Any], plan: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per step in pipeline order: documents in, dropped, out, seconds."""
    rows = []
    for name in step_order(summary, plan):
        st = summary["steps"][name]
        rows.append({"step": name, "in": st.get("in", 0), "dropped": st.get("dropped", 0),
                     "out": st.get("in", 0) - st.get("dropped", 0), "seconds": st.get("seconds", 0.0)})
    return rows


def bucket_low(label: str) -> int:
    """Sort key of a log2 length bucket label ("0", "1-1", "2-3", ...)."""
    return int(label.split("-")[0])


def size_bucket(n: int) -> str:
    """Cluster size bucket: 2, 3, 4, 5-8, 9-16, ..."""
    if n <= 4:
        return str(n)
    high = 1 << (n - 1).bit_length()
    return f"{high // 2 + 1}-{high}"


# -- output files -----------------------------------------------------------------------------------------
def output_files(run_dir: str | Path, which: str) -> list[Path]:
    """kept/ or rejected/ files of the run, in shard order (rejected: phase, then shard); a kept/
    partitioned by language (``kept/lang=CODE/``) partition by partition."""
    folder = Path(run_dir) / which
    if not folder.is_dir():
        return []
    files = [*folder.iterdir(), *folder.glob("*=*/*")]
    return sorted(p for p in files if p.is_file() and p.name.endswith((*JSONL_ENDINGS, ".parquet")))


def iter_lines(path: Path) -> Iterator[bytes]:
    """Raw JSON lines of a JSONL output file; Parquet rows are turned into the same JSON form."""
    if path.name.endswith(".parquet"):
        for row in _parquet_rows(path):
            yield orjson.dumps(row)
        return
    with open_bytes(str(path)) as fh:
        for line in fh:
            if line.strip():
                yield line


def _parquet_rows(path: Path, columns: list[str] | None = None) -> Iterator[dict[str, Any]]:
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    for batch in pf.iter_batches(columns=columns):
        for row in batch.to_pylist():
            for key in ("meta", "signals", "reason"):
                if isinstance(row.get(key), str):
                    row[key] = orjson.loads(row[key])
            yield row


def parse_reason(line: bytes) -> dict[str, Any] | None:
    """The ``reason`` of a document line, parsing only the reason: it is the last key ``to_dict`` writes.
    Falls back to a full parse when the line is not in that shape."""
    at = line.rfind(b'"reason":')
    if at >= 0:
        tail = line[at + 9:].rstrip()
        if tail.endswith(b"}"):
            try:
                reason = orjson.loads(tail[:-1])
                if isinstance(reason, dict):
                    return reason
            except orjson.JSONDecodeError:
                pass
    try:
        return orjson.loads(line).get("reason")
    except orjson.JSONDecodeError:
        return None


def plain(doc: dict[str, Any]) -> dict[str, Any]:
    """An output record as a person reads it: keys with a value only (``meta.undeclared`` unpacked), and
    the reason's value and threshold whatever their type."""
    reason = reason_from_row(doc.get("reason"))
    return {**doc, "meta": unpack_struct(doc.get("meta")), "signals": unpack_struct(doc.get("signals")),
            "reason": reason.to_dict() if reason is not None else None}


def reason_key(reason: dict[str, Any]) -> str:
    return f"{reason.get('step')}.{reason.get('rule')}"


def rule_matches(query: str, key: str) -> bool:
    """``--reason`` accepts "step.rule", a bare rule name, or a step name (all of its rules)."""
    step, _, rule = key.partition(".")
    return query in (key, rule, step)


# -- one pass over rejected/ and a bounded one over kept/ ------------------------------------------------
@dataclass
class Samples:
    """What the report shows beyond the stats, gathered from the output files."""

    removed: dict[str, list[dict[str, Any]]] = field(default_factory=dict)     # reason key -> documents
    clusters: Counter = field(default_factory=Counter)                         # kept id -> duplicates
    removed_lines: list[dict[str, Any]] = field(default_factory=list)          # {line, rule, step, id}
    removed_line_counts: Counter = field(default_factory=Counter)              # "step.rule" -> lines
    docs_scanned_for_lines: int = 0
    lines_scan_complete: bool = True
    rejected_scanned: int = 0
    rejected_scan_complete: bool = True
    kept: list[dict[str, Any]] = field(default_factory=list)                    # a sample of kept documents
    values: dict[str, list[float]] = field(default_factory=dict)                # signal -> a sample of values
    rule_signal: dict[str, str] = field(default_factory=dict)                   # "step.rule" -> its signal
    rule_threshold: dict[str, tuple[float, bool]] = field(default_factory=dict)  # -> (threshold, drops below)


class _Reservoir:
    """A uniform sample of at most ``k`` items from a stream, reproducible (seeded)."""

    def __init__(self, k: int, seed: int = 0):
        self.k, self.n, self.items, self.rng = k, 0, [], random.Random(seed)

    def add(self, item: Any) -> None:
        self.n += 1
        if len(self.items) < self.k:
            self.items.append(item)
        else:
            j = self.rng.randrange(self.n)
            if j < self.k:
                self.items[j] = item


def removed_lines_of(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Lines a step removed from this document, as ``{line, rule, step}``: what line-removing steps keep in
    ``meta.removed_lines`` (``keep_removed: true``), plus the lines the ``clean`` step did not keep as body
    (``keep_labels: true`` keeps ``meta.clean_lines`` as ``[label, line]`` pairs; the label is the rule)."""
    meta = doc.get("meta") or {}
    found = [x for x in meta.get(MetaKey.REMOVED_LINES) or [] if isinstance(x, dict) and "line" in x]
    for pair in meta.get(MetaKey.CLEAN_LINES) or []:
        if isinstance(pair, list) and len(pair) == 2 and pair[0] != "body":
            found.append({"line": pair[1], "rule": pair[0], "step": "clean"})
    return found


def _figures(line: bytes) -> dict[str, Any]:
    """The numeric ``signals`` (and ``meta.language_score``) of a document line, parsing only those two
    objects where the line has the output's key order (``meta``, ``signals``, then ``reason``)."""
    start, end = line.find(b',"meta":'), line.rfind(b',"reason":')
    try:
        part = orjson.loads(b"{" + line[start + 1:end] + b"}") if 0 < start < end else orjson.loads(line)
    except orjson.JSONDecodeError:
        return {}
    found = {k: v for k, v in (part.get("signals") or {}).items() if isinstance(v, (int, float))
             and not isinstance(v, bool)}
    score = (part.get("meta") or {}).get("language_score")
    if isinstance(score, (int, float)):
        found["language_score"] = score
    return found


class _SignalTally:
    """For each rule that tests a signal (``Step.rule_signals``): a uniform sample of that signal's values
    over the documents that carry it, and the rule's threshold and side, read from its drops."""

    def __init__(self, per_signal: int, rule_signals: dict[str, str]):
        self.per_signal = per_signal
        self.rule_signals = rule_signals
        self.wanted = set(rule_signals.values())
        self.values: dict[str, _Reservoir] = {}
        self.thresholds: dict[str, tuple[float, bool]] = {}

    def add(self, figures: dict[str, Any], reason: dict[str, Any] | None) -> None:
        for key, value in figures.items():
            if key in self.wanted:
                self.values.setdefault(key, _Reservoir(self.per_signal, seed=len(self.values))).add(float(value))
        value, threshold = (reason or {}).get("value"), (reason or {}).get("threshold")
        if isinstance(value, (int, float)) and isinstance(threshold, (int, float)):
            key = reason_key(reason)
            if key in self.rule_signals and key not in self.thresholds:
                self.thresholds[key] = (float(threshold), value < threshold)

    def finish(self, out: Samples) -> None:
        out.values = {k: r.items for k, r in self.values.items()}
        for key, threshold in self.thresholds.items():
            out.rule_signal[key] = self.rule_signals[key]
            out.rule_threshold[key] = threshold


def collect_samples(run_dir: str | Path, per_rule: int = 3, lines_per_rule: int = 6,
                    kept_scan_bytes: int = 256 << 20, rejected_scan_bytes: int = 4 << 30,
                    kept_samples: int = 6, per_signal: int = 50_000,
                    rule_signals: dict[str, str] | None = None) -> Samples:
    """Drop samples per rule and duplicate clusters (rejected/, up to ``rejected_scan_bytes`` of JSON), and
    removed lines (rejected/, then kept/ up to ``kept_scan_bytes``). Blank removed lines are neither
    counted nor sampled: they carry nothing to look at. The budgets bound the report's time on huge runs
    (about 10 s per GB of JSON on one core); what was cut short is said on the page."""
    out = Samples()
    tally = _SignalTally(per_signal, rule_signals or {})
    kept_reservoir = _Reservoir(kept_samples, seed=1)
    reservoirs: dict[str, _Reservoir] = {}
    line_reservoirs: dict[str, _Reservoir] = {}
    markers = (f'"{MetaKey.REMOVED_LINES}"'.encode(), f'"{MetaKey.CLEAN_LINES}"'.encode())

    def take_lines(line: bytes) -> None:
        if markers[0] not in line and markers[1] not in line:
            return
        doc = orjson.loads(line)
        for entry in removed_lines_of(doc):
            if not str(entry["line"]).strip():
                continue
            key = f"{entry.get('step')}.{entry.get('rule')}"
            out.removed_line_counts[key] += 1
            line_reservoirs.setdefault(key, _Reservoir(lines_per_rule, seed=len(line_reservoirs))).add(
                {**entry, "id": doc.get("id")})

    budget = rejected_scan_bytes
    for path in output_files(run_dir, "rejected"):
        if budget <= 0:
            out.rejected_scan_complete = False
            break
        for line in iter_lines(path):
            budget -= len(line)
            out.rejected_scanned += 1
            reason = parse_reason(line)
            if not reason:
                continue
            if reason.get("duplicate_of") is not None:
                out.clusters[reason["duplicate_of"]] += 1
            key = reason_key(reason)
            reservoirs.setdefault(key, _Reservoir(per_rule, seed=len(reservoirs))).add(line)
            tally.add(_figures(line), reason)
            take_lines(line)
    budget = kept_scan_bytes
    for path in output_files(run_dir, "kept"):
        for line in iter_lines(path):
            if budget <= 0:
                out.lines_scan_complete = False
                break
            budget -= len(line)
            out.docs_scanned_for_lines += 1
            tally.add(_figures(line), None)
            kept_reservoir.add(line)
            take_lines(line)
        if budget <= 0:
            out.lines_scan_complete = False
            break
    out.removed = {key: [plain(orjson.loads(x)) for x in r.items] for key, r in sorted(reservoirs.items())}
    out.removed_lines = [x for _, r in sorted(line_reservoirs.items()) for x in r.items]
    out.kept = [plain(orjson.loads(x)) for x in kept_reservoir.items]
    tally.finish(out)
    return out


def cluster_histogram(clusters: Counter) -> dict[str, int]:
    """Number of duplicate clusters per size bucket (size = the kept document + its duplicates)."""
    hist: Counter[str] = Counter(size_bucket(n + 1) for n in clusters.values())
    return dict(sorted(hist.items(), key=lambda kv: int(kv[0].split("-")[0])))


# -- finding documents --------------------------------------------------------------------------------------
_INDEX_RECORD = np.dtype([("hash", "<u8"), ("file", "<u4")])


def _id_json(line: bytes) -> bytes:
    """The id of a document line as its JSON bytes (``to_dict`` writes ``{"id":...,"text":...``)."""
    end = line.find(b',"text":') if line.startswith(b'{"id":') else -1
    return line[6:end] if end > 0 else orjson.dumps(orjson.loads(line).get("id"))


class IdIndex:
    """Which output files hold which ids: a sorted array of (xxh64 of the id's JSON, file number), 12 bytes
    per document, in ``state/report/``. Built by the first ``find_doc`` of a run (one pass over the outputs,
    the cost of one plain scan); rebuilt when the output files change (a resumed run)."""

    def __init__(self, run_dir: str | Path):
        self.run_dir = Path(run_dir)
        self.folder = self.run_dir / "state" / "report"
        self.files = output_files(run_dir, "kept") + output_files(run_dir, "rejected")
        self.signature = [[str(p.relative_to(self.run_dir)), p.stat().st_size, p.stat().st_mtime_ns]
                          for p in self.files]
        self.records: np.ndarray | None = None

    def load_or_build(self) -> IdIndex:
        meta, arr = self.folder / "ids.json", self.folder / "ids.npy"
        if meta.exists() and arr.exists() and read_json(meta) == {"files": self.signature}:
            self.records = np.load(arr, mmap_mode="r")
            return self
        parts = []
        for number, path in enumerate(self.files):
            if path.name.endswith(".parquet"):
                ids = (orjson.dumps(row.get("id")) for row in _parquet_rows(path, ["id"]))
            else:
                ids = (_id_json(line) for line in iter_lines(path))
            hashes = np.fromiter(map(xxhash.xxh64_intdigest, ids), dtype=np.uint64)
            part = np.zeros(len(hashes), dtype=_INDEX_RECORD)
            part["hash"], part["file"] = hashes, number
            parts.append(part)
        records = np.concatenate(parts) if parts else np.zeros(0, dtype=_INDEX_RECORD)
        records = records[np.argsort(records["hash"], kind="stable")]
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(arr.with_name("ids.npy.tmp"), "wb") as fh:
            np.save(fh, records)
        arr.with_name("ids.npy.tmp").replace(arr)
        write_json(meta, {"files": self.signature})
        self.records = records
        return self

    def files_of(self, doc_id: str) -> list[Path]:
        """The files that may hold this id (a hash match), kept/ before rejected/."""
        assert self.records is not None
        h = np.uint64(xxhash.xxh64_intdigest(orjson.dumps(doc_id)))
        keys = self.records["hash"]
        lo, hi = int(np.searchsorted(keys, h, side="left")), int(np.searchsorted(keys, h, side="right"))
        return [self.files[i] for i in sorted(set(self.records["file"][lo:hi].tolist()))]


def find_doc(run_dir: str | Path, doc_id: str, where: tuple[str, ...] = ("kept", "rejected"),
             use_index: bool = True) -> tuple[dict[str, Any], Path] | None:
    """The first document with this id (kept/ first, then rejected/), with the file it was found in."""
    return next(find_docs(run_dir, doc_id, where, use_index), None)


def find_docs(run_dir: str | Path, doc_id: str, where: tuple[str, ...] = ("kept", "rejected"),
              use_index: bool = True) -> Iterator[tuple[dict[str, Any], Path]]:
    """Every document with this id (inputs can repeat ids), kept/ first, then rejected/.

    With the id index (built on first use, see ``IdIndex``) only the files holding the id are read; without
    it (or where ``state/`` is not writable) every file is scanned. Either way each line is compared with
    the id's JSON prefix, so only matches are parsed."""
    candidates = None
    if use_index:
        try:
            candidates = IdIndex(run_dir).load_or_build().files_of(doc_id)
        except OSError:
            candidates = None
    prefix = b'{"id":' + orjson.dumps(doc_id) + b","
    for which in where:
        for path in output_files(run_dir, which):
            if candidates is not None and path not in candidates:
                continue
            if path.name.endswith(".parquet"):
                yield from ((plain(row), path) for row in _parquet_rows(path) if row.get("id") == doc_id)
                continue
            for line in iter_lines(path):
                if line.startswith(prefix):
                    yield plain(orjson.loads(line)), path


def sample_reason(run_dir: str | Path, query: str, n: int, seed: int = 0) -> tuple[list[dict[str, Any]], int]:
    """A uniform sample of ``n`` rejected documents whose reason matches ``query``, and how many matched."""
    res = _Reservoir(n, seed)
    for path in output_files(run_dir, "rejected"):
        for line in iter_lines(path):
            reason = parse_reason(line)
            if reason and rule_matches(query, reason_key(reason)):
                res.add(line)
    return [plain(orjson.loads(x)) for x in res.items], res.n


def sample_removed_lines(run_dir: str | Path, query: str, n: int, seed: int = 0
                         ) -> tuple[list[dict[str, Any]], int]:
    """A uniform sample of ``n`` non-blank removed lines (from any document's meta) whose rule matches
    ``query``, and how many matched."""
    res = _Reservoir(n, seed)
    markers = (f'"{MetaKey.REMOVED_LINES}"'.encode(), f'"{MetaKey.CLEAN_LINES}"'.encode())
    for which in ("kept", "rejected"):
        for path in output_files(run_dir, which):
            for line in iter_lines(path):
                if markers[0] not in line and markers[1] not in line:
                    continue
                doc = orjson.loads(line)
                for entry in removed_lines_of(doc):
                    if str(entry["line"]).strip() and rule_matches(query, f"{entry.get('step')}.{entry.get('rule')}"):
                        res.add({**entry, "id": doc.get("id"), "url": doc.get("url")})
    return res.items, res.n
