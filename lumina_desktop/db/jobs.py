"""Job engine SQL: jobs, batches, progress, history, item errors, worker liveness (any non-GUI thread).

Every function takes a connection and leaves transaction control to the caller unless its name
says otherwise; batch completion is committed by the caller together with the batch's results.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Sequence

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from lumina_desktop.core.jobs import BatchState, ItemError, JobProgress, JobSnapshot, JobState

NOTIFY_CHANNEL = "lumina_jobs"


@dataclass(frozen=True)
class BatchRow:
    id: int
    job_id: int
    seq: int
    items: list[Any]
    attempts: int
    kind: str


# ------------------------------------------------------------------ workers (process liveness)

def register_worker(conn: psycopg.Connection, worker_id: str, host: str, pid: int, role: str, threads: int) -> None:
    conn.execute(
        "INSERT INTO job_workers (worker_id, host, pid, role, threads) VALUES (%s, %s, %s, %s, %s) "
        "ON CONFLICT (worker_id) DO UPDATE SET heartbeat_at = now(), stopped_at = NULL",
        (worker_id, host, pid, role, threads))


def heartbeat(conn: psycopg.Connection, worker_id: str, busy: int, queued: int, items_done: int) -> None:
    conn.execute(
        "UPDATE job_workers SET heartbeat_at = now(), busy = %s, queued = %s, items_done = %s "
        "WHERE worker_id = %s", (busy, queued, items_done, worker_id))
    conn.execute("UPDATE jobs SET heartbeat_at = now() WHERE owner = %s AND state IN ('running', 'cancelling')",
                 (worker_id,))


def stop_worker(conn: psycopg.Connection, worker_id: str) -> None:
    conn.execute("UPDATE job_workers SET stopped_at = now(), busy = 0, queued = 0 WHERE worker_id = %s", (worker_id,))


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
            "WHERE finished_at > now() - make_interval(hours => %s) AND state = 'succeeded' "
            "GROUP BY kind ORDER BY kind", (since_hours,)).fetchall()


# ------------------------------------------------------------------ jobs

_JOB_SELECT = """
SELECT j.id, j.catalog_id, j.kind, j.state, j.params, j.owner, j.created_at, j.started_at,
       j.finished_at, j.error, j.result, j.cancel_requested,
       (SELECT count(*) FROM job_item_errors e WHERE e.job_id = j.id)::int AS item_errors,
       p.phase, p.done, p.total, p.fraction, p.message, p.rate, p.eta_s, p.updated_at AS p_updated
FROM jobs j LEFT JOIN job_progress p ON p.job_id = j.id
"""


def _snapshot(r: dict[str, Any]) -> JobSnapshot:
    prog = None
    if r["phase"] is not None:
        prog = JobProgress(r["id"], r["phase"], r["done"], r["total"], r["fraction"], r["message"],
                           r["rate"], r["eta_s"], r["p_updated"])
    return JobSnapshot(r["id"], r["catalog_id"], r["kind"], JobState(r["state"]), r["params"], r["owner"],
                       r["created_at"], r["started_at"], r["finished_at"], r["error"], r["result"],
                       r["item_errors"], r["cancel_requested"], prog)


def create_job(conn: psycopg.Connection, kind: str, catalog_id: int | None, params: dict[str, Any]) -> int:
    row = conn.execute("INSERT INTO jobs (kind, catalog_id, params) VALUES (%s, %s, %s) RETURNING id",
                       (kind, catalog_id, Jsonb(params))).fetchone()
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
              active_only: bool = False) -> list[JobSnapshot]:
    where, args = [], []
    if catalog_id is not None:
        where.append("j.catalog_id = %s")
        args.append(catalog_id)
    if active_only:
        where.append("j.state IN ('pending', 'running', 'cancelling')")
    sql = _JOB_SELECT + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY j.id DESC LIMIT %s"
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(sql, (*args, limit)).fetchall()  # type: ignore[arg-type]
    return [_snapshot(r) for r in rows]


def pending_job_ids(conn: psycopg.Connection, kinds: Sequence[str]) -> list[int]:
    rows = conn.execute("SELECT id FROM jobs WHERE state = 'pending' AND kind = ANY(%s) ORDER BY id",
                        (list(kinds),)).fetchall()
    return [r[0] for r in rows]


def take_ownership(conn: psycopg.Connection, job_id: int, owner: str) -> bool:
    row = conn.execute(
        "UPDATE jobs SET state = 'running', owner = %s, heartbeat_at = now(), "
        "started_at = coalesce(started_at, now()) WHERE id = %s AND state = 'pending' "
        "AND NOT cancel_requested RETURNING id", (owner, job_id)).fetchone()
    return row is not None


def job_state(conn: psycopg.Connection, job_id: int) -> tuple[JobState, bool] | None:
    row = conn.execute("SELECT state, cancel_requested FROM jobs WHERE id = %s", (job_id,)).fetchone()
    return (JobState(row[0]), bool(row[1])) if row else None


def mark_discovered(conn: psycopg.Connection, job_id: int) -> None:
    conn.execute("UPDATE jobs SET discovered = true WHERE id = %s", (job_id,))


def is_discovered(conn: psycopg.Connection, job_id: int) -> bool:
    row = conn.execute("SELECT discovered FROM jobs WHERE id = %s", (job_id,)).fetchone()
    return bool(row and row[0])


def finish_job(conn: psycopg.Connection, job_id: int, state: JobState, *, error: str | None = None,
               result: dict[str, Any] | None = None) -> None:
    """Final state plus its ``job_history`` row, in the caller's transaction."""
    conn.execute(
        "UPDATE jobs SET state = %s, finished_at = now(), error = %s, result = %s, "
        "cancel_requested = (%s = 'cancelled') AND cancel_requested WHERE id = %s",
        (state.value, error, Jsonb(result) if result is not None else None, state.value, job_id))
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


