"""Numbered SQL migrations (``migrations/NNNN_name.sql``) applied in one transaction (any non-GUI thread).

Applied versions are recorded in ``schema_version``; an advisory lock serialises app instances
that start at once.  A database newer than this program is refused with a clear message.
"""
from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from importlib import resources

import psycopg

from lumina_desktop.core.errors import DatabaseError

log = logging.getLogger(__name__)
_LOCK_KEY = 0x4C756D69  # "Lumi"
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def available_migrations() -> list[Migration]:
    found = []
    for entry in resources.files("lumina_desktop.db.migrations").iterdir():
        m = _NAME.match(entry.name)
        if m:
            found.append(Migration(int(m.group(1)), m.group(2), entry.read_text(encoding="utf-8")))
    found.sort(key=lambda mg: mg.version)
    versions = [mg.version for mg in found]
    if versions != list(range(1, len(found) + 1)):
        raise DatabaseError(f"migrations are not numbered 1..n without gaps: {versions}")
    return found


def current_version(conn: psycopg.Connection) -> int:
    exists = conn.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return 0
    row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
    return int(row[0]) if row else 0


def apply_migrations(conn: psycopg.Connection, *, target: int | None = None) -> list[int]:
    """Bring the schema up to ``target`` (default: latest) in one transaction; returns versions applied."""
    migrations = available_migrations()
    latest = migrations[-1].version if migrations else 0
    target = latest if target is None else target
    applied: list[int] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            " version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        have = current_version(conn)
        if have > latest:
            raise DatabaseError(
                f"the catalog database is at schema version {have}, newer than this Lumina "
                f"Desktop knows ({latest}); upgrade the program. Nothing was changed."
            )
        for mg in migrations:
            if have < mg.version <= target:
                conn.execute(mg.sql.encode())  # type: ignore[arg-type]
                conn.execute("INSERT INTO schema_version (version, name, checksum) VALUES (%s, %s, %s)",
                             (mg.version, mg.name, mg.checksum))
                applied.append(mg.version)
    if applied:
        log.info("applied migrations %s", applied)
    return applied
