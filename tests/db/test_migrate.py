"""Migrations: recorded, one transaction, fresh == stepwise-migrated, newer schema refused."""
from __future__ import annotations

import psycopg
import pytest

from lumina_desktop.core.errors import DatabaseError
from lumina_desktop.core.models import ImageStatus
from lumina_desktop.db.migrate import apply_migrations, available_migrations, current_version

pytestmark = pytest.mark.db

SCHEMA_QUERY = """
SELECT 'col' AS k, table_name || '.' || column_name || ':' || data_type || ':' || is_nullable
       || ':' || coalesce(column_default, '') AS v
FROM information_schema.columns WHERE table_schema = 'public'
UNION ALL
SELECT 'con', conrelid::regclass::text || ':' || conname || ':' || pg_get_constraintdef(oid)
FROM pg_constraint WHERE connamespace = 'public'::regnamespace
UNION ALL
SELECT 'idx', indexname || ':' || indexdef FROM pg_indexes WHERE schemaname = 'public'
UNION ALL
SELECT 'fn', p.proname || ':' || pg_get_functiondef(p.oid) FROM pg_proc p
WHERE p.pronamespace = 'public'::regnamespace
UNION ALL
SELECT 'trg', tgrelid::regclass::text || ':' || tgname FROM pg_trigger WHERE NOT tgisinternal
ORDER BY 1, 2
"""


def _schema(conninfo: str) -> list[tuple[str, str]]:
    with psycopg.connect(conninfo) as c:
        return c.execute(SCHEMA_QUERY).fetchall()


def _new_db(pg_cluster, name: str) -> str:  # type: ignore[no-untyped-def]
    with psycopg.connect(pg_cluster.conninfo("postgres"), autocommit=True) as c:
        c.execute(f"DROP DATABASE IF EXISTS {name}")
        c.execute(f"CREATE DATABASE {name}")
    return pg_cluster.conninfo(name)


def test_fresh_and_stepwise_migrated_schemas_are_identical(pg_cluster) -> None:  # type: ignore[no-untyped-def]
    fresh = _new_db(pg_cluster, "mig_fresh")
    step = _new_db(pg_cluster, "mig_step")
    with psycopg.connect(fresh) as c:
        apply_migrations(c)
    latest = available_migrations()[-1].version
    with psycopg.connect(step) as c:
        for v in range(1, latest + 1):
            assert apply_migrations(c, target=v) == [v]
        assert apply_migrations(c) == []
        assert current_version(c) == latest
    a, b = _schema(fresh), _schema(step)
    assert len(a) > 40
    assert a == b


def test_versions_recorded_and_rerun_is_noop(conn) -> None:  # type: ignore[no-untyped-def]
    rows = conn.execute("SELECT version, name FROM schema_version ORDER BY version").fetchall()
    assert [r[0] for r in rows] == [m.version for m in available_migrations()]
    assert apply_migrations(conn) == []


def test_newer_schema_is_refused_without_changes(conn) -> None:  # type: ignore[no-untyped-def]
    conn.execute("INSERT INTO schema_version (version, name, checksum) VALUES (999, 'future', 'x')")
    conn.commit()
    with pytest.raises(DatabaseError, match="newer than this Lumina"):
        apply_migrations(conn)
    assert conn.execute("SELECT max(version) FROM schema_version").fetchone()[0] == 999


def test_failed_migration_rolls_back_entirely(pg_cluster, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from lumina_desktop.db import migrate

    target = _new_db(pg_cluster, "mig_broken")
    good = available_migrations()
    broken = migrate.Migration(good[-1].version + 1, "broken", "CREATE TABLE zz_ok (a int); SELECT nonsense_fn();")
    monkeypatch.setattr(migrate, "available_migrations", lambda: [*good, broken])
    with psycopg.connect(target) as c:
        with pytest.raises(psycopg.Error):
            apply_migrations(c)
        c.rollback()
        assert current_version(c) == 0
        assert c.execute("SELECT to_regclass('zz_ok')").fetchone()[0] is None
        assert c.execute("SELECT to_regclass('images')").fetchone()[0] is None


def test_image_status_vocabulary_matches_sql_check(conn) -> None:  # type: ignore[no-untyped-def]
    (defn,) = conn.execute(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'images_status_check'").fetchone()
    import re

    assert set(re.findall(r"'(\w+)'", defn)) == {s.value for s in ImageStatus}
