"""What an incremental duplicates run reads: the pHashes as arrays and the exact-hash neighbours
from the database equal the row objects and the index's own hash cliques."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from lumina_desktop.analysis.dup_index import DuplicateIndex
from lumina_desktop.db import catalogs
from lumina_desktop.db import duplicates as dup_db

pytestmark = [pytest.mark.db]

T0 = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=timezone.utc)


def add_photos(conn, cat_id: int, folder_id: int) -> list[int]:  # type: ignore[no-untyped-def]
    """Photos of every kind an index must take or leave: ok, missing, trashed, never analysed,
    without fingerprints, sharing content or image-data hashes; and one of another catalog."""
    rng = np.random.default_rng(4)
    specs = [  # (status, trashed, analysed offset s or None, content hash, image-data hash, fingerprint)
        ("ok", False, 0, "c1", "d1", True),
        ("ok", False, 10, "c1", "d9", True),         # same bytes as the first
        ("ok", False, 20, "c3", "d1", True),         # same pixels as the first
        ("ok", False, None, "c4", None, True),       # no analysed_at
        ("ok", False, 30, "c1", "d1", False),        # no fingerprint: not indexed
        ("missing", False, 40, "c1", "d1", True),    # missing: not indexed
        ("ok", True, 50, "c1", "d1", True),          # in the trash: not indexed
        ("ok", False, 60, "", "", True),             # empty hashes: no clique
        ("ok", False, 70, "", "", True),
        ("ok", False, 80, "c10", "d10", True),
    ]
    ids = []
    for i, (status, trashed, offset, ch, dh, has_fp) in enumerate(specs):
        at = None if offset is None else T0 + timedelta(seconds=offset, microseconds=i)
        pid = conn.execute(
            "INSERT INTO photos (catalog_id, folder_id, path, file_name, status, content_hash, image_data_hash, "
            "analysed_at, trashed_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (cat_id, folder_id, f"/lib/p{i}.jpg", f"p{i}.jpg", status, ch, dh, at,
             T0 if trashed else None)).fetchone()[0]
        if has_fp:
            conn.execute("INSERT INTO photo_fingerprints (photo_id, content_hash, phash, dhash, version) "
                         "VALUES (%s, %s, %s, %s, 2)", (pid, ch, rng.bytes(32), rng.bytes(32)))
        ids.append(pid)
    return ids


def test_hash_arrays_and_same_hash_equal_the_rows_and_the_index_cliques(conn, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cat = catalogs.ensure_catalog(conn, "Arrays")
    other = catalogs.ensure_catalog(conn, "Other")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    folder = catalogs.add_folder(conn, cat.id, str(tmp_path / "a"))
    other_folder = catalogs.add_folder(conn, other.id, str(tmp_path / "b"))
    ids = add_photos(conn, cat.id, folder.id)
    add_photos(conn, other.id, other_folder.id)     # same hashes in another catalog: never neighbours
    conn.commit()

    rows = dup_db.hash_rows(conn, cat.id)
    arrays = dup_db.hash_arrays(conn, cat.id)
    assert arrays.ids.tolist() == [r.id for r in rows]
    assert [bytes(p) for p in arrays.phashes] == [r.phash for r in rows]
    times = [None if us == -(1 << 63) else dup_db.to_time(int(us)) for us in arrays.analysed_us]
    assert times == [r.analysed_at for r in rows]
    assert arrays.high_water == max(r.analysed_at for r in rows if r.analysed_at is not None)
    assert arrays.high_water.microsecond == T0.microsecond + 9      # to the microsecond
    mark = T0 + timedelta(seconds=20)
    assert arrays.analysed_after(mark).tolist() == [r.id for r in rows if r.analysed_at and r.analysed_at > mark]
    assert arrays.analysed_after(None).tolist() == [r.id for r in rows]
    assert len(arrays) == 7 and ids[4] not in arrays.ids and ids[5] not in arrays.ids and ids[6] not in arrays.ids

    index = DuplicateIndex()
    index.add(rows)
    queried = [r.id for r in rows]
    cliques = {k: set(v) - {k} for k, v in index._cliques(np.array(queried)).items() if k in queried}
    assert dup_db.same_hash(conn, cat.id, queried) == {k: v for k, v in cliques.items() if v}
    assert dup_db.same_hash(conn, cat.id, [ids[0]]) == {ids[0]: {ids[1], ids[2]}}
    assert dup_db.same_hash(conn, cat.id, []) == {}
