"""The line model behind the ``clean`` step: per-line features of page text, and the model that scores them.

A page arrives as text with one block per line (WET records, ``extract_plain_text(main_content=False)``).
Features are computed for a *batch* of documents at once, with no Python work per line or per word: the
texts are joined and turned into one array of code points; character classes come by table look-up and
are counted per line with one ``bincount``; words are runs of word characters (``\\w``, as Python's ``re``
defines it), each identified by a 32-bit polynomial hash of its lower-cased code points (one prefix sum
over the characters) and looked up in two small cuckoo tables of the model's vocabulary. Per-page
quantities (position in the page, windows of neighbours) are segment operations over the batch. One
document or a thousand go through the same code; batching only spreads numpy's fixed cost per call.

The model is a small multilayer perceptron in two stages, read from a JSON file by pure numpy:

- stage 1 sees the line's own features, its neighbours' and the page's;
- stage 2 sees only stage 1's scores: the line's, its neighbours' (windows before/after) and the page's.

Classes: 0 boilerplate, 1 body, 2 title, 3 byline/date. Comments are found by rules in ``clean.py``.
Language: stopword density uses the union of the most frequent words of 75 languages (derived from the
lingua sentences by the training script and shipped in the model). Features are made to mean the same in
any script, since the training pages are nearly all in spaced, cased ones: CJK runs count one word per
two characters and their most frequent characters as stopwords; a line without cased letters gets the
average cased line's case features (``UNCASED_FILL``).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from itertools import compress
from pathlib import Path
from typing import Any

import numpy as np
import orjson

# Character classes (index into a per-code-point table).
# SPACE and NEWLINE come first: a character is content (not white space) when its class is > NEWLINE.
# LOWER and UPPER are cased letters; UNCASED letters (Arabic, Hebrew, Thai, Devanagari...) have no case.
SPACE, NEWLINE, LOWER, UPPER, UNCASED, DIGIT, PUNCT, COMMA, CJK, CJK_COMMON, OTHER = range(11)
N_CLASSES = 11
WORD = 16  # flag added to the class of a word character (re's \w) in the code table
# Tables are indexed by min(code point, ASTRAL): every code point above the BMP shares the last entry.
ASTRAL = 0x10000

# Token categories, looked up per token (bit flags): boilerplate vocabulary, date parts, link parts. The
# vocabulary is English plus common site-interface words of a few other languages (German, French,
# Spanish, Italian, Russian, Chinese, Japanese, Korean): one hint among many features, so a page in
# another language loses only this hint. Chinese and Japanese words count when the page sets them apart
# ("首页 | 登录"), as menus do: a run of CJK characters is one token.
LEXICON = set("""login signin signup register subscribe newsletter cookie cookies privacy terms copyright
reserved share tweet facebook twitter instagram linkedin pinterest whatsapp youtube email print menu home
search skip navigation next previous prev top more view related popular trending advertisement sponsored
contact faq sitemap careers follow comment comments reply posted tags tag category categories archive
archives password cart checkout shop loading click download rss feed
impressum datenschutz kontakt anmelden suche startseite connexion inscription accueil recherche inicio
buscar contacto iniciar accedi cerca
главная войти регистрация поиск контакты подписаться комментарии далее назад
首页 登录 注册 搜索 更多 返回 分享 评论 订阅 关于我们 联系我们 隐私政策 网站地图 上一页 下一页 版权所有 免责声明
ホーム ログイン 会員登録 検索 お問い合わせ 利用規約 一覧 次へ 前へ 戻る シェア コメント
홈 로그인 회원가입 검색 더보기 이전 다음 공유 댓글 문의""".split())
DATE_WORDS = set("""jan feb mar apr may jun jul aug sep sept oct nov dec january february march april june
july august september october november december monday tuesday wednesday thursday friday saturday sunday
am pm ago yesterday today""".split()) | {str(y) for y in range(1990, 2036)}
LINK_WORDS = {"http", "https", "www", "com", "org", "net", "html", "htm", "php", "aspx"}
BY_WORDS = {"by", "von", "par", "por", "di", "door", "av", "autor", "author", "written", "posted"}
# Words the rules of clean.py look for (their lines are marked, so the rules check those lines only):
# copyright notices ("Copyright", "All rights reserved", a line starting "(c) 2019") and author headers.
COPYRIGHT_WORDS = {"copyright", "reserved", "c"}
AUTHOR_WORDS = {"author", "autor", "auteur"}
STOP, LEX, DATEW, LINK, BYWORD, COPYW, AUTHW = 1, 2, 4, 8, 16, 32, 64
# Last character of a line that ends a sentence (Latin, CJK, Devanagari, Arabic, quotes after a stop).
TERMINAL = '.!?。！？…।؟"”’\')»'
BULLETS = "•·-*–—›»>|◦▪■●→"
COMMAS = ",;、，"

# Word hashing: h(w) = sum of lower-cased code point c_i * P**i (mod 2**32), from one prefix sum over the
# whole batch; P odd, so P**-i exists mod 2**32 and a word's hash does not depend on where it starts.
# 32 bits: the vocabulary (~2,000 words) is checked collision-free; a word outside it takes a vocabulary
# word's hash with probability 2,000 / 2**32 (one token in two million gets a wrong flag: noise for a
# feature, and half the memory traffic of 64 bits).
_P = np.uint32(0x01000193)
_P_INV = np.uint32(pow(0x01000193, -1, 2**32))
_DOC_SALT = np.uint32(0x9E3779B1)


@lru_cache(maxsize=1)
def _tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Class, word-character flag and lower-case code of every BMP code point (once per process, ~0.1 s)."""
    cls = np.full(ASTRAL + 1, OTHER, dtype=np.uint8)
    word = np.zeros(ASTRAL + 1, dtype=bool)
    lower = np.arange(ASTRAL + 1, dtype=np.uint32)
    for cp in range(ASTRAL):
        ch = chr(cp)
        cat = unicodedata.category(ch)
        if cat[0] == "L":
            cls[cp] = UPPER if cat in ("Lu", "Lt") else LOWER if cat == "Ll" else UNCASED
        elif cat == "Nd":
            cls[cp] = DIGIT
        elif cat[0] in "PS":
            cls[cp] = PUNCT
        elif cat[0] == "Z" or ch.isspace():  # what str.strip() strips
            cls[cp] = SPACE
        word[cp] = ch.isalnum() or ch == "_"  # exactly re's \w on str patterns
        low = ch.lower()
        lower[cp] = ord(low[0])  # only U+0130 lowers to two characters; its first is "i"
    # Han, Hiragana, Katakana, Hangul syllables count as CJK (they carry no case and no spaces).
    for lo, hi in ((0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xAC00, 0xD7A3)):
        cls[lo:hi + 1] = CJK
    cls[[ord(c) for c in COMMAS]] = COMMA
    cls[10] = NEWLINE
    return cls, word, lower


