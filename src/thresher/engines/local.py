"""The local engine: shard tasks in a process pool sized to the cores (or in this process for 1 worker)."""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any

_counter = None  # per worker: a shared counter of documents processed, for the progress line


def _init_worker(counter) -> None:
    global _counter
    _counter = counter


def _count(n: int) -> None:
    with _counter.get_lock():
        _counter.value += n


def _call(fn: Callable, args: tuple) -> Any:
    return fn(*args, progress=_count)


class LocalEngine:
    name = "local"

    def __init__(self, workers: int | None = None):
        self.workers = workers or os.cpu_count() or 1

    def map(self, fn: Callable, tasks: list[tuple], on_progress: Callable[[int], None]) -> Iterator[tuple[tuple, Any]]:
        """Run ``fn(*task, progress=...)`` for every task; yield (task, result or exception) as each ends."""
        if self.workers == 1 or len(tasks) <= 1:
            for task in tasks:
                try:
                    yield task, fn(*task, progress=on_progress)
                except Exception as exc:  # noqa: BLE001 - reported by the driver, the run goes on
                    yield task, exc
            return
        ctx = mp.get_context("fork")
        counter = ctx.Value("q", 0)
        seen = 0
        with ProcessPoolExecutor(max_workers=min(self.workers, len(tasks)), mp_context=ctx,
                                 initializer=_init_worker, initargs=(counter,)) as pool:
            pending = {pool.submit(_call, fn, task): task for task in tasks}
            while pending:
                done, _ = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                if counter.value != seen:
                    on_progress(counter.value - seen)
                    seen = counter.value
                for future in done:
                    task = pending.pop(future)
                    try:
                        yield task, future.result()
                    except Exception as exc:  # noqa: BLE001 - includes a killed worker (BrokenProcessPool)
                        yield task, exc

    def close(self) -> None:
        pass
