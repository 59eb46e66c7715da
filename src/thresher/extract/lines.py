"""The line model behind the ``clean`` step: per-line features of page text, and the model that scores them.

A page arrives as text with one block per line (WET records, ``extract_plain_text(main_content=False)``).
Every feature is computed for all lines of a document at once: the text is turned once into an array of
code points (character classes by table look-up, counted per line with one ``bincount``), tokenised once
with one regex per line (``map``, no Python loop body), and the rest is numpy over arrays of lines.

The model is a small multilayer perceptron in two stages, read from a JSON file by pure numpy:

- stage 1 sees the line's own features, its neighbours' and the page's;
- stage 2 sees the same plus stage 1's scores of the neighbouring lines (windows before/after), which is
  how "a short line in the middle of the article" differs from "a short line in the footer".

Classes: 0 boilerplate, 1 body, 2 title, 3 byline/date. Comments are found by rules in ``clean.py``.
Language: stopword density uses the union of the most frequent words of 75 languages (derived from the
lingua sentences by the training script and shipped in the model); pages where it says nothing (Chinese,
Japanese, Thai) fall back on character classes, CJK function characters and punctuation.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from itertools import chain, compress, repeat
from pathlib import Path
from typing import Any

import numpy as np
import orjson

# Character classes (index into a per-code-point table).
SPACE, LOWER, UPPER, DIGIT, PUNCT, CJK, CJK_COMMON, OTHER, NEWLINE = range(9)
N_CLASSES = 9

WORD_RE = re.compile(r"\w+")
# Token categories, looked up per token in one dict (bit flags): boilerplate vocabulary, date parts, link
# parts. The vocabulary is English plus a few common European words: one hint among many features, so a
# page in another language loses only this hint.
LEXICON = set("""login signin signup register subscribe newsletter cookie cookies privacy terms copyright
reserved share tweet facebook twitter instagram linkedin pinterest whatsapp youtube email print menu home
search skip navigation next previous prev top more view related popular trending advertisement sponsored
contact faq sitemap careers follow comment comments reply posted tags tag category categories archive
archives password cart checkout shop loading click download rss feed
impressum datenschutz kontakt anmelden suche startseite connexion inscription accueil recherche inicio
buscar contacto iniciar accedi cerca""".split())
DATE_WORDS = set("""jan feb mar apr may jun jul aug sep sept oct nov dec january february march april june
july august september october november december monday tuesday wednesday thursday friday saturday sunday
am pm ago yesterday today""".split()) | {str(y) for y in range(1990, 2036)}
LINK_WORDS = {"http", "https", "www", "com", "org", "net", "html", "htm", "php", "aspx"}
BY_WORDS = {"by", "von", "par", "por", "di", "door", "av", "autor", "author", "written", "posted"}
STOP, LEX, DATEW, LINK, BYWORD = 1, 2, 4, 8, 16
BITS = np.array([STOP, LEX, DATEW, LINK], dtype=np.int64)
# Last character of a line that ends a sentence (Latin, CJK, Devanagari, Arabic, quotes after a stop).
TERMINAL = np.array([ord(c) for c in '.!?。！？…।؟"”’\')»'], dtype=np.uint32)
BULLETS = np.array([ord(c) for c in "•·-*–—›»>|◦▪■●→"], dtype=np.uint32)


@lru_cache(maxsize=1)
def _class_table() -> np.ndarray:
    """Class of every BMP code point (built once per process, ~50 ms)."""
    table = np.full(0x10000, OTHER, dtype=np.uint8)
    for cp in range(0x10000):
        cat = unicodedata.category(chr(cp))
        if cat[0] == "L":
            table[cp] = UPPER if cat == "Lu" or cat == "Lt" else LOWER
        elif cat == "Nd":
            table[cp] = DIGIT
        elif cat[0] in "PS":
            table[cp] = PUNCT
        elif cat[0] == "Z" or cp in (9, 11, 12, 13):
            table[cp] = SPACE
    # Han, Hiragana, Katakana, Hangul syllables count as CJK (they carry no case and no spaces).
    for lo, hi in ((0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xAC00, 0xD7A3)):
        table[lo:hi + 1] = CJK
    table[10] = NEWLINE
    return table


FEATURES_OWN = [
    "log_chars", "log_words", "mean_word_len", "upper_frac", "digit_frac", "punct_frac", "letter_frac",
    "cjk_frac", "cjk_common_frac", "space_frac", "titlecase_frac", "stop_frac", "log_stops",
    "ends_terminal", "ends_colon", "starts_bullet", "commas_per_word", "n_lexicon", "n_links", "n_dates",
    "byline_like", "repeat_in_page", "indent", "blank_before", "blank_after", "short_line",
]
FEATURES_DOC = ["rel_pos", "log_pos", "log_pos_end", "log_n_lines", "doc_long_frac", "in_main_span",
                "log_dist_long", "is_longest"]
CONTEXT_OF = ["log_words", "stop_frac", "ends_terminal", "n_lexicon", "titlecase_frac", "punct_frac"]
WINDOWS = [(-1, -1), (1, 1), (-3, -1), (1, 3), (-8, 8)]
STAGE2_WINDOWS = [(-1, -1), (1, 1), (-2, -1), (1, 2), (-5, -1), (1, 5), (-12, -1), (1, 12)]


def feature_names(stage: int = 1) -> list[str]:
    names = FEATURES_OWN + FEATURES_DOC
    names += [f"{f}@{a}:{b}" for a, b in WINDOWS for f in CONTEXT_OF]
    if stage == 2:
        names += [f"p{c}@{a}:{b}" for a, b in STAGE2_WINDOWS for c in (1, 2, 3)] + ["p1_cummax_before",
                                                                                  "p1_cummax_after"]
    return names


@dataclass
class Page:
    """Non-blank lines of one page and where they came from."""

    lines: list[str]          # stripped of trailing whitespace, leading kept for the indent feature
    index: np.ndarray         # position of each line among all lines of the text (blank ones included)


def split_page(text: str) -> Page:
    raw = text.split("\n")
    nonblank = np.fromiter(map(bool, map(str.strip, raw)), dtype=bool, count=len(raw))
    index = np.flatnonzero(nonblank)
    lines = list(map(str.rstrip, compress(raw, nonblank)))
    return Page(lines=lines, index=index)


def window_means(values: np.ndarray, windows: list[tuple[int, int]]) -> np.ndarray:
    """For each window (a, b) and column, the mean of ``values[i+a .. i+b]`` clipped to the page (0 where
    the window is empty), by one cumulative sum: lines x (windows * columns), window-major."""
    n = len(values)
    cs = np.zeros((n + 1, values.shape[1]), dtype=np.float64)
    np.cumsum(values, axis=0, out=cs[1:])
    idx = np.arange(n)
    out = []
    for a, b in windows:
        # np.minimum/maximum: np.clip costs several times more per call on small arrays
        lo = np.minimum(np.maximum(idx + a, 0), n)
        hi = np.minimum(np.maximum(idx + b + 1, 0), n)
        cnt = np.maximum(hi - lo, 1)[:, None]
        out.append((cs[hi] - cs[lo]) / cnt)
    return np.hstack(out)


class LineFeaturizer:
    """Turns a page into a feature matrix (lines x features). Holds the stopword sets."""

    def __init__(self, stopwords: list[str], cjk_common: str) -> None:
        self.stopwords = frozenset(stopwords)
        # token -> category bits, one dict look-up per token
        self.vocab: dict[str, int] = {}
        for words, bit in ((self.stopwords, STOP), (LEXICON, LEX), (DATE_WORDS, DATEW), (LINK_WORDS, LINK),
                           (BY_WORDS, BYWORD)):
            for w in words:
                self.vocab[w] = self.vocab.get(w, 0) | bit
        self.table = _class_table().copy()
        # membership by table look-up (np.isin sorts, and costs more than the rest of a line's features)
        self.is_terminal = np.zeros(0x10000, dtype=bool)
        self.is_terminal[TERMINAL] = True
        self.is_bullet = np.zeros(0x10000, dtype=bool)
        self.is_bullet[BULLETS] = True
        for ch in cjk_common:
            if ord(ch) < 0x10000:
                self.table[ord(ch)] = CJK_COMMON

    def own_features(self, lines: list[str], index: np.ndarray) -> dict[str, np.ndarray]:
        n = len(lines)
        joined = "\n".join(lines)
        cps = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
        lengths = np.fromiter(map(len, lines), dtype=np.int64, count=n)
        starts = np.concatenate(([0], np.cumsum(lengths + 1)[:-1]))
        ends = starts + lengths  # one past the last character
        cls = self.table[np.minimum(cps, 0xFFFF)]
        cls[cps > 0xFFFF] = OTHER
        line_of = np.repeat(np.arange(n), lengths + 1)[: len(cps)]
        counts = np.bincount(line_of * N_CLASSES + cls, minlength=n * N_CLASSES).reshape(n, N_CLASSES)
        # Title-case: an upper-case letter at the start of a line or after a space.
        prev = np.concatenate(([NEWLINE], cls[:-1]))
        cap_start = (cls == UPPER) & ((prev == SPACE) | (prev == NEWLINE))
        caps = np.bincount(line_of[cap_start], minlength=n)

        lower = joined.lower()
        tokens = list(map(WORD_RE.findall, lower.split("\n")))
        nwords = np.fromiter(map(len, tokens), dtype=np.int64, count=n)
        flags = np.fromiter(map(self.vocab.get, chain.from_iterable(tokens), repeat(0)), dtype=np.int64,
                            count=int(nwords.sum()))
        bits = (flags[:, None] & BITS) > 0
        cs = np.zeros((len(flags) + 1, len(BITS)), dtype=np.int64)
        np.cumsum(bits, axis=0, out=cs[1:])
        tok_end = np.cumsum(nwords)
        tok_start = tok_end - nwords
        per_line = cs[tok_end] - cs[tok_start]
        stops, lex, dates, links = (per_line[:, j].astype(np.float64) for j in range(4))
        # A byline starts with "by" (or its equivalent): the first token's flag.
        first_flag = np.where(nwords > 0, flags[np.minimum(tok_start, max(len(flags) - 1, 0))] if len(flags)
                              else 0, 0)
        byline = (first_flag & BYWORD) > 0
        commas = np.bincount(line_of[(cps == 44) | (cps == 59) | (cps == 0x3001) | (cps == 0xFF0C)],
                             minlength=n)

        last = cps[np.maximum(ends - 1, 0)]
        # First non-space character: lines keep their indent, so skip it.
        indent = np.fromiter(map(len, lines), dtype=np.int64, count=n) - np.fromiter(
            map(len, map(str.lstrip, lines)), dtype=np.int64, count=n)
        first_idx = np.minimum(starts + indent, np.maximum(ends - 1, 0))
        first = cps[first_idx]

        rep = Counter(map(str.strip, lines))
        repeats = np.fromiter(map(rep.__getitem__, map(str.strip, lines)), dtype=np.int64, count=n)
        gaps = np.diff(index) - 1 if n > 1 else np.zeros(0, dtype=np.int64)
        blank_before = np.concatenate(([1], np.minimum(gaps, 2)))
        blank_after = np.concatenate((np.minimum(gaps, 2), [1]))

        nonspace = np.maximum(lengths - counts[:, SPACE], 1).astype(np.float64)
        letters = counts[:, LOWER] + counts[:, UPPER]
        cjk = counts[:, CJK] + counts[:, CJK_COMMON]
        # Chinese and Japanese write no spaces: count about one word per two CJK characters, so that a
        # paragraph there is as "long" as one in a spaced script (pages without CJK are unaffected).
        words = nwords + cjk // 2
        safe_words = np.maximum(words, 1)
        return {
            "log_chars": np.log1p(lengths),
            "log_words": np.log1p(words),
            "mean_word_len": np.minimum((letters + counts[:, DIGIT]) / safe_words, 20.0),
            "upper_frac": counts[:, UPPER] / np.maximum(letters, 1),
            "digit_frac": counts[:, DIGIT] / nonspace,
            "punct_frac": counts[:, PUNCT] / nonspace,
            "letter_frac": (letters + cjk) / nonspace,
            "cjk_frac": cjk / nonspace,
            "cjk_common_frac": counts[:, CJK_COMMON] / np.maximum(cjk, 1),
            "space_frac": counts[:, SPACE] / np.maximum(lengths, 1),
            "titlecase_frac": caps / safe_words,
            "stop_frac": stops / safe_words,
            "log_stops": np.log1p(stops),
            "ends_terminal": self.is_terminal[np.minimum(last, 0xFFFF)].astype(np.float64),
            "ends_colon": ((last == 58) | (last == 0xFF1A)).astype(np.float64),
            "starts_bullet": self.is_bullet[np.minimum(first, 0xFFFF)].astype(np.float64),
            "commas_per_word": np.minimum(commas / safe_words, 1.0),
            "n_lexicon": np.minimum(lex, 5.0),
            "n_links": np.minimum(links, 5.0),
            "n_dates": np.minimum(dates, 5.0),
            "byline_like": byline.astype(np.float64),
            "repeat_in_page": np.log(repeats),
            "indent": np.minimum(indent, 8) / 8.0,
            "blank_before": blank_before.astype(np.float64),
            "blank_after": blank_after.astype(np.float64),
            "short_line": (words <= 3).astype(np.float64),
        }

    def features(self, page: Page) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Stage-1 feature matrix (float32, lines x features) and the named own features."""
        n = len(page.lines)
        if n == 0:
            return np.zeros((0, len(feature_names(1))), dtype=np.float32), {}
        own = self.own_features(page.lines, page.index)
        pos = np.arange(n, dtype=np.float64)
        words = np.expm1(own["log_words"])
        long_ = words >= 15
        long_idx = np.flatnonzero(long_)
        if len(long_idx):
            lo, hi = long_idx[0], long_idx[-1]
            in_span = ((pos >= lo) & (pos <= hi)).astype(np.float64)
            # Distance (in lines) to the nearest long line.
            k = np.searchsorted(long_idx, pos)
            left = long_idx[np.maximum(k - 1, 0)]
            right = long_idx[np.minimum(k, len(long_idx) - 1)]
            dist = np.minimum(np.abs(pos - left), np.abs(pos - right))
        else:
            in_span = np.zeros(n)
            dist = np.full(n, 50.0)
        cols = [own[f] for f in FEATURES_OWN]
        cols += [pos / max(n - 1, 1), np.log1p(pos), np.log1p(n - 1 - pos), np.full(n, np.log1p(n)),
                 np.full(n, long_.mean()), in_span, np.log1p(dist),
                 (words == words.max()).astype(np.float64)]
        base = np.column_stack(cols)
        ctx = window_means(np.column_stack([own[f] for f in CONTEXT_OF]), WINDOWS)
        return np.hstack((base, ctx)).astype(np.float32), own


