"""DatabaseGuard: tells a lost database from a passing error, and says so once (any thread).

Every engine thread that catches an exception while it talks to the store hands it to
:meth:`DatabaseGuard.check`.  An error about one statement, or one broken connection of a server
that still answers, is left to the usual retry; a server that is gone (stopped, killed, shut
down) is *declared lost*, once per engine: every job's token trips, no thread writes to the store
again (nothing could be written), and listeners hear one :class:`DatabaseLost` naming the cause
and the jobs that were running here.  Those jobs stay ``running`` in the database until the
server is back; the liveness rule then shows them ``interrupted`` and they resume where their
last commit got to.
"""
from __future__ import annotations

import logging
import threading
from typing import Callable

from lumina_desktop.core.errors import DatabaseLost

log = logging.getLogger(__name__)
LostListener = Callable[[DatabaseLost], None]


class DatabaseGuard:
    """One per engine: ``classify(exc)`` returns the cause in words if ``exc`` means the database
    is gone (the store asks the server), else None; ``running_jobs()`` names the jobs it stops."""

    def __init__(self, classify: Callable[[BaseException], str | None],
                 running_jobs: Callable[[], list[int]] = list, on_lost: Callable[[], None] | None = None) -> None:
        self._classify = classify
        self._running_jobs = running_jobs
        self._on_lost = on_lost
        self._lock = threading.Lock()
        self._listeners: list[LostListener] = []
        self.lost: DatabaseLost | None = None
        self.lost_event = threading.Event()

    @property
    def is_lost(self) -> bool:
        return self.lost is not None

    def add_listener(self, listener: LostListener) -> None:
        """``listener(DatabaseLost)`` is called once, on the thread that noticed the loss; if the
        loss happened already, at once."""
        with self._lock:
            self._listeners.append(listener)
            lost = self.lost
        if lost is not None:
            listener(lost)

    def remove_listener(self, listener: LostListener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def check(self, exc: BaseException) -> None:
        """Raise :class:`DatabaseLost` if ``exc`` means the database is gone (or it was declared
        lost already); return if ``exc`` is something else, for the caller to handle as before."""
        if self.lost is not None:
            raise self.lost
        if isinstance(exc, DatabaseLost):
            raise self.declare(exc.reason)
        with self._lock:  # threads failing together ask the server once
            if self.lost is not None:
                raise self.lost
            reason = self._classify(exc)
        if reason is not None:
            raise self.declare(reason)

    def is_lost_by(self, exc: BaseException) -> bool:
        """:meth:`check` as a test: True if the database is (now) declared lost."""
        try:
            self.check(exc)
        except DatabaseLost:
            return True
        return False

    def declare(self, reason: str) -> DatabaseLost:
        """The database is gone: stop every job here and tell the listeners (once)."""
        with self._lock:
            if self.lost is not None:
                return self.lost
            try:
                jobs = tuple(sorted(self._running_jobs()))
            except Exception:  # naming the jobs must never keep the loss from being declared
                jobs = ()
            self.lost = DatabaseLost(reason, jobs)
            listeners = list(self._listeners)
        self.lost_event.set()
        log.info("database lost: %s (jobs here: %s)", reason, ", ".join(map(str, jobs)) or "none")
        if self._on_lost is not None:
            self._on_lost()
        for listener in listeners:
            try:
                listener(self.lost)
            except Exception:
                log.exception("a database-lost listener failed")
        return self.lost
