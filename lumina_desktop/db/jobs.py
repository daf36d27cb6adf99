"""Job engine SQL: jobs, batches, progress, history, item errors, process liveness (any non-GUI thread).

The module functions take a connection and leave transaction control to the caller.
``PgJobStore`` is the engine's store (``jobs.engine.store.JobStore``) over a pool: every state
change is guarded by the transitions of ``core.jobs`` (``sources_of``), and no state is spelled
here as a literal.

Liveness: every process that owns jobs or claims batches holds a session-level advisory lock
(``LIVENESS_LOCK_NS``, its ``job_workers.lock_key``) on a connection of its own.  The server
drops it the moment the process dies, so ``recover_dead`` sees a dead owner at once, from any
process on any machine, with no stale-heartbeat delay.  The liveness session also has a lease
(``idle_session_timeout``): the heartbeat uses it every few seconds, so only a process that stops
running without dying (SIGSTOP, a hung machine) lets it lapse; the server then ends the session,
the lock goes, and its jobs can be taken over.  ``recover_dead`` is the one liveness rule: every
command that shows, watches, cancels or resumes a job applies it first.

``lost_reason`` tells a lost database (the server stopped, or cannot be reached) from a passing
error on one connection, by asking the server once.
"""
from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Collection, Iterable, Iterator, Mapping, Sequence

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from lumina_desktop.config import mask_url
from lumina_desktop.core.changes import Aspect
from lumina_desktop.db import changes
from lumina_desktop.db.changes import CHANGES_CHANNEL
from lumina_desktop.core.jobs import (
    ACTIVE_STATES,
    FINISHED_STATES,
    BatchRow,
    BatchState,
    ItemError,
    JobProgress,
    JobSnapshot,
    JobState,
    sources_of,
    values,
)

log = logging.getLogger(__name__)
NOTIFY_CHANNEL = "lumina_jobs"
LIVENESS_LOCK_NS = 0x4C4A  # "LJ": the first key of every process's liveness lock

_ACTIVE = values(ACTIVE_STATES)
_FINISHED = values(FINISHED_STATES)
_OWNED = [JobState.RUNNING.value, JobState.CANCELLING.value]
R = JobState.RUNNING.value

__all__ = ["BatchRow", "PgJobStore", "NOTIFY_CHANNEL", "CHANGES_CHANNEL"]


# ------------------------------------------------------------------ a lost database

PROBE_TIMEOUT_S = 2
SETTLE_S = 3.0  # a server restarting after a crash of one backend is given this long to answer


def _first_line(exc: BaseException) -> str:
    lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
    return mask_url(lines[0] if lines else type(exc).__name__)[:300]


def is_connection_error(exc: BaseException) -> bool:
    """An error about the connection or the server itself (not about a statement: a conflict, a
    constraint, a timeout of one query are answered by a live server)."""
    if isinstance(exc, psycopg.InterfaceError):
        return True
    if not isinstance(exc, psycopg.OperationalError) or isinstance(exc, psycopg.errors.QueryCanceled):
        return False
    state = getattr(exc, "sqlstate", None)
    return state is None or state.startswith(("08", "57P"))


def probe_server(conninfo: str, timeout_s: float = PROBE_TIMEOUT_S) -> psycopg.Error | None:
    """None if the server answers a query on a new connection; else the error it gave."""
    try:
        with psycopg.connect(conninfo, connect_timeout=max(1, int(timeout_s)), autocommit=True,
                             application_name="lumina-probe") as conn:
            conn.execute("SELECT 1")
        return None
    except psycopg.Error as exc:
        return exc


def lost_reason(exc: BaseException, conninfo: str, *, settle_s: float = SETTLE_S) -> str | None:
    """Why the database is gone, if ``exc`` (caught anywhere) means it is: the cause in words.
    None when the server answers (one broken connection, say) or ``exc`` is not about the
    connection at all.  Blocks at most about ``settle_s`` + the probe's connect timeout."""
    if not is_connection_error(exc):
        return None
    deadline = time.monotonic() + settle_s
    while True:
        err = probe_server(conninfo)
        if err is None:
            return None
        text = str(err).lower()
        if "too many clients" in text or "connection slots" in text:
            return None  # busy, but alive
        coming_back = "starting up" in text or "recovery mode" in text or "not yet accepting" in text
        if not coming_back or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    if "shutting down" in text:
        state = "the database server is shutting down"
    elif coming_back:
        state = "the database server is restarting after a crash"
    elif "refused" in text or "no such file" in text or "could not connect" in text:
        state = "the database server is not running"
    else:
        state = f"the database server does not answer ({_first_line(err)})"
    return f"{state} ({_first_line(exc)})"


# ------------------------------------------------------------------ processes

def worker_stats(conn: psycopg.Connection, alive_within_s: float) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT worker_id, host, pid, role, threads, busy, queued, items_done, started_at, heartbeat_at "
            "FROM job_workers WHERE stopped_at IS NULL AND heartbeat_at > now() - make_interval(secs => %s) "
            "ORDER BY started_at", (alive_within_s,)).fetchall()


