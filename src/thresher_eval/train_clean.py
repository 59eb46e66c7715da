"""Train the ``clean`` line model from WCXB pages, reproducibly.

    python -m thresher_eval.train_clean --data ../shared/data [--out src/thresher/models/clean_lines.json]

The task is derived, not hand-labelled: each WCXB page's HTML is turned into page text with all its
boilerplate (resiliparse ``extract_plain_text(main_content=False)``, one block per line, the form of a WET
record), and each line is labelled by aligning its tokens with the gold ``main_content`` (difflib over
lower-cased ``\\w+`` tokens): a line whose tokens are mostly matched is body. Lines equal to the gold title
are title, short lines holding the gold author or publication date are byline/date, the rest boilerplate.

The stopword list is derived too: the most frequent words of each language of the lingua sentences
(``lid/lingua-sentences``), plus the most frequent characters of Chinese and Japanese.

Needs scikit-learn (the eval extra); the result is a JSON file read by numpy alone. Fixed seeds throughout.
"""

from __future__ import annotations

import argparse
import difflib
import gzip
import pickle
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import orjson

from thresher import models
from thresher.extract.lines import LineFeaturizer, feature_names, split_page, stage2_inputs
from thresher_eval import require

TOKEN_RE = re.compile(r"\w+")
BOILER, BODY, TITLE, BYLINE = 0, 1, 2, 3
SEED = 1234
# the shipped model lives in the product package, which reads it with importlib.resources
MODEL_PATH = Path(models.__file__).resolve().parent / "clean_lines.json"


# --------------------------------------------------------------------------- data
def page_text(html: bytes) -> str:
    """Page text with all boilerplate, one block per line (what a WET record holds)."""
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.encoding import bytes_to_str, detect_encoding
    from resiliparse.parse.html import HTMLTree

    tree = HTMLTree.parse(bytes_to_str(html, detect_encoding(html)))
    return extract_plain_text(tree, main_content=False)


def _tokens(text: str) -> list[str]:
    return TOKEN_RE.findall(text.lower())


def _norm(text: str) -> str:
    return " ".join(_tokens(text))


MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december"]


def _date_tokens(iso: str) -> set[str]:
    """Tokens any rendering of an ISO date would hold (year, month name or number, day)."""
    m = re.match(r"(\d{4})-(\d{2})-(\d{2})", iso or "")
    if not m:
        return set()
    y, mo, d = m.groups()
    return {y, MONTHS[int(mo) - 1], MONTHS[int(mo) - 1][:3], mo, str(int(mo)), d, str(int(d))}


def align_labels(lines: list[str], gold: dict[str, Any]) -> np.ndarray:
    """Label each line: BODY if most of its tokens align with the gold main content, TITLE/BYLINE by match."""
    line_toks = [_tokens(s) for s in lines]
    flat = [t for toks in line_toks for t in toks]
    owner = np.repeat(np.arange(len(lines)), [len(t) for t in line_toks])
    main = _tokens(gold.get("main_content") or "")
    matched = np.zeros(len(flat), dtype=bool)
    if flat and main:
        sm = difflib.SequenceMatcher(None, flat, main, autojunk=False)
        for a, _, size in sm.get_matching_blocks():
            # A match of one or two tokens between unrelated lines is chance, not alignment.
            if size >= 3 or (size > 0 and size == len(line_toks[owner[a]])):
                matched[a:a + size] = True
    hits = np.bincount(owner[matched], minlength=len(lines)) if len(flat) else np.zeros(len(lines))
    counts = np.array([len(t) for t in line_toks])
    labels = np.where((counts > 0) & (hits >= 0.5 * np.maximum(counts, 1)), BODY, BOILER)
    title = _norm(gold.get("title") or "")
    author = _norm(gold.get("author") or "")
    dtoks = _date_tokens(gold.get("publish_date") or "")
    for i, toks in enumerate(line_toks):
        norm = " ".join(toks)
        if title and labels[i] != BODY and norm and (norm == title or (len(title) > 20 and title in norm
                                                                        and len(norm) < 1.3 * len(title))):
            labels[i] = TITLE
        elif labels[i] != BODY and 0 < len(toks) <= 12 and (
                (author and author in norm) or (dtoks and len(dtoks & set(toks)) >= 3)):
            labels[i] = BYLINE
    return labels


