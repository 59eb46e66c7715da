"""Language ID (``lid``), the ``language_filter`` step and ``thresher eval lid``."""

from __future__ import annotations

import importlib.util
import pickle
from pathlib import Path

import pytest

from thresher.document import Document
from thresher.filters.lang import UNKNOWN, LanguageFilter, LanguageID, clean_for_lid, normalize_code
from thresher.pipeline import make_step
from thresher_eval import lid as eval_lid

FIXTURES = Path(__file__).parent / "fixtures" / "lang"
FASTTEXT_MODEL = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "lid" / "lid.176.ftz"

EN = "The committee will publish its final report on the new railway line next spring, after the hearings."
FR = "Le conseil municipal a voté hier soir le budget de la nouvelle bibliothèque du quartier."
DE = "Die Stadtverwaltung hat gestern die Pläne für den neuen Bahnhof in der Innenstadt vorgestellt."
RU = "Вчера вечером городской совет утвердил бюджет новой библиотеки в центре города."
JA = "昨日の夜、市議会は新しい図書館の予算を承認しました。工事は来年の春に始まる予定です。"
HE = "מועצת העיר אישרה אתמול בערב את התקציב של הספרייה החדשה במרכז העיר."


def doc(text: str, **meta) -> Document:
    return Document(id="d", text=text, meta=dict(meta))


@pytest.fixture(scope="module")
def cld2() -> LanguageID:
    step = LanguageID()
    step.setup()
    return step


def test_normalize_code_maps_backend_labels_to_one_code():
    assert normalize_code("__label__en") == "en"
    assert normalize_code("iw") == "he"          # cld2's withdrawn Hebrew code
    assert normalize_code("jw") == "jv"
    assert normalize_code("zh-Hant") == "zh"
    assert normalize_code("__label__no") == "nb"  # Norwegian (Bokmål) in both models
    assert normalize_code("xx-Latn") == UNKNOWN
    assert normalize_code("zzp") == UNKNOWN       # cld2's Pig Latin
    assert normalize_code("__label__als") == "gsw"
    assert normalize_code("yue") == "yue"         # no ISO 639-1 code: kept


@pytest.mark.parametrize("text,code", [(EN, "en"), (FR, "fr"), (DE, "de"), (RU, "ru"), (JA, "ja"), (HE, "he")])
def test_cld2_identifies_languages(cld2, text, code):
    out = cld2.map(doc(text))
    assert out.meta["language"] == code
    assert 0.5 < out.meta["language_score"] <= 1.0
    assert "languages" not in out.meta


def test_per_paragraph_shares_on_a_mixed_page(cld2):
    step = LanguageID(per_paragraph=True)
    text = "\n".join([EN, EN, DE, "Home", FR])
    out = step.map(doc(text))
    shares = out.meta["languages"]
    assert set(shares) == {"en", "de", "fr"}   # "Home" is too short to count
    assert shares["en"] == pytest.approx(2 * len(EN) / (2 * len(EN) + len(DE) + len(FR)), abs=1e-3)
    assert sum(shares.values()) == pytest.approx(1.0, abs=1e-3)
    assert list(shares)[0] == "en"             # largest share first
    assert out.meta["language"] == "en"


@pytest.mark.parametrize("text", [
    "",
    "   \n\t  ",
    "😀🎉👍🏽 ✔✔✔ ★★★",
    "!!! ??? --- *** 123 456 ... %%%",
    "x\ud800y\udfff " + EN,                         # lone surrogates (cannot be UTF-8 encoded)
    "\x00\x01\x0b\x1b\x7f\x85\x9f " + FR,           # control characters cld2 raises on
    "\ufdd0\ufffe\U0001fffe\U0010ffff " + DE,        # noncharacters cld2 raises on
    "English words, русские слова, 日本語の文字, עברית, العربية, ελληνικά",
])
@pytest.mark.parametrize("backend", ["cld2", "fasttext"])
def test_bad_input_does_not_crash(backend, text):
    if backend == "fasttext" and not (importlib.util.find_spec("fasttext") and FASTTEXT_MODEL.is_file()):
        pytest.skip("fasttext package or lid.176.ftz not available")
    step = LanguageID(backend=backend, model_path=str(FASTTEXT_MODEL), per_paragraph=True)
    out = step.map(doc(text))
    assert isinstance(out.meta["language"], str)
    assert 0.0 <= out.meta["language_score"] <= 1.0
    if not any(ch.isalpha() for ch in text):
        assert out.meta["language"] == UNKNOWN and out.meta["language_score"] == 0.0
        assert out.meta["languages"] == {}


