"""Pinned outputs of the line-editing rule steps (C4 lines, RefinedWeb lines and quality) on tricky texts.

The expected outputs (``fixtures/line_rules_expected.json``) were produced by the code before the rules were
rewritten for speed (issue 17): the rewrite must leave every decision, signal, text and removed-lines trace
as it was. Abbreviations, initials, decimals, citation marks, lines ending in quotes or ellipses, every line
boundary ``str.splitlines`` knows, Unicode case and digits, URLs, the page rules' order.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from thresher.document import Document
from thresher.filters.c4 import C4Lines, count_sentences
from thresher.filters.refinedweb import RefinedWebLines, RefinedWebQuality

SENTENCE_CASES = [
    "Hello world. This is Mr. Smith from the U.S. Army. He said: \"Go!\" Then left.",
    "It costs 3.50 dollars. Pi is 3.14159 and e is 2.718. Done.",
    "See the note [1]. Another claim.[2] A third [citation needed]. End.",
    "He said \"stop.\" Then he left. She asked 'why?' and cried.",
    "The end.Next sentence starts here. Visit www.Example.com today. ok.Fine",
    "Dr. Who met Prof. X at St. Paul's. They talked e.g. about i.e. things. Fin.",
    "A. B. C. D. The letters. x. y.",
    "USA. NATO. U.S. U.K. The acronyms end. IBM.",
    "Wait... what happened. Really?! Yes!!! No?? Maybe.",
    "Jan. 5 was cold. Sept. 12 was warm. Calif. is big. N.Y. is too.",
    "Price: $5. Good deal!!! Really?!",
    "(See above.) [Note.] {Curly.} «Quote.» “Smart.” ‘single.’ Done.",
    "Ends with period.",
    "",
    "...",
    ". . .",
    "no punctuation at all",
    "One line.\nTwo lines. Three.\n\nFour. Five",
    "trailing spaces.   \nnext.\t\nlast .",
    "verylongwordwithoutspacesbutaperiod.Here and here.a end",
    "\"\"\"\"\"\"Mr. Smith. \"\"\"\"\"\"\"\"\"\"Mr. Jones.",
    "foo\nMr. Bar. baz\nMr.\nQux.",
    "Numbers 1. 2. 3. and 10.5. End 2020.",
    "Tab\tMr. Smith.\tTab Dr.\tend. Ok.",
    "Unicode: café. Über. naïve. ÉCOLE. Ωmega. Σίσυφος. 東京。 Fin.",
    "nbsp\xa0Mr. Smith\xa0Dr. Who. end.",
    "email me at a.b@c.d. Or call. v1.2.3 released. Ph.D. holders. a.m. and p.m. times.",
    "? ! . Start with punctuation. !Bang",
    "A sentence.) Another.] Another.}\" Done.'",
    "Mixed.!? Ends?. here!. Ok",
    "He met J. Smith. Then Mass. and Wash. and class. Then pass. Ends St.Louis. Go to no.Way.",
    "Grüße.Ältere Frau. ÉTÉ. Ångström. İstanbul. ǅx. Hello.World Www.Site.com and www.site.com.",
    "x.\nA.\nMr.\n\"Mr. \"Dr.\" (Mrs.) [e.g.] «St.» Ok.",
    "Bang!Next Bang! ?Start Wait?!  Really?!? \"Yes!\" he said. 'No?' she said.",
    "end. ... more. end.... more? end!.. more",
]
C4_CASES = [
    "The bridge was built in 1820.[3]\nIt is long. It is old. It is grey. It is nice. It is here.\nMenu Home About\n",
    "Short.\nTwo words.\nThree words here.\nThe javascript must be enabled to view this page.\n"
    "We use cookies to improve this site. Read our privacy policy.\nOne. Two. Three. Four. Five. Six.\n",
    "A line with lorem ipsum dolor sit amet.\nOne. Two. Three. Four. Five. Six.\n",
    "Lorem Ipsum line is here but no terminal punct\nOne. Two. Three. Four. Five. Six.\n",
    "Code {x} is here in this line.\nOne. Two. Three. Four. Five. Six.\n",
    "  indented line with spaces around it.  \r\n\tTabbed line with content here.\t\nWindows line ends here.\r\n"
    "One. Two. Three. Four. Five. Six.\u2028Another sep line here.\x0bVT line is here.\x0cFF line too.\x1cFS line.\x85NEL line.\n",
    "Ends with ellipsis but many words...\nEnds with quote here \"\nEnds with apostrophe here '\n"
    "Ends with bang here!\nEnds with question here?\nOne. Two. Three. Four. Five. Six.\n",
    "Citation only line [edit]\nWords [1] and [12] more [citation needed] here.\n[1]\nOne. Two. Three. Four. Five. Six.\n",
    ("x" * 1001) + " end.\nOne. Two. Three. Four. Five. Six.\n" + ("y " * 600) + ".\n",
    "JAVASCRİPT is odd here.\nCOOKIE POLİCY here now.\nUSES COOKIES yes it does.\nOne. Two. Three. Four. Five. Six.\n",
    "",
    "\n\n\n",
    "One. Two. Three. Four. Five. Six.",
    "TERMS OF USE apply to you.\nThe Use Of Cookies is bad.\nOne. Two. Three. Four. Five. Six.\n",
]
RW_CASES = [
    "ALL CAPS LINE HERE NOW\nA normal line of text here.\n12 likes\n1.2k Shares!\nword\n\n1234567890\n"
    "Sign-in to read this page here\nThis is good. Read more...\nThere are 3 items in cart\nSign-in\n",
    "Mostly normal text that is long enough to count as many words in total for the ratio rule.\n"
    "Another line of normal prose with several words in it for the count.\nREAD MORE...\n",
    "",
    "\n",
    "   \n\t\n",
    "Lines with URL http://example.com/a.b here ok\nsecond line with words\nHELLO WORLD http://x.y\n",
    "Ünïcödé ÜBER LINE\nnormal line with words here\n٣٤٥٦ digits\n",
    "items in cart\nxitems in cart here\nSign-in  to go\nread more...\nhello read moreXYZ\n",
    "one two three four five six seven eight nine ten Sign-in\nSign-in one two three four five six seven eight nine ten eleven\n"
    "and then a long enough line to keep the ratio down with many many words in it really\n" * 3,
    # Unicode whitespace inside lines (str.split splits on it), a lone surrogate, odd case mappings
    "word\xa0word\u3000word\u2028word\x1cword here\nsolo\u2003\nΣΊΣΥΦΟΣ ΜΕΓΆΛΟΣ\n\ud800 lone surrogate line\n"
    "ſign-in to the page\nREAD MORE...\nItems İn Cart\nıtems in cart here\nKelvin \u212a items in cart\n"
    "².³ ¹²³ ٣٤ ½ ⅕\n１２３ １ likes\n5 ＬＩＫＥＳ\n10 likes\n4.5K views!\n",
    "Visit http://example.com/x for more.\nwww.example.com is a site here.\nA line with words and www.x.org here\n"
    "http://a.b/c http://d.e/f\nSign-in http://x.y/z\n",
]
EXPECTED = json.loads((Path(__file__).parent / "fixtures" / "line_rules_expected.json").read_text(encoding="utf-8"))


def _outcome(doc: Document) -> list:
    return [doc.reason.to_dict() if doc.reason else None, doc.signals, doc.text, doc.meta.get("removed_lines")]


@pytest.mark.parametrize("i", range(len(SENTENCE_CASES)))
def test_count_sentences_pinned(i: int):
    assert count_sentences(SENTENCE_CASES[i]) == EXPECTED["sent"][i]


STEPS = {
    "c4": (lambda: C4Lines(keep_removed=True), C4_CASES + SENTENCE_CASES),
    "c4fw": (lambda: C4Lines(filter_no_terminal_punct=False, keep_removed=True), C4_CASES + SENTENCE_CASES),
    "rwl": (lambda: RefinedWebLines(keep_removed=True), RW_CASES + C4_CASES),
    "rwq": (RefinedWebQuality, RW_CASES + C4_CASES + SENTENCE_CASES),
}


@pytest.mark.parametrize("name", list(STEPS))
def test_line_steps_pinned(name: str):
    make, texts = STEPS[name]
    step = make()
    got = [_outcome(step.process(Document(id="x", text=t))) for t in texts]
    assert json.loads(json.dumps(got)) == EXPECTED[name]


# --- the LineStep base and the word count helper ---------------------------------------------------------

def test_line_step_base_counts_keeps_and_traces():
    from thresher.document import MetaKey
    from thresher.steps import LineStep

    class Demo(LineStep):
        name = "demo"

        def __init__(self, keep_removed: bool) -> None:
            self.keep_removed = keep_removed

    lines = ["a", "b", "c", "d", "e"]
    rules = [None, "short", "page_rule", "long", "short"]
    step = Demo(keep_removed=True)
    assert step.removed_counts(rules) == {"short": 2, "page_rule": 1, "long": 1}
    assert list(step.removed_counts(rules, skip={"page_rule"})) == ["short", "long"]  # order of first removal
    assert step.kept(lines, rules) == ["a"]
    doc = Document(id="x", meta={MetaKey.REMOVED_LINES: [{"line": "z", "rule": "dup", "step": "other"}]})
    step.write_trace(doc, lines, rules, skip={"page_rule"})
    assert doc.meta[MetaKey.REMOVED_LINES] == [
        {"line": "z", "rule": "dup", "step": "other"}, {"line": "b", "rule": "short", "step": "demo"},
        {"line": "d", "rule": "long", "step": "demo"}, {"line": "e", "rule": "short", "step": "demo"}]
    assert step.meta_fields() == {"removed_lines": [{"line": str, "rule": str, "step": str}]}
    quiet = Demo(keep_removed=False)
    doc = Document(id="y")
    quiet.write_trace(doc, lines, rules)
    assert doc.meta == {} and quiet.meta_fields() == {}
    nothing_removed = Document(id="z")
    step.write_trace(nothing_removed, ["a"], [None])
    assert MetaKey.REMOVED_LINES not in nothing_removed.meta  # no empty list left behind


def test_clean_is_a_line_step_tracing_every_line():
    from thresher.extract.clean import Clean
    from thresher.steps import LineStep

    step = Clean(keep_labels=True)
    assert isinstance(step, LineStep) and step.TRACE_ALL
    assert step.meta_fields()["clean_lines"] == [[str]] and "clean_lines" not in Clean().meta_fields()


@pytest.mark.parametrize("text", [
    "", "plain words only", "Hello, world! It's a well-known fact: 10-20 items (AI/ML) cost $5.",
    "Mr. Smith went to Washington D.C. on Jan. 5th... U.S. Army", "see http://example.com/a.b?c=d, and www.x.org.",
    "１ １２３ fullwidth one ＡＢＣ", "### *** ... — – “quoted” «guillemets» 东京。你好！",
    "line one\nline two\twith tab\u3000ideographic space\xa0nbsp",
])
def test_count_non_symbol_words_is_the_length_of_non_symbol_words(text: str):
    from thresher.filters.text import TextStats, count_non_symbol_words

    assert count_non_symbol_words(text) == len(TextStats(text).non_symbol_words)
    stats = TextStats(text)
    assert stats.non_symbol_count == len(TextStats(text).non_symbol_words)
    assert "non_symbol_words" not in stats.__dict__  # counted, not listed
    listed = TextStats(text)
    assert listed.non_symbol_count == len(listed.non_symbol_words)
    split_by_char = list  # a registered splitter is used as given
    assert count_non_symbol_words(text, split_by_char) == len(TextStats(text, split_by_char).non_symbol_words)