def throughput_by_kind(conn: psycopg.Connection, since_hours: float = 24 * 30) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT kind, count(*) AS jobs, sum(items_total) AS items, sum(duration_s) AS seconds, "
            "sum(items_total) / nullif(sum(duration_s), 0) AS items_per_s FROM job_history "
            "WHERE finished_at > now() - make_interval(hours => %s) AND state = %s "
            "GROUP BY kind ORDER BY kind", (since_hours, JobState.SUCCEEDED.value)).fetchall()


_LIVE = """
SELECT w.worker_id FROM job_workers w JOIN pg_locks l
  ON l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
 AND l.classid::bigint = %(ns)s AND l.objid::bigint = w.lock_key
WHERE w.stopped_at IS NULL
"""


def recover_dead(conn: psycopg.Connection) -> list[int]:
    """Jobs whose owner holds no liveness lock: running → interrupted, cancelling → cancelled.
    Batches claimed by a dead process go back to pending (they keep how far they got)."""
    args = {"ns": LIVENESS_LOCK_NS, "owned": _OWNED, "r": R, "int": JobState.INTERRUPTED.value,
            "pending": BatchState.PENDING.value, "running": BatchState.RUNNING.value}
    rows = conn.execute(
        f"SELECT id, state FROM jobs WHERE state = ANY(%(owned)s) "
        f"AND (owner IS NULL OR owner NOT IN ({_LIVE})) FOR UPDATE SKIP LOCKED", args).fetchall()
    ids = []
    for job_id, state in rows:
        if state == JobState.CANCELLING.value:
            finish_job(conn, job_id, JobState.CANCELLED)
        else:
            conn.execute("UPDATE jobs SET state = %(int)s, owner = NULL WHERE id = %(id)s",
                         {**args, "id": job_id})
            notify(conn, job_id)
        ids.append(job_id)
    # (rows a paused process holds locked are skipped, never waited for: the next pass takes them)
    conn.execute(
        f"UPDATE job_batches SET state = %(pending)s, claimed_by = NULL WHERE id IN ("
        f"SELECT id FROM job_batches WHERE state = %(running)s "
        f"AND (claimed_by IS NULL OR claimed_by NOT IN ({_LIVE})) FOR UPDATE SKIP LOCKED)", args)
    # queued jobs reserved by a process that died before starting them: anyone may take them
    conn.execute(f"UPDATE jobs SET owner = NULL WHERE id IN (SELECT id FROM jobs WHERE state = %(p)s "
                 f"AND owner IS NOT NULL AND owner NOT IN ({_LIVE}) FOR UPDATE SKIP LOCKED)",
                 {**args, "p": JobState.PENDING.value})
    return ids


# ------------------------------------------------------------------ jobs

_JOB_SELECT = """
SELECT j.id, j.catalog_id, j.kind, j.state, j.params, j.owner, j.created_at, j.started_at,
       j.finished_at, j.error, j.result, j.cancel_requested,
       (SELECT count(*) FROM job_item_errors e WHERE e.job_id = j.id)::int AS item_errors,
       p.phase, p.done, p.total, p.fraction, p.message, p.rate, p.eta_s, p.updated_at AS p_updated,
       j.parent_job_id
FROM jobs j LEFT JOIN job_progress p ON p.job_id = j.id
"""


def _snapshot(r: dict[str, Any]) -> JobSnapshot:
    prog = None
    if r["phase"] is not None:
        prog = JobProgress(r["id"], r["phase"], r["done"], r["total"], r["fraction"], r["message"],
                           r["rate"], r["eta_s"], r["p_updated"])
    return JobSnapshot(r["id"], r["catalog_id"], r["kind"], JobState(r["state"]), r["params"], r["owner"],
                       r["created_at"], r["started_at"], r["finished_at"], r["error"], r["result"],
                       r["item_errors"], r["cancel_requested"], prog, r["parent_job_id"])


def create_job(conn: psycopg.Connection, kind: str, catalog_id: int | None, params: Mapping[str, Any], *,
               parent_job_id: int | None = None, owner: str | None = None) -> int:
    """A pending job; with ``owner``, reserved for that process (no other one picks it up)."""
    row = conn.execute("INSERT INTO jobs (kind, catalog_id, params, parent_job_id, owner) VALUES (%s, %s, %s, %s, %s) "
                       "RETURNING id", (kind, catalog_id, Jsonb(dict(params)), parent_job_id, owner)).fetchone()
    assert row is not None
    conn.execute("INSERT INTO job_progress (job_id, phase, message) VALUES (%s, 'queued', 'Waiting to start')",
                 (row[0],))
    notify(conn, row[0])
    return int(row[0])


def get_job(conn: psycopg.Connection, job_id: int) -> JobSnapshot | None:
    with conn.cursor(row_factory=dict_row) as cur:
        r = cur.execute(_JOB_SELECT + " WHERE j.id = %s", (job_id,)).fetchone()
    return _snapshot(r) if r else None


def get_jobs(conn: psycopg.Connection, job_ids: Sequence[int]) -> list[JobSnapshot]:
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(_JOB_SELECT + " WHERE j.id = ANY(%s) ORDER BY j.id", (list(job_ids),)).fetchall()
    return [_snapshot(r) for r in rows]


