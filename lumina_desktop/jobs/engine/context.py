"""What a kind's code receives: its environment, and contexts for cancel and progress (any thread).

``JobContext`` serves the coordinator's phases (discover, finalize); ``ItemContext`` is handed to
every item runner call on a worker thread, so a long item can stop within one check of Cancel
and move the bar while it works.
"""
from __future__ import annotations

import threading
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, TypeVar

from lumina_desktop.config import Settings
from lumina_desktop.core.errors import JobCancelled
from lumina_desktop.core.jobs import JobSnapshot

if TYPE_CHECKING:
    from lumina_desktop.jobs.engine.progress import ProgressTracker
    from lumina_desktop.jobs.engine.store import JobStore

T = TypeVar("T")


@dataclass(frozen=True)
class JobEnv:
    """Dependencies of job code, passed in (never globals)."""

    store: JobStore
    settings: Settings
    worker_id: str

    def transaction(self) -> AbstractContextManager[Any]:
        """A transaction for the kind's repositories (committed on success)."""
        return self.store.transaction()

    def read(self) -> AbstractContextManager[Any]:
        """A connection for reads (e.g. an item runner fetching its inputs)."""
        return self.store.transaction()


@dataclass
class JobContext:
    """Cancel token and progress reporting for the coordinator's phases (discover, finalize)."""

    env: JobEnv
    job: JobSnapshot
    params: Any
    token: threading.Event
    tracker: ProgressTracker
    phase_name: str = field(default="")
    # during discovery: the transaction that also creates the batches (atomic with them)
    tx: Any = None
    # statistics of discovery, saved with the batches and kept for finalize (survives resume)
    discovery: dict[str, Any] = field(default_factory=dict)

    def check_cancelled(self) -> None:
        if self.token.is_set():
            raise JobCancelled(f"job {self.job.id} cancelled")

    def phase(self, name: str, message: str = "", done: int = 0, total: int = 0) -> None:
        """Enter phase ``name`` (``done`` of ``total`` already: a resumed job's stored work)."""
        self.phase_name = name
        self.tracker.update(name, done, total, message, force=True)

    def progress(self, done: int, total: int, message: str = "") -> None:
        self.tracker.update(self.phase_name, done, total, message)

    def iterate(self, items: Iterable[T], total: int | None = None, message: str = "") -> Iterator[T]:
        """Yield items, checking cancel before each and reporting progress."""
        n = total if total is not None else (len(items) if hasattr(items, "__len__") else 0)  # type: ignore[arg-type]
        for i, item in enumerate(items):
            self.check_cancelled()
            yield item
            self.progress(i + 1, max(n, i + 1), message)


@dataclass
class ItemContext:
    """Given to each item runner call: ``check_cancelled()`` and ``progress(fraction)``."""

    env: JobEnv
    job: JobSnapshot
    params: Any
    token: threading.Event
    on_progress: Callable[[float], None] = field(default=lambda f: None)

    def check_cancelled(self) -> None:
        """Raises ``JobCancelled`` once Cancel was pressed anywhere (call it at least every ~0.1 s)."""
        if self.token.is_set():
            raise JobCancelled(f"job {self.job.id} cancelled")

    def progress(self, fraction: float) -> None:
        """How far this item is (0–1); moves the bar during a long item.  Also checks cancel."""
        self.on_progress(min(max(float(fraction), 0.0), 1.0))
        self.check_cancelled()


@dataclass(frozen=True)
class BatchInfo:
    """The batch a worker is running (for kinds that need its id or attempt number)."""

    id: int
    job_id: int
    seq: int
    attempt: int
    catalog_id: int | None = None
