"""DuplicatesService: totals, rows and decisions after a real scan and duplicates run."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from lumina_desktop.core.changes import Aspect
from lumina_desktop.core.duplicates import DuplicateGroup, GroupMember, KeepThis, NotDuplicate, StoredGroup
from lumina_desktop.core.errors import NotFoundError
from lumina_desktop.core.jobs import JobState
from lumina_desktop.services.duplicates import (
    KEEP,
    NOT_DUPLICATE,
    DuplicatesService,
    member_rows,
    tier_stats,
)
from tests.services.conftest import FAST


def scene(seed: int, size: tuple[int, int] = (600, 400)) -> Image.Image:
    """A photo-like picture (gradients, shapes, grain), deterministic."""
    rng = np.random.default_rng(seed)
    w, h = size
    y, x = np.mgrid[0:h, 0:w] / max(w, h)
    base = np.stack([np.sin(x * rng.uniform(2, 6) + rng.uniform(0, 3)) * 80 + 120,
                     np.cos(y * rng.uniform(2, 6) + rng.uniform(0, 3)) * 80 + 120,
                     (x + y) * 60 + rng.uniform(40, 90)], axis=-1)
    im = Image.fromarray(np.clip(base + rng.normal(0, 6, base.shape), 0, 255).astype(np.uint8))
    d = ImageDraw.Draw(im)
    for _ in range(10):
        x0, y0 = int(rng.integers(0, w - 60)), int(rng.integers(0, h - 60))
        d.ellipse([x0, y0, x0 + int(rng.integers(30, 150)), y0 + int(rng.integers(30, 150))],
                  fill=tuple(int(c) for c in rng.integers(0, 255, 3)))
    return im


def test_tier_stats_and_rows_of_groups() -> None:
    g = DuplicateGroup(1, "h1", (GroupMember(2, "h1", "identical", "content hash", None, 0, True, "same file"),
                                 GroupMember(3, "h3", "near_copy", "phash", 0.98765, 4, True, "smaller")),
                       "identical", False)
    sg = StoredGroup(7, g, {1: "/p/a.jpg", 2: "/p/b.jpg", 3: "/p/c.jpg"}, {1: 100, 2: 100, 3: 40})
    stats = {s.tier: s for s in tier_stats([sg])}
    assert list(stats) == ["identical", "same_picture", "near_copy"]  # every tier, in order
    # by each copy's tier, as resolve and "Accept all" move them: the group counts in both tiers
    assert (stats["identical"].groups, stats["identical"].copies, stats["identical"].reclaimable_bytes) == (1, 1, 100)
    assert (stats["near_copy"].groups, stats["near_copy"].copies, stats["near_copy"].reclaimable_bytes) == (1, 1, 40)
    assert stats["same_picture"].groups == 0
    rows = member_rows([sg])
    assert [(r.path, r.is_keeper, r.tier, r.size_bytes) for r in rows] == [
        ("/p/a.jpg", True, "identical", 100), ("/p/b.jpg", False, "identical", 100),
        ("/p/c.jpg", False, "near_copy", 40)]
    assert rows[0].reason == "suggested keeper" and rows[2].similarity == 0.9877
    assert member_rows([sg], "near_copy") == [] and member_rows([sg], "identical") == rows


def test_find_params_check_the_keeper_rules() -> None:
    assert DuplicatesService.find_params() == {"incremental": False}
    assert DuplicatesService.find_params(incremental=True, rules=[" path", "raw", "path"]) == \
        {"incremental": True, "rules": ["path", "raw"]}
    with pytest.raises(ValueError, match="unknown keeper rule 'sharpest'"):
        DuplicatesService.find_params(rules=["raw", "sharpest"])


@pytest.mark.db
@pytest.mark.slow
def test_stats_rows_and_decisions_after_a_real_run(app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "lib"
    (root / "backup").mkdir(parents=True)
    a = scene(1)
    a.save(root / "a.jpg", quality=92)
    shutil.copy2(root / "a.jpg", root / "backup" / "a.jpg")
    a.resize((300, 200), Image.LANCZOS).save(root / "a_small.jpg", quality=80)
    scene(2).save(root / "b.jpg", quality=92)
    sizes = {p.name if p.parent == root else "backup/a.jpg": p.stat().st_size
             for p in [root / "a.jpg", root / "backup" / "a.jpg", root / "a_small.jpg"]}

    dups = app.duplicates
    coordinator = app.start_engine(timing=FAST)
    cat = app.library.create_catalog("Dups")
    assert dups.groups(cat.id) == [] and all(s.groups == 0 for s in dups.stats(cat.id))  # never run
    scan = app.library.add_folders_and_scan(cat.id, [str(root)])
    assert coordinator.wait(scan.job_id, 60).state == JobState.SUCCEEDED
    job_id = app.jobs.submit("duplicates", dups.find_params(), catalog_id=cat.id)
    job = coordinator.wait(job_id, 60)
    assert job.state == JobState.SUCCEEDED, job.error
    assert job.result["groups"] == 1

    stats = {s.tier: s for s in dups.stats(cat.id)}
    # counted by each copy's own tier (as resolve --tier moves them): one of the two identical
    # files is the keeper, the other is an identical copy, the small one a near copy
    assert [(t, s.groups, s.copies) for t, s in stats.items()] == \
        [("identical", 1, 1), ("same_picture", 0, 0), ("near_copy", 1, 1)]
    assert stats["identical"].reclaimable_bytes == sizes["a.jpg"]
    assert stats["near_copy"].reclaimable_bytes == sizes["a_small.jpg"]
    rows = dups.rows(cat.id)
    assert sorted(Path(r.path).relative_to(root).as_posix() for r in rows) == ["a.jpg", "a_small.jpg", "backup/a.jpg"]
    assert [r.is_keeper for r in rows] == [True, False, False] and len({r.group_id for r in rows}) == 1
    assert not rows[0].path.endswith("a_small.jpg")  # the larger picture is suggested
    assert {r.tier for r in rows[1:]} == {"identical", "near_copy"}
    assert dups.rows(cat.id, "near_copy") == rows and dups.rows(cat.id, "identical") == []

    # "keep this one" moves the keeper (decided by content) and is announced to open windows
    seq = app.jobs.latest_change()
    dups.keep(cat.id, str(root / "a_small.jpg"))
    (decision,) = dups.decisions(cat.id)
    assert isinstance(decision, KeepThis) and len(decision.content_hash) > 20
    keeper = dups.rows(cat.id)[0]
    assert keeper.path == str(root / "a_small.jpg") and keeper.reason == "suggested keeper (your choice)"
    assert any(Aspect.DUPLICATES in c.aspects and c.catalog_id == cat.id for c in app.jobs.changes_since(seq))
    dups.forget(cat.id, KEEP, [str(root / "a_small.jpg")])
    assert dups.decisions(cat.id) == [] and not dups.rows(cat.id)[0].path.endswith("a_small.jpg")

    # "not duplicates" takes the small copy out of the group, without a new run
    dups.not_duplicates(cat.id, str(root / "a.jpg"), str(root / "a_small.jpg"))
    (decision,) = dups.decisions(cat.id)
    assert isinstance(decision, NotDuplicate) and decision.kind == NOT_DUPLICATE and decision.a != decision.b
    assert sorted(Path(r.path).name for r in dups.rows(cat.id)) == ["a.jpg", "a.jpg"]
    assert sum(s.copies for s in dups.stats(cat.id)) == 1

    with pytest.raises(NotFoundError, match=r"nope\.jpg is not an analysed photo of catalog 'Dups'"):
        dups.keep(cat.id, str(root / "nope.jpg"))
    with pytest.raises(ValueError):
        dups.remember(cat.id, NOT_DUPLICATE, [str(root / "a.jpg")])


@pytest.mark.slow
def test_keep_chooses_the_file_among_byte_identical_copies_and_survives_a_new_run(app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Two files of the same bytes: the suggested keeper is the first found (path order); "keep
    this one" on the other makes it the keeper — by file, not only by content — through a new
    duplicates run, and `resolve` then moves the other file."""
    root = tmp_path / "lib"
    (root / "Backup").mkdir(parents=True)
    (root / "Trip").mkdir()
    scene(3).save(root / "Trip" / "dune.jpg", quality=92)
    shutil.copy2(root / "Trip" / "dune.jpg", root / "Backup" / "dune.jpg")
    dups = app.duplicates
    coordinator = app.start_engine(timing=FAST)
    cat = app.library.create_catalog("Files")
    scan = app.library.add_folders_and_scan(cat.id, [str(root)])
    assert coordinator.wait(scan.job_id, 60).state == JobState.SUCCEEDED

    def run() -> None:
        job = coordinator.wait(app.jobs.submit("duplicates", dups.find_params(), catalog_id=cat.id), 60)
        assert job.state == JobState.SUCCEEDED, job.error

    run()
    rows = dups.rows(cat.id)
    assert [(Path(r.path).parent.name, r.is_keeper, r.tier) for r in rows] == [
        ("Backup", True, "identical"), ("Trip", False, "identical")]          # path order: Backup first
    dups.keep(cat.id, str(root / "Trip" / "dune.jpg"))
    (decision,) = dups.decisions(cat.id)
    assert isinstance(decision, KeepThis) and decision.path == str(root / "Trip" / "dune.jpg")
    for _ in range(2):    # read again, then after a new run
        rows = dups.rows(cat.id)
        assert [(Path(r.path).parent.name, r.is_keeper, r.tier) for r in rows] == [
            ("Trip", True, "identical"), ("Backup", False, "identical")]
        assert rows[0].reason == "suggested keeper (your choice)" and "your choice" in rows[1].reason
        run()
    plan = app.trash.duplicates_plan(cat.id, "identical")
    assert [Path(p).parent.name for p in plan.paths] == ["Backup"]
    # K again on the first file: the newest choice wins, one decision per file
    dups.keep(cat.id, str(root / "Backup" / "dune.jpg"))
    dups.keep(cat.id, str(root / "Backup" / "dune.jpg"))
    assert len(dups.decisions(cat.id)) == 2 and Path(dups.rows(cat.id)[0].path).parent.name == "Backup"
