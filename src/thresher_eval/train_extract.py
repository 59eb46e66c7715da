"""Train the ``thresher`` extract backend's block classifier, reproducibly.

    python -m thresher_eval.train_extract --data ../shared/data [--out src/thresher/models/extract_blocks.npz]

Labels are derived, not hand-made: every page of ``wcxb-dev`` (and ``cleaneval-dev``) is cut into blocks
exactly as the backend cuts it (``extract/blocks.py``), and each block is labelled by aligning its words
with the page's gold main content (the ``clean`` model's alignment, ``train_clean.align_labels``): a block
whose words are mostly matched is body. The classifier is LightGBM's gradient boosting (eval extra; 5x
scikit-learn's histogram boosting here, for the same trees), exported to flat arrays that numpy
evaluates (``block_model.TreeEnsemble``). One thread and fixed seeds: the same data gives the same file.

Two stages, as the ``clean`` model: stage 1 reads a block's own features and its neighbours'; stage 2
reads stage 1's scores around the block (windows before and after, the running maxima, the page's share)
with a few of its features, trained on out-of-fold stage-1 scores (inner folds grouped by domain) so that
it learns from scores like those it will see.
"""

from __future__ import annotations

import argparse
import gzip
import pickle
import re
import sys
import time
import zlib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import orjson

from thresher import models
from thresher.extract.block_model import TreeEnsemble, featurize, page_vector, stage2_features, with_pages
from thresher.extract.blocks import Blocks
from thresher.extract.extractor import decode, parse_page
from thresher.extract.head import Head
from thresher.extract.lines import LineModel
from thresher_eval import require
from thresher_eval.train_clean import BODY, align_labels

SEED = 1234
# the shipped model lives in the product package, which reads it with importlib.resources
MODEL_PATH = Path(models.__file__).resolve().parent / "extract_blocks.npz"
# Hyper-parameters, fixed in advance (not tuned per fold).
STAGE1 = {"n_estimators": 200, "learning_rate": 0.08, "num_leaves": 31, "max_depth": 8,
          "min_child_samples": 40, "reg_lambda": 1.0, "colsample_bytree": 0.8}
STAGE2 = {"n_estimators": 100, "learning_rate": 0.08, "num_leaves": 15, "max_depth": 6,
          "min_child_samples": 40, "reg_lambda": 1.0}
BODY_THRESHOLD = 0.35  # chosen by `thresher eval extract` (nested selection over THRESHOLDS)


def parse(raw: bytes) -> tuple[str, Blocks, Head]:
    """HTML bytes -> (decoded page, blocks, head), as the backend does it."""
    page = decode(raw)
    return (page, *parse_page(page))


def _cleaneval_gold(text: str) -> str:
    lines = text.splitlines()
    if lines and lines[0].startswith("URL:"):
        lines = lines[1:]
    return "\n".join(re.sub(r"^\s*<[phl]>\s*", "", s) for s in lines)


def load_pages(data_dir: Path, cache: Path | None = None) -> list[dict[str, Any]]:
    """Every page of wcxb-dev and cleaneval-dev: {id, set, domain, page_type, blocks, head, labels, gold}."""
    if cache is not None and cache.exists():
        with cache.open("rb") as fh:
            return pickle.load(fh)
    pages = []
    root = data_dir / "wcxb-dev"
    for gt_path in sorted((root / "ground-truth").glob("*.json")):
        meta = orjson.loads(gt_path.read_bytes())
        gold = meta["ground_truth"]
        _, blocks, head = parse(gzip.decompress((root / "html" / f"{gt_path.stem}.html.gz").read_bytes()))
        host = urlsplit(meta.get("url") or "").netloc.lower()
        pages.append({
            "id": gt_path.stem, "set": "wcxb", "domain": host.removeprefix("www."), "url": meta.get("url"),
            "page_type": meta.get("_internal", {}).get("page_type", {}).get("primary", "unknown"),
            "blocks": blocks, "head": head, "labels": align_labels(blocks.texts, gold),
            "gold": {k: gold.get(k) for k in ("title", "author", "publish_date", "main_content")},
        })
    root = data_dir / "cleaneval-dev"
    for path in sorted((root / "input").glob("*.html"), key=lambda p: int(p.stem)):
        raw = path.read_bytes()
        gold_text = _cleaneval_gold((root / "GoldStandard" / f"{path.stem}.txt").read_text(errors="replace"))
        _, blocks, head = parse(raw)
        m = re.search(rb'<text id="([^"]*)"', raw)
        host = urlsplit(m.group(1).decode("latin-1") if m else "").netloc.lower()
        gold = {"main_content": gold_text}
        pages.append({"id": f"ce{path.stem}", "set": "cleaneval", "domain": host.removeprefix("www."),
                      "url": m.group(1).decode("latin-1") if m else None,
                      "page_type": "cleaneval", "blocks": blocks, "head": head,
                      "labels": align_labels(blocks.texts, gold), "gold": gold})
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        with cache.open("wb") as fh:
            pickle.dump(pages, fh)
    return pages


def domain_folds(pages: list[dict[str, Any]], k: int, salt: str = "") -> np.ndarray:
    """Fold of each page; every domain in exactly one fold (a fixed hash of the domain)."""
    return np.array([zlib.crc32((salt + p["domain"]).encode()) % k for p in pages])


