"""One tokenisation per document, shared by every quality rule.

``text_stats(doc)`` returns the document's :class:`TextStats`: words, lines, paragraphs and the figures
derived from them, each computed at most once (lazily). The statistics live on the document itself
(``Document.stats``) for as long as ``doc.text`` is the same string object: however the engine batches
documents and however many steps read them, a text is tokenised once. A step that edits the text
(``c4_lines``, ``refinedweb_lines``) assigns a new string, so the next filter sees fresh statistics
without anyone having to invalidate anything.

Words in every script: the words of a text come from one *word splitter*, chosen per document by its
script (``doc.meta["script"]``, an ISO 15924 code such as ``Hani`` or ``Thai``; see
:func:`register_word_splitter`). Scripts written with spaces use :func:`tokenize` (below); a segmenter for
a script without spaces (Chinese, Japanese, Thai, Lao, Khmer, Burmese) registers itself for that script,
and every rule that counts words, and MinHash's shingles (:func:`shingle_text`), then see its words.

:func:`tokenize` follows the rules of spaCy's blank English tokenizer (what datatrove uses): split on
whitespace, peel prefix/suffix punctuation off each chunk, split infixes only between the neighbours spaCy
splits them (``well-known`` -> 3 tokens, ``AI/ML``, ``10-20``; but ``COVID-19``, ``1,000``, ``10:30``,
``AT&T``, ``U.S.``, ``Mr.`` stay whole), clitics apart (``it's`` -> ``it 's``), URLs whole. Measured
against spaCy in ``bench/README.md`` (agreement of the decisions, and the disagreement classes).

Word n-grams (Gopher repetition) are computed in bulk: one 64-bit hash per word, n-gram hashes combined
from them with numpy, one sort per n over only the positions whose (n-1)-gram repeats; the most frequent
n-gram and Gopher's left-to-right duplicate scan come from that same sort (``_Level``). The figures are
those of the per-n ``np.unique`` code they replace, on the same hash values (tests/test_rules_parity.py).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Sequence
from functools import cached_property
from itertools import accumulate, compress, filterfalse, product
from operator import not_

import numpy as np

from thresher.document import Document, MetaKey, Reason
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

# spaCy's tokenizer splits on whitespace, then peels prefix and suffix characters off each chunk and splits a
# few infixes; punctuation inside a chunk stays ("AT&T", "and/or", "a;b"). The regex below follows that:
# S: characters peeled off the end of a chunk (and the start); Q: peeled off the start only.
_S = r"""\)\]\}>"'“”‘’«»„‹›,;:!?…—–#*&·%€£¥°©®™•。？！，、；：."""
_S_INNER = r"""\)\]\}>"“”‘«»„‹›;!?…#*&·%€£¥°©®™•。？！，、；."""  # may stay inside a chunk
_Q = _S + r"""\(\[\{<$§=+_"""
_CLITIC = r"(?:[sSdDmMtT]|ll|re|ve|LL|RE|VE)"  # it|'s, we|'ll, don|'t (spaCy: do|n't, same sizes)
_CHUNK_END = rf"(?![^\s{_S}])"  # whitespace, a suffix character or the end follows
_ABBREVIATIONS = ("Mr|Mrs|Ms|Dr|St|Jr|Sr|Prof|Rev|Gen|Gov|Sen|Rep|Inc|Ltd|Co|co|Corp|Bros|vs|Mt|Adm|Messrs"
                  "|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|[A-Za-z]")