def request_cancel(conn: psycopg.Connection, job_id: int) -> JobState | None:
    """Record a cancel request; pending batches are cancelled at once.  Returns the new state."""
    row = conn.execute("SELECT state, owner FROM jobs WHERE id = %s FOR UPDATE", (job_id,)).fetchone()
    if row is None:
        return None
    state = JobState(row[0])
    conn.execute("UPDATE job_batches SET state = 'cancelled' WHERE job_id = %s AND state = 'pending'", (job_id,))
    if state in (JobState.PENDING, JobState.INTERRUPTED):
        conn.execute("UPDATE jobs SET cancel_requested = true WHERE id = %s", (job_id,))
        finish_job(conn, job_id, JobState.CANCELLED)
        return JobState.CANCELLED
    if state == JobState.RUNNING:
        conn.execute("UPDATE jobs SET state = 'cancelling', cancel_requested = true WHERE id = %s", (job_id,))
        notify(conn, job_id)
        return JobState.CANCELLING
    return state


def resume_job(conn: psycopg.Connection, job_id: int) -> bool:
    """Put a cancelled / interrupted / failed job back to pending; only unfinished batches rerun."""
    row = conn.execute(
        "UPDATE jobs SET state = 'pending', cancel_requested = false, owner = NULL, error = NULL, "
        "finished_at = NULL, result = NULL WHERE id = %s "
        "AND state IN ('cancelled', 'interrupted', 'failed') RETURNING id", (job_id,)).fetchone()
    if row is None:
        return False
    conn.execute(
        "UPDATE job_batches SET state = 'pending', claimed_by = NULL, attempts = 0, error = NULL "
        "WHERE job_id = %s AND state <> 'succeeded'", (job_id,))
    conn.execute("DELETE FROM job_history WHERE job_id = %s", (job_id,))
    reset_progress(conn, job_id)
    notify(conn, job_id)
    return True


def recover_stale(conn: psycopg.Connection, stale_after_s: float) -> list[int]:
    """Jobs whose owner stopped heartbeating become interrupted; dead workers' batches go back to pending."""
    dead = "SELECT worker_id FROM job_workers WHERE heartbeat_at < now() - make_interval(secs => %s) OR stopped_at IS NOT NULL"
    rows = conn.execute(
        f"UPDATE jobs SET state = 'interrupted', owner = NULL WHERE state IN ('running', 'cancelling') "
        f"AND (owner IS NULL OR owner IN ({dead}) OR owner NOT IN (SELECT worker_id FROM job_workers)) "
        f"RETURNING id", (stale_after_s,)).fetchall()
    conn.execute(
        f"UPDATE job_batches SET state = 'pending', claimed_by = NULL WHERE state = 'running' "
        f"AND (claimed_by IN ({dead}) OR claimed_by NOT IN (SELECT worker_id FROM job_workers))",
        (stale_after_s,))
    ids = [r[0] for r in rows]
    for job_id in ids:
        notify(conn, job_id)
    return ids


def leave_interrupted(conn: psycopg.Connection, job_id: int) -> None:
    """The owner quits but keeps the job resumable: unfinished batches go back to pending."""
    conn.execute("UPDATE jobs SET state = 'interrupted', owner = NULL WHERE id = %s "
                 "AND state IN ('running', 'pending')", (job_id,))
    conn.execute("UPDATE job_batches SET state = 'pending', claimed_by = NULL WHERE job_id = %s "
                 "AND state IN ('running', 'cancelled')", (job_id,))
    notify(conn, job_id)


