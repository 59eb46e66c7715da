"""Command-line mistakes: one line naming what is wrong, exit code 2, nothing left behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES, SAMPLE

SEED = sorted((FIXTURES / "seeds").glob("*.txt"))[0]


def thresher(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "thresher", *args], capture_output=True, text=True)


def _one_line_error(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr
    assert lines and all(w in lines[0] for w in words), result.stderr


def test_malformed_yaml_names_the_file_and_line(tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text("name: x\nsteps:\n  - extract: {backend: [\n  - lid\n")
    result = thresher("run", str(SAMPLE), "-o", str(tmp_path / "run"), "--config", str(config))
    _one_line_error(result, f"{config}:4", "not valid YAML")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()


def test_output_naming_a_file_is_refused(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("mine")
    result = thresher("run", str(SAMPLE), "-o", str(target))
    _one_line_error(result, str(target), "a file, not a folder")
    assert target.read_text() == "mine"


def test_missing_input_leaves_no_run_directory(tmp_path):
    result = thresher("run", str(tmp_path / "nothing-here"), "-o", str(tmp_path / "run"))
    _one_line_error(result, "input not found", "nothing-here")
    assert not (tmp_path / "run").exists()


def test_clean_on_a_missing_file(tmp_path):
    _one_line_error(thresher("clean", str(tmp_path / "missing.txt")), "missing.txt", "No such file")


def test_eval_without_a_name_is_a_usage_error():
    result = thresher("eval")
    assert result.returncode == 2 and "usage: thresher eval NAME" in result.stderr
    assert thresher("eval", "--help").returncode == 0


def test_a_closed_pipe_ends_quietly(tmp_path):
    big = tmp_path / "big.txt"
    big.write_text(SEED.read_text() * 300)  # far more than a pipe holds
    proc = subprocess.Popen([sys.executable, "-m", "thresher", "clean", "--json", str(big)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.read(10)
    proc.stdout.close()  # like `| head -c 10`
    err = proc.stderr.read().decode()
    assert proc.wait() == 141 and "Traceback" not in err and "Broken pipe" not in err, err


def test_eval_lid_without_fasttext_evaluates_cld2_only(tmp_path):
    data = tmp_path / "sentences"
    data.mkdir()
    (data / "en.txt").write_text("This is an English sentence about rivers and mills.\n")
    (data / "de.txt").write_text("Dies ist ein deutscher Satz über Flüsse und Mühlen.\n")
    (tmp_path / "lid.176.ftz").write_bytes(b"not read")  # a model next to the data, as in ../shared/data
    # a core install: fastText is not importable
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "fasttext.py").write_text("raise ImportError('No module named fasttext')\n")
    env = {**os.environ, "PYTHONPATH": str(blocker)}
    result = subprocess.run([sys.executable, "-m", "thresher", "eval", "lid", "--data", str(data)],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "evaluating cld2 only" in result.stderr
    assert "| lang | n | cld2 |\n" in result.stdout


@pytest.mark.parametrize("command", [["run"], ["run", "x"], ["inspect"], ["report"]])
def test_missing_arguments_are_usage_errors(command):
    result = thresher(*command)
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_unknown_files_in_an_input_folder_are_listed(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "page.txt").write_text("Some text. " * 50)
    (data / "LICENSE").write_text("licence")
    result = thresher("run", str(data), "-o", str(tmp_path / "run"), "--preset", "extract")
    assert result.returncode == 0, result.stderr
    assert "left out 1 files of unknown format" in result.stderr and str(Path(data / "LICENSE")) in result.stderr


def test_progress_in_a_log_is_one_plain_line_per_phase_in_words(tmp_path):
    result = thresher("run", str(SAMPLE), "-o", str(tmp_path / "run"), "--preset", "default")
    assert result.returncode == 0, result.stderr
    lines = [x for x in result.stderr.splitlines() if not x.startswith("thresher: left out")]
    assert "\r" not in result.stderr
    labels = [x.split(":")[0] if x.startswith("read") else ":".join(x.split(":")[:2]) for x in lines]
    assert labels == ["read+filter, exact_dedup", "exact_dedup: resolve", "exact_dedup: apply, minhash_dedup",
                      "minhash_dedup: resolve", "minhash_dedup: apply"]
    assert lines[0].startswith("read+filter, exact_dedup: index: 1/1 tasks (100%)") and lines[0].endswith(", 29 docs")
    # every later phase counts the documents it reads, once: the survivors of the phase before
    summary = __import__("json").loads((tmp_path / "run" / "stats" / "summary.json").read_text())
    survivors = summary["phases"]["p0"]["kept"]
    assert f"apply, minhash_dedup: index: {survivors}/{survivors} docs (100%)" in lines[2]
    assert all("ETA" in x and ("/s" in x or "s/" in x) for x in lines)  # a rate: per second, or seconds per