def list_jobs(conn: psycopg.Connection, *, catalog_id: int | None = None, limit: int = 50,
              active_only: bool = False, parent_job_id: int | None = None) -> list[JobSnapshot]:
    where: list[str] = []
    args: list[Any] = []
    if parent_job_id is not None:
        where.append("j.parent_job_id = %s")
        args.append(parent_job_id)
    if catalog_id is not None:
        where.append("j.catalog_id = %s")
        args.append(catalog_id)
    if active_only:
        where.append("j.state = ANY(%s)")
        args.append(_ACTIVE)
    sql = _JOB_SELECT + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY j.id DESC LIMIT %s"
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(sql, (*args, limit)).fetchall()  # type: ignore[arg-type]
    return [_snapshot(r) for r in rows]


def take_ownership(conn: psycopg.Connection, job_id: int, owner: str) -> bool:
    row = conn.execute(
        "UPDATE jobs SET state = %s, owner = %s, heartbeat_at = now(), "
        "started_at = coalesce(started_at, now()) WHERE id = %s AND state = ANY(%s) "
        "AND (owner IS NULL OR owner = %s) AND NOT cancel_requested RETURNING id",
        (R, owner, job_id, [JobState.PENDING.value], owner)).fetchone()
    return row is not None


def mark_discovered(conn: psycopg.Connection, job_id: int) -> None:
    conn.execute("UPDATE jobs SET discovered = true WHERE id = %s", (job_id,))


def finish_job(conn: psycopg.Connection, job_id: int, state: JobState, *, error: str | None = None,
               result: Mapping[str, Any] | None = None, owner: str | None = None) -> bool:
    """Final state plus its ``job_history`` row, in the caller's transaction (guarded transition;
    with ``owner``, only while that process still owns the job).  False if the guard refused."""
    row = conn.execute(
        "UPDATE jobs SET state = %(s)s, finished_at = now(), error = %(e)s, result = %(r)s, "
        "cancel_requested = (%(s)s = %(c)s) AND cancel_requested WHERE id = %(id)s AND state = ANY(%(src)s) "
        "AND (%(o)s::text IS NULL OR owner = %(o)s) RETURNING id",
        {"s": state.value, "e": error, "r": Jsonb(dict(result)) if result is not None else None,
         "c": JobState.CANCELLED.value, "id": job_id, "src": sources_of(state), "o": owner}).fetchone()
    if row is None:
        return False
    conn.execute(
        """
        INSERT INTO job_history (job_id, catalog_id, kind, state, params, created_at, started_at,
                                 finished_at, duration_s, items_total, items_failed, error, result)
        SELECT j.id, j.catalog_id, j.kind, j.state, j.params, j.created_at, j.started_at, j.finished_at,
               extract(epoch FROM j.finished_at - coalesce(j.started_at, j.created_at)),
               coalesce((SELECT sum(item_count) FROM job_batches b WHERE b.job_id = j.id), 0),
               (SELECT count(*) FROM job_item_errors e WHERE e.job_id = j.id), j.error, j.result
        FROM jobs j WHERE j.id = %s
        ON CONFLICT (job_id) DO UPDATE SET state = EXCLUDED.state, finished_at = EXCLUDED.finished_at,
            duration_s = EXCLUDED.duration_s, items_total = EXCLUDED.items_total,
            items_failed = EXCLUDED.items_failed, error = EXCLUDED.error, result = EXCLUDED.result
        """, (job_id,))
    notify(conn, job_id)
    return True


def request_cancel(conn: psycopg.Connection, job_id: int, *, owner: str | None = None) -> JobState | None:
    """Record a cancel request; pending batches are cancelled at once.  Returns the new state.
    With ``owner``, only while that process owns the job (a process that stops cancels its own
    jobs, never one another process took over)."""
    row = conn.execute("SELECT state, owner FROM jobs WHERE id = %s FOR UPDATE", (job_id,)).fetchone()
    if row is None:
        return None
    state = JobState(row[0])
    if owner is not None and row[1] != owner:
        return state
    conn.execute("UPDATE job_batches SET state = %s WHERE job_id = %s AND state = %s",
                 (BatchState.CANCELLED.value, job_id, BatchState.PENDING.value))
    if state in (JobState.PENDING, JobState.INTERRUPTED):
        conn.execute("UPDATE jobs SET cancel_requested = true WHERE id = %s", (job_id,))
        finish_job(conn, job_id, JobState.CANCELLED)
        return JobState.CANCELLED
    if state == JobState.RUNNING:
        conn.execute("UPDATE jobs SET state = %s, cancel_requested = true WHERE id = %s",
                     (JobState.CANCELLING.value, job_id))
        notify(conn, job_id)
        return JobState.CANCELLING
    return state


