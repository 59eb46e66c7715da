"""One tokenisation per document, shared by every quality rule.

``text_stats(doc)`` returns the document's :class:`TextStats`: words, lines, paragraphs and the figures
derived from them, each computed at most once (lazily) and cached for as long as ``doc.text`` is the same
string object. A step that edits the text (``c4_lines``, ``refinedweb_lines``) assigns a new string, so the
next filter sees fresh statistics without anyone having to invalidate anything.

Why the cache is keyed on the text object and not stored on the document: ``Document`` uses slots (no spare
attribute) and its ``meta``/``signals`` are written out. The cache holds a reference to each text it has
seen, so ``id(text)`` cannot be reused while its entry lives; an entry is only returned when the cached
text *is* ``doc.text``. Stats depend on nothing but the text, so two documents sharing one string object
may share one entry. The cache is small (documents stream through the steps one after another).

Words: a fast regex tokeniser that approximates spaCy's blank English tokenizer (what datatrove uses):
punctuation split off words, a hyphen before a letter splits (``well-known`` -> 3 tokens), numbers keep
their separators (``1,000.5``, ``2019-2020``, ``10:30``), clitics split (``don't`` -> ``do n't``), URLs
and e-mail addresses stay whole, a run of dots is one token. Where it disagrees with spaCy is measured in
``bench/README.md``.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cached_property

import numpy as np

from thresher.document import Document, Reason
from thresher.steps import Step

# Characters that make a token a "symbol word" when it has nothing else (Gopher's word count ignores those).
# The set follows datatrove's PUNCTUATION_SET semantics: ASCII punctuation, common CJK/typographic marks,
# C0/C1 control characters except \t and \n, plus the Unicode sentence terminators below.
_PUNCT_EXTRA = "—”％１〈、━【「」，】；“《„’∶´．（–？！：～«〉》）。…►»"
# Unicode sentence-terminal marks (Sentence_Terminal property): a line ending in one "ends a sentence"
# for FineWeb's punctuation rule; datatrove adds them to the punctuation set too.
TERMINAL_PUNCTUATION = frozenset(
    "᪩⁈𑩂꩞𑅃﹗𑂾\u1b7d፧𑅂꡶꘎⁉࠾᪨𑊩𑱂᱿𖩮᥅\U00011f43\U00011f44﹒𑈹𑈸።܂؞꛳\U00010f88𑗍𐩖𑙂\u061d꩟᠉"
    "\u1b7e𑗗᰼𑻸؟𑪜꧉𑗉𐽙𖫵𖬷܀꓿᜵𑗏𑁇𑗓𑥄៖𑥆𑗑𑗒꯫۔𐩗\U00010f86꡷\u2e54｡៕߹⸮𑇅࠹𛲟꫰꤯𐽗᭞𑜼፨𑃁꣏𑇟𖬸𑪛"
    "𑜾࠷𝪈𑃀𑗃։꣎॥𑗖᭛᠃၊𖺘⁇𑗌𑑋𖭄᭟𑅁𑙁⸼꩝𑗋꧈꫱𑜽𐽖𑂿᙮។꛷\U00010f89៚᥄𑗕𑗎᪪᭚࠽𑇞𑗊𐽘\u2e53𑗔𖩯𑇍𑻷𐽕𑩃।"
    "𑗂𑇆𑁈။᱾𑱁꘏܁᜶‼𑈻‽᪫﹖𑑌𑈼\U00010f87𑗐៙᰻"
    "!.?？！．。｡")
_CONTROL = "".join(chr(c) for c in [*range(0, 9), *range(11, 32), *range(127, 160)])
PUNCTUATION_CHARS = frozenset(r"""!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~""" + _PUNCT_EXTRA + _CONTROL) | TERMINAL_PUNCTUATION
# A token is a real word when it has one character outside that set.
_NON_PUNCT = re.compile("[^" + re.escape("".join(sorted(PUNCTUATION_CHARS))) + "]")
_HAS_ALPHA = re.compile(r"[^\W\d_]")  # str.isalpha() for one character, as a regex class

_APOS = "'’"
# Each alternative is a single pass with bounded backtracking (no nested quantifiers over the same
# characters), so findall stays linear in the text length.
_TOKEN = re.compile(
    r"(?:https?://|www\.)[^\s<>\"']*[^\s<>\"'.,;:!?)\]}]"  # URL, trailing punctuation left out
    r"|[\w.+-]{1,64}@\w[\w-]*(?:\.\w[\w-]*)+"                 # e-mail (bounded local part: linear)
    r"|\w+(?=n[" + _APOS + r"]t\b)"                           # do|n't, is|n't
    r"|n[" + _APOS + r"]t\b"
    r"|(?<=\w)[" + _APOS + r"](?:[sdm]|ll|re|ve)\b"           # clitics: 's 'd 'm 'll 're 've
    r"|\w+(?:(?:[.,:/](?=\d)|-(?=\w)(?!\d*[^\W\d])|[.&@](?=[^\W\d_]))\w+)*"  # words, numbers, a.b, AT&T
    r"|\.{2,}|-{2,}"                                           # ellipsis "...", dash runs
    r"|[^\w\s]",                                               # any other symbol, one per token
    re.IGNORECASE,
)
_PARAGRAPH_BREAK = re.compile(r"\n{2,}")
_NEWLINES = re.compile(r"\n+")

STOP_WORDS = frozenset(("the", "be", "to", "of", "and", "that", "have", "with"))


class TextStats:
    """Everything the quality rules read from one text, each piece computed on first use."""

    def __init__(self, text: str) -> None:
        self.text = text

    # --- tokens -------------------------------------------------------------------------------------
    @cached_property
    def words(self) -> list[str]:
        """Word tokens (punctuation tokens included, like datatrove's word tokenizer)."""
        return _TOKEN.findall(self.text)

    @cached_property
    def non_symbol_words(self) -> list[str]:
        search = _NON_PUNCT.search
        return [w for w in self.words if search(w)]

    @cached_property
    def alpha_word_count(self) -> int:
        """Words with at least one alphabetic character."""
        return sum(1 for w in self.words if _HAS_ALPHA.search(w))

    @cached_property
    def distinct_stop_words(self) -> int:
        return len(STOP_WORDS.intersection(self.words))

    @cached_property
    def ws_words(self) -> list[str]:
        """Whitespace-separated words (``str.split()``), as DCLM's RefinedWeb rules count them."""
        return self.text.split()

    @cached_property
    def ws_non_alpha_words(self) -> int:
        return sum(1 for w in self.ws_words if not _HAS_ALPHA.search(w))

    @cached_property
    def ws_stop_words(self) -> int:
        """Occurrences (not distinct) of stop words among the lower-cased whitespace words."""
        return sum(1 for w in self.text.lower().split() if w in STOP_WORDS)

    # --- lines and paragraphs -----------------------------------------------------------------------
    @cached_property
    def lines(self) -> list[str]:
        """``str.splitlines()`` (any line boundary), as Gopher quality and C4 split."""
        return self.text.splitlines()

    @cached_property
    def nl_lines(self) -> list[str]:
        """Split on ``\\n`` only, as FineWeb's rules split."""
        return self.text.split("\n")

    @cached_property
    def nonempty_nl_lines(self) -> list[str]:
        return [line for line in self.nl_lines if line.strip()]

    @cached_property
    def rep_lines(self) -> list[str]:
        """Runs of newlines as one separator, as Gopher repetition splits lines."""
        return _NEWLINES.split(self.text)

    @cached_property
    def paragraphs(self) -> list[str]:
        return _PARAGRAPH_BREAK.split(self.text.strip())

    # --- n-grams ------------------------------------------------------------------------------------
    @cached_property
    def _word_hashes(self) -> np.ndarray:
        # Python's str hash is fast (C, cached on the string) and stable within a process.
        return np.fromiter(map(hash, self.words), dtype=np.int64, count=len(self.words)).view(np.uint64)

    @cached_property
    def _word_len_cumsum(self) -> np.ndarray:
        lengths = np.fromiter(map(len, self.words), dtype=np.int64, count=len(self.words))
        return np.concatenate(([0], np.cumsum(lengths)))

    def ngram_hashes(self, n: int) -> np.ndarray:
        """One 64-bit hash per word n-gram (polynomial over the word hashes, wrapping arithmetic)."""
        cache = self.__dict__.setdefault("_ngram_cache", {})
        if n in cache:
            return cache[n]
        h = self._word_hashes
        if n > 1:
            prev = self.ngram_hashes(n - 1)
            with np.errstate(over="ignore"):
                h = prev[:-1] * np.uint64(0x100000001B3) + h[n - 1:]
        cache[n] = h
        return h

    def ngram_chars(self, n: int) -> np.ndarray:
        """Characters of each n-gram's words (no separators)."""
        c = self._word_len_cumsum
        return c[n:] - c[:-n]

    def top_ngram_chars(self, n: int) -> int:
        """Characters covered by the most frequent n-gram, counted as ``count * len(" ".join(ngram))``.

        Ties go to the n-gram seen first, as ``Counter.most_common`` does.
        """
        hashes = self.ngram_hashes(n)
        if len(hashes) == 0:
            return 0
        _, first, counts = np.unique(hashes, return_index=True, return_counts=True)
        best = counts.max()
        pos = first[counts == best].min()
        return int(best) * (int(self.ngram_chars(n)[pos]) + n - 1)

    def duplicate_ngram_chars(self, n: int) -> int:
        """Characters in repeated n-grams, scanning left to right and jumping over a repeat (Gopher).

        Only positions whose n-gram occurs more than once can change the result, so the scan visits just
        those; a document without repeats costs one ``np.unique``.
        """
        hashes = self.ngram_hashes(n)
        if len(hashes) < 2:
            return 0
        _, inverse, counts = np.unique(hashes, return_inverse=True, return_counts=True)
        repeated = np.flatnonzero(counts[inverse] > 1)
        if len(repeated) == 0:
            return 0
        chars = self.ngram_chars(n)
        seen: set[int] = set()
        total = 0
        next_free = 0
        for pos, h in zip(repeated.tolist(), hashes[repeated].tolist(), strict=True):
            if pos < next_free:
                continue
            if h in seen:
                total += int(chars[pos])
                next_free = pos + n
            else:
                seen.add(h)
        return total


def duplicates(items: list[str]) -> tuple[int, int]:
    """(number of items that repeat an earlier one, their characters)."""
    counts = Counter(items)
    dup_items = len(items) - len(counts)
    if dup_items == 0:
        return 0, 0
    return dup_items, sum(len(item) * (c - 1) for item, c in counts.items() if c > 1)


_CACHE: dict[int, TextStats] = {}
_CACHE_SIZE = 16


def text_stats(doc: Document | str) -> TextStats:
    """The shared statistics of ``doc.text`` (or of a string), computed once per text object."""
    text = doc if isinstance(doc, str) else doc.text
    key = id(text)
    stats = _CACHE.get(key)
    if stats is not None and stats.text is text:
        return stats
    stats = TextStats(text)
    if len(_CACHE) >= _CACHE_SIZE:
        del _CACHE[next(iter(_CACHE))]
    _CACHE[key] = stats
    return stats


def ratio(num: float, den: float) -> float:
    """num / den, with 0 for an empty denominator (empty texts get figures, not exceptions)."""
    return num / den if den else 0.0


def first_broken(step: Step, checks: list[tuple[str, float, float | None, bool]]) -> Reason | None:
    """The Reason for the first check that is on (threshold not None/0) and broken, else None.

    ``checks`` are ``(rule, value, threshold, broken)``; a threshold of None or 0 turns the rule off, as in
    datatrove, while its signal is still recorded.
    """
    for rule, value, threshold, broken in checks:
        if threshold and broken:
            return step.reject(rule, value, threshold)
    return None
