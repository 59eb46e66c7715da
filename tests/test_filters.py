"""Recipe filters: Gopher, C4, FineWeb, RefinedWeb; shared text statistics; presets; bad input."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rules_cases import gopher_scan

from thresher.document import Document
from thresher.filters import text as text_module
from thresher.filters.c4 import C4Badwords, C4Lines, count_sentences
from thresher.filters.fineweb import FineWebQuality
from thresher.filters.gopher import GopherQuality, GopherRepetition
from thresher.filters.refinedweb import RefinedWebLines, RefinedWebQuality
from thresher.filters.text import (
    TextStats,
    duplicates,
    register_word_splitter,
    shingle_text,
    text_stats,
    tokenize,
)
from thresher.pipeline import load_pipeline

SEEDS = Path(__file__).parent / "fixtures" / "seeds"

PROSE = (
    "The river rose slowly through the night, and by morning the town had to decide what to do.\n"
    "Most of the people who lived near the bank moved their cars to higher ground before dawn.\n"
    "The mayor said that the council would meet with the engineers to review the old levee.\n"
    "Volunteers filled sandbags at the school, and the bakery gave them bread and coffee.\n"
    "By noon the water had stopped rising, and the first families began to return home.\n"
    "Engineers will inspect the levee again next week to see whether it needs repairs.\n"
)


def run(step, text: str) -> Document:
    return step.process(Document(id="d", text=text))


# --- shared statistics ---------------------------------------------------------------------------------

def test_tokenizer_splits_like_spacy_on_common_cases():
    assert tokenize("Mr. Smith of the U.S. said it's 3.5% (AT&T).") == [
        "Mr.", "Smith", "of", "the", "U.S.", "said", "it", "'s", "3.5", "%", "(", "AT&T", ")", "."]
    assert tokenize("well-known COVID-19 and/or 10-20 1,000 x...") == [
        "well", "-", "known", "COVID-19", "and", "/", "or", "10", "-", "20", "1,000", "x", "..."]
    assert tokenize("see https://example.org/a?b=1. ok") == ["see", "https://example.org/a?b=1", ".", "ok"]


def test_statistics_are_computed_once_per_text_and_refreshed_when_text_changes():
    doc = Document(id="d", text=PROSE)
    first = text_stats(doc)
    assert text_stats(doc) is first
    words = first.words
    assert text_stats(doc).words is words  # cached, not re-tokenised
    doc.text = PROSE + "One more line here.\n"
    assert text_stats(doc) is not first
    assert text_stats(doc).words[-5:] == ["One", "more", "line", "here", "."]


# Characters around every rule of the tokenizer and its fast path: letters, digits, the peeled marks, periods
# of abbreviations, clitics, infixes, URLs, non-Latin letters and Unicode whitespace.
_TRICKY = list("aZé9½ßд中 \t\n\u00a0\u3000.,;:!?)(\"'’-–/=~&%$#_…") + ["Mr.", "U.S.", "e.g.", "it's", "https://",
                                                                      "www.", "Dr", "co", "A.", "..."]


@given(st.lists(st.sampled_from(_TRICKY), max_size=40).map("".join))
@settings(max_examples=400, deadline=None)
def test_tokenizer_fast_path_gives_exactly_the_regex_tokens(text):
    for urls in (False, True):
        regex = (text_module._TOKEN_URL if urls else text_module._TOKEN_PLAIN).findall(text)
        assert tokenize(text, urls) == regex


def test_each_document_is_tokenised_once_whatever_the_batching(monkeypatch):
    # The engine hands batches of 32 to each step in turn: with 40 documents, every step sees a document long
    # after the other 31 of its batch. Each text must still be tokenised once, not once per step.
    calls = []
    real = text_module.tokenize
    monkeypatch.setattr(text_module, "tokenize", lambda t, urls=None: calls.append(t) or real(t, urls))
    docs = [Document(id=str(i), text=PROSE + f"Line number {i} of this page.\n") for i in range(40)]
    steps = [GopherRepetition(), GopherQuality(), FineWebQuality(), RefinedWebQuality()]
    for lo in range(0, len(docs), 32):
        for step in steps:
            for doc in docs[lo:lo + 32]:
                step.process(doc)
    assert len(calls) == len(docs)
    assert all(doc.signals["gopher_words"] > 50 for doc in docs)


def test_a_registered_word_splitter_gives_the_words_of_its_script(monkeypatch):
    monkeypatch.setattr(text_module, "_WORD_SPLITTERS", {})
    register_word_splitter("Xchr", lambda t: [c for c in t if not c.isspace()])  # one word per character
    doc = Document(id="z", text="地震 发生", meta={"script": "Xchr"})
    assert text_stats(doc).words == ["地", "震", "发", "生"]
    assert shingle_text(doc) == "地 震 发 生"  # MinHash shingles the splitter's words
    plain = Document(id="e", text="two words")
    assert text_stats(plain).words == ["two", "words"] and shingle_text(plain) == "two words"


def test_duplicates_counts_repeats_and_their_characters():
    assert duplicates(["a", "bb", "a", "bb", "bb", "c"]) == (3, 1 + 2 + 2)
    assert duplicates([]) == (0, 0)


def test_ngram_repetition_matches_a_plain_reference_implementation():
    words = ("the cat sat on the mat and the cat sat on the mat again and again the end " * 3).split()
    st = TextStats(" ".join(words))
    assert st.words == words

    def top(n):  # reference: Counter over joined n-grams, first seen wins ties
        grams = [" ".join(words[i:i + n]) for i in range(len(words) - n + 1)]
        best = max(grams.count(g) for g in grams)
        first = next(g for g in grams if grams.count(g) == best)
        return best * len(first)

    for n in (2, 3, 4):
        assert st.top_ngram_chars(n) == top(n)
    for n in range(5, 11):
        assert st.duplicate_ngram_chars(n) == gopher_scan(words, n)


# --- Gopher --------------------------------------------------------------------------------------------

def test_gopher_quality_keeps_prose_and_records_every_signal():
    doc = run(GopherQuality(), PROSE * 2)
    assert doc.reason is None
    for key in ("gopher_words", "gopher_mean_word_length", "gopher_hash_ratio", "gopher_ellipsis_ratio",
                "gopher_bullet_lines_ratio", "gopher_ellipsis_lines_ratio", "gopher_alpha_words_ratio",
                "gopher_stop_words"):
        assert key in doc.signals
    assert doc.signals["gopher_stop_words"] >= 2


@pytest.mark.parametrize(("text", "rule"), [
    ("Too short to be a page.", "short_doc"),
    (" ".join(["#tag"] * 60), "hash_ratio"),
    ("\n".join([f"• item number {i} of the list with the words" for i in range(80)]), "bullet_lines"),
    (" ".join(["12345"] * 80), "alpha_words"),
])
def test_gopher_quality_rules(text, rule):
    doc = run(GopherQuality(), text)
    assert doc.reason is not None and doc.reason.step == "gopher_quality" and doc.reason.rule == rule
    assert doc.reason.threshold is not None


def test_gopher_quality_thresholds_are_parameters():
    doc = run(GopherQuality(min_doc_words=None), "Too short to be a page but the words are fine.")
    assert doc.reason is None or doc.reason.rule != "short_doc"


def test_gopher_repetition_drops_repeated_lines_and_keeps_prose():
    assert run(GopherRepetition(), PROSE).reason is None
    doc = run(GopherRepetition(), "Buy now and save big today\n" * 10 + PROSE)
    assert doc.reason.rule == "dup_line_frac" and doc.reason.value > 0.3
    assert doc.signals["gopher_dup_line_frac"] == doc.reason.value
    assert all(f"gopher_dup_{n}_gram" in doc.signals for n in range(5, 11))


# --- C4 ------------------------------------------------------------------------------------------------

def test_count_sentences_follows_spacy_sentence_ends():
    assert count_sentences("Hello world. This is Mr. Smith from the U.S. Army. He said: \"Go!\" Then left.") == 4
    assert count_sentences("Price: $5. Good deal!!! Really?!") == 3
    assert count_sentences("Wait... what happened") == 1
    assert count_sentences("One line.\nTwo lines. Three.") == 3


def test_c4_lines_removes_lines_counts_rules_and_keeps_them_on_request():
    text = PROSE + "Menu Home About\nPlease enable Javascript to view this site.\nRead our privacy policy here.\n"
    doc = run(C4Lines(keep_removed=True), text)
    assert doc.reason is None
    assert doc.signals["c4_lines_removed"] == {"no_terminal_punct": 1, "javascript": 1, "policy": 1}
    assert doc.text == PROSE.strip()
    assert {"line": "Menu Home About", "rule": "no_terminal_punct", "step": "c4_lines"} in doc.meta["removed_lines"]
    assert doc.signals["c4_sentences"] == 6


def test_c4_page_rules():
    assert run(C4Lines(), PROSE + "Lorem ipsum dolor sit amet, consectetur.\n").reason.rule == "lorem_ipsum"
    assert run(C4Lines(), PROSE + "The code is {x: 1} in this line.\n").reason.rule == "curly_bracket"
    short = run(C4Lines(), "Just one sentence here.\n")
    assert short.reason.rule == "too_few_sentences" and short.reason.value == 1
    assert short.text == "Just one sentence here.\n"  # a dropped page keeps its text


def test_c4_fineweb_setting_keeps_lines_without_terminal_punctuation():
    doc = run(C4Lines(filter_no_terminal_punct=False), "A heading without a full stop\n" + PROSE)
    assert doc.reason is None and doc.text.startswith("A heading without")


def test_c4_citations_removed_before_punctuation_check():
    doc = run(C4Lines(), PROSE + "The bridge was built in 1820.[3]\n")
    assert doc.text.endswith("The bridge was built in 1820.")


def test_c4_badwords_from_a_user_file(tmp_path):
    words = tmp_path / "bad.txt"
    words.write_text("darn\nheck no\n", encoding="utf-8")
    step = C4Badwords(words_file=str(words))
    step.setup()
    assert step.filter(Document(id="a", text=PROSE)) is None
    assert step.filter(Document(id="b", text="Well, darn it.")).rule == "badwords"
    assert step.filter(Document(id="c", text="Oh heck no!")).rule == "badwords"
    assert step.filter(Document(id="d", text="darning socks")) is None  # whole words only


# --- FineWeb -------------------------------------------------------------------------------------------

def test_fineweb_quality_rules_and_signals():
    assert run(FineWebQuality(), PROSE).reason is None
    listy = "\n".join(f"Item {i}" for i in range(40))
    doc = run(FineWebQuality(), listy)
    assert doc.reason.rule == "line_punct_ratio"
    assert set(doc.signals) >= {"fineweb_line_punct_ratio", "fineweb_short_line_ratio", "fineweb_char_dup_ratio",
                                "fineweb_list_ratio"}
    dup = run(FineWebQuality(), PROSE + "Subscribe to our newsletter for more.\n" * 2)
    assert dup.reason.rule == "char_dup_ratio"


def test_fineweb_after_c4_uses_the_edited_text():
    doc = Document(id="d", text="Home\n" + PROSE)
    assert text_stats(doc).words  # an earlier filter tokenised the page
    doc = C4Lines(filter_no_terminal_punct=False, min_words_per_line=3).process(doc)
    assert "Home" not in doc.text
    assert text_stats(doc).word_count == len(tokenize(doc.text))
    assert FineWebQuality().process(doc).reason is None


# --- RefinedWeb ----------------------------------------------------------------------------------------

def test_refinedweb_lines_remove_corrections_and_drop_when_too_much_goes():
    text = PROSE * 3 + "12 likes\nSHOP NOW\n"
    doc = run(RefinedWebLines(keep_removed=True), text)
    assert doc.reason is None
    assert doc.signals["refinedweb_lines_removed"] == {"counter": 1, "uppercase": 1}
    assert "SHOP NOW" not in doc.text
    assert {r["rule"] for r in doc.meta["removed_lines"]} == {"counter", "uppercase"}
    heavy = run(RefinedWebLines(), PROSE + "\n".join(["ALL CAPS LINE HERE NOW"] * 10))
    assert heavy.reason.rule == "words_removed" and heavy.reason.value > 0.05


def test_refinedweb_quality():
    assert run(RefinedWebQuality(), PROSE * 2).reason is None
    assert run(RefinedWebQuality(), "short page").reason.rule == "short_doc"


# --- presets -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["fineweb", "c4", "gopher", "refinedweb"])
def test_presets_load_and_cite_a_source_for_thresholds(name):
    pipeline = load_pipeline(name)
    names = [s.name for s in pipeline.steps]
    assert "extract" in names
    import thresher.presets
    text = (Path(thresher.presets.__file__).parent / f"{name}.yaml").read_text(encoding="utf-8")
    assert re.search(r"arXiv:\d{4}\.\d{4,5}", text)


def test_seed_pages_get_signals_from_every_filter():
    for seed in sorted(SEEDS.glob("*.txt")):
        doc = Document(id=seed.name, text=seed.read_text(encoding="utf-8"))
        for step in (GopherRepetition(), GopherQuality(), C4Lines(filter_no_terminal_punct=False),
                     FineWebQuality(), RefinedWebQuality(), RefinedWebLines()):
            doc.reason = None
            doc = step.process(doc)
        assert "gopher_words" in doc.signals and "fineweb_list_ratio" in doc.signals


# --- bad input -----------------------------------------------------------------------------------------

BAD_INPUTS = {
    "empty": "",
    "whitespace": " \n\n\t \n",
    "symbols": "!!! ??? ### *** ... ––– ©®™ {}[]()",
    "emoji": "😀😃😄 🎉🎉🎉\n👍👍 ❤️❤️❤️ 🇫🇷🇩🇪",
    "mixed scripts": "English text. Русский текст. 中文文本。 العربية. हिन्दी पाठ। Ελληνικά.",
    "surrogates": "broken \ud800 surrogate \udfff here. And more text.",
    "controls": "nul\x00 bell\x07 esc\x1b c1\x85 line\u2028sep\u2029end.",
}


ALL_STEPS = [GopherQuality, GopherRepetition, C4Lines, FineWebQuality, RefinedWebQuality, RefinedWebLines]


@pytest.mark.parametrize("text", list(BAD_INPUTS.values()), ids=list(BAD_INPUTS))
@pytest.mark.parametrize("step_cls", ALL_STEPS)
def test_bad_input_never_crashes(step_cls, text):
    doc = run(step_cls(), text)
    assert isinstance(doc.signals, dict)


# Adversarial lines for every pattern: long runs that make backtracking regexes quadratic. Each must run in
# time linear in its length; we compare 1x and 4x the length (ratio well under the 16x of quadratic).
ADVERSARIAL = ["a" * 2, "a." * 1, ".a", "a-", "a'", ")", "a)", "(", "U.", "'s", "-1", "1,", "http://a" + "/" * 1,
               "!", "! ", ". ", "a.B", "x@", "n't ", "[1]", "lorem ", "12 likes ", "A"]


def _time(text: str) -> float:
    start = time.perf_counter()
    for step_cls in ALL_STEPS:
        run(step_cls(), text)
    return time.perf_counter() - start


@pytest.mark.parametrize("unit", ADVERSARIAL)
def test_long_adversarial_lines_run_in_linear_time(unit):
    small = unit * (5_000 // len(unit))
    big = unit * (20_000 // len(unit))
    t_small, t_big = _time(small), _time(big)
    assert t_big < max(12 * t_small, 0.5), (unit, t_small, t_big)


def test_ten_megabyte_line_is_handled():
    line = "x" * 10_000_000
    for step_cls in ALL_STEPS:
        run(step_cls(), line)
    c4 = run(C4Lines(), line)  # its only line goes (a word over 1000 characters), then the page
    assert c4.signals["c4_lines_removed"] == {"too_long_word": 1} and c4.reason.rule == "too_few_sentences"
    assert run(GopherQuality(), line).reason.rule == "short_doc"


def test_badwords_pattern_is_linear(tmp_path):
    words = tmp_path / "bad.txt"
    words.write_text("darn\nheck no\na b c d\n", encoding="utf-8")
    step = C4Badwords(words_file=str(words))
    step.setup()
    small, big = "heck " * 2_000, "heck " * 8_000
    start = time.perf_counter()
    step.filter(Document(id="s", text=small))
    t_small = time.perf_counter() - start
    start = time.perf_counter()
    assert step.filter(Document(id="b", text=big)) is None
    assert time.perf_counter() - start < max(12 * t_small, 0.5)
