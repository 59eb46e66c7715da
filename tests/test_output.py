"""The run's output: one schema that every common loader reads, files sized for use, a dataset card."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from conftest import lorem, page, read_run, warc_record, write_warc

from thresher.document import Document, Reason
from thresher.engines.driver import execute
from thresher.engines.local import LocalEngine
from thresher.io.writers import OutputWriter
from thresher.pipeline import pipeline_from_spec
from thresher.run import run_and_report
from thresher.schema import Schema, document_from_row

# Every kind of input (WARC, JSONL with fields of its own, plain text, HTML) through steps that write
# meta (extract, lid) and signals (gopher_quality), and a global step.
MIXED = {"name": "mixed", "steps": ["extract", "lid", {"gopher_quality": {"min_doc_words": 30}}, "exact_dedup"]}


def mixed_inputs(folder: Path) -> Path:
    folder.mkdir()
    write_warc(folder / "a.warc.gz",
               [warc_record(f"https://example.org/{i}", page(f"Article {i}", [lorem(i), lorem(i + 1)]))
                for i in range(4)]
               + [warc_record("https://example.org/copy", page("Article 0", [lorem(0), lorem(1)])),
                  warc_record("https://example.org/x.png", b"\x89PNG", content_type="image/png")])
    lines = [{"id": f"j{i}", "text": lorem(40 + i, 80), "url": f"https://j.org/{i}", "lang_hint": "en", "n": i}
             for i in range(3)] + [{"id": "short", "text": "too short"}]
    (folder / "b.jsonl").write_bytes(b"".join(orjson.dumps(x) + b"\n" for x in lines))
    (folder / "c.txt").write_text(lorem(90, 80))
    (folder / "d.html").write_bytes(page("Plain page", [lorem(95), lorem(96)]))
    return folder


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """The same mixed input in JSONL.zst and in Parquet; one task per file, so keys that one kind of
    input lacks are null throughout some files."""
    base = tmp_path_factory.mktemp("output")
    data = mixed_inputs(base / "data")
    out = {}
    for fmt in ("jsonl.zst", "parquet"):
        pipeline = pipeline_from_spec({**MIXED, "writer": {"format": fmt}})
        total = run_and_report([str(data)], base / fmt, pipeline, LocalEngine(1), quiet=True, group_bytes=1)
        assert total["reconciled"] and total["read"] == 12 and total["errors"] == 0
        assert 0 < total["kept"] < 12
        out[fmt] = base / fmt
    return out


def _files(run_dir: Path, which: str) -> list[str]:
    return sorted(str(p) for p in (run_dir / which).iterdir())


def _expected(run_dir: Path, which: str) -> dict[str, int | None]:
    """id -> signals.gopher_words, read back with thresher's own reader."""
    from thresher.report.data import iter_lines, output_files

    return {d["id"]: d["signals"]["gopher_words"] for p in output_files(run_dir, which)
            for d in map(orjson.loads, iter_lines(p))}


def _from_pandas(frame) -> dict[str, int | None]:
    """id -> signals.gopher_words of a DataFrame; pandas holds a missing number as NaN."""
    return {i: None if s["gopher_words"] is None or s["gopher_words"] != s["gopher_words"] else int(s["gopher_words"])
            for i, s in zip(frame["id"], frame["signals"])}


