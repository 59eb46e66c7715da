"""C4's cleaning rules (Raffel et al. 2020, "Exploring the Limits of Transfer Learning", section 2.2).

``c4_lines`` is datatrove's ``C4QualityFilter`` as a map step: it removes lines (too long a word, no
terminal punctuation, fewer than 3 words, "javascript", cookie/terms-of-use notices, Wikipedia citation
marks), counts each rule's removals in ``signals["c4_lines_removed"]``, and drops the page for "lorem
ipsum", a curly bracket, or fewer than 5 sentences left. ``c4_badwords`` drops pages containing a word of a
user-given list (C4 used the LDNOOBW English list; nothing is downloaded, give the file).

Sentences are counted the way spaCy's sentencizer splits a line (what datatrove uses), with a regex and a
small abbreviation table instead of a tokenizer run; differences are measured in ``bench/README.md``.
"""

from __future__ import annotations

import re
from itertools import compress, repeat
from operator import not_
from pathlib import Path

from thresher.document import Document, Reason
from thresher.filters.text import lines_holding, text_stats
from thresher.steps import FilterStep, LineStep

_CITATION = re.compile(r"\[(?:\d*|edit|citation needed)\]")
_END_PUNCT = (".", "?", "!", '"', "'")
_POLICY = ("terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies")

# --- sentence counting --------------------------------------------------------------------------------
# A run of sentence punctuation that spaCy would make into its own token(s): !/? at the end of a chunk
# (possibly followed by closing quotes/brackets), a single period likewise, or a period between a lower-case
# and an upper-case letter ("end.Next", but not "www.Example.com"). Runs of 2+ dots are an ellipsis token,
# not a sentence end.
_CLOSERS = "\"'”’)»\\]}"
# Written to start with its character class (the lookbehinds come after the first character), so the regex
# engine jumps from one [.!?] to the next instead of trying every position: ~10x faster than the same
# pattern with a leading lookbehind.
_SENT_PUNCT = re.compile(r"[.!?](?:(?<![.!?][.!?])[.!?]*(?=[" + _CLOSERS + r"]*(?:\s|$))"
                         r"|(?<=[a-z]\.)(?<!www\.)(?=[A-Z]))")
# Tokens spaCy's English tokenizer keeps whole with their final period (tokenizer exceptions), so the
# period does not end a sentence. Single letters ("A.", "b.") are handled by rule below.
_ABBREVIATIONS = frozenset("""
Mt. Ak. Ala. Apr. Ariz. Ark. Aug. Calif. Colo. Conn. Dec. Del. Feb. Fla. Ga. Ia. Id. Ill. Ind. Jan. Jul. Jun.
Kan. Kans. Ky. La. Mar. Mass. Mich. Minn. Miss. N.C. N.D. N.H. N.J. N.M. N.Y. Neb. Nebr. Nev. Nov. Oct. Okla.
Ore. Pa. S.C. Sep. Sept. Tenn. Va. Wash. Wis. a.m. Adm. Bros. co. Co. Corp. D.C. Dr. e.g. E.g. E.G. Gen. Gov.
i.e. I.e. I.E. Inc. Jr. Ltd. Md. Messrs. Mo. Mont. Mr. Mrs. Ms. p.m. Ph.D. Prof. Rep. Rev. Sen. St. vs. v.s.
""".split())
_LEADING_PUNCT = "\"'“‘([{«"
_PAGE_RULES = frozenset(("lorem_ipsum", "curly_bracket"))


def _is_abbreviation(line: str, start: int) -> bool:
    """Whether the chunk ending with the period at ``start`` is a kept abbreviation or an initial."""
    # the whitespace-delimited chunk ending here, looked for only a few characters back (abbreviations are
    # short), so a long line of chunks without spaces stays linear
    lo = max(0, start - 12)
    space = max(line.rfind(" ", lo, start), line.rfind("\t", lo, start))
    chunk = line[space + 1:start + 1].lstrip(_LEADING_PUNCT) if space >= 0 or lo == 0 else ""
    return chunk in _ABBREVIATIONS or (len(chunk) == 2 and chunk[0].isalpha())


