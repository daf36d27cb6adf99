"""The window's sorts and filters on a large catalog are served by indexes (issue 17).

A catalog of 200,000 photos (made in SQL, vacuumed and analysed as autovacuum leaves a settled
catalog), a smaller one beside it, then every statement the grid runs for an id list — the whole
list and its first rows — is explained.  Each must walk an index of ``photos`` and never read
the table in full or sort the catalog: dropping or changing one of the browse indexes
(migration 0016), or writing a query the planner cannot serve from one, fails here.
"""
from __future__ import annotations

import json
from datetime import date
from typing import Any, Iterator

import pytest

from lumina_desktop.core.library import PhotoFilter, SortKey, SortOrder, StatusFilter
from lumina_desktop.db import library
from lumina_desktop.ui.models.photo_grid_model import HEAD_ROWS

pytestmark = [pytest.mark.db, pytest.mark.slow]
N = 200_000


@pytest.fixture(scope="module")
def big(pg_cluster: Any) -> Iterator[tuple[Any, int]]:
    import psycopg

    from tests.conftest import TestDatabase

    tdb = TestDatabase(pg_cluster)          # one database for the module (made once: ~3 s)
    conn = psycopg.connect(tdb.conninfo, autocommit=True)
    try:
        cat = conn.execute("INSERT INTO catalogs (name) VALUES ('Big') RETURNING id").fetchone()[0]
        other = conn.execute("INSERT INTO catalogs (name) VALUES ('Small') RETURNING id").fetchone()[0]
        folders = [conn.execute("INSERT INTO catalog_folders (catalog_id, path) VALUES (%s, %s) RETURNING id",
                                (c, f"/p/{c}/{i}")).fetchone()[0] for c in (cat, other) for i in range(2)]
        for c, n, (fa, fb) in ((cat, N, folders[:2]), (other, 2_000, folders[2:])):
            conn.execute(
                """
                INSERT INTO photos (catalog_id, folder_id, path, file_name, size_bytes, content_hash, kind, status,
                                    capture_time, quality, added_at, camera_make, camera_model, trashed_at)
                SELECT %(c)s, CASE WHEN g %% 50 = 0 THEN %(fb)s ELSE %(fa)s END, '/p/' || %(c)s || '/' || g,
                       'IMG_' || lpad(g::text, 7, '0') || '.JPG', (hashtextextended(g::text, 1) & 16777215) + 1000,
                       md5(g::text), CASE WHEN g %% 31 = 0 THEN 'raw' ELSE 'image' END,
                       CASE WHEN g %% 97 = 0 THEN 'error' ELSE 'ok' END,
                       CASE WHEN g %% 20 = 0 THEN NULL ELSE timestamp '2015-01-01' + g * interval '37 minutes' END,
                       CASE WHEN g %% 3 = 0 THEN NULL ELSE (g %% 100)::real END,
                       now() - interval '400 days' + (g / 500) * interval '1 second',
                       CASE WHEN g %% 4 = 0 THEN 'Canon' END, CASE WHEN g %% 4 = 0 THEN 'Canon EOS R5' END,
                       CASE WHEN g %% 1000 = 0 THEN now() END
                FROM generate_series(1, %(n)s) g
                """, {"c": c, "n": n, "fa": fa, "fb": fb})
        conn.execute("VACUUM ANALYZE photos")
        yield conn, cat
    finally:
        conn.close()
        tdb.drop()


def plan_nodes(conn: Any, query: Any, params: dict[str, Any]) -> list[dict[str, Any]]:
    text = query.as_string(conn) if hasattr(query, "as_string") else query
    raw = conn.execute("EXPLAIN (FORMAT JSON) " + text, params).fetchone()[0]
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    out, todo = [], [plan]
    while todo:
        node = todo.pop()
        out.append(node)
        todo.extend(node.get("Plans", ()))
    return out


