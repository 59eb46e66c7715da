"""``thresher eval clean --data DIR``: the clean step against line-rule baselines on WCXB page text.

Each WCXB dev page is turned into page text with all its boilerplate (resiliparse, whole page, one block
per line) and its lines are labelled by alignment with the gold main content (see ``train_clean``). The
line model is then trained and tested with k-fold cross-validation grouped by domain (no domain in both a
training and a test fold), and every method is scored on the same pages in the same run:

- line-level precision/recall/F1 of "body" against the aligned labels;
- WCXB word-F1 of the cleaned text against the gold ``main_content`` (lower-cased ``\\w+`` tokens, bag of
  words F1 per page, empty prediction scores 0, mean over pages), overall and per page type.

Baselines, applied line by line to the same text: keep-all; C4's line rules; RefinedWeb/DCLM's line
rules; jusText with each line a paragraph (stoplist chosen by pycld2's language, English if it has none);
and "oracle", the aligned labels themselves (the ceiling of any line selection).
"""

from __future__ import annotations

import argparse
import html
import re
import sys
import time
from collections import Counter, defaultdict
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from thresher_eval.train_clean import BODY, domain_folds, load_wcxb

TOKEN_RE = re.compile(r"\w+")


def word_f1(pred: str, gold: str) -> float:
    """WCXB word-F1: bag of lower-cased ``\\w+`` tokens, overlap by min counts."""
    p = Counter(TOKEN_RE.findall(pred.lower()))
    g = Counter(TOKEN_RE.findall(gold.lower()))
    overlap = sum((p & g).values())
    if not overlap:
        return 0.0
    precision = overlap / sum(p.values())
    recall = overlap / sum(g.values())
    return 2 * precision * recall / (precision + recall)


# --------------------------------------------------------------------------- baselines (line masks)
@lru_cache(maxsize=1)
def _c4_step() -> Any:
    from thresher.filters.c4 import C4Lines

    return C4Lines(filter_lorem_ipsum=False, filter_curly_bracket=False, min_num_sentences=None)


@lru_cache(maxsize=1)
def _refinedweb_step() -> Any:
    from thresher.filters.refinedweb import RefinedWebLines

    return RefinedWebLines(max_removed_words_ratio=None)


def c4_lines(lines: list[str]) -> np.ndarray:
    """C4's line rules as a line mask: the ``c4_lines`` step's own rules (``C4Lines.line_rules``: terminal
    punctuation, 3+ words, no over-long word, no 'javascript' or policy phrase). The page-level rules (lorem
    ipsum, a curly bracket, too few sentences) are left out: here we compare line selection."""
    rules = _c4_step().line_rules("\n".join(lines), lines)[0]
    return np.fromiter((r is None for r in rules), dtype=bool, count=len(lines))


def refinedweb_lines(lines: list[str]) -> np.ndarray:
    """RefinedWeb/DCLM's line corrections as a line mask: the ``refinedweb_lines`` step's own rules
    (``RefinedWebLines.line_rules``: drop lines mostly upper-case, numeric, social counters, one-word
    lines, short lines that are only boilerplate phrases). The page-level drop (too many words removed) is
    left out, and a line kept with a phrase cut out of it counts as kept."""
    rules = _refinedweb_step().line_rules("\n".join(lines), lines)[0]
    return np.fromiter((r is None for r in rules), dtype=bool, count=len(lines))