def resume_job(conn: psycopg.Connection, job_id: int) -> bool:
    """Put a cancelled / interrupted / failed job back to pending; only unfinished work reruns
    (every batch keeps how many of its items are stored)."""
    row = conn.execute(
        "UPDATE jobs SET state = %s, cancel_requested = false, owner = NULL, error = NULL, "
        "finished_at = NULL, result = NULL WHERE id = %s AND state = ANY(%s) RETURNING id",
        (JobState.PENDING.value, job_id, sources_of(JobState.PENDING))).fetchone()
    if row is None:
        return False
    conn.execute(
        "UPDATE job_batches SET state = %s, claimed_by = NULL, attempts = 0, error = NULL "
        "WHERE job_id = %s AND state <> %s", (BatchState.PENDING.value, job_id, BatchState.SUCCEEDED.value))
    conn.execute("DELETE FROM job_history WHERE job_id = %s", (job_id,))
    reset_progress(conn, job_id)
    notify(conn, job_id)
    return True


def leave_interrupted(conn: psycopg.Connection, job_id: int, owner: str | None = None) -> None:
    """The owner quits but keeps the job resumable: unfinished batches go back to pending."""
    conn.execute("UPDATE jobs SET state = %s, owner = NULL WHERE id = %s AND state = ANY(%s) "
                 "AND (%s::text IS NULL OR owner = %s)",
                 (JobState.INTERRUPTED.value, job_id, [R, JobState.PENDING.value], owner, owner))
    conn.execute("UPDATE job_batches SET state = %s, claimed_by = NULL WHERE job_id = %s AND state = ANY(%s)",
                 (BatchState.PENDING.value, job_id, [BatchState.RUNNING.value, BatchState.CANCELLED.value]))
    notify(conn, job_id)


def prune_finished(conn: psycopg.Connection, older_than_days: float) -> int:
    """Delete old finished jobs with their batches and errors (``job_history`` keeps their record),
    and change-feed rows as old (no open window or follow-on still needs them)."""
    age_s = float(older_than_days) * 86400
    cur = conn.execute("DELETE FROM jobs WHERE state = ANY(%s) AND finished_at < now() - make_interval(secs => %s)",
                       (_FINISHED, age_s))
    conn.execute("DELETE FROM catalog_changes c WHERE c.created_at < now() - make_interval(secs => %s) "
                 "AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = c.job_id AND j.state = ANY(%s))",
                 (age_s, _ACTIVE))
    return cur.rowcount


# ------------------------------------------------------------------ batches

def insert_batches(conn: psycopg.Connection, job_id: int, first_seq: int, batches: Iterable[list[Any]]) -> int:
    rows = [(job_id, first_seq + i, Jsonb(items), len(items)) for i, items in enumerate(batches)]
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO job_batches (job_id, seq, items, item_count) VALUES (%s, %s, %s, %s) "
                        "ON CONFLICT (job_id, seq) DO NOTHING", rows)
    return len(rows)


def claim_batches(conn: psycopg.Connection, worker_id: str, limit: int, *, job_id: int | None = None,
                  kinds: Sequence[str] | None = None) -> list[BatchRow]:
    """Claim up to ``limit`` pending batches of running jobs (``FOR UPDATE SKIP LOCKED``)."""
    rows = conn.execute(
        """
        WITH c AS (
            SELECT b.id FROM job_batches b JOIN jobs j ON j.id = b.job_id
            WHERE b.state = %(pending)s AND j.state = %(r)s AND j.discovered AND NOT j.cancel_requested
              AND (%(job)s::bigint IS NULL OR b.job_id = %(job)s)
              AND (%(kinds)s::text[] IS NULL OR j.kind = ANY(%(kinds)s))
            ORDER BY b.job_id, b.seq
            LIMIT %(n)s
            FOR UPDATE OF b SKIP LOCKED)
        UPDATE job_batches b SET state = %(running)s, claimed_by = %(w)s, claimed_at = now(),
               attempts = b.attempts + 1, started_at = coalesce(b.started_at, now()), claim_id = gen_random_uuid()
        FROM c, jobs j WHERE b.id = c.id AND j.id = b.job_id
        RETURNING b.id, b.job_id, b.seq, b.items, b.attempts, j.kind, b.done_items, j.catalog_id, b.claim_id::text
        """, {"job": job_id, "kinds": list(kinds) if kinds is not None else None, "n": limit, "w": worker_id,
              "pending": BatchState.PENDING.value, "running": BatchState.RUNNING.value, "r": R},
    ).fetchall()
    return sorted((BatchRow(*r) for r in rows), key=lambda b: (b.job_id, b.seq))


def commit_batch(conn: psycopg.Connection, batch_id: int, claim_id: str, *, done_items: int, succeeded: int,
                 failed: int, counters: Mapping[str, int], is_final: bool, duration_s: float) -> bool:
    """Record how far a claimed batch got; the caller commits it with the results.  Counters are
    added to the batch's.  False if the claim was lost (the caller must roll back)."""
    row = conn.execute(
        """
        UPDATE job_batches SET done_items = %(done)s, processed = processed + %(s)s + %(f)s,
            succeeded = succeeded + %(s)s, failed = failed + %(f)s,
            duration_s = coalesce(duration_s, 0) + %(d)s,
            result = CASE WHEN %(c)s::jsonb = '{}'::jsonb THEN result ELSE (
                SELECT jsonb_object_agg(key, total) FROM (
                    SELECT key, sum(value::bigint) AS total FROM (
                        SELECT key, value FROM jsonb_each_text(coalesce(job_batches.result, '{}'::jsonb))
                        UNION ALL SELECT key, value FROM jsonb_each_text(%(c)s::jsonb)) u
                    GROUP BY key) t) END,
            state = CASE WHEN %(final)s THEN %(ok)s ELSE state END,
            finished_at = CASE WHEN %(final)s THEN now() END, error = NULL
        WHERE id = %(id)s AND state = %(running)s AND claim_id = %(claim)s::uuid RETURNING id
        """, {"done": done_items, "s": succeeded, "f": failed, "d": duration_s, "c": Jsonb(dict(counters)),
              "final": is_final, "ok": BatchState.SUCCEEDED.value, "id": batch_id,
              "running": BatchState.RUNNING.value, "claim": claim_id}).fetchone()
    return row is not None


