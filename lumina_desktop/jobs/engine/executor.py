"""The worker pool for batch work and the lanes that bound it (any thread).

One ``ThreadPoolExecutor(BACKGROUND_WORKERS)`` per process runs batches; coordinators never run
in it (house-style B2.4).  Each item runs holding a slot of its kind's lane:

* CPU — one slot per core.  More decoders than cores only fight over the GIL: on 2 cores, 8
  concurrent decodes were slower than 2 and stalled the GUI thread ~100 ms (p99); with the
  limit, ≤ 20 ms.  The pool keeps more threads so file reads and commits overlap.
* IO — every worker thread.
* ACCELERATOR — one at a time (one model on one device).

A low-priority kind yields: it takes a free slot only while no normal-priority item waits for
one, and never the last free CPU slot while normal work of the lane runs, so scans and the
window's own work go first.
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Iterator

from lumina_desktop.config import DEFAULT_WORKERS
from lumina_desktop.jobs.engine.kind import Lane

_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None
_size = 0


def get_executor(workers: int | None = None) -> ThreadPoolExecutor:
    """The process-wide batch pool, sized by ``BACKGROUND_WORKERS`` on first use."""
    global _executor, _size
    with _lock:
        if _executor is None:
            _size = workers or DEFAULT_WORKERS
            _executor = ThreadPoolExecutor(max_workers=_size, thread_name_prefix="lumina-worker")
        return _executor


def executor_size() -> int:
    return _size


def shutdown_executor(*, wait: bool = True) -> None:
    """Cancel queued work and stop the pool (a later ``get_executor`` makes a new one)."""
    global _executor
    with _lock:
        ex, _executor = _executor, None
    if ex is not None:
        ex.shutdown(wait=wait, cancel_futures=True)


class LaneSlots:
    """A counting semaphore where normal-priority waiters go before low-priority ones.

    ``acquire``/``release`` take the lock once each and notify only when someone waits: this
    runs around every item, so it must cost about a microsecond.
    """

    def __init__(self, size: int) -> None:
        self.size = max(1, size)
        self._free = self.size
        self._normal_waiting = 0
        self._normal_running = 0
        self._waiting = 0
        self._cond = threading.Condition(threading.Lock())

    def acquire(self, is_low_priority: bool = False) -> None:
        with self._cond:
            if is_low_priority:
                # yield to normal work: wait while any normal item waits, and keep one slot for it
                while self._free == 0 or self._normal_waiting or \
                        (self._normal_running and self._free <= 1 and self.size > 1):
                    self._waiting += 1
                    self._cond.wait()
                    self._waiting -= 1
            else:
                if self._free == 0:
                    self._normal_waiting += 1
                    self._waiting += 1
                    while self._free == 0:
                        self._cond.wait()
                    self._waiting -= 1
                    self._normal_waiting -= 1
                self._normal_running += 1
            self._free -= 1

    def release(self, is_low_priority: bool = False) -> None:
        with self._cond:
            self._free += 1
            if not is_low_priority:
                self._normal_running -= 1
            if self._waiting:
                self._cond.notify_all()

    @contextmanager
    def slot(self, *, is_low_priority: bool = False) -> Iterator[None]:
        self.acquire(is_low_priority)
        try:
            yield
        finally:
            self.release(is_low_priority)


class Lanes:
    """The slots of each lane for one process."""

    def __init__(self, *, cpu: int | None = None, io: int = DEFAULT_WORKERS, accelerator: int = 1) -> None:
        self._slots = {Lane.CPU: LaneSlots(cpu or os.cpu_count() or 1), Lane.IO: LaneSlots(io),
                       Lane.ACCELERATOR: LaneSlots(accelerator)}

    def slot(self, lane: Lane, *, is_low_priority: bool = False):  # type: ignore[no-untyped-def]
        return self._slots[lane].slot(is_low_priority=is_low_priority)

    def slots(self, lane: Lane) -> LaneSlots:
        return self._slots[lane]


_lanes_lock = threading.Lock()
_lanes: Lanes | None = None


def process_lanes() -> Lanes:
    """The lanes shared by every engine of this process (the window's coordinator, a worker)."""
    global _lanes
    with _lanes_lock:
        if _lanes is None:
            _lanes = Lanes(io=max(DEFAULT_WORKERS, _size or 0))
        return _lanes


__all__ = ["Executor", "LaneSlots", "Lanes", "get_executor", "process_lanes", "shutdown_executor"]
