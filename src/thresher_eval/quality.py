"""``thresher eval quality --data DIR``: each preset's precision and recall for "good" on human labels.

Data: ``DIR/quality/dclm-human-dev.jsonl`` (218 web documents, ``label`` 1 = good, 0 = bad; from DCLM's
majority-vote set). A preset "says good" when its document-level steps (everything but extraction and
deduplication, which need HTML or a corpus) keep the document. Also reports each recipe filter alone, and
the candidate combinations behind the ``default`` preset's choice (docs/filters.md).

The ``classify`` step is scored too (needs the ``train`` extra): a fastText classifier trained the way
``thresher train classifier`` trains (DCLM's settings, balanced classes; 200,000 hash buckets instead of
2M, as the set is tiny), evaluated by stratified k-fold cross-validation repeated with several seeds (each
document scored by a model that never saw it; metrics are the mean over repeats), at two operating
points: kept at ``hq >= 0.5``, and its best N documents, N being what the ``default`` preset keeps (the
precision of a classifier and of the rules at the same size). With a ``wcxb-dev/`` folder in DIR, two
more classifiers: one trained on proxy labels only (WCXB pages' gold main content as positives, the same
pages' whole text with boilerplate as negatives; scored on all 218 documents, none of which it saw), and
the cross-validated one with that proxy data added to each training fold. 218 documents make every figure coarse: one document is 0.5% of the set.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
from pathlib import Path
from typing import Any

import numpy as np

from thresher.document import Document
from thresher.pipeline import make_step, preset_spec, step_entries
from thresher.runner import apply_step, setup_steps
from thresher.steps import GlobalStep, Step
from thresher.train import FastTextParams

# DCLM's settings, as ``thresher train classifier`` uses them, but 200,000 hash buckets instead of 2M: the
# set is tiny, and each of the 30 models would otherwise hold 800 MB
CLASSIFIER_PARAMS = FastTextParams(bucket=200_000)
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
    """The document-level steps of a ``steps:`` list, set up (extraction and global steps left out)."""
    steps = [make_step(name, params) for name, params in step_entries(entries) if name not in SKIP]
    steps = [step for step in steps if not isinstance(step, GlobalStep)]
    setup_steps(steps)
    return steps


def keeps(steps: list[Step], text: str, doc_id: str) -> tuple[bool, str | None]:
    doc = Document(id=doc_id, text=text)
    for step in steps:
        apply_step(step, [doc])  # a step that raises stops the evaluation: it is a bug to see
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


def _folds(labels: list[int], k: int, seed: int) -> list[int]:
    """A fold number per document, stratified: each class dealt round-robin after a seeded shuffle."""
    fold = [0] * len(labels)
    rng = random.Random(seed)
    for cls in (0, 1):
        members = [i for i, y in enumerate(labels) if y == cls]
        rng.shuffle(members)
        for j, i in enumerate(members):
            fold[i] = j % k
    return fold


def proxy_sets(data: Path, limit: int = 600) -> tuple[list[str], list[str]]:
    """WCXB pages: gold main content (positive) and the whole page's text, boilerplate included (negative)."""
    from resiliparse.extract.html2text import extract_plain_text

    pos, neg = [], []
    for path in sorted((data / "wcxb-dev" / "ground-truth").glob("*.json"))[:limit]:
        gold = json.loads(path.read_text(encoding="utf-8"))["ground_truth"].get("main_content") or ""
        html_path = data / "wcxb-dev" / "html" / f"{path.stem}.html.gz"
        if not gold.strip() or not html_path.exists():
            continue
        html = gzip.decompress(html_path.read_bytes()).decode("utf-8", "replace")
        pos.append(gold)
        neg.append(extract_plain_text(html, main_content=False))
    return pos, neg


