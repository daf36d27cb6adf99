"""LISTEN for job events on a dedicated connection (the thread that owns the listener).

The NOTIFY payload is only a job id: readers then fetch the ``job_progress`` row.  Used by the
CLI's live progress and by the Qt bridge (which waits on ``fileno()`` with a socket notifier).
"""
from __future__ import annotations

import psycopg
from psycopg import sql

from lumina_desktop.db.jobs import CHANGES_CHANNEL, NOTIFY_CHANNEL


class JobListener:
    """Job ids from ``lumina_jobs``; with ``changes``, also catalog ids from the change feed
    (``lumina_changes``), kept until ``take_changed_catalogs``."""

    def __init__(self, conninfo: str, channel: str = NOTIFY_CHANNEL, *, changes: bool = False) -> None:
        self.conn = psycopg.connect(conninfo, autocommit=True)
        self.channel = channel
        self._changed: set[int] = set()
        self.conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
        if changes:
            self.conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANGES_CHANNEL)))

    def _sort(self, notifies: object, ids: set[int]) -> None:
        for n in notifies:  # type: ignore[attr-defined]
            (ids if n.channel == self.channel else self._changed).add(int(n.payload))

    def take_changed_catalogs(self) -> set[int]:
        out, self._changed = self._changed, set()
        return out

    def fileno(self) -> int:
        return self.conn.fileno()

    def wait(self, timeout_s: float) -> set[int]:
        """Job ids notified within ``timeout_s`` (returns early at the first; drains what is queued)."""
        ids: set[int] = set()
        self._sort(self.conn.notifies(timeout=timeout_s, stop_after=1), ids)
        self._sort(self.conn.notifies(timeout=0.0), ids)
        return ids

    def poll(self) -> set[int]:
        """Non-blocking: job ids whose notifications already arrived."""
        ids: set[int] = set()
        self._sort(self.conn.notifies(timeout=0.0), ids)
        return ids

    def close(self) -> None:
        self.conn.close()