def page_matrix(pages: list[dict[str, Any]], lines: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Block features of ``pages`` (in batches, as the backend computes them), their bounds, and the
    page vectors."""
    xs, sizes = [], []
    for i in range(0, len(pages), 32):
        chunk = pages[i:i + 32]
        x, bounds = featurize([(p["blocks"], p["head"]) for p in chunk], lines)
        xs.append(x)
        sizes.extend(np.diff(bounds).tolist())
    pv = np.vstack([page_vector(p["blocks"], p["head"], p.get("url")) for p in pages])
    return np.vstack(xs), np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64), pv


def _fit(x: np.ndarray, y: np.ndarray, w: np.ndarray, params: dict[str, Any]) -> dict[str, np.ndarray]:
    """A binary LightGBM ensemble fitted on (x, y) with row weights w, as the arrays of ``TreeEnsemble``."""
    import lightgbm

    model = lightgbm.LGBMClassifier(random_state=SEED, n_jobs=1, deterministic=True, force_row_wise=True,
                                    verbose=-1, **params)
    model.fit(x, y, sample_weight=w)
    return export(model.booster_.dump_model()["tree_info"])


def export(trees: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """LightGBM's dumped trees as flat arrays, nodes numbered in pre-order, a leaf its own child."""
    flat = []
    for tree in trees:
        nodes: list[list[Any]] = []  # [feature, threshold, left, right, value, depth]

        def add(node: dict[str, Any], depth: int, nodes: list[list[Any]] = nodes) -> int:
            i = len(nodes)
            if "leaf_value" in node:
                nodes.append([0, np.inf, i, i, node["leaf_value"], depth])
                return i
            if node.get("decision_type", "<=") != "<=":
                raise ValueError("only numeric splits are exported")
            nodes.append([node["split_feature"], node["threshold"], -1, -1, 0.0, depth])
            nodes[i][2] = add(node["left_child"], depth + 1)
            nodes[i][3] = add(node["right_child"], depth + 1)
            return i

        add(tree["tree_structure"], 0)
        flat.append(nodes)
    width = max(len(t) for t in flat)
    arrays = {name: np.zeros((len(flat), width), dtype=dtype) for name, dtype in (
        ("feature", np.int32), ("threshold", np.float64), ("left", np.int32), ("right", np.int32),
        ("value", np.float64))}
    for t, nodes in enumerate(flat):
        cols = list(zip(*nodes))
        for j, name in enumerate(("feature", "threshold", "left", "right", "value")):
            arrays[name][t, :len(nodes)] = cols[j]
    arrays["baseline"] = np.float64(0.0)  # LightGBM folds its initial score into the first tree
    arrays["depth"] = np.int32(max(max(n[5] for n in nodes) for nodes in flat))
    return arrays


def word_weights(x: np.ndarray) -> np.ndarray:
    """Word-F1 counts words, not blocks: a block weighs (a damped) count of its words."""
    from thresher.extract.block_model import feature_names

    return np.sqrt(1.0 + np.expm1(x[:, feature_names().index("line_log_words")]))


def train(pages: list[dict[str, Any]], x: np.ndarray, bounds: np.ndarray, pv: np.ndarray, inner_folds: int = 3,
          log: bool = True) -> dict[str, np.ndarray]:
    """Both stages on ``pages`` (block features ``x``, page vectors ``pv``), as the arrays of the model
    file. Stage 2 learns from out-of-fold stage-1 scores (inner folds grouped by domain), like those it
    will see on new pages."""
    y = np.concatenate([p["labels"] == BODY for p in pages]).astype(np.int8)
    w = word_weights(x)
    t0 = time.time()
    page_fold = domain_folds(pages, inner_folds, salt="inner")
    x = with_pages(x, bounds, pv)
    stage1 = _fit(x, y, w, STAGE1)
    # out-of-fold stage-1 scores for stage 2's training rows
    fold = np.repeat(page_fold, np.diff(bounds))
    oof = np.zeros(len(x))
    for k in range(inner_folds):
        inner = _fit(x[fold != k], y[fold != k], w[fold != k], STAGE1)
        oof[fold == k] = TreeEnsemble(inner).predict_proba(x[fold == k])
    x2 = stage2_features(oof, x, bounds)
    stage2 = _fit(x2, y, w, STAGE2)
    if log:
        print(f"trained on {len(pages)} pages, {len(x)} blocks in {time.time() - t0:.0f}s", file=sys.stderr)
    arrays = {f"s1_{k}": v for k, v in stage1.items()} | {f"s2_{k}": v for k, v in stage2.items()}
    arrays["body_threshold"] = np.float64(BODY_THRESHOLD)
    return arrays


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m thresher_eval.train_extract", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="the shared data folder (wcxb-dev, cleaneval-dev)")
    ap.add_argument("--out", type=Path, default=MODEL_PATH)
    ap.add_argument("--cache", type=Path, default=None, help="pickle of the parsed pages, reused if present")
    args = ap.parse_args(argv)
    if not require("python -m thresher_eval.train_extract", ["lightgbm"]):
        return 2
    pages = load_pages(args.data, args.cache)
    x, bounds, pv = page_matrix(pages, LineModel.load().featurizer)
    arrays = train(pages, x, bounds, pv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("wb") as fh:
        np.savez_compressed(fh, **arrays)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KB)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