def prune_finished(conn: psycopg.Connection, older_than_days: float) -> int:
    """Delete old finished jobs with their batches and errors; ``job_history`` keeps their record."""
    cur = conn.execute(
        "DELETE FROM jobs WHERE state IN ('succeeded', 'failed', 'cancelled') "
        "AND finished_at < now() - make_interval(days => %s)", (older_than_days,))
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
            WHERE b.state = 'pending' AND j.state = 'running' AND j.discovered AND NOT j.cancel_requested
              AND (%(job)s::bigint IS NULL OR b.job_id = %(job)s)
              AND (%(kinds)s::text[] IS NULL OR j.kind = ANY(%(kinds)s))
            ORDER BY b.job_id, b.seq
            LIMIT %(n)s
            FOR UPDATE OF b SKIP LOCKED)
        UPDATE job_batches b SET state = 'running', claimed_by = %(w)s, claimed_at = now(),
               attempts = b.attempts + 1, started_at = now()
        FROM c, jobs j WHERE b.id = c.id AND j.id = b.job_id
        RETURNING b.id, b.job_id, b.seq, b.items, b.attempts, j.kind
        """, {"job": job_id, "kinds": list(kinds) if kinds is not None else None, "n": limit, "w": worker_id},
    ).fetchall()
    return sorted((BatchRow(*r) for r in rows), key=lambda b: (b.job_id, b.seq))


def complete_batch(conn: psycopg.Connection, batch_id: int, worker_id: str, *, processed: int,
                   succeeded: int, failed: int, duration_s: float, result: dict[str, int] | None = None) -> bool:
    """Mark a claimed batch succeeded (caller commits it with the results).  False if we lost the claim."""
    row = conn.execute(
        "UPDATE job_batches SET state = 'succeeded', processed = %s, succeeded = %s, failed = %s, "
        "finished_at = now(), duration_s = %s, error = NULL, result = %s WHERE id = %s AND state = 'running' "
        "AND claimed_by = %s RETURNING id",
        (processed, succeeded, failed, duration_s, Jsonb(result) if result else None, batch_id,
         worker_id)).fetchone()
    return row is not None


def batch_totals(conn: psycopg.Connection, job_id: int) -> dict[str, int]:
    """Sum of the counters that ``store`` returned, over the job's succeeded batches."""
    rows = conn.execute(
        "SELECT key, sum(value::bigint) FROM job_batches b, jsonb_each_text(b.result) "
        "WHERE b.job_id = %s AND b.state = 'succeeded' AND b.result IS NOT NULL GROUP BY key",
        (job_id,)).fetchall()
    return {k: int(v) for k, v in rows}


def set_discovery(conn: psycopg.Connection, job_id: int, stats: dict[str, Any]) -> None:
    conn.execute("UPDATE jobs SET discovery = %s WHERE id = %s", (Jsonb(stats), job_id))


def get_discovery(conn: psycopg.Connection, job_id: int) -> dict[str, Any]:
    row = conn.execute("SELECT discovery FROM jobs WHERE id = %s", (job_id,)).fetchone()
    return dict(row[0]) if row and row[0] else {}


def release_batch(conn: psycopg.Connection, batch_id: int, worker_id: str, state: BatchState,
                  error: str | None = None) -> None:
    """Give a claimed batch up: back to pending (retry, shutdown), cancelled, or failed."""
    claimed_by = None if state == BatchState.PENDING else worker_id
    conn.execute(
        "UPDATE job_batches SET state = %s, error = %s, claimed_by = %s, "
        "finished_at = CASE WHEN %s IN ('failed', 'cancelled') THEN now() END "
        "WHERE id = %s AND state = 'running' AND claimed_by = %s",
        (state.value, error, claimed_by, state.value, batch_id, worker_id))


def batch_summary(conn: psycopg.Connection, job_id: int) -> dict[str, tuple[int, int]]:
    """state → (batches, items) for one job."""
    rows = conn.execute("SELECT state, count(*), coalesce(sum(item_count), 0) FROM job_batches "
                        "WHERE job_id = %s GROUP BY state", (job_id,)).fetchall()
    return {r[0]: (int(r[1]), int(r[2])) for r in rows}


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
    """Write the progress row (never backwards within a phase, overall fraction never backwards) and NOTIFY."""
    conn.execute(
        """
        INSERT INTO job_progress AS p (job_id, phase, done, total, fraction, message, rate, eta_s, updated_at)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s, now())
        ON CONFLICT (job_id) DO UPDATE SET
            phase = EXCLUDED.phase,
            done = CASE WHEN p.phase = EXCLUDED.phase THEN greatest(p.done, EXCLUDED.done) ELSE EXCLUDED.done END,
            total = EXCLUDED.total,
            fraction = greatest(p.fraction, EXCLUDED.fraction),
            message = EXCLUDED.message, rate = EXCLUDED.rate, eta_s = EXCLUDED.eta_s, updated_at = now()
        """, (job_id, phase, done, total, min(max(fraction, 0.0), 1.0), message, rate, eta_s))
    notify(conn, job_id)


def reset_progress(conn: psycopg.Connection, job_id: int) -> None:
    """On resume the bar restarts from what finished batches already did (set by the coordinator)."""
    conn.execute("UPDATE job_progress SET fraction = 0, done = 0, phase = 'queued', "
                 "message = 'Waiting to resume', rate = NULL, eta_s = NULL WHERE job_id = %s", (job_id,))


def timestamp_now(conn: psycopg.Connection) -> datetime:
    row = conn.execute("SELECT now()").fetchone()
    assert row is not None
    return row[0]
