"""``thresher eval extract --data DIR``: the ``thresher`` extract backend against resiliparse and
trafilatura, on the same pages in the same run.

Pages: ``wcxb-dev`` (1,497 pages, 7 page types) and ``cleaneval-dev`` (58). The block classifier is
trained and tested with k-fold cross-validation grouped by domain (no domain in both a training and a test
fold; the CleanEval pages take part in training and are scored on their own line); resiliparse and
trafilatura need no training and are scored on every page. Score: WCXB word-F1 (lower-cased ``\\w+``
tokens, bag-of-words F1 per page, an empty extraction scores 0, mean over pages), overall, per fold and
per page type.
"""

from __future__ import annotations

import argparse
import gzip
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from thresher_eval.clean import word_f1


def _baselines(pages: list[dict[str, Any]], data_dir: Path, names: list[str]) -> dict[str, np.ndarray]:
    """Word-F1 of each baseline extractor on every page."""
    from thresher.extract.html import BACKENDS

    raw = []
    for p in pages:
        if p["set"] == "wcxb":
            raw.append(gzip.decompress((data_dir / "wcxb-dev" / "html" / f"{p['id']}.html.gz").read_bytes()))
        else:
            raw.append((data_dir / "cleaneval-dev" / "input" / f"{p['id'][2:]}.html").read_bytes())
    out = {}
    for name in names:
        t0 = time.process_time()
        f1 = np.zeros(len(pages))
        for i, (page, html) in enumerate(zip(pages, raw)):
            try:
                text = BACKENDS[name](html, None)[0]
            except Exception:  # noqa: BLE001 - a failed page scores 0, as an empty extraction
                text = ""
            f1[i] = word_f1(text, page["gold"]["main_content"] or "")
        print(f"{name}: {len(pages) / (time.process_time() - t0):.1f} pages/s", file=sys.stderr)
        out[name] = f1
    return out


# body thresholds the nested selection chooses from (the shipped one: train_extract.BODY_THRESHOLD)
THRESHOLDS = (0.3, 0.35, 0.4, 0.45, 0.5)


def cross_validate(pages: list[dict[str, Any]], folds: int) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """Word-F1 of the thresher backend on every page, from a model that never saw the page's domain; of
    the oracle (the aligned block labels: the ceiling of any block selection); and each test fold's body
    threshold, chosen without its labels: the one of ``THRESHOLDS`` that scores best on the other folds."""
    from thresher.extract.block_model import BlockModel, keep_mask
    from thresher.extract.blocks import blocks_text
    from thresher.extract.lines import LineModel
    from thresher_eval.train_clean import BODY
    from thresher_eval.train_extract import domain_folds, page_matrix, train

    x, bounds, pv = page_matrix(pages, LineModel.load().featurizer)
    sizes = np.diff(bounds)
    fold = domain_folds(pages, folds)
    row_fold = np.repeat(fold, sizes)
    by_threshold = np.zeros((len(THRESHOLDS), len(pages)))
    oracle = np.zeros(len(pages))
    for k in range(folds):
        t0 = time.time()
        train_pages = np.flatnonzero(fold != k)
        arrays = train([pages[i] for i in train_pages], x[row_fold != k],
                       np.concatenate([[0], np.cumsum(sizes[train_pages])]), pv[train_pages], log=False)
        model = BlockModel.from_arrays(arrays)
        test = np.flatnonzero(fold == k)
        tb = np.concatenate([[0], np.cumsum(sizes[test])])
        p = model.predict(x[row_fold == k], tb, pv[test])
        for j, i in enumerate(test):
            page = pages[i]
            gold = page["gold"]["main_content"] or ""
            for t, threshold in enumerate(THRESHOLDS):
                by_threshold[t, i] = word_f1(blocks_text(page["blocks"], keep_mask(p[tb[j]:tb[j + 1]], threshold)), gold)
            oracle[i] = word_f1(blocks_text(page["blocks"], page["labels"] == BODY), gold)
        print(f"fold {k}: {len(test)} test pages, {time.time() - t0:.0f}s", file=sys.stderr)
    f1 = np.zeros(len(pages))
    chosen = []
    for k in range(folds):
        others = fold != k
        t = int(np.argmax(by_threshold[:, others].mean(axis=1)))
        chosen.append(THRESHOLDS[t])
        f1[fold == k] = by_threshold[t, fold == k]
    best_all = THRESHOLDS[int(np.argmax(by_threshold.mean(axis=1)))]
    print(f"body threshold per test fold: {chosen}; on all folds: {best_all}", file=sys.stderr)
    return f1, oracle, chosen


def cli(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="thresher eval extract", description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--cache", type=Path, default=None, help="pickle of the parsed pages, reused if present")
    ap.add_argument("--no-trafilatura", action="store_true", help="skip trafilatura (about 2 minutes)")
    args = ap.parse_args(argv)
    from thresher_eval.train_extract import load_pages

    pages = load_pages(args.data, args.cache)
    f1, oracle, thresholds = cross_validate(pages, args.folds)
    scores = {"thresher (CV by domain)": f1}
    scores.update(_baselines(pages, args.data, ["resiliparse"] + ([] if args.no_trafilatura else ["trafilatura"])))
    scores["oracle (aligned blocks)"] = oracle
    wcxb = np.array([p["set"] == "wcxb" for p in pages])
    types = sorted({p["page_type"] for p in pages if p["set"] == "wcxb"})
    by_type: dict[str, dict[str, float]] = defaultdict(dict)
    for name, f in scores.items():
        for t in types:
            by_type[name][t] = float(np.mean([f[i] for i, p in enumerate(pages) if p["page_type"] == t]))
    counts = {t: sum(p["page_type"] == t for p in pages) for t in types}
    print(f"wcxb-dev: {wcxb.sum()} pages, {len({p['domain'] for p in pages if p['set'] == 'wcxb'})} domains; "
          f"cleaneval-dev: {(~wcxb).sum()} pages; {args.folds}-fold CV grouped by domain; body threshold "
          f"per test fold, chosen on the other folds: {thresholds}\n")
    print("| method | wcxb-dev word-F1 | " + " | ".join(f"{t} ({counts[t]})" for t in types)
          + " | cleaneval-dev |")
    print("|---" * (len(types) + 3) + "|")
    for name, f in scores.items():
        print(f"| {name} | {f[wcxb].mean():.4f} | " + " | ".join(f"{by_type[name][t]:.3f}" for t in types)
              + f" | {f[~wcxb].mean():.4f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(cli(sys.argv[1:]))
