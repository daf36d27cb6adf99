"""The duplicate review on a real catalog: real JPEGs with byte copies, a re-saved copy with other
metadata and a resized copy, scanned and grouped by the real jobs; every action by key and by
button — navigation and progress, K keep this one, N not duplicates, Delete trash the copies
(files really moved to a private trash, journaled), accept every suggestion of a tier after a
confirmation — differences highlighted, the compare view's linked zoom and pan across pixel
sizes, the empty state, failures reported, and 10,000 groups opening without building widgets."""
from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QAction, QKeySequence, QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication, QWidget

from lumina_desktop.core.duplicates import DuplicateGroup, DuplicateTier, GroupMember, StoredGroup
from lumina_desktop.core.errors import LuminaError
from lumina_desktop.core.jobs import JobState
from lumina_desktop.services.app import AppServices, services_on
from lumina_desktop.services.describe import format_bytes
from lumina_desktop.ui.tasks import set_error_reporter
from lumina_desktop.ui.widgets.duplicate_review import EMPTY_TITLE, DuplicateReviewWidget
from tests.jobs import conftest as engine
from tests.jobs.test_duplicates_job import scene, with_comment
from tests.jobs.test_scan import scan
from tests.ui.fakes import FakePhotos, FakePictures, fake_hash
from tests.ui.review_support import dark_theme, own_trash, shot  # noqa: F401  (autouse fixtures)

pytestmark = [pytest.mark.ui, pytest.mark.db, pytest.mark.slow]
IDENTICAL, SAME, NEAR = DuplicateTier.IDENTICAL, DuplicateTier.SAME_PICTURE, DuplicateTier.NEAR_COPY

settings = engine.settings                 # the job engine's fixtures: a real coordinator on ``db``
make_coordinator = engine.make_coordinator
coordinator = engine.coordinator


def build_library(root: Path) -> None:
    """a: a camera original and its byte copy; b: a photo, its byte copy and a half-size copy;
    c: a photo and the same picture with other metadata; d: a photo and its byte copy; e: alone."""
    def save(rel: str, im: Image.Image, **kw: Any) -> Path:
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        im.save(p, "JPEG", **kw)
        return p

    def copy(src: Path, rel: str) -> None:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, root / rel)

    camera = Image.Exif()
    camera[0x010F], camera[0x0110] = "Canon", "EOS R6"
    copy(save("photos/a.jpg", scene(1), quality=92, exif=camera), "backup/a.jpg")
    b = scene(2)
    copy(save("photos/b.jpg", b, quality=92, exif=camera), "backup/b.jpg")
    save("small/b_small.jpg", b.resize((450, 300), Image.LANCZOS), quality=80)
    c = save("photos/c.jpg", scene(3), quality=92, exif=camera)
    (root / "edited").mkdir(parents=True, exist_ok=True)
    (root / "edited" / "c_tagged.jpg").write_bytes(with_comment(c.read_bytes(), b"rated 5 stars"))
    copy(save("photos/d.jpg", scene(4), quality=90), "backup/d.jpg")
    save("photos/e.jpg", scene(5), quality=90)


@dataclass
class Catalog:
    id: int
    root: Path
    services: AppServices
    ids: dict[str, int]                     # path relative to the root → photo id
    coordinator: Any

    def groups(self) -> list[StoredGroup]:
        return self.services.duplicates.groups(self.id)

    def group_of(self, rel: str) -> StoredGroup | None:
        pid = self.ids[rel]
        return next((sg for sg in self.groups() if pid in sg.group.photo_ids), None)

    def rel(self, photo_id: int) -> str:
        return next(r for r, i in self.ids.items() if i == photo_id)


@pytest.fixture
def catalog(coordinator, conn, db, settings, tmp_path: Path) -> Catalog:  # type: ignore[no-untyped-def]
    root = tmp_path / "lib"
    build_library(root)
    _, cat = scan(coordinator, conn, root)
    job = coordinator.wait(coordinator.submit("duplicates", {}, catalog_id=cat.id), 120)
    assert job.state == JobState.SUCCEEDED, job.error
    ids = {os.path.relpath(p, root): i for i, p in conn.execute("SELECT id, path FROM photos WHERE catalog_id = %s",
                                                                (cat.id,)).fetchall()}
    conn.commit()
    services = services_on(settings, db)
    services.jobs.control = coordinator
    return Catalog(cat.id, root, services, ids, coordinator)


