"""The clean step: seed acceptance cases (issue 3), line features, alignment labels, parsers, corpus mode."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from thresher.document import Document
from thresher.extract.clean import (
    BODY,
    LABELS,
    Clean,
    SiteTable,
    build_site_table,
    parse_author,
    parse_date,
)
from thresher.extract.lines import UNCASED_FILL, LineFeaturizer, feature_names, split_page
from thresher_eval.train_clean import BOILER, BYLINE, TITLE, align_labels

SEEDS = Path(__file__).parent / "fixtures" / "seeds"


@pytest.fixture(scope="module")
def step() -> Clean:
    s = Clean(keep_labels=True)
    s.setup()
    return s


def _clean(step: Clean, name: str) -> Document:
    text = (SEEDS / name).read_text(encoding="utf-8")
    return step.map(Document(id=name, text=text))


def _body_lines(doc: Document) -> list[str]:
    return [line.strip() for label, line in doc.meta["clean_lines"] if label == "body"]


# --------------------------------------------------------------------------- seeds (issue 3, item 6)
def test_seed_000(step: Clean) -> None:
    doc = _clean(step, "000_413360b961256174.txt")
    assert doc.meta["title"] == "Abe aims to breathe life into Japan-U.S. alliance"
    body = _body_lines(doc)
    assert body[0].startswith("Prime Minister Shinzo Abe will meet")
    assert body[-1].endswith("get acquainted.”")
    # every article paragraph is in the body
    source = (SEEDS / "000_413360b961256174.txt").read_text(encoding="utf-8").split("\n")
    start = next(i for i, s in enumerate(source) if s.startswith("Prime Minister Shinzo Abe will meet"))
    end = next(i for i, s in enumerate(source) if s.endswith("get acquainted.”"))
    for paragraph in (s.strip() for s in source[start:end + 1] if s.strip()):
        assert paragraph in body
    assert [c["score"] for c in doc.meta["comments"]] == [2, 5, -1, 1]
    assert all(c["text"] for c in doc.meta["comments"])
    for junk in ("Author Infomation", "Login to leave a comment", "Special Offers", "Find a Job Now!",
                 "View all", "More in Opinions", "March Live Music Schedule at Dubliners'",
                 "Listings Updated Daily"):
        assert junk not in doc.text


def test_seed_004(step: Clean) -> None:
    doc = _clean(step, "004_dc5f7f74bba7fa72.txt")
    assert doc.meta["title"] == ("Japanese Prime Minister Abe, the U.S.-Japan Alliance, and U.S.-China "
                                 "Relations")
    assert doc.meta["author"] == "Stephen Harner"
    assert doc.meta["date"] == "2013-11-07"
    body = _body_lines(doc)
    assert body[0].startswith("On November 2 Japanese Prime Minister")
    assert body[-1].endswith("a self-fulfilling prophecy.")
    for junk in ("Language : English", "You might also like", "Back to Top"):
        assert junk not in doc.text
    assert "Foreign Policy" not in body


# --------------------------------------------------------------------------- step behaviour
def test_step_signals_and_labels(step: Clean) -> None:
    doc = _clean(step, "000_413360b961256174.txt")
    counts = {name: doc.signals[f"clean_{name}_lines"] for name in LABELS}
    assert sum(counts.values()) == len(doc.meta["clean_lines"])
    assert counts["comment"] >= 4 and counts["title"] == 1 and counts["boilerplate"] > 0
    assert {label for label, _ in doc.meta["clean_lines"]} <= set(LABELS)


def test_empty_document_is_rejected(step: Clean) -> None:
    doc = step.map(Document(id="e", text="\n\n  \n"))
    assert doc.text == "" and doc.reason is not None and doc.reason.rule == "empty_body"


def test_corpus_mode_drops_lines_repeated_across_a_site(tmp_path: Path) -> None:
    article = (SEEDS / "004_dc5f7f74bba7fa72.txt").read_text(encoding="utf-8")
    footer = "Our newsletter brings you the best analysis of the week, every week, for free."
    pages = [(f"https://example.org/p{i}", f"Some other page {i}.\n\n{footer}\n") for i in range(4)]
    table = build_site_table(pages)
    path = tmp_path / "sites.npz"
    table.save(path)
    assert SiteTable.load(path).lookup("example.org", [footer])[0] == 4
    text = article.replace("Back to Top", footer)
    plain = Clean(keep_labels=True)
    plain.setup()
    with_table = Clean(keep_labels=True, site_table=str(path), min_site_docs=3)
    with_table.setup()
    url = "https://www.example.org/article"
    a = with_table.map(Document(id="a", text=text, url=url))
    assert footer not in a.text
    assert a.signals["clean_site_repeated_lines"] == 1
    # another site: the table says nothing about it
    b = with_table.map(Document(id="b", text=text, url="https://other.net/x"))
    assert b.signals["clean_site_repeated_lines"] == 0
    # without the table the footer is judged by the model alone, and the table's signal is absent
    c = plain.map(Document(id="c", text=text, url=url))
    assert "clean_site_repeated_lines" not in c.signals


def test_chinese_page(step: Clean) -> None:
    """No spaces, no Latin stopwords: paragraphs are still found by length, CJK punctuation, position."""
    para = ("北京市气象台今天上午发布消息说，受冷空气影响，本周末全市将出现明显降温，最低气温可能降到零度以下，"
            "请市民注意添衣保暖。")
    text = "\n\n".join(["首页 | 新闻 | 体育 | 财经 | 登录", para, para.replace("北京市", "天津市"),
                        para.replace("北京市", "上海市"), "版权所有 © 2024 新闻网", "关于我们 | 联系我们 | 隐私政策"])
    doc = step.map(Document(id="zh", text=text))
    labels = [label for label, _ in doc.meta["clean_lines"]]
    assert labels[1:4] == ["body"] * 3
    assert labels[0] != "body" and labels[4] != "body" and labels[5] != "body"


# --------------------------------------------------------------------------- parsers
@pytest.mark.parametrize("text,iso", [
    ("Nov 07 , 2013", "2013-11-07"),
    ("Posted on 7 November 2013 by Jane", "2013-11-07"),
    ("2013-11-07T10:00", "2013-11-07"),
    ("Feb. 22, 2013 - 07:59AM JST", "2013-02-22"),
    ("22/02/2013", "2013-02-22"),
    ("03/04/2013", None),  # day and month cannot be told apart
    ("no date here", None),
])
def test_parse_date(text: str, iso: str | None) -> None:
    assert parse_date(text) == iso


@pytest.mark.parametrize("line,author", [
    ("By Jane Doe", "Jane Doe"),
    ("Stephen Harner", "Stephen Harner"),
    ("by John Smith | March 3, 2020", "John Smith"),
    ("Ludwig van Beethoven", "Ludwig van Beethoven"),
    ("this is a sentence, not a name.", None),
])
def test_parse_author(line: str, author: str | None) -> None:
    assert parse_author(line) == author


# --------------------------------------------------------------------------- features and labels
def test_split_page_keeps_positions() -> None:
    page = split_page("a\n\n  b  \n\n\nc")
    assert page.lines == ["a", "  b", "c"]
    assert page.index.tolist() == [0, 2, 5]


def _column(x: np.ndarray, name: str) -> np.ndarray:
    return x[:, feature_names(1).index(name)]


def test_features_shape_and_values() -> None:
    fz = LineFeaturizer(["the", "of", "and", "der"], "的")
    page = split_page("Home | News | Sport\n\nThe history of the city, and of its people.\n\n"
                      "Der Hund und die Katze.\n\n北京的天气很好。\n\nHome | News | Sport")
    x = fz.features(page.text)
    assert x.shape == (5, len(feature_names(1)))
    assert np.isfinite(x).all()
    assert _column(x, "ends_terminal").tolist() == [0, 1, 1, 1, 0]
    assert _column(x, "stop_frac")[1] == pytest.approx(5 / 9)  # the, of, the, and, of of 9 words
    assert _column(x, "stop_frac")[2] > 0
    # Chinese: letters, one word per two characters, its function characters (的) count as stopwords
    assert _column(x, "letter_frac")[3] > 0.8 and _column(x, "stop_frac")[3] > 0
    assert np.expm1(_column(x, "log_words")[3]) == pytest.approx(4)  # 7 characters and a full stop
    # case means nothing in Chinese: the line gets the average cased line's values, not "all lower case"
    assert _column(x, "titlecase_frac")[3] == pytest.approx(UNCASED_FILL["titlecase_frac"])
    assert _column(x, "repeat_in_page")[0] == pytest.approx(np.log(2))
    assert _column(x, "n_lexicon")[0] >= 1  # "home"


def test_batch_equals_one_page_at_a_time() -> None:
    """Pages featurized together get exactly the features each gets alone: windows, positions and
    repetition never reach across pages, whatever the neighbours (empty and blank-only texts included)."""
    fz = LineFeaturizer(["the", "of", "and"], "的")
    texts = ["Home | News\n\nThe history of the city, and of its people, is long.\nHome | News",
             "", "   \n\t\n", "one line only",
             "\n".join(f"Line {i} of the page, with words." for i in range(30)),
             "Home | News\nA different page entirely, of course.\n\n\nFooter line\r\n"]
    batch = fz.featurize(texts)
    assert batch.bounds.tolist() == [0, 3, 3, 3, 4, 34, 37]
    for k, text in enumerate(texts):
        alone = fz.featurize([text])
        assert batch.pages[k].lines == split_page(text).lines == alone.pages[0].lines
        np.testing.assert_allclose(batch.x[batch.bounds[k]:batch.bounds[k + 1]], alone.x, rtol=1e-6)


def test_words_are_re_word_runs() -> None:
    """The numpy tokenisation counts what re's \\w+ finds (accents, Cyrillic, Turkish dotted I, digits,
    underscores), and flags words of the vocabulary case-insensitively."""
    lines = ["Größe naïve café_au_lait 2024", "ПРИВЕТ мир, как дела?", "İstanbul'da İletişim",
             "don't stop-words: THE the The", "🙂 emoji 😀 between"]
    fz = LineFeaturizer(["the", "мир"], "")
    x = fz.features("\n".join(lines))
    words = np.expm1(_column(x, "log_words"))
    assert words.round().tolist() == [len(re.findall(r"\w+", s)) for s in lines]
    stops = np.expm1(_column(x, "log_stops")).round().tolist()
    assert stops == [0, 1, 0, 3, 0]


def test_odd_characters_do_not_break_features() -> None:
    fz = LineFeaturizer(["the"], "")
    text = "lone \ud800 surrogate line\n\x00 nul and \x1c separators\n" + "𝕏" * 50
    x = fz.features(text)
    assert x.shape[0] == 3 and np.isfinite(x).all()


def test_align_labels() -> None:
    lines = ["Menu", "A Fine Title", "By Jane Doe", "The first paragraph says one thing about the matter.",
             "Share", "The second paragraph says another thing entirely.", "Copyright 2020 Example Inc"]
    gold = {"title": "A Fine Title", "author": "Jane Doe", "publish_date": "2020-01-02",
            "main_content": "The first paragraph says one thing about the matter.\n\nThe second paragraph says "
                            "another thing entirely."}
    labels = align_labels(lines, gold).tolist()
    assert labels == [BOILER, TITLE, BYLINE, BODY, BOILER, BODY, BOILER]


def test_copyright_lines_are_found_by_their_marks() -> None:
    from thresher.extract.clean import _copyright_lines

    lines = ["Copyright 2020 Example Inc", "An article sentence that mentions copyright law in passing.",
             "  (c) 2019 Someone", "Powered by X · © 2021 Y", "x" * 50 + " © too far in", "ALL RIGHTS RESERVED.",
             "版权所有 新闻网", "İstanbul (C) 2020", "Vitamin C is good for you"]
    fz = LineFeaturizer(["the"], "")
    page = fz.featurize(["\n".join(lines)]).pages[0]
    assert _copyright_lines(page.text, page.lines, page.offsets.tolist(), page.marks) == [0, 2, 3, 5, 6]


def test_a_page_with_hardly_any_body_keeps_its_best_lines(step: Clean) -> None:
    """Below MIN_BODY_LINES lines over the threshold, the threshold becomes relative to the page's best
    line: a short listing keeps its items instead of coming out empty."""
    from thresher.extract.clean import FALLBACK_RATIO, Cleaner

    strict = Cleaner(step.cleaner.model, body_threshold=0.99999)  # so that (almost) no line passes
    text = "\n".join(["Red shoes", "$49.99", "Blue shoes", "$39.99", "Green hat", "$9.99"])
    labelled = strict.label_texts([text])[0]
    p_body = labelled.probs[:, 1]
    assert (p_body >= 0.99999).sum() < 3
    assert (labelled.labels == 1).tolist() == (p_body >= FALLBACK_RATIO * p_body.max()).tolist()
    assert labelled.body


def test_pagination_and_product_grids_are_not_comment_sections(step: Clean) -> None:
    article = "\n".join(["A Fine Title"] + [f"Paragraph {i} of the article says something worth reading, "
                                            "at some length, with several clauses." for i in range(6)])
    pagination = article + "\n  • 1\n  • 2\n  • 3\n  • Next »\nAbout us"
    grid = article + "".join(f"\n+{i + 2}\nShoe model {i}\n$99.95\nVIP, All Your Benefits Apply!" for i in range(4))
    comments = article + ("\n• 4\n    I disagree with most of this, for reasons I will not give.\n"
                          "• -2\n    Thanks for writing it up, it was clear and useful to me.")
    for text, n in ((pagination, 0), (grid, 0), (comments, 2)):
        doc = step.map(Document(id="c", text=text))
        assert len(doc.meta.get("comments", [])) == n
        assert ("Paragraph 5 of the article" in doc.text)


def test_two_stage_training_stacks_out_of_fold_scores() -> None:
    """The training script end to end on a toy set: stage 2 on out-of-fold stage-1 scores (inner folds by
    domain) gives a loadable model whose stage 2 reads the scores and their context."""
    from thresher.extract.lines import LineModel
    from thresher_eval.train_clean import build_model_from, page_features

    pages = []
    for k in range(6):
        lines = ["Home | News | Contact", f"Story number {k}",
                 "The first paragraph of the story is long enough to be the article body, and of use.",
                 "The second paragraph of the story is also long and is part of the body of the page.",
                 "Share this", "© 2026 Example"]
        pages.append({"domain": f"site{k}.example", "text": "\n".join(lines),
                      "labels": np.array([BOILER, TITLE, 1, 1, BOILER, BOILER])})
    stopwords = ["the", "of", "and", "is"]
    feats = page_features(LineFeaturizer(stopwords, ""), pages)
    spec = build_model_from(pages, feats, stopwords, "", hidden=4, stages=2, inner_folds=2, max_rows=500,
                            max_iter=5)
    assert spec["features"] == feature_names(1) and spec["stage2_features"] == feature_names(2)
    model = LineModel(spec)
    assert model.stage2 is not None
    probs = model.predict(pages[0]["text"])
    assert probs.shape == (6, 4) and np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_eval_baseline_masks_follow_the_line_steps():
    # `thresher eval clean` scores C4's and RefinedWeb's line rules as masks, through the steps' own rules
    from thresher_eval.clean import c4_lines, refinedweb_lines

    lines = ["This is a proper sentence with words.", "Click here", "Javascript must be enabled to see it.",
             "LIKE AND SUBSCRIBE NOW", "12 likes", "Another complete sentence, with a comma."]
    assert c4_lines(lines).tolist() == [True, False, False, False, False, True]
    assert refinedweb_lines(lines).tolist() == [True, True, True, False, False, True]
