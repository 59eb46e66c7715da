"""The Ray engine against a real Ray cluster started here (``ray start --head``): the output equals the
local engine's document for document, with deduplication; a worker killed mid-task is retried; a driver
killed mid-run resumes. Skipped when Ray is not installed (``pip install 'thresher[ray]'``)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from conftest import lorem, page, read_run, warc_record, write_warc

pytest.importorskip("ray")

from thresher.pipeline import STEP_REGISTRY  # noqa: E402

TESTS = Path(__file__).parent
FILES, PAGES = 6, 6
DEDUP = "  - exact_dedup\n" + ("  - minhash_dedup\n" if "minhash_dedup" in STEP_REGISTRY else "")


# Token authentication with a token of this session, passed by environment: Ray would otherwise read (or,
# on a local start, create) ~/.ray/auth_token, which a test must not touch.
_TOKEN = uuid.uuid4().hex + uuid.uuid4().hex


def _env() -> dict[str, str]:
    # steps_for_tests (the Sleep step) must import on Ray's workers, which inherit the `ray start` env.
    return {**os.environ, "PYTHONPATH": str(TESTS), "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "token",
            "RAY_AUTH_TOKEN": _TOKEN}


def thresher(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "thresher", "run", *args], capture_output=True, text=True,
                          env=_env(), timeout=300)


class Cluster:
    """A one-node Ray cluster in its own process group, so teardown stops exactly its processes (not every
    Ray on the machine, as `ray stop` would)."""

    def __init__(self, num_cpus: int = 2):
        # Ray's socket paths must stay under ~107 bytes: a short temp dir, not pytest's tmp_path.
        self.tmp = Path(tempfile.mkdtemp(prefix="thr-ray-", dir="/tmp"))
        self.log = open(self.tmp / "ray-start.log", "wb")
        self.proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "ray"), "start", "--head", "--block", "--port=0",
             "--node-ip-address=127.0.0.1",  # tests stay on loopback
             f"--num-cpus={num_cpus}", f"--temp-dir={self.tmp}", "--include-dashboard=false",
             "--disable-usage-stats"],
            env=_env(), stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self.address = self._wait_for_address()
        except BaseException:
            self.stop()
            raise

    def _wait_for_address(self) -> str:
        marker = self.tmp / "ray_current_cluster"  # written by the head once it is up
        deadline = time.time() + 90
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("ray start failed: " + (self.tmp / "ray-start.log").read_text()[-2000:])
            log = (self.tmp / "ray-start.log").read_text(errors="replace")
            if marker.exists() and "Ray runtime started" in log:
                return marker.read_text().strip()
            time.sleep(0.2)
        raise RuntimeError("ray start did not come up in 90 s")

    def _processes(self) -> list[tuple[int, int, int, str]]:
        out = subprocess.run(["ps", "-eo", "pid=,ppid=,pgid=,args="], capture_output=True, text=True).stdout
        rows = []
        for line in out.splitlines():
            pid, ppid, pgid, *args = line.split(None, 3)
            rows.append((int(pid), int(ppid), int(pgid), args[0] if args else ""))
        return rows

    def _workers(self) -> list[tuple[int, str]]:
        """(pid, title) of this cluster's worker processes: children of its raylet, each in a process
        group of its own."""
        rows = self._processes()
        ours = {pid for pid, _, pgid, _ in rows if pgid == self.proc.pid}
        return [(pid, args) for pid, ppid, pgid, args in rows if ppid in ours and pgid != self.proc.pid]

    def task_workers(self) -> list[int]:
        """Workers running a thresher task right now: Ray titles a busy worker `ray::<function>`, and
        thresher's remote function is `_call`."""
        return [pid for pid, title in self._workers() if title.startswith("ray::_call")]

    def stop(self) -> None:
        # SIGKILL, not a graceful stop: Ray drains for up to 30 s on SIGTERM, and this cluster holds no
        # state worth saving. Workers live in their own process groups, so they are named one by one.
        workers = [pid for pid, _ in self._workers()]
        for pid in workers:
            _kill(pid)
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=30)
        self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@pytest.fixture(scope="module")
def cluster():
    c = Cluster()
    try:
        yield c
    finally:
        c.stop()


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """Several shards with exact and near duplicates across them."""
    folder = tmp_path_factory.mktemp("raydata") / "data"
    folder.mkdir()
    for f in range(FILES):
        records = [warc_record(f"https://site{f}.org/{i}", page(f"Page {f}-{i}", [lorem(f * 31 + i, 80)]))
                   for i in range(PAGES)]
        records.append(warc_record(f"https://copy.org/{f}", page("Page 0-0", [lorem(0, 80)])))
        records.append(warc_record(f"https://near.org/{f}", page("Page 1-1", [lorem(32, 80) + f" Edit {f}."])))
        write_warc(folder / f"part-{f:02d}.warc.gz", records)
    return folder