# Abbreviations and initials keep their period ("Mr.", "A."); the lookahead guard skips the alternation
# for every word that is not a short run of letters followed by a period.
_ABBR = rf"(?<![^\s(\[\"'“‘])(?=[A-Za-z]{{1,6}}\.)(?:{_ABBREVIATIONS})\.(?![^\s{_S}]|\.)"
# Infixes split a chunk only between certain neighbours (spaCy's infix rules): - – — / : = ~ between a letter
# or digit and a letter ("well-known", "AI/ML", "a:b"), "-" between digits ("10-20"), "," between letters.
# Elsewhere they stay inside the chunk ("COVID-19", "1/2", "10:30", "1,000", JSON-like '","').
_NO_INFIX = r"(?!(?<=[^\W_])[-–—/:=~][^\W\d_])(?!(?<=\d)-\d)(?!(?<=[^\W\d_]),[^\W\d_])"
# A chunk's core: runs of ordinary characters, joined by characters that stay inside a chunk: a dash,
# slash, = or ~ that is not an infix split; an apostrophe that is not a clitic ("O'Neil"); suffix
# punctuation when more of the chunk follows ("a.b", "3.5", "a;b"). A final period stays after "U.S" /
# "e.g". The repetition (?:X+|...)* cannot backtrack badly: nothing after it can fail.
_CORE = (rf"{_NO_INFIX}[^\s{_Q}](?:[^\s{_S}'/=~-]+|{_NO_INFIX}(?:[-/=~]|[–—](?=[^\s{_S}]))"
         rf"|['’](?!{_CLITIC}{_CHUNK_END})(?=[^\s{_S}])|{_NO_INFIX}[{_S_INNER},:]+(?=[^\s{_S}]))*"
         rf"(?:(?<=\.[A-Za-z])\.(?![^\s{_S}]|\.))?")
_URL = r"(?:https?://|www\.)[^\s<>\"']*[^\s<>\"'.,;:!?)\]}]"  # trailing punctuation left out
_REST = (_ABBR, rf"(?<=\S)['’]{_CLITIC}{_CHUNK_END}", r"\.{2,}", _CORE, r"\S")
_TOKEN_PLAIN = re.compile("|".join(_REST))
# The URL alternative costs ~20% at every token, so it is only used for texts that contain "://".
_TOKEN_URL = re.compile("|".join((_URL, *_REST)))


# The whitespace fast path of ``tokenize``. Tokens never span whitespace and every lookaround of the regex
# sees a chunk's ends as it sees whitespace, so the regex can run on each whitespace chunk alone; most chunks
# need no regex at all. An alphanumeric chunk (``str.isalnum``: no character of the regex's punctuation
# classes is alphanumeric) is one token. An alphanumeric chunk plus one of these marks is two tokens: the
# regex always peels them off the end.
_PEELED = frozenset(",;:!?)")
# ... and so is one plus a period, unless the chunk is an abbreviation the regex keeps whole (``Mr.``, or
# one ASCII letter: those chunks are left to the regex).
_KEEPS_PERIOD = frozenset(_ABBREVIATIONS.split("|")[:-1])
# The regex's tokens of the other chunks ("it's", "well-known", "--", "(see"), remembered per chunk: the
# same few thousand recur across pages, and the regex costs microseconds a chunk. A plain dict of short chunks,
# emptied when it grows past the bound (the lists are never mutated: they are only copied into a text's tokens).
_CHUNK_TOKENS: tuple[dict[str, list[str]], dict[str, list[str]]] = ({}, {})  # [urls]
_CHUNK_MEMO_SIZE, _CHUNK_MEMO_LEN = 50_000, 64  # entries, characters of a remembered chunk


def tokenize(text: str, urls: bool | None = None) -> list[str]:
    """Word tokens of ``text`` (punctuation tokens included), as the regex above finds them.

    ``urls`` forces the URL-aware variant on or off (default: on when the text contains "://"), so a part of
    a page can be counted the way the whole page was.
    """
    if urls is None:
        urls = "://" in text
    findall = (_TOKEN_URL if urls else _TOKEN_PLAIN).findall
    memo = _CHUNK_TOKENS[urls]
    if len(memo) > _CHUNK_MEMO_SIZE:
        memo.clear()
    known = memo.get
    peeled, keeps_period = _PEELED, _KEEPS_PERIOD
    out: list[str] = []
    append, extend = out.append, out.extend
    for chunk in text.split():
        if chunk.isalnum():
            append(chunk)
            continue
        head, last = chunk[:-1], chunk[-1]
        if head.isalnum() and (last in peeled or (last == "." and len(head) > 1 and head not in keeps_period)):
            append(head)
            append(last)
        elif not head:  # one character: always one token (checked for every code point in the tests)
            append(chunk)
        else:
            tokens = known(chunk)
            if tokens is None:
                tokens = findall(chunk)
                if len(chunk) <= _CHUNK_MEMO_LEN:
                    memo[chunk] = tokens
            extend(tokens)
    return out


WordSplitter = Callable[[str], list[str]]
# script (ISO 15924 code, as doc.meta["script"] names it) -> the word splitter for texts in that script
_WORD_SPLITTERS: dict[str, WordSplitter] = {}


