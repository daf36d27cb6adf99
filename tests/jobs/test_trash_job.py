"""Moving to the trash and undoing it, on PostgreSQL and real files: the journal, the resolve
plans (a keeper never goes), views that hide trashed photos, undo refused on a changed file or a
taken place, and a SIGKILL in the middle of an operation, then resume and undo."""
from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lumina_desktop.core.jobs import JobState
from lumina_desktop.core.library import PhotoFilter
from lumina_desktop.db import library
from lumina_desktop.services.trash import TRASH_KIND, TrashService
from tests.jobs.test_scan import make_jpeg, scan

pytestmark = pytest.mark.db


@pytest.fixture(autouse=True)
def own_trash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The home trash of these tests (the spec's $XDG_DATA_HOME/Trash), on the files' file system."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "Trash"


def tree_digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def copies_library(root: Path, n: int) -> None:
    """``n`` distinct photos, each with a byte copy in backup/."""
    for i in range(n):
        make_jpeg(root / "photos" / f"img{i:04d}.jpg", i, size=(64, 48))
        (root / "backup").mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / "photos" / f"img{i:04d}.jpg", root / "backup" / f"img{i:04d}.jpg")


def run(coordinator, conn, kind: str, cat_id: int | None, **params):  # type: ignore[no-untyped-def]
    job = coordinator.wait(coordinator.submit(kind, params, catalog_id=cat_id), 120)
    conn.commit()
    assert job.state == JobState.SUCCEEDED, job.error
    return job


def test_resolve_identical_then_undo_all_is_byte_identical_and_keepers_never_go(
        coordinator, conn, db, tmp_path: Path, own_trash: Path) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "lib"
    copies_library(root, 12)
    before = tree_digest(root)
    _, cat = scan(coordinator, conn, root)
    run(coordinator, conn, "duplicates", cat.id)
    service = TrashService(db)
    plan = service.duplicates_plan(cat.id, "identical")
    assert len(plan.photo_ids) == 12 and plan.kept == 12
    op = service.journal(cat.id, plan, "identical copies")
    items = conn.execute("SELECT state, trash_kind FROM operation_items WHERE operation_id = %s", (op,)).fetchall()
    conn.commit()
    assert {tuple(i) for i in items} == {("planned", "system")}        # journaled before anything moves
    job = run(coordinator, conn, TRASH_KIND, cat.id, **service.job_params(op))
    assert job.result["trashed"] == 12 and job.result["failed"] == 0
    left = tree_digest(root)
    assert len(left) == 12 and set(left.values()) == set(before.values())   # every picture keeps one copy
    assert len(list((own_trash / "files").iterdir())) == 12
    assert all(p.read_text().startswith("[Trash Info]\nPath=") for p in (own_trash / "info").iterdir())
    visible = library.list_photo_ids(conn, cat.id, PhotoFilter())
    conn.commit()
    assert len(visible) == 12                                            # trashed photos leave the views
    assert service.duplicates_plan(cat.id, "identical").photo_ids == ()  # and their groups
    undo = run(coordinator, conn, TRASH_KIND, cat.id, **service.job_params(op, undo=True))
    assert undo.result["restored"] == 12
    assert tree_digest(root) == before
    assert list((own_trash / "files").iterdir()) == [] and list((own_trash / "info").iterdir()) == []
    assert len(library.list_photo_ids(conn, cat.id, PhotoFilter())) == 24
    conn.commit()
    assert service.operations()[0].undone_at is not None