@pytest.fixture(scope="module")
def configs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("rayconf")
    dedup, slow = folder / "dedup.yaml", folder / "slow.yaml"
    dedup.write_text("name: dedup\nsteps:\n  - extract\n" + DEDUP)
    # ~1 s per shard in phase p0, so a kill lands in the middle of a task
    slow.write_text("name: slow\nsteps:\n  - extract\n  - steps_for_tests:Sleep: {ms: 120}\n" + DEDUP)
    return {"dedup": dedup, "slow": slow}


@pytest.fixture(scope="module")
def reference(data, configs, tmp_path_factory) -> dict[str, list[dict]]:
    """The local engine's output on the same input paths (documents carry their source path)."""
    out = tmp_path_factory.mktemp("rayref") / "run"
    result = thresher(str(data), "-o", str(out), "--config", str(configs["dedup"]), "--workers", "2", "-q")
    assert result.returncode == 0, result.stderr
    run = read_run(out)
    assert len(run["kept"]) > 0 and any(d["reason"]["step"] == "exact_dedup" for d in run["rejected"])
    return run


def test_ray_output_equals_local_document_for_document(cluster, data, configs, reference, tmp_path):
    result = thresher(str(data), "-o", str(tmp_path / "run"), "--config", str(configs["dedup"]),
                      "--engine", "ray", "--address", cluster.address, "-q")
    assert result.returncode == 0, result.stderr
    assert "[ok]" in result.stdout
    run = read_run(tmp_path / "run")
    assert run == reference
    steps = {d["reason"]["step"] for d in run["rejected"]}
    assert "exact_dedup" in steps
    if "minhash_dedup" in DEDUP:
        assert "minhash_dedup" in steps
    # the global steps' resolve ran as one Ray task per partition, each marking itself done
    assert list((tmp_path / "run" / "stats").glob("r1-part*.json.done"))


def test_killed_worker_task_is_retried_and_output_still_equal(cluster, data, configs, reference, tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "thresher", "run", str(data), "-o", str(tmp_path / "run"),
                             "--config", str(configs["slow"]), "--engine", "ray", "--address", cluster.address,
                             "-q"], env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed = None
    deadline = time.time() + 60
    while killed is None and time.time() < deadline and proc.poll() is None:
        busy = cluster.task_workers()
        if busy:
            killed = busy[0]
            os.kill(killed, signal.SIGKILL)
        time.sleep(0.05)
    stdout, stderr = proc.communicate(timeout=240)
    assert killed is not None, "no busy Ray worker seen to kill"
    # The task lost with its worker was resubmitted: Ray says so on the driver's stderr (streamed from the
    # raylet, so it may come late) and in the driver's core-worker log.
    logs = "".join(f.read_text(errors="replace") for f in
                   (cluster.tmp / "session_latest" / "logs").glob(f"python-core-driver-*_{proc.pid}.log"))
    assert "will be retried" in stderr or "resubmit task" in logs
    # ... and no task failed: every record accounted for, the output unchanged.
    assert proc.returncode == 0, stderr
    assert "[ok]" in stdout and "failed" not in stderr
    assert read_run(tmp_path / "run") == reference


def test_killed_driver_then_rerun_resumes_and_output_equal(cluster, data, configs, reference, tmp_path):
    run_dir = tmp_path / "run"
    args = [str(data), "-o", str(run_dir), "--config", str(configs["slow"]), "--engine", "ray",
            "--address", cluster.address, "--task-mb", "0.001", "-q"]  # one task per file: several to kill between
    proc = subprocess.Popen([sys.executable, "-m", "thresher", "run", *args], env=_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    stats = run_dir / "stats"
    deadline = time.time() + 90
    while time.time() < deadline and len(list(stats.glob("p0-*.json"))) < 2:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the driver only: Ray's workers belong to the cluster
    proc.wait()
    done = {p: p.stat().st_mtime_ns for p in stats.glob("p0-*.json")}
    assert 2 <= len(done) < FILES, "the kill should land in the middle of phase p0"
    # Ray ends the dead driver's tasks; wait for that, so the re-run does not race a straggler.
    deadline = time.time() + 30
    while cluster.task_workers() and time.time() < deadline:
        time.sleep(0.2)

    resumed = thresher(*args)
    assert resumed.returncode == 0, resumed.stderr
    assert "[ok]" in resumed.stdout
    # shards finished before the kill were not run again
    assert all(p.stat().st_mtime_ns == mtime for p, mtime in done.items())
    assert read_run(run_dir) == reference
    assert not list(run_dir.rglob("*.tmp"))


def test_local_ray_started_by_the_engine(data, configs, reference, tmp_path):
    """Without --address the engine starts its own Ray (temp folder configurable) and stops it."""
    ray_tmp = Path(tempfile.mkdtemp(prefix="thr-rl-", dir="/tmp"))
    try:
        result = thresher(str(data), "-o", str(tmp_path / "run"), "--config", str(configs["dedup"]),
                          "--engine", "ray", "--workers", "2", "--ray-tmp", str(ray_tmp), "-q")
        assert result.returncode == 0, result.stderr
        assert read_run(tmp_path / "run") == reference
        assert list(ray_tmp.glob("session_*"))
    finally:
        shutil.rmtree(ray_tmp, ignore_errors=True)

