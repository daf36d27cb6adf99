"""The one worker pool for batch work (any thread).  Coordinators never run in it (house-style B2.4)."""
from __future__ import annotations

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
