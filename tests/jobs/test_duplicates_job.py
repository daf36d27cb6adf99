"""The duplicates job end to end: tiers, non-duplicates, decisions that stick, incremental runs, CLI."""
from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageOps

from lumina_desktop.core.jobs import JobState
from lumina_desktop.db import catalogs
from lumina_desktop.db import duplicates as dup_db
from lumina_desktop.jobs.kinds.duplicates import load_groups

pytestmark = [pytest.mark.db, pytest.mark.slow]


def scene(seed: int, size: tuple[int, int] = (900, 600)) -> Image.Image:
    """A photo-like picture: smooth gradients, shapes and texture (deterministic)."""
    rng = np.random.default_rng(seed)
    w, h = size
    y, x = np.mgrid[0:h, 0:w] / max(w, h)
    base = np.stack([np.sin(x * rng.uniform(2, 6) + rng.uniform(0, 3)) * 80 + 120,
                     np.cos(y * rng.uniform(2, 6) + rng.uniform(0, 3)) * 80 + 120,
                     (x + y) * 60 + rng.uniform(40, 90)], axis=-1)
    im = Image.fromarray(np.clip(base + rng.normal(0, 6, base.shape), 0, 255).astype(np.uint8))
    d = ImageDraw.Draw(im)
    for _ in range(12):
        x0, y0 = int(rng.integers(0, w - 80)), int(rng.integers(0, h - 80))
        d.ellipse([x0, y0, x0 + int(rng.integers(30, 200)), y0 + int(rng.integers(30, 200))],
                  fill=tuple(int(c) for c in rng.integers(0, 255, 3)))
    return im


def with_comment(jpeg: bytes, text: bytes) -> bytes:
    """Same JPEG scan data, other metadata: the EXIF (APP1) segment dropped, a comment added."""
    out, i = bytearray(jpeg[:2]), 2
    while jpeg[i] == 0xFF and jpeg[i + 1] not in (0xDA, 0xD9):
        length = struct.unpack(">H", jpeg[i + 2:i + 4])[0]
        if jpeg[i + 1] != 0xE1:
            out += jpeg[i:i + 2 + length]
        i += 2 + length
    out += b"\xff\xfe" + struct.pack(">H", len(text) + 2) + text
    return bytes(out + jpeg[i:])


def build_library(root: Path) -> dict[str, Path]:
    root.mkdir(parents=True)
    files: dict[str, Path] = {}

    def save(name: str, im: Image.Image, fmt: str = "JPEG", **kw: object) -> Path:
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        im.save(p, fmt, **kw)
        files[name] = p
        return p

    a = scene(1)
    camera = Image.Exif()
    camera[0x010F], camera[0x0110] = "Canon", "EOS R6"  # Make, Model: the camera original
    orig = save("a/original.jpg", a, quality=92, exif=camera)
    (root / "backup").mkdir()
    files["backup/original.jpg"] = Path(shutil.copy2(orig, root / "backup" / "original.jpg"))
    (root / "edited").mkdir()
    files["edited/original_tagged.jpg"] = root / "edited" / "original_tagged.jpg"
    files["edited/original_tagged.jpg"].write_bytes(with_comment(orig.read_bytes(), b"rated 5 stars"))
    save("small/original_small.jpg", a.resize((450, 300), Image.LANCZOS), quality=80)
    save("converted/original.png", a, "PNG")
    save("negatives/mirrored.jpg", ImageOps.mirror(a), quality=92)
    sibling = a.copy()
    ImageDraw.Draw(sibling).rectangle([300, 150, 620, 450], fill=(20, 160, 40))  # the subject moved
    save("negatives/burst_sibling.jpg", sibling, quality=92)
    save("negatives/crop_30pct.jpg", a.crop((0, 0, 630, 420)).resize((900, 600)), quality=92)
    for i in range(2, 5):  # unrelated photos
        save(f"others/other{i}.jpg", scene(i), quality=90)
    return files


def run(coordinator, conn, root: Path, kind: str, **params: object):  # type: ignore[no-untyped-def]
    cat = catalogs.ensure_catalog(conn, "Dups")
    folder = catalogs.add_folder(conn, cat.id, str(root))
    conn.commit()
    p = {"folder_ids": [folder.id]} if kind == "scan" else dict(params)
    job_id = coordinator.submit(kind, p, catalog_id=cat.id)
    job = coordinator.wait(job_id, 120)
    assert job.state == JobState.SUCCEEDED, job.error
    return job, cat


def members_by_name(groups) -> dict[str, tuple[int, str, bool]]:  # type: ignore[no-untyped-def]
    """file name relative path → (group id, tier, is_keeper)."""
    out = {}
    for sg in groups:
        g = sg.group
        out[sg.paths[g.keeper_id]] = (sg.id, g.tier, True)
        for m in g.members:
            out[sg.paths[m.photo_id]] = (sg.id, m.tier, False)
    return out


