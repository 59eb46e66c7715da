"""``thresher train classifier``: a fastText quality classifier from two sets of documents, DCLM's recipe.

    thresher train classifier --positive FILES... --negative FILES... -o MODEL.bin

Inputs are anything ``thresher run`` reads (WARC/ARC/WET, HTML, JSONL, Parquet, text; folders and
globs); HTML is extracted with the ``extract`` step first. Unreadable records are reported with their
file and offset, counted, and skipped. The recipe (Li et al., 2024, DCLM: OpenHermes 2.5 + ELI5 positives
against RefinedWeb negatives):

- balanced classes: the larger set is sampled down to the size of the smaller (seeded);
- the text normalised as DCLM scores it: lines joined by spaces (``classify.normalize_for_fasttext``);
- fastText supervised, DCLM's settings: bigrams (``wordNgrams 2``), ``dim 100``, ``lr 0.1``, 5 epochs,
  ``minCount 1``; one thread by default, so the same inputs and seed give the same model;
- a stratified held-out split (``--holdout``, default 10%) scored at the end: precision and recall of the
  positive label at probability 0.5, and ROC AUC.

The model's labels are ``hq`` (positive) and ``lq`` (negative): ``classify: {model: MODEL.bin}`` writes
``signals["<name>_hq"]`` and thresholds ``hq`` by default. Needs the ``train`` extra (a fastText binding
that trains; the ``fasttext`` extra's binding only predicts). Not imported by ``thresher run``.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from thresher.filters.classify import normalize_for_fasttext

POSITIVE, NEGATIVE = "hq", "lq"
NAN_RETRIES = 4


@dataclass
class FastTextParams:
    """DCLM's settings (``baselines/train_fasttext_classifier.py`` and its released bigram model)."""

    lr: float = 0.1
    dim: int = 100
    epoch: int = 5
    word_ngrams: int = 2
    min_count: int = 1
    bucket: int = 2_000_000   # hashed n-gram rows: fastText's default; the model holds bucket x dim floats
    threads: int = 1
    seed: int = 0


def read_texts(inputs: list[str], reader: dict[str, Any] | None = None) -> tuple[list[str], list[str], int]:
    """Texts of every document in ``inputs`` (HTML extracted), one line per record that failed, and how
    many records were skipped as no text (the reader's drops: not HTML, HTTP errors; empty extractions)."""
    from thresher.extract.html import Extract
    from thresher.io import plan_shards, read_shard

    errors: list[str] = []
    texts: list[str] = []
    skipped = 0
    extract = Extract()
    for shard in plan_shards(inputs):
        for doc in read_shard(shard, reader or {}, lambda err: errors.append(f"{err.source}: {err.message}")):
            if doc.reason is not None:   # the reader's own drops (not HTML, HTTP errors): not training data
                skipped += 1
                continue
            try:
                doc = extract.map(doc)
            except Exception as exc:  # noqa: BLE001 - one bad page costs itself
                errors.append(f"{doc.source}: extract: {type(exc).__name__}: {exc}")
                continue
            if doc.reason is None and doc.text.strip():
                texts.append(doc.text)
            else:
                skipped += 1
    return texts, errors, skipped


def _fasttext_trainer():
    try:
        import fasttext
    except ImportError:
        fasttext = None
    if fasttext is None or not hasattr(fasttext, "train_supervised"):
        raise ImportError("training needs a fastText binding that trains: pip install 'thresher[train]'")
    return fasttext


CHECK_ROWS = 10_000


def _finite(model: Any, texts: list[str]) -> bool:
    """No NaN in the model's output matrix nor in its scores of ``texts``."""
    if not np.isfinite(model.get_output_matrix()).all():
        return False
    return all(np.isfinite(model.predict(t, k=-1)[1]).all() for t in texts)