def word_hash(word: str) -> int:
    """The hash the featurizer gives ``word`` (lower-cased), as a Python int."""
    _, _, lower = _tables()
    h = 0
    for i, ch in enumerate(word):
        h = (h + int(lower[min(ord(ch), ASTRAL)]) * pow(int(_P), i, 2**32)) % 2**32
    return h


# Mean of these features over the WCXB lines that have cased letters (thresher_eval/train_clean.py prints them).
UNCASED_FILL = {"upper_frac": 0.153, "titlecase_frac": 0.601}

FEATURES_OWN = [
    "log_chars", "log_words", "mean_word_len", "upper_frac", "digit_frac", "punct_frac", "letter_frac",
    "space_frac", "titlecase_frac", "stop_frac", "log_stops",
    "ends_terminal", "ends_colon", "starts_bullet", "commas_per_word", "n_lexicon", "n_links", "n_dates",
    "byline_like", "repeat_in_page", "indent", "blank_before", "blank_after", "short_line",
]
FEATURES_DOC = ["rel_pos", "log_pos", "log_pos_end", "log_n_lines", "doc_long_frac", "in_main_span",
                "log_dist_long", "is_longest"]
CONTEXT_OF = ["log_words", "stop_frac", "ends_terminal", "n_lexicon", "titlecase_frac", "punct_frac"]
WINDOWS = [(-1, -1), (1, 1), (-3, -1), (1, 3), (-8, 8)]
STAGE2_WINDOWS = [(-1, -1), (1, 1), (-2, -1), (1, 2), (-5, -1), (1, 5), (-12, -1), (1, 12)]
STAGE2_PAGE = ["page_p1_mean", "page_p1_max", "p1_minus_page_mean", "page_frac_p1_half"]