def register_word_splitter(script: str, splitter: WordSplitter) -> None:
    """Use ``splitter`` for the words of every document whose ``meta["script"]`` is ``script``.

    The splitter returns a text's words in order (punctuation tokens may be included, as ``tokenize``
    does); it is what the Gopher, C4, FineWeb and RefinedWeb word counts, n-gram repetition and MinHash
    shingles see for those documents.
    """
    _WORD_SPLITTERS[script] = splitter


def word_splitter(script: str | None) -> WordSplitter | None:
    """The splitter registered for ``script``, or None for the default (:func:`tokenize`)."""
    return _WORD_SPLITTERS.get(script) if script else None


STOP_WORDS = frozenset(("the", "be", "to", "of", "and", "that", "have", "with"))
# Every spelling of a stop word that lower-cases to it: only ASCII letters lower-case to ASCII letters
# (besides the Kelvin sign, to "k", in no stop word), so ``w.lower() in STOP_WORDS`` is ``w in _STOP_SPELLINGS``.
_STOP_SPELLINGS = frozenset("".join(p) for w in STOP_WORDS for p in product(*({c, c.upper()} for c in w)))


class TextStats:
    """Everything the quality rules read from one text, each piece computed on first use."""

    def __init__(self, text: str, splitter: WordSplitter | None = None) -> None:
        self.text = text
        self.splitter = splitter  # None: tokenize()

    # --- tokens -------------------------------------------------------------------------------------
    @cached_property
    def words(self) -> list[str]:
        """Word tokens (punctuation tokens included, like datatrove's word tokenizer)."""
        return self.split(self.text)

    def split(self, part: str) -> list[str]:
        """The words of ``part`` (a piece of this text), split the way this text's words are."""
        if self.splitter is None:
            return tokenize(part, "://" in self.text)
        return self.splitter(part)

    @cached_property
    def word_count(self) -> int:
        """``len(words)``; a step that edits the text may seed it (see ``TextStats.seed``) so the edited text
        is not tokenised again just to be counted."""
        return len(self.words)

    def known_word_count(self) -> int | None:
        """The word count if this text was already tokenised, else None (never tokenises)."""
        if "word_count" in self.__dict__:
            return self.__dict__["word_count"]
        return len(self.__dict__["words"]) if "words" in self.__dict__ else None

    def seed(self, **known: object) -> None:
        """Record figures already known for this text (computed by the step that produced it)."""
        self.__dict__.update(known)

    @cached_property
    def _not_alpha(self) -> Counter[str]:
        """The tokens that are not all letters (numbers, punctuation, mixed), counted: the only ones the symbol
        and alphabetic rules need to look at (no letter is a punctuation character). ``str.isalpha`` settles
        the others in C, and each distinct token here is looked at once."""
        return Counter(filterfalse(str.isalpha, self.words))

    @cached_property
    def _symbols(self) -> set[str]:
        """Distinct symbol words: tokens with no character outside ``PUNCTUATION_CHARS``."""
        punct, search = PUNCTUATION_CHARS, _NON_PUNCT.search
        # most tokens start with a letter or digit: a set lookup settles them, the regex the rest
        return {w for w in self._not_alpha if not (w[0] not in punct or search(w))}

    @cached_property
    def non_symbol_words(self) -> list[str]:
        symbols = self._symbols
        return list(filterfalse(symbols.__contains__, self.words)) if symbols else list(self.words)

    @cached_property
    def non_symbol_count(self) -> int:
        """``len(non_symbol_words)``, without building the list: from the tokens when they are listed (or a
        splitter makes them), else counted from the whitespace chunks without tokenising the page
        (``count_non_symbol_words``: RefinedWeb's rules run alone need only this count)."""
        known = self.__dict__
        if "non_symbol_words" in known:
            return len(known["non_symbol_words"])
        if "words" not in known and self.splitter is None:
            return count_non_symbol_words(self.text, None, known.get("ws_words"))
        counts = self._not_alpha
        return len(self.words) - sum(counts[w] for w in self._symbols)

    @cached_property
    def non_symbol_chars(self) -> int:
        """``sum(map(len, non_symbol_words))``, without building the list."""
        counts = self._not_alpha
        return sum(map(len, self.words)) - sum(counts[w] * len(w) for w in self._symbols)

    @cached_property
    def alpha_word_count(self) -> int:
        """Words with at least one alphabetic character."""
        rest, search = self._not_alpha, _HAS_ALPHA.search
        return len(self.words) - rest.total() + sum(c for w, c in rest.items() if search(w))

    @cached_property
    def distinct_stop_words(self) -> int:
        return len(STOP_WORDS.intersection(self.words))

    @cached_property
    def ws_words(self) -> list[str]:
        """Whitespace-separated words (``str.split()``), as DCLM's RefinedWeb rules count them."""
        return self.text.split()

    @cached_property
    def ws_non_alpha_words(self) -> int:
        """Whitespace words without a letter: ``str.isalpha`` settles most words in C, the regex the rest."""
        rest = list(compress(self.ws_words, map(not_, map(str.isalpha, self.ws_words))))
        return len(rest) - sum(map(bool, map(_HAS_ALPHA.search, rest)))

    @cached_property
    def ws_stop_words(self) -> int:
        """Occurrences (not distinct) of stop words among the lower-cased whitespace words, matched as written
        (``_STOP_SPELLINGS``), so the page is not lower-cased."""
        return len(list(filter(_STOP_SPELLINGS.__contains__, self.ws_words)))

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
        return list(filterfalse(str.isspace, filter(None, self.nl_lines)))

    @cached_property
    def rep_lines(self) -> list[str]:
        """Runs of newlines as one separator, as Gopher repetition splits lines (``re.split("\\n+")``:
        empty pieces only at the ends), derived from ``nl_lines`` without another pass."""
        text = self.text
        lines = list(filter(None, self.nl_lines))
        if text.startswith("\n") or not text:
            lines.insert(0, "")
        if text.endswith("\n"):
            lines.append("")
        return lines

    @cached_property
    def paragraphs(self) -> list[str]:
        """Split on runs of two or more newlines (``re.split(r"\\n{2,}", text.strip())``), with
        ``str.split``: a run of m newlines leaves m // 2 - 1 empty pieces and, when m is odd, one newline at
        the start of the next piece (the text is stripped, so no piece ends with one)."""
        text = self.text.strip()
        paragraphs = text.split("\n\n")
        if "\n\n\n" in text:
            paragraphs = [p[1:] if p[0] == "\n" else p for p in paragraphs if p]
        return paragraphs

    # --- n-grams ------------------------------------------------------------------------------------
    # Word n-grams are compared by a 64-bit hash: Python's hash of each word, combined over n words by a
    # polynomial with wrapping arithmetic (h_n[i] = h_{n-1}[i] * P + w[i + n - 1]). Every figure below is
    # computed from exactly these values and the positions ``repeated_positions`` examines, so it is the
    # same whatever the order the figures are asked for in.
    @cached_property
    def _word_hashes(self) -> np.ndarray:
        # Python's str hash is fast (C, cached on the string) and stable within a process.
        words = self.words
        return np.fromiter(map(hash, words), dtype=np.int64, count=len(words)).view(np.uint64)

    @cached_property
    def _word_len_cumsum(self) -> np.ndarray:
        words = self.words
        c = np.empty(len(words) + 1, dtype=np.int64)
        c[0] = 0
        np.cumsum(np.fromiter(map(len, words), dtype=np.int64, count=len(words)), out=c[1:])
        return c

    def ngram_hashes(self, n: int) -> np.ndarray:
        """One 64-bit hash per word n-gram (polynomial over the word hashes, wrapping arithmetic)."""
        cache = self.__dict__.setdefault("_ngram_cache", {})
        if n in cache:
            return cache[n]
        h = self._word_hashes
        if n > 1:
            prev = self.ngram_hashes(n - 1)
            with np.errstate(over="ignore"):
                h = prev[:-1] * _NGRAM_P + h[n - 1:]
        cache[n] = h
        return h

    def _ngram_level(self, n: int) -> _Level:
        """The n-grams that occur more than once, from one sort of their hashes.

        An n-gram can only repeat where its (n-1)-gram prefix repeats, so from n = 3 on only those positions
        are examined (and only their hashes computed): repetitive pages cost more, ordinary ones almost nothing.
        """
        cache = self.__dict__.setdefault("_levels", {})
        level = cache.get(n)
        if level is not None:
            return level
        n_grams = len(self._word_hashes) - n + 1
        if n <= 2:
            cand, sub = None, self.ngram_hashes(n)
        else:
            prev = self._ngram_level(n - 1)
            if len(prev.positions) and prev.positions[-1] >= n_grams:  # the last (n-1)-gram has no n-gram
                keep = prev.positions < n_grams
                cand, prev_hashes = prev.positions[keep], prev.hashes[keep]
            else:
                cand, prev_hashes = prev.positions, prev.hashes
            sub = prev_hashes * _NGRAM_P + self._word_hashes[cand + (n - 1)]  # arrays: wrap, no warning
        level = cache[n] = _Level(cand, sub)
        return level

    def repeated_positions(self, n: int) -> np.ndarray:
        """Sorted start positions of the n-grams that occur more than once."""
        return self._ngram_level(n).positions

    def top_ngram_chars(self, n: int) -> int:
        """Characters covered by the most frequent n-gram, counted as ``count * len(" ".join(ngram))``.

        Ties go to the n-gram seen first, as ``Counter.most_common`` does.
        """
        n_grams = len(self._word_hashes) - n + 1
        if n_grams <= 0:
            return 0
        best, pos = self._ngram_level(n).top()
        return best * (sum(map(len, self.words[pos:pos + n])) + n - 1)

    def duplicate_ngram_chars(self, n: int) -> int:
        """Characters in repeated n-grams, scanning left to right and jumping over a repeat (Gopher).

        Only positions whose n-gram occurs more than once can change the result, so the scan visits just
        those.
        """
        level = self._ngram_level(n)
        repeated = level.positions
        if len(repeated) == 0:
            return 0
        return self._ngram_chars_at(level.scan(n), n)

    def _ngram_chars_at(self, starts: np.ndarray, n: int) -> int:
        """Characters of the words of the n-grams starting at ``starts``: summed directly when they are few
        (most pages), from the cumulative word lengths when they are many."""
        words = self.words
        if "_word_len_cumsum" not in self.__dict__ and len(starts) * n * 8 < len(words):
            return sum(sum(map(len, words[p:p + n])) for p in starts.tolist())
        c = self._word_len_cumsum
        return int((c[starts + n] - c[starts]).sum())


