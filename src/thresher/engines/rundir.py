"""The run directory: the unit of work and of resumption.

    RUN_DIR/
      kept/SHARD.jsonl.zst        documents kept by the whole pipeline
      rejected/pP-SHARD.jsonl.zst documents dropped in phase P, each with its reason
      errors/pP-SHARD.jsonl       records that could not be read or processed (source, message)
      stats/pP-SHARD.json         per phase and shard: counts, reasons, step times; written last, so it is
                                  also the shard's "done" marker
      stats/summary.json          the aggregate, written at the end of a run
      state/plan.json             inputs, shards, pipeline: a re-run with the same command resumes from it
      state/STEP/                 a global step's signatures and decisions (kept for incremental runs)
      work/stageN/SHARD.jsonl.zst documents between phases (deleted when the run completes)
      report.html
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from thresher.atomic import read_json


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
    total: dict[str, Any] = {"read": 0, "kept": 0, "rejected": 0, "errors": 0, "steps": {}, "reasons": {},
                             "languages": {}, "length_hist": {}, "removed_by_site": {}, "phases": {}}
    for stats in run_dir.shard_stats():
        phase = stats["phase"]
        _add(total["phases"].setdefault(phase, {}), {k: stats[k] for k in ("read", "kept", "rejected", "errors",
                                                                          "seconds")})
        total["read"] += stats["read"] if stats["first"] else 0
        total["kept"] += stats["kept"] if stats["last"] else 0
        total["rejected"] += stats["rejected"]
        total["errors"] += stats["errors"]
        for key in ("steps", "reasons", "languages", "length_hist", "removed_by_site"):
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


def reconcile_line(total: dict[str, Any]) -> str:
    mark = "ok" if total["reconciled"] else "MISMATCH"
    return (f"read {total['read']} = kept {total['kept']} + rejected {total['rejected']} "
            f"+ errors {total['errors']}  [{mark}]")
