"""LISTEN for job events on a dedicated connection (the thread that owns the listener).

The NOTIFY payload is only a job id: readers then fetch the ``job_progress`` row.  Used by the
CLI's live progress and by the Qt bridge (which waits on ``fileno()`` with a socket notifier).
"""
from __future__ import annotations

import psycopg
from psycopg import sql

from lumina_desktop.db.jobs import NOTIFY_CHANNEL


class JobListener:
    def __init__(self, conninfo: str, channel: str = NOTIFY_CHANNEL) -> None:
        self.conn = psycopg.connect(conninfo, autocommit=True)
        self.conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))

    def fileno(self) -> int:
        return self.conn.fileno()

    def wait(self, timeout_s: float) -> set[int]:
        """Job ids notified within ``timeout_s`` (returns early at the first; drains what is queued)."""
        ids: set[int] = set()
        for n in self.conn.notifies(timeout=timeout_s, stop_after=1):
            ids.add(int(n.payload))
        for n in self.conn.notifies(timeout=0.0):
            ids.add(int(n.payload))
        return ids

    def poll(self) -> set[int]:
        """Non-blocking: job ids whose notifications already arrived."""
        return {int(n.payload) for n in self.conn.notifies(timeout=0.0)}

    def close(self) -> None:
        self.conn.close()
