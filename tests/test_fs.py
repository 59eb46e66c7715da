"""Inputs as fsspec URLs (``memory://`` and ``file://`` here; ``s3://`` etc. need their fsspec package):
the same documents as from local paths; the run directory accepts ``file://`` and refuses object stores."""

from __future__ import annotations

import gzip
import uuid

import orjson
import pytest
import zstandard
from conftest import lorem, page, read_run, warc_record, write_warc

fsspec = pytest.importorskip("fsspec")

from thresher.engines.driver import execute  # noqa: E402
from thresher.engines.local import LocalEngine  # noqa: E402
from thresher.io import fs, plan_shards  # noqa: E402
from thresher.pipeline import pipeline_from_spec  # noqa: E402

SPEC = {"name": "t", "steps": ["exact_dedup"]}


def _jsonl(n: int) -> bytes:
    return b"".join(orjson.dumps({"id": f"d{i}", "text": lorem(i % 5)}) + b"\n" for i in range(n))


def _strip(run: dict[str, list[dict]]) -> dict[str, list[dict]]:
    # `source` names the path or URL read: the only field that may differ
    return {k: [{**d, "source": d["source"].rsplit("/", 1)[-1]} for d in docs] for k, docs in run.items()}


@pytest.fixture
def memory_root():
    root = f"/thr-{uuid.uuid4().hex}"
    mem = fsspec.filesystem("memory")
    yield mem, root
    if mem.exists(root):
        mem.rm(root, recursive=True)


def test_memory_urls_read_like_local_files(memory_root, tmp_path):
    mem, root = memory_root
    local = tmp_path / "in"
    local.mkdir()
    files = {"a.jsonl": _jsonl(12), "b.jsonl.gz": gzip.compress(_jsonl(7)),
             "sub/c.jsonl.zst": zstandard.ZstdCompressor().compress(_jsonl(9)), "skip.bin": b"not an input"}
    for name, data in files.items():
        mem.pipe(f"{root}/{name}", data)
        (local / name).parent.mkdir(exist_ok=True)
        (local / name).write_bytes(data)
    write_warc(local / "w.warc.gz", [warc_record(f"https://e.org/{i}", page("P", [lorem(i)])) for i in range(3)])
    mem.pipe(f"{root}/w.warc.gz", (local / "w.warc.gz").read_bytes())

    # a folder is walked (files of unknown format left out), names relative to it, as for a local folder
    shards = plan_shards([f"memory://{root}"], shard_bytes=200)
    assert [s.name for s in shards if s.start == 0] == ["a.jsonl", "b.jsonl.gz", "sub/c.jsonl.zst", "w.warc.gz"]
    assert len([s for s in shards if s.name == "a.jsonl"]) > 1  # a plain file is split at line boundaries

    by_url = execute([f"memory://{root}"], tmp_path / "url", pipeline_from_spec(SPEC), LocalEngine(1),
                     quiet=True, shard_bytes=200)
    by_path = execute([str(local)], tmp_path / "path", pipeline_from_spec(SPEC), LocalEngine(1), quiet=True,
                      shard_bytes=200)
    assert by_url["read"] == by_path["read"] == 12 + 7 + 9 + 3 and by_url["reconciled"]
    assert _strip(read_run(tmp_path / "url")) == _strip(read_run(tmp_path / "path"))
    assert read_run(tmp_path / "url")["kept"][0]["source"].startswith("memory://")


def test_file_urls_for_inputs_glob_and_run_dir(tmp_path):
    (tmp_path / "x.jsonl").write_bytes(_jsonl(4))
    (tmp_path / "y.jsonl").write_bytes(_jsonl(3))
    total = execute([f"file://{tmp_path}/*.jsonl"], f"file://{tmp_path}/run", pipeline_from_spec(SPEC),
                    LocalEngine(1), quiet=True)
    assert total["read"] == 7 and total["reconciled"]
    assert len(read_run(tmp_path / "run")["kept"]) == 4  # y.jsonl repeats x.jsonl's first three texts


def test_object_store_run_dir_is_refused_with_the_reason():
    with pytest.raises(ValueError, match="atomic renames"):
        fs.local_dir("s3://bucket/run")
    assert fs.local_dir("/data/run") == "/data/run" and fs.local_dir("file:///data/run") == "/data/run"
    assert not fs.is_url("C:\\data\\x.warc.gz") and fs.is_url("gs://b/x.warc.gz")


def test_missing_url_input_is_reported(memory_root):
    with pytest.raises(FileNotFoundError):
        plan_shards([f"memory://{memory_root[1]}/nothing.jsonl"])
