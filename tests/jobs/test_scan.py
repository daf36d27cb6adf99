"""The scan (ingest) job end to end on real files and real PostgreSQL: incremental, robust, CLI."""
from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest
from PIL import Image

from lumina_desktop.storage.thumbnails import thumbnail_relpath
from lumina_desktop.core.jobs import JobState
from lumina_desktop.db import catalogs
from lumina_desktop.db import jobs as jobs_db

pytestmark = [pytest.mark.db, pytest.mark.slow]
PHOTOS = Path(__file__).resolve().parents[3] / "shared" / "photos"


def make_jpeg(path: Path, seed: int, size: tuple[int, int] = (640, 480), exif: Image.Exif | None = None) -> Path:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, (size[1] // 16, size[0] // 16, 3), dtype=np.uint8)
    im = Image.fromarray(base).resize(size, Image.BICUBIC)
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path, "JPEG", quality=90, exif=exif or Image.Exif())
    return path


def bomb_png(path: Path, side: int = 60000) -> None:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 100)) + chunk(b"IEND", b""))


def scan(coordinator, conn, root: Path, **params: Any):  # type: ignore[no-untyped-def]
    cat = catalogs.ensure_catalog(conn, "Test")
    folder = catalogs.add_folder(conn, cat.id, str(root))
    conn.commit()
    job_id = coordinator.submit("scan", {"folder_ids": [folder.id], **params}, catalog_id=cat.id)
    job = coordinator.wait(job_id, 120)
    assert job.state == JobState.SUCCEEDED, job.error
    return job, cat


def rows(conn, cat_id: int) -> dict[str, tuple]:  # type: ignore[no-untyped-def]
    out = conn.execute("SELECT file_name, id, status, content_hash, error_reason, analysed_at, width, height "
                       "FROM photos WHERE catalog_id = %s", (cat_id,)).fetchall()
    conn.commit()
    return {r[0]: r[1:] for r in out}


def test_scan_then_incremental_rescan(coordinator, conn, tmp_path: Path, settings) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "lib"
    for i in range(6):
        make_jpeg(root / f"sub{i % 2}" / f"img{i}.jpg", i)
    job, cat = scan(coordinator, conn, root)
    assert job.result["new"] == 6 and job.result["files"] == 6 and job.result["errors"] == 0
    first = rows(conn, cat.id)
    assert {v[1] for v in first.values()} == {"ok"}
    assert first["img0.jpg"][5:] == (640, 480)
    h = first["img0.jpg"][2]
    assert (settings.thumbnails_dir / thumbnail_relpath(h, 256)).exists()
    assert not (settings.thumbnails_dir / thumbnail_relpath(h, 1280)).exists()   # the thumbnails job makes it
    fp = conn.execute("SELECT length(phash), length(dhash), length(grey) FROM photo_fingerprints f "
                      "JOIN photos p ON p.id = f.photo_id WHERE p.file_name = 'img0.jpg'").fetchone()
    assert fp == (32, 32, 4096)

    # unchanged: nothing read, nothing re-analysed
    job2, _ = scan(coordinator, conn, root)
    assert job2.result["unchanged"] == 6 and job2.result["new"] == 0 and job2.result["items"] == 0
    assert rows(conn, cat.id) == first

    # changed, moved, vanished, new
    make_jpeg(root / "sub0" / "img0.jpg", 100)  # new content at the same path
    os.utime(root / "sub0" / "img0.jpg", ns=(1, 1_000_000_000))
    (root / "moved").mkdir()
    shutil.move(root / "sub1" / "img1.jpg", root / "moved" / "renamed.jpg")
    (root / "sub0" / "img2.jpg").unlink()
    make_jpeg(root / "sub1" / "fresh.jpg", 55)
    job3, _ = scan(coordinator, conn, root)
    r = job3.result
    assert (r["changed"], r["moved"], r["new"], r["missing"], r["unchanged"]) == (1, 1, 1, 1, 3), r
    after = rows(conn, cat.id)
    assert after["img0.jpg"][0] == first["img0.jpg"][0] and after["img0.jpg"][2] != first["img0.jpg"][2]
    assert after["renamed.jpg"][0] == first["img1.jpg"][0]  # same row: tags and decisions stay
    assert "img1.jpg" not in after
    assert after["img2.jpg"][1] == "missing" and after["img2.jpg"][0] == first["img2.jpg"][0]
    # the vanished file comes back unchanged: present again, not re-read
    make_jpeg(root / "sub0" / "img2.jpg", 2)
    os.utime(root / "sub0" / "img2.jpg", ns=(1, 2_000_000_000))
    job4, _ = scan(coordinator, conn, root)
    assert rows(conn, cat.id)["img2.jpg"][1] == "ok"
    assert job4.result["missing"] == 0


