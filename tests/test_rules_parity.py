"""The Gopher, FineWeb and tokenizer figures are exactly those of the code before issue 17 item 3.

fixtures/rules/parity.json holds, for every text of tests/rules_cases.py (repeated lines and paragraphs,
overlapping n-grams, ties, Unicode words, empty and one-word texts, documents of 100k+ words), the tokens,
the shared statistics and each step's reason and signals as that code computed them. The bulk rewrite must
give the same values, bit for bit (floats compared exactly).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rules_cases import cases, gopher_scan, outputs

from thresher.filters import text as text_module
from thresher.filters.text import TextStats, duplicates

REFERENCE = json.loads((Path(__file__).parent / "fixtures" / "rules" / "parity.json").read_text())
CASES = cases()


def test_every_case_has_a_reference():
    assert sorted(CASES) == sorted(REFERENCE)


@pytest.mark.parametrize("name", sorted(CASES))
def test_figures_match_the_reference(name):
    got = json.loads(json.dumps(outputs(CASES[name]), ensure_ascii=True, sort_keys=True))
    want = REFERENCE[name]
    for key in want:  # one assertion per part, so a failure names it
        assert got[key] == want[key], key
    assert sorted(got) == sorted(want)




def _top(words: list[str], n: int) -> int:
    grams = [" ".join(words[i:i + n]) for i in range(len(words) - n + 1)]
    if not grams:
        return 0
    best = max(grams.count(g) for g in grams)
    return best * len(next(g for g in grams if grams.count(g) == best))


# Few distinct words, so n-grams repeat and overlap in every way: jumps that skip first occurrences, later
# occurrences whose earlier ones were all skipped, ties between n-grams of different lengths.
@given(st.lists(st.sampled_from(["a", "bb", "ccc", "a"]), max_size=160))
@settings(max_examples=300, deadline=None)
def test_ngram_figures_match_the_plain_scan(words):
    small = text_module._SMALL_SCAN
    try:
        for text_module._SMALL_SCAN in (small, 0):  # both ways of scanning: one Python pass, the chain walk
            stats = TextStats(" ".join(words))
            assert stats.words == words
            for n in range(1, 11):
                assert stats.duplicate_ngram_chars(n) == gopher_scan(words, n), (n, text_module._SMALL_SCAN)
                assert stats.top_ngram_chars(n) == _top(words, n), n
    finally:
        text_module._SMALL_SCAN = small


@given(st.lists(st.sampled_from(["a", "b", " ", "\n", "\r", "\t", "\x0b", "\u2028"]), max_size=40).map("".join))
@settings(max_examples=400, deadline=None)
def test_lines_and_paragraphs_split_as_the_regexes_do(text):
    stats = TextStats(text)
    assert stats.paragraphs == re.split(r"\n{2,}", text.strip())
    assert stats.rep_lines == re.split(r"\n+", text)
    assert stats.nonempty_nl_lines == [line for line in text.split("\n") if line.strip()]
    for items in (stats.paragraphs, stats.rep_lines, stats.nonempty_nl_lines):
        counts = Counter(items)
        assert duplicates(items) == (len(items) - len(counts), sum(len(x) * (c - 1) for x, c in counts.items()))


def test_one_character_chunks_are_one_token():
    # tokenize's shortcut: a non-alphanumeric, non-whitespace character alone is one token for both regexes.
    # Checked at once, space-separated (the regex treats a chunk's ends as it treats whitespace), on every such
    # character of planes 0, 1 and 14 and a sample of the rest (unassigned and private-use code points).
    points = [*range(0x20000), *range(0xE0000, 0xE1000), *range(0x20000, 0x110000, 97)]
    chars = [c for c in map(chr, points) if not c.isspace() and not c.isalnum()]
    joined = " ".join(chars)
    assert text_module._TOKEN_PLAIN.findall(joined) == chars
    assert text_module._TOKEN_URL.findall(joined) == chars


@given(st.lists(st.sampled_from(["a", "Zé", "9", "１", "½", "...", "—", "#", "(", ")", "'s", "a1", "_", "\x07", "。",
                                 "’", "••", "x-y", "Москва", " ", "\n"]), max_size=40).map("".join))
@settings(max_examples=300, deadline=None)
def test_symbol_and_alphabetic_counts_match_the_plain_definitions(text):
    stats = TextStats(text)
    punct = text_module.PUNCTUATION_CHARS
    plain = [w for w in stats.words if not all(c in punct for c in w)]
    assert stats.non_symbol_words == plain
    assert stats.non_symbol_count == len(plain) and stats.non_symbol_chars == sum(map(len, plain))
    # "alphabetic" as the rule has always read it: a letter-class character (\w, not a digit or "_"; "½" is one)
    assert stats.alpha_word_count == sum(1 for w in stats.words if re.search(r"[^\W\d_]", w))