def assert_index_walk(conn: Any, cat: int, flt: PhotoFilter, order: SortOrder, *, limit: int | None,
                      sorted_by_index: bool = True) -> list[str]:
    queries, params = library.id_queries(conn, cat, flt, order, limit=limit)
    used: list[str] = []
    for query in queries:
        nodes = plan_nodes(conn, query, params)
        on_photos = [n for n in nodes if n.get("Relation Name") == "photos"]
        kinds = {n["Node Type"] for n in nodes}
        assert on_photos and all(n["Node Type"] != "Seq Scan" for n in on_photos), (flt, order, kinds)
        if sorted_by_index:   # a sort of a small part (the undated photos of a date sort) is fine
            sorts = [n for n in nodes if n["Node Type"] in ("Sort", "Incremental Sort")]
            assert all(n["Plan Rows"] <= N // 10 for n in sorts), (flt, order, kinds, [n["Plan Rows"] for n in sorts])
        used += [n["Index Name"] for n in nodes if n.get("Index Name", "").startswith("photos")]  # bitmap scans too
    return used


@pytest.mark.parametrize("key", list(SortKey))
@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("limit", [None, HEAD_ROWS])
def test_every_sort_walks_its_index(big, key: SortKey, descending: bool, limit: int | None) -> None:  # type: ignore[no-untyped-def]
    conn, cat = big
    used = assert_index_walk(conn, cat, PhotoFilter(), SortOrder(key, descending), limit=limit)
    assert used and all(name.startswith("photos_browse_") for name in used), used
    plans = [n["Node Type"] for q in library.id_queries(conn, cat, PhotoFilter(), SortOrder(key, descending),
                                                        limit=limit)[0] for n in plan_nodes(conn, q, {"catalog_id": cat})]
    assert "Index Only Scan" in plans         # ids come from the index alone (no visit of each row)


def test_the_ids_come_back_in_order_with_nulls_last(big) -> None:  # type: ignore[no-untyped-def]
    conn, cat = big
    got = library.photo_id_array(conn, cat, PhotoFilter(), SortOrder(SortKey.QUALITY, True))
    rows = dict(conn.execute("SELECT id, quality FROM photos WHERE catalog_id = %s AND trashed_at IS NULL",
                             (cat,)).fetchall())
    assert len(got) == len(rows) == N - N // 1000
    want = sorted(rows, key=lambda i: (rows[i] is None, -(rows[i] or 0), -i))
    assert got.tolist() == want
    head = library.photo_id_array(conn, cat, PhotoFilter(), SortOrder(SortKey.QUALITY, True), limit=HEAD_ROWS)
    assert head.tolist() == want[:HEAD_ROWS]


@pytest.mark.parametrize("flt, order, index", [
    (PhotoFilter(status=StatusFilter.ERRORS), SortOrder(), "photos_status_idx"),
    (PhotoFilter(is_recent=True), SortOrder(SortKey.ADDED, True), "photos_browse_added_idx"),
    (PhotoFilter(date_from=date(2016, 1, 1), date_to=date(2016, 3, 31)), SortOrder(), "photos_browse_capture_idx"),
    (PhotoFilter(text="0012345"), SortOrder(), None),
    (PhotoFilter(camera_make="Canon", camera_model="Canon EOS R5", kind="raw"), SortOrder(), "photos_browse_camera_idx"),
])
def test_filters_use_an_index(big, flt: PhotoFilter, order: SortOrder, index: str | None) -> None:  # type: ignore[no-untyped-def]
    conn, cat = big
    for limit in (None, HEAD_ROWS):
        used = assert_index_walk(conn, cat, flt, order, limit=limit, sorted_by_index=False)
        if index is not None:
            assert index in used, used


def test_a_search_finds_names_by_trigrams_and_tags_by_content(big) -> None:  # type: ignore[no-untyped-def]
    conn, cat = big
    params = {"catalog_id": cat, "text": "%0012345%", "tag_terms": ["dog"], "tag_min": 0.5}
    names = {n.get("Index Name") for n in plan_nodes(conn, library.SEARCH_HITS_QUERY, params)}
    assert "photos_browse_name_trgm_idx" in names and "photo_tags_tag_idx" in names | {
        n.get("Index Name") for n in plan_nodes(conn, library.SEARCH_HITS_QUERY, params)}, names
    want = tuple(r[0] for r in conn.execute(
        "SELECT id FROM photos WHERE catalog_id = %s AND file_name LIKE '%%0012345%%' AND trashed_at IS NULL "
        "ORDER BY capture_time, id", (cat,)).fetchall())
    assert len(want) == 1 and library.list_photo_ids(conn, cat, PhotoFilter(text="0012345")) == want


def test_a_scan_looks_new_files_up_among_the_missing_photos_by_index_and_lists_folders_uncounted(big) -> None:  # type: ignore[no-untyped-def]
    from lumina_desktop.db.catalogs import list_folders
    from lumina_desktop.db.photos import MISSING_BY_CONTENT_SQL, ScanRepository

    conn, cat = big
    hashes = [r[0] for r in conn.execute("SELECT md5(g::text) FROM generate_series(1, 300, 2) g")]
    with conn.transaction():   # a drive gone: 2 % of the catalog missing, as autovacuum would see it
        conn.execute("UPDATE photos SET status = 'missing' WHERE catalog_id = %s AND status = 'ok' AND id %% 50 = 1",
                     (cat,))
        conn.execute("ANALYZE photos")
        nodes = plan_nodes(conn, MISSING_BY_CONTENT_SQL, {"catalog_id": cat, "hashes": hashes})
        on_photos = [n for n in nodes if n.get("Relation Name") == "photos"]
        assert [n.get("Index Name") for n in on_photos] == ["photos_missing_content_idx"], \
            [(n["Node Type"], n.get("Index Name")) for n in on_photos]   # not every missing row, per batch
        found = conn.execute(MISSING_BY_CONTENT_SQL, {"catalog_id": cat, "hashes": hashes}).fetchall()
        want = conn.execute("SELECT id, content_hash FROM photos WHERE catalog_id = %s AND status = 'missing' "
                            "AND content_hash = ANY(%s) ORDER BY id", (cat, hashes)).fetchall()
        assert found == want and found
        conn.execute("UPDATE photos SET status = 'ok' WHERE catalog_id = %s AND status = 'missing'", (cat,))
    conn.execute("ANALYZE photos")
    counted = list_folders(conn, cat)
    listed = ScanRepository().list_folders(conn, cat)     # the scan needs ids and paths, not 200,000 counted
    assert [(f.id, f.path) for f in listed] == [(f.id, f.path) for f in counted]
    assert sum(f.photo_count for f in counted) == N and all(f.photo_count == 0 for f in listed)


def test_the_count_beside_the_first_rows_runs_on_one_server_process(big) -> None:  # type: ignore[no-untyped-def]
    """The window opens a catalog with its first rows and their count; the count's parallel scan
    took both cores while the first screen's thumbnails were decoding."""
    import psycopg

    conn, cat = big
    with psycopg.connect(conn.info.dsn, autocommit=False) as tx:   # as the pool's connections
        counts: list[Any] = []
        real_execute = tx.execute

        def execute(query: Any, params: Any = None, **kw: Any) -> Any:
            text = query.as_string(tx) if hasattr(query, "as_string") else str(query)
            if text.startswith("SELECT count(*)"):
                counts.append(tx.execute("SHOW max_parallel_workers_per_gather").fetchone()[0])
                nodes = plan_nodes(tx, query, params)
                counts.append({n["Node Type"] for n in nodes})
            return real_execute(query, params, **kw)

        tx.execute = execute  # type: ignore[method-assign]
        head, total = library.first_ids_and_count(tx, cat, PhotoFilter(), SortOrder(), HEAD_ROWS)
        assert len(head) == HEAD_ROWS and total == N - N // 1000
        assert counts and counts[0] == "0" and not counts[1] & {"Gather", "Gather Merge"}, counts
