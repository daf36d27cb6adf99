"""BatchManager: the seed's API — create, claim, cancel, resume, progress — for one process (any non-GUI thread).

``BatchManager.cancel(job_id)`` may be called from any thread or process: it records the request
in the store, cancels pending batches, and trips the in-process token of a job this process
works on so its items stop at their next check.  Other processes see the request through their
``CancelWatcher``.
"""
from __future__ import annotations

import logging
import threading
from collections import defaultdict
from typing import Any, Iterable, Iterator

from lumina_desktop.core.jobs import BatchRow, JobState
from lumina_desktop.jobs.engine.guard import DatabaseGuard
from lumina_desktop.jobs.engine.store import JobStore

log = logging.getLogger(__name__)


def chunked(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class Counters:
    """Live figures of this process: busy batch threads, items done, and in-flight item fractions."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._finished_items = 0
        self._running_items: dict[int, int] = {}  # batch id -> items done (set by its thread, no lock)
        self.busy = 0
        self._partial: dict[int, dict[int, float]] = defaultdict(dict)  # job -> thread -> fraction

    @property
    def items_done(self) -> int:
        return self._finished_items + sum(list(self._running_items.values()))

    def batch_items(self, batch_id: int, n: int) -> None:
        """Items a running batch has done so far (one dict store per item: no lock)."""
        self._running_items[batch_id] = n

    def batch_over(self, batch_id: int) -> None:
        with self._lock:
            self._finished_items += self._running_items.pop(batch_id, 0)

    def running(self, delta: int) -> None:
        with self._lock:
            self.busy += delta

    def set_partial(self, job_id: int, fraction: float) -> None:
        with self._lock:
            self._partial[job_id][threading.get_ident()] = fraction

    def clear_partial(self, job_id: int) -> None:
        with self._lock:
            self._partial[job_id].pop(threading.get_ident(), None)

    def partial(self, job_id: int) -> float:
        with self._lock:
            return sum(self._partial.get(job_id, {}).values())


class BatchManager:
    """All batch bookkeeping for one process (its ``worker_id``), backed by the job store."""

    def __init__(self, store: JobStore, worker_id: str) -> None:
        self.store = store
        self.worker_id = worker_id
        self.counters = Counters()
        self._tokens: dict[int, threading.Event] = {}
        self._tokens_lock = threading.Lock()

    # -- tokens (in-process cancel)
    def token(self, job_id: int) -> threading.Event:
        with self._tokens_lock:
            return self._tokens.setdefault(job_id, threading.Event())

    def live_token(self, job_id: int) -> threading.Event:
        """The job's token for new work: a token already tripped (a cancel that is over) is
        replaced, never cleared, so threads still stopping on it stay stopped."""
        with self._tokens_lock:
            ev = self._tokens.get(job_id)
            if ev is None or ev.is_set():
                ev = self._tokens[job_id] = threading.Event()
            return ev

    def prune_tokens(self, keep: set[int]) -> None:
        """Forget the tokens of jobs this process no longer works on."""
        with self._tokens_lock:
            for job_id in [j for j in self._tokens if j not in keep]:
                del self._tokens[job_id]

    def drop_token(self, job_id: int) -> None:
        with self._tokens_lock:
            self._tokens.pop(job_id, None)

    def cancel_local(self, job_id: int) -> None:
        with self._tokens_lock:
            ev = self._tokens.get(job_id)
        if ev is not None:
            ev.set()

    def watched_jobs(self) -> list[int]:
        with self._tokens_lock:
            return [j for j, ev in self._tokens.items() if not ev.is_set()]

    def all_jobs(self) -> list[int]:
        with self._tokens_lock:
            return list(self._tokens)

    # -- the API of the seed
    def create_batches(self, tx: Any, job_id: int, items: Iterable[Any], batch_size: int) -> int:
        """Split work items into batches (caller's transaction).  Returns the number of items."""
        total, seq = 0, 0
        for chunk_of_batches in chunked(chunked(items, batch_size), 200):
            self.store.insert_batches(tx, job_id, seq, chunk_of_batches)
            seq += len(chunk_of_batches)
            total += sum(len(b) for b in chunk_of_batches)
        return total

    def claim(self, limit: int, *, job_id: int | None = None, kinds: list[str] | None = None) -> list[BatchRow]:
        return self.store.claim_batches(self.worker_id, limit, job_id=job_id, kinds=kinds)

    def cancel(self, job_id: int) -> JobState | None:
        """Request cancellation (any thread, any process); returns the job's new state."""
        self.cancel_local(job_id)
        return self.store.request_cancel(job_id)

    def resume(self, job_id: int) -> bool:
        return self.store.resume(job_id)

    def progress(self, job_id: int) -> tuple[int, int]:
        """(items stored, items total): progress never counts more than is stored."""
        return self.store.stored_progress(job_id)


class CancelWatcher:
    """Polls the store for cancel requests of jobs this process works on and trips their tokens.

    This is how a Cancel pressed in another process (or the CLI) reaches our items within one
    check: one cheap query every ``interval_s`` while any job is active here.
    """

    def __init__(self, manager: BatchManager, interval_s: float = 0.1, *, guard: DatabaseGuard | None = None) -> None:
        self.manager = manager
        self.interval_s = interval_s
        self.guard = guard
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="lumina-cancel-watch", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            watched = self.manager.watched_jobs()
            if not watched:
                continue
            if self.guard is not None and self.guard.is_lost:
                return  # nothing to poll: every job here stopped already
            try:
                hits = self.manager.store.cancel_requested_among(watched)
            except Exception as exc:
                if self.guard is not None and self.guard.is_lost_by(exc):
                    return
                log.warning("cancel poll failed: %s", exc)
                continue
            for job_id in hits:
                self.manager.cancel_local(job_id)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
