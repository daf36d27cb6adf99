"""Migrations: recorded, one transaction, fresh == stepwise-migrated, newer schema refused."""
from __future__ import annotations

import psycopg
import pytest

from lumina_desktop.core.errors import DatabaseError
from lumina_desktop.core.media import MediaKind
from lumina_desktop.core.models import PhotoStatus
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
        assert c.execute("SELECT to_regclass('catalogs')").fetchone()[0] is None


def test_status_and_kind_vocabulary_match_sql_checks(conn) -> None:  # type: ignore[no-untyped-def]
    import re

    def checked(name: str) -> set[str]:
        (defn,) = conn.execute("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = %s",
                               (name,)).fetchone()
        return set(re.findall(r"'(\w+)'", defn))

    assert checked("photos_status_check") == {s.value for s in PhotoStatus}
    assert checked("photos_kind_check") == {k.value for k in MediaKind}


def test_the_schema_says_photo_not_image(conn) -> None:  # type: ignore[no-untyped-def]
    """Migration 0008: no table, column, index, sequence or constraint is named after "image", except
    ``image_data_hash`` (the hash of the picture data) and the index on it."""
    names = conn.execute(
        """
        SELECT 'rel ' || relname FROM pg_class WHERE relnamespace = 'public'::regnamespace
        UNION ALL SELECT 'col ' || table_name || '.' || column_name FROM information_schema.columns
                  WHERE table_schema = 'public'
        UNION ALL SELECT 'con ' || conname FROM pg_constraint WHERE connamespace = 'public'::regnamespace
        """).fetchall()
    left = sorted(n for (n,) in names if "image" in n and "image_data_hash" not in n)
    assert left == []
    assert {"rel photos", "rel photo_fingerprints", "rel photos_id_seq", "col photo_fingerprints.photo_id",
            "col duplicate_groups.keeper_photo_id", "col duplicate_members.photo_id"} <= {n for (n,) in names}


def test_0008_keeps_rows_and_links(pg_cluster) -> None:  # type: ignore[no-untyped-def]
    """A catalog at migration 7 with photos, fingerprints and a duplicate group keeps them all."""
    target = _new_db(pg_cluster, "mig_noun")
    with psycopg.connect(target) as c:
        apply_migrations(c, target=7)
        cat = c.execute("INSERT INTO catalogs (name) VALUES ('C') RETURNING id").fetchone()[0]
        a, b = (c.execute("INSERT INTO images (catalog_id, path, file_name, status, content_hash) "
                          "VALUES (%s, %s, %s, 'ok', 'h') RETURNING id", (cat, f"/p/{n}", n)).fetchone()[0]
                for n in ("a.jpg", "b.jpg"))
        c.execute("INSERT INTO image_fingerprints (image_id, content_hash, phash, dhash) VALUES (%s, 'h', %s, %s)",
                  (a, b"\1" * 32, b"\2" * 32))
        c.execute("INSERT INTO duplicate_runs (job_id, catalog_id, is_current) VALUES (1, %s, true)", (cat,))
        g = c.execute("INSERT INTO duplicate_groups (run_job_id, catalog_id, component_key, tier, keeper_image_id, "
                      "keeper_content_hash, size) VALUES (1, %s, 1, 'identical', %s, 'h', 2) RETURNING id",
                      (cat, a)).fetchone()[0]
        c.execute("INSERT INTO duplicate_members (group_id, image_id, content_hash, tier, match, is_verified, reason) "
                  "VALUES (%s, %s, 'h', 'identical', 'content_hash', true, 'r')", (g, b))
        c.commit()
        assert apply_migrations(c, target=8) == [8]
        assert c.execute("SELECT id, file_name FROM photos ORDER BY id").fetchall() == [(a, "a.jpg"), (b, "b.jpg")]
        assert c.execute("SELECT photo_id FROM photo_fingerprints").fetchall() == [(a,)]
        assert c.execute("SELECT g.keeper_photo_id, m.photo_id FROM duplicate_groups g "
                         "JOIN duplicate_members m ON m.group_id = g.id").fetchall() == [(a, b)]
        # new rows continue the same id sequence; deleting a photo still cascades to what links to it
        new = c.execute("INSERT INTO photos (catalog_id, path, file_name) VALUES (%s, '/p/c.jpg', 'c.jpg') "
                        "RETURNING id", (cat,)).fetchone()[0]
        assert new > b
        c.execute("DELETE FROM photos WHERE id = %s", (a,))
        assert c.execute("SELECT count(*) FROM photo_fingerprints").fetchone()[0] == 0
        assert c.execute("SELECT count(*) FROM duplicate_groups").fetchone()[0] == 0