def rel(root: Path, table: dict[str, tuple[int, str, bool]]) -> dict[str, tuple[int, str, bool]]:
    return {os.path.relpath(k, root): v for k, v in table.items()}


def test_tiers_and_non_duplicates(coordinator, conn, db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "lib"
    build_library(root)
    run(coordinator, conn, root, "scan")
    job, cat = run(coordinator, conn, root, "duplicates")
    assert job.result["groups"] == 1, job.result
    found = rel(root, members_by_name(load_groups(db, cat.id)))
    assert set(found) == {"a/original.jpg", "backup/original.jpg", "edited/original_tagged.jpg",
                          "small/original_small.jpg", "converted/original.png"}, found
    assert len({gid for gid, _, _ in found.values()}) == 1  # one photograph, one group
    keeper = next(k for k, v in found.items() if v[2])
    assert keeper == "a/original.jpg"  # the camera original (EXIF) beats its PNG conversion
    assert found["backup/original.jpg"][1] == "identical"
    assert found["edited/original_tagged.jpg"][1] == "same_picture"
    assert found["small/original_small.jpg"][1] == "near_copy"
    assert found["converted/original.png"][1] == "near_copy"
    sg = load_groups(db, cat.id)[0]
    assert sg.group.tier == "near_copy"  # a group's queue is its loosest member's tier
    reasons = {os.path.relpath(sg.paths[m.photo_id], root): m.reason for m in sg.group.members}
    assert "900×600 beats 450×300" in reasons["small/original_small.jpg"]
    assert "camera" in reasons["converted/original.png"].lower()
    assert all(m.is_verified for m in sg.group.members)
    near = [m for m in sg.group.members if m.tier == "near_copy"]
    assert near and all(m.similarity is not None and m.similarity > 0.9 for m in near)


def test_decisions_survive_rescan_move_and_rerun(coordinator, conn, db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "lib"
    files = build_library(root)
    run(coordinator, conn, root, "scan")
    _, cat = run(coordinator, conn, root, "duplicates")
    with db.connection() as c:
        small = dup_db.content_hash_of(c, cat.id, str(files["small/original_small.jpg"]))
        orig = dup_db.content_hash_of(c, cat.id, str(files["a/original.jpg"]))
        png = dup_db.content_hash_of(c, cat.id, str(files["converted/original.png"]))
        dup_db.add_decision(c, cat.id, "not_duplicate", orig, small)
        dup_db.add_decision(c, cat.id, "keep", png)
    groups = load_groups(db, cat.id)
    found = rel(root, members_by_name(groups))
    assert "small/original_small.jpg" not in found
    assert found["converted/original.png"][2] is True and groups[0].group.is_keeper_forced
    # move + rename the files the decisions are about, rescan, detect again
    (root / "moved").mkdir()
    shutil.move(files["small/original_small.jpg"], root / "moved" / "renamed_small.jpg")
    shutil.move(files["a/original.jpg"], root / "moved" / "renamed_original.jpg")
    shutil.move(files["converted/original.png"], root / "moved" / "original.png")
    scan, _ = run(coordinator, conn, root, "scan")
    assert scan.result["moved"] == 3
    run(coordinator, conn, root, "duplicates")
    found = rel(root, members_by_name(load_groups(db, cat.id)))
    assert "moved/renamed_small.jpg" not in found  # not resurrected
    assert found["moved/renamed_original.jpg"][2] is False
    assert found["moved/original.png"][2] is True  # still the chosen keeper
    with db.connection() as c:
        runs = c.execute("SELECT count(*) FROM duplicate_runs WHERE catalog_id = %s", (cat.id,)).fetchone()[0]
        assert runs == 1  # old detection results were replaced, decisions kept apart
        assert len(dup_db.decisions(c, cat.id)) == 2


def test_incremental_run_matches_new_photos_and_equals_a_full_run(coordinator, conn, db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "lib"
    build_library(root)
    run(coordinator, conn, root, "scan")
    run(coordinator, conn, root, "duplicates")
    b = scene(7)
    b.save(root / "others" / "b.jpg", quality=90)
    b.resize((600, 400), Image.LANCZOS).save(root / "others" / "b_small.jpg", quality=85)
    shutil.copy2(root / "a" / "original.jpg", root / "others" / "another_copy.jpg")
    run(coordinator, conn, root, "scan")
    inc, cat = run(coordinator, conn, root, "duplicates", incremental=True)
    assert inc.result["incremental"] is True and inc.result["new_photos"] == 3
    assert inc.result["parts"] == 2  # only the parts touched by the new photos were regrouped
    incremental = sorted(sorted(os.path.relpath(p, root) for p in members_by_name([g])) for g in load_groups(db, cat.id))
    full, _ = run(coordinator, conn, root, "duplicates")
    assert full.result["incremental"] is False
    everything = sorted(sorted(os.path.relpath(p, root) for p in members_by_name([g])) for g in load_groups(db, cat.id))
    assert incremental == everything and len(everything) == 2
    assert ["others/b.jpg", "others/b_small.jpg"] in everything


def test_duplicates_cli_list_and_stats(coordinator, conn, test_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "lib"
    build_library(root)
    run(coordinator, conn, root, "scan")
    env = {**os.environ, "LUMINA_DATA_DIR": str(tmp_path / "data")}
    base = [sys.executable, "-m", "lumina_desktop", "--database-url", test_db.conninfo, "duplicates"]
    res = subprocess.run([*base, "find", "--catalog", "Dups"], capture_output=True, text=True, timeout=120, env=env)
    assert res.returncode == 0, res.stderr
    assert "1 group" in res.stdout and "100.0%" in res.stderr
    res = subprocess.run([*base, "list", "--catalog", "Dups", "--format", "json"], capture_output=True, text=True,
                         timeout=60, env=env)
    rows = json.loads(res.stdout)
    assert len(rows) == 5 and sum(r["is_keeper"] for r in rows) == 1
    assert {"group_id", "tier", "path", "is_keeper", "reason", "similarity"} <= set(rows[0])
    res = subprocess.run([*base, "list", "--catalog", "Dups", "--format", "csv"], capture_output=True, text=True,
                         timeout=60, env=env)
    assert res.stdout.splitlines()[0].startswith("group_id,tier,path,is_keeper,reason,similarity")
    assert len(res.stdout.splitlines()) == 6
    res = subprocess.run([*base, "stats", "--catalog", "Dups"], capture_output=True, text=True, timeout=60, env=env)
    assert "identical" in res.stdout and "reclaimable" in res.stdout and "MB" in res.stdout
    res = subprocess.run([*base, "not-duplicate", "--catalog", "Dups", str(root / "nope.jpg"), str(root / "a/original.jpg")],
                         capture_output=True, text=True, timeout=60, env=env)
    assert res.returncode == 1 and "is not an analysed photo" in res.stderr and "Traceback" not in res.stderr


def test_tier_and_decision_vocabulary_matches_sql(conn) -> None:  # type: ignore[no-untyped-def]
    import re

    from lumina_desktop.core.duplicates import TIERS, DecisionKind

    def checked(name: str) -> set[str]:
        (d,) = conn.execute("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = %s", (name,)).fetchone()
        return set(re.findall(r"'(\w+)'", d))

    for name in ("duplicate_groups_tier_check", "duplicate_members_tier_check"):
        assert checked(name) == set(TIERS)
    assert checked("duplicate_decisions_decision_check") == set(DecisionKind)


def test_cancelled_then_resumed_run_equals_a_fresh_run(coordinator, conn, db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from lumina_desktop.db import jobs as jobs_db

    root = tmp_path / "lib"
    build_library(root)
    _, cat = run(coordinator, conn, root, "scan")
    with db.connection() as c:
        job_id = jobs_db.create_job(c, "duplicates", cat.id, {})
    assert coordinator.cancel(job_id) == JobState.CANCELLED
    with db.connection() as c:
        assert dup_db.current_run(c, cat.id) is None  # nothing half-done became current
    coordinator.resume(job_id)
    resumed = coordinator.wait(job_id, 60)
    assert resumed.state == JobState.SUCCEEDED
    got = sorted(sorted(members_by_name([g])) for g in load_groups(db, cat.id))
    fresh, _ = run(coordinator, conn, root, "duplicates")
    assert sorted(sorted(members_by_name([g])) for g in load_groups(db, cat.id)) == got
    assert resumed.result["groups"] == fresh.result["groups"] == 1


def test_a_photo_whose_grey_is_missing_is_unverified_not_dropped(coordinator, conn, db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "lib"
    files = build_library(root)
    _, cat = run(coordinator, conn, root, "scan")
    with db.connection() as c:  # a damaged fingerprint: the pixel check cannot run for this file
        c.execute("UPDATE photo_fingerprints f SET grey = NULL FROM photos p WHERE p.id = f.photo_id AND p.path = %s",
                  (str(files["small/original_small.jpg"]),))
    job, _ = run(coordinator, conn, root, "duplicates")
    assert job.result["unverified"] == 1
    sg = load_groups(db, cat.id)[0]
    small = next(m for m in sg.group.members if sg.paths[m.photo_id].endswith("original_small.jpg"))
    assert small.is_verified is False and small.match.startswith("phash (unverified")
    assert sg.group.has_unverified
