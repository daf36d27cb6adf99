"""The tags job killed mid-way (SIGKILL of the CLI running it), then resumed, stores exactly what an
uninterrupted run stores: the same tags and face boxes per content, each once, and the user's own
tags and rejections untouched."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from lumina_desktop.analysis.tagging import TAGS_VERSION
from lumina_desktop.core.jobs import JobState
from lumina_desktop.services.tags import TagsService
from tests.jobs.conftest import seen_interrupted, wait_until
from tests.jobs.test_scan import PHOTOS, make_jpeg, rows, scan

pytestmark = [pytest.mark.db, pytest.mark.slow]

REAL = [  # people, animals, objects, places (from tests/data/tag_labels.csv)
    "pypi-skimage/astronaut.png", "pypi-skimage/coffee.png", "pypi-skimage/chelsea.png",
    "pypi-skimage/motorcycle_left.png", "pypi-sklearn/china.jpg", "debian-mate-backgrounds/LadyBird.jpg",
    "bursts/cs639_iphone_series/Julia1/IMG_8102.JPG", "photoprism/internal/ai/face/testdata/17.jpg",
    "exif-samples/jpg/exif-org/canon-ixus.jpg", "exif-samples/jpg/exif-org/fujifilm-finepix40i.jpg",
    "exif-samples/jpg/Canon_PowerShot_S40.jpg", "bursts/phototriage/demos_auto-triage/scenario-3/scenario-3-a.jpg",
]
GENERATED = 48   # with the 12: two batches of 32 contents, > 1 s each on one worker (commits every ~1 s)


def library(root: Path) -> int:
    """12 real photos (generated stand-ins where ../shared/photos is absent), a copy of the first
    (same content), and generated ones; returns the number of contents."""
    root.mkdir(parents=True)
    for i, name in enumerate(REAL):
        src = PHOTOS / name
        if src.is_file():
            shutil.copy(src, root / f"real{i:02d}{src.suffix.lower()}")
        else:
            make_jpeg(root / f"real{i:02d}.jpg", 1000 + i, size=(1024, 768))
    first = next(iter(sorted(root.iterdir())))
    shutil.copy(first, root / f"copy-of-{first.name}")
    for i in range(GENERATED):
        make_jpeg(root / "gen" / f"g{i:02d}.jpg", i, size=(640, 480))
    return len(REAL) + GENERATED


def stored(conn, cat_id: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Everything the tags job and the user stored for the catalog, as comparable values."""
    tags = conn.execute("SELECT content_hash, tag, source, confidence, is_rejected, tagged_at FROM photo_tags "
                        "WHERE catalog_id = %s", (cat_id,)).fetchall()
    faces = conn.execute("SELECT content_hash, face_no, x, y, w, h, confidence, detector FROM photo_faces "
                         "WHERE catalog_id = %s", (cat_id,)).fetchall()
    tagging = conn.execute("SELECT content_hash, version, faces FROM photo_tagging WHERE catalog_id = %s",
                           (cat_id,)).fetchall()
    conn.commit()
    job_tags: dict[str, dict[tuple[str, str], float]] = {}
    for h, tag, source, c, _rejected, _at in tags:
        if source != "user":
            job_tags.setdefault(h, {})[(tag, source)] = c
    boxes: dict[str, list[tuple[Any, ...]]] = {}
    for h, no, *box in sorted(faces, key=lambda r: (r[0], r[1])):
        boxes.setdefault(h, []).append((no, *box))
    return {"job_tags": job_tags, "faces": boxes, "tagging": {h: (v, n) for h, v, n in tagging},
            "user": sorted((h, t, c, rej, at) for h, t, s, c, rej, at in tags if s == "user"),
            "rows": len(tags), "distinct": len({(h, t, s) for h, t, s, *_ in tags})}


def tagged_contents(conn, cat_id: int) -> int:  # type: ignore[no-untyped-def]
    n = conn.execute("SELECT count(*) FROM photo_tagging WHERE catalog_id = %s", (cat_id,)).fetchone()[0]
    conn.commit()
    return int(n)


def same_tags(a: dict[str, dict[tuple[str, str], float]], b: dict[str, dict[tuple[str, str], float]]) -> None:
    assert a.keys() == b.keys()
    for h in a:
        assert a[h].keys() == b[h].keys(), h                               # the same tag set per content
        assert all(abs(a[h][k] - b[h][k]) < 1e-3 for k in a[h]), h           # and the same confidences