def test_undo_is_refused_for_a_changed_file_or_a_taken_place(coordinator, conn, db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "lib"
    copies_library(root, 3)
    _, cat = scan(coordinator, conn, root)
    run(coordinator, conn, "duplicates", cat.id)
    service = TrashService(db)
    plan = service.duplicates_plan(cat.id, "identical")
    op = service.journal(cat.id, plan, "copies")
    run(coordinator, conn, TRASH_KIND, cat.id, **service.job_params(op))
    rows = conn.execute("SELECT original_path, trash_path FROM operation_items WHERE operation_id = %s ORDER BY id",
                        (op,)).fetchall()
    conn.commit()
    (changed_orig, changed_trash), (taken_orig, _), _ = rows
    with open(changed_trash, "ab") as fh:                                # edited in the trash
        fh.write(b"more")
    Path(taken_orig).write_bytes(b"a new file took its place")
    undo = run(coordinator, conn, TRASH_KIND, cat.id, **service.job_params(op, undo=True))
    assert undo.result == {**undo.result, "restored": 1, "refused": 2}
    errors = dict(service.item_errors(op))
    assert "changed since it was trashed" in errors[changed_orig]
    assert "a file now exists at" in errors[taken_orig]
    assert Path(taken_orig).read_bytes() == b"a new file took its place"   # nothing overwritten
    assert os.path.exists(changed_trash) and not os.path.exists(changed_orig)
    assert service.undoable(cat.id) == [op]                              # the rest can still be undone


def test_a_file_changed_since_the_scan_is_not_trashed(coordinator, conn, db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "lib"
    copies_library(root, 2)
    _, cat = scan(coordinator, conn, root)
    run(coordinator, conn, "duplicates", cat.id)
    service = TrashService(db)
    plan = service.duplicates_plan(cat.id, "identical")
    victim = Path(plan.paths[0])
    victim.write_bytes(victim.read_bytes() + b"edited")                 # no longer a copy of its keeper
    op = service.journal(cat.id, plan, "copies")
    job = run(coordinator, conn, TRASH_KIND, cat.id, **service.job_params(op))
    assert job.result["trashed"] == 1 and job.result["failed"] == 1
    assert victim.exists() and "changed since it was scanned" in dict(service.item_errors(op))[str(victim)]


def test_sigkill_during_a_trash_operation_then_resume_and_undo(test_db, db, conn, coordinator, tmp_path: Path,
                                                               own_trash: Path) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "lib"
    copies_library(root, 600)
    before = tree_digest(root)
    _, cat = scan(coordinator, conn, root)
    run(coordinator, conn, "duplicates", cat.id)
    env = {**os.environ, "LUMINA_DATA_DIR": str(tmp_path / "data"), "XDG_DATA_HOME": str(tmp_path / "xdg"),
           "LUMINA_BATCH_SIZE": "20"}
    proc = subprocess.Popen([sys.executable, "-m", "lumina_desktop", "--database-url", test_db.conninfo,
                             "duplicates", "resolve", "--catalog", "Test", "--tier", "identical"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 60
    trashed = 0
    while time.monotonic() < deadline and proc.poll() is None:
        row = conn.execute("SELECT count(*) FILTER (WHERE state = 'trashed'), count(*) FROM operation_items").fetchone()
        conn.commit()
        trashed = row[0]
        if 0 < trashed < row[1]:
            break
        time.sleep(0.005)
    assert proc.poll() is None and 0 < trashed < 600, "the move was not caught in the middle"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    # the journal is consistent: each file is at home or in the trash, exactly once, and a file
    # the journal still calls planned may already be in the trash (moved, not yet committed)
    items = conn.execute("SELECT original_path, trash_path, state FROM operation_items").fetchall()
    conn.commit()
    for orig, tpath, state in items:
        assert os.path.exists(orig) != os.path.exists(tpath), (orig, state)
        if state == "trashed":
            assert os.path.exists(tpath)
    in_trash = sum(os.path.exists(t) for _, t, _ in items)
    assert in_trash >= trashed
    # resume (the window or `jobs resume` would): the engine sees the dead owner and finishes it
    job_id = conn.execute("SELECT id FROM jobs WHERE kind = 'trash' ORDER BY id DESC LIMIT 1").fetchone()[0]
    conn.commit()
    coordinator.resume(job_id)
    job = coordinator.wait(job_id, 120)
    conn.commit()
    assert job.state == JobState.SUCCEEDED, job.error
    states = dict(conn.execute("SELECT state, count(*) FROM operation_items GROUP BY 1").fetchall())
    conn.commit()
    assert states == {"trashed": 600}
    assert len(tree_digest(root)) == 600 and set(tree_digest(root).values()) == set(before.values())
    op = conn.execute("SELECT id FROM operations").fetchone()[0]
    conn.commit()
    run(coordinator, conn, TRASH_KIND, cat.id, **TrashService(db).job_params(op, undo=True))
    assert tree_digest(root) == before


def test_an_interrupted_move_is_finished_from_the_journal(tmp_path: Path) -> None:
    """The rename happened, the commit did not: the item is recorded as made, not failed; an
    interrupted undo likewise."""
    from lumina_desktop.analysis.hashing import content_hash
    from lumina_desktop.jobs.kinds.trash import TrashKind
    from lumina_desktop.storage import trash

    src = make_jpeg(tmp_path / "a" / "x.jpg", 1, size=(32, 24))
    h = content_hash(src.read_bytes())
    spot = trash.plan(str(src), "lumina-t-1")
    trash.move(str(src), spot)
    assert TrashKind._trash(str(src), spot, h) == "trashed"
    trash.restore(str(src), spot)
    assert TrashKind._restore(str(src), spot, h) == "restored"


def test_a_file_put_back_outside_lumina_shows_again_after_a_rescan(coordinator, conn, db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The desktop's "Restore" (or a move by hand) puts a trashed file back at its path: the next
    scan shows it again — whether a scan marked it missing meanwhile or not — and its journal
    entry is restored, so undo has nothing left to do for it."""
    root = tmp_path / "lib"
    copies_library(root, 3)
    _, cat = scan(coordinator, conn, root)
    run(coordinator, conn, "duplicates", cat.id)
    service = TrashService(db)
    op = service.journal(cat.id, service.duplicates_plan(cat.id, "identical"), "copies")
    run(coordinator, conn, TRASH_KIND, cat.id, **service.job_params(op))
    rows = conn.execute("SELECT original_path, trash_path, photo_id FROM operation_items WHERE operation_id = %s "
                        "ORDER BY id", (op,)).fetchall()
    conn.commit()
    assert len(library.list_photo_ids(conn, cat.id, PhotoFilter())) == 3
    (first, first_trash, first_id), (second, second_trash, second_id), _ = rows
    os.rename(first_trash, first)                                     # put back before any rescan
    scan(coordinator, conn, root)                                     # the third stays in the trash: missing
    os.rename(second_trash, second)                                   # put back after a scan saw it gone
    scan(coordinator, conn, root)
    visible = set(library.list_photo_ids(conn, cat.id, PhotoFilter()))
    states = dict(conn.execute("SELECT photo_id, state FROM operation_items WHERE operation_id = %s", (op,)).fetchall())
    conn.commit()
    assert {first_id, second_id} <= visible and len(visible) == 5    # the two are back in the views
    assert states[first_id] == states[second_id] == "restored" and sorted(states.values()).count("trashed") == 1
    assert service.undoable(cat.id) == [op]                          # the third can still be undone
    undo = run(coordinator, conn, TRASH_KIND, cat.id, **service.job_params(op, undo=True))
    assert undo.result["restored"] == 1 and service.undoable(cat.id) == []