def feature_names(stage: int = 1) -> list[str]:
    """Inputs of stage 1 (the line features), or of stage 2 (stage 1's scores and their context)."""
    if stage == 2:
        names = ["p1", "p2", "p3"] + [f"p{c}@{a}:{b}" for a, b in STAGE2_WINDOWS for c in (1, 2, 3)]
        return names + ["p1_cummax_before", "p1_cummax_after"] + STAGE2_PAGE
    return FEATURES_OWN + FEATURES_DOC + [f"{f}@{a}:{b}" for a, b in WINDOWS for f in CONTEXT_OF]


@dataclass
class Page:
    """Non-blank lines of one page and where they came from."""

    text: str                 # the text the lines come from
    lines: list[str]          # stripped of trailing whitespace, leading kept for the indent feature
    index: np.ndarray         # line number of each among all lines of the text (blank ones included)
    offsets: np.ndarray       # character offset of each line's start in ``text``
    # per line, from the featurizer, for the rules of clean.py (None from split_page):
    words: np.ndarray | None = None    # words (\w runs)
    digits: np.ndarray | None = None   # digits
    marks: np.ndarray | None = None    # COPYW and AUTHW if it holds such a word


def split_page(text: str) -> Page:
    """The non-blank lines of ``text`` (the reference for what ``LineFeaturizer.featurize`` splits)."""
    raw = text.split("\n")
    nonblank = [bool(s.strip()) for s in raw]
    index = np.flatnonzero(np.array(nonblank, dtype=bool)) if raw else np.zeros(0, dtype=np.int64)
    starts = np.cumsum([0] + [len(s) + 1 for s in raw[:-1]])
    return Page(text=text, lines=[s.rstrip() for s in compress(raw, nonblank)], index=index,
                offsets=starts[index] if len(index) else np.zeros(0, dtype=np.int64))


@dataclass
class Batch:
    """Documents featurized together: ``x[bounds[k]:bounds[k + 1]]`` are the lines of ``pages[k]``."""

    pages: list[Page]
    x: np.ndarray             # float32, lines x stage-1 features
    bounds: np.ndarray        # int64, len(pages) + 1


class _VocabTable:
    """Flags of the vocabulary words, found by hash in two direct-mapped tables of 2**13 slots (a word sits
    in the slot of its top or of its bottom 13 bits, cuckoo-style): a few vectorised look-ups per word in
    tables small enough for the L1/L2 cache, where a binary search (np.searchsorted) costs several times
    more."""

    BITS = 13

    def __init__(self, flags_by_hash: dict[int, int], n_words: int) -> None:
        if len(flags_by_hash) != n_words:
            raise ValueError("vocabulary hash collision")  # fails loudly if a vocabulary change ever meets one
        size = 1 << self.BITS
        self.keys = np.zeros((2, size), dtype=np.uint32)
        self.flags = np.zeros((2, size), dtype=np.uint8)  # flags 0: empty slot (every word has a flag)
        for item in flags_by_hash.items():
            for _ in range(64):  # cuckoo insertion: take the slot, move its word to its other table
                for t in (0, 1):
                    slot = self._slots(item[0])[t]
                    old = (int(self.keys[t, slot]), int(self.flags[t, slot]))
                    self.keys[t, slot], self.flags[t, slot] = item
                    if old[1] == 0:
                        break
                    item = old
                else:
                    continue
                break
            else:
                raise ValueError("vocabulary does not fit the hash tables")

    MIX = (np.uint32(0x9E3779B1), np.uint32(0x85EBCA77))  # multiplicative hashing: top bits of h * M

    @classmethod
    def _slots(cls, h: int) -> tuple[int, int]:
        return tuple((h * int(m) % 2**32) >> (32 - cls.BITS) for m in cls.MIX)  # type: ignore[return-value]

    def lookup(self, hashes: np.ndarray) -> np.ndarray:
        shift = np.uint32(32 - self.BITS)
        a = (hashes * self.MIX[0]) >> shift
        b = (hashes * self.MIX[1]) >> shift
        return (np.where(self.keys[0, a] == hashes, self.flags[0, a], 0)
                | np.where(self.keys[1, b] == hashes, self.flags[1, b], 0))