def test_sigkill_mid_tags_job_then_resume_equals_an_uninterrupted_run(test_db, db, conn, coordinator, settings,
                                                                       tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    contents = library(tmp_path / "lib")
    _, cat = scan(coordinator, conn, tmp_path / "lib")
    ids = {name: v[0] for name, v in rows(conn, cat.id).items()}
    assert len(ids) == contents + 1
    service = TagsService(db)
    service.add([next(v for k, v in sorted(ids.items()) if k.startswith("real01"))], "Holiday in Rome")  # the user's
    env = {**os.environ, "LUMINA_DATA_DIR": str(settings.data_dir), "BACKGROUND_WORKERS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "lumina_desktop", "--database-url", test_db.conninfo,
                             "tags", "run", "--catalog", cat.name],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 120
        done = 0
        while time.monotonic() < deadline and proc.poll() is None:
            done = tagged_contents(conn, cat.id)
            if done > 1:      # past the first commit (right after the model loads): a commit mid-batch
                break
            time.sleep(0.005)
        assert proc.poll() is None and 1 < done < contents, \
            f"the kill should land mid-job ({done} of {contents} tagged; {proc.communicate()[1][-2000:]})"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    kept = tagged_contents(conn, cat.id)
    assert 0 < kept < contents
    job_id = conn.execute("SELECT id FROM jobs WHERE kind = 'tags' ORDER BY id DESC LIMIT 1").fetchone()[0]
    conn.commit()
    # the user rejects a tag the job stored before the kill (the tag stays, hidden, through everything)
    h, tag = conn.execute("SELECT content_hash, tag FROM photo_tags WHERE catalog_id = %s AND source = 'model' "
                          "ORDER BY confidence DESC, tag LIMIT 1", (cat.id,)).fetchone()
    pid = conn.execute("SELECT id FROM photos WHERE catalog_id = %s AND content_hash = %s ORDER BY id LIMIT 1",
                       (cat.id, h)).fetchone()[0]
    conn.commit()
    assert service.remove([pid], tag)
    user_before = stored(conn, cat.id)["user"]
    assert len(user_before) == 2 and {r[1] for r in user_before} == {"holiday in rome", tag}

    assert wait_until(lambda: seen_interrupted(db, job_id), 5, 0.05)
    coordinator.resume(job_id)
    resumed = coordinator.wait(job_id, 120)
    conn.commit()
    assert resumed.state == JobState.SUCCEEDED, resumed.error
    assert resumed.result["tagged"] == contents + 1 and resumed.result["unreadable"] == 0   # over both runs
    after = stored(conn, cat.id)
    assert after["rows"] == after["distinct"]                                # no tag twice
    assert len(after["tagging"]) == contents and {v for v, _ in after["tagging"].values()} == {TAGS_VERSION}
    assert all(len(after["faces"].get(h, [])) == n for h, (_, n) in after["tagging"].items())  # boxes once
    assert all([b[0] for b in boxes] == list(range(len(boxes))) for boxes in after["faces"].values())
    assert after["user"] == user_before                                      # untouched, to the timestamp
    if (PHOTOS / REAL[0]).is_file():
        assert sum(map(len, after["faces"].values())) >= 4                  # the real photos have faces

    # an uninterrupted run over everything stores the same
    ref_id = coordinator.submit("tags", {"everything": True}, catalog_id=cat.id)
    reference = coordinator.wait(ref_id, 120)
    conn.commit()
    assert reference.state == JobState.SUCCEEDED, reference.error
    assert reference.result["tagged"] == contents + 1
    again = stored(conn, cat.id)
    same_tags(after["job_tags"], again["job_tags"])
    assert after["faces"].keys() == again["faces"].keys()
    for h, boxes in after["faces"].items():
        other = again["faces"][h]
        assert [b[-1] for b in boxes] == [b[-1] for b in other]              # same detector, same number
        assert all(abs(x - y) < 1e-3 for b, o in zip(boxes, other) for x, y in zip(b[1:-1], o[1:-1])), h
    assert again["tagging"] == after["tagging"]
    assert again["user"] == user_before and again["rows"] == again["distinct"]
    assert tag not in {t.tag for t in service.of_photo(pid, min_confidence=0.0)}      # the rejection holds
