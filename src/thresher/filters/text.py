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
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
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


def tokenize(text: str, urls: bool | None = None) -> list[str]:
    """Word tokens of ``text`` (punctuation tokens included), as the regex above finds them.

    ``urls`` forces the URL-aware variant on or off (default: on when the text contains "://"), so a part of
    a page can be counted the way the whole page was.
    """
    if urls is None:
        urls = "://" in text
    findall = (_TOKEN_URL if urls else _TOKEN_PLAIN).findall
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
        else:
            extend(findall(chunk))
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


_PARAGRAPH_BREAK = re.compile(r"\n{2,}")

STOP_WORDS = frozenset(("the", "be", "to", "of", "and", "that", "have", "with"))


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
    def non_symbol_words(self) -> list[str]:
        # most tokens start with a letter or digit: a set lookup settles them, the regex the rest
        punct, search = PUNCTUATION_CHARS, _NON_PUNCT.search
        return [w for w in self.words if w[0] not in punct or search(w)]

    @cached_property
    def alpha_word_count(self) -> int:
        """Words with at least one alphabetic character."""
        # str.isalpha settles most tokens in C; the regex only sees numbers, symbols and mixed tokens
        rest = [w for w in self.words if not w.isalpha()]
        return len(self.words) - len(rest) + sum(map(bool, map(_HAS_ALPHA.search, rest)))

    @cached_property
    def distinct_stop_words(self) -> int:
        return len(STOP_WORDS.intersection(self.words))

    @cached_property
    def ws_words(self) -> list[str]:
        """Whitespace-separated words (``str.split()``), as DCLM's RefinedWeb rules count them."""
        return self.text.split()

    @cached_property
    def ws_non_alpha_words(self) -> int:
        return len(self.ws_words) - sum(map(bool, map(_HAS_ALPHA.search, self.ws_words)))

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
        return [line for line in self.nl_lines if line and not line.isspace()]

    @cached_property
    def rep_lines(self) -> list[str]:
        """Runs of newlines as one separator, as Gopher repetition splits lines (``re.split("\\n+")``:
        empty pieces only at the ends), derived from ``nl_lines`` without another pass."""
        text = self.text
        lines = [line for line in self.nl_lines if line]
        if text.startswith("\n") or not text:
            lines.insert(0, "")
        if text.endswith("\n"):
            lines.append("")
        return lines

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
        lengths = np.array(list(map(len, self.words)), dtype=np.int64)
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

    def repeated_positions(self, n: int) -> np.ndarray:
        """Sorted start positions of the n-grams that occur more than once.

        An n-gram can only repeat where its (n-1)-gram prefix repeats, so from n = 3 on only those positions
        are examined: repetitive pages cost more, ordinary ones almost nothing.
        """
        cache = self.__dict__.setdefault("_repeat_cache", {})
        if n in cache:
            return cache[n]
        hashes = self.ngram_hashes(n)
        cand = None if n <= 2 else self.repeated_positions(n - 1)
        if cand is not None:
            cand = cand[cand < len(hashes)]
        sub = hashes if cand is None else hashes[cand]
        if len(sub) < 2:
            result = np.empty(0, dtype=np.int64)
        else:
            _, inverse, counts = np.unique(sub, return_inverse=True, return_counts=True)
            mask = counts[inverse] > 1
            result = np.flatnonzero(mask) if cand is None else cand[mask]
        cache[n] = result
        return result

    def top_ngram_chars(self, n: int) -> int:
        """Characters covered by the most frequent n-gram, counted as ``count * len(" ".join(ngram))``.

        Ties go to the n-gram seen first, as ``Counter.most_common`` does.
        """
        hashes = self.ngram_hashes(n)
        if len(hashes) == 0:
            return 0
        rep = self.repeated_positions(n)
        if len(rep) == 0:
            best, pos = 1, 0  # every n-gram occurs once: the first one wins the tie
        else:
            _, first, counts = np.unique(hashes[rep], return_index=True, return_counts=True)
            best = int(counts.max())
            pos = int(rep[first[counts == best].min()])
        return best * (int(self.ngram_chars(n)[pos]) + n - 1)

    def duplicate_ngram_chars(self, n: int) -> int:
        """Characters in repeated n-grams, scanning left to right and jumping over a repeat (Gopher).

        Only positions whose n-gram occurs more than once can change the result, so the scan visits just
        those.
        """
        repeated = self.repeated_positions(n)
        if len(repeated) == 0:
            return 0
        hashes, chars = self.ngram_hashes(n), self.ngram_chars(n)
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


def text_stats(doc: Document | str) -> TextStats:
    """The shared statistics of ``doc.text``: computed once per text, kept on the document (``doc.stats``)
    until its text is replaced. A plain string gets fresh statistics with the default splitter."""
    if isinstance(doc, str):
        return TextStats(doc)
    stats = doc.stats
    if stats is None or stats.text is not doc.text:
        stats = doc.stats = TextStats(doc.text, word_splitter(doc.meta.get("script")))
    return stats


def shingle_text(doc: Document) -> str:
    """The text MinHash shingles for ``doc``: its text, or, for a script with a registered word splitter,
    its words joined by spaces (so the shingles are that splitter's words, not runs of unspaced text)."""
    if word_splitter(doc.meta.get("script")) is None:
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
    from itertools import compress
    from operator import not_

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
        n += _count_non_symbol((_TOKEN_URL if "://" in text else _TOKEN_PLAIN).findall(" ".join(slow)))
    return n


def non_symbol_word_count(stats: TextStats) -> int:
    """``len(stats.non_symbol_words)``: from the words when they were listed, else counted (and remembered
    on ``stats``) without listing them."""
    known = stats.__dict__
    if "non_symbol_words" in known:
        return len(known["non_symbol_words"])
    if "non_symbol_word_count" not in known:
        known["non_symbol_word_count"] = (_count_non_symbol(known["words"]) if "words" in known
                                          else count_non_symbol_words(stats.text, stats.splitter,
                                                                      known.get("ws_words")))
    return known["non_symbol_word_count"]