# A quick necessary condition for ``_is_abbreviation``: the chunk (leading punctuation stripped) is an
# abbreviation only if the text there ends with one, after the chunk's start (a space, a tab, a leading
# punctuation mark, or the text's start). So an initial ("A.") has such a boundary two characters before the
# period, a 3-character abbreviation ("Mr.") is one of _TAILS4 with its boundary, a longer one ends with one of
# _TAILS4 ("Calif." with "lif."); the first 8 characters of the text are left to the full test.
_BOUNDARY = " \t" + _LEADING_PUNCT
_TAILS4 = frozenset([b + a for a in _ABBREVIATIONS if len(a) == 3 for b in _BOUNDARY]
                    + [a[-4:] for a in _ABBREVIATIONS if len(a) >= 4])


# The commonest sentence ends, settled by a regex alone: a period after four lower-case ASCII letters (so
# not an abbreviation, but for the two that end that way) that ends a sentence, with a word after it before
# any other sentence mark or line break (a boundary: counted in one C-level pass, findall), or no word
# before the line breaks (not a boundary). The loop in count_sentences sees every other candidate
# (_REST_PUNCT: _SENT_PUNCT's matches less those); leaving these out changes none of its answers, as the
# gap before such an end always holds a word: its four letters.
_LOWER_RUN_ABBREVIATIONS = sorted(a[-5:] for a in _ABBREVIATIONS if re.fullmatch(r".*[a-z]{4}\.", a))
_COMMON = (r"(?<=[a-z]{4}\.)" + "".join(rf"(?<!{re.escape(a)})" for a in _LOWER_RUN_ABBREVIATIONS)
           + r"(?=[" + _CLOSERS + r"]*(?:\s|$))")
_WORD_NEXT = r"(?=[^\w\n.!?]*\w)"
_NO_WORD_NEXT = r"(?=[^\w\n]*(?:\n|\Z))"
_COMMON_BOUNDARY = re.compile(r"\." + _COMMON + _WORD_NEXT)
_REST_PUNCT = re.compile(r"[.!?](?!" + _COMMON + r"(?:" + _WORD_NEXT + "|" + _NO_WORD_NEXT + r"))"
                         r"(?:(?<![.!?][.!?])[.!?]*(?=[" + _CLOSERS + r"]*(?:\s|$))|(?<=[a-z]\.)(?<!www\.)(?=[A-Z]))")


_NO_TERMINAL_PUNCT = {True: None, False: "no_terminal_punct"}  # whether a line ends a sentence -> its rule


def count_sentences(text: str) -> int:
    """Sentences in ``text``, one or more non-empty lines: per line, 1 + the sentence ends followed by more
    words on that line (before the next end). Two regex passes over the whole text; Python only looks at
    the sentence ends the first one cannot settle."""
    if not text:
        return 0
    n = text.count("\n") + 1 + len(_COMMON_BOUNDARY.findall(text))
    word_follows = _WORD_BEFORE_NEWLINE.match
    boundary, tails, abbreviation = _BOUNDARY, _TAILS4, _is_abbreviation
    last = -1  # where the previous end this loop saw stopped
    for m in _REST_PUNCT.finditer(text):
        s, e = m.span()
        if e - s == 1 and text[s] == ".":
            # a single period ends a sentence when spaCy splits it off its word (suffix rules + exceptions):
            # at the start or after whitespace, yes; after an abbreviation or initial, no; after a lower-case
            # letter, a digit or a non-alphanumeric character, yes; after an upper-case letter only when two of
            # them precede it ("USA." yes, "U.S." and "A." no)
            if s:
                prev = text[s - 1]
                if not prev.isspace():
                    if (prev.isalpha() and (s < 8 or text[s - 2] in boundary or text[s - 3:s + 1] in tails)
                            and abbreviation(text, s)):
                        continue
                    if not (prev.islower() or prev.isdigit() or not prev.isalnum()
                            or (prev.isupper() and s >= 2 and text[s - 2].isupper())):
                        continue
        elif "!" not in (run := m.group()) and "?" not in run:  # an ellipsis
            continue
        # The previous end is a boundary if a word follows it on its line before the next end: before this
        # one, as no common end can come first (the gap's first word would be one of its four letters).
        # Punctuation-only gaps merge.
        if last >= 0 and word_follows(text, last, s):
            n += 1
        last = e
    if last >= 0 and word_follows(text, last):
        n += 1
    return n


# from a sentence end: a word character before the next line break
_WORD_BEFORE_NEWLINE = re.compile(r"[^\w\n]*\w")


