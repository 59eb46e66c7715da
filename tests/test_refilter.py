"""``thresher refilter``: a finished run decided again from its stored signals equals a new run."""

from __future__ import annotations

import pytest
from conftest import lorem, page, read_run, warc_record, write_warc

from thresher.engines.driver import execute
from thresher.engines.local import LocalEngine
from thresher.pipeline import pipeline_from_spec
from thresher.refilter import RefilterError, refilter


def _spec(gopher: dict, dedup: bool = False) -> dict:
    steps = ["extract", "lid", {"language_filter": {"languages": ["en"], "min_score": 0.5}},
             {"gopher_quality": gopher}]
    return {"name": "t", "steps": steps + (["exact_dedup"] if dedup else [])}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("refilter") / "data"
    folder.mkdir()
    # pages of 20 to 200 words, so a word-count threshold splits them
    write_warc(folder / "a.warc.gz",
               [warc_record(f"https://e.org/{i}", page(f"Page {i}", [lorem(i, 20 + 12 * i)])) for i in range(16)]
               + [warc_record("https://e.org/copy", page("Page 15", [lorem(15, 20 + 12 * 15)]))])
    return folder


def _decisions(run_dir):
    run = read_run(run_dir)
    out = {d["id"]: None for d in run["kept"]}
    out.update({d["id"]: f"{d['reason']['step']}.{d['reason']['rule']}" for d in run["rejected"]})
    return out


@pytest.mark.parametrize("new", [{"min_doc_words": 120}, {"min_doc_words": 30}, {"min_doc_words": None}])
def test_refilter_equals_a_new_run_with_the_new_thresholds(data, tmp_path, new):
    execute([str(data)], tmp_path / "old", pipeline_from_spec(_spec({"min_doc_words": 60})), LocalEngine(1),
            quiet=True)
    fresh = tmp_path / "fresh"
    execute([str(data)], fresh, pipeline_from_spec(_spec(new)), LocalEngine(1), quiet=True)
    total = refilter(tmp_path / "old", tmp_path / "new", pipeline_from_spec(_spec(new)))
    assert total["reconciled"] and total["read"] == 17
    assert _decisions(tmp_path / "new") == _decisions(fresh)
    assert len(set(_decisions(tmp_path / "old").values())) > 1  # the threshold splits the fixture
    assert (tmp_path / "new" / "report.html").exists() and (tmp_path / "new" / "README.md").exists()


def test_a_step_refilter_cannot_redo_is_refused(data, tmp_path):
    execute([str(data)], tmp_path / "old", pipeline_from_spec(_spec({}, dedup=True)), LocalEngine(1), quiet=True)
    changed_extract = _spec({}, dedup=True)
    changed_extract["steps"][0] = {"extract": {"min_chars": 500}}
    with pytest.raises(RefilterError, match="'extract' is changed, and it is not a filter"):
        refilter(tmp_path / "old", tmp_path / "a", pipeline_from_spec(changed_extract))
    added = _spec({}, dedup=True)
    added["steps"].append("minhash_dedup")
    with pytest.raises(RefilterError, match="'minhash_dedup' is not where it was"):
        refilter(tmp_path / "old", tmp_path / "b", pipeline_from_spec(added))
    # looser: pages now kept were never deduplicated
    with pytest.raises(RefilterError, match=r"never went through .* exact_dedup"):
        refilter(tmp_path / "old", tmp_path / "c", pipeline_from_spec(_spec({"min_doc_words": 1}, dedup=True)))
    assert not (tmp_path / "c").exists()
    # tighter: fine, and the same as a new run (the duplicate pair is long enough to stay)
    refilter(tmp_path / "old", tmp_path / "d", pipeline_from_spec(_spec({"min_doc_words": 80}, dedup=True)))
    execute([str(data)], tmp_path / "fresh", pipeline_from_spec(_spec({"min_doc_words": 80}, dedup=True)),
            LocalEngine(1), quiet=True)
    assert _decisions(tmp_path / "d") == _decisions(tmp_path / "fresh")