def justext_lines(lines: list[str]) -> np.ndarray:
    """jusText with every line a paragraph; the stoplist of the page's language when jusText has one."""
    import justext
    import pycld2

    text = "\n".join(lines)
    lang = "English"
    try:
        reliable, _, details = pycld2.detect(re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", " ", text))
        name = details[0][0].capitalize()
        if reliable and name in justext.get_stoplists():
            lang = name
    except pycld2.error:
        pass
    doc = "<html><body>" + "".join(f"<p>{html.escape(s)}</p>" for s in lines) + "</body></html>"
    paragraphs = justext.justext(doc.encode("utf-8"), justext.get_stoplist(lang), encoding="utf-8")
    good = [not p.is_boilerplate for p in paragraphs]
    if len(good) != len(lines):  # jusText dropped an empty paragraph: match by text instead
        kept = Counter(p.text.strip() for p in paragraphs if not p.is_boilerplate)
        good = []
        for s in lines:
            k = " ".join(s.split())
            good.append(kept[k] > 0)
            if kept[k]:
                kept[k] -= 1
    return np.array(good, dtype=bool)


# --------------------------------------------------------------------------- evaluation
# (body threshold, min_body_lines) pairs the nested selection chooses from
SETTINGS = [(t, m) for t in (0.3, 0.35, 0.4, 0.45) for m in (3, 10)]


def cross_validate(pages: list[dict[str, Any]], data_dir: Path, folds: int, hidden: int,
                   only_folds: int | None = None) -> tuple[list[np.ndarray], list[np.ndarray], list[Any]]:
    """Body masks of the clean step for every page, each from a model that never saw the page's domain:
    as shipped (comments taken out of the body), and with comment detection off (WCXB counts forum posts
    and product reviews as main content, so the two readings differ on those page types).

    The body threshold and the fallback's minimum of body lines are chosen per test fold without its
    labels: the pair of ``SETTINGS`` whose masks score best on the *other* folds (nested selection).
    Returns the masks and each fold's pair."""
    from thresher.extract.clean import Cleaner
    from thresher.extract.lines import LineFeaturizer, LineModel
    from thresher_eval.train_clean import build_model_from, derive_stopwords, page_features

    stopwords, cjk = derive_stopwords(data_dir)
    feats = page_features(LineFeaturizer(stopwords, cjk), pages)
    fold_of = domain_folds(pages, folds)
    run = range(folds if only_folds is None else only_folds)
    # per threshold: masks (as shipped, comments off) and word-F1 of every page of the folds run
    masks = {t: ([np.zeros(0, dtype=bool)] * len(pages), [np.zeros(0, dtype=bool)] * len(pages)) for t in SETTINGS}
    f1 = {t: np.full(len(pages), np.nan) for t in SETTINGS}
    for k in run:
        t0 = time.time()
        tr = [i for i in range(len(pages)) if fold_of[i] != k]
        spec = build_model_from([pages[i] for i in tr], [feats[i] for i in tr], stopwords, cjk, hidden)
        model = LineModel(spec)
        test = np.flatnonzero(fold_of == k).tolist()
        for t in SETTINGS:
            cleaner = Cleaner(model, body_threshold=t[0], min_body_lines=t[1])
            no_comments = Cleaner(model, body_threshold=t[0], min_body_lines=t[1], comments=False)
            for j in range(0, len(test), 32):  # batches, as the engine runs the step
                texts = [pages[i]["text"] for i in test[j:j + 32]]
                for i, a, b in zip(test[j:j + 32], cleaner.label_texts(texts), no_comments.label_texts(texts)):
                    masks[t][0][i], masks[t][1][i] = a.body_mask, b.body_mask
                    f1[t][i] = word_f1(a.body, pages[i]["gold"]["main_content"] or "")
        print(f"fold {k}: trained on {len(tr)} pages in {time.time() - t0:.0f}s", file=sys.stderr)
    chosen = []
    out, out_nc = [np.zeros(0, dtype=bool)] * len(pages), [np.zeros(0, dtype=bool)] * len(pages)
    for k in run:
        others = np.isin(fold_of, [j for j in run if j != k]) if len(run) > 1 else fold_of == k
        t = max(SETTINGS, key=lambda t: float(np.nanmean(f1[t][others])))
        chosen.append(t)
        for i in np.flatnonzero(fold_of == k):
            out[i], out_nc[i] = masks[t][0][i], masks[t][1][i]
    return out, out_nc, chosen


def score(name: str, pages: list[dict[str, Any]], masks: list[np.ndarray], rows: list[dict[str, Any]],
          by_type: dict[str, dict[str, float]]) -> None:
    tp = fp = fn = 0
    f1s = []
    per_type: dict[str, list[float]] = defaultdict(list)
    for page, mask in zip(pages, masks):
        gold = page["labels"] == BODY
        tp += int((mask & gold).sum())
        fp += int((mask & ~gold).sum())
        fn += int((~mask & gold).sum())
        text = "\n".join(s for s, m in zip(page["lines"], mask) if m)
        f = word_f1(text, page["gold"]["main_content"] or "")
        f1s.append(f)
        per_type[page["page_type"]].append(f)
    p = tp / max(tp + fp, 1)
    r = tp / max(tp + fn, 1)
    rows.append({"method": name, "line_P": p, "line_R": r, "line_F1": 2 * p * r / max(p + r, 1e-9),
                 "word_F1": float(np.mean(f1s))})
    by_type[name] = {t: float(np.mean(v)) for t, v in sorted(per_type.items())}


def cli(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="thresher eval clean", description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--only-folds", type=int, default=None, help="run only the first N folds (quick look)")
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--cache", type=Path, default=None, help="pickle of the derived line data set")
    ap.add_argument("--no-justext", action="store_true")
    ap.add_argument("--limit", type=int, default=None, help="only the first N pages")
    args = ap.parse_args(argv)

    pages = load_wcxb(args.data, args.cache)[: args.limit]
    model_masks, nc_masks, thresholds = cross_validate(pages, args.data, args.folds, args.hidden, args.only_folds)
    if args.only_folds is not None:  # score only pages that were in a test fold
        keep = [i for i, m in enumerate(model_masks) if len(m) == len(pages[i]["lines"])]
        pages = [pages[i] for i in keep]
        model_masks = [model_masks[i] for i in keep]
        nc_masks = [nc_masks[i] for i in keep]
    methods: list[tuple[str, list[np.ndarray]]] = [
        ("keep-all", [np.ones(len(p["lines"]), dtype=bool) for p in pages]),
        ("C4 line rules", [c4_lines(p["lines"]) for p in pages]),
        ("RefinedWeb/DCLM line rules", [refinedweb_lines(p["lines"]) for p in pages]),
    ]
    if not args.no_justext:
        methods.append(("jusText (line = paragraph)", [justext_lines(p["lines"]) for p in pages]))
    methods += [("thresher clean (CV by domain)", model_masks),
                ("thresher clean, comments=False", nc_masks),
                ("oracle (aligned labels)", [p["labels"] == BODY for p in pages])]
    rows: list[dict[str, Any]] = []
    by_type: dict[str, dict[str, float]] = {}
    for name, masks in methods:
        score(name, pages, masks, rows, by_type)
    n_domains = len({p["domain"] for p in pages})
    print(f"WCXB dev as page text: {len(pages)} pages, {n_domains} domains, "
          f"{sum(len(p['lines']) for p in pages)} lines, {args.folds}-fold CV grouped by domain; (body "
          f"threshold, min body lines) per test fold, chosen on the other folds: {thresholds}\n")
    print(f"| {'method':<31} | line P | line R | line F1 | word-F1 |")
    print(f"|{'-' * 33}|--------|--------|---------|---------|")
    for r in rows:
        print(f"| {r['method']:<31} | {r['line_P']:.3f}  | {r['line_R']:.3f}  | {r['line_F1']:.3f}   "
              f"| {r['word_F1']:.4f}  |")
    types = sorted({t for v in by_type.values() for t in v})
    print("\nword-F1 by page type:\n")
    print("| method | " + " | ".join(types) + " |")
    print("|---" * (len(types) + 1) + "|")
    for name, v in by_type.items():
        print(f"| {name} | " + " | ".join(f"{v.get(t, 0):.3f}" for t in types) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(cli(sys.argv[1:]))