def load_wcxb(data_dir: Path, cache: Path | None = None) -> list[dict[str, Any]]:
    """Every WCXB dev page as {id, domain, page_type, text, lines, index, labels, gold}."""
    if cache is not None and cache.exists():
        with cache.open("rb") as fh:
            return pickle.load(fh)
    root = data_dir / "wcxb-dev"
    pages = []
    for gt_path in sorted((root / "ground-truth").glob("*.json")):
        meta = orjson.loads(gt_path.read_bytes())
        gold = meta["ground_truth"]
        html_path = root / "html" / f"{gt_path.stem}.html.gz"
        text = page_text(gzip.decompress(html_path.read_bytes()))
        page = split_page(text)
        host = urlsplit(meta.get("url") or "").netloc.lower()
        pages.append({
            "id": gt_path.stem, "domain": host[4:] if host.startswith("www.") else host,
            "page_type": meta.get("_internal", {}).get("page_type", {}).get("primary", "unknown"),
            "text": text, "lines": page.lines, "index": page.index,
            "labels": align_labels(page.lines, gold),
            "gold": {k: gold.get(k) for k in ("title", "author", "publish_date", "main_content")},
        })
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        with cache.open("wb") as fh:
            pickle.dump(pages, fh)
    return pages


def derive_stopwords(data_dir: Path, per_language: int = 40) -> tuple[list[str], str]:
    """The ``per_language`` most frequent words of every lingua language, and common CJK characters."""
    words: set[str] = set()
    cjk = ""
    for path in sorted((data_dir / "lid" / "lingua-sentences").glob("*.txt")):
        text = path.read_text(encoding="utf-8").lower()
        if path.stem in ("zh", "ja"):
            chars = Counter(ch for ch in text if "\u3040" <= ch <= "\u9fff")
            cjk += "".join(ch for ch, _ in chars.most_common(per_language) if ch not in cjk)
            continue
        counts = Counter(TOKEN_RE.findall(text))
        words.update(w for w, _ in counts.most_common(per_language) if not w.isdigit())
    return sorted(words), cjk


# --------------------------------------------------------------------------- training
def page_features(featurizer: LineFeaturizer, pages: list[dict[str, Any]], batch: int = 32) -> list[np.ndarray]:
    """Stage-1 features of every page (its lines are ``split_page(page["text"])``, as the step sees them)."""
    feats: list[np.ndarray] = []
    for i in range(0, len(pages), batch):
        chunk = featurizer.featurize([p["text"] for p in pages[i:i + batch]])
        feats += [chunk.x[a:b] for a, b in zip(chunk.bounds[:-1], chunk.bounds[1:])]
    return feats


