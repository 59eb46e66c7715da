"""``thresher eval quality --data DIR``: each preset's precision and recall for "good" on human labels.

Data: ``DIR/quality/dclm-human-dev.jsonl`` (218 web documents, ``label`` 1 = good, 0 = bad; from DCLM's
majority-vote set). A preset "says good" when its document-level steps (everything but extraction and
deduplication, which need HTML or a corpus) keep the document. Also reports each recipe filter alone, and
the candidate combinations behind the ``default`` preset's choice (docs/filters.md).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from thresher.document import Document
from thresher.pipeline import make_step, preset_spec
from thresher.steps import GlobalStep, Step

SKIP = {"extract"}  # needs HTML; global steps (dedup) are skipped by type
PRESETS = ["fineweb", "c4", "gopher", "refinedweb", "default"]
# Single filters and the combinations considered for the default preset (name -> steps).
CANDIDATES: dict[str, list[Any]] = {
    "gopher_quality": ["gopher_quality"],
    "gopher_repetition": ["gopher_repetition"],
    "c4_lines (C4 setting)": ["c4_lines"],
    "c4_lines (FineWeb setting)": [{"c4_lines": {"filter_no_terminal_punct": False}}],
    "fineweb_quality": ["fineweb_quality"],
    "refinedweb_quality": ["refinedweb_quality"],
    "refinedweb_lines": ["refinedweb_lines"],
    "fineweb filters, no LID": ["gopher_repetition", "gopher_quality",
                                {"c4_lines": {"filter_no_terminal_punct": False}}, "fineweb_quality"],
    "gopher rep + quality + fineweb_quality": ["gopher_repetition", "gopher_quality", "fineweb_quality"],
    "gopher rep + quality + c4 (FineWeb)": ["gopher_repetition", "gopher_quality",
                                            {"c4_lines": {"filter_no_terminal_punct": False}}],
}


def _steps(entries: list[Any]) -> list[Step]:
    steps = []
    for entry in entries:
        name, params = (entry, None) if isinstance(entry, str) else next(iter(entry.items()))
        if name in SKIP:
            continue
        step = make_step(name, params)
        if isinstance(step, GlobalStep):
            continue
        step.setup()
        steps.append(step)
    return steps


def keeps(steps: list[Step], text: str, doc_id: str) -> tuple[bool, str | None]:
    doc = Document(id=doc_id, text=text)
    for step in steps:
        doc = step.process(doc)
        if doc.reason is not None:
            return False, doc.reason.key
    return True, None


def score(steps: list[Step], rows: list[dict]) -> dict[str, Any]:
    tp = fp = fn = tn = 0
    reasons: dict[str, int] = {}
    for i, row in enumerate(rows):
        kept, reason = keeps(steps, row["text"], str(i))
        good = int(row["label"]) == 1
        tp += kept and good
        fp += kept and not good
        fn += (not kept) and good
        tn += (not kept) and not good
        if reason:
            reasons[reason] = reasons.get(reason, 0) + 1
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"kept": tp + fp, "precision": precision, "recall": recall, "f1": f1,
            "accuracy": (tp + tn) / max(len(rows), 1), "reasons": reasons}


def cli(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="thresher eval quality", description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default="../shared/data", help="data dir holding quality/dclm-human-dev.jsonl")
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--no-candidates", action="store_true", help="presets only")
    args = ap.parse_args(argv)
    path = Path(args.data) / "quality" / "dclm-human-dev.jsonl"
    rows = [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]
    n_good = sum(int(r["label"]) == 1 for r in rows)
    print(f"{len(rows)} documents, {n_good} labelled good ({n_good / len(rows):.1%}: the precision of keeping all)\n")
    results: dict[str, Any] = {}
    table = ["| pipeline | kept | precision (good) | recall (good) | F1 | accuracy |", "|---|---|---|---|---|---|"]
    runs = [(f"preset {p}", preset_spec(p)["steps"]) for p in PRESETS]
    if not args.no_candidates:
        runs += list(CANDIDATES.items())
    for name, entries in runs:
        res = score(_steps(entries), rows)
        results[name] = res
        table.append(f"| {name} | {res['kept']} | {res['precision']:.3f} | {res['recall']:.3f} | {res['f1']:.3f} "
                     f"| {res['accuracy']:.3f} |")
    print("\n".join(table))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0
