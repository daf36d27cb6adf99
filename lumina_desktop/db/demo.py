"""The demo kind's results table (the engine's self-test; psycopg only here; any non-GUI thread)."""
from __future__ import annotations

from typing import Sequence

import psycopg


class DemoRepository:
    def store_values(self, tx: psycopg.Connection, job_id: int, rows: Sequence[tuple[int, str]]) -> None:
        with tx.cursor() as cur:
            cur.executemany(
                "INSERT INTO demo_results (job_id, item, value) VALUES (%s, %s, %s) ON CONFLICT (job_id, item) "
                "DO UPDATE SET value = EXCLUDED.value, writes = demo_results.writes + 1",
                [(job_id, item, value) for item, value in rows])

    def count(self, tx: psycopg.Connection, job_id: int) -> int:
        row = tx.execute("SELECT count(*) FROM demo_results WHERE job_id = %s", (job_id,)).fetchone()
        return int(row[0]) if row else 0
