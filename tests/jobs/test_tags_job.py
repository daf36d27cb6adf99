"""The tags job kind on PostgreSQL, end to end from a scan: rule tags and model tags stored per
content (copies share them), nothing left to do on a rerun, the user's tags and removals surviving
a forced rerun, the scan → tags chain and its setting, per-item errors, and cancel within 1 s."""
from __future__ import annotations

import dataclasses
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from lumina_desktop.core.jobs import JobState
from lumina_desktop.core.photo_tags import TagOrigin
from lumina_desktop.db import jobs as jobs_db
from lumina_desktop.jobs.engine.registry import KindRegistry
from lumina_desktop.jobs.kinds import BUILTIN_KINDS
from lumina_desktop.jobs.kinds.scan import ScanKind
from lumina_desktop.services.tags import TagsService
from lumina_desktop.storage.thumbnails import thumbnail_relpath
from tests.jobs.conftest import wait_until
from tests.jobs.test_scan import PHOTOS, make_jpeg, rows, scan

pytestmark = pytest.mark.db


def screenshot_png(path: Path, size: tuple[int, int] = (1280, 800)) -> Path:
    """A flat interface: title bar, side bar, buttons and lines of text, as a PNG with no camera."""
    im = Image.new("RGB", size, (246, 246, 248))
    d = ImageDraw.Draw(im)
    w, h = size
    d.rectangle((0, 0, w, 48), fill=(40, 44, 52))
    d.rectangle((0, 48, 260, h), fill=(228, 230, 235))
    for i in range(12):
        d.text((20, 70 + 40 * i), f"Folder {i}", fill=(20, 20, 20))
        d.text((300, 80 + 30 * i), "Lorem ipsum dolor sit amet, consectetur adipiscing elit " * 2, fill=(30, 30, 30))
    for i in range(4):
        d.rounded_rectangle((300 + 150 * i, h - 80, 420 + 150 * i, h - 40), 6, fill=(0, 120, 215))
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path, "PNG")
    return path


def grey_jpeg(path: Path, seed: int) -> Path:
    make_jpeg(path, seed, size=(1200, 900))
    Image.open(path).convert("L").convert("RGB").save(path, "JPEG", quality=90)
    return path


