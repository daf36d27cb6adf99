"""The ``demo`` job kind: the engine's self-test and benchmark load (worker / coordinator threads).

Items are integers; each sleeps ``sleep_ms`` and/or hashes ``work`` rounds, then its value
(item², or a digest) is upserted into ``demo_results`` when the batch commits.  Parameters let
tests make an item always fail (``fail_items``) or a batch fail transiently on its first attempt
(``transient_fail_seqs``), which the engine must retry.
"""
from __future__ import annotations

import hashlib
import time
from typing import Any, Iterable

import psycopg

from lumina_desktop.core.jobs import JobSnapshot
from lumina_desktop.jobs.context import BatchInfo, JobContext, JobEnv
from lumina_desktop.jobs.registry import JobKind, register

_TABLE = """
CREATE TABLE IF NOT EXISTS demo_results (
    job_id  bigint NOT NULL,
    item    integer NOT NULL,
    value   text NOT NULL,
    writes  integer NOT NULL DEFAULT 1,
    PRIMARY KEY (job_id, item)
)"""


class DemoItemError(Exception):
    """The failure a demo item was told to have."""


class DemoKind(JobKind):
    name = "demo"
    title = "Engine self-test"
    phases = (("discover", 0.02), ("process", 0.96), ("finalize", 0.02))

    def discover(self, ctx: JobContext) -> Iterable[Any]:
        with ctx.env.db.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(4242)")
            conn.execute(_TABLE)
        return range(int(ctx.job.params.get("items", 100)))

    def process_item(self, env: JobEnv, job: JobSnapshot, item: Any) -> Any:
        p = job.params
        if item in p.get("fail_items", ()):
            raise DemoItemError(f"item {item} always fails")
        if p.get("sleep_ms"):
            time.sleep(float(p["sleep_ms"]) / 1000)
        rounds = int(p.get("work", 0))
        if rounds:
            h = str(item).encode()
            for _ in range(rounds):
                h = hashlib.sha256(h).digest()
            return h.hex()[:16]
        return str(item * item)

    def store(self, conn: psycopg.Connection, job: JobSnapshot, batch: BatchInfo,
              results: list[tuple[Any, Any]]) -> None:
        if batch.seq in job.params.get("transient_fail_seqs", ()) and batch.attempt == 1:
            raise psycopg.OperationalError("simulated lost connection")
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO demo_results (job_id, item, value) VALUES (%s, %s, %s) "
                "ON CONFLICT (job_id, item) DO UPDATE SET value = EXCLUDED.value, writes = demo_results.writes + 1",
                [(job.id, item, value) for item, value in results])

    def finalize(self, ctx: JobContext) -> dict[str, Any]:
        with ctx.env.db.connection() as conn:
            row = conn.execute("SELECT count(*) FROM demo_results WHERE job_id = %s", (ctx.job.id,)).fetchone()
        return {"stored": int(row[0]) if row else 0}


register(DemoKind())
