"""The run directory: the unit of work and of resumption.

    RUN_DIR/
      kept/TASK-NNN.jsonl.zst     documents kept by the whole pipeline (rolled at --max-file-mb; none empty)
      rejected/pP-TASK-NNN.jsonl.zst  documents dropped in phase P, each with its reason
      errors/pP-TASK.jsonl        records that could not be read or processed (source, message); only
                                  where there were any
      stats/pP-TASK.json          per phase and task: counts, reasons, step times; written last, so it is
                                  also the task's "done" marker
      stats/summary.json          the aggregate, written at the end of a run
      state/plan.json             inputs, tasks, pipeline, schema: a re-run with the same command resumes
      state/STEP/                 a global step's signatures and decisions (kept for incremental runs)
      work/stageN/TASK.jsonl.zst  documents between phases (deleted when the run completes)
      README.md                   the dataset card
      report.html
      .lock                       held by the run using the directory: a second run into it is refused
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections import Counter
from pathlib import Path
from typing import IO, Any

from thresher.atomic import read_json


class RunInUse(Exception):
    pass


class RunDir:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.kept = self.path / "kept"
        self.rejected = self.path / "rejected"
        self.errors = self.path / "errors"
        self.stats = self.path / "stats"
        self.state = self.path / "state"
        self.work = self.path / "work"

    def create(self) -> None:
        for folder in (self.kept, self.rejected, self.errors, self.stats, self.state, self.work):
            folder.mkdir(parents=True, exist_ok=True)

    @property
    def plan_path(self) -> Path:
        return self.state / "plan.json"

    def stats_path(self, phase: str, part: str) -> Path:
        return self.stats / f"{phase}-{part}.json"

    def is_done(self, phase: str, part: str) -> bool:
        return self.stats_path(phase, part).exists()

    def stage_path(self, stage: int, shard: str) -> Path:
        return self.work / f"stage{stage}" / shard

    def step_dir(self, name: str) -> Path:
        return self.state / name

    def lock(self) -> IO[str]:
        """Take the directory for this process (and the workers it forks) until the returned file is closed
        or the process ends; RunInUse if another run holds it."""
        fh = open(self.path / ".lock", "a+")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.seek(0)
            holder = fh.read().strip() or "?"
            fh.close()
            raise RunInUse(f"{self.path} is in use by another thresher run (pid {holder}); wait for it to end, "
                           "or choose another output folder") from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        return fh

    def clear(self) -> None:
        """Remove everything of an earlier run but the lock (``--restart``)."""
        for child in self.path.iterdir():
            if child.name == ".lock":
                continue
            shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()

    def remove_stale_tmp(self) -> int:
        """Remove temporary files and folders (``*.tmp``) that killed processes left; call with the lock held,
        when no process of this directory can be writing. Returns how many were removed."""
        removed = 0
        for root, dirs, names in os.walk(self.path):
            for name in [d for d in dirs if d.endswith(".tmp")]:
                shutil.rmtree(os.path.join(root, name), ignore_errors=True)
                dirs.remove(name)
                removed += 1
            for name in names:
                if name.endswith(".tmp"):
                    os.unlink(os.path.join(root, name))
                    removed += 1
        return removed

    def shard_stats(self) -> list[dict[str, Any]]:
        return [read_json(p) for p in sorted(self.stats.glob("p*-*.json"))]


def _add(total: dict, part: dict) -> None:
    for key, value in part.items():
        if isinstance(value, dict):
            _add(total.setdefault(key, {}), value)
        elif isinstance(value, (int, float)):
            total[key] = total.get(key, 0) + value


def aggregate(run_dir: RunDir) -> dict[str, Any]:
    """Sum the per-shard stats into the run's totals, with the reconciliation of every input record."""
    total: dict[str, Any] = {"read": 0, "kept": 0, "rejected": 0, "errors": 0, "input_bytes": 0, "steps": {}, "reasons": {},
                             "languages": {}, "by_language": {}, "length_hist": {}, "removed_by_site": {},
                             "phases": {}}
    for stats in run_dir.shard_stats():
        phase = stats["phase"]
        _add(total["phases"].setdefault(phase, {}), {k: stats.get(k, 0) for k in ("read", "kept", "rejected", "errors",
                                                                                 "seconds", "input_bytes",
                                                                                 "read_bytes")})
        total["read"] += stats["read"] if stats["first"] else 0
        total["input_bytes"] += stats.get("input_bytes", 0) if stats["first"] else 0
        total["kept"] += stats["kept"] if stats["last"] else 0
        total["rejected"] += stats["rejected"]
        total["errors"] += stats["errors"]
        for key in ("steps", "reasons", "languages", "by_language", "length_hist", "removed_by_site"):
            _add(total[key], stats.get(key, {}))
        if stats.get("tokens"):   # only runs with a ``tokens`` step count tokens
            _add(total.setdefault("tokens", {}), stats["tokens"])
    total["removed_by_site"] = dict(Counter(total["removed_by_site"]).most_common(50))
    total["reconciled"] = total["read"] == total["kept"] + total["rejected"] + total["errors"]
    return total


def tokens_line(total: dict[str, Any]) -> str | None:
    """The run's token totals, or None when no ``tokens`` step counted any (no figure is invented)."""
    tokens = total.get("tokens")
    if not tokens:
        return None
    share = f" ({tokens['kept'] / tokens['read']:.1%})" if tokens["read"] else ""
    return (f"tokens: read {tokens['read']:,}, kept {tokens['kept']:,}{share}, dropped {tokens['rejected']:,}"
            + (f", in errors {tokens['errors']:,}" if tokens.get("errors") else ""))


def run_ok(total: dict[str, Any]) -> bool:
    """True only when nothing was lost: the counts add up, no record failed, no task failed."""
    return bool(total.get("reconciled")) and not total.get("errors") and not total.get("failed_tasks") \
        and total.get("complete", True)


def reconcile_line(total: dict[str, Any]) -> str:
    """``read R = kept K + rejected J + errors E  [ok]``; ``[FAILED]`` when anything was lost: an error, a
    failed task (the shards it did not finish are counted as ``unfinished``), counts that do not add up."""
    line = (f"read {total['read']} = kept {total['kept']} + rejected {total['rejected']} "
            f"+ errors {total['errors']}")
    failed = len(total.get("failed_tasks") or [])
    unfinished = total["read"] - total["kept"] - total["rejected"] - total["errors"]
    if failed and unfinished > 0:
        line += f" + unfinished {unfinished}"
    if run_ok(total):
        return line + "  [ok]"
    why = [f"{failed} task{'s' * (failed != 1)} failed"] if failed else []
    if not total.get("reconciled") and not failed:
        why.append("the counts do not add up")
    return line + "  [FAILED" + (": " + ", ".join(why) if why else "") + "]"


def length_bucket(n: int) -> str:
    """The stats' length histogram bucket of ``n`` characters: "0", "1-1", "2-3", "4-7", ..."""
    if n <= 0:
        return "0"
    low = 1 << (n.bit_length() - 1)
    return f"{low}-{2 * low - 1}"