_NGRAM_P = np.uint64(0x100000001B3)
_EMPTY = np.empty(0, dtype=np.int64)
_SMALL_SCAN = 1024  # repeated n-grams up to which the Gopher scan runs as one plain Python pass


class _Level:
    """The n-grams of one n that occur more than once among the examined positions ``cand`` (None: all):
    their sorted start positions and hashes, and on request the most frequent one and the Gopher scan, both
    from the same sort."""

    __slots__ = ("positions", "hashes", "_cand", "_idx", "_order", "_same", "_top")

    def __init__(self, cand: np.ndarray | None, sub: np.ndarray) -> None:
        self._top: tuple[int, int] | None = (1, 0)  # (1, 0): no n-gram repeats
        self.positions, self.hashes = _EMPTY, sub[:0]
        if len(sub) < 2:
            return
        order = np.argsort(sub)
        ordered = sub[order]
        same = ordered[1:] == ordered[:-1]  # same[k]: sorted entries k and k + 1 are one n-gram
        if not same.any():
            return
        in_group = np.zeros(len(sub), dtype=bool)  # in sorted order: the entry shares its n-gram with another
        in_group[1:] = same
        in_group[:-1] |= same
        mask = np.empty(len(sub), dtype=bool)
        mask[order] = in_group
        idx = np.flatnonzero(mask)
        self.positions = idx if cand is None else cand[idx]
        self.hashes = sub[idx]
        self._cand, self._idx, self._order, self._same, self._top = cand, idx, order, same, None

    def _groups(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Groups of equal hashes are runs of the sorted array: (run starts, run lengths, the smallest examined
        index in each run, i.e. the n-gram's first occurrence)."""
        order, same = self._order, self._same
        starts = np.flatnonzero(np.concatenate(([True], ~same)))
        return starts, np.diff(np.append(starts, len(order))), np.minimum.reduceat(order, starts)

    def top(self) -> tuple[int, int]:
        """(count of the most frequent n-gram, its first position); (1, 0) when none repeats. Ties go to the
        n-gram whose first occurrence comes first, as ``Counter.most_common`` does."""
        if self._top is None:
            _, counts, firsts = self._groups()
            best = int(counts.max())
            first = int(firsts[counts == best].min())
            self._top = (best, first if self._cand is None else int(self._cand[first]))
        return self._top

    def scan(self, n: int) -> np.ndarray:
        """Start positions of the n-grams Gopher's left-to-right scan counts as duplicates.

        The scan (datatrove's ``find_all_duplicate``): an n-gram seen before is counted and the scan jumps n
        words ahead, skipping the n-grams inside the jump; any other n-gram is remembered. Only repeated
        n-grams can change the result, so only they are visited (index i below: the i-th repeated one).

        A first occurrence is never counted, so it never jumps: a run of them is visited and remembered
        whole. A later occurrence the scan reaches is counted unless every earlier occurrence of its n-gram
        was skipped (then it is remembered instead): the ``unseen`` n-grams, whose first occurrence a jump
        skipped. So Python only steps from one counted n-gram to the next (the jump targets are computed
        for all at once), plus the rare remembered later occurrence.
        """
        positions = self.positions
        k = len(positions)
        if k == 0:
            return _EMPTY
        if k <= _SMALL_SCAN:  # a few repeats (most pages): one Python pass costs less than the set-up below
            return np.array(_scan_exact(memoryview(self.hashes), memoryview(positions), n), dtype=np.int64)
        _, counts, firsts = self._groups()
        # the group of each repeated n-gram, named by its first occurrence (an index among the examined)
        group = np.empty(len(self._order), dtype=np.int64)
        group[self._order] = np.repeat(firsts, counts)
        group = group[self._idx]
        first = group == self._idx
        later = np.flatnonzero(~first)  # occurrences after the first, in order
        if len(later) == 0:
            return _EMPTY
        firsts_before = np.concatenate(([0], np.cumsum(first)))  # first occurrences among indices < j
        # from index j: the first later occurrence at or after j (k: none); j - firsts_before[j] of them are < j
        next_later = np.append(later, k)[np.arange(k + 1) - firsts_before]
        # Runs of later occurrences at consecutive positions (a repeated passage): from index i in one, the
        # scan counts i, i + n, i + 2n, ... to the run's end without skipping a first occurrence.
        broken = first[:-1] | first[1:] | (np.diff(positions) != 1)  # indices t and t + 1 not in one run
        run_ends = np.append(np.flatnonzero(broken), k - 1)
        run_last = run_ends[np.concatenate(([0], np.cumsum(broken)))]  # last index of the run holding t
        jump = np.append(np.searchsorted(positions, positions + n), k)  # first index at or past the jump
        nl, jp, fb, grp, is_first, rl = (memoryview(a) for a in (next_later, jump, firsts_before, group, first,
                                                                run_last))
        unseen: set[int] = set()
        counted: list[int] = []
        i = nl[0]
        while i < k:
            if unseen and grp[i] in unseen:  # every earlier occurrence skipped: remembered, not counted
                unseen.discard(grp[i])
                i = nl[i + 1]
                continue
            if not unseen and rl[i] - i >= n:  # along a run: counted every n, then jump from the last one
                last = i + (rl[i] - i) // n * n
                counted.extend(range(i, last, n))
                i = last
            counted.append(i)
            j = jp[i]
            if fb[j] != fb[i + 1]:  # the jump skips first occurrences: their n-grams are not remembered
                unseen.update(grp[t] for t in range(i + 1, j) if is_first[t])
            i = nl[j]
        return positions[counted]


def _scan_exact(group: Sequence[int], positions: Sequence[int], n: int) -> list[int]:
    """Gopher's scan over the repeated n-grams, one at a time: positions of the counted ones. ``group``: any
    values equal for two n-grams exactly when they are the same n-gram (their hashes). A counted n-gram jumps
    straight to the first repeated one past it (bisect), so the skipped ones cost nothing."""
    seen: set[int] = set()
    add = seen.add
    counted: list[int] = []
    append = counted.append
    k = len(positions)
    i = 0
    while i < k:
        g = group[i]
        if g in seen:
            pos = positions[i]
            append(pos)
            i = bisect_left(positions, pos + n, i + 1)
        else:
            add(g)
            i += 1
    return counted


def duplicates(items: list[str]) -> tuple[int, int]:
    """(number of items that repeat an earlier one, their characters)."""
    distinct = set(items)
    dup_items = len(items) - len(distinct)
    if dup_items == 0:
        return 0, 0
    # every copy after the first of each item: all characters less one copy of each distinct item
    return dup_items, sum(map(len, items)) - sum(map(len, distinct))


def text_stats(doc: Document | str) -> TextStats:
    """The shared statistics of ``doc.text``: computed once per text, kept on the document (``doc.stats``)
    until its text is replaced. A plain string gets fresh statistics with the default splitter."""
    if isinstance(doc, str):
        return TextStats(doc)
    stats = doc.stats
    if stats is None or stats.text is not doc.text:
        stats = doc.stats = TextStats(doc.text, word_splitter(doc.meta.get(MetaKey.SCRIPT)))
    return stats


def shingle_text(doc: Document) -> str:
    """The text MinHash shingles for ``doc``: its text, or, for a script with a registered word splitter,
    its words joined by spaces (so the shingles are that splitter's words, not runs of unspaced text)."""
    if word_splitter(doc.meta.get(MetaKey.SCRIPT)) is None:
        return doc.text
    return " ".join(text_stats(doc).words)


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


# --- counting non-symbol words -------------------------------------------------------------------------
# A rule that only needs how many non-symbol words a text has (RefinedWeb's word counts) counts them without
# listing the tokens: an alphanumeric chunk is one word (tokenize's fast path), settled for every chunk at
# once by ``str.isalnum`` mapped in C; a chunk of tokenize's second fast path is one word and one mark; the
# other chunks go through tokenize's regex, joined (tokens never span whitespace). "１" (FULLWIDTH DIGIT
# ONE) is the one alphanumeric character of the punctuation set: a text holding it is counted from its tokens.
_ALNUM_PUNCTUATION = "".join(sorted(c for c in PUNCTUATION_CHARS if c.isalnum()))


def _count_non_symbol(words: list[str]) -> int:
    """``len`` of the non-symbol words among ``words``: a set lookup on the first character settles most
    words in one C-level pass; the regex only sees those that start with a punctuation mark."""
    punct, search = PUNCTUATION_CHARS, _NON_PUNCT.search
    marked = [w for w in words if w[0] in punct]
    return len(words) - len(marked) + sum(map(bool, map(search, marked)))


def count_non_symbol_words(text: str, splitter: WordSplitter | None = None, chunks: list[str] | None = None
                           ) -> int:
    """``len(TextStats(text, splitter).non_symbol_words)``, without listing the words (default splitter);
    ``chunks``: ``text.split()`` when the caller has it."""
    if splitter is not None or any(c in text for c in _ALNUM_PUNCTUATION):
        return _count_non_symbol(TextStats(text, splitter).words)
    if chunks is None:
        chunks = text.split()
    alnum = list(map(str.isalnum, chunks))
    n = alnum.count(True)
    peeled, keeps_period = _PEELED, _KEEPS_PERIOD
    slow = []
    for chunk in compress(chunks, map(not_, alnum)):
        head, last = chunk[:-1], chunk[-1]
        if head.isalnum() and (last in peeled or (last == "." and len(head) > 1 and head not in keeps_period)):
            n += 1  # the head is a word, the mark a symbol
        else:
            slow.append(chunk)
    if slow:
        # the other chunks' tokens as tokenize finds them, in the page's URL mode (chunks hold no white space,
        # so joined by spaces they split back into themselves; tokenize's chunk memo serves them)
        n += _count_non_symbol(tokenize(" ".join(slow), urls="://" in text))
    return n


def lines_holding(lower: str, phrases: list[str]) -> set[int]:
    """Indexes of the ``\\n``-separated lines of ``lower`` (a lower-cased text) that hold one of ``phrases``
    (none of which spans a line): one ``str.find`` walk per phrase over the whole text, not a test per line."""
    starts = list(accumulate((len(x) + 1 for x in lower.split("\n")), initial=0))
    hit: set[int] = set()
    for p in phrases:
        pos = lower.find(p)
        while pos >= 0:
            k = bisect_right(starts, pos) - 1
            hit.add(k)
            pos = lower.find(p, starts[k + 1])
    return hit
