"""The thumbnails job kind on PostgreSQL: a default scan makes grid thumbnails only, the job that
follows it makes the previews (recorded in the catalog), cancel and resume, a photo edited
between scan and job, an unwritable store, and regenerate."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from lumina_desktop.core.jobs import JobState
from lumina_desktop.storage.thumbnails import thumbnail_relpath
from tests.jobs.test_scan import make_jpeg, rows, scan

pytestmark = pytest.mark.db


def previews_of(conn, cat_id: int) -> dict[str, bool]:  # type: ignore[no-untyped-def]
    out = conn.execute("SELECT file_name, 1280 = ANY(thumb_sizes) FROM photos WHERE catalog_id = %s",
                       (cat_id,)).fetchall()
    conn.commit()
    return dict(out)


def thumbnails_job(coordinator, conn, cat_id: int, **params):  # type: ignore[no-untyped-def]
    job = coordinator.wait(coordinator.submit("thumbnails", params, catalog_id=cat_id), 120)
    conn.commit()
    return job


def test_a_default_scan_makes_grid_only_and_the_job_makes_the_previews(coordinator, conn, tmp_path: Path,
                                                                        settings) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "lib"
    for i in range(5):
        make_jpeg(root / f"img{i}.jpg", i, size=(2000, 1500))
    make_jpeg(root / "copy.jpg", 0, size=(2000, 1500))               # the same content as img0
    job, cat = scan(coordinator, conn, root)
    cache = settings.thumbnails_dir
    found = rows(conn, cat.id)
    hashes = {v[2] for v in found.values()}
    assert len(hashes) == 5 and all((cache / thumbnail_relpath(h, 256)).exists() for h in hashes)
    assert not any((cache / thumbnail_relpath(h, 1280)).exists() for h in hashes)
    assert not any(previews_of(conn, cat.id).values())
    done = thumbnails_job(coordinator, conn, cat.id, after_job=job.id)
    assert done.state == JobState.SUCCEEDED, done.error
    assert done.result["made"] == 5 and done.result["items"] == 5      # one per content: copies share it
    assert all(previews_of(conn, cat.id).values())                     # recorded for the copy as well
    assert all((cache / thumbnail_relpath(h, 1280)).exists() for h in hashes)
    again = thumbnails_job(coordinator, conn, cat.id)
    assert again.result["items"] == 0                                  # nothing left to do


def test_the_scan_queues_the_job_and_it_follows_the_previews_setting(make_coordinator, conn, tmp_path: Path,
                                                                      settings) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "lib"
    for i in range(3):
        make_jpeg(root / f"img{i}.jpg", i, size=(1600, 1200))
    co = make_coordinator(pickup=True)
    job, cat = scan(co, conn, root)
    from lumina_desktop.db import jobs as jobs_db

    children = {j.kind: j for j in jobs_db.list_jobs(conn, parent_job_id=job.id)}
    conn.commit()
    assert set(children) == {"duplicates", "thumbnails", "quality", "tags"}
    thumbs = co.wait(children["thumbnails"].id, 120)
    # the quality job decodes each photo in the preview band and keeps that preview: between them,
    # every preview is made once
    assert thumbs.state == JobState.SUCCEEDED and thumbs.result["made"] + thumbs.result["present"] == 3
    assert all(previews_of(conn, cat.id).values())
    # previews = on_demand: the job finds nothing to do (they are made when first shown)
    lazy = make_coordinator(settings=dataclasses.replace(settings, previews="on_demand"))
    make_jpeg(root / "later.jpg", 9, size=(1600, 1200))
    job2, _ = scan(lazy, conn, root)
    done = thumbnails_job(lazy, conn, cat.id, after_job=job2.id)
    assert done.result["items"] == 0 and "when a photo is first shown" in lazy.registry.get("thumbnails").summarize(done.result)
    assert previews_of(conn, cat.id)["later.jpg"] is False


def test_cancel_resume_an_edited_file_and_regenerate(make_coordinator, conn, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "lib"
    for i in range(12):
        make_jpeg(root / f"img{i:02d}.jpg", i, size=(1600, 1200))
    co = make_coordinator()
    job, cat = scan(co, conn, root)
    make_jpeg(root / "img05.jpg", 99, size=(1600, 1200))               # edited after the scan
    jid = co.submit("thumbnails", {"after_job": job.id}, catalog_id=cat.id)
    co.cancel(jid)
    first = co.wait(jid, 60)
    assert first.state in (JobState.CANCELLED, JobState.SUCCEEDED)
    if first.state == JobState.CANCELLED:
        co.resume(jid)
    done = co.wait(jid, 120)
    conn.commit()
    assert done.state == JobState.SUCCEEDED, done.error
    assert done.result["made"] == 11 and done.result["changed"] == 1
    have = previews_of(conn, cat.id)
    assert have["img05.jpg"] is False and sum(have.values()) == 11     # never a preview of other content
    redo = thumbnails_job(co, conn, cat.id, regenerate=True)
    assert redo.result["made"] == 11 and redo.result["changed"] == 1


def test_an_unwritable_store_is_a_per_item_error_and_the_job_ends(make_coordinator, conn, tmp_path: Path,
                                                                  settings) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "lib"
    for i in range(3):
        make_jpeg(root / f"img{i}.jpg", i, size=(1600, 1200))
    co = make_coordinator()
    job, cat = scan(co, conn, root)
    for h in {v[2] for v in rows(conn, cat.id).values()}:            # a file where each preview's folder is
        folder = settings.thumbnails_dir / thumbnail_relpath(h, 1280)
        (folder.parent / f"{h}_1280.jpg").mkdir()                      # a folder where the file should go
    done = thumbnails_job(co, conn, cat.id)
    assert done.state == JobState.SUCCEEDED and done.result["made"] == 0
    from lumina_desktop.db import jobs as jobs_db

    errors = jobs_db.list_item_errors(conn, done.id)
    conn.commit()
    assert len(errors) == 3 and {e.error_class for e in errors} == {"cache_unwritable"}
    assert not any(previews_of(conn, cat.id).values())


def test_the_job_keeps_the_store_within_its_budget(make_coordinator, conn, tmp_path: Path,
                                                     settings) -> None:  # type: ignore[no-untyped-def]
    """thumbnail_cache_mb = 0: the job's previews are pruned again at its end, least recently used
    first, and the catalog forgets them; the grid thumbnails of catalogued photos always stay."""
    root = tmp_path / "lib"
    for i in range(4):
        make_jpeg(root / f"img{i}.jpg", i, size=(1600, 1200))
    co = make_coordinator(settings=dataclasses.replace(settings, thumbnail_cache_mb=0))
    job, cat = scan(co, conn, root)
    stray = settings.thumbnails_dir / thumbnail_relpath("ab" * 32, 256)   # no catalog holds this photo
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"x" * 10)
    done = thumbnails_job(co, conn, cat.id, after_job=job.id)
    assert done.state == JobState.SUCCEEDED and done.result["made"] == 4 and done.result["pruned"] == 5
    assert "removed to stay within the cache size" in co.registry.get("thumbnails").summarize(done.result)
    assert not list(settings.thumbnails_dir.rglob("*_1280.jpg")) and not stray.exists()
    assert len(list(settings.thumbnails_dir.rglob("*_256.jpg"))) == 4
    assert not any(previews_of(conn, cat.id).values())
