"""``thresher refilter RUN_DIR --preset NAME | --config FILE -o NEW_RUN``: decide a finished run's documents
again under changed filter thresholds, from the signals the run already wrote: nothing is read from the
inputs, extracted or cleaned again.

What may change between the run's pipeline and the new one: the parameters of a filter that decides from
its stored signals (``FilterStep.decide``: the recipe quality filters, ``language_filter``,
``c4_badwords``), and such filters may be removed. Anything else (a step added, a step that changes text
or needs the whole corpus with other parameters) is refused, naming the step: it needs a real run.

Each document of ``kept/`` and ``rejected/`` walks the new pipeline: an unchanged step keeps its old
decision, a changed filter decides again from the stored signals. A document a looser threshold lets
through must also pass the steps after the one that dropped it, which never saw it: filters that decide
from signals run on its stored text; any other step (deduplication) is refused, with the count of such
documents, since only a real run can decide them. A tighter threshold may drop a document whose
duplicates were dropped in its favour: they stay dropped (a full run would keep one of them); their
number is reported as ``orphaned_duplicates``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import orjson

from thresher.atomic import read_json, write_json
from thresher.document import Document, MetaKey
from thresher.io.writers import OutputWriter
from thresher.pipeline import Pipeline, load_pipeline, pipeline_from_spec
from thresher.report import write_card_and_report
from thresher.report.data import iter_lines, output_files
from thresher.rundir import RunDir, aggregate, length_bucket
from thresher.schema import Schema, document_from_row
from thresher.sites import site_label
from thresher.steps import FilterStep, GlobalStep, Step


class RefilterError(Exception):
    pass


def _entries(spec: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for entry in spec.get("steps") or []:
        if isinstance(entry, str):
            out.append((entry, {}))
        else:
            (name, params), = entry.items()
            out.append((name, dict(params or {})))
    return out


def _redecidable(step: Step, stored: set[str]) -> str | None:
    """Why ``step`` cannot be decided again from a run's stored signals, or None when it can."""
    if isinstance(step, GlobalStep):
        return "it needs the whole corpus (deduplication)"
    if not isinstance(step, FilterStep) or not step.decides_from_signals:
        return "it is not a filter that decides from stored signals"
    missing = [k for k in (*step.signal_fields(), *step.meta_fields()) if k not in stored]
    if missing:
        return f"the run did not store {', '.join(missing)}"
    return None


def match_steps(old: Pipeline, new: Pipeline, stored: set[str]) -> list[tuple[Step, Step | None, bool]]:
    """(old step, new step or None when removed, changed) in pipeline order; raises RefilterError for a
    change refilter cannot make."""
    old_entries, new_entries = _entries(old.spec or {}), _entries(new.spec or {})
    out: list[tuple[Step, Step | None, bool]] = []
    j = 0
    for i, (name, params) in enumerate(old_entries):
        if j < len(new_entries) and new_entries[j][0] == name:
            changed = new_entries[j][1] != params
            out.append((old.steps[i], new.steps[j], changed))
            j += 1
        else:
            out.append((old.steps[i], None, True))
    if j < len(new_entries):
        raise RefilterError(f"step {new_entries[j][0]!r} is not where it was in the run's pipeline (refilter "
                            "changes or removes filters; adding or moving a step needs a new run)")
    for old_step, new_step, changed in out:
        if changed and (why := _redecidable(new_step or old_step, stored)):
            what = "removed" if new_step is None else "changed"
            raise RefilterError(f"step {old_step.name!r} is {what}, and {why}; run the pipeline again instead")
    return out


class _Stats:
    def __init__(self, steps: list[Step]):
        self.names = [s.name for s in steps]
        self.entered, self.dropped = Counter(), Counter()
        self.reasons, self.languages, self.length_kept, self.removed_by_site = Counter(), Counter(), Counter(), Counter()


