"""Incremental duplicate runs, increment after increment, equal a full run; untouched groups are
carried over as they are (same ids), only the parts new photos reach are regrouped."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from PIL import Image, ImageOps

from lumina_desktop.jobs.kinds.duplicates import load_groups
from tests.jobs.test_duplicates_job import build_library, members_by_name, run, scene

pytestmark = [pytest.mark.db, pytest.mark.slow]


def grouping(db, cat_id: int, root: Path) -> list[list[str]]:  # type: ignore[no-untyped-def]
    return sorted(sorted(os.path.relpath(p, root) for p in members_by_name([g])) for g in load_groups(db, cat_id))


def test_increments_equal_a_full_run_and_keep_untouched_groups(coordinator, conn, db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "lib"
    build_library(root)
    scene(20).save(root / "others" / "c.jpg", quality=90)
    scene(20).resize((450, 300), Image.LANCZOS).save(root / "others" / "c_small.jpg", quality=80)
    run(coordinator, conn, root, "scan")
    _, cat = run(coordinator, conn, root, "duplicates")
    ids_before = {tuple(sorted(members_by_name([g]))): g.id for g in load_groups(db, cat.id)}
    assert len(ids_before) == 2

    increments = [
        # a byte-identical copy of a grouped photo (found by its content hash), an unrelated photo
        lambda: (shutil.copy2(root / "a" / "original.jpg", root / "others" / "copy1.jpg"),
                 scene(30).save(root / "others" / "unrelated.jpg", quality=90)),
        # a new pair of near copies, and a re-encode of the c group's photo
        lambda: (scene(40).save(root / "new" / "d.jpg", quality=90),
                 ImageOps.grayscale(scene(40)).convert("RGB").save(root / "new" / "d_grey.jpg", quality=90),
                 scene(40).resize((600, 400), Image.LANCZOS).save(root / "new" / "d_small.jpg", quality=85),
                 scene(20).save(root / "new" / "c_again.png")),
        # nothing new
        lambda: None,
    ]
    (root / "new").mkdir()
    for step, add in enumerate(increments):
        add()
        run(coordinator, conn, root, "scan")
        inc, _ = run(coordinator, conn, root, "duplicates", incremental=True)
        assert inc.result["incremental"] is True
        incremental = grouping(db, cat.id, root)
        stored_ids = {tuple(sorted(members_by_name([g]))): g.id for g in load_groups(db, cat.id)}
        if step == 0:
            assert inc.result["new_photos"] == 2 and inc.result["parts"] == 1   # only the copy's part
            c_group = next(k for k in stored_ids if any(p.endswith("c.jpg") for p in k))
            assert stored_ids[c_group] == ids_before[c_group]    # carried over as it was
        if step == 2:
            assert inc.result["new_photos"] == 0 and inc.result["parts"] == 0
            assert stored_ids == ids_before                     # nothing regrouped, nothing renumbered
        full, _ = run(coordinator, conn, root, "duplicates")
        assert full.result["incremental"] is False
        assert incremental == grouping(db, cat.id, root), f"increment {step}"
        ids_before = {tuple(sorted(members_by_name([g]))): g.id for g in load_groups(db, cat.id)}
        # the next incremental run builds on this full run, as the menu's would on the last run
    assert any("new/d.jpg" in g and "new/d_small.jpg" in g for g in incremental)
    assert any("others/copy1.jpg" in g and "a/original.jpg" in g for g in incremental)