def test_bad_characters_are_cleaned_and_the_rest_identified(cld2):
    assert clean_for_lid("a\x01b\ud800c") == "a b c"
    assert cld2.map(doc("\x01\ud800" + FR)).meta["language"] == "fr"
    assert cld2.map(doc(DE + "\U0001fffe")).meta["language"] == "de"


def test_ten_megabyte_line(cld2):
    text = ("The long line keeps going with plain English words and no newline at all. " * 140_000)[:10_000_000]
    step = LanguageID(per_paragraph=True)
    out = step.map(doc(text))
    assert out.meta["language"] == "en"
    assert out.meta["languages"] == {"en": 1.0}
    assert cld2.map(doc("a" * 10_000_000)).meta["language"] == UNKNOWN


def test_unknown_backend_and_missing_model():
    with pytest.raises(ValueError):
        LanguageID(backend="langdetect")
    with pytest.raises(ValueError):
        LanguageID(backend="fasttext").setup()
    with pytest.raises(FileNotFoundError):
        LanguageID(backend="fasttext", model_path="/nonexistent/lid.176.bin").setup()


def test_step_pickles_without_its_model(cld2):
    clone = pickle.loads(pickle.dumps(cld2))
    assert clone._impl is None
    assert clone.map(doc(FR)).meta["language"] == "fr"


def test_language_filter_keeps_and_rejects():
    step = LanguageFilter(languages=["en"], min_score=0.65)
    assert step.filter(doc(EN, language="en", language_score=0.9)) is None
    reason = step.filter(doc(FR, language="fr", language_score=0.99))
    assert (reason.step, reason.rule, reason.value, reason.threshold) == ("language_filter", "language", "fr", ["en"])
    reason = step.filter(doc(EN, language="en", language_score=0.4))
    assert (reason.rule, reason.value, reason.threshold) == ("language_score", 0.4, 0.65)


def test_language_filter_runs_lid_when_meta_is_missing():
    step = LanguageFilter(languages="de")
    d = doc(DE)
    assert step.process(d).reason is None
    assert d.meta["language"] == "de" and d.meta["language_score"] > 0.65
    d = doc(RU)
    assert step.process(d).reason.rule == "language"


def test_language_filter_aliases_scores_per_language_and_any_language():
    step = LanguageFilter(languages=["no", "iw"], min_score={"he": 0.9})
    assert step.filter(doc("", language="nb", language_score=0.1)) is None   # "no" means nb; no threshold set
    assert step.filter(doc("", language="he", language_score=0.95)) is None
    assert step.filter(doc("", language="he", language_score=0.5)).rule == "language_score"
    anything = LanguageFilter(languages=None, min_score=0.5)
    assert anything.filter(doc("", language="ja", language_score=0.6)) is None
    assert anything.filter(doc("", language="un", language_score=0.0)).rule == "language_score"


def test_steps_are_registered():
    assert isinstance(make_step("lid", {"per_paragraph": True}), LanguageID)
    assert isinstance(make_step("language_filter", {"languages": ["en"], "min_score": 0.5}), LanguageFilter)


def test_eval_lid_on_a_small_folder(capsys):
    rc = eval_lid.cli(["--data", str(FIXTURES / "sentences"), "--no-fasttext"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "| en | 3 | 1.000 |" in out
    assert "macro avg, all 4" in out and "sentences/s" in out
    assert "LICENSE" not in out


def test_eval_lid_missing_folder():
    assert eval_lid.cli(["--data", "/nonexistent/folder"]) == 2


# --- fastText (skipped when the package or the model file is absent) ------------------------------------

needs_fasttext = pytest.mark.skipif(
    not (importlib.util.find_spec("fasttext") and FASTTEXT_MODEL.is_file()),
    reason="fasttext package or ../shared/data/lid/lid.176.ftz not available")


@needs_fasttext
def test_fasttext_backend_uses_the_same_codes_as_cld2(cld2):
    step = LanguageID(backend="fasttext", model_path=str(FASTTEXT_MODEL))
    for text in (EN, FR, DE, RU, JA, HE):
        ft = step.map(doc(text)).meta
        assert ft["language"] == cld2.map(doc(text)).meta["language"]
        assert 0.0 < ft["language_score"] <= 1.0
    mixed = LanguageID(backend="fasttext", model_path=str(FASTTEXT_MODEL), per_paragraph=True)
    shares = mixed.map(doc("\n".join([EN, DE, FR]))).meta["languages"]
    assert set(shares) == {"en", "de", "fr"}


@needs_fasttext
def test_eval_lid_side_by_side(capsys):
    rc = eval_lid.cli(["--data", str(FIXTURES / "sentences"), "--fasttext-model", str(FASTTEXT_MODEL)])
    out = capsys.readouterr().out
    assert rc == 0
    assert "| lang | n | cld2 | fasttext |" in out