def _window_means(columns: list[np.ndarray], bounds: np.ndarray, windows: list[tuple[int, int]],
                  out: np.ndarray) -> None:
    """Window means of per-line ``columns`` into the rows of ``out`` (window-major, column-minor): for
    window (a, b), the mean over lines i+a .. i+b of line i's own page (0 where that is empty).

    Each window is two slices of one cumulative sum over the whole batch; only the lines within reach of
    a page's edge, whose windows would cross into the next page, are redone clipped to their page."""
    vals = np.asarray(columns, dtype=np.float64)
    c, n = vals.shape
    reach = max(max(-a, b) for a, b in windows)
    # cs[:, reach + j] = sum of the first j lines (0 before the batch, the total after it)
    cs = np.zeros((c, n + 2 * reach + 1))
    np.cumsum(vals, axis=1, out=cs[:, reach + 1:reach + 1 + n])
    cs[:, reach + 1 + n:] = cs[:, reach + n:reach + n + 1]
    for k, (a, b) in enumerate(windows):
        rows = out[k * c:(k + 1) * c]  # float32: the subtraction is done in float64, then stored
        np.subtract(cs[:, reach + b + 1:reach + b + 1 + n], cs[:, reach + a:reach + a + n], out=rows,
                    casting="same_kind")
        rows *= np.float32(1.0 / (b - a + 1))
    sizes = np.diff(bounds)
    lo_row = np.repeat(bounds[:-1], sizes)
    hi_row = np.repeat(bounds[1:], sizes)
    row = np.arange(n)
    edge = np.flatnonzero((row - lo_row < reach) | (hi_row - 1 - row < reach))
    lo_e, hi_e = lo_row[edge], hi_row[edge]
    for k, (a, b) in enumerate(windows):
        lo = np.minimum(np.maximum(edge + a, lo_e), hi_e)
        hi = np.minimum(np.maximum(edge + b + 1, lo_e), hi_e)
        out[k * c:(k + 1) * c, edge] = (cs[:, reach + hi] - cs[:, reach + lo]) / np.maximum(hi - lo, 1)