def stage2_columns(p: np.ndarray) -> np.ndarray:
    """Context of stage-1 probabilities (lines x 4 classes): window means and running maxima of body."""
    if not len(p):
        return np.zeros((0, len(STAGE2_WINDOWS) * 3 + 2), dtype=np.float32)
    body = p[:, 1]
    before = np.concatenate(([0.0], np.maximum.accumulate(body)[:-1]))
    after = np.concatenate((np.maximum.accumulate(body[::-1])[::-1][1:], [0.0]))
    ctx = window_means(p[:, 1:4], STAGE2_WINDOWS)
    return np.hstack((ctx, before[:, None], after[:, None])).astype(np.float32)


class MLP:
    """A standardised-input perceptron: ``layers`` of (W, b), ReLU between, softmax at the end."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.mean = np.asarray(spec["mean"], dtype=np.float32)
        self.scale = np.asarray(spec["scale"], dtype=np.float32)
        self.clip = float(spec.get("clip", 5.0))
        self.layers = [(np.asarray(w, dtype=np.float32), np.asarray(b, dtype=np.float32))
                       for w, b in spec["layers"]]

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        # Clipped: a feature almost constant in training (CJK fractions: WCXB is nearly all spaced
        # scripts) would otherwise reach 100 standard deviations on a Chinese page and decide alone.
        h = np.clip((x - self.mean) / self.scale, -self.clip, self.clip)
        for i, (w, b) in enumerate(self.layers):
            # einsum, not @: small products through a multi-threaded BLAS cost more in thread wake-ups
            # than in arithmetic, and the engine already runs one worker per core.
            h = np.einsum("ij,jk->ik", h, w) + b
            if i < len(self.layers) - 1:
                np.maximum(h, 0, out=h)
        h -= h.max(axis=1, keepdims=True)
        np.exp(h, out=h)
        h /= h.sum(axis=1, keepdims=True)
        return h


class LineModel:
    """The shipped two-stage model. ``predict(page)`` gives class probabilities per line."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.featurizer = LineFeaturizer(spec["stopwords"], spec["cjk_common"])
        self.stage1 = MLP(spec["stage1"])
        # Stage 2 is optional: trained on in-sample stage-1 scores it did not beat stage 1 on WCXB (0.768
        # vs 0.771 word-F1 on a held-out fold), so the shipped model has stage 1 only.
        self.stage2 = MLP(spec["stage2"]) if spec.get("stage2") else None
        self.body_threshold = float(spec.get("body_threshold", 0.5))

    @classmethod
    def load(cls, path: str | Path | None = None) -> LineModel:
        if path is None:
            data = (resources.files("thresher.models") / "clean_lines.json").read_bytes()
        else:
            data = Path(path).read_bytes()
        return cls(orjson.loads(data))

    def predict(self, page: Page) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        x1, own = self.featurizer.features(page)
        if len(x1) == 0:
            return np.zeros((0, 4), dtype=np.float32), own
        p1 = self.stage1.predict_proba(x1)
        if self.stage2 is None:
            return p1, own
        x2 = np.hstack((x1, stage2_columns(p1)))
        return self.stage2.predict_proba(x2), own
