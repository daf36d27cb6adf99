"""Browsing queries on real PostgreSQL: sort orders, every filter, search, smart views, pages, details."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from lumina_desktop.core.errors import NotFoundError
from lumina_desktop.core.library import PhotoFilter, PhotoFlag, SortKey, SortOrder, StatusFilter
from lumina_desktop.core.media import MediaKind
from lumina_desktop.core.models import PhotoStatus
from lumina_desktop.db import library

pytestmark = pytest.mark.db

_COLS = ("catalog_id", "folder_id", "path", "file_name", "size_bytes", "content_hash", "kind", "file_type",
         "format", "width", "height", "capture_time", "camera_make", "camera_model", "status", "error",
         "error_reason", "warnings", "thumb_sizes", "rating", "added_at", "lens", "iso", "aperture",
         "shutter_s", "focal_length_mm", "gps_lat", "gps_lon", "date_source", "date_confidence")


def make_catalog(conn: Any, name: str = "Lib", folders: tuple[str, ...] = ("/photos/a", "/photos/b")) -> tuple[int, list[int]]:
    cat = conn.execute("INSERT INTO catalogs (name) VALUES (%s) RETURNING id", (name,)).fetchone()[0]
    ids = [conn.execute("INSERT INTO catalog_folders (catalog_id, path) VALUES (%s, %s) RETURNING id",
                        (cat, p)).fetchone()[0] for p in folders]
    conn.commit()
    return cat, ids


def add_photo(conn: Any, catalog_id: int, folder_id: int | None, file_name: str, **kw: Any) -> int:
    values: dict[str, Any] = {
        "catalog_id": catalog_id, "folder_id": folder_id, "file_name": file_name,
        "path": kw.pop("path", f"/photos/x/{file_name}"), "status": "ok", "kind": "image", "warnings": [],
        "thumb_sizes": [256, 1280], "content_hash": None, **kw,
    }
    cols = [c for c in _COLS if c in values]
    row = conn.execute(f"INSERT INTO photos ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))}) RETURNING id",
                       [values[c] for c in cols]).fetchone()
    return int(row[0])


@pytest.fixture
def lib(conn):  # type: ignore[no-untyped-def]
    """A small catalog with every kind of row the filters care about."""
    cat, (fa, fb) = make_catalog(conn)
    t = datetime(2020, 5, 1, 12, 0)
    old = datetime.now(timezone.utc) - timedelta(days=60)
    ids = {
        "b.jpg": add_photo(conn, cat, fa, "b.jpg", size_bytes=300, capture_time=t, camera_make="Canon",
                           camera_model="Canon EOS 5D", added_at=old),
        "a.jpg": add_photo(conn, cat, fa, "a.jpg", size_bytes=100, capture_time=t + timedelta(days=1),
                           camera_make="Canon", camera_model="Canon EOS 5D", added_at=old, rating=3),
        "c_100%.NEF": add_photo(conn, cat, fb, "c_100%.NEF", size_bytes=900, kind="raw", file_type="NEF",
                                capture_time=t - timedelta(days=400), camera_make="NIKON", camera_model="D750",
                                added_at=old),
        "clip.mp4": add_photo(conn, cat, fb, "clip.mp4", size_bytes=5000, kind="video", capture_time=None,
                              thumb_sizes=[], added_at=old),
        "broken.jpg": add_photo(conn, cat, fb, "broken.jpg", size_bytes=10, status="error", kind=None,
                                error="truncated: image file is truncated", error_reason="truncated", thumb_sizes=[],
                                added_at=old),
        "gone.jpg": add_photo(conn, cat, fa, "gone.jpg", size_bytes=None, status="missing",
                              capture_time=t, added_at=old),
        "Cx1.jpg": add_photo(conn, cat, fa, "Cx1.jpg", size_bytes=300, capture_time=t, warnings=["odd exif"]),
    }
    # another catalog never leaks in
    other, (fo,) = make_catalog(conn, "Other", ("/elsewhere",))
    add_photo(conn, other, fo, "a.jpg")
    conn.commit()
    return cat, fa, fb, ids


def names(conn: Any, cat: int, ids: tuple[int, ...]) -> list[str]:
    by_id = {s.id: s.file_name for s in library.fetch_summaries(conn, ids).values()}
    return [by_id[i] for i in ids]


def q(conn: Any, cat: int, flt: PhotoFilter = PhotoFilter(), key: SortKey = SortKey.CAPTURE_TIME,
      desc: bool = False) -> list[str]:
    return names(conn, cat, library.list_photo_ids(conn, cat, flt, SortOrder(key, desc)))


def test_sort_orders(conn, lib) -> None:  # type: ignore[no-untyped-def]
    cat, _, _, ids = lib
    # date taken: undated last in both directions; ties by id
    assert q(conn, cat) == ["c_100%.NEF", "b.jpg", "gone.jpg", "Cx1.jpg", "a.jpg", "clip.mp4", "broken.jpg"]
    assert q(conn, cat, desc=True) == ["a.jpg", "Cx1.jpg", "gone.jpg", "b.jpg", "c_100%.NEF", "broken.jpg", "clip.mp4"]
    by_name = q(conn, cat, key=SortKey.FILE_NAME)
    assert sorted(by_name) == sorted(ids) and q(conn, cat, key=SortKey.FILE_NAME, desc=True) == by_name[::-1]
    assert by_name.index("a.jpg") < by_name.index("b.jpg") < by_name.index("clip.mp4")
    assert q(conn, cat, key=SortKey.FILE_SIZE) == ["broken.jpg", "a.jpg", "b.jpg", "Cx1.jpg", "c_100%.NEF",
                                                   "clip.mp4", "gone.jpg"]
    assert q(conn, cat, key=SortKey.FILE_SIZE, desc=True)[:2] == ["clip.mp4", "c_100%.NEF"]
    assert q(conn, cat, key=SortKey.FILE_SIZE, desc=True)[-1] == "gone.jpg"
    # date added: Cx1 was added now, the rest 60 days ago (ties in insertion order)
    assert q(conn, cat, key=SortKey.ADDED, desc=True)[0] == "Cx1.jpg"
    assert q(conn, cat, key=SortKey.ADDED)[-1] == "Cx1.jpg"
    assert q(conn, cat, key=SortKey.ADDED)[:2] == ["b.jpg", "a.jpg"]


def test_each_filter(conn, lib) -> None:  # type: ignore[no-untyped-def]
    cat, fa, fb, _ = lib
    key = SortKey.FILE_NAME
    assert set(q(conn, cat, PhotoFilter(folder_id=fa), key)) == {"a.jpg", "b.jpg", "gone.jpg", "Cx1.jpg"}
    assert set(q(conn, cat, PhotoFilter(folder_id=fb), key)) == {"c_100%.NEF", "clip.mp4", "broken.jpg"}
    d = date(2020, 5, 1)
    assert set(q(conn, cat, PhotoFilter(date_from=d, date_to=d), key)) == {"b.jpg", "gone.jpg", "Cx1.jpg"}
    assert set(q(conn, cat, PhotoFilter(date_from=d + timedelta(days=1)), key)) == {"a.jpg"}
    assert set(q(conn, cat, PhotoFilter(date_to=date(2019, 12, 31)), key)) == {"c_100%.NEF"}
    assert set(q(conn, cat, PhotoFilter(camera_make="Canon", camera_model="Canon EOS 5D"), key)) == {"a.jpg", "b.jpg"}
    assert set(q(conn, cat, PhotoFilter(camera_make="NIKON", camera_model="D750"), key)) == {"c_100%.NEF"}
    assert q(conn, cat, PhotoFilter(kind="raw"), key) == ["c_100%.NEF"]
    assert q(conn, cat, PhotoFilter(kind="video"), key) == ["clip.mp4"]
    assert set(q(conn, cat, PhotoFilter(kind="image"), key)) == {"a.jpg", "b.jpg", "gone.jpg", "Cx1.jpg"}
    assert q(conn, cat, PhotoFilter(status=StatusFilter.ERRORS), key) == ["broken.jpg"]
    assert q(conn, cat, PhotoFilter(status=StatusFilter.MISSING), key) == ["gone.jpg"]
    both = PhotoFilter(folder_id=fa, camera_make="Canon", camera_model="Canon EOS 5D", date_from=d + timedelta(days=1))
    assert q(conn, cat, both, key) == ["a.jpg"]


def test_text_search_is_case_insensitive_and_literal(conn, lib) -> None:  # type: ignore[no-untyped-def]
    cat, *_ = lib
    assert set(q(conn, cat, PhotoFilter(text="C"), SortKey.FILE_NAME)) == {"c_100%.NEF", "clip.mp4", "Cx1.jpg"}
    assert q(conn, cat, PhotoFilter(text="  .nef "), SortKey.FILE_NAME) == ["c_100%.NEF"]
    assert q(conn, cat, PhotoFilter(text="100%"), SortKey.FILE_NAME) == ["c_100%.NEF"]
    assert q(conn, cat, PhotoFilter(text="c_"), SortKey.FILE_NAME) == ["c_100%.NEF"]  # '_' is not a wildcard
    assert q(conn, cat, PhotoFilter(text="%"), SortKey.FILE_NAME) == ["c_100%.NEF"]
    assert q(conn, cat, PhotoFilter(text="nothing-like-this")) == []


def test_smart_views(conn, lib) -> None:  # type: ignore[no-untyped-def]
    cat, *_ = lib
    assert len(q(conn, cat, PhotoFilter.for_smart_view("all"))) == 7
    assert q(conn, cat, PhotoFilter.for_smart_view("recent")) == ["Cx1.jpg"]
    assert q(conn, cat, PhotoFilter.for_smart_view("errors")) == ["broken.jpg"]
    assert q(conn, cat, PhotoFilter.for_smart_view("missing")) == ["gone.jpg"]
    with pytest.raises(NotFoundError, match="no smart view named 'favourites'"):
        PhotoFilter.for_smart_view("favourites")
    assert PhotoFilter(folder_id=3).with_smart_view("errors") == PhotoFilter(folder_id=3, status=StatusFilter.ERRORS)


def test_recent_falls_back_to_the_last_scan_that_added_photos(conn) -> None:  # type: ignore[no-untyped-def]
    cat, (fa, _) = make_catalog(conn)
    now = datetime.now(timezone.utc)
    add_photo(conn, cat, fa, "ancient.jpg", added_at=now - timedelta(days=90))
    conn.execute("INSERT INTO jobs (catalog_id, kind, state, created_at) VALUES (%s, 'scan', 'succeeded', %s)",
                 (cat, now - timedelta(days=30, minutes=5)))
    add_photo(conn, cat, fa, "last_import_1.jpg", added_at=now - timedelta(days=30))
    add_photo(conn, cat, fa, "last_import_2.jpg", added_at=now - timedelta(days=30, seconds=-40))
    # a later scan that found nothing new does not empty the view
    conn.execute("INSERT INTO jobs (catalog_id, kind, state, created_at) VALUES (%s, 'scan', 'succeeded', %s)",
                 (cat, now - timedelta(days=10)))
    conn.commit()
    assert set(q(conn, cat, PhotoFilter(is_recent=True))) == {"last_import_1.jpg", "last_import_2.jpg"}
    add_photo(conn, cat, fa, "today.jpg")
    conn.commit()
    assert q(conn, cat, PhotoFilter(is_recent=True)) == ["today.jpg"]
    empty, _ = make_catalog(conn, "Empty", ())
    assert library.list_photo_ids(conn, empty, PhotoFilter(is_recent=True)) == ()


def test_summaries_details_options_and_helpers(conn, lib) -> None:  # type: ignore[no-untyped-def]
    cat, fa, fb, ids = lib
    conn.execute("UPDATE photos SET lens = 'EF 50mm', iso = 200, aperture = 1.8, shutter_s = 0.004, "
                 "focal_length_mm = 50, gps_lat = 48.85, gps_lon = 2.29, date_source = 'exif', "
                 "date_confidence = 'high', content_hash = %s, keywords = '{a,b}' WHERE id = %s",
                 ("ab" * 32, ids["a.jpg"]))
    conn.commit()
    page = library.fetch_summaries(conn, [ids["a.jpg"], ids["broken.jpg"], ids["Cx1.jpg"], 999999])
    assert set(page) == {ids["a.jpg"], ids["broken.jpg"], ids["Cx1.jpg"]}
    a = page[ids["a.jpg"]]
    assert a.thumb_sizes == (256, 1280) and a.rating == 3 and a.content_hash == "ab" * 32
    assert a.thumb_px_for(200) == 256 and a.thumb_px_for(300) == 1280 and a.flags == PhotoFlag.NONE
    assert page[ids["broken.jpg"]].flags == PhotoFlag.ERROR and page[ids["broken.jpg"]].thumb_px_for(256) is None
    assert page[ids["Cx1.jpg"]].flags == PhotoFlag.HAS_WARNINGS
    assert a.status is PhotoStatus.OK and a.kind is MediaKind.IMAGE  # typed, not the stored strings
    assert page[ids["broken.jpg"]].status is PhotoStatus.ERROR and page[ids["broken.jpg"]].kind is None

    d = library.photo_details(conn, ids["a.jpg"])
    assert d is not None and d.folder_path == "/photos/a" and d.lens == "EF 50mm" and d.iso == 200
    assert d.keywords == ("a", "b") and d.thumb_sizes == (256, 1280) and d.warnings == ()
    assert d.date_source == "exif" and d.os_path == "/photos/x/a.jpg"
    broken = library.photo_details(conn, ids["broken.jpg"])
    assert broken is not None and broken.error_reason == "truncated" and broken.status is PhotoStatus.ERROR
    assert d.kind is MediaKind.IMAGE and d.status is PhotoStatus.OK
    assert library.photo_details(conn, 999999) is None

    opts = library.filter_options(conn, cat)
    assert [f.path for f in opts.folders] == ["/photos/a", "/photos/b"] and opts.folders[0].photo_count == 4
    assert [(c.make, c.model, c.photo_count) for c in opts.cameras] == [("Canon", "Canon EOS 5D", 2), ("NIKON", "D750", 1)]
    assert [c.label for c in opts.cameras] == ["Canon EOS 5D", "NIKON D750"]
    assert opts.kinds == (MediaKind.IMAGE, MediaKind.RAW, MediaKind.VIDEO) and opts.total == 7
    assert opts.first_date == date(2019, 3, 28) and opts.last_date == date(2020, 5, 2)
    # its pass over the catalog runs on one core (no parallel workers), for this transaction only
    assert conn.execute("SHOW max_parallel_workers_per_gather").fetchone()[0] == "0"
    conn.rollback()
    assert conn.execute("SHOW max_parallel_workers_per_gather").fetchone()[0] != "0"

    assert library.folder_ids_of(conn, [ids["a.jpg"], ids["b.jpg"], ids["clip.mp4"]]) == (fa, fb)
    assert library.photo_paths(conn, [ids["a.jpg"]]) == {ids["a.jpg"]: "/photos/x/a.jpg"}


def test_large_catalog_ids_come_back_in_one_call(conn) -> None:  # type: ignore[no-untyped-def]
    cat, (fa, _) = make_catalog(conn)
    conn.execute("INSERT INTO photos (catalog_id, folder_id, path, file_name, size_bytes, capture_time, status) "
                 "SELECT %s, %s, '/p/' || g, 'f' || lpad(g::text, 6, '0') || '.jpg', g, "
                 "timestamp '2020-01-01' + g * interval '1 minute', 'ok' FROM generate_series(1, 20000) g",
                 (cat, fa))
    conn.commit()
    ids = library.list_photo_ids(conn, cat, PhotoFilter(), SortOrder(SortKey.CAPTURE_TIME, True))
    assert len(ids) == 20000 and ids == tuple(sorted(ids, reverse=True))
    assert library.list_photo_ids(conn, cat, PhotoFilter(text="f01999")) != ()


@pytest.mark.slow
def test_queries_on_a_scanned_folder(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A few real files through the scan job, then browsed."""
    from lumina_desktop.config import load_settings
    from lumina_desktop.core.jobs import JobState
    from lumina_desktop.db import catalogs
    from lumina_desktop.jobs.engine.coordinator import JobCoordinator
    from lumina_desktop.jobs import wiring
    from lumina_desktop.jobs.engine.executor import shutdown_executor
    from tests.jobs.conftest import FAST
    from tests.jobs.test_scan import make_jpeg

    root = tmp_path / "lib"
    for i in range(4):
        make_jpeg(root / f"img{i}.jpg", i, size=(320, 240))
    (root / "bad.jpg").write_bytes(b"not a jpeg at all")
    settings = load_settings({"data_dir": str(tmp_path / "data"), "background_workers": 2}, environ={},
                             config_dir=tmp_path)
    co = wiring.coordinator(db, settings, timing=FAST)
    try:
        with db.connection() as conn:
            cat = catalogs.ensure_catalog(conn, "Scanned")
            folder = catalogs.add_folder(conn, cat.id, str(root))
            conn.commit()
        job_id = co.submit("scan", {"folder_ids": [folder.id]}, catalog_id=cat.id)
        assert co.wait(job_id, 60).state == JobState.SUCCEEDED
    finally:
        co.shutdown()
        shutdown_executor()
    with db.connection() as conn:
        assert q(conn, cat.id, key=SortKey.FILE_NAME) == ["bad.jpg", "img0.jpg", "img1.jpg", "img2.jpg", "img3.jpg"]
        assert q(conn, cat.id, PhotoFilter.for_smart_view("errors")) == ["bad.jpg"]
        assert len(q(conn, cat.id, PhotoFilter.for_smart_view("recent"))) == 5
        assert q(conn, cat.id, PhotoFilter(folder_id=folder.id, text="IMG3")) == ["img3.jpg"]
        ok = library.fetch_summaries(conn, library.list_photo_ids(conn, cat.id, PhotoFilter(kind="image")))
        assert len(ok) == 4 and all(s.thumb_sizes and s.content_hash for s in ok.values())
        assert all(s.width == 320 and s.height == 240 for s in ok.values())