class LineFeaturizer:
    """Turns a batch of page texts into one feature matrix. Holds the vocabulary and the tables."""

    def __init__(self, stopwords: list[str], cjk_common: str) -> None:
        self.stopwords = frozenset(stopwords)
        vocab: dict[str, int] = {}
        for words, bit in ((self.stopwords, STOP), (LEXICON, LEX), (DATE_WORDS, DATEW), (LINK_WORDS, LINK),
                           (BY_WORDS, BYWORD), (COPYRIGHT_WORDS, COPYW), (AUTHOR_WORDS, AUTHW)):
            for w in words:
                vocab[w] = vocab.get(w, 0) | bit
        self.vocab = _VocabTable({word_hash(w): flags for w, flags in vocab.items()}, len(vocab))
        cls, word, self.lower = _tables()
        cls = cls.copy()  # the tables are shared: this featurizer's CJK function characters are its own
        for ch in cjk_common:
            if ord(ch) < ASTRAL:
                cls[ord(ch)] = CJK_COMMON
        self.code = cls | (word * np.uint8(WORD))  # class and word-character flag in one byte
        # membership by table look-up (np.isin sorts)
        self.is_terminal = np.zeros(ASTRAL + 1, dtype=bool)
        self.is_terminal[[ord(c) for c in TERMINAL]] = True
        self.is_bullet = np.zeros(ASTRAL + 1, dtype=bool)
        self.is_bullet[[ord(c) for c in BULLETS]] = True
        self._pow = np.ones(1, dtype=np.uint32)
        self._ipow = np.ones(1, dtype=np.uint32)

    def _powers(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """P**i and P**-i (mod 2**32) for i < n, grown by doubling and kept."""
        if len(self._pow) < n:
            size = max(n, 2 * len(self._pow), 1 << 16)
            self._pow = np.ones(size, dtype=np.uint32)
            np.cumprod(np.full(size - 1, _P, dtype=np.uint32), out=self._pow[1:])
            self._ipow = np.ones(size, dtype=np.uint32)
            np.cumprod(np.full(size - 1, _P_INV, dtype=np.uint32), out=self._ipow[1:])
        return self._pow[:n], self._ipow[:n]

    def featurize(self, texts: list[str]) -> Batch:
        """Pages (non-blank lines, positions) and the stage-1 feature matrix of every text, in one pass."""
        n_docs = len(texts)
        joined = "\n".join(texts)
        # surrogatepass: a lone surrogate (possible in a Python str from JSON) is a character like another
        cps = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        n_chars = len(cps)
        doc_char_start = np.zeros(n_docs + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, texts), dtype=np.int64, count=n_docs) + 1, out=doc_char_start[1:])
        at = np.minimum(cps, ASTRAL)
        code = self.code[at]
        cls = code & np.uint8(WORD - 1)

        # Raw lines (blank ones included), then the non-blank ones: their first and last content character.
        nl_pos = np.flatnonzero(cls == NEWLINE)
        raw_start = np.concatenate(([0], nl_pos + 1))
        raw_end = np.concatenate((nl_pos, [n_chars]))          # exclusive: the newline or the end
        n_raw = len(raw_start)
        doc_raw_start = np.searchsorted(nl_pos, doc_char_start[:-1])  # first raw line of each document
        content = np.flatnonzero(cls > NEWLINE)
        k_start = np.searchsorted(content, raw_start)
        k_end = np.searchsorted(content, raw_end)
        raw_ids = np.flatnonzero(k_end > k_start)
        bounds = np.searchsorted(raw_ids, np.concatenate((doc_raw_start, [n_raw])))
        n = len(raw_ids)
        if n == 0:
            empty = np.zeros(0, dtype=np.int64)
            pages = self._pages(texts, joined, raw_ids, raw_start, doc_raw_start, doc_char_start, bounds,
                                empty, empty, empty)
            return Batch(pages, np.zeros((0, len(feature_names(1))), dtype=np.float32), bounds)
        first_ns = content[k_start[raw_ids]]
        last_ns = content[k_end[raw_ids] - 1]
        line_start = raw_start[raw_ids]
        lengths = last_ns + 1 - line_start                       # the line without trailing whitespace
        indent = first_ns - line_start

        # Characters per class and line: one bincount over (raw line, class).
        line_base = np.repeat(np.arange(0, n_raw * N_CLASSES, N_CLASSES), raw_end - raw_start + 1)[:n_chars]
        counts = np.bincount(line_base + cls, minlength=n_raw * N_CLASSES).reshape(n_raw, N_CLASSES)[raw_ids]
        spaces = counts[:, SPACE] - (raw_end[raw_ids] - 1 - last_ns)  # trailing whitespace left out

        # Words: runs of word characters, hashed from prefix sums of lower-cased code points.
        is_word = np.zeros(n_chars + 2, dtype=bool)
        np.greater_equal(code, WORD, out=is_word[1:-1])
        edges = np.flatnonzero(is_word[1:] != is_word[:-1])
        w_start, w_end = edges[0::2], edges[1::2]
        pw, ipw = self._powers(n_chars + 1)
        prefix = np.zeros(n_chars + 1, dtype=np.uint32)
        np.cumsum(self.lower[at] * pw[:n_chars], out=prefix[1:])
        flags = self.vocab.lookup((prefix[w_end] - prefix[w_start]) * ipw[w_start])
        word_line = line_base[w_start] // N_CLASSES  # the raw line of each word
        nwords = np.bincount(word_line, minlength=n_raw)[raw_ids]
        stops, lex, dates, links = (np.bincount(word_line, weights=(flags & bit) > 0, minlength=n_raw)[raw_ids]
                                    for bit in (STOP, LEX, DATEW, LINK))
        # Title-case: words that start with an upper-case letter after a space or a line break.
        w_cls = cls[w_start]
        prev_cls = cls[np.maximum(w_start - 1, 0)]
        capital = (w_cls == UPPER) & ((prev_cls <= NEWLINE) | (w_start == 0))
        caps = np.bincount(word_line[capital], minlength=n_raw)[raw_ids]
        # A byline starts with "by" (or its equivalent): the flag of the line's first word.
        first_word = np.concatenate(([0], np.flatnonzero(np.diff(word_line)) + 1)) if len(word_line) else \
            np.zeros(0, dtype=np.int64)
        first_flag = np.zeros(n_raw, dtype=np.int64)
        first_flag[word_line[first_word]] = flags[first_word]
        byline = (first_flag[raw_ids] & BYWORD) > 0
        marked = (flags & (COPYW | AUTHW)) > 0
        marks = np.zeros(n_raw, dtype=np.int64)
        np.bitwise_or.at(marks, word_line[marked], flags[marked] & (COPYW | AUTHW))
        marks = marks[raw_ids]

        last = at[last_ns]
        first = at[first_ns]
        # Repetition of a line in its page (lower-cased, indent left out): hash, salted with the document.
        doc_of_line = np.repeat(np.arange(n_docs), np.diff(bounds))
        line_hash = (prefix[last_ns + 1] - prefix[first_ns]) * ipw[first_ns]
        _, inverse, reps = np.unique(line_hash ^ (doc_of_line.astype(np.uint32) * _DOC_SALT),
                                     return_inverse=True, return_counts=True)
        repeats = reps[inverse.reshape(-1)]
        # Blank lines around a line (0, 1, 2 or more); a page's first and last lines count 1.
        gaps = np.minimum(np.diff(raw_ids) - 1, 2)
        first_row, last_row = bounds[:-1][np.diff(bounds) > 0], bounds[1:][np.diff(bounds) > 0] - 1
        blank_before = np.concatenate(([1], gaps))
        blank_before[first_row] = 1
        blank_after = np.concatenate((gaps, [1]))
        blank_after[last_row] = 1

        nonspace = np.maximum(lengths - spaces, 1).astype(np.float64)
        cased = counts[:, LOWER] + counts[:, UPPER]
        letters = cased + counts[:, UNCASED]
        cjk = counts[:, CJK] + counts[:, CJK_COMMON]
        # Chinese and Japanese write no spaces: a run of CJK characters counts one word per two characters
        # (not one word per run), and one character as long as three Latin ones, so that a paragraph there
        # is as "long" as one in a spaced script (pages without CJK are unaffected).
        cjk_runs = np.bincount(word_line[(w_cls == CJK) | (w_cls == CJK_COMMON)], minlength=n_raw)[raw_ids]
        words = nwords - cjk_runs + (cjk + 1) // 2
        eff_len = lengths + 2 * cjk
        safe_words = np.maximum(words, 1)
        # ... and count their most frequent characters (的, 是, の, に, ...) as stopwords, so that a Chinese
        # paragraph has a stopword density like an English one: WCXB, the training set, is nearly all in
        # spaced scripts, so a feature the model learns there must mean the same thing on a CJK page.
        stops = stops + counts[:, CJK_COMMON]

        # Filled feature by feature: rows of the transposed matrix are contiguous.
        xt = np.empty((len(feature_names(1)), n), dtype=np.float32)
        own = {
            "log_chars": np.log1p(eff_len),
            "log_words": np.log1p(words),
            "mean_word_len": np.minimum((letters + counts[:, DIGIT] + 3 * cjk) / safe_words, 20.0),
            # Case says nothing in a script without it: such lines get the value an average cased line
            # has (UNCASED_FILL), not 0, which would read as "all lower case", i.e. prose.
            "upper_frac": np.where(cased > 0, counts[:, UPPER] / np.maximum(cased, 1), UNCASED_FILL["upper_frac"]),
            "digit_frac": counts[:, DIGIT] / nonspace,
            "punct_frac": (counts[:, PUNCT] + counts[:, COMMA]) / nonspace,
            "letter_frac": (letters + cjk) / nonspace,
            "space_frac": spaces / np.maximum(eff_len, 1),
            "titlecase_frac": np.where(cased > 0, caps / safe_words, UNCASED_FILL["titlecase_frac"]),
            "stop_frac": stops / safe_words,
            "log_stops": np.log1p(stops),
            "ends_terminal": self.is_terminal[last],
            "ends_colon": (last == 58) | (last == 0xFF1A),
            "starts_bullet": self.is_bullet[first],
            "commas_per_word": np.minimum(counts[:, COMMA] / safe_words, 1.0),
            "n_lexicon": np.minimum(lex, 5.0),
            "n_links": np.minimum(links, 5.0),
            "n_dates": np.minimum(dates, 5.0),
            "byline_like": byline,
            "repeat_in_page": np.log(repeats),
            "indent": np.minimum(indent, 8) / 8.0,
            "blank_before": blank_before,
            "blank_after": blank_after,
            "short_line": words <= 3,
        }
        for j, name in enumerate(FEATURES_OWN):
            xt[j] = own[name]

        # Page-level features: position, length, and where the long (paragraph-like) lines are.
        row = np.arange(n)
        lo_row, hi_row = bounds[:-1][doc_of_line], bounds[1:][doc_of_line]
        pos = row - lo_row
        n_page = hi_row - lo_row
        long_ = words >= 15
        n_long = np.bincount(doc_of_line, weights=long_, minlength=n_docs)
        # nearest long line at or before / at or after each row, within its page
        before = np.maximum.accumulate(np.where(long_, row, -1))
        after = np.minimum.accumulate(np.where(long_, row, n)[::-1])[::-1]
        has_before, has_after = before >= lo_row, after < hi_row
        dist = np.minimum(np.where(has_before, row - before, n), np.where(has_after, after - row, n))
        has_long = n_long[doc_of_line] > 0
        in_span = has_long & (row >= after[lo_row]) & (row <= before[hi_row - 1])
        page_max = np.zeros(n_docs, dtype=words.dtype)
        nonempty = np.flatnonzero(np.diff(bounds) > 0)
        page_max[nonempty] = np.maximum.reduceat(words, bounds[nonempty])
        k = len(FEATURES_OWN)
        xt[k] = pos / np.maximum(n_page - 1, 1)
        xt[k + 1] = np.log1p(pos)
        xt[k + 2] = np.log1p(n_page - 1 - pos)
        xt[k + 3] = np.log1p(n_page)
        xt[k + 4] = n_long[doc_of_line] / n_page
        xt[k + 5] = in_span
        xt[k + 6] = np.where(has_long, np.log1p(dist), np.log1p(50.0))
        xt[k + 7] = words == page_max[doc_of_line]
        k += len(FEATURES_DOC)
        _window_means([own[f] for f in CONTEXT_OF], bounds, WINDOWS, xt[k:])
        pages = self._pages(texts, joined, raw_ids, raw_start, doc_raw_start, doc_char_start, bounds,
                            nwords, counts[:, DIGIT], marks)
        return Batch(pages, xt.T, bounds)

    @staticmethod
    def _pages(texts: list[str], joined: str, raw_ids: np.ndarray, raw_start: np.ndarray,
               doc_raw_start: np.ndarray, doc_char_start: np.ndarray, bounds: np.ndarray, words: np.ndarray,
               digits: np.ndarray, marks: np.ndarray) -> list[Page]:
        """One Page per text: its non-blank lines as strings (trailing whitespace removed) and positions.
        The strings come from one split of the whole batch (one call, not one per page)."""
        raw = joined.split("\n")
        lines = list(map(str.rstrip, map(raw.__getitem__, raw_ids.tolist())))
        index = raw_ids - np.repeat(doc_raw_start, np.diff(bounds))
        offsets = raw_start[raw_ids] - np.repeat(doc_char_start[:-1], np.diff(bounds))
        pages = []
        for k, text in enumerate(texts):
            a, b = bounds[k], bounds[k + 1]
            pages.append(Page(text=text, lines=lines[a:b], index=index[a:b], offsets=offsets[a:b],
                              words=words[a:b], digits=digits[a:b], marks=marks[a:b]))
        return pages

    def features(self, text: str) -> np.ndarray:
        """Stage-1 feature matrix (float32, lines x features) of one page."""
        return self.featurize([text]).x