def refilter(run_dir: str | Path, output: str | Path, pipeline: Pipeline) -> dict[str, Any]:
    """Write ``output``: the run in ``run_dir`` decided again under ``pipeline``. Returns its summary."""
    started = time.time()
    src, dst = RunDir(run_dir), RunDir(output)
    if not src.plan_path.exists() or not (src.stats / "summary.json").exists():
        raise RefilterError(f"{src.path} is not a finished run directory (no state/plan.json or stats/summary.json)")
    if dst.path.exists():
        raise RefilterError(f"-o {dst.path}: exists already; refilter writes a new run directory")
    plan, old_summary = read_json(src.plan_path), read_json(src.stats / "summary.json")
    if not plan.get("pipeline") or "schema" not in plan:
        raise RefilterError(f"{src.path}: its plan holds no pipeline or schema (a run made by an older thresher, "
                            "or from Python without a spec); run the pipeline again")
    old = pipeline_from_spec(plan["pipeline"])
    stored = set(plan["schema"]["signals"]) | set(plan["schema"]["meta"])
    matched = match_steps(old, pipeline, stored)
    steps = [new for _, new, _ in matched if new is not None]
    for step in steps:
        step.setup()
    old_index = {s.name: k for k, s in reversed(list(enumerate(old.steps)))}

    dst.create()
    fmt = pipeline.writer.get("format", "jsonl.zst")
    schema = Schema.of(pipeline.steps)
    max_bytes = int(pipeline.writer.get("max_file_mb", 512) * 2**20)
    kept_out = OutputWriter(dst.kept, "00000", fmt, schema, max_bytes)
    rejected_out = OutputWriter(dst.rejected, "p0-00000", fmt, schema, max_bytes)
    stats = _Stats(steps)
    unreachable: Counter[str] = Counter()
    newly_dropped: set[str] = set()
    duplicates_of: Counter[str] = Counter()
    for which in ("kept", "rejected"):
        for path in output_files(src.path, which):
            for line in iter_lines(path):
                doc = document_from_row(orjson.loads(line))
                reason = _decide(doc, matched, old_index, stats, unreachable)
                if reason is not None and doc.reason is None:
                    newly_dropped.add(doc.id)
                if doc.reason is not None and doc.reason.duplicate_of is not None and reason is doc.reason:
                    duplicates_of[doc.reason.duplicate_of] += 1
                doc.reason = reason
                if not unreachable:  # else only counting, for the error message
                    _write(doc, kept_out, rejected_out, stats)
    if unreachable:
        kept_out.close()
        rejected_out.close()
        shutil.rmtree(dst.path)
        steps_named = ", ".join(f"{name} ({n:,})" for name, n in unreachable.most_common())
        raise RefilterError(f"{sum(unreachable.values()):,} documents the new thresholds let through never went "
                            f"through later steps that refilter cannot run: {steps_named}; run the pipeline again")
    kept_out.close()
    rejected_out.close()
    for err in src.errors.glob("*.jsonl"):
        shutil.copy2(err, dst.errors / err.name)

    orphaned = sum(n for kept_id, n in duplicates_of.items() if kept_id in newly_dropped)
    extracted = (old_summary.get("length_hist") or {}).get("extracted", {})
    write_json(dst.stats_path("p0", "00000"), {
        "phase": "p0", "shard": "00000", "input": str(src.path), "first": True, "last": True,
        "read": old_summary["read"], "kept": kept_out.count, "rejected": rejected_out.count,
        "errors": old_summary["errors"], "seconds": round(time.time() - started, 4),
        "input_bytes": old_summary.get("input_bytes", 0),
        "steps": {name: {"in": stats.entered[name], "dropped": stats.dropped[name], "seconds": 0.0}
                  for name in stats.names},
        "reasons": dict(stats.reasons), "languages": dict(stats.languages),
        "length_hist": {"extracted": extracted, "kept": dict(stats.length_kept)},
        "removed_by_site": dict(stats.removed_by_site.most_common(50)),
    })
    total = aggregate(dst)
    total.update(failed_tasks=[], complete=True, pipeline=pipeline.name, refiltered_from=str(src.path),
                 orphaned_duplicates=orphaned, wall_seconds=round(time.time() - started, 3))
    write_json(dst.stats / "summary.json", total)
    write_json(dst.plan_path, {**plan, "pipeline": pipeline.spec, "pipeline_key": pipeline.fingerprint(),
                               "pipeline_name": pipeline.name, "steps": [s.name for s in pipeline.steps],
                               "schema": schema.to_dict(), "refiltered_from": str(src.path)})
    write_card_and_report(dst.path, total, pipeline)
    return total


def _decide(doc: Document, matched: list[tuple[Step, Step | None, bool]], old_index: dict[str, int],
            stats: _Stats, unreachable: Counter) -> Any:
    """The document's reason under the new pipeline (None: kept); counts the steps it goes through."""
    old_reason = doc.reason
    if old_reason is not None and old_reason.step not in old_index:
        return old_reason  # dropped by the reader: no step saw it, none can change that
    dropped_at = len(matched) if old_reason is None else old_index[old_reason.step]
    for k, (_, step, changed) in enumerate(matched):
        if step is None:
            continue
        if k > dropped_at:  # a step the document never reached in the run
            if not (isinstance(step, FilterStep) and step.decides_from_signals and not isinstance(step, GlobalStep)):
                unreachable[step.name] += 1
                return old_reason
            reason = step.filter(doc)   # computes its signals from the stored text
        elif changed:
            reason = step.decide(doc)
        else:
            reason = old_reason if k == dropped_at else None
        stats.entered[step.name] += 1
        if reason is not None:
            stats.dropped[step.name] += 1
            return reason
    return None


def _write(doc: Document, kept_out: OutputWriter, rejected_out: OutputWriter, stats: _Stats) -> None:
    if doc.reason is None:
        stats.languages[str(doc.meta.get(MetaKey.LANGUAGE, "unknown"))] += 1
        stats.length_kept[length_bucket(len(doc.text))] += 1
        kept_out.write(doc)
    else:
        stats.reasons[doc.reason.key] += 1
        stats.removed_by_site[site_label(doc.url)] += 1
        rejected_out.write(doc)


def cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="thresher refilter", description=(
        "Decide a finished run's documents again under changed filter thresholds, from the signals it "
        "stored (no reading or extracting again), into a new run directory."))
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a finished run directory")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--preset", help="a shipped pipeline")
    which.add_argument("--config", help="a pipeline YAML file")
    parser.add_argument("-o", "--output", required=True, metavar="NEW_RUN", help="the new run directory")
    parser.add_argument("--output-format", choices=["jsonl.zst", "jsonl", "parquet"])
    args = parser.parse_args(argv)
    try:
        pipeline = load_pipeline(args.preset, args.config)
        if args.output_format:
            pipeline.writer["format"] = args.output_format
        total = refilter(args.run_dir, args.output, pipeline)
    except RefilterError as exc:
        print(f"thresher refilter: {exc}", file=sys.stderr)
        return 2
    from thresher.engines.driver import summary_lines

    for line in summary_lines(total):
        print(line)
    if total["orphaned_duplicates"]:
        print(f"{total['orphaned_duplicates']:,} duplicates stay dropped although the document they matched is "
              "now dropped (a full run would keep one of each such group)")
    print(f"refiltered in {total['wall_seconds']:.1f} s; report: {Path(args.output) / 'report.html'}")
    return 0