def fit_mlp(x: np.ndarray, y: np.ndarray, w: np.ndarray, hidden: int, max_rows: int = 80_000,
            max_iter: int = 30) -> dict[str, Any]:
    """Fit a standardised MLP (or a logistic regression when ``hidden`` is 0); return its plain spec."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    mean = x.mean(axis=0)
    scale = x.std(axis=0) + 1e-6
    xs = (x - mean) / scale
    if hidden:
        # MLPClassifier has no sample weights in older releases: resample by weight instead (seeded).
        # A bounded sample keeps training to a minute or so on a shared machine.
        rng = np.random.default_rng(SEED)
        idx = rng.choice(len(xs), size=min(len(xs), max_rows), p=w / w.sum())
        clf = MLPClassifier(hidden_layer_sizes=(hidden,), alpha=1e-3, max_iter=max_iter, early_stopping=True,
                            random_state=SEED, batch_size=1024, learning_rate_init=3e-3)
        clf.fit(xs[idx], y[idx])
        layers = [(c, i) for c, i in zip(clf.coefs_, clf.intercepts_)]
    else:
        clf = LogisticRegression(max_iter=400, C=1.0)
        clf.fit(xs, y, sample_weight=w)
        layers = [(clf.coef_.T, clf.intercept_)]
    classes = list(clf.classes_)
    # Expand the output layer to all four classes (a class absent from training gets -inf-like bias).
    w_out, b_out = layers[-1]
    full_w = np.zeros((w_out.shape[0], 4))
    full_b = np.full(4, -30.0)
    if w_out.shape[1] == 1:  # binary logistic regression: one column for class 1
        full_w[:, classes[1]] = w_out[:, 0]
        full_b[classes[1]] = b_out[0]
        full_b[classes[0]] = 0.0
    else:
        for j, c in enumerate(classes):
            full_w[:, c] = w_out[:, j]
            full_b[c] = b_out[j]
    layers[-1] = (full_w, full_b)
    return {"mean": mean.tolist(), "scale": scale.tolist(),
            "layers": [(np.round(a, 6).tolist(), np.round(b, 6).tolist()) for a, b in layers]}


def _weights(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    # Word-F1 counts words, not lines: weight a line by (a damped) word count, so long lines matter more.
    words = np.expm1(x[:, feature_names(1).index("log_words")])
    return np.sqrt(1.0 + words)


def train(pages: list[dict[str, Any]], featurizer: LineFeaturizer, hidden: int = 32,
          inner_folds: int = 3, feats: list[np.ndarray] | None = None, stages: int = 2,
          max_rows: int = 80_000, max_iter: int = 30) -> dict[str, Any]:
    """Stage 1, and stage 2 on out-of-fold stage-1 scores: inside the training pages, ``inner_folds``
    folds grouped by domain, each scored by a stage 1 that did not see it (stage 2 trained on in-sample
    scores learns to trust them too much: it did not beat stage 1 that way)."""
    from thresher.extract.lines import MLP

    feats = feats if feats is not None else page_features(featurizer, pages)
    ys = [p["labels"] for p in pages]
    x1 = np.vstack(feats)
    y = np.concatenate(ys)
    w = _weights(y, x1)
    stage1 = fit_mlp(x1, y, w, hidden, max_rows, max_iter)
    if stages == 1:
        return {"stage1": stage1}
    folds = domain_folds(pages, inner_folds)
    oof: list[np.ndarray] = [np.zeros((0, 4))] * len(pages)
    for k in range(inner_folds):
        tr = [i for i in range(len(pages)) if folds[i] != k]
        spec = fit_mlp(np.vstack([feats[i] for i in tr]), np.concatenate([ys[i] for i in tr]),
                       np.concatenate([_weights(None, feats[i]) for i in tr]), hidden, max_rows, max_iter)
        mlp = MLP(spec)
        for i in range(len(pages)):
            if folds[i] == k and len(feats[i]):
                oof[i] = mlp.predict_proba(feats[i])
    x2 = np.vstack([stage2_inputs(p) for f, p in zip(feats, oof) if len(f)])
    y2 = np.concatenate([yy for f, yy in zip(feats, ys) if len(f)])
    stage2 = fit_mlp(x2, y2, w, hidden, max_rows, max_iter)
    return {"stage1": stage1, "stage2": stage2}


def domain_folds(pages: list[dict[str, Any]], k: int) -> np.ndarray:
    """Fold of each page; every domain in exactly one fold (deterministic hash of the domain)."""
    import zlib

    return np.array([zlib.crc32(p["domain"].encode()) % k for p in pages])


def build_model_from(pages: list[dict[str, Any]], feats: list[np.ndarray], stopwords: list[str], cjk: str,
                     hidden: int = 32, body_threshold: float = 0.35, stages: int = 2,
                     inner_folds: int = 3, max_rows: int = 250_000, max_iter: int = 40,
                     min_body_lines: int = 10) -> dict[str, Any]:
    """The model spec (plain JSON data) trained on ``pages`` whose stage-1 features are ``feats``."""
    spec = train(pages, LineFeaturizer(stopwords, cjk), hidden=hidden, feats=feats, stages=stages,
                 inner_folds=inner_folds, max_rows=max_rows, max_iter=max_iter)
    return {"version": 1, "classes": ["boilerplate", "body", "title", "byline"],
            "features": feature_names(1), "stage2_features": feature_names(2) if stages == 2 else [],
            "stopwords": stopwords, "cjk_common": cjk,
            "body_threshold": body_threshold, "min_body_lines": min_body_lines, **spec}


def build_model(data_dir: Path, pages: list[dict[str, Any]], hidden: int = 32,
                body_threshold: float = 0.35, stages: int = 2) -> dict[str, Any]:
    stopwords, cjk = derive_stopwords(data_dir)
    feats = page_features(LineFeaturizer(stopwords, cjk), pages)
    return build_model_from(pages, feats, stopwords, cjk, hidden, body_threshold, stages)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m thresher_eval.train_clean", description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--out", type=Path, default=MODEL_PATH)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/clean/wcxb_lines.pkl"))
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--body-threshold", type=float, default=0.35, help="chosen by thresher eval clean (nested CV)")
    ap.add_argument("--stages", type=int, default=2, choices=(1, 2))
    args = ap.parse_args(argv)
    if not require("python -m thresher_eval.train_clean", ["sklearn"]):
        return 2
    np.random.seed(SEED)
    pages = load_wcxb(args.data, args.cache)
    model = build_model(args.data, pages, hidden=args.hidden, body_threshold=args.body_threshold,
                        stages=args.stages)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(orjson.dumps(model))
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB) from {len(pages)} pages, "
          f"{sum(len(p['lines']) for p in pages)} lines", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