def test_search_text_finds_file_names_and_the_tags_it_means(conn, db) -> None:  # type: ignore[no-untyped-def]
    """The filter bar's search: a file name, or a tag the words mean — "dog" finds a golden
    retriever (the hierarchy), "seaside" a beach (a synonym) — visible tags only: not below the
    confidence shown, not one the user rejected; the user's own tags whatever their confidence."""
    from lumina_desktop.db import tags as tags_db
    from lumina_desktop.services.photos import PhotoQuery

    cat, (fa, _fb) = make_catalog(conn, "Tagged")
    ids = {name: add_photo(conn, cat, fa, name, content_hash=f"{i:064x}", path=f"/photos/a/{name}")
           for i, name in enumerate(("IMG_1.jpg", "IMG_2.jpg", "IMG_3.jpg", "IMG_4.jpg", "dog_show.jpg"), start=1)}
    rows = [(1, "golden retriever", "model", 0.81), (2, "seashore", "model", 0.66), (3, "tabby", "model", 0.12),
            (4, "golden retriever", "model", 0.9), (4, "golden retriever", "user", 1.0)]
    for n, tag, source, conf in rows:
        conn.execute("INSERT INTO photo_tags (catalog_id, content_hash, tag, source, confidence, is_rejected) "
                     "VALUES (%s, %s, %s, %s, %s, %s)", (cat, f"{n:064x}", tag, source, conf, source == "user"))
    conn.commit()
    q = PhotoQuery(db)

    def found(text: str) -> set[str]:
        got = set(q.ids(cat, PhotoFilter(text=text)))
        return {name for name, pid in ids.items() if pid in got}

    assert found("dog") == {"IMG_1.jpg", "dog_show.jpg"}     # a breed is a dog; IMG_4's tag was rejected
    assert found("seaside") == {"IMG_2.jpg"}                  # a synonym of beach (seashore)
    assert found("cat") == set()                              # tabby at 0.12: hidden
    assert found("IMG_3") == {"IMG_3.jpg"}                    # file names still match
    tags_db.add_user_tag(conn, cat, f"{3:064x}", "cat")       # the user's tag counts whatever the model said
    conn.commit()
    assert found("cat") == {"IMG_3.jpg"}
