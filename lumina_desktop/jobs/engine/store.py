"""The engine's persistence port (any thread): what the coordinator, runner and worker need.

Two implementations: ``db.jobs.PgJobStore`` (PostgreSQL; all SQL lives in ``db/``) and
``jobs.engine.testing.MemoryJobStore`` (dicts, for unit tests of kinds without a server).
"""
from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, Collection, Mapping, Protocol, Sequence

from lumina_desktop.core.changes import Aspect
from lumina_desktop.core.jobs import BatchRow, BatchState, JobSnapshot, JobState


class JobStore(Protocol):
    # -- transactions for kinds' repositories
    def transaction(self) -> AbstractContextManager[Any]: ...

    # -- process liveness
    def attach(self, worker_id: str, role: str, threads: int, lease_s: float | None = None) -> None:
        """Register this process and hold its liveness lock until ``detach`` (or death, or
        ``lease_s`` without a heartbeat)."""
    def detach(self, worker_id: str, *, record: bool = True) -> None: ...
    def heartbeat(self, worker_id: str, busy: int, queued: int, items_done: int) -> None: ...
    def recover_dead(self) -> list[int]:
        """Jobs whose owner is gone become ``interrupted``; dead workers' batches go back to pending."""
    def lost_reason(self, exc: BaseException) -> str | None:
        """The cause in words if ``exc`` means the database is gone (not a passing error); else None."""

    # -- jobs
    def create_job(self, kind: str, catalog_id: int | None, params: Mapping[str, Any], *,
                   parent_job_id: int | None = None, owner: str | None = None) -> int:
        """A pending job; with ``owner`` reserved for that process (no other one picks it up)."""
    def get_job(self, job_id: int) -> JobSnapshot | None: ...
    def take_ownership(self, job_id: int, owner: str) -> bool: ...
    def pending_jobs(self, kinds: Sequence[str]) -> list[int]: ...
    def job_state(self, job_id: int) -> tuple[JobState, bool, str | None] | None:
        """(state, cancel requested, owner)."""
    def cancel_requested_among(self, job_ids: Sequence[int]) -> list[int]: ...
    def request_cancel(self, job_id: int, *, owner: str | None = None) -> JobState | None:
        """Cancel a job (after the liveness rule); with ``owner``, only while that process owns it."""
    def resume(self, job_id: int) -> bool: ...
    def finish(self, job_id: int, owner: str, state: JobState, *, error: str | None = None,
               result: Mapping[str, Any] | None = None,
               follow_ons: Sequence[tuple[str, Mapping[str, Any]]] = ()) -> list[int] | None:
        """Final state, history row and follow-on jobs in one transaction; returns their ids.
        None: the transition was refused (cancel requested meanwhile, or no longer the owner)."""
    def leave_interrupted(self, job_id: int, owner: str) -> None: ...

    # -- discovery
    def is_discovered(self, job_id: int) -> bool: ...
    def reset_batches(self, tx: Any, job_id: int) -> None: ...
    def insert_batches(self, tx: Any, job_id: int, first_seq: int, batches: Sequence[list[Any]]) -> None: ...
    def save_discovery(self, tx: Any, job_id: int, stats: Mapping[str, Any]) -> None: ...
    def discovery(self, job_id: int) -> dict[str, Any]: ...
    def record_item_errors(self, tx: Any, job_id: int, batch_id: int | None,
                           errors: Sequence[tuple[str, str, str]]) -> None: ...

    # -- batches
    def claim_batches(self, owner: str, limit: int, *, job_id: int | None = None,
                      kinds: Sequence[str] | None = None) -> list[BatchRow]: ...
    def commit_batch(self, tx: Any, batch: BatchRow, owner: str, *, done_items: int, succeeded: int,
                     failed: int, counters: Mapping[str, int], is_final: bool, duration_s: float) -> bool:
        """Record how far a claimed batch got (with its results, in ``tx``).  False: claim lost."""
    def record_changes(self, tx: Any, catalog_id: int, job_id: int | None, kind: str, photo_ids: Sequence[int],
                       aspects: Collection[Aspect]) -> None:
        """The change feed: these photos (none: not itemised) changed in these aspects, and its
        listeners are told (``tx``: with that transaction's commit; None: now)."""
    def release_batch(self, batch: BatchRow, state: BatchState, error: str | None = None) -> None:
        """Give up this claim of a batch (a later claim of the same batch is not touched)."""
    def requeue_cancelled(self, job_id: int) -> int:
        """Batches given up by a stopping process while the job runs on go back to pending."""
    def release_owned(self, owner: str, job_id: int | None, state: BatchState) -> None:
        """Batches this owner still has running: to ``state`` (cancelled, or pending to hand back)."""
    def cancel_pending_batches(self, job_id: int) -> None: ...
    def batch_summary(self, job_id: int) -> dict[str, tuple[int, int]]: ...
    def stored_progress(self, job_id: int) -> tuple[int, int]:
        """(items stored, items in all batches): the only ``done`` progress ever shows."""
    def batch_totals(self, job_id: int) -> dict[str, int]: ...
    def changed_photos(self, job_id: int) -> list[int]: ...

    # -- progress
    def publish_progress(self, job_id: int, *, phase: str, done: int, total: int, fraction: float,
                         message: str, rate: float | None, eta_s: float | None) -> None: ...
