"""Connections: the embedded cluster or an existing server, a psycopg pool (any non-GUI thread).

``open_database(settings)`` is the one way in: it starts (or reuses) the embedded cluster when
no database URL is configured, checks the server version, applies migrations and returns a
``Database`` holding the pool.  Credentials never reach the logs (``mask_url``).
"""
from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

import psycopg
from psycopg_pool import ConnectionPool

from lumina_desktop.config import Settings, mask_url
from lumina_desktop.core.errors import DatabaseError
from lumina_desktop.db.cluster import EmbeddedCluster

log = logging.getLogger(__name__)
MIN_SERVER_VERSION = 140000


def _check_connect(conninfo: str, shown: str) -> None:
    try:
        with psycopg.connect(conninfo, connect_timeout=10) as conn:
            version = conn.info.server_version
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else "connection refused"
        raise DatabaseError(f"cannot connect to the database {shown}: {mask_url(reason)}") from None
    if version < MIN_SERVER_VERSION:
        raise DatabaseError(f"the database {shown} runs PostgreSQL {version // 10000}; Lumina needs 14 or newer")


@dataclass
class Database:
    """The pool and, for the embedded server, the cluster it runs on."""

    conninfo: str
    pool: ConnectionPool
    cluster: EmbeddedCluster | None = None
    _closed: bool = field(default=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def display_url(self) -> str:
        return mask_url(self.conninfo)

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        """Borrow a connection; commits on success, rolls back on error."""
        with self.pool.connection() as conn:
            yield conn

    def close(self, *, stop_server: bool = True) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self.pool.close(timeout=5)
        if self.cluster is not None:  # the last user stops a server started to stop when done
            self.cluster.release(stop=None if stop_server else False)


def make_pool(conninfo: str, *, max_size: int, name: str = "lumina-db") -> ConnectionPool:
    pool = ConnectionPool(conninfo, min_size=1, max_size=max_size, open=False, name=name,
                          timeout=30, kwargs={"autocommit": False})
    pool.open(wait=True, timeout=30)
    return pool


def open_database(settings: Settings, *, migrate: bool = True, fsync: bool = True,
                  pool_size: int | None = None, keep_running: bool = False) -> Database:
    """Connect (starting the embedded server if needed), migrate, and return the pool.

    An embedded server this call starts is stopped by its last user, unless ``keep_running``
    (``db start``): then it runs until ``db stop``."""
    from lumina_desktop.db.migrate import apply_migrations

    cluster: EmbeddedCluster | None = None
    if settings.uses_embedded_server:
        cluster = EmbeddedCluster(settings.data_dir, fsync=fsync)
        cluster.acquire(keep_running=keep_running)
        conninfo = cluster.conninfo()
        shown = f"(embedded server in {cluster.home})"
    else:
        conninfo = settings.database_url
        shown = mask_url(conninfo)
        _check_connect(conninfo, shown)
    size = pool_size or (settings.background_workers + settings.interactive_workers + 4)
    try:
        pool = make_pool(conninfo, max_size=size)
    except Exception as exc:  # pool errors are not OperationalError
        if cluster:
            cluster.release()
        raise DatabaseError(f"cannot open a connection pool to {shown}: {mask_url(str(exc))}") from None
    db = Database(conninfo, pool, cluster)
    if migrate:
        try:
            with db.connection() as conn:
                apply_migrations(conn)
        except BaseException:
            db.close()
            raise
    log.info("database ready: %s", shown)
    return db