def stage2_inputs(p: np.ndarray, bounds: np.ndarray | None = None) -> np.ndarray:
    """Stage 2's inputs (lines x columns) from stage 1's probabilities, within each page (``bounds`` as
    in ``Batch``; one page if omitted): the line's own P(body/title/byline); window means of them; the
    running maximum of P(body) before and after the line; and how the page as a whole scored (mean and
    maximum P(body), the share of lines above 0.5, the line's P(body) against the page mean), which tells
    "a listing whose every line is short" from "a footer under an article". Stage 2 reads scores only,
    not stage 1's features: given those too, it fitted WCXB's scripts and lost a Chinese page's paragraphs
    and a seed's title (and it is smaller this way)."""
    n = len(p)
    out = np.zeros((len(feature_names(2)), n), dtype=np.float32)
    if not n:
        return out.T
    bounds = np.array([0, n]) if bounds is None else bounds
    sizes = np.diff(bounds)
    out[:3] = p[:, 1:4].T
    k = 3 + len(STAGE2_WINDOWS) * 3
    _window_means(list(p[:, 1:4].T), bounds, STAGE2_WINDOWS, out[3:k])
    body = p[:, 1].astype(np.float64)
    page = np.repeat(np.arange(len(sizes)), sizes)
    # running maxima within pages: P(body) is in [0, 1], so lifting page j by 2j keeps pages apart
    lifted = body + 2.0 * page
    before = np.maximum.accumulate(lifted) - 2.0 * page
    after = np.maximum.accumulate(lifted[::-1] - 4.0 * page[::-1])[::-1] + 2.0 * page  # lower later pages
    first = np.zeros(n, dtype=bool)
    first[bounds[:-1][sizes > 0]] = True
    last = np.zeros(n, dtype=bool)
    last[bounds[1:][sizes > 0] - 1] = True
    out[k, 1:] = before[:-1]
    out[k, first] = 0.0
    out[k + 1, :-1] = after[1:]
    out[k + 1, last] = 0.0
    mean = np.bincount(page, weights=body, minlength=len(sizes)) / np.maximum(sizes, 1)
    peak = np.zeros(len(sizes))
    nonempty = np.flatnonzero(sizes > 0)
    peak[nonempty] = np.maximum.reduceat(body, bounds[nonempty])
    share = np.bincount(page, weights=body >= 0.5, minlength=len(sizes)) / np.maximum(sizes, 1)
    out[k + 2] = mean[page]
    out[k + 3] = peak[page]
    out[k + 4] = body - mean[page]
    out[k + 5] = share[page]
    return out.T