class C4Lines(LineStep):
    """C4's line removal and page rules (datatrove ``C4QualityFilter``; FineWeb runs it without the
    terminal-punctuation rule: ``filter_no_terminal_punct: false``).

    The rules are applied rule by rule to all the page's lines at once (string methods mapped over the
    lines, the substring rules tested on the page's live lines joined before any line is looked at), in
    C4's order: a rule only sees the lines the rules before it kept.
    """

    name = "c4_lines"
    # lines removed per rule (the page rules never count here: they drop the page)
    SIGNALS = {"c4_lines_removed": {rule: int for rule in ("too_long_word", "no_terminal_punct", "too_few_words",
                                                          "javascript", "policy")},
               "c4_lines_kept": int, "c4_sentences": int}
    RULE_SIGNALS = {"too_few_sentences": "c4_sentences"}

    def __init__(self, remove_citations: bool = True, filter_no_terminal_punct: bool = True,
                 min_num_sentences: int | None = 5, min_words_per_line: int | None = 3,
                 max_word_length: int | None = 1000, filter_lorem_ipsum: bool = True,
                 filter_javascript: bool = True, filter_curly_bracket: bool = True,
                 filter_policy: bool = True, keep_removed: bool = False) -> None:
        self.remove_citations = remove_citations
        self.filter_no_terminal_punct = filter_no_terminal_punct
        self.min_num_sentences = min_num_sentences if min_num_sentences and min_num_sentences > 0 else None
        self.min_words_per_line = min_words_per_line if min_words_per_line and min_words_per_line > 0 else 0
        self.max_word_length = max_word_length if max_word_length and max_word_length > 0 else None
        self.filter_lorem_ipsum, self.filter_javascript = filter_lorem_ipsum, filter_javascript
        self.filter_curly_bracket, self.filter_policy = filter_curly_bracket, filter_policy
        self.keep_removed = keep_removed

    def _substring_rule(self, line: str) -> str | None:
        """The first substring rule (page or line) that ``line`` (citation marks removed) breaks."""
        lower = line.lower()
        if self.filter_lorem_ipsum and "lorem ipsum" in lower:
            return "lorem_ipsum"
        if self.filter_javascript and "javascript" in lower:
            return "javascript"
        if self.filter_curly_bracket and "{" in line:
            return "curly_bracket"
        if self.filter_policy and any(p in lower for p in _POLICY):
            return "policy"
        return None

    def line_rules(self, text: str, raws: list[str]) -> tuple[list[str | None], list[str], bool]:
        """(rule per line, the lines as kept: stripped, citation marks removed, whether a line may have lost
        a citation mark); rule None keeps the line, or names a line rule or a page rule."""
        lines = list(map(str.strip, raws))
        n = len(lines)
        rules: list[str | None] = [None] * n
        limit = self.max_word_length
        if limit and n and max(map(len, lines)) > limit:
            for i, line in enumerate(lines):
                if len(line) > limit and max(map(len, line.split())) > limit:
                    rules[i] = "too_long_word"
        edited = lines
        if self.remove_citations and "[" in text:
            sub = _CITATION.sub
            edited = [sub("", line) if "[" in line else line for line in lines]
        if self.filter_no_terminal_punct:
            ends = list(map(str.endswith, edited, repeat(_END_PUNCT)))
            if edited is not lines or "..." in text:  # an ellipsis is no terminal punctuation
                for i in compress(range(n), ends):
                    ends[i] = not edited[i].endswith("...")
            if limit and "too_long_word" in rules:
                rules = [r if r is not None or end else "no_terminal_punct" for r, end in zip(rules, ends)]
            else:
                rules = list(map(_NO_TERMINAL_PUNCT.__getitem__, ends))
        live = list(compress(range(n), map(not_, rules)))
        if self.min_words_per_line and live:
            k = self.min_words_per_line
            # fewer than k words: splitting at most k-1 times tells (a long line is not split whole)
            words = map(len, map(str.split, [lines[i] for i in live], repeat(None), repeat(k - 1)))
            few = [i for i, w in zip(live, words) if w < k]
            for i in few:
                rules[i] = "too_few_words"
            if few:
                live = list(compress(range(n), map(not_, rules)))
        if live and (self.filter_lorem_ipsum or self.filter_javascript or self.filter_curly_bracket
                     or self.filter_policy):
            # the live lines joined: a line can only break a substring rule if their text does (lower-casing
            # maps characters one by one; none of the phrases spans a line), so most pages skip the per-line
            # test
            lower = "\n".join([edited[i] for i in live]).lower()
            phrases = [p for p in self._phrases if p in lower]
            if phrases:
                # the lines holding a phrase, found in the joined text ("{" lower-cases to itself, and no
                # character lower-cases to a newline, so the lower-cased lines are the joined text's)
                for k in sorted(lines_holding(lower, phrases)):
                    rules[live[k]] = self._substring_rule(edited[live[k]])
        return rules, edited, edited is not lines

    @property
    def _phrases(self) -> list[str]:
        """What a line must contain (lower-cased) to break a substring rule that is on."""
        return ((["lorem ipsum"] if self.filter_lorem_ipsum else []) + (["javascript"] if self.filter_javascript
                else []) + (["{"] if self.filter_curly_bracket else []) + (list(_POLICY) if self.filter_policy
                                                                         else []))

    def map(self, doc: Document) -> Document:
        # when the page was already tokenised (an earlier filter), the edited page's word count is derived
        # from the edits, so the next filter need not tokenise it again
        stats = text_stats(doc)
        words = stats.known_word_count()
        raws = doc.text.splitlines()
        rules, lines, cited = self.line_rules(doc.text, raws)
        kept = self.kept(lines, rules)
        page_rule = next((r for r in rules if r in _PAGE_RULES), None) if len(kept) < len(rules) else None
        kept_text = "\n".join(kept)
        sentences = count_sentences(kept_text) if self.min_num_sentences else 0
        doc.signals["c4_lines_removed"] = self.removed_counts(rules, _PAGE_RULES)
        doc.signals["c4_lines_kept"] = len(kept)
        doc.signals["c4_sentences"] = sentences
        if page_rule is not None:
            doc.reason = self.reject(page_rule, True, False)
        elif self.min_num_sentences and sentences < self.min_num_sentences:
            doc.reason = self.reject("too_few_sentences", sentences, self.min_num_sentences)
        else:
            if words is not None:
                # tokens never span a line break, so the removed lines are counted in one pass, split the
                # way the whole page was; so are the kept lines that lost a citation mark
                words -= len(stats.split("\n".join([raw for raw, r in zip(raws, rules) if r is not None])))
                if cited:
                    words -= sum(len(stats.split(raw)) - len(stats.split(line))
                                 for raw, line, r in zip(raws, lines, rules)
                                 if r is None and len(line) != len(raw.strip()))
            doc.text = kept_text.strip()
            if words is not None:
                text_stats(doc).seed(word_count=words)
            self.write_trace(doc, raws, rules, _PAGE_RULES)
        return doc


