"""The quality and bursts job kinds on PostgreSQL, end to end from a scan: scores stored for every
copy, the scan → quality → bursts chain, bursts split by scene and camera, the best pick, user
decisions that survive a rescan and a move, incremental regrouping, and the CLI's columns."""
from __future__ import annotations

import io
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter

from lumina_desktop.core.jobs import JobState
from lumina_desktop.db import bursts as bursts_db
from lumina_desktop.services.culling import BurstsService, QualityService
from tests.jobs.test_scan import scan

pytestmark = pytest.mark.db

T0 = datetime(2024, 5, 1, 10, 0, 0)


def scene(seed: int, size: tuple[int, int] = (1600, 1200), tones: tuple[int, int] = (40, 215)) -> Image.Image:
    """A picture with edges at every scale (shapes, lines, text-like strokes) that a small shift
    keeps recognisable; ``tones`` is the range of its background."""
    from PIL import ImageDraw

    rng = np.random.default_rng(seed)
    w, h = size
    base = rng.integers(tones[0], tones[1], (h // 200, w // 200, 3), dtype=np.uint8)
    im = Image.fromarray(base).resize(size, Image.BICUBIC)
    d = ImageDraw.Draw(im)
    for _ in range(220):
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        r = int(rng.integers(4, 90))
        colour = tuple(int(c) for c in rng.integers(0, 255, 3))
        shape = int(rng.integers(0, 3))
        if shape == 0:
            d.rectangle((x, y, x + r, y + r // 2), fill=colour)
        elif shape == 1:
            d.ellipse((x, y, x + r, y + r), outline=colour, width=int(rng.integers(1, 4)))
        else:
            d.line((x, y, x + int(rng.integers(-r, r)), y + int(rng.integers(-r, r))), fill=colour, width=2)
    return im


def frame(path: Path, im: Image.Image, when: datetime, *, make: str = "Canon", model: str = "EOS R5",
          shift: int = 0, blur: float = 0.0, whole_seconds: bool = False) -> Path:
    """One frame of a burst: the scene moved by ``shift`` px (and blurred), with capture time EXIF."""
    if shift:
        im = im.transform(im.size, Image.Transform.AFFINE, (1, 0, shift, 0, 1, 0))
    if blur:
        im = im.filter(ImageFilter.GaussianBlur(blur))
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = make, model
    ifd = exif.get_ifd(0x8769)
    ifd[0x9003] = when.strftime("%Y:%m:%d %H:%M:%S")
    if not whole_seconds:
        ifd[0x9291] = f"{when.microsecond // 10000:02d}"
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=92, exif=exif)
    path.write_bytes(buf.getvalue())
    return path


def run(coordinator, conn, kind: str, cat_id: int, **params):  # type: ignore[no-untyped-def]
    job = coordinator.wait(coordinator.submit(kind, params, catalog_id=cat_id), 120)
    conn.commit()
    assert job.state == JobState.SUCCEEDED, job.error
    return job


def bursts_by_name(conn, cat_id: int) -> list[list[tuple[str, bool]]]:  # type: ignore[no-untyped-def]
    out = []
    for b in bursts_db.list_bursts(conn, cat_id):
        out.append([(Path(m.path).name, m.is_best) for m in b.members])
    conn.commit()
    return out


def names(bursts: list[list[tuple[str, bool]]]) -> list[list[str]]:
    return [[n for n, _ in b] for b in bursts]


def library(root: Path) -> None:
    """Burst A: 5 frames 0.2 s apart of one scene, frame a2 the sharp one (the others blurred);
    then 0.4 s later a different scene (a new burst B of 3); an interleaved second camera (Nikon)
    shooting 2 frames of scene A at the same moments; a lone frame 30 s later."""
    a, b = scene(1), scene(2, tones=(170, 255))    # the camera turned to a bright wall
    for i in range(5):
        frame(root / f"a{i}.jpg", a, T0 + timedelta(seconds=0.2 * i), shift=3 * i, blur=0.0 if i == 2 else 2.5)
    for i in range(3):
        frame(root / f"b{i}.jpg", b, T0 + timedelta(seconds=1.2 + 0.25 * i), shift=2 * i, blur=0.0 if i == 0 else 1.5)
    for i in range(2):
        frame(root / f"n{i}.jpg", a, T0 + timedelta(seconds=0.1 + 0.2 * i), make="NIKON CORPORATION",
              model="NIKON D750", shift=i)
    frame(root / "lone.jpg", a, T0 + timedelta(seconds=30))


def test_scan_quality_bursts_chain_groups_by_scene_and_camera_and_picks_the_sharp_frame(
        make_coordinator, conn, db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "lib"
    library(root)
    (root / "copies").mkdir()
    shutil.copy2(root / "lone.jpg", root / "copies" / "lone-copy.jpg")   # a copy is not a burst of two
    co = make_coordinator(pickup=True)          # follow-ons run here: scan → quality → bursts
    job, cat = scan(co, conn, root)
    kinds_done = set()
    import time
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        states = dict(conn.execute("SELECT kind, state FROM jobs WHERE catalog_id = %s AND kind IN "
                                   "('quality', 'bursts')", (cat.id,)).fetchall())
        conn.commit()
        kinds_done = {k for k, s in states.items() if s == "succeeded"}
        if kinds_done == {"quality", "bursts"}:
            break
        time.sleep(0.2)
    assert kinds_done == {"quality", "bursts"}, "the scan is followed by quality, then bursts"

    q = QualityService(db)
    scored = {Path(s.path).name: s for s in q.scores(cat.id)}
    assert len(scored) == 12                                   # every photo, the copy included
    assert scored["lone-copy.jpg"].score == scored["lone.jpg"].score     # copies share one measurement
    assert scored["a2.jpg"].score.overall > scored["a0.jpg"].score.overall   # blurred frames score lower
    assert all(s.source_px and s.source_px >= 1024 for s in scored.values())  # never the 256 px grid image

    found = bursts_by_name(conn, cat.id)
    assert sorted(names(found)) == [["a0.jpg", "a1.jpg", "a2.jpg", "a3.jpg", "a4.jpg"],
                                    ["b0.jpg", "b1.jpg", "b2.jpg"], ["n0.jpg", "n1.jpg"]]
    best = {n for b in found for n, is_best in b if is_best}
    assert {"a2.jpg", "b0.jpg"} <= best and len(best) == 3     # one best per burst: the sharp frame
    rows = BurstsService(db).rows(cat.id)
    a2 = next(r for r in rows if r["path"].endswith("/a2.jpg"))
    assert a2["is_best"] and a2["rank"] == 1 and "sharpest of 5" in a2["reason"]
    a0 = next(r for r in rows if r["path"].endswith("/a0.jpg"))
    assert a0["rank"] > 1 and "soft" in a0["reason"]


def test_decisions_survive_a_rescan_a_move_and_redetection(coordinator, conn, db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "lib"
    library(root)
    job, cat = scan(coordinator, conn, root)
    run(coordinator, conn, "quality", cat.id)
    run(coordinator, conn, "bursts", cat.id)
    service = BurstsService(db)
    service.decide(cat.id, str(root / "a4.jpg"), "best")          # the user prefers a blurred frame
    service.decide(cat.id, str(root / "a0.jpg"), "reject")
    best = {n for b in bursts_by_name(conn, cat.id) for n, is_best in b if is_best}
    assert "a4.jpg" in best and "a2.jpg" not in best

    (root / "moved").mkdir()
    shutil.move(root / "a4.jpg", root / "moved" / "a4.jpg")      # a move: same content, new path
    scan(coordinator, conn, root)
    run(coordinator, conn, "quality", cat.id)
    run(coordinator, conn, "bursts", cat.id)                     # a full re-detection
    found = bursts_by_name(conn, cat.id)
    assert ["a0.jpg", "a1.jpg", "a2.jpg", "a3.jpg", "a4.jpg"] in names(found)
    best = {n for b in found for n, is_best in b if is_best}
    assert "a4.jpg" in best and "a2.jpg" not in best              # the decision held, by content
    rows = {Path(r["path"]).name: r for r in service.rows(cat.id)}
    assert rows["a0.jpg"]["decision"] == "reject" and rows["a4.jpg"]["reason"] == "your pick"
    service.decide(cat.id, str(root / "moved" / "a4.jpg"), None)  # forgotten: the detector's pick again
    best = {n for b in bursts_by_name(conn, cat.id) for n, is_best in b if is_best}
    assert "a2.jpg" in best


def test_new_photos_join_and_split_existing_bursts_incrementally(coordinator, conn, db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "lib"
    a = scene(1)
    for i in (0, 1, 3, 4):
        frame(root / f"a{i}.jpg", a, T0 + timedelta(seconds=0.6 * i), shift=2 * i)
    job, cat = scan(coordinator, conn, root)
    run(coordinator, conn, "bursts", cat.id)
    assert names(bursts_by_name(conn, cat.id)) == [["a0.jpg", "a1.jpg"], ["a3.jpg", "a4.jpg"]]   # 1.2 s apart
    frame(root / "a2.jpg", a, T0 + timedelta(seconds=1.2), shift=4)     # the missing frame arrives
    job, _ = scan(coordinator, conn, root)
    inc = run(coordinator, conn, "bursts", cat.id, after_job=job.id)
    assert inc.result["incremental"] and inc.result["runs"] == 1
    assert names(bursts_by_name(conn, cat.id)) == [["a0.jpg", "a1.jpg", "a2.jpg", "a3.jpg", "a4.jpg"]]
    (root / "a2.jpg").unlink()                                          # and leaves again
    job, _ = scan(coordinator, conn, root)
    run(coordinator, conn, "bursts", cat.id, after_job=job.id)
    assert names(bursts_by_name(conn, cat.id)) == [["a0.jpg", "a1.jpg"], ["a3.jpg", "a4.jpg"]]


def test_quality_cli_and_bursts_cli_columns(coordinator, conn, db, tmp_path: Path, capsys, settings) -> None:  # type: ignore[no-untyped-def]
    import csv
    import json

    from lumina_desktop.cli import run_cli as main

    root = tmp_path / "lib"
    library(root)
    job, cat = scan(coordinator, conn, root)
    run(coordinator, conn, "quality", cat.id)
    run(coordinator, conn, "bursts", cat.id)
    base = ["--database-url", str(db.conninfo)]
    capsys.readouterr()
    assert main([*base, "quality", "list", "--catalog", "Test", "--format", "csv"]) == 0
    table = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert list(table[0]) == ["path", "score", "sharpness", "subject_sharpness", "motion_blur", "noise", "exposure",
                              "contrast", "blockiness", "reasons"]
    assert len(table) == 11 and float(table[0]["score"]) <= float(table[-1]["score"])   # worst first
    assert main([*base, "bursts", "list", "--catalog", "Test", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert set(rows[0]) == {"burst_id", "path", "is_best", "rank", "score", "reason", "decision"}
    assert sum(r["is_best"] for r in rows) == 3
    assert main([*base, "bursts", "pick", str(root / "a1.jpg"), "--catalog", "Test"]) == 0
    assert main([*base, "bursts", "pick", str(tmp_path / "nope.jpg"), "--catalog", "Test"]) != 0
    err = capsys.readouterr().err
    assert "not an analysed photo" in err and "Traceback" not in err


def test_flags_and_stars_by_content_filter_the_grid_and_survive_a_move(coordinator, conn, db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from lumina_desktop.core.errors import LuminaError
    from lumina_desktop.core.library import PhotoFilter
    from lumina_desktop.db import library as library_db

    root = tmp_path / "lib"
    library(root)
    _, cat = scan(coordinator, conn, root)
    ids = {Path(p).name: i for i, p in conn.execute("SELECT id, path FROM photos WHERE catalog_id = %s",
                                                    (cat.id,)).fetchall()}
    conn.commit()
    service = BurstsService(db)
    service.decide_photo(cat.id, ids["a1.jpg"], "pick")
    service.decide_photo(cat.id, ids["a3.jpg"], "reject")
    service.set_stars(cat.id, ids["a3.jpg"], 4)
    service.set_stars(cat.id, ids["b0.jpg"], 2)

    def names(flt: PhotoFilter) -> set[str]:
        found = library_db.list_photo_ids(conn, cat.id, flt)
        summaries = library_db.fetch_summaries(conn, found)
        conn.commit()
        return {s.file_name for s in summaries.values()}

    assert names(PhotoFilter(flag="pick")) == {"a1.jpg"}
    assert names(PhotoFilter(flag="reject")) == {"a3.jpg"}
    assert names(PhotoFilter(min_stars=3)) == {"a3.jpg"}
    assert len(names(PhotoFilter(flag="unflagged"))) == 9
    page = library_db.fetch_summaries(conn, [ids["a3.jpg"]])[ids["a3.jpg"]]
    conn.commit()
    assert (page.decision, page.stars) == ("reject", 4)
    service.decide_photo(cat.id, ids["a3.jpg"], None)               # unflag keeps the stars
    assert names(PhotoFilter(min_stars=4)) == {"a3.jpg"} and names(PhotoFilter(flag="reject")) == set()
    service.set_stars(cat.id, ids["a3.jpg"], None)
    assert conn.execute("SELECT count(*) FROM photo_decisions WHERE catalog_id = %s", (cat.id,)).fetchone()[0] == 2
    conn.commit()
    (root / "moved").mkdir()
    shutil.move(root / "a1.jpg", root / "moved" / "a1.jpg")
    scan(coordinator, conn, root)
    assert names(PhotoFilter(flag="pick")) == {"a1.jpg"}            # by content: the moved file keeps it
    with pytest.raises(LuminaError, match="stars are a whole number from 0 to 5"):
        service.set_stars(cat.id, ids["b0.jpg"], 7)