def cv_scores(rows: list[dict], folds: int = 5, repeats: int = 3,
              extra: tuple[list[str], list[str]] = ([], [])) -> list[np.ndarray]:
    """Out-of-fold ``hq`` probabilities, one vector per repeat: each document scored by a model trained (as
    ``thresher train classifier`` trains) on the other folds, plus ``extra`` (positives, negatives)."""
    from thresher.train import balance, fit, positive_scores

    labels = [int(r["label"]) for r in rows]
    runs = []
    for rep in range(repeats):
        fold = _folds(labels, folds, seed=rep)
        scores = np.zeros(len(rows))
        for f in range(folds):
            pos = [r["text"] for r, k in zip(rows, fold) if k != f and int(r["label"]) == 1] + extra[0]
            neg = [r["text"] for r, k in zip(rows, fold) if k != f and int(r["label"]) == 0] + extra[1]
            model = fit(*balance(pos, neg, seed=rep), CLASSIFIER_PARAMS)
            test = [i for i, k in enumerate(fold) if k == f]
            scores[test] = positive_scores(model, [rows[i]["text"] for i in test])
        runs.append(scores)
    return runs


def operating_points(name: str, runs: list[np.ndarray], labels: np.ndarray,
                     keep: int) -> list[tuple[str, dict[str, Any]]]:
    """Two rows for a classifier's scores (means over runs): kept at ``hq >= 0.5``, and its ``keep`` best."""
    from thresher.train import binary_metrics

    def mean(metrics: list[dict[str, float]]) -> dict[str, Any]:
        return {key: float(np.mean([m[key] for m in metrics])) for key in metrics[0]}

    return [(f"{name}: hq >= 0.5", mean([binary_metrics(s, labels) for s in runs])),
            (f"{name}: best {keep}", mean([binary_metrics(s, labels, keep=keep) for s in runs]))]


def classifier_rows(rows: list[dict], data: Path, keep: int, folds: int = 5,
                    repeats: int = 3) -> list[tuple[str, dict[str, Any]]]:
    from thresher.train import balance, fit, positive_scores

    labels = np.array([int(r["label"]) == 1 for r in rows])
    cv = f"{folds}-fold CV x {repeats}"
    out = operating_points(f"fastText, DCLM labels, {cv}", cv_scores(rows, folds, repeats), labels, keep)
    if (data / "wcxb-dev" / "ground-truth").is_dir():
        proxy = proxy_sets(data)
        model = fit(*balance(*proxy, seed=0), CLASSIFIER_PARAMS)
        out += operating_points(f"fastText, WCXB proxy labels only ({len(proxy[0])} + {len(proxy[1])})",
                                [positive_scores(model, [r["text"] for r in rows])], labels, keep)
        out += operating_points(f"fastText, DCLM labels + WCXB proxy, {cv}",
                                cv_scores(rows, folds, repeats, extra=proxy), labels, keep)
    return out


def cli(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="thresher eval quality", description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default="../shared/data", help="data dir holding quality/dclm-human-dev.jsonl")
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--no-candidates", action="store_true", help="presets only")
    ap.add_argument("--no-classifier", action="store_true", help="skip the trained fastText classifier rows")
    ap.add_argument("--folds", type=int, default=5, help="cross-validation folds for the classifier")
    ap.add_argument("--repeats", type=int, default=3, help="cross-validation repeats (seeds)")
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
    notes = []
    if not args.no_classifier:
        try:
            # "best N": as many documents as the default preset keeps, to compare precision at equal size
            classified = classifier_rows(rows, Path(args.data), results["preset default"]["kept"], args.folds,
                                         args.repeats)
        except ImportError as exc:
            notes.append(f"classifier rows skipped: {exc}")
            classified = []
        for name, res in classified:
            results[name] = res
            table.append(f"| {name} | {res['kept']:.1f} | {res['precision']:.3f} | {res['recall']:.3f} "
                         f"| {res['f1']:.3f} | {res['accuracy']:.3f} |")
            if name.endswith("hq >= 0.5"):
                notes.append(f"{name.rsplit(':', 1)[0]}: ROC AUC {res['auc']:.3f}")
    print("\n".join(table))
    if notes:
        print("\n" + "\n".join(notes))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0
