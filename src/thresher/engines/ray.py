"""The Ray engine: the same task functions as the local engine (``thresher.engines.tasks``), run as Ray
tasks on an existing cluster (``--address``) or on a Ray started for this run. Only scheduling differs.

Data never travels through Ray's object store: every task reads and writes the run directory, so on a
multi-node cluster RUN_DIR must be on a filesystem all nodes mount at the same path (NFS, Lustre, ...).
A task whose worker process dies (OOM killer, node lost, ``kill -9``) is retried by Ray, up to
``max_retries`` times; this is safe because tasks write under temporary names and rename at the end. An
exception raised by the task itself is not retried here: it is reported, and a re-run retries that shard,
exactly as on the local engine.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from typing import Any

# Ray's object store only carries task arguments and the small stats dicts tasks return.
_LOCAL_OBJECT_STORE_BYTES = 256 * 2**20


def _call(fn: Callable, *args: Any) -> Any:
    # Progress is counted per finished task in the driver (from the stats each task returns), so the
    # worker needs no channel back to it.
    return fn(*args, progress=None)


class RayEngine:
    name = "ray"

    def __init__(self, workers: int | None = None, address: str | None = None, tmp_dir: str | None = None,
                 max_retries: int = 3):
        # Before Ray is imported: a Ray started here (and its workers) inherit the setting.
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        try:
            import ray
        except ImportError:
            raise ImportError("the ray engine needs Ray: pip install 'thresher[ray]'") from None
        self._ray = ray
        address = address or os.environ.get("RAY_ADDRESS")  # Ray's own convention, as `ray job submit` sets
        if address:
            # An existing cluster: its temporary folder and CPUs are its own; --workers caps the tasks
            # in flight at once (default: as many as the cluster schedules).
            ray.init(address=address, logging_level=logging.WARNING)
            self.workers = workers
        else:
            self.workers = workers or os.cpu_count() or 1
            # A Ray of our own, on loopback only: nothing outside this machine needs to reach it.
            ray.init(num_cpus=self.workers, _temp_dir=os.path.abspath(tmp_dir) if tmp_dir else None,
                     _node_ip_address="127.0.0.1",
                     include_dashboard=False, object_store_memory=_LOCAL_OBJECT_STORE_BYTES,
                     logging_level=logging.WARNING)
        self._remote = ray.remote(num_cpus=1, max_retries=max_retries, retry_exceptions=False)(_call)

    def map(self, fn: Callable, tasks: list[tuple], on_progress: Callable[[int], None]) -> Iterator[tuple[tuple, Any]]:
        """Run ``fn(*task, progress=...)`` for every task as a Ray task; yield (task, result or exception)
        as each ends."""
        ray = self._ray
        shared = self._put_shared(tasks)
        todo = list(reversed(tasks))  # popped from the end: submitted in plan order
        limit = self.workers or len(tasks)
        pending: dict[Any, tuple] = {}
        while todo or pending:
            while todo and len(pending) < limit:
                task = todo.pop()
                args = [shared.get(id(arg), arg) for arg in task]
                pending[self._remote.remote(fn, *args)] = task
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                task = pending.pop(ref)
                try:
                    result = ray.get(ref)
                except ray.exceptions.RayTaskError as exc:  # the task raised: hand on its own exception
                    yield task, exc.cause if isinstance(exc.cause, Exception) else exc
                    continue
                except ray.exceptions.RayError as exc:  # retries spent: worker deaths, node lost
                    yield task, exc
                    continue
                if isinstance(result, dict) and isinstance(result.get("read"), int):
                    on_progress(result["read"])
                yield task, result

    def _put_shared(self, tasks: list[tuple]) -> dict[int, Any]:
        """Arguments common to several tasks (the pipeline, the run directory, the shard list) go to the
        object store once instead of being pickled into every task."""
        seen: dict[int, int] = {}
        objects: dict[int, Any] = {}
        for task in tasks:
            for arg in task:
                seen[id(arg)] = seen.get(id(arg), 0) + 1
                objects[id(arg)] = arg
        return {key: self._ray.put(objects[key]) for key, n in seen.items() if n > 1}

    def close(self) -> None:
        # Disconnects from a cluster given by --address; stops the Ray this engine started.
        self._ray.shutdown()
