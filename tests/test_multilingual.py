"""Every language: scripts, words, FineWeb-2 labels and thresholds, per-language dedup and output.

Fixtures: ten real sentences per language from lingua-py's test set (tests/fixtures/multilingual/), in
eight scripts: Latin, Cyrillic, Greek, Arabic, Devanagari, Han, Japanese (Han + kana), Thai.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import orjson
import pytest
import zstandard

from thresher.dedup.exact import ExactDedup
from thresher.dedup.minhash import MinHashDedup
from thresher.document import Document
from thresher.engines.local import LocalEngine
from thresher.filters import scripts
from thresher.filters.gopher import GopherQuality
from thresher.filters.lang import LanguageFilter, LanguageID, normalize_code
from thresher.filters.multilingual import MultilingualQuality, fineweb2_code, language_settings, lid_threshold
from thresher.filters.text import text_stats
from thresher.pipeline import load_pipeline
from thresher.run import run_and_report
from thresher.runner import run_global_step

FIXTURES = Path(__file__).parent / "fixtures" / "multilingual"
# fixture -> (script, FineWeb-2 code the lid step should give)
EXPECTED = {"en": ("Latn", "eng_Latn"), "ru": ("Cyrl", "rus_Cyrl"), "el": ("Grek", "ell_Grek"),
            "ar": ("Arab", "arb_Arab"), "hi": ("Deva", "hin_Deva"), "zh": ("Hani", "cmn_Hani"),
            "ja": ("Jpan", "jpn_Jpan"), "th": ("Thai", "tha_Thai")}


def text(lang: str) -> str:
    return (FIXTURES / f"{lang}.txt").read_text(encoding="utf-8")


def identified(lang: str) -> Document:
    doc = Document(id=lang, text=text(lang))
    return LanguageID(labels="iso639-3").map(doc)


@pytest.mark.parametrize("lang", sorted(EXPECTED))
def test_script_and_fineweb2_label_of_real_text(lang):
    doc = identified(lang)
    assert scripts.detect_script(doc.text) == EXPECTED[lang][0]
    assert doc.meta["script"] == EXPECTED[lang][0]
    assert doc.meta["language"] == EXPECTED[lang][1]


def test_label_normalisation_to_iso639_3_and_script():
    assert fineweb2_code("zh", "Hani") == "cmn_Hani"
    assert fineweb2_code("sr", "Latn") == "srp_Latn" and fineweb2_code("sr", "Cyrl") == "srp_Cyrl"
    assert fineweb2_code("ru", None) == "rus_Cyrl"            # no script given: the language's main one
    assert normalize_code("__label__cmn_Hani") == "cmn_Hani"  # a GlotLID label keeps its form
    assert fineweb2_code(normalize_code("__label__cmn_Hani"), "Hani") == "cmn_Hani"
    assert fineweb2_code(normalize_code("__label__zh"), "Hani") == "cmn_Hani"   # lid.176's label
    assert fineweb2_code("fa", "Arab") == "fas_Arab"          # macrolanguage -> FineWeb-2's code
    assert fineweb2_code("un", "Zyyy") == "und_Zyyy"
    assert LanguageID(labels="iso639-3").meta_fields()["script"] is str
    assert "script" not in LanguageID().meta_fields()       # the default labels are unchanged


def test_fineweb2_lid_thresholds_per_language_with_overrides():
    assert lid_threshold("rus_Cyrl") == language_settings("rus_Cyrl")["language_score"] == 0.9
    assert lid_threshold("eng_Latn") == 0.65                   # FineWeb-2 has no English: FineWeb's figure
    step = LanguageFilter(languages=None, min_score="fineweb2", min_score_overrides={"rus_Cyrl": 0.5})
    ru = Document(id="r", text="x", meta={"language": "rus_Cyrl", "language_score": 0.8})
    zh = Document(id="z", text="x", meta={"language": "cmn_Hani", "language_score": 0.6})
    assert step.filter(ru) is None
    reason = LanguageFilter(languages=None, min_score="fineweb2").filter(ru)
    assert reason.rule == "language_score" and reason.threshold == 0.9
    assert step.filter(zh).threshold == language_settings("cmn_Hani")["language_score"]
    with pytest.raises(ValueError):
        LanguageFilter(min_score="glotlid")


def test_words_of_unspaced_scripts_come_from_the_segmenter():
    for lang in ("zh", "ja", "th"):
        doc = identified(lang)
        words = text_stats(doc).words
        letters = sum(ch.isalpha() for ch in doc.text)
        # dictionary words: more than one per run between spaces, fewer than one per character
        assert len(doc.text.split()) * 2 < len(words) < letters
    zh = identified("zh")
    # FineWeb-2's Chinese stop words are found as words (的, 是, 在 ...)
    stops = set(language_settings("cmn_Hani")["stopwords"])
    assert len(stops.intersection(text_stats(zh).words)) >= 2


def test_character_fallback_splits_every_unspaced_character():
    words = scripts.character_words("今天天气很好, OK 2024年")
    assert words[:6] == ["今", "天", "天", "气", "很", "好"] and "OK" in words and "年" in words
    assert scripts.character_words("นี้") == ["นี้"]          # the tone mark stays with its letter


# The rules that read a script's words and lines: what a word is, its length, the stop words, lines ending
# a sentence. (The alphabetic-word share is left out: these sentences are dense with dates and numbers,
# Greek's 70% alphabetic tokens against FineWeb-2's 81%, Hindi's 83.69% against 83.7%.)
_SCRIPT_RULES = ("gopher_quality.short_doc", "gopher_quality.mean_word_length_low",
                 "gopher_quality.mean_word_length_high", "gopher_quality.stop_words",
                 "fineweb_quality.line_punct_ratio")


@pytest.mark.parametrize("lang", sorted(EXPECTED))
def test_real_sentences_in_every_script_pass_the_word_and_line_rules(lang):
    doc = identified(lang)
    step = MultilingualQuality()
    step.filter(doc)
    # every rule checked on its own, not only the first one broken
    quality, fineweb = step.steps(doc.meta["language"])[1:]
    broken = {f"gopher_quality.{r.rule}" for r in [quality.decide(doc)] if r} | \
             {f"fineweb_quality.{r.rule}" for r in [fineweb.decide(doc)] if r}
    assert not broken.intersection(_SCRIPT_RULES), (broken, doc.signals)


def test_english_rules_misread_chinese_where_its_own_do_not():
    zh = identified("zh")
    reason = GopherQuality().filter(Document(id="z", text=zh.text))   # English stop words, regex words
    assert reason is not None
    assert MultilingualQuality().filter(zh) is None


def test_overrides_and_refilter_decision_from_signals():
    doc = identified("ru")
    step = MultilingualQuality(overrides={"rus_Cyrl": {"min_doc_words": 10_000}})
    reason = step.filter(doc)
    assert reason.step == "multilingual_quality" and reason.rule == "gopher_quality.short_doc"
    assert step.decide(doc).rule == "gopher_quality.short_doc"      # from the stored signals alone
    assert MultilingualQuality().decide(doc) is None
    with pytest.raises(ValueError):
        MultilingualQuality(overrides={"rus_Cyrl": {"no_such": 1}}).filter(doc)


def _edited_copy(doc: Document, rng: random.Random) -> Document:
    from icu4py.breakers import WordBreaker

    units = list(WordBreaker(doc.text, "zh"))
    i = rng.randrange(len(units) - 1)
    units[i], units[i + 1] = units[i + 1], units[i]
    return Document(id="copy", text="".join(units), meta=dict(doc.meta))


def test_minhash_finds_an_edited_chinese_copy_through_the_segmenter(tmp_path):
    source = identified("zh")
    copy = _edited_copy(source, random.Random(1))
    docs = run_global_step(MinHashDedup(), {"00000": [source, copy]}, tmp_path / "a")["00000"]
    assert docs[1].reason is not None and docs[1].reason.duplicate_of == source.id
    # the same pair without the script: one "word" per run of unspaced text, too coarse to match
    plain = [Document(id=d.id, text=d.text) for d in (source, copy)]
    docs = run_global_step(MinHashDedup(), {"00000": plain}, tmp_path / "b")["00000"]
    assert docs[1].reason is None


@pytest.mark.parametrize("step_class", [MinHashDedup, ExactDedup])
def test_per_language_dedup_matches_only_within_a_language(step_class, tmp_path):
    def docs():
        return [Document(id=f"d{i}", text=text("en"), meta={"language": lang})
                for i, lang in enumerate(["eng_Latn", "eng_Latn", "sco_Latn"])]
    across = run_global_step(step_class(), {"00000": docs()}, tmp_path / "x")["00000"]
    assert [d.reason is not None for d in across] == [False, True, True]
    within = run_global_step(step_class(per_language=True), {"00000": docs()}, tmp_path / "y")["00000"]
    assert [d.reason is not None for d in within] == [False, True, False]


def test_multilingual_preset_partitions_kept_and_counts_per_language(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"".join(orjson.dumps({"id": lang, "text": text(lang)}) + b"\n" for lang in EXPECTED))
    pipeline = load_pipeline("multilingual")
    total = run_and_report([str(path)], tmp_path / "run", pipeline, LocalEngine(1), quiet=True)
    assert total["reconciled"]
    kept = tmp_path / "run" / "kept"
    folders = sorted(p.name for p in kept.iterdir())
    summary = json.loads((tmp_path / "run" / "stats" / "summary.json").read_text())
    by_language = summary["by_language"]
    assert sum(c["kept"] for c in by_language.values()) == total["kept"] > 0
    for code, counts in by_language.items():
        if counts["kept"]:
            assert f"lang={code}" in folders
            files = list((kept / f"lang={code}").glob("*.jsonl.zst"))
            rows = [orjson.loads(line) for f in files
                    for line in zstandard.ZstdDecompressor().stream_reader(f.open("rb")).read().splitlines()]
            assert {r["meta"]["language"] for r in rows} == {code} and len(rows) == counts["kept"]
    assert {"lang=cmn_Hani", "lang=jpn_Jpan", "lang=rus_Cyrl", "lang=arb_Arab"} <= set(folders)
    assert {code for _, code in EXPECTED.values()} <= set(by_language)   # kept or dropped, each counted
    assert "Per language" in (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