class C4Badwords(FilterStep):
    """Drop pages containing any word or phrase of a bad-word list (one entry per line, UTF-8).

    A word matches as a whole word of the lower-cased text (flanked by non-word characters), as in C4;
    ``word_boundaries: false`` matches anywhere (for languages written without spaces: ja, th, zh).
    """

    name = "c4_badwords"

    SIGNALS = {"c4_badwords": int}
    RULE_SIGNALS = {"badwords": "c4_badwords"}

    def __init__(self, words_file: str, word_boundaries: bool = True, max_badwords: int = 0) -> None:
        self.words_file = words_file
        self.word_boundaries = word_boundaries
        self.max_badwords = max_badwords
        self._words: frozenset[str] = frozenset()
        self._phrases: re.Pattern[str] | None = None

    def setup(self) -> None:
        entries = {w.strip().lower() for w in Path(self.words_file).read_text(encoding="utf-8").splitlines()}
        entries.discard("")
        if self.word_boundaries:
            # plain words: set lookup on the page's \w+ runs; anything else: one regex of the phrases
            self._words = frozenset(e for e in entries if re.fullmatch(r"\w+", e))
            phrases = sorted(entries - self._words, key=len, reverse=True)
            if phrases:
                alt = "|".join(map(re.escape, phrases))
                self._phrases = re.compile(rf"(?<!\w)(?:{alt})(?!\w)")
        else:
            self._phrases = re.compile("|".join(map(re.escape, sorted(entries, key=len, reverse=True))))

    def filter(self, doc: Document) -> Reason | None:
        if self._phrases is None and not self._words:
            self.setup()
        lower = doc.text.lower()
        found = set(self._words.intersection(re.findall(r"\w+", lower))) if self._words else set()
        if self._phrases is not None:
            found.update(self._phrases.findall(lower))
        doc.signals["c4_badwords"] = len(found)
        return self.decide(doc)

    def decide(self, doc: Document) -> Reason | None:
        if doc.signals["c4_badwords"] > self.max_badwords:
            return self.reject("badwords", doc.signals["c4_badwords"], self.max_badwords)
        return None
