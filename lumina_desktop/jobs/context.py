"""What a job kind's code receives: its environment and a context for cancel and progress (any thread)."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, TypeVar

from lumina_desktop.config import Settings
from lumina_desktop.core.errors import JobCancelled
from lumina_desktop.core.jobs import JobSnapshot
from lumina_desktop.db.pool import Database
from lumina_desktop.jobs.progress import ProgressTracker

T = TypeVar("T")


@dataclass(frozen=True)
class JobEnv:
    """Dependencies of job code, passed in (never globals)."""

    db: Database
    settings: Settings
    worker_id: str


@dataclass
class JobContext:
    """Cancel token and progress reporting for the coordinator's phases (discover, finalize)."""

    env: JobEnv
    job: JobSnapshot
    token: threading.Event
    tracker: ProgressTracker
    phase_name: str = field(default="")
    # during discovery: the transaction that also creates the batches (atomic with them)
    conn: Any = None
    # statistics of discovery, saved with the batches and kept for finalize (survives resume)
    discovery: dict[str, Any] = field(default_factory=dict)

    def check_cancelled(self) -> None:
        if self.token.is_set():
            raise JobCancelled(f"job {self.job.id} cancelled")

    def phase(self, name: str, message: str = "") -> None:
        self.phase_name = name
        self.tracker.update(name, 0, 0, message, force=True)

    def progress(self, done: int, total: int, message: str = "") -> None:
        self.tracker.update(self.phase_name, done, total, message)

    def iterate(self, items: Iterable[T], total: int | None = None, message: str = "") -> Iterator[T]:
        """Yield items, checking cancel before each and reporting progress."""
        n = total if total is not None else (len(items) if hasattr(items, "__len__") else 0)  # type: ignore[arg-type]
        for i, item in enumerate(items):
            self.check_cancelled()
            yield item
            self.progress(i + 1, max(n, i + 1), message)


@dataclass(frozen=True)
class BatchInfo:
    """The batch a worker is running (for kinds that need its id or attempt number)."""

    id: int
    job_id: int
    seq: int
    attempt: int