@lru_cache(maxsize=1)
def _blas_controller() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


class MLP:
    """A standardised-input perceptron: ``layers`` of (W, b), ReLU between, softmax at the end."""

    def __init__(self, spec: dict[str, Any]) -> None:
        mean = np.asarray(spec["mean"], dtype=np.float64)
        scale = np.asarray(spec["scale"], dtype=np.float64)
        clip = float(spec.get("clip", 5.0))
        # Inputs are clipped to +-clip standard deviations: a feature almost constant in training (CJK
        # fractions: WCXB is nearly all spaced scripts) would otherwise reach 100 standard deviations on a
        # Chinese page and decide alone. Clipping the raw value to [mean - clip*scale, mean + clip*scale]
        # is the same thing, and lets the standardisation fold into the first layer.
        self.lo = (mean - clip * scale).astype(np.float32)
        self.hi = (mean + clip * scale).astype(np.float32)
        layers = [(np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64)) for w, b in spec["layers"]]
        w0, b0 = layers[0]
        layers[0] = (w0 / scale[:, None], b0 - (mean / scale) @ w0)
        self.layers = [(w.astype(np.float32), b.astype(np.float32)) for w, b in layers]

    def clip(self, x: np.ndarray) -> np.ndarray:
        """``x`` clipped to the training range of each input."""
        return np.minimum(np.maximum(x, self.lo), self.hi)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        h = self.clip(x)
        # BLAS on one thread: the engine already runs one worker per core, and OpenBLAS's extra threads
        # spin while they wait, which doubled the CPU time of the whole step here (8 us per call to set).
        with _blas_controller().limit(limits=1, user_api="blas"):
            for i, (w, b) in enumerate(self.layers):
                if i:
                    np.maximum(h, 0, out=h)
                h = h @ w  # a batch of pages makes the product big enough for BLAS to pay
                h += b
        # softmax over the few classes, column by column (row-wise reductions over 4 values are slow)
        cols = [h[:, j] for j in range(h.shape[1])]
        top = cols[0].copy()
        for c in cols[1:]:
            np.maximum(top, c, out=top)
        h -= top[:, None]
        np.exp(h, out=h)
        total = cols[0].copy()
        for c in cols[1:]:
            total += c
        h /= total[:, None]
        return h


class LineModel:
    """The shipped model. ``predict_batch(texts)`` gives the pages and class probabilities per line."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.featurizer = LineFeaturizer(spec["stopwords"], spec["cjk_common"])
        self.stage1 = MLP(spec["stage1"])
        self.stage2 = MLP(spec["stage2"]) if spec.get("stage2") else None
        self.body_threshold = float(spec.get("body_threshold", 0.5))

    @classmethod
    def load(cls, path: str | Path | None = None) -> LineModel:
        if path is None:
            data = (resources.files("thresher.models") / "clean_lines.json").read_bytes()
        else:
            data = Path(path).read_bytes()
        return cls(orjson.loads(data))

    def predict_batch(self, texts: list[str]) -> tuple[Batch, np.ndarray]:
        batch = self.featurizer.featurize(texts)
        if len(batch.x) == 0:
            return batch, np.zeros((0, 4), dtype=np.float32)
        p1 = self.stage1.predict_proba(batch.x)
        if self.stage2 is None:
            return batch, p1
        return batch, self.stage2.predict_proba(stage2_inputs(p1, batch.bounds))

    def predict(self, text: str) -> np.ndarray:
        """Class probabilities of one page's lines."""
        return self.predict_batch([text])[1]