@dataclass
class Review:
    widget: DuplicateReviewWidget
    confirms: list[tuple[str, str]] = field(default_factory=list)
    answer: bool = True
    started: list[tuple[int, int]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def open_review(qtbot, io: ThreadPoolExecutor, services: Any, catalog_id: int,  # type: ignore[no-untyped-def]
                **kw: Any) -> Review:
    box = Review(None)  # type: ignore[arg-type]

    def confirm(title: str, text: str) -> bool:
        box.confirms.append((title, text))
        return box.answer

    w = DuplicateReviewWidget(io, services.duplicates, services.photos, services.images, services.trash,
                              services.jobs, confirm=confirm, **kw)
    box.widget = w
    w.operation_started.connect(lambda op, job: box.started.append((op, job)))
    w.error.connect(box.errors.append)
    qtbot.addWidget(w)
    w.resize(1400, 860)
    w.show()
    w.set_catalog(catalog_id)
    qtbot.waitUntil(lambda: w.is_loaded, timeout=10000)
    return box


@pytest.fixture
def review(qtbot, catalog: Catalog) -> Iterator[Review]:  # type: ignore[no-untyped-def]
    io = ThreadPoolExecutor(max_workers=2, thread_name_prefix="test-dups-io")
    box = open_review(qtbot, io, catalog.services, catalog.id)
    assert box.widget.model.group_count == 4
    yield box
    box.widget.close()
    io.shutdown(wait=True, cancel_futures=True)


def settled(w: DuplicateReviewWidget) -> bool:
    return not w.is_busy


def wait_job(qtbot, catalog: Catalog, job_id: int) -> None:  # type: ignore[no-untyped-def]
    def done() -> bool:
        job = catalog.services.jobs.get(job_id)
        return job is not None and job.state in (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)
    qtbot.waitUntil(done, timeout=60000)
    job = catalog.services.jobs.get(job_id)
    assert job is not None and job.state == JobState.SUCCEEDED, job.error


def copies_of(sg: StoredGroup) -> list[int]:
    return [m.photo_id for m in sg.group.members]


def go_to(w: DuplicateReviewWidget, catalog: Catalog, rel: str) -> StoredGroup:
    sg = w.model.group(w.model.row_of(catalog.group_of(rel).id))  # type: ignore[union-attr]
    assert sg is not None and w.go_to_group(sg.id)
    return sg


def pictures_shown(w: DuplicateReviewWidget) -> bool:
    sg = w.current_group
    return sg is not None and all((mp := w.member_picture(pid)) is not None and mp.details is not None
                                  for pid in sg.group.photo_ids) and \
        all(c.pixmap is not None for c in w.panel.cells.values())


# -- the queue and a group
def test_queue_by_tier_with_totals_progress_and_differences_highlighted(review: Review, catalog: Catalog, qtbot,
                                                                        qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    w = review.widget
    qtmodeltester.check(w.model)
    tiers = [w.model.group(r).tier for r in range(w.model.rowCount()) if w.model.group(r) is not None]  # type: ignore[union-attr]
    assert tiers == [IDENTICAL, IDENTICAL, SAME, NEAR]                # strictest tier first
    headers = [w.model.data(w.model.index(r)) for r in range(w.model.rowCount()) if w.model.group(r) is None]
    sizes = {rel: (catalog.root / rel).stat().st_size for rel in catalog.ids}
    identical_bytes = sizes["backup/a.jpg"] + sizes["backup/d.jpg"]
    assert headers == [f"Identical — 2 groups · {format_bytes(identical_bytes)}",
                       f"Same picture — 1 group · {format_bytes(min(sizes['photos/c.jpg'], sizes['edited/c_tagged.jpg']))}",
                       f"Near copies — 1 group · {format_bytes(sizes['backup/b.jpg'] + sizes['small/b_small.jpg'])}"]
    # the tier panel counts copies by their own tier, as "Accept all" moves them: the near-copy
    # group's byte copy of b.jpg is an identical copy too
    panel_text = w.tier_labels[IDENTICAL].text()
    assert "3 copies" in panel_text and format_bytes(identical_bytes + sizes["backup/b.jpg"]) in panel_text
    assert all(b.isEnabled() for b in w.accept_buttons.values())
    # the first group is current and highlighted; its progress shows
    assert w.progress_text == "Group 1 of 4"
    assert w.queue.selectionModel().isSelected(w.queue.currentIndex()) and w.model.group(w.queue.currentIndex().row())
    # the near-copy group: keeper first, the byte copy, the half-size copy
    sg = go_to(w, catalog, "small/b_small.jpg")
    assert w.progress_text == "Group 4 of 4" and "Near copies" in w.tier_label.text()
    keeper = catalog.rel(sg.group.keeper_id)
    assert keeper in ("photos/b.jpg", "backup/b.jpg")              # the full-size photo wins over the small one
    qtbot.waitUntil(lambda: pictures_shown(w), timeout=20000)
    small, byte_copy = catalog.ids["small/b_small.jpg"], next(i for i in sg.group.photo_ids
                                                                if i not in (sg.group.keeper_id, catalog.ids["small/b_small.jpg"]))
    assert list(w.panel.cells) == list(sg.group.photo_ids) and list(w.panel.cells)[0] == sg.group.keeper_id
    assert w.panel.cells[sg.group.keeper_id].badge == "KEEP" and w.panel.cells[small].badge.startswith("COPY")
    assert "Keep" in w.panel.role_labels[sg.group.keeper_id].text()
    assert w.panel.match_labels[sg.group.keeper_id].text().startswith("Suggested")
    assert w.panel.match_labels[byte_copy].text() == "identical · same bytes"
    assert w.panel.match_labels[small].text().startswith("near copy · ") and "similar" in w.panel.match_labels[small].text()

    def differs(key: str, pid: int) -> bool:
        return bool(w.panel.fact_labels[(key, pid)].property("differs"))

    assert w.panel.fact_labels[("dimensions", small)].text().startswith("450 × 300")
    assert differs("dimensions", small) and differs("size", small) and differs("folder", small) and differs("name", small)
    assert differs("camera", small) and differs("metadata", small)     # the resize dropped the EXIF
    assert not differs("dimensions", byte_copy) and not differs("size", byte_copy) and not differs("camera", byte_copy)
    assert differs("folder", byte_copy) and not differs("name", byte_copy)
    assert not any(differs(k, sg.group.keeper_id) for k in ("name", "folder", "dimensions", "size", "camera"))
    assert w.selected_photo_id == small                                # K and N act on a copy: one they can act on
    shot(w, "duplicates-01-near-copy-group")
    w.go_to_group(w.model.group(w.model.group_row_near(0)).id)  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: pictures_shown(w), timeout=20000)
    shot(w, "duplicates-02-identical-group")


def test_navigation_by_keys_and_buttons(review: Review, qtbot) -> None:  # type: ignore[no-untyped-def]
    w = review.widget
    seen: list[int] = []
    w.group_changed.connect(seen.append)
    q = w.queue
    assert w.progress_text == "Group 1 of 4"
    qtbot.keyClick(q, Qt.Key.Key_S)
    assert w.progress_text == "Group 2 of 4"
    qtbot.keyClick(q, Qt.Key.Key_Right)
    assert w.progress_text == "Group 3 of 4"                         # over the tier header
    qtbot.keyClick(q, Qt.Key.Key_Left)
    qtbot.keyClick(q, Qt.Key.Key_Left)
    assert w.progress_text == "Group 1 of 4"
    qtbot.keyClick(q, Qt.Key.Key_Left)
    assert w.progress_text == "Group 1 of 4" and "first group" in w.status_label.text()
    assert not w.buttons["previous"].isEnabled()
    qtbot.keyClick(q, Qt.Key.Key_End)
    assert w.progress_text == "Group 4 of 4" and not w.buttons["skip"].isEnabled()
    qtbot.keyClick(q, Qt.Key.Key_S)
    assert w.progress_text == "Group 4 of 4" and "last group" in w.status_label.text()
    qtbot.keyClick(q, Qt.Key.Key_Up)
    assert w.progress_text == "Group 3 of 4"
    qtbot.keyClick(q, Qt.Key.Key_Home)
    assert w.progress_text == "Group 1 of 4"
    qtbot.keyClick(q, Qt.Key.Key_Down)
    assert w.progress_text == "Group 2 of 4"
    click = Qt.MouseButton.LeftButton
    qtbot.mouseClick(w.buttons["skip"], click)
    qtbot.mouseClick(w.buttons["skip"], click)
    assert w.progress_text == "Group 4 of 4"
    qtbot.mouseClick(w.buttons["previous"], click)
    assert w.progress_text == "Group 3 of 4"
    assert len(seen) == 11 and len(set(seen)) == 4
    # a click in the queue: that group; a click on a tier header: the group under it
    header_row = next(r for r in range(w.model.rowCount()) if w.model.group(r) is None and r > 0)
    qtbot.mouseClick(q.viewport(), click, pos=q.visualRect(w.model.index(header_row)).center())
    assert w.current_group is not None and w.model.row_of(w.current_group.id) == header_row + 1
    qtbot.mouseClick(q.viewport(), click, pos=q.visualRect(w.model.index(1)).center())
    assert w.progress_text == "Group 1 of 4"
    # members: 1–9, Tab and Shift+Tab, a click
    sg = w.current_group
    assert sg is not None
    qtbot.keyClick(q, Qt.Key.Key_1)
    assert w.selected_photo_id == sg.group.keeper_id
    qtbot.keyClick(q, Qt.Key.Key_Tab)
    assert w.selected_photo_id == sg.group.members[0].photo_id
    qtbot.keyClick(q, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    assert w.selected_photo_id == sg.group.keeper_id and not w.buttons["keep"].isEnabled()
    qtbot.mouseClick(w.panel.cells[sg.group.keeper_id], click)
    assert w.selected_photo_id == sg.group.keeper_id and w.panel.cells[sg.group.keeper_id].is_selected
    qtbot.mouseClick(w.panel.cells[sg.group.members[0].photo_id], click)
    assert w.selected_photo_id == sg.group.members[0].photo_id
    assert w.panel.cells[sg.group.members[0].photo_id].is_selected and not w.panel.cells[sg.group.keeper_id].is_selected


# -- K: keep this one
def test_keep_by_key_and_by_button(review: Review, catalog: Catalog, qtbot) -> None:  # type: ignore[no-untyped-def]
    w = review.widget
    # a byte copy: the same content as its keeper; K chooses which of the two files stays
    sg = go_to(w, catalog, "photos/a.jpg")
    qtbot.keyClick(w.queue, Qt.Key.Key_1)
    qtbot.keyClick(w.queue, Qt.Key.Key_K)
    assert "already the keeper" in w.status_label.text() and settled(w)
    first_keeper = sg.group.keeper_id
    qtbot.keyClick(w.queue, Qt.Key.Key_2)
    other = w.selected_photo_id
    assert other != first_keeper and w.buttons["keep"].isEnabled() and "same bytes" in w.buttons["keep"].toolTip()
    assert not w.buttons["not_duplicate"].isEnabled()                # byte copies are duplicates whatever their names
    qtbot.keyClick(w.queue, Qt.Key.Key_K)
    qtbot.waitUntil(lambda: settled(w), timeout=10000)
    fresh = catalog.group_of("photos/a.jpg")
    assert fresh is not None and fresh.group.keeper_id == other and fresh.group.is_keeper_forced
    assert [m.photo_id for m in fresh.group.members] == [first_keeper] and fresh.group.members[0].tier == IDENTICAL
    assert "your choice" in fresh.group.members[0].reason
    # and back: K on the first file (the earlier choice is forgotten)
    w.go_to_group(sg.id)
    w.select_photo(first_keeper)
    qtbot.keyClick(w.queue, Qt.Key.Key_K)
    qtbot.waitUntil(lambda: settled(w), timeout=10000)
    assert catalog.group_of("photos/a.jpg").group.keeper_id == first_keeper  # type: ignore[union-attr]
    # the same picture with other metadata: K makes the copy the keeper, on to the next group at once
    sg = go_to(w, catalog, "edited/c_tagged.jpg")
    old_keeper, copy = sg.group.keeper_id, sg.group.members[0].photo_id
    assert w.progress_text == "Group 3 of 4" and w.selected_photo_id == copy and w.buttons["keep"].isEnabled()
    qtbot.keyClick(w.queue, Qt.Key.Key_K)
    assert w.progress_text == "Group 4 of 4"
    qtbot.waitUntil(lambda: settled(w), timeout=10000)
    fresh = catalog.group_of("edited/c_tagged.jpg")
    assert fresh is not None and fresh.group.keeper_id == copy and fresh.group.is_keeper_forced
    in_view = w.model.group(w.model.row_of(sg.id))
    assert in_view is not None and in_view.group.keeper_id == copy    # the queue was read again
    assert "Keeping" in w.status_label.text() and w.progress_text == "Group 4 of 4"
    # changed your mind: K on the first keeper again (the earlier choice is forgotten)
    w.go_to_group(sg.id)
    qtbot.waitUntil(lambda: pictures_shown(w), timeout=20000)
    assert w.panel.match_labels[copy].text() == "Your choice" and w.panel.cells[copy].badge == "KEEP"
    w.select_photo(old_keeper)
    qtbot.keyClick(w.queue, Qt.Key.Key_K)
    qtbot.waitUntil(lambda: settled(w), timeout=10000)
    assert catalog.group_of("edited/c_tagged.jpg").group.keeper_id == old_keeper  # type: ignore[union-attr]
    # by button, on the near-copy group: the half-size copy chosen with a click becomes the keeper
    sg = go_to(w, catalog, "small/b_small.jpg")
    small = catalog.ids["small/b_small.jpg"]
    qtbot.mouseClick(w.panel.cells[small], Qt.MouseButton.LeftButton)
    assert w.selected_photo_id == small
    qtbot.mouseClick(w.buttons["keep"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: settled(w), timeout=10000)
    fresh = catalog.group_of("small/b_small.jpg")
    assert fresh is not None and fresh.group.keeper_id == small
    assert w.current_group.id == sg.id and w.progress_text == "Group 4 of 4"  # the last group: stays  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: pictures_shown(w) and w.panel.cells[small].badge == "KEEP", timeout=20000)
    assert list(w.panel.cells)[0] == small
    old = catalog.ids["photos/b.jpg"] if catalog.ids["photos/b.jpg"] in fresh.group.photo_ids else catalog.ids["backup/b.jpg"]
    assert w.panel.fact_labels[("dimensions", old)].property("differs")   # now the big one differs from the keeper


# -- N: not duplicates
def test_not_duplicates_by_key_and_by_button(review: Review, catalog: Catalog, qtbot) -> None:  # type: ignore[no-untyped-def]
    w = review.widget
    sg = go_to(w, catalog, "small/b_small.jpg")
    small = catalog.ids["small/b_small.jpg"]
    qtbot.keyClick(w.queue, Qt.Key.Key_1 + sg.group.photo_ids.index(small))
    assert w.selected_photo_id == small
    qtbot.keyClick(w.queue, Qt.Key.Key_N)
    qtbot.waitUntil(lambda: settled(w), timeout=10000)
    assert small not in catalog.group_of("photos/b.jpg").group.photo_ids  # type: ignore[union-attr]
    assert catalog.group_of("small/b_small.jpg") is None
    assert w.current_group is not None and w.current_group.id == sg.id   # a copy is left: still on this group
    assert w.current_group.tier == IDENTICAL and small not in w.current_group.group.photo_ids
    ordinal = w.model.ordinal(w.model.row_of(sg.id))
    assert ordinal <= 3 and w.progress_text == f"Group {ordinal} of 4"  # it moved up to the identical tier
    assert w.model.group_count == 4
    # by button on the same-picture group: its only copy leaves, the group goes, the next one shows
    sg = go_to(w, catalog, "edited/c_tagged.jpg")
    assert w.progress_text == "Group 4 of 4"
    w.select_photo(sg.group.members[0].photo_id)
    qtbot.mouseClick(w.buttons["not_duplicate"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: settled(w) and w.model.group_count == 3, timeout=10000)
    assert catalog.group_of("edited/c_tagged.jpg") is None and catalog.group_of("photos/c.jpg") is None
    assert w.progress_text == "Group 3 of 3"
    assert not w.accept_buttons[SAME].isEnabled() and not w.accept_buttons[NEAR].isEnabled()
    # decisions stick: a new run of the job regroups nothing
    job = catalog.coordinator.wait(catalog.coordinator.submit("duplicates", {}, catalog_id=catalog.id), 120)
    assert job.state == JobState.SUCCEEDED
    w.refresh()
    qtbot.waitUntil(lambda: settled(w), timeout=10000)
    assert w.model.group_count == 3


# -- Delete: the copies to the trash
def test_delete_moves_the_copies_of_a_group_to_the_trash_by_key_and_by_button(review: Review, catalog: Catalog,
                                                                              own_trash: Path, conn, qtbot) -> None:  # type: ignore[no-untyped-def]
    w, root = review.widget, catalog.root
    sg = go_to(w, catalog, "small/b_small.jpg")
    copies = {catalog.rel(pid) for pid in copies_of(sg)}
    keeper = catalog.rel(sg.group.keeper_id)
    stolen: list[bool] = []
    other = QAction("Delete something else", w)                      # a window shortcut on the same key
    other.setShortcut(QKeySequence(Qt.Key.Key_Delete))
    other.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    other.triggered.connect(lambda: stolen.append(True))
    w.addAction(other)
    with qtbot.waitSignal(w.operation_started, timeout=10000) as sig:
        qtbot.keyClick(w.queue, Qt.Key.Key_Delete)
        assert w.model.row_of(sg.id) < 0 and w.model.group_count == 3    # gone from the queue at once
    assert not stolen and not review.confirms                          # undoable: not asked
    op, job = sig.args
    assert review.started == [(op, job)]
    wait_job(qtbot, catalog, job)
    assert not any((root / rel).exists() for rel in copies) and (root / keeper).exists()
    trashed = sorted(p.name for p in (own_trash / "files").iterdir())
    assert len(trashed) == 2 and all(name.endswith(".jpg") for name in trashed)
    rows = conn.execute("SELECT original_path, state FROM operation_items WHERE operation_id = %s", (op,)).fetchall()
    conn.commit()
    assert {(os.path.relpath(p, root), s) for p, s in rows} == {(rel, "trashed") for rel in copies}
    assert "Moving 2 copies" in w.status_label.text()
    w.trash_job_finished(job)                                         # the window passes the bridge's job_finished
    qtbot.waitUntil(lambda: settled(w), timeout=10000)
    assert w.model.group_count == 3 and catalog.group_of(keeper) is None
    # by button, on the same-picture group
    sg = go_to(w, catalog, "edited/c_tagged.jpg")
    copy = catalog.rel(copies_of(sg)[0])
    with qtbot.waitSignal(w.operation_started, timeout=10000) as sig:
        qtbot.mouseClick(w.buttons["trash"], Qt.MouseButton.LeftButton)
    wait_job(qtbot, catalog, sig.args[1])
    assert not (root / copy).exists() and len(list((own_trash / "files").iterdir())) == 3
    w.refresh()
    qtbot.waitUntil(lambda: settled(w) and w.model.group_count == 2, timeout=10000)
    assert {w.model.group(r).tier for r in range(w.model.rowCount()) if w.model.group(r)} == {IDENTICAL}  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: pictures_shown(w), timeout=20000)
    shot(w, "duplicates-04-after-delete")


def test_quick_deletes_move_each_copy_once_then_the_review_is_done(review: Review, catalog: Catalog,
                                                                   qtbot) -> None:  # type: ignore[no-untyped-def]
    w = review.widget
    copies = {catalog.rel(pid) for sg in catalog.groups() for pid in copies_of(sg)}
    for _ in range(4):                                              # each press: the group that took its place
        qtbot.keyClick(w.queue, Qt.Key.Key_Delete)
    assert w.is_empty and w.empty.title.text() == "No duplicates left"   # at once, before the moves are done
    qtbot.waitUntil(lambda: len(review.started) == 4 and settled(w), timeout=20000)
    for _op, job in review.started:
        wait_job(qtbot, catalog, job)
    assert sorted(o.id for o in catalog.services.trash.operations(catalog.id)) == sorted(op for op, _ in review.started)
    left = {p.relative_to(catalog.root).as_posix() for p in catalog.root.rglob("*.jpg")}
    assert left == set(catalog.ids) - copies and len(copies) == 5      # each copy moved once, every keeper stays
    for _op, job in review.started:
        w.trash_job_finished(job)
    qtbot.waitUntil(lambda: settled(w), timeout=10000)
    assert w.is_empty and w.model.group_count == 0 and "undone" in w.empty.body.text()
    shot(w, "duplicates-07-done")


# -- accept every suggestion of a tier
def test_accept_all_suggestions_of_a_tier_asks_then_trashes_its_copies(review: Review, catalog: Catalog,
                                                                        own_trash: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    w, root = review.widget, catalog.root
    before = catalog.groups()
    identical = [catalog.rel(m.photo_id) for sg in before for m in sg.group.members if m.tier == IDENTICAL]
    keepers = [catalog.rel(sg.group.keeper_id) for sg in before]
    assert len(identical) == 3                                         # a's, b's and d's byte copies
    size = sum((root / rel).stat().st_size for rel in identical)
    review.answer = False
    qtbot.mouseClick(w.accept_buttons[IDENTICAL], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(review.confirms) == 1 and settled(w), timeout=10000)
    title, text = review.confirms[0]
    assert "Move 3 identical copies" in text and format_bytes(size) in text and "identical" in title.lower()
    assert "Nothing was moved" in w.status_label.text() and not review.started
    assert all((root / rel).exists() for rel in identical)
    review.answer = True
    with qtbot.waitSignal(w.operation_started, timeout=10000) as sig:
        qtbot.mouseClick(w.accept_buttons[IDENTICAL], Qt.MouseButton.LeftButton)
    wait_job(qtbot, catalog, sig.args[1])
    assert not any((root / rel).exists() for rel in identical) and all((root / rel).exists() for rel in keepers)
    assert len(list((own_trash / "files").iterdir())) == 3
    w.trash_job_finished(sig.args[1])
    qtbot.waitUntil(lambda: settled(w) and w.model.group_count == 2, timeout=10000)
    assert [w.model.group(r).tier for r in range(w.model.rowCount()) if w.model.group(r)] == [SAME, NEAR]  # type: ignore[union-attr]
    assert not w.accept_buttons[IDENTICAL].isEnabled()
    # the near-copy tier, accepted the same way: its small copy goes
    small_size = (root / "small" / "b_small.jpg").stat().st_size
    with qtbot.waitSignal(w.operation_started, timeout=10000) as sig:
        qtbot.mouseClick(w.accept_buttons[NEAR], Qt.MouseButton.LeftButton)
    assert review.confirms[-1][1].startswith(f"Move 1 near copy ({format_bytes(small_size)}) to the trash?")
    wait_job(qtbot, catalog, sig.args[1])
    assert not (root / "small" / "b_small.jpg").exists()


# -- compare: linked zoom and pan across pixel sizes
def wheel(widget: Any, pos: QPointF, steps: int) -> None:
    ev = QWheelEvent(pos, widget.mapToGlobal(pos), QPoint(), QPoint(0, 120 * steps), Qt.MouseButton.NoButton,
                     Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, ev)


def drag(widget: Any, start: QPointF, end: QPointF) -> None:
    left, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    for kind, pos, buttons in ((QEvent.Type.MouseButtonPress, start, left), (QEvent.Type.MouseMove, end, left),
                               (QEvent.Type.MouseButtonRelease, end, Qt.MouseButton.NoButton)):
        QApplication.sendEvent(widget, QMouseEvent(kind, pos, widget.mapToGlobal(pos), left, buttons, none))


def same(a: float, b: float) -> bool:
    return abs(a - b) < 1e-6


def linked(p: Any, q: Any) -> bool:
    """Both panes show their pictures at the same size on screen and the same picture point in the middle."""
    rp, rq = p.image_rect(), q.image_rect()
    mid_p, mid_q = (x.image_point(QPointF(x.width() / 2, x.height() / 2)) for x in (p, q))
    return same(rp.width(), rq.width()) and same(rp.height(), rq.height()) and \
        same(mid_p.x(), mid_q.x()) and same(mid_p.y(), mid_q.y())


def test_compare_links_zoom_and_pan_across_pixel_sizes(review: Review, catalog: Catalog, qtbot) -> None:  # type: ignore[no-untyped-def]
    w = review.widget
    sg = go_to(w, catalog, "small/b_small.jpg")
    small = catalog.ids["small/b_small.jpg"]
    qtbot.keyClick(w.queue, Qt.Key.Key_C)
    cv = w.compare_view
    assert w.right.currentWidget() is cv and [p.photo_id for p in cv.panes] == list(sg.group.photo_ids)
    assert cv.panes[0].is_keeper and "keep" in cv.panes[0].caption
    qtbot.waitUntil(lambda: cv.is_loaded, timeout=20000)
    sizes = {p.photo_id: p.full_size for p in cv.panes}
    assert sizes[small] == (450, 300) and sizes[sg.group.keeper_id] == (900, 600) and cv.link.reference == (900, 600)
    a, b, c = cv.panes
    assert cv.link.is_fit and all(linked(p, a) for p in cv.panes)    # as large as each other on screen
    shot(w, "duplicates-05-compare-fit")
    qtbot.keyClick(cv, Qt.Key.Key_Z)                                 # 1:1 of the largest, on every pane
    assert not cv.link.is_fit and same(cv.link.zoom, 1.0) and cv.zoom_label.text() == "100 %"
    pane_small = next(p for p in cv.panes if p.photo_id == small)
    assert same(a.scale, 1.0) and same(pane_small.scale, 2.0)         # the small copy enlarged to match
    assert all(linked(p, a) for p in cv.panes)
    drag(pane_small, QPointF(200, 200), QPointF(120, 150))            # pan one, all follow, in picture fractions
    centre = QPointF(cv.link.center)
    assert centre != QPointF(0.5, 0.5)
    assert all(linked(p, a) for p in cv.panes)
    assert all(same(p.image_point(QPointF(p.width() / 2, p.height() / 2)).x(), centre.x()) for p in cv.panes)
    wheel(b, QPointF(100, 100), 2)                                    # zoom one about the cursor, all follow
    assert same(cv.link.zoom, 1.5625) and same(pane_small.scale, 3.125) and same(a.scale, 1.5625)
    assert all(linked(p, a) for p in cv.panes)
    shot(w, "duplicates-06-compare-zoomed")
    cv.match_button.click()     # each file at its own pixels
    assert not cv.link.is_matched and all(same(p.scale, 1.5625) for p in cv.panes)
    assert same(pane_small.image_rect().width() * 2, a.image_rect().width())
    drag(a, QPointF(200, 200), QPointF(260, 230))
    assert all(same(p.image_point(QPointF(p.width() / 2, p.height() / 2)).y(), cv.link.center.y()) for p in cv.panes)
    cv.match_button.click()
    qtbot.mouseClick(cv.fit_button, Qt.MouseButton.LeftButton)
    assert cv.link.is_fit and cv.zoom_label.text() == "Fit"
    qtbot.mouseClick(cv.actual_button, Qt.MouseButton.LeftButton)
    assert same(pane_small.scale, 2.0)
    # a click on a pane selects its photo: K in the compare view keeps it
    qtbot.mouseClick(pane_small, Qt.MouseButton.LeftButton, pos=QPoint(20, 20))
    assert w.selected_photo_id == small and pane_small.is_selected
    qtbot.keyClick(cv, Qt.Key.Key_Escape)
    assert w.right.currentWidget() is w.group_page
    qtbot.mouseClick(w.buttons["compare"], Qt.MouseButton.LeftButton)
    assert w.right.currentWidget() is cv
    qtbot.keyClick(cv, Qt.Key.Key_Left)                              # navigation goes on in the compare view
    assert w.current_group is not None and w.current_group.id != sg.id
    assert w.right.currentWidget() is cv and [p.photo_id for p in cv.panes] == list(w.current_group.group.photo_ids)
    qtbot.mouseClick(cv.back_button, Qt.MouseButton.LeftButton)
    assert w.right.currentWidget() is w.group_page


# -- empty, errors, scale
def test_empty_state_when_there_are_no_duplicates(qtbot, coordinator, conn, db, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "lib"
    for i in range(3):
        (root).mkdir(exist_ok=True)
        scene(10 + i).save(root / f"only{i}.jpg", "JPEG", quality=90)
    _, cat = scan(coordinator, conn, root)
    coordinator.wait(coordinator.submit("duplicates", {}, catalog_id=cat.id), 120)
    io = ThreadPoolExecutor(max_workers=1)
    box = open_review(qtbot, io, services_on(settings, db), cat.id)
    w = box.widget
    assert w.is_empty and w.empty.title.text() == EMPTY_TITLE == "No duplicates found"
    assert "Find duplicates" in w.empty.body.text() and not w.empty.button.isVisible()
    shot(w, "duplicates-00-empty")
    w.close()
    io.shutdown(wait=True)


class FakeDuplicates:
    """:class:`DuplicateDecisions` over ``n`` synthetic groups (a keeper and two copies each)."""

    def __init__(self, n: int) -> None:
        tiers = (IDENTICAL, SAME, NEAR)
        self.stored = []
        for g in range(1, n + 1):
            tier = tiers[g % 3]
            keeper = g * 10
            members = tuple(GroupMember(keeper + k, fake_hash(keeper + k), tier, "content_hash", 1.0, 0, True,
                                        "larger file") for k in (1, 2))
            paths = {pid: f"/photos/g{g}/IMG_{pid}.JPG" for pid in (keeper, keeper + 1, keeper + 2)}
            self.stored.append(StoredGroup(g, DuplicateGroup(keeper, fake_hash(keeper), members, tier, False),
                                           paths, {pid: 2_000_000 + pid for pid in paths}))
        self.fail: str | None = None
        self.reads = 0

    def groups(self, catalog_id: int) -> list[StoredGroup]:
        self.reads += 1
        return list(self.stored)

    def keep(self, catalog_id: int, path: str) -> None:
        if self.fail:
            raise LuminaError(self.fail)

    def not_duplicates(self, catalog_id: int, path_a: str, path_b: str) -> None:
        if self.fail:
            raise LuminaError(self.fail)

    def forget(self, catalog_id: int, decision: Any, paths: Any) -> None:
        pass


def test_ten_thousand_groups_open_quickly_without_a_widget_per_group(qtbot) -> None:  # type: ignore[no-untyped-def]
    io = ThreadPoolExecutor(max_workers=2)
    pictures, dups = FakePictures(), FakeDuplicates(10_000)
    w = DuplicateReviewWidget(io, dups, FakePhotos(40), pictures, None, None)  # type: ignore[arg-type]
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    t0 = time.perf_counter()
    w.set_catalog(1)
    qtbot.waitUntil(lambda: w.is_loaded and w.model.group_count == 10_000, timeout=10000)
    w.grab()
    elapsed = time.perf_counter() - t0
    print(f"\n10,000 duplicate groups: queue shown in {elapsed * 1000:.0f} ms")
    assert elapsed < 5.0
    assert w.model.rowCount() == 10_003 and w.progress_text == "Group 1 of 10,000"
    assert len(w.findChildren(QWidget)) < 300                         # a list view, not 10,000 widgets
    qtbot.waitUntil(lambda: w.model.data(w.model.index(1), Qt.ItemDataRole.DecorationRole) is not None, timeout=10000)
    assert pictures.calls["thumbnail"] < 100                        # the visible rows and one screen ahead
    qtbot.keyClick(w.queue, Qt.Key.Key_End)
    assert w.progress_text == "Group 10,000 of 10,000"
    t0 = time.perf_counter()
    for _ in range(50):
        qtbot.keyClick(w.queue, Qt.Key.Key_Left)
    print(f"50 steps back through the queue: {(time.perf_counter() - t0) * 1000:.0f} ms")
    assert w.progress_text == "Group 9,950 of 10,000"
    w.close()
    io.shutdown(wait=True, cancel_futures=True)


def test_a_failed_decision_is_reported_and_the_queue_read_again(qtbot) -> None:  # type: ignore[no-untyped-def]
    io = ThreadPoolExecutor(max_workers=1)
    reported: list[str] = []
    set_error_reporter(reported.append)
    try:
        dups = FakeDuplicates(5)
        w = DuplicateReviewWidget(io, dups, FakePhotos(60), FakePictures(), None, None)  # type: ignore[arg-type]
        qtbot.addWidget(w)
        w.show()
        w.set_catalog(1)
        qtbot.waitUntil(lambda: w.is_loaded, timeout=10000)
        reads = dups.reads
        dups.fail = "the database went away"
        with qtbot.waitSignal(w.error, timeout=10000) as sig:
            qtbot.keyClick(w.queue, Qt.Key.Key_K)
        assert sig.args == ["Could not save the decision: the database went away"]
        assert reported == ["Could not save the decision: the database went away"]
        qtbot.waitUntil(lambda: not w.is_busy and dups.reads > reads, timeout=10000)
        assert "the database went away" in w.status_label.text()
        w.close()
    finally:
        set_error_reporter(None)
        io.shutdown(wait=True)