def night_jpeg(path: Path, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    a = rng.integers(5, 30, (800, 1200, 3), dtype=np.uint8)
    for _ in range(40):                                                    # street lights
        x, y = int(rng.integers(0, 1190)), int(rng.integers(0, 790))
        a[y:y + 8, x:x + 8] = (255, 230, 180)
    Image.fromarray(a).save(path, "JPEG", quality=90)
    return path


def library(root: Path) -> None:
    make_jpeg(root / "colour.jpg", 1, size=(1200, 900))
    make_jpeg(root / "copies" / "colour-copy.jpg", 1, size=(1200, 900))   # same content
    make_jpeg(root / "pano.jpg", 2, size=(2400, 800))
    grey_jpeg(root / "grey.jpg", 3)
    night_jpeg(root / "night.jpg", 4)
    screenshot_png(root / "shot.png")


def tags_job(coordinator, conn, cat_id: int, **params):  # type: ignore[no-untyped-def]
    job = coordinator.wait(coordinator.submit("tags", params, catalog_id=cat_id), 120)
    conn.commit()
    assert job.state == JobState.SUCCEEDED, job.error
    return job


def tags_by_file(conn, cat_id: int, service: TagsService, min_confidence: float = 0.3):  # type: ignore[no-untyped-def]
    out = {}
    for name, (pid, *_rest) in rows(conn, cat_id).items():
        out[name] = {t.tag: t for t in service.of_photo(pid, min_confidence=min_confidence)}
    return out


def test_scan_then_tags_stores_rule_and_model_tags_per_content(coordinator, conn, db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "lib"
    library(root)
    job, cat = scan(coordinator, conn, root)
    done = tags_job(coordinator, conn, cat.id, after_job=job.id)
    assert done.result["tagged"] == 6 and done.result["items"] == 5      # one item per content
    service = TagsService(db)
    found = tags_by_file(conn, cat.id, service)
    assert "black and white" in found["grey.jpg"] and "black and white" not in found["colour.jpg"]
    assert "panorama" in found["pano.jpg"] and "panorama" not in found["colour.jpg"]
    assert "night" in found["night.jpg"] and "night" not in found["colour.jpg"]
    assert "screenshot" in found["shot.png"] and found["shot.png"]["screenshot"].source is TagOrigin.HEURISTIC
    assert "document" in found["shot.png"]                                # a screenshot is under document
    assert not {"screenshot", "night", "panorama", "black and white"} & set(found["colour.jpg"])
    assert found["colour.jpg"] == found["colour-copy.jpg"]                # copies share their tags
    every = tags_by_file(conn, cat.id, service, min_confidence=0.0)       # model tags, hidden or not
    assert all(any(t.source is TagOrigin.MODEL for t in v.values()) for v in every.values())
    assert all(0.05 <= t.confidence <= 1 for v in every.values() for t in v.values())
    tagged = conn.execute("SELECT count(*) FROM photo_tagging WHERE catalog_id = %s", (cat.id,)).fetchone()
    conn.commit()
    assert tagged == (5,)
    again = tags_job(coordinator, conn, cat.id)
    assert again.result["items"] == 0                                    # nothing left to do


def test_user_tags_and_removals_survive_a_forced_rerun(coordinator, conn, db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "lib"
    library(root)
    job, cat = scan(coordinator, conn, root)
    tags_job(coordinator, conn, cat.id, after_job=job.id)
    ids = {k: v[0] for k, v in rows(conn, cat.id).items()}
    service = TagsService(db)
    changed = service.add([ids["pano.jpg"]], "  Summer   Holiday ")
    assert changed == [ids["pano.jpg"]]
    assert service.add([ids["colour.jpg"]], "Tabby") == sorted([ids["colour.jpg"], ids["colour-copy.jpg"]])
    assert service.remove([ids["pano.jpg"]], "panorama") == [ids["pano.jpg"]]     # the job's tag: hidden
    assert "panorama" not in {t.tag for t in service.of_photo(ids["pano.jpg"])}
    feed = conn.execute("SELECT count(*) FROM catalog_changes WHERE catalog_id = %s AND kind = 'user' "
                        "AND 'tags' = ANY(aspects)", (cat.id,)).fetchone()
    conn.commit()
    assert feed == (3,)
    tags_job(coordinator, conn, cat.id, everything=True)                  # the job runs again over everything
    pano = {t.tag: t for t in service.of_photo(ids["pano.jpg"])}
    assert pano["summer holiday"].source is TagOrigin.USER and pano["summer holiday"].confidence == 1.0
    assert "panorama" not in pano                                          # the removal sticks
    assert service.search(cat.id, "panoramic") == []                       # and search respects it
    assert service.search(cat.id, "summer holiday") == [ids["pano.jpg"]]
    # a user tag is found through synonyms and the hierarchy: "kitten" → cat → tabby cat ← "Tabby"
    assert service.search(cat.id, "kitten") == sorted([ids["colour.jpg"], ids["colour-copy.jpg"]])
    assert service.search(cat.id, "b&w") == [ids["grey.jpg"]]
    listed = service.rows(cat.id)
    assert {(Path(r.path).name, r.tag, r.source) for r in listed} >= {
        ("pano.jpg", "summer holiday", TagOrigin.USER), ("grey.jpg", "black and white", TagOrigin.HEURISTIC)}
    assert service.add([ids["pano.jpg"]], "panorama")                     # added back by the user: shown again
    assert "panorama" in {t.tag for t in service.of_photo(ids["pano.jpg"])}
    with pytest.raises(Exception, match="empty"):
        service.add([ids["pano.jpg"]], "   ")


class ScanThenTags(ScanKind):
    """The scan with ``tags`` among its follow-ons (as ``ScanKind.follow_ons`` should list it)."""

    follow_ons = tuple(dict.fromkeys((*ScanKind.follow_ons, "tags")))


def chain_registry() -> KindRegistry:
    return KindRegistry([ScanThenTags() if k.name == "scan" else k for k in BUILTIN_KINDS])


def test_the_scan_queues_tags_unless_switched_off(make_coordinator, conn, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "lib"
    make_jpeg(root / "a.jpg", 1)
    make_jpeg(root / "b.jpg", 2)
    registry = chain_registry()
    co = make_coordinator(pickup=True, registry=registry)
    job, cat = scan(co, conn, root)

    def tags_state():  # type: ignore[no-untyped-def]
        row = conn.execute("SELECT state FROM jobs WHERE kind = 'tags' AND parent_job_id = %s", (job.id,)).fetchone()
        conn.commit()
        return row and row[0] == "succeeded"

    wait_until(tags_state, 90)
    n = conn.execute("SELECT count(*) FROM photo_tagging WHERE catalog_id = %s", (cat.id,)).fetchone()
    conn.commit()
    assert n == (2,)
    co.shutdown(cancel=True, timeout_s=10)
    off = make_coordinator(pickup=True, registry=registry,
                           settings=dataclasses.replace(settings, disabled_follow_ons=("tags",)))
    make_jpeg(root / "c.jpg", 3)
    job2 = off.wait(off.submit("scan", {"folder_ids": []}, catalog_id=cat.id), 120)
    conn.commit()
    assert job2.state == JobState.SUCCEEDED
    queued = conn.execute("SELECT kind FROM jobs WHERE parent_job_id = %s", (job2.id,)).fetchall()
    conn.commit()
    assert queued and ("tags",) not in queued


def test_an_unreadable_photo_is_an_item_error_and_the_job_goes_on(coordinator, conn, settings,
                                                                  tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "lib"
    for i in range(3):
        make_jpeg(root / f"img{i}.jpg", i)
    job, cat = scan(coordinator, conn, root)
    gone = rows(conn, cat.id)["img1.jpg"][2]
    (settings.thumbnails_dir / thumbnail_relpath(gone, 256)).unlink()    # no thumbnail, and the file changed
    make_jpeg(root / "img1.jpg", 99)
    done = tags_job(coordinator, conn, cat.id, after_job=job.id)
    assert done.result["tagged"] == 2 and done.result["unreadable"] == 1
    errors = jobs_db.list_item_errors(conn, done.id)
    conn.commit()
    assert [(Path(e.item).name, e.error_class) for e in errors] == [("img1.jpg", "no_picture")]
    assert "could not be read" in coordinator.registry.get("tags").summarize(done.result)


@pytest.mark.slow
def test_cancel_stops_the_job_within_a_second(make_coordinator, conn, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "lib"
    for i in range(80):
        make_jpeg(root / f"img{i:02d}.jpg", i, size=(320, 240))
    co = make_coordinator()
    job, cat = scan(co, conn, root)
    jid = co.submit("tags", {"after_job": job.id}, catalog_id=cat.id)
    wait_until(lambda: co.store.stored_progress(jid)[0] >= 1, 60, 0.01)   # a first batch is stored
    t0 = time.monotonic()
    co.cancel(jid)
    end = co.wait(jid, 30)
    took = time.monotonic() - t0
    conn.commit()
    assert end.state == JobState.CANCELLED
    assert took < 1.0, f"cancel took {took:.2f} s"
    n = conn.execute("SELECT count(*) FROM photo_tagging WHERE catalog_id = %s", (cat.id,)).fetchone()[0]
    conn.commit()
    assert 0 < n < 80                                  # what was stored stays; resume does the rest
    co.resume(jid)
    done = co.wait(jid, 60)
    conn.commit()
    assert done.state == JobState.SUCCEEDED and done.result["tagged"] == 80     # counted over both runs
    assert conn.execute("SELECT count(*) FROM photo_tagging WHERE catalog_id = %s", (cat.id,)).fetchone() == (80,)
    conn.commit()


@pytest.mark.skipif(not (PHOTOS / "pypi-skimage" / "coffee.png").exists(), reason="../shared/photos is absent")
def test_a_real_photo_gets_its_class_and_the_words_above_it(coordinator, conn, db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "lib"
    root.mkdir()
    shutil.copy(PHOTOS / "pypi-skimage" / "coffee.png", root / "coffee.png")
    shutil.copy(PHOTOS / "pypi-skimage" / "astronaut.png", root / "astronaut.png")
    job, cat = scan(coordinator, conn, root)
    done = tags_job(coordinator, conn, cat.id, after_job=job.id)
    assert done.result["with_people"] == 1
    service = TagsService(db)
    found = tags_by_file(conn, cat.id, service)
    assert {"espresso", "coffee", "drink", "food"} <= set(found["coffee.png"])
    assert found["coffee.png"]["espresso"].source is TagOrigin.MODEL
    assert "people" in found["astronaut.png"] and "people" not in found["coffee.png"]
    ids = {k: v[0] for k, v in rows(conn, cat.id).items()}
    assert service.search(cat.id, "cappuccino") == [ids["coffee.png"]]    # a synonym of coffee
    assert service.search(cat.id, "portrait") == [ids["astronaut.png"]]
    assert len(service.faces_of_photo(ids["astronaut.png"])) == 1