def test_bad_files_become_item_errors_and_the_job_finishes(coordinator, conn, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "bad"
    root.mkdir()
    good = make_jpeg(root / "good.jpg", 1)
    data = good.read_bytes()
    (root / "truncated.jpg").write_bytes(data[: len(data) // 2])
    (root / "empty.jpg").write_bytes(b"")
    (root / "notes.jpg").write_text("this is not a picture\n" * 10)
    bomb_png(root / "bomb.png")
    exif = Image.Exif()
    exif[0x010F] = "Maker"
    bad_exif = make_jpeg(root / "corrupt_exif.jpg", 2, exif=exif)
    raw = bytearray(bad_exif.read_bytes())
    i = raw.find(b"Exif\0\0")
    raw[i + 10:i + 14] = b"\xff\xff\xff\x7f"  # IFD offset points nowhere
    bad_exif.write_bytes(bytes(raw))
    (root / "png_named.jpg").write_bytes((lambda p: (Image.new("RGB", (50, 40), "red").save(p, "PNG"), p.read_bytes())[1])(tmp_path / "x.png"))
    odd = os.fsencode(str(root)) + b"/caf\xe9-\xff.jpg"
    with open(odd, "wb") as f:
        f.write(data)
    long_name = root / ("L" * 240 + ".jpg")
    long_name.write_bytes(data)
    (root / "loop").symlink_to(root, target_is_directory=True)
    (root / "dangling.jpg").symlink_to(root / "nowhere.jpg")
    doomed = make_jpeg(root / "deleted_mid_scan.jpg", 3)

    import lumina_desktop.jobs.kinds.scan as scan_mod

    real = scan_mod.analyse_file

    def deleting(path: Any, **kw: Any) -> Any:
        if os.fsdecode(path).endswith("deleted_mid_scan.jpg") and os.path.exists(path):
            os.unlink(path)
        return real(path, **kw)

    monkeypatch.setattr(scan_mod, "analyse_file", deleting)
    job, cat = scan(coordinator, conn, root)
    errors = {Path(e.item).name: e.error_class for e in jobs_db.list_item_errors(conn, job.id)}
    assert errors == {
        "truncated.jpg": "truncated", "empty.jpg": "empty_file", "notes.jpg": "not_an_image",
        "bomb.png": "decompression_bomb", "deleted_mid_scan.jpg": "vanished", "dangling.jpg": "broken_link",
    }, errors
    assert job.item_errors == 6
    by_name = rows(conn, cat.id)
    for ok in ("good.jpg", "corrupt_exif.jpg", "png_named.jpg", long_name.name):
        assert by_name[ok][1] == "ok", ok
    odd_rows = conn.execute("SELECT path_bytes, status FROM photos WHERE path_bytes IS NOT NULL").fetchall()
    assert odd_rows == [(odd, "ok")]
    assert by_name["truncated.jpg"][1:4:2] == ("error", "truncated")
    assert by_name["deleted_mid_scan.jpg"][1] == "missing"
    warnings = conn.execute("SELECT warnings FROM photos WHERE file_name IN ('corrupt_exif.jpg', 'png_named.jpg') "
                            "ORDER BY file_name").fetchall()
    assert all(w[0] for w in warnings), warnings  # each recorded why it was odd
    # nothing about the bad files is retried on an unchanged rescan
    job2, _ = scan(coordinator, conn, root)
    assert job2.result["items"] == 0


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file; unreadable files are covered in tests/analysis")
def test_unreadable_file_is_an_item_error(coordinator, conn, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "perm"
    p = make_jpeg(root / "secret.jpg", 1)
    p.chmod(0)
    job, _ = scan(coordinator, conn, root)
    assert [e.error_class for e in jobs_db.list_item_errors(conn, job.id)] == ["unreadable"]


def test_cancel_and_resume_a_scan_matches_an_uninterrupted_scan(coordinator, conn, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.jobs.conftest import wait_until

    root = tmp_path / "many"
    for i in range(120):
        make_jpeg(root / f"p{i:03d}.jpg", i, size=(320, 240))
    cat = catalogs.ensure_catalog(conn, "Cancel")
    folder = catalogs.add_folder(conn, cat.id, str(root))
    conn.commit()
    job_id = coordinator.submit("scan", {"folder_ids": [folder.id]}, catalog_id=cat.id)
    wait_until(lambda: coordinator.batches.progress(job_id)[0] >= 30, 60)
    coordinator.cancel(job_id)
    assert coordinator.wait(job_id, 30).state == JobState.CANCELLED
    coordinator.resume(job_id)
    job = coordinator.wait(job_id, 120)
    assert job.state == JobState.SUCCEEDED and job.result["new"] + job.result["changed"] <= 120
    got = conn.execute("SELECT file_name, content_hash, width FROM photos WHERE catalog_id = %s ORDER BY 1",
                       (cat.id,)).fetchall()
    ref_job, ref_cat = scan(coordinator, conn, root.parent / "many")  # same files, catalog "Test"
    want = conn.execute("SELECT file_name, content_hash, width FROM photos WHERE catalog_id = %s ORDER BY 1",
                        (ref_cat.id,)).fetchall()
    assert got == want and len(got) == 120


def test_scan_cli_summary(test_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "cli"
    for i in range(3):
        make_jpeg(root / f"c{i}.jpg", i)
    (root / "broken.jpg").write_bytes(b"")
    env = {**os.environ, "LUMINA_DATA_DIR": str(tmp_path / "data")}
    res = subprocess.run([sys.executable, "-m", "lumina_desktop", "--database-url", test_db.conninfo, "scan",
                          str(root), "--catalog", "Holiday"], capture_output=True, text=True, timeout=120, env=env)
    assert res.returncode == 0, res.stderr
    assert "4 files: 3 new" in res.stdout and "1 errors" in res.stdout
    assert "100.0%" in res.stderr
    # the follow-on is queued, not run: a window or a worker picks it up
    assert "queued: Find duplicates  (#2)" in res.stdout
    with psycopg.connect(test_db.conninfo) as c:
        assert c.execute("SELECT kind, state, parent_job_id FROM jobs WHERE id = 2").fetchone() == \
            ("duplicates", "pending", 1)
    # --all runs the follow-ons here too, each with its own bar; a rescan changes nothing, so
    # nothing follows it
    (root / "c9.jpg").write_bytes((root / "c0.jpg").read_bytes())
    res = subprocess.run([sys.executable, "-m", "lumina_desktop", "--database-url", test_db.conninfo, "scan",
                          str(root), "--catalog", "Holiday", "--all"], capture_output=True, text=True, timeout=120,
                         env=env)
    assert res.returncode == 0, res.stderr
    assert "1 new" in res.stdout and "(Find duplicates): done; 1 group: 1 identical" in res.stdout, res.stdout
    assert "1 errors" in res.stdout  # broken.jpg is unchanged, and still an error of this scan
    assert (tmp_path / "data" / "logs" / "lumina.log").is_file()  # the CLI logs where the window does
    # jobs #2–#5 are the first scan's queued follow-ons (duplicates, thumbnails, quality, tags); this
    # scan is #6, its follow-ons #7–#10, and the quality job's own follow-on (bursts) #11
    assert "#7 Find duplicates: " in res.stderr and "#8 Make previews: " in res.stderr
    assert "#9 Score quality: " in res.stderr and "#10 Tag photos: " in res.stderr and "#11 Find bursts: " in res.stderr
    (root / "README").write_text("no extension")
    (root / ".hidden.jpg").write_bytes((root / "c0.jpg").read_bytes())
    res = subprocess.run([sys.executable, "-m", "lumina_desktop", "--database-url", test_db.conninfo, "scan",
                          str(root)], capture_output=True, text=True, timeout=120, env=env)
    assert res.returncode == 0, res.stderr
    assert "2 other files passed over (hidden, or not a photo or video type)" in res.stdout, res.stdout
    # the duplicates commands default to the scan's default catalog, as scan does
    res = subprocess.run([sys.executable, "-m", "lumina_desktop", "--database-url", test_db.conninfo, "duplicates",
                          "stats"], capture_output=True, text=True, timeout=60, env=env)
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr
    res = subprocess.run([sys.executable, "-m", "lumina_desktop", "--database-url", test_db.conninfo, "scan",
                          str(tmp_path / "nope")], capture_output=True, text=True, timeout=60, env=env)
    assert res.returncode == 1 and "does not exist" in res.stderr and "Traceback" not in res.stderr


@pytest.mark.skipif(not PHOTOS.is_dir(), reason="../shared/photos is not present")
def test_scan_of_the_real_photo_corpus(coordinator, conn) -> None:  # type: ignore[no-untyped-def]
    job, cat = scan(coordinator, conn, PHOTOS)
    r = job.result
    assert r["files"] > 500 and r["new"] > 0.95 * r["files"]
    known = {"unsupported", "truncated", "not_an_image", "corrupt", "empty_file"}
    classes = {e.error_class for e in jobs_db.list_item_errors(conn, job.id, 5000)}
    assert classes <= known, classes
    # every orientation sample has its displayed (upright) dimensions: landscape_N wide, portrait_N tall
    orient = conn.execute("SELECT file_name, width, height FROM photos WHERE path LIKE %s AND status = 'ok'",
                          ("%exif-samples/jpg/orientation/%",)).fetchall()
    assert len(orient) == 16
    for name, w, h in orient:
        assert (w > h) == name.startswith("landscape"), (name, w, h)


def test_previews_on_demand_scan_makes_grid_only_and_the_preview_when_first_shown(
        make_coordinator, conn, db, tmp_path: Path, settings) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    from lumina_desktop.db import library
    from lumina_desktop.db.thumbnails import ThumbnailSizes
    from lumina_desktop.services.images import PhotoImages
    from lumina_desktop.storage.thumbnails import ThumbnailStore

    lazy = dataclasses.replace(settings, previews="on_demand")
    root = tmp_path / "lib"
    make_jpeg(root / "big.jpg", 1, size=(3000, 2000))
    make_jpeg(root / "edited.jpg", 2, size=(2400, 1600))
    job, cat = scan(make_coordinator(settings=lazy), conn, root)
    assert job.result["new"] == 2 and job.result["errors"] == 0
    found = rows(conn, cat.id)
    ids = {name: v[0] for name, v in found.items()}
    sizes = conn.execute("SELECT DISTINCT thumb_sizes::int[] FROM photos WHERE catalog_id = %s", (cat.id,)).fetchall()
    assert sizes == [([256],)]
    big_hash = found["big.jpg"][2]
    cache = lazy.thumbnails_dir
    assert (cache / thumbnail_relpath(big_hash, 256)).exists()
    assert not (cache / thumbnail_relpath(big_hash, 1280)).exists()

    details = library.photo_details(conn, ids["big.jpg"])
    assert details is not None
    images = PhotoImages(ThumbnailStore(cache, recorder=ThumbnailSizes(db)))
    image = images.preview(details, 100_000)
    made = cache / thumbnail_relpath(big_hash, 1280)
    conn.commit()
    # the store recorded the new size: the catalog knows the preview exists (it went stale before)
    assert library.photo_details(conn, ids["big.jpg"]).thumb_sizes == (256, 1280)  # type: ignore[union-attr]
    assert made.exists() and image is not None
    with Image.open(made) as preview:
        assert preview.size == (1500, 1000)  # the 1/2-scale decode, as a scan would make it
    assert (image.width, image.height) == (1500, 1000)

    # a file edited since the scan gets no preview under its old hash: the grid image is shown
    edited = library.photo_details(conn, ids["edited.jpg"])
    assert edited is not None
    make_jpeg(root / "edited.jpg", 99, size=(2400, 1600))
    image = images.preview(edited, 100_000)
    assert not (cache / thumbnail_relpath(edited.content_hash or "", 1280)).exists()
    assert image is not None and max(image.width, image.height) == 256


def test_rescan_refreshes_fingerprints_from_an_older_analysis_chain(coordinator, conn, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from lumina_desktop.core.media import FINGERPRINT_VERSION

    root = tmp_path / "lib"
    for i in range(3):
        make_jpeg(root / f"img{i}.jpg", i)
    job, cat = scan(coordinator, conn, root)
    assert job.result["new"] == 3 and job.result["refreshed"] == 0
    before = rows(conn, cat.id)
    old_id = before["img1.jpg"][0]
    good = conn.execute("SELECT phash, version FROM photo_fingerprints WHERE photo_id = %s", (old_id,)).fetchone()
    assert good[1] == FINGERPRINT_VERSION
    # as if analysed by the chain before this one: an older version and different hash bits
    conn.execute("UPDATE photo_fingerprints SET version = %s, phash = %s WHERE photo_id = %s",
                 (FINGERPRINT_VERSION - 1, b"\0" * 32, old_id))
    conn.commit()
    job, _ = scan(coordinator, conn, root)
    r = job.result
    assert (r["refreshed"], r["unchanged"], r["new"], r["changed"], r["errors"]) == (1, 2, 0, 0, 0)
    after = rows(conn, cat.id)
    assert after["img1.jpg"][0] == old_id  # same row: tags and decisions stay
    fresh = conn.execute("SELECT phash, version FROM photo_fingerprints WHERE photo_id = %s", (old_id,)).fetchone()
    conn.commit()
    assert fresh == good
    job, _ = scan(coordinator, conn, root)
    assert (job.result["refreshed"], job.result["unchanged"]) == (0, 3)


def test_two_copies_of_a_missing_photo_in_one_batch_one_is_the_move(coordinator, conn, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The batched store matches the file-by-file one: a missing photo is claimed by one copy only."""
    root = tmp_path / "lib"
    make_jpeg(root / "a.jpg", 1)
    make_jpeg(root / "keep.jpg", 2)
    job, cat = scan(coordinator, conn, root)
    old_id = rows(conn, cat.id)["a.jpg"][0]
    data = (root / "a.jpg").read_bytes()
    (root / "a.jpg").unlink()
    job = coordinator.wait(coordinator.submit("scan", {}, catalog_id=cat.id), 60)
    assert job.result["missing"] == 1
    (root / "x").mkdir()
    (root / "x" / "copy1.jpg").write_bytes(data)
    (root / "x" / "copy2.jpg").write_bytes(data)
    job = coordinator.wait(coordinator.submit("scan", {}, catalog_id=cat.id), 60)
    assert (job.result["moved"], job.result["new"]) == (1, 1), job.result
    now = rows(conn, cat.id)
    assert set(now) == {"keep.jpg", "copy1.jpg", "copy2.jpg"}                 # the missing row took one path
    assert old_id in {now["copy1.jpg"][0], now["copy2.jpg"][0]}
    assert {v[1] for v in now.values()} == {"ok"}