def fit(positives: list[str], negatives: list[str], params: FastTextParams | None = None) -> Any:
    """A fastText model of ``hq`` (positives) against ``lq`` (negatives), texts used as given."""
    fasttext = _fasttext_trainer()
    params = params or FastTextParams()
    rows = [f"__label__{POSITIVE} {normalize_for_fasttext(t)}" for t in positives]
    rows += [f"__label__{NEGATIVE} {normalize_for_fasttext(t)}" for t in negatives]
    random.Random(params.seed).shuffle(rows)
    with tempfile.TemporaryDirectory(prefix="thresher-train-") as tmp:
        path = Path(tmp) / "train.txt"
        path.write_text("\n".join(rows) + "\n", encoding="utf-8", errors="replace")
        # fastText (fasttext-numpy2-wheel 0.9.2) now and then raises "Encountered NaN" on a training that
        # succeeds when run again, identically, in the same process (seen in about one test run in five,
        # on tiny sets); a real divergence (lr too high) fails every time and is reported as such
        # It can also return a model whose vectors hold NaN without raising (the same CI run that passed
        # locally scored some documents NaN): the model is checked on its output matrix and on (up to
        # CHECK_ROWS of) its training texts, and retried like a raised NaN.
        check = [row.partition(" ")[2] for row in rows[:CHECK_ROWS]]
        for attempt in range(NAN_RETRIES + 1):
            try:
                model = fasttext.train_supervised(input=str(path), lr=params.lr, dim=params.dim,
                                                  epoch=params.epoch, wordNgrams=params.word_ngrams,
                                                  minCount=params.min_count, bucket=params.bucket,
                                                  thread=params.threads, seed=params.seed, verbose=0)
                if not _finite(model, check):
                    raise RuntimeError("the trained model scores NaN")
                return model
            except RuntimeError as exc:
                if "NaN" not in str(exc):
                    raise
                print(f"thresher train: fastText training hit NaN (attempt {attempt + 1} of {NAN_RETRIES + 1})",
                      file=sys.stderr)
        raise RuntimeError(f"fastText training diverged (NaN) {NAN_RETRIES + 1} times: lower --lr "
                           f"(now {params.lr})")