def release_batch(conn: psycopg.Connection, batch_id: int, claim_id: str, state: BatchState,
                  error: str | None = None) -> None:
    """Give a claimed batch up (only this claim of it): back to pending (retry, shutdown), cancelled, or failed."""
    conn.execute(
        "UPDATE job_batches SET state = %s, error = %s, claimed_by = CASE WHEN %s THEN NULL ELSE claimed_by END, "
        "finished_at = CASE WHEN %s THEN now() END WHERE id = %s AND state = %s AND claim_id = %s::uuid",
        (state.value, error, state == BatchState.PENDING, state in (BatchState.FAILED, BatchState.CANCELLED),
         batch_id, BatchState.RUNNING.value, claim_id))


def release_owned(conn: psycopg.Connection, worker_id: str, job_id: int | None, state: BatchState) -> None:
    """Batches this process left running (a cancel, a shutdown): to ``state``.  Handing back
    (pending) only applies to jobs still running and not being cancelled."""
    conn.execute(
        "UPDATE job_batches b SET state = %(s)s, claimed_by = CASE WHEN %(s)s = %(p)s THEN NULL ELSE claimed_by END "
        "FROM jobs j WHERE j.id = b.job_id AND b.claimed_by = %(w)s AND b.state = ANY(%(from)s) "
        "AND (%(job)s::bigint IS NULL OR b.job_id = %(job)s) "
        "AND (%(s)s <> %(p)s OR (j.state = %(r)s AND NOT j.cancel_requested))",
        {"s": state.value, "p": BatchState.PENDING.value, "w": worker_id, "job": job_id, "r": R,
         "from": [BatchState.RUNNING.value] + ([BatchState.CANCELLED.value] if state == BatchState.PENDING else [])})


def requeue_cancelled(conn: psycopg.Connection, job_id: int) -> int:
    """Batches given up by a process that stopped (not by a cancel of the job) go back to pending."""
    cur = conn.execute(
        "UPDATE job_batches b SET state = %s, claimed_by = NULL FROM jobs j WHERE j.id = b.job_id AND b.job_id = %s "
        "AND b.state = %s AND j.state = %s AND NOT j.cancel_requested",
        (BatchState.PENDING.value, job_id, BatchState.CANCELLED.value, R))
    return cur.rowcount


def cancel_pending_batches(conn: psycopg.Connection, job_id: int) -> None:
    conn.execute("UPDATE job_batches SET state = %s WHERE job_id = %s AND state = %s",
                 (BatchState.CANCELLED.value, job_id, BatchState.PENDING.value))


def batch_totals(conn: psycopg.Connection, job_id: int) -> dict[str, int]:
    """Sum of the counters that ``store`` returned, over everything the job stored."""
    rows = conn.execute(
        "SELECT key, sum(value::bigint) FROM job_batches b, jsonb_each_text(b.result) "
        "WHERE b.job_id = %s AND b.result IS NOT NULL GROUP BY key", (job_id,)).fetchall()
    return {k: int(v) for k, v in rows}


def set_discovery(conn: psycopg.Connection, job_id: int, stats: Mapping[str, Any]) -> None:
    conn.execute("UPDATE jobs SET discovery = %s, discovered = true WHERE id = %s", (Jsonb(dict(stats)), job_id))


def get_discovery(conn: psycopg.Connection, job_id: int) -> dict[str, Any]:
    row = conn.execute("SELECT discovery FROM jobs WHERE id = %s", (job_id,)).fetchone()
    return dict(row[0]) if row and row[0] else {}


def batch_summary(conn: psycopg.Connection, job_id: int) -> dict[str, tuple[int, int]]:
    """state → (batches, items) for one job."""
    rows = conn.execute("SELECT state, count(*), coalesce(sum(item_count), 0) FROM job_batches "
                        "WHERE job_id = %s GROUP BY state", (job_id,)).fetchall()
    return {r[0]: (int(r[1]), int(r[2])) for r in rows}


