"""The local engine: reconciliation, global steps, resume after SIGKILL, bad input never stops a run."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
from conftest import SAMPLE, lorem, page, read_run, warc_record, write_warc

from thresher.engines.driver import execute
from thresher.engines.local import LocalEngine
from thresher.pipeline import load_pipeline, pipeline_from_spec

TESTS = Path(__file__).parent
# The engine's tests pin their own pipeline, so that tuning the shipped presets cannot change them.
EXTRACT_DEDUP = {"name": "extract-dedup", "steps": ["extract", "exact_dedup"]}


def thresher(*args: str, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(TESTS)}
    return subprocess.run([sys.executable, "-m", "thresher", *args], capture_output=True, text=True, env=env, **kw)


def test_run_reconciles_and_names_the_duplicate_it_matched(small_warc, tmp_path):
    total = execute([str(small_warc)], tmp_path / "run", pipeline_from_spec(EXTRACT_DEDUP), LocalEngine(1), quiet=True)
    assert total["reconciled"] and total["read"] == 9 and total["errors"] == 0
    run = read_run(tmp_path / "run")
    assert len(run["kept"]) == 6
    assert all(d["text"] and d["meta"]["title"].startswith("Article") for d in run["kept"])
    reasons = {d["url"]: d["reason"] for d in run["rejected"]}
    kept_a0 = next(d for d in run["kept"] if d["url"] == "https://example.org/a0")
    assert reasons["https://example.org/a0-copy"]["duplicate_of"] == kept_a0["id"]
    assert reasons["https://example.org/img.png"]["rule"] == "not_html"
    assert total["kept"] + total["rejected"] == 9
    assert not (tmp_path / "run" / "work").exists()


def test_rerun_of_a_finished_run_changes_nothing(small_warc, tmp_path):
    execute([str(small_warc)], tmp_path / "run", pipeline_from_spec(EXTRACT_DEDUP), LocalEngine(1), quiet=True)
    before = read_run(tmp_path / "run")
    total = execute([str(small_warc)], tmp_path / "run", pipeline_from_spec(EXTRACT_DEDUP), LocalEngine(1), quiet=True)
    assert read_run(tmp_path / "run") == before and total["reconciled"]


def test_resume_refuses_another_pipeline(small_warc, tmp_path):
    execute([str(small_warc)], tmp_path / "run", load_pipeline("extract"), LocalEngine(1), quiet=True)
    result = thresher("run", str(small_warc), "-o", str(tmp_path / "run"), "--preset", "default")
    assert result.returncode == 2 and "another pipeline" in result.stderr


def _many_shards(folder: Path, files: int = 12, pages: int = 6) -> Path:
    folder.mkdir()
    for f in range(files):
        write_warc(folder / f"part-{f:02d}.warc.gz",
                   [warc_record(f"https://site{f}.org/{i}", page(f"Page {f}-{i}", [lorem(f * 31 + i)]))
                    for i in range(pages)]
                   + [warc_record(f"https://copy.org/{f}", page("Page 0-0", [lorem(0)]))])
    return folder


def test_sigkill_in_the_middle_then_rerun_equals_an_uninterrupted_run(tmp_path):
    data = _many_shards(tmp_path / "data")
    config = tmp_path / "slow.yaml"
    # resiliparse keeps the <h1> in the text: every page differs (the thresher backend puts it in meta)
    config.write_text("name: slow\nsteps:\n  - extract: {backend: resiliparse}\n  - steps_for_tests:Sleep: {ms: 40}\n"
                      "  - exact_dedup\n")
    # --task-mb: one task per file (small files are otherwise grouped), so the kill lands between tasks
    args = [str(data), "--config", str(config), "--workers", "2", "--task-mb", "0.001", "-q"]
    reference = thresher("run", *args, "-o", str(tmp_path / "reference"))
    assert reference.returncode == 0, reference.stderr

    env = {**os.environ, "PYTHONPATH": str(TESTS)}
    proc = subprocess.Popen([sys.executable, "-m", "thresher", "run", *args, "-o", str(tmp_path / "killed")],
                            env=env, start_new_session=True)
    stats = tmp_path / "killed" / "stats"
    deadline = time.time() + 60
    while time.time() < deadline and len(list(stats.glob("p0-*.json"))) < 3:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the driver and its workers, mid-run
    proc.wait()
    done_before = len(list(stats.glob("p0-*.json")))
    assert 3 <= done_before < 12, "the kill should land in the middle of phase p0"

    resumed = thresher("run", *args, "-o", str(tmp_path / "killed"))
    assert resumed.returncode == 0, resumed.stderr
    assert "[ok]" in resumed.stdout
    assert read_run(tmp_path / "killed") == read_run(tmp_path / "reference")
    assert not list((tmp_path / "killed").rglob("*.tmp"))
    summary = json.loads((tmp_path / "killed" / "stats" / "summary.json").read_text())
    assert summary["read"] == 12 * 7 and summary["kept"] == 12 * 6 + 1 - 1


def test_bad_input_is_counted_logged_and_the_run_goes_on(tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    good = [gzip.compress(warc_record(f"https://e.org/{i}", page(f"P{i}", [lorem(i)]))) for i in range(3)]
    broken = bytearray(good[1])
    broken[20:40] = b"\x00" * 20
    (bad / "damaged.warc.gz").write_bytes(good[0] + bytes(broken) + good[2])
    cut = b"".join(warc_record(f"https://t.org/{i}", page("t", [lorem(i)])) for i in range(2))
    (bad / "truncated.warc").write_bytes(cut[:-60])
    (bad / "mixed.jsonl").write_bytes(b'{"id": "ok", "text": "fine text"}\n{broken\n{"id": "u", "text": "\xff\xfe bad utf8"}\n')
    (bad / "empty.jsonl").write_bytes(b"")
    (bad / "huge.jsonl").write_bytes(orjson.dumps({"id": "huge", "text": "word " * 10_000_000}) + b"\n")
    write_warc(bad / "hugepage.warc.gz", [warc_record("https://big.org/", b"<html><body>" + b"<p>x</p>" * 3_000_000)])
    result = thresher("run", str(bad), "-o", str(tmp_path / "run"), "--preset", "extract", "--workers", "2", "-q")
    assert result.returncode == 1  # something failed, and the exit code says so
    assert "errors 3  [FAILED]" in result.stdout  # ... every record is accounted for, and the line says so
    errors = [json.loads(line) for f in (tmp_path / "run" / "errors").glob("*.jsonl") for line in f.read_text().splitlines()]
    sources = sorted(e["source"] for e in errors)
    assert any(s.endswith(f"damaged.warc.gz:{len(good[0])}") for s in sources)
    assert any(s.endswith("mixed.jsonl:34") for s in sources)
    assert any("truncated.warc" in s for s in sources)
    run = read_run(tmp_path / "run")
    kept_ids = {d["id"] for d in run["kept"]}
    assert {"ok", "u", "huge"} <= kept_ids
    assert any(d["reason"]["rule"] == "too_large" for d in run["rejected"])


def test_a_step_that_raises_costs_one_document(tmp_path):
    path = tmp_path / "docs.jsonl"
    path.write_text("".join(json.dumps({"id": str(i), "text": "BOOM" if i == 3 else f"doc {i}"}) + "\n" for i in range(6)))
    pipeline = pipeline_from_spec({"steps": ["steps_for_tests:FailOn"]})
    sys.path.insert(0, str(TESTS))
    total = execute([str(path)], tmp_path / "run", pipeline, LocalEngine(1), quiet=True)
    assert total["kept"] == 5 and total["errors"] == 1 and total["reconciled"]
    line = json.loads(next((tmp_path / "run" / "errors").glob("p0-*.jsonl")).read_text())
    assert line["id"] == "3" and line["step"] == "fail_on" and "step bug" in line["message"]


def test_sample_data_runs_with_the_default_preset(tmp_path):
    result = thresher("run", str(SAMPLE), "-o", str(tmp_path / "run"), "-q")
    assert result.returncode == 0, result.stderr
    assert "[ok]" in result.stdout
    assert read_run(tmp_path / "run")["kept"]


def test_parquet_output(small_warc, tmp_path):
    pytest.importorskip("pyarrow")
    result = thresher("run", str(small_warc), "-o", str(tmp_path / "run"), "--preset", "extract",
                      "--output-format", "parquet", "-q")
    assert result.returncode == 0, result.stderr
    import pyarrow.parquet as pq

    rows = sum(pq.read_table(f).num_rows for f in (tmp_path / "run" / "kept").glob("*.parquet"))
    assert rows == 7


def test_a_batched_step_gets_batches_and_a_raise_costs_one_document(tmp_path):
    """Batched steps see many documents per call; one that raises is retried document by document (the
    bad one is logged, the rest go on), a document it drops is not seen by later steps, order is kept."""
    path = tmp_path / "docs.jsonl"
    texts = ["BOOM" if i == 40 else "DROP me" if i == 7 else f"doc {i}" for i in range(70)]
    path.write_text("".join(json.dumps({"id": str(i), "text": t}) + "\n" for i, t in enumerate(texts)))
    pipeline = pipeline_from_spec({"steps": ["steps_for_tests:BatchUpper", "steps_for_tests:FailOn"]})
    sys.path.insert(0, str(TESTS))
    total = execute([str(path)], tmp_path / "run", pipeline, LocalEngine(1), quiet=True)
    assert total["kept"] == 68 and total["rejected"] == 1 and total["errors"] == 1 and total["reconciled"]
    run = read_run(tmp_path / "run")
    kept = run["kept"]
    assert [d["id"] for d in kept] == [str(i) for i in range(70) if i not in (7, 40)]
    assert all(d["text"] == d["text"].upper() for d in kept)
    assert max(d["signals"]["batch_size"] for d in kept) > 1  # batches, not documents one by one
    # the batch that met the bad document went through one by one: batch_size 1 there
    assert any(d["signals"]["batch_size"] == 1 for d in kept)
    assert run["rejected"][0]["reason"]["rule"] == "dropped"
    line = json.loads(next((tmp_path / "run" / "errors").glob("p0-*.jsonl")).read_text())
    assert line["id"] == "40" and line["step"] == "batch_upper"


def test_a_second_run_into_the_same_directory_is_refused(small_warc, tmp_path):
    from thresher.rundir import RunDir

    run = tmp_path / "run"
    run.mkdir()
    held = RunDir(run).lock()  # as a run in progress holds it
    try:
        result = thresher("run", str(small_warc), "-o", str(run), "--preset", "extract", "-q")
    finally:
        held.close()
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert f"{run} is in use by another thresher run (pid {os.getpid()})" in result.stderr
    assert not (run / "stats").exists()
    assert thresher("run", str(small_warc), "-o", str(run), "--preset", "extract", "-q").returncode == 0


def test_temporary_files_of_killed_workers_are_removed_by_the_next_run(small_warc, tmp_path):
    run = tmp_path / "run"
    pipeline = pipeline_from_spec(EXTRACT_DEDUP)
    execute([str(small_warc)], run, pipeline, LocalEngine(1), quiet=True)
    before = read_run(run)
    stale = [run / "kept" / ".00000.jsonl.zst.4242.tmp", run / "errors" / "p0-00000.jsonl.tmp",
             run / "state" / "exact_dedup" / ".00000.ids.4242.tmp"]
    for path in stale:
        path.write_bytes(b"half a file")
    index = run / "state" / "minhash_dedup" / "index" / ".00000.4242.tmp"  # a killed worker's index folder
    index.mkdir(parents=True)
    (index / "sigs.bin").write_bytes(b"x")
    total = execute([str(small_warc)], run, pipeline, LocalEngine(1), quiet=True)
    assert total["reconciled"] and read_run(run) == before
    assert not list(run.rglob("*.tmp"))


def test_a_full_disk_names_the_path_fails_the_line_and_a_rerun_completes(small_warc, tmp_path, monkeypatch, capsys):
    import errno

    from thresher.engines import driver
    from thresher.engines.driver import summary_lines
    from thresher.io.writers import JsonlWriter

    reference = execute([str(small_warc)], tmp_path / "reference", pipeline_from_spec(EXTRACT_DEDUP), LocalEngine(1),
                        quiet=True)
    run = tmp_path / "run"

    def full(self, doc):
        raise OSError(errno.ENOSPC, "No space left on device", str(self._file.tmp))

    monkeypatch.setattr(JsonlWriter, "write", full)
    total = execute([str(small_warc)], run, pipeline_from_spec(EXTRACT_DEDUP), LocalEngine(1), quiet=True)
    assert total["failed_tasks"] and "no space left on device writing " + str(run) in total["failed_tasks"][0]
    assert summary_lines(total)[0].endswith("[FAILED: 1 task failed]")
    monkeypatch.undo()

    real_write_json = driver.write_json

    def summary_full(path, data):
        if path.name == "summary.json":
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write_json(path, data)

    monkeypatch.setattr(driver, "write_json", summary_full)
    from thresher.cli import main

    capsys.readouterr()
    assert main(["run", str(small_warc), "-o", str(run), "--config", str(_config(tmp_path)), "-q"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "No space left on device" in err and str(run / "stats" / "summary.json") in err
    monkeypatch.undo()

    total = execute([str(small_warc)], run, pipeline_from_spec(EXTRACT_DEDUP), LocalEngine(1), quiet=True)
    assert summary_lines(total)[0].endswith("[ok]") and total["kept"] == reference["kept"]
    assert read_run(run) == read_run(tmp_path / "reference")


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "extract-dedup.yaml"
    path.write_text(json.dumps(EXTRACT_DEDUP))  # JSON is YAML
    return path


def test_the_line_says_ok_only_when_nothing_was_lost(tmp_path):
    from thresher.rundir import reconcile_line

    base = {"read": 10, "kept": 6, "rejected": 4, "errors": 0, "reconciled": True, "failed_tasks": [], "complete": True}
    assert reconcile_line(base) == "read 10 = kept 6 + rejected 4 + errors 0  [ok]"
    assert reconcile_line({**base, "kept": 5, "errors": 1}) == "read 10 = kept 5 + rejected 4 + errors 1  [FAILED]"
    assert reconcile_line({**base, "kept": 3, "reconciled": False, "failed_tasks": ["p1 00001: boom"],
                           "complete": False}) == \
        "read 10 = kept 3 + rejected 4 + errors 0 + unfinished 3  [FAILED: 1 task failed]"
    assert reconcile_line({**base, "kept": 5, "reconciled": False}).endswith("[FAILED: the counts do not add up]")