@pytest.mark.parametrize("fmt", ["jsonl.zst", "parquet"])
@pytest.mark.parametrize("which", ["kept", "rejected"])
def test_hugging_face_datasets_loads_the_run_through_its_card(runs, fmt, which, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    datasets = pytest.importorskip("datasets")
    run_dir = runs[fmt]
    assert len(_files(run_dir, which)) >= 2  # several files, keys null throughout some of them
    ds = datasets.load_dataset(str(run_dir), which, split="train", cache_dir=str(tmp_path / "hf"))
    assert dict(zip(ds["id"], [s["gopher_words"] for s in ds["signals"]])) == _expected(run_dir, which)
    assert ds.features["signals"]["gopher_words"].dtype == "int64"
    assert ds.features["meta"]["title"].dtype == "string"


@pytest.mark.parametrize("which", ["kept", "rejected"])
def test_parquet_loads_in_datasets_pandas_pyarrow_and_duckdb(runs, which, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    datasets = pytest.importorskip("datasets")
    pd = pytest.importorskip("pandas")
    duckdb = pytest.importorskip("duckdb")
    import pyarrow.dataset as pads

    run_dir = runs["parquet"]
    files = _files(run_dir, which)
    expected = _expected(run_dir, which)

    ds = datasets.load_dataset("parquet", data_files=files, split="train", cache_dir=str(tmp_path / "hf"))
    assert dict(zip(ds["id"], (s["gopher_words"] for s in ds["signals"]))) == expected

    table = pads.dataset(files, format="parquet").to_table()
    assert dict(zip(table["id"].to_pylist(), table["signals"].combine_chunks().field("gopher_words").to_pylist())) == expected

    frame = pd.read_parquet(files)
    assert _from_pandas(frame) == expected

    rows = duckdb.sql(f"SELECT id, signals.gopher_words, reason.step FROM read_parquet({files!r})").fetchall()
    assert {r[0]: r[1] for r in rows} == expected
    assert all((r[2] is None) == (which == "kept") for r in rows)


@pytest.mark.parametrize("which", ["kept", "rejected"])
def test_jsonl_loads_in_pandas_pyarrow_and_duckdb(runs, which):
    pd = pytest.importorskip("pandas")
    duckdb = pytest.importorskip("duckdb")
    import pyarrow as pa
    import pyarrow.json as pajson

    run_dir = runs["jsonl.zst"]
    files = _files(run_dir, which)
    expected = _expected(run_dir, which)

    frame = pd.concat([pd.read_json(f, lines=True, compression="zstd", dtype=False) for f in files])
    assert _from_pandas(frame) == expected

    tables = [pajson.read_json(pa.input_stream(f, compression="zstd")) for f in files]
    table = pa.concat_tables(tables, promote_options="permissive")  # a key null in one file, typed in another
    assert dict(zip(table["id"].to_pylist(), table["signals"].combine_chunks().field("gopher_words").to_pylist())) == expected

    rows = duckdb.sql(f"SELECT id, signals.gopher_words FROM read_json({files!r})").fetchall()
    assert dict(rows) == expected


def test_every_record_has_every_key_and_undeclared_ones_are_kept(runs):
    run = read_run(runs["jsonl.zst"])
    records = run["kept"] + run["rejected"]
    meta_keys = {tuple(r["meta"]) for r in records}
    signal_keys = {tuple(r["signals"]) for r in records}
    assert len(meta_keys) == 1 and len(signal_keys) == 1
    assert {tuple(r) for r in records} == {("id", "text", "url", "source", "meta", "signals", "reason")}
    j1 = next(r for r in records if r["id"] == "j1")
    assert orjson.loads(j1["meta"]["undeclared"]) == {"lang_hint": "en", "n": 1}  # the input's own fields
    assert j1["meta"]["title"] is None and j1["meta"]["language"] == "en"
    short = next(r for r in run["rejected"] if r["id"] == "short")
    assert short["reason"]["rule"] == "short_doc" and short["reason"]["value"] == 2.0
    assert short["reason"]["threshold"] == 30.0


def test_a_row_reads_back_as_the_document_it_was():
    schema = Schema.of(pipeline_from_spec(MIXED).steps)
    doc = Document(id="x", text="t", url="u", source="f:0", meta={"title": "T", "custom": [1, 2]},
                   signals={"gopher_words": 3},
                   reason=Reason("language_filter", "language", "fr", ["de", "en"]))
    row = schema.row(doc)
    assert row["reason"]["value_text"] == "fr" and row["reason"]["threshold_text"] == '["de","en"]'
    back = document_from_row(row)
    assert (back.meta, back.signals) == (doc.meta, doc.signals)
    assert back.reason.value == "fr"


def test_two_steps_declaring_one_key_with_two_types_is_refused():
    class A:
        name = "a"

        def meta_fields(self):
            return {"k": int}

        def signal_fields(self):
            return {}

    class B(A):
        name = "b"

        def meta_fields(self):
            return {"k": str}

    with pytest.raises(ValueError, match="'k'"):
        Schema.of([A(), B()])


def test_writer_rolls_files_at_the_size_and_leaves_none_empty(tmp_path):
    schema = Schema.of([])
    writer = OutputWriter(tmp_path, "00000", "jsonl", schema, max_bytes=1000)
    for i in range(10):
        writer.write(Document(id=str(i), text="x" * 300))
    writer.close()
    assert [p.name for p in sorted(tmp_path.iterdir())] == [f"00000-{n:03d}.jsonl" for n in range(3)]
    sizes = [len((tmp_path / f"00000-{n:03d}.jsonl").read_text().splitlines()) for n in range(3)]
    assert sizes == [4, 4, 2]
    (tmp_path / "none").mkdir()
    OutputWriter(tmp_path / "none", "00001", "parquet", schema).close()
    assert list((tmp_path / "none").iterdir()) == []


def test_small_files_are_grouped_into_a_few_tasks(tmp_path):
    data = tmp_path / "many"
    data.mkdir()
    for i in range(200):
        (data / f"{i:03d}.txt").write_text(lorem(i, 80))
    (data / "NOTES.md").write_text("not an input")
    total = execute([str(data)], tmp_path / "run", pipeline_from_spec({"name": "none", "steps": []}),
                    LocalEngine(2), quiet=True)
    assert total["read"] == 200 and total["kept"] == 200 and total["skipped_inputs"] == 1
    plan = orjson.loads((tmp_path / "run" / "state" / "plan.json").read_bytes())
    assert len(plan["tasks"]) == 1 and plan["skipped"] == [str(data / "NOTES.md")]
    assert [p.name for p in (tmp_path / "run" / "kept").iterdir()] == ["00000-000.jsonl.zst"]
    assert not list((tmp_path / "run" / "rejected").iterdir()) and not list((tmp_path / "run" / "errors").iterdir())


def test_the_card_describes_the_run(runs):
    card = (runs["jsonl.zst"] / "README.md").read_text()
    header = card.split("---")[1]
    import yaml

    meta = yaml.safe_load(header)
    assert [c["config_name"] for c in meta["configs"]] == ["kept", "rejected"]
    assert meta["configs"][0]["data_files"][0]["path"] == "kept/*.jsonl.zst"
    assert meta["language"] == ["en"]
    assert "`extract` -> `lid` -> `gopher_quality` -> `exact_dedup`" in card
    assert "`gopher_quality.short_doc`" in card and "| 12 |" in card



@pytest.mark.parametrize("name", ["extract", "clean", "lid", "language_filter", "pii", "url_filter", "gopher_quality",
                                  "gopher_repetition", "c4_lines", "fineweb_quality", "refinedweb_quality",
                                  "refinedweb_lines"])
def test_every_step_declares_the_keys_it_writes(name):
    from thresher.pipeline import make_step
    from thresher.steps import FilterStep

    step = make_step(name)
    step.setup()
    text = "\n".join(lorem(i, 30) + " Write to ann@example.org." for i in range(6))
    raw = page("A title", [lorem(1), lorem(2)]) if name == "extract" else None
    doc = Document(id="d", text="" if raw else text, url="https://example.org/a", raw=raw)
    step.process(doc)
    assert set(doc.signals) <= set(step.signal_fields()), set(doc.signals) - set(step.signal_fields())
    assert set(doc.meta) <= set(step.meta_fields()), set(doc.meta) - set(step.meta_fields())
    declared = {**step.signal_fields(), **step.meta_fields()}
    assert set(step.rule_signals().values()) <= set(declared)
    if isinstance(step, FilterStep) and step.decides_from_signals:  # the same decision from stored signals
        stored = Document(id="d", text=doc.text, meta=dict(doc.meta), signals=dict(doc.signals))
        assert step.decide(stored) == step.filter(doc)
