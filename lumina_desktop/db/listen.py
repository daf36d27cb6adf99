"""LISTEN for job events and the change feed on a dedicated connection (owned by one thread).

``lumina_jobs`` payloads are a job id (its row changed: read it) or, from progress writes, the
progress row itself as JSON (kept until :meth:`JobListener.take_progress`; no read needed).
``lumina_changes`` payloads are change-feed rows (kept until :meth:`JobListener.take_changes`).
Used by the CLI's live progress and by the window's job bridge.

A broken connection is replaced (LISTEN again; callers read the rows at least every second
anyway); a server that is gone raises ``DatabaseLost`` naming the cause, once, not a traceback.
"""
from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from lumina_desktop.core.changes import CatalogChange
from lumina_desktop.core.errors import DatabaseLost
from lumina_desktop.core.jobs import JobProgress
from lumina_desktop.db.changes import CHANGES_CHANNEL, parse_payload
from lumina_desktop.db.jobs import NOTIFY_CHANNEL, lost_reason, parse_progress


class JobListener:
    """Job ids from ``lumina_jobs``; with ``changes``, also the change feed (``lumina_changes``)."""

    def __init__(self, conninfo: str, channel: str = NOTIFY_CHANNEL, *, changes: bool = False) -> None:
        self.conninfo = conninfo
        self.channel = channel
        self.changes = changes
        self._progress: dict[int, JobProgress] = {}
        self._changes: list[CatalogChange | tuple[int, int]] = []
        self.conn = self._connect()

    def _connect(self) -> psycopg.Connection:
        try:
            conn = psycopg.connect(self.conninfo, autocommit=True, application_name="lumina-listener")
            try:
                conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
                if self.changes:
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANGES_CHANNEL)))
            except BaseException:
                conn.close()
                raise
            return conn
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            reason = lost_reason(exc, self.conninfo)
            if reason is not None:
                raise DatabaseLost(reason) from None
            raise

    def _receive(self, timeout_s: float, ids: set[int]) -> None:
        try:
            self._sort(self.conn.notifies(timeout=timeout_s, stop_after=1), ids)
            self._sort(self.conn.notifies(timeout=0.0), ids)
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            reason = lost_reason(exc, self.conninfo)
            if reason is not None:
                raise DatabaseLost(reason) from None
            self.conn.close()
            self.conn = self._connect()  # this connection broke, the server is fine: listen again

    def _sort(self, notifies: Any, ids: set[int]) -> None:
        for n in notifies:
            if n.channel == self.channel:
                progress = parse_progress(n.payload)
                if progress is not None:
                    self._progress[progress.job_id] = progress
                elif n.payload.isdigit():
                    ids.add(int(n.payload))
            else:
                change = parse_payload(n.payload)
                if change is not None:
                    self._changes.append(change)

    def take_progress(self) -> dict[int, JobProgress]:
        """The latest progress of each job that reported some since the last call."""
        out, self._progress = self._progress, {}
        return out

    def take_changes(self) -> list[CatalogChange | tuple[int, int]]:
        """Change-feed rows since the last call: whole rows, or (catalog, seq) of rows to read."""
        out, self._changes = self._changes, []
        return out

    def take_changed_catalogs(self) -> set[int]:
        """Catalogs named by the change feed since the last call (for callers that only need that)."""
        return {c.catalog_id if isinstance(c, CatalogChange) else c[0] for c in self.take_changes()}

    def has_news(self) -> bool:
        return bool(self._progress or self._changes)

    def fileno(self) -> int:
        return self.conn.fileno()

    def wait(self, timeout_s: float) -> set[int]:
        """Job ids to read, notified within ``timeout_s``: returns at the first notification of any
        kind (progress and changes are kept for ``take_*``) and drains what is queued."""
        ids: set[int] = set()
        self._receive(timeout_s, ids)
        return ids

    def poll(self) -> set[int]:
        """Non-blocking: job ids whose notifications already arrived."""
        ids: set[int] = set()
        self._receive(0.0, ids)
        return ids

    def close(self) -> None:
        self.conn.close()
