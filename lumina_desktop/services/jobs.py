"""JobService: start, cancel and resume jobs, read them and their errors, listen for their events,
and read the change feed.  The window and the CLI use this; neither touches the job tables.

Every read of a job's state applies the liveness rule first (``db.jobs.recover_dead``): a job
whose process died shows as ``interrupted`` at once, so a list, a watch, a cancel and a resume
all see the same truth.  ``lost_message`` words a lost database for both the CLI and the window.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

from lumina_desktop.core.changes import Aspect, CatalogChange
from lumina_desktop.core.errors import DatabaseLost, NotFoundError
from lumina_desktop.core.jobs import ItemError, JobSnapshot, JobState
from lumina_desktop.db import changes as changes_db
from lumina_desktop.db import jobs as jobs_db
from lumina_desktop.db.listen import JobListener


class JobEvents(Protocol):
    """A LISTEN connection: job ids as their rows change, catalog ids as their photos change."""

    def wait(self, timeout_s: float) -> set[int]: ...
    def take_changed_catalogs(self) -> set[int]: ...
    def close(self) -> None: ...


class JobControl(Protocol):
    """The job engine the service hands actions to (the app's coordinator)."""

    def submit(self, kind: str, params: Mapping[str, Any] | None = None, *, catalog_id: int | None = None) -> int: ...
    def cancel(self, job_id: int) -> Any: ...
    def resume(self, job_id: int) -> Any: ...


class Jobs(Protocol):
    """What the window's job bridge needs (a fake in widget tests)."""

    def listen(self) -> JobEvents: ...
    def recent(self, limit: int) -> list[JobSnapshot]: ...
    def jobs(self, ids: Sequence[int]) -> list[JobSnapshot]: ...
    def item_errors(self, job_id: int, limit: int) -> list[ItemError]: ...
    def submit(self, kind: str, params: Mapping[str, Any] | None = None, *, catalog_id: int | None = None) -> int: ...
    def cancel(self, job_id: int) -> Any: ...
    def resume(self, job_id: int) -> Any: ...
    def latest_change(self) -> int: ...
    def changes_since(self, seq: int) -> list[CatalogChange]: ...


class JobService:
    """:class:`Jobs` on the catalog database, with ``control`` (a coordinator) for actions."""

    def __init__(self, db: Any, control: JobControl | None = None) -> None:
        self._db = db
        self.control = control

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        """A pooled connection; a database that is gone raises ``DatabaseLost`` (the cause in
        words), not a driver error."""
        try:
            with self._db.connection() as conn:
                yield conn
        except DatabaseLost:
            raise
        except Exception as exc:
            reason = jobs_db.lost_reason(exc, self._db.conninfo)
            if reason is not None:
                raise DatabaseLost(reason) from None
            raise

    # -- actions
    def _engine(self) -> JobControl:
        if self.control is None:
            raise RuntimeError("no job engine is running in this process")
        return self.control

    def submit(self, kind: str, params: Mapping[str, Any] | None = None, *, catalog_id: int | None = None) -> int:
        return self._engine().submit(kind, params, catalog_id=catalog_id)

    def cancel(self, job_id: int) -> Any:
        return self._engine().cancel(job_id)

    def resume(self, job_id: int) -> Any:
        return self._engine().resume(job_id)

    # -- reads (each after the liveness rule: a dead owner's job reads as interrupted)
    def get(self, job_id: int) -> JobSnapshot | None:
        with self._connection() as conn:
            jobs_db.recover_dead(conn)
            return jobs_db.get_job(conn, job_id)

    def jobs(self, ids: Sequence[int]) -> list[JobSnapshot]:
        with self._connection() as conn:
            jobs_db.recover_dead(conn)
            return jobs_db.get_jobs(conn, list(ids))

    def recent(self, limit: int = 50, *, catalog_id: int | None = None, active_only: bool = False,
               parent_job_id: int | None = None) -> list[JobSnapshot]:
        """Newest first."""
        with self._connection() as conn:
            jobs_db.recover_dead(conn)
            return jobs_db.list_jobs(conn, catalog_id=catalog_id, limit=limit, active_only=active_only,
                                     parent_job_id=parent_job_id)

    def item_errors(self, job_id: int, limit: int = 1000) -> list[ItemError]:
        with self._connection() as conn:
            return jobs_db.list_item_errors(conn, job_id, limit)

    def recover_dead(self) -> list[int]:
        """Jobs whose process died are marked interrupted (resumable); returns their ids."""
        with self._connection() as conn:
            return jobs_db.recover_dead(conn)

    def listen(self, *, changes: bool = True) -> JobListener:
        return JobListener(self._db.conninfo, changes=changes)

    # -- the change feed
    def latest_change(self) -> int:
        with self._connection() as conn:
            return changes_db.latest_seq(conn)

    def changes_since(self, seq: int) -> list[CatalogChange]:
        with self._connection() as conn:
            return changes_db.changes_since(conn, seq)

    def record_change(self, catalog_id: int, aspects: frozenset[Aspect], photo_ids: Sequence[int] = (),
                      *, what: str = "user") -> None:
        """A change made outside jobs (a folder removed, say), for every open window."""
        with self._connection() as conn:
            changes_db.record_changes(conn, catalog_id, None, what, photo_ids, aspects)

    # -- from any process, without an engine here (the CLI)
    def request_cancel(self, job_id: int) -> JobState:
        """Ask whichever process runs the job to cancel it (no engine needed in this one); returns
        its new state.  NotFoundError if there is no such job."""
        with self._connection() as conn, conn.transaction():
            jobs_db.recover_dead(conn)  # a dead owner's job is interrupted, and so cancels at once
            state = jobs_db.request_cancel(conn, job_id)
        if state is None:
            raise NotFoundError(f"no job with id {job_id}")
        return state

    def requeue(self, job_id: int) -> bool:
        """Put a cancelled, interrupted or failed job back in the queue without running it here (a
        window or ``lumina-desktop worker`` picks it up).  False if it is in no such state."""
        with self._connection() as conn, conn.transaction():
            jobs_db.recover_dead(conn)
            return jobs_db.resume_job(conn, job_id)

    def batch_summary(self, job_id: int) -> dict[str, tuple[int, int]]:
        """The job's batches by state: (batches, items in them)."""
        with self._connection() as conn:
            return jobs_db.batch_summary(conn, job_id)

    def processes(self, alive_within_s: float = 30) -> list[dict[str, Any]]:
        """Live processes that run jobs (windows, CLI commands, workers), oldest first: worker_id,
        host, pid, role, threads, busy, queued, items_done, started_at, heartbeat_at."""
        with self._connection() as conn:
            return jobs_db.worker_stats(conn, alive_within_s=alive_within_s)

    def throughput(self, since_hours: float = 24 * 30) -> list[dict[str, Any]]:
        """Jobs that succeeded in the period, by kind: kind, jobs, items, seconds, items_per_s."""
        with self._connection() as conn:
            return jobs_db.throughput_by_kind(conn, since_hours)

    def prune_finished(self, older_than_days: float) -> int:
        """Delete finished jobs older than this (their history rows stay) and change-feed rows as
        old; returns how many jobs."""
        with self._connection() as conn:
            return jobs_db.prune_finished(conn, older_than_days)


def lost_message(lost: DatabaseLost, *, resume_command: Callable[[int], str] | None = None,
                 embedded: bool = True) -> str:
    """One line for a lost database: the cause, the jobs it stopped and how to go on.
    ``resume_command(job_id)`` gives the exact command line (the CLI); without it the window's
    wording (restart the server, then resume)."""
    text = lost.args[0] if lost.args else f"lost the connection to the catalog database: {lost.reason}"
    ids = lost.job_ids
    if not ids:
        return text + (". Start the server again (any command does)" if embedded and resume_command else "")
    which = f"job {ids[0]}" if len(ids) == 1 else "jobs " + ", ".join(map(str, ids))
    it = "it" if len(ids) == 1 else "them"
    if resume_command is None:
        return f"{text}. {which.capitalize()} stopped; restart the server to resume {it}"
    cmds = " and ".join(resume_command(i) for i in ids)
    after = " (this starts the server again)" if embedded else " once the server is back"
    return f"{text}. {which.capitalize()} stopped; resume {it} with: {cmds}{after}"