def positive_scores(model: Any, texts: list[str]) -> np.ndarray:
    """The model's probability of ``hq`` for each text."""
    out = np.zeros(len(texts))
    for i, text in enumerate(texts):
        labels, probs = model.predict(normalize_for_fasttext(text), k=-1, threshold=0.0)
        out[i] = dict(zip(labels, probs)).get(f"__label__{POSITIVE}", 0.0)
    return out


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve: the probability that a random positive outscores a random negative (ties
    count half); the Mann-Whitney U statistic over average ranks. NaN without both classes."""
    labels = np.asarray(labels, dtype=bool)
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if not n_pos or not n_neg:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = np.asarray(scores)[order]
    i = 0
    while i < len(scores):   # average rank over each run of tied scores
        j = i
        while j + 1 < len(scores) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def binary_metrics(scores: np.ndarray, labels: np.ndarray, threshold: float = 0.5,
                   keep: int | None = None) -> dict[str, float]:
    """Precision, recall and F1 of "positive" at ``score >= threshold`` (or, with ``keep``, for the ``keep``
    highest scores), accuracy, and ROC AUC."""
    labels = np.asarray(labels, dtype=bool)
    if keep is None:
        predicted = np.asarray(scores) >= threshold
    else:
        predicted = np.zeros(len(labels), dtype=bool)
        predicted[np.argsort(-np.asarray(scores), kind="stable")[:keep]] = True
    tp = int((predicted & labels).sum())
    fp = int((predicted & ~labels).sum())
    fn = int((~predicted & labels).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"n": len(labels), "kept": tp + fp, "precision": precision, "recall": recall, "f1": f1,
            "accuracy": float((predicted == labels).mean()) if len(labels) else 0.0,
            "auc": roc_auc(np.asarray(scores), labels)}


def balance(positives: list[str], negatives: list[str], seed: int) -> tuple[list[str], list[str]]:
    """Both classes the size of the smaller: the larger one sampled down (DCLM trains on balanced classes)."""
    n = min(len(positives), len(negatives))
    rng = random.Random(seed)
    return (rng.sample(positives, n) if len(positives) > n else positives,
            rng.sample(negatives, n) if len(negatives) > n else negatives)


def holdout_split(texts: list[str], fraction: float, seed: int) -> tuple[list[str], list[str]]:
    """(train, held out): a seeded shuffle, ``fraction`` of it held out (at least one when fraction > 0)."""
    shuffled = list(texts)
    random.Random(seed).shuffle(shuffled)
    n_out = max(1, round(len(shuffled) * fraction)) if fraction > 0 and len(shuffled) > 1 else 0
    return shuffled[n_out:], shuffled[:n_out]


def train_classifier(positive: list[str], negative: list[str], output: str | Path, holdout: float = 0.1,
                     params: FastTextParams | None = None, reader: dict[str, Any] | None = None,
                     log: Any = print) -> dict[str, Any]:
    """Read both sets, balance, hold out, train, evaluate, save. Returns the counts and held-out metrics."""
    params = params or FastTextParams()
    pos, pos_errors, pos_skipped = read_texts(positive, reader)
    neg, neg_errors, neg_skipped = read_texts(negative, reader)
    for line in pos_errors + neg_errors:
        log(f"skipped: {line}")
    if not pos or not neg:
        raise ValueError(f"need documents in both sets (positive: {len(pos)}, negative: {len(neg)})")
    pos_b, neg_b = balance(pos, neg, params.seed)
    pos_train, pos_test = holdout_split(pos_b, holdout, params.seed)
    neg_train, neg_test = holdout_split(neg_b, holdout, params.seed + 1)
    log(f"documents: positive {len(pos):,}, negative {len(neg):,}, unreadable {len(pos_errors) + len(neg_errors):,}, "
        f"without text {pos_skipped + neg_skipped:,}; "
        f"balanced to {len(pos_b):,} each; training on {len(pos_train):,} + {len(neg_train):,}, "
        f"holding out {len(pos_test):,} + {len(neg_test):,}")
    model = fit(pos_train, neg_train, params)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    model.save_model(str(output))
    result: dict[str, Any] = {"positive": len(pos), "negative": len(neg), "balanced": len(pos_b),
                              "unreadable": len(pos_errors) + len(neg_errors),
                              "without_text": pos_skipped + neg_skipped, "model": str(output)}
    if pos_test and neg_test:
        scores = positive_scores(model, pos_test + neg_test)
        labels = np.array([True] * len(pos_test) + [False] * len(neg_test))
        result["holdout"] = binary_metrics(scores, labels)
        m = result["holdout"]
        log(f"held out ({m['n']} documents, '{POSITIVE}' at p >= 0.5): precision {m['precision']:.3f}, "
            f"recall {m['recall']:.3f}, F1 {m['f1']:.3f}, AUC {m['auc']:.3f}")
    log(f"model: {output} (labels {POSITIVE}, {NEGATIVE}; use it as classify: {{model: {output}}})")
    return result


def cli(argv: list[str]) -> int:
    if not argv or argv[0] != "classifier":
        print("usage: thresher train classifier --positive FILES... --negative FILES... -o MODEL.bin",
              file=sys.stderr if argv and argv[0] not in ("-h", "--help") else sys.stdout)
        return 0 if not argv or argv[0] in ("-h", "--help") else 2
    ap = argparse.ArgumentParser(prog="thresher train classifier", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 2)[2])
    ap.add_argument("--positive", nargs="+", required=True, help="documents of the class to keep (label hq)")
    ap.add_argument("--negative", nargs="+", required=True, help="documents of the class to drop (label lq)")
    ap.add_argument("-o", "--output", required=True, help="the model file to write (.bin)")
    ap.add_argument("--holdout", type=float, default=0.1, help="share of each class held out for evaluation")
    ap.add_argument("--text-field", default="text", help="JSONL/Parquet text field")
    defaults = FastTextParams()
    for field, value in vars(defaults).items():
        ap.add_argument("--" + field.replace("_", "-"), type=type(value), default=value,
                        help=f"fastText {field} (default {value})")
    args = ap.parse_args(argv[1:])
    params = FastTextParams(**{f: getattr(args, f) for f in vars(defaults)})
    try:
        train_classifier(args.positive, args.negative, args.output, args.holdout, params,
                         reader={"text_field": args.text_field})
    except (ValueError, FileNotFoundError, ImportError, RuntimeError) as exc:
        print(f"thresher train classifier: {exc}", file=sys.stderr)
        return 1 if not isinstance(exc, ValueError) else 2
    return 0