def stored_progress(conn: psycopg.Connection, job_id: int) -> tuple[int, int]:
    row = conn.execute(
        "SELECT coalesce(sum(CASE WHEN state = %s THEN item_count ELSE done_items END), 0), "
        "coalesce(sum(item_count), 0) FROM job_batches WHERE job_id = %s",
        (BatchState.SUCCEEDED.value, job_id)).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def record_item_errors(conn: psycopg.Connection, job_id: int, batch_id: int | None,
                       errors: Sequence[tuple[str, str, str]]) -> None:
    if not errors:
        return
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO job_item_errors (job_id, batch_id, item, error_class, message) VALUES (%s, %s, %s, %s, %s) "
            "ON CONFLICT (job_id, item) DO UPDATE SET error_class = EXCLUDED.error_class, "
            "message = EXCLUDED.message, batch_id = EXCLUDED.batch_id, created_at = now()",
            [(job_id, batch_id, item, cls, msg) for item, cls, msg in errors])


def list_item_errors(conn: psycopg.Connection, job_id: int, limit: int = 1000) -> list[ItemError]:
    rows = conn.execute("SELECT job_id, item, error_class, message, created_at FROM job_item_errors "
                        "WHERE job_id = %s ORDER BY id LIMIT %s", (job_id, limit)).fetchall()
    return [ItemError(*r) for r in rows]


# ------------------------------------------------------------------ progress

def notify(conn: psycopg.Connection, job_id: int) -> None:
    conn.execute("SELECT pg_notify(%s, %s)", (NOTIFY_CHANNEL, str(job_id)))


def upsert_progress(conn: psycopg.Connection, job_id: int, *, phase: str, done: int, total: int,
                    fraction: float, message: str, rate: float | None, eta_s: float | None) -> None:
    """Write the progress row (never backwards within a phase, overall fraction never backwards) and
    NOTIFY it: the payload is the stored row (see :func:`parse_progress`), so a progress bar needs
    no query to follow a running job."""
    conn.execute(
        """
        WITH p AS (
            INSERT INTO job_progress AS p (job_id, phase, done, total, fraction, message, rate, eta_s, updated_at)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, now())
            ON CONFLICT (job_id) DO UPDATE SET
                phase = EXCLUDED.phase,
                done = CASE WHEN p.phase = EXCLUDED.phase THEN greatest(p.done, EXCLUDED.done) ELSE EXCLUDED.done END,
                total = EXCLUDED.total,
                fraction = greatest(p.fraction, EXCLUDED.fraction),
                message = EXCLUDED.message, rate = EXCLUDED.rate, eta_s = EXCLUDED.eta_s, updated_at = now()
            RETURNING *)
        SELECT pg_notify(%s, json_build_object('j', job_id, 'p', json_build_array(
            phase, done, total, fraction, left(message, 1000), rate, eta_s, updated_at))::text) FROM p
        """, (job_id, phase, done, total, min(max(fraction, 0.0), 1.0), message, rate, eta_s, NOTIFY_CHANNEL))


def parse_progress(payload: str) -> JobProgress | None:
    """The progress row a progress NOTIFY carries; None for a plain job-id payload (read the job)."""
    if not payload.startswith("{"):
        return None
    try:
        d = json.loads(payload)
        phase, done, total, fraction, message, rate, eta_s, updated = d["p"]
        return JobProgress(int(d["j"]), phase, int(done), int(total), float(fraction), message or "",
                           None if rate is None else float(rate), None if eta_s is None else float(eta_s),
                           datetime.fromisoformat(updated) if updated else None)
    except (ValueError, TypeError, KeyError):
        return None


def reset_progress(conn: psycopg.Connection, job_id: int) -> None:
    """On resume the bar restarts from what finished batches already did (set by the coordinator)."""
    conn.execute("UPDATE job_progress SET fraction = 0, done = 0, phase = 'queued', "
                 "message = 'Waiting to resume', rate = NULL, eta_s = NULL WHERE job_id = %s", (job_id,))


def timestamp_now(conn: psycopg.Connection) -> datetime:
    row = conn.execute("SELECT now()").fetchone()
    assert row is not None
    return row[0]


# ------------------------------------------------------------------ the engine's store

class PgJobStore:
    """``JobStore`` over a connection pool (``db.pool.Database``)."""

    def __init__(self, db: Any) -> None:
        self.db = db
        self._live: dict[str, psycopg.Connection] = {}
        self._attached: dict[str, tuple[str, int, float | None]] = {}  # worker -> role, threads, lease
        self._live_lock = threading.Lock()

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Connection]:
        """A transaction of the engine's bookkeeping (claims, a batch's results and its commit).

        While this process holds a lease, the server also ends such a transaction left idle for
        the lease (``idle_in_transaction_session_timeout``, this transaction only): a process
        paused inside one (SIGSTOP, a debugger) would otherwise keep its batch or progress rows
        locked, and ``jobs resume`` of the job it lost waited for it forever.  Every write of the
        engine's rows goes through here.
        """
        with self.db.connection() as conn, conn.transaction():
            lease_s = self._lease_s()
            if lease_s:
                conn.execute("SELECT set_config('idle_in_transaction_session_timeout', %s, true)",
                             (f"{int(lease_s * 1000)}",))
            yield conn

    def _lease_s(self) -> float | None:
        with self._live_lock:
            leases = [lease for _, _, lease in self._attached.values() if lease]
        return max(leases) if leases else None

    # -- liveness
    def attach(self, worker_id: str, role: str, threads: int, lease_s: float | None = None) -> None:
        conn = psycopg.connect(self.db.conninfo, autocommit=True, application_name=f"lumina-{role}-liveness",
                               connect_timeout=5)
        try:
            if lease_s:  # the server ends this session (and drops the lock) if the heartbeat stops
                conn.execute("SELECT set_config('idle_session_timeout', %s, false)", (f"{int(lease_s * 1000)}",))
            row = conn.execute(
                "INSERT INTO job_workers (worker_id, host, pid, role, threads) VALUES (%s, %s, %s, %s, %s) "
                "ON CONFLICT (worker_id) DO UPDATE SET heartbeat_at = now(), stopped_at = NULL RETURNING lock_key",
                (worker_id, socket.gethostname(), os.getpid(), role, threads)).fetchone()
            assert row is not None
            conn.execute("SELECT pg_advisory_lock(%s, %s)", (LIVENESS_LOCK_NS, row[0]))
        except BaseException:
            conn.close()
            raise
        with self._live_lock:
            old = self._live.pop(worker_id, None)
            self._live[worker_id] = conn
            self._attached[worker_id] = (role, threads, lease_s)
        if old is not None:
            old.close()

    def detach(self, worker_id: str, *, record: bool = True) -> None:
        """Drop the liveness lock; with ``record``, also mark the process stopped (not when the
        database is gone: nothing could record it)."""
        with self._live_lock:
            conn = self._live.pop(worker_id, None)
            self._attached.pop(worker_id, None)
        if record:
            try:
                with self.db.connection() as c:
                    c.execute("UPDATE job_workers SET stopped_at = now(), busy = 0, queued = 0 WHERE worker_id = %s",
                              (worker_id,))
            except Exception:
                log.warning("could not mark worker %s stopped", worker_id)
        if conn is not None:
            conn.close()  # drops the liveness lock

    def heartbeat(self, worker_id: str, busy: int, queued: int, items_done: int) -> None:
        """Worker metrics; also proves the liveness connection works (re-attached if it broke)."""
        with self._live_lock:
            conn = self._live.get(worker_id)
        try:
            if conn is None or conn.closed:
                raise psycopg.OperationalError("liveness connection closed")
            conn.execute("UPDATE job_workers SET heartbeat_at = now(), busy = %s, queued = %s, items_done = %s "
                         "WHERE worker_id = %s", (busy, queued, items_done, worker_id))
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            # the session ended (its lease lapsed while this process was paused, or the server
            # restarted): take a new one; if the server is gone this raises, and the engine decides
            with self._live_lock:
                attached = self._attached.get(worker_id)
            if attached is None:
                return
            log.info("liveness connection of %s lost (%s); reconnecting", worker_id, _first_line(exc))
            self.attach(worker_id, *attached)
            with self._live_lock:
                conn = self._live.get(worker_id)
            if conn is not None:
                conn.execute("UPDATE job_workers SET heartbeat_at = now(), busy = %s, queued = %s, "
                             "items_done = %s WHERE worker_id = %s", (busy, queued, items_done, worker_id))

    def lost_reason(self, exc: BaseException) -> str | None:
        """Why the database is gone, if ``exc`` means it is (the server is asked); else None."""
        return lost_reason(exc, self.db.conninfo)

    def recover_dead(self) -> list[int]:
        with self.transaction() as conn:
            return recover_dead(conn)

    # -- jobs
    def create_job(self, kind: str, catalog_id: int | None, params: Mapping[str, Any], *,
                   parent_job_id: int | None = None, owner: str | None = None) -> int:
        with self.transaction() as conn:
            return create_job(conn, kind, catalog_id, params, parent_job_id=parent_job_id, owner=owner)

    def get_job(self, job_id: int) -> JobSnapshot | None:
        with self.db.connection() as conn:
            return get_job(conn, job_id)

    def take_ownership(self, job_id: int, owner: str) -> bool:
        with self.transaction() as conn:
            return take_ownership(conn, job_id, owner)

    def pending_jobs(self, kinds: Sequence[str]) -> list[int]:
        with self.db.connection() as conn:
            rows = conn.execute("SELECT id FROM jobs WHERE state = %s AND owner IS NULL AND NOT cancel_requested "
                                "AND kind = ANY(%s) ORDER BY id", (JobState.PENDING.value, list(kinds))).fetchall()
        return [r[0] for r in rows]

    def job_state(self, job_id: int) -> tuple[JobState, bool, str | None] | None:
        with self.db.connection() as conn:
            row = conn.execute("SELECT state, cancel_requested, owner FROM jobs WHERE id = %s", (job_id,)).fetchone()
        return (JobState(row[0]), bool(row[1]), row[2]) if row else None

    def cancel_requested_among(self, job_ids: Sequence[int]) -> list[int]:
        with self.db.connection() as conn:
            rows = conn.execute("SELECT id FROM jobs WHERE id = ANY(%s) AND (cancel_requested OR state = ANY(%s))",
                                (list(job_ids), [JobState.CANCELLING.value, JobState.CANCELLED.value])).fetchall()
        return [r[0] for r in rows]

    def request_cancel(self, job_id: int, *, owner: str | None = None) -> JobState | None:
        with self.transaction() as conn:
            recover_dead(conn)  # the liveness rule: a dead owner's job is interrupted, so it cancels at once
            return request_cancel(conn, job_id, owner=owner)

    def resume(self, job_id: int) -> bool:
        with self.transaction() as conn:
            recover_dead(conn)
            return resume_job(conn, job_id)

    def finish(self, job_id: int, owner: str, state: JobState, *, error: str | None = None,
               result: Mapping[str, Any] | None = None,
               follow_ons: Sequence[tuple[str, Mapping[str, Any]]] = ()) -> list[int] | None:
        with self.transaction() as conn:
            if not finish_job(conn, job_id, state, error=error, result=result, owner=owner):
                return None
            row = conn.execute("SELECT catalog_id FROM jobs WHERE id = %s", (job_id,)).fetchone()
            catalog_id = row[0] if row else None
            return [create_job(conn, kind, catalog_id, params, parent_job_id=job_id) for kind, params in follow_ons]

    def leave_interrupted(self, job_id: int, owner: str) -> None:
        with self.transaction() as conn:
            leave_interrupted(conn, job_id, owner)

    # -- discovery
    def is_discovered(self, job_id: int) -> bool:
        with self.db.connection() as conn:
            row = conn.execute("SELECT discovered FROM jobs WHERE id = %s", (job_id,)).fetchone()
        return bool(row and row[0])

    def reset_batches(self, tx: Any, job_id: int) -> None:
        tx.execute("DELETE FROM job_batches WHERE job_id = %s", (job_id,))

    def insert_batches(self, tx: Any, job_id: int, first_seq: int, batches: Sequence[list[Any]]) -> None:
        insert_batches(tx, job_id, first_seq, batches)

    def save_discovery(self, tx: Any, job_id: int, stats: Mapping[str, Any]) -> None:
        set_discovery(tx, job_id, stats)

    def discovery(self, job_id: int) -> dict[str, Any]:
        with self.db.connection() as conn:
            return get_discovery(conn, job_id)

    def record_item_errors(self, tx: Any, job_id: int, batch_id: int | None,
                           errors: Sequence[tuple[str, str, str]]) -> None:
        record_item_errors(tx, job_id, batch_id, errors)

    # -- batches
    def claim_batches(self, owner: str, limit: int, *, job_id: int | None = None,
                      kinds: Sequence[str] | None = None) -> list[BatchRow]:
        with self.transaction() as conn:
            return claim_batches(conn, owner, limit, job_id=job_id, kinds=kinds)

    def commit_batch(self, tx: Any, batch: BatchRow, owner: str, *, done_items: int, succeeded: int,
                     failed: int, counters: Mapping[str, int], is_final: bool, duration_s: float) -> bool:
        return commit_batch(tx, batch.id, batch.claim_id, done_items=done_items, succeeded=succeeded, failed=failed,
                            counters=counters, is_final=is_final, duration_s=duration_s)

    def record_changes(self, tx: Any, catalog_id: int, job_id: int | None, kind: str, photo_ids: Sequence[int],
                       aspects: Collection[Aspect]) -> None:
        if tx is not None:
            changes.record_changes(tx, catalog_id, job_id, kind, photo_ids, aspects)
        else:
            with self.transaction() as conn:
                changes.record_changes(conn, catalog_id, job_id, kind, photo_ids, aspects)

    def release_batch(self, batch: BatchRow, state: BatchState, error: str | None = None) -> None:
        with self.transaction() as conn:
            release_batch(conn, batch.id, batch.claim_id, state, error)

    def requeue_cancelled(self, job_id: int) -> int:
        with self.transaction() as conn:
            return requeue_cancelled(conn, job_id)

    def release_owned(self, owner: str, job_id: int | None, state: BatchState) -> None:
        with self.transaction() as conn:
            release_owned(conn, owner, job_id, state)

    def cancel_pending_batches(self, job_id: int) -> None:
        with self.transaction() as conn:
            cancel_pending_batches(conn, job_id)

    def batch_summary(self, job_id: int) -> dict[str, tuple[int, int]]:
        with self.db.connection() as conn:
            return batch_summary(conn, job_id)

    def stored_progress(self, job_id: int) -> tuple[int, int]:
        with self.db.connection() as conn:
            return stored_progress(conn, job_id)

    def batch_totals(self, job_id: int) -> dict[str, int]:
        with self.db.connection() as conn:
            return batch_totals(conn, job_id)

    def changed_photos(self, job_id: int) -> list[int]:
        with self.db.connection() as conn:
            return changes.changed_photos(conn, job_id)

    # -- progress
    def publish_progress(self, job_id: int, *, phase: str, done: int, total: int, fraction: float,
                         message: str, rate: float | None, eta_s: float | None) -> None:
        # an engine transaction: a process paused between this write and its commit held the
        # progress row, and ``jobs resume`` (which resets it) waited forever (CI, twice)
        with self.transaction() as conn:
            upsert_progress(conn, job_id, phase=phase, done=done, total=total, fraction=fraction,
                            message=message, rate=rate, eta_s=eta_s)
