"""The burst review on a real catalog: real JPEG bursts (EXIF capture times, two cameras) scanned,
scored and grouped by the real jobs, shown as filmstrips; every action by key and by button —
navigation, pick / reject / unflag / stars / best (checked in the database through the service),
compare 2–4 frames with linked zoom, keep the best and trash the rest of one burst or of all
(files really moved to a private trash), the empty state, refresh keeping the place, and 5,000
bursts opening without waiting on the GUI thread."""
from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QAction, QKeySequence, QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication, QMenu

from lumina_desktop.core.jobs import JobState
from lumina_desktop.services.app import AppServices, services_on
from lumina_desktop.services.culling import BurstRow, MemberRow
from lumina_desktop.ui.widgets.burst_review import EMPTY_TITLE, BurstReviewWidget
from tests.jobs import conftest as engine
from tests.jobs.test_quality_bursts_job import T0, frame, library, run, scene
from tests.jobs.test_scan import scan
from tests.ui.fakes import FakePhotos, FakePictures, fake_hash
from tests.ui.review_support import dark_theme, own_trash, shot  # noqa: F401  (autouse fixtures)

pytestmark = [pytest.mark.ui, pytest.mark.db, pytest.mark.slow]

settings = engine.settings                 # the job engine's fixtures: a real coordinator on ``db``
make_coordinator = engine.make_coordinator
coordinator = engine.coordinator


@dataclass
class Catalog:
    id: int
    root: Path
    services: AppServices
    ids: dict[str, int]                     # file name → photo id
    coordinator: Any

    def burst_of(self, name: str) -> BurstRow:
        pid = self.ids[name]
        return next(b for b in self.services.bursts.bursts(self.id) if any(m.photo_id == pid for m in b.members))

    def member(self, name: str) -> MemberRow:
        pid = self.ids[name]
        return next(m for m in self.burst_of(name).members if m.photo_id == pid)


@pytest.fixture
def catalog(coordinator, conn, db, settings, tmp_path: Path) -> Catalog:  # type: ignore[no-untyped-def]
    """Burst A (a0–a4, a2 sharp), the Nikon's burst N (n0, n1), burst B (b0–b2, b0 sharp), a lone frame."""
    root = tmp_path / "lib"
    library(root)
    _, cat = scan(coordinator, conn, root)
    run(coordinator, conn, "quality", cat.id)
    run(coordinator, conn, "bursts", cat.id)
    ids = {Path(p).name: i for i, p in conn.execute("SELECT id, path FROM photos WHERE catalog_id = %s",
                                                    (cat.id,)).fetchall()}
    conn.commit()
    services = services_on(settings, db)
    services.jobs.control = coordinator
    return Catalog(cat.id, root, services, ids, coordinator)


@dataclass
class Review:
    widget: BurstReviewWidget
    confirms: list[tuple[str, str]] = field(default_factory=list)
    answer: bool = True
    started: list[tuple[int, int]] = field(default_factory=list)


@pytest.fixture
def review(qtbot, catalog: Catalog) -> Iterator[Review]:  # type: ignore[no-untyped-def]
    io = ThreadPoolExecutor(max_workers=2, thread_name_prefix="test-bursts-io")
    s = catalog.services
    box = Review(None)  # type: ignore[arg-type]

    def confirm(title: str, text: str) -> bool:
        box.confirms.append((title, text))
        return box.answer

    w = BurstReviewWidget(io, s.bursts, s.photos, s.images, s.trash, s.jobs, confirm=confirm)
    box.widget = w
    w.operation_started.connect(lambda op, job: box.started.append((op, job)))
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    w.set_catalog(catalog.id)
    qtbot.waitUntil(lambda: w.is_loaded and w.model.rowCount() == 3, timeout=10000)
    yield box
    w.close()
    io.shutdown(wait=True, cancel_futures=True)


def names_in(w: BurstReviewWidget, row: int) -> list[str]:
    return [Path(w.model.member(row, c).path).name for c in range(w.model.frame_count(row))]  # type: ignore[union-attr]


def current_name(w: BurstReviewWidget) -> str:
    idx = w.view.currentIndex()
    return Path(w.model.member(idx.row(), idx.column()).path).name  # type: ignore[union-attr]


def thumbs_shown(w: BurstReviewWidget) -> bool:
    return all(w.model.data(w.model.index(r, c), Qt.ItemDataRole.DecorationRole) is not None
               for r in range(w.model.rowCount()) for c in range(w.model.frame_count(r)))


def cell_centre(w: BurstReviewWidget, photo_id: int) -> QPoint:
    cell = w.model.cell_of(photo_id)
    assert cell is not None
    return w.view.visualRect(w.model.index(*cell)).center()


def member_in_view(w: BurstReviewWidget, photo_id: int) -> MemberRow:
    cell = w.model.cell_of(photo_id)
    assert cell is not None
    m = w.model.member(*cell)
    assert m is not None
    return m


def wait_job(qtbot, catalog: Catalog, job_id: int) -> None:  # type: ignore[no-untyped-def]
    def done() -> bool:
        job = catalog.services.jobs.get(job_id)
        return job is not None and job.state in (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)
    qtbot.waitUntil(done, timeout=60000)
    job = catalog.services.jobs.get(job_id)
    assert job is not None and job.state == JobState.SUCCEEDED, job.error


# -- the filmstrips
def test_filmstrips_show_each_burst_in_shooting_order_with_the_best_marked(review: Review, catalog: Catalog, qtbot,
                                                                            qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    w = review.widget
    qtmodeltester.check(w.model)
    rows = [names_in(w, r) for r in range(w.model.rowCount())]
    assert rows == [["a0.jpg", "a1.jpg", "a2.jpg", "a3.jpg", "a4.jpg"], ["n0.jpg", "n1.jpg"],
                    ["b0.jpg", "b1.jpg", "b2.jpg"]]                  # bursts by start time, frames in order
    a2 = member_in_view(w, catalog.ids["a2.jpg"])
    assert a2.is_best and a2.rank == 1 and a2.quality is not None
    assert "sharpest of 5" in w.model.reason(0, 2)
    assert "soft" in w.model.reason(0, 0) and member_in_view(w, catalog.ids["a0.jpg"]).rank > 1
    assert all(w.model.member(r, c).rank is not None for r in range(3) for c in range(w.model.frame_count(r)))  # type: ignore[union-attr]
    header = w.model.headerData(0, Qt.Orientation.Vertical)
    assert "Canon EOS R5" in header and "5 frames" in header and "Burst 1 of 3" in header
    assert "Nikon D750" in w.model.headerData(1, Qt.Orientation.Vertical)
    assert not w.model.flags(w.model.index(1, 3)) & Qt.ItemFlag.ItemIsEnabled   # past the Nikon's last frame
    assert "3 bursts · 10 frames" in w.summary_label.text()
    # thumbnails come from workers; every visible frame gets one
    qtbot.waitUntil(lambda: thumbs_shown(w), timeout=10000)
    assert w.view.currentIndex().isValid() and current_name(w) == "a0.jpg"
    w.set_current_photo(catalog.ids["a2.jpg"])
    shot(w, "bursts-01-filmstrip")


def test_arrow_keys_move_within_a_burst_and_between_bursts(review: Review, qtbot) -> None:  # type: ignore[no-untyped-def]
    w = review.widget
    seen: list[int] = []
    w.current_changed.connect(seen.append)
    v = w.view
    assert current_name(w) == "a0.jpg"
    qtbot.keyClick(v, Qt.Key.Key_Left)
    assert current_name(w) == "a0.jpg"                               # stays in its burst
    for _ in range(2):
        qtbot.keyClick(v, Qt.Key.Key_Right)
    assert current_name(w) == "a2.jpg" and len(seen) == 2
    for _ in range(5):
        qtbot.keyClick(v, Qt.Key.Key_Right)
    assert current_name(w) == "a4.jpg"                               # the burst's last frame
    qtbot.keyClick(v, Qt.Key.Key_Down)
    assert current_name(w) == "n1.jpg"                               # the Nikon's burst is shorter
    qtbot.keyClick(v, Qt.Key.Key_Down)
    assert current_name(w) == "b2.jpg"
    qtbot.keyClick(v, Qt.Key.Key_Down)
    assert current_name(w) == "b2.jpg"                               # the last burst
    qtbot.keyClick(v, Qt.Key.Key_Up)
    qtbot.keyClick(v, Qt.Key.Key_Up)
    assert current_name(w) == "a4.jpg"                               # back to the column it came from
    qtbot.keyClick(v, Qt.Key.Key_Home)
    assert current_name(w) == "a0.jpg"
    qtbot.keyClick(v, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    assert current_name(w) == "b2.jpg"
    assert w.selected_photo_ids() == ()                              # moving never marks
    qtbot.keyClick(v, Qt.Key.Key_Left, Qt.KeyboardModifier.ShiftModifier)
    assert len(w.selected_photo_ids()) == 2                          # Shift marks as it moves
    qtbot.keyClick(v, Qt.Key.Key_Escape)
    assert w.selected_photo_ids() == ()


# -- culling
def test_culling_keys_write_decisions_and_redraw_the_burst(review: Review, catalog: Catalog, qtbot) -> None:  # type: ignore[no-untyped-def]
    w, v, ids = review.widget, review.widget.view, catalog.ids

    def settled() -> bool:
        return not w.is_writing

    qtbot.keyClick(v, Qt.Key.Key_P)                                 # on a0
    qtbot.waitUntil(lambda: member_in_view(w, ids["a0.jpg"]).decision == "pick", timeout=10000)
    assert catalog.member("a0.jpg").decision == "pick"
    qtbot.keyClick(v, Qt.Key.Key_X)
    qtbot.waitUntil(lambda: member_in_view(w, ids["a0.jpg"]).decision == "reject", timeout=10000)
    assert catalog.member("a0.jpg").decision == "reject"
    qtbot.keyClick(v, Qt.Key.Key_U)
    qtbot.waitUntil(lambda: member_in_view(w, ids["a0.jpg"]).decision is None and settled(), timeout=10000)
    assert catalog.member("a0.jpg").decision is None
    qtbot.keyClick(v, Qt.Key.Key_3)
    qtbot.waitUntil(lambda: member_in_view(w, ids["a0.jpg"]).stars == 3, timeout=10000)
    assert catalog.member("a0.jpg").stars == 3
    qtbot.keyClick(v, Qt.Key.Key_0)                                 # 0 clears the stars (as in the grid)
    qtbot.waitUntil(lambda: member_in_view(w, ids["a0.jpg"]).stars is None, timeout=10000)
    assert catalog.member("a0.jpg").stars is None
    # quick keys are written in order: the last one wins
    for key in (Qt.Key.Key_P, Qt.Key.Key_X, Qt.Key.Key_P):
        qtbot.keyClick(v, key)
    qtbot.waitUntil(settled, timeout=10000)
    assert catalog.member("a0.jpg").decision == "pick" == member_in_view(w, ids["a0.jpg"]).decision
    # B: this frame becomes its burst's best; the star moves and says why
    qtbot.keyClick(v, Qt.Key.Key_End)                               # a4, a blurred frame
    qtbot.keyClick(v, Qt.Key.Key_B)
    qtbot.waitUntil(lambda: member_in_view(w, ids["a4.jpg"]).is_best, timeout=10000)
    assert not member_in_view(w, ids["a2.jpg"]).is_best and w.model.reason(0, 4) == "your pick"
    burst = catalog.burst_of("a4.jpg")
    assert burst.best_photo_id == ids["a4.jpg"] and burst.is_user_pick
    assert catalog.member("a4.jpg").decision == "best"
    # marked frames: a key on one of them applies to all of them
    qtbot.keyClick(v, Qt.Key.Key_Down)                              # n1
    qtbot.keyClick(v, Qt.Key.Key_Space)
    qtbot.keyClick(v, Qt.Key.Key_Left)
    qtbot.keyClick(v, Qt.Key.Key_Space)
    assert set(w.selected_photo_ids()) == {ids["n0.jpg"], ids["n1.jpg"]}
    qtbot.keyClick(v, Qt.Key.Key_5)
    qtbot.waitUntil(lambda: settled() and member_in_view(w, ids["n1.jpg"]).stars == 5, timeout=10000)
    assert catalog.member("n0.jpg").stars == 5 and catalog.member("n1.jpg").stars == 5
    assert set(w.selected_photo_ids()) == {ids["n0.jpg"], ids["n1.jpg"]}     # marks survive the redraw
    qtbot.waitUntil(lambda: thumbs_shown(w), timeout=10000)
    qtbot.keyClick(v, Qt.Key.Key_Down)
    qtbot.keyClick(v, Qt.Key.Key_X)                                 # b0: a reject, dimmed
    qtbot.waitUntil(lambda: member_in_view(w, ids["b0.jpg"]).decision == "reject" and settled(), timeout=10000)
    shot(w, "bursts-02-culled")


def test_culling_buttons_and_the_frame_menu(review: Review, catalog: Catalog, qtbot) -> None:  # type: ignore[no-untyped-def]
    w, ids = review.widget, catalog.ids
    w.set_current_photo(ids["b1.jpg"])
    click = Qt.MouseButton.LeftButton
    qtbot.mouseClick(w.buttons["pick"], click)
    qtbot.waitUntil(lambda: catalog.member("b1.jpg").decision == "pick" and not w.is_writing, timeout=10000)
    qtbot.mouseClick(w.buttons["reject"], click)
    qtbot.waitUntil(lambda: catalog.member("b1.jpg").decision == "reject" and not w.is_writing, timeout=10000)
    qtbot.mouseClick(w.buttons["unflag"], click)
    qtbot.waitUntil(lambda: catalog.member("b1.jpg").decision is None and not w.is_writing, timeout=10000)
    qtbot.mouseClick(w.buttons["best"], click)
    qtbot.waitUntil(lambda: member_in_view(w, ids["b1.jpg"]).is_best, timeout=10000)
    assert catalog.burst_of("b1.jpg").best_photo_id == ids["b1.jpg"]
    w.view.customContextMenuRequested.emit(cell_centre(w, ids["b2.jpg"]))   # right-click a frame: its menu
    popup = QApplication.activePopupWidget()
    assert isinstance(popup, QMenu) and current_name(w) == "b2.jpg"
    assert [a.text() for a in popup.actions() if a.text()] == ["✓ Pick", "✕ Reject", "Unflag", "★ Best", "Stars",
                                                               "Compare", "Keep the best, trash the rest", "All bursts…"]
    popup.close()
    w.set_current_photo(ids["b1.jpg"])
    menu = w.frame_menu()                                          # right-click: every action, stars too
    stars = next(a for a in menu.actions() if a.text() == "Stars").menu()
    assert [a.text() for a in stars.actions()] == ["No stars", "★", "★★", "★★★", "★★★★", "★★★★★"]
    stars.actions()[4].trigger()
    qtbot.waitUntil(lambda: member_in_view(w, ids["b1.jpg"]).stars == 4, timeout=10000)
    assert catalog.member("b1.jpg").stars == 4
    stars.actions()[0].trigger()
    qtbot.waitUntil(lambda: catalog.member("b1.jpg").stars is None and not w.is_writing, timeout=10000)
    menu.deleteLater()


# -- compare
def wheel(widget: Any, pos: QPointF, steps: int) -> None:
    ev = QWheelEvent(pos, widget.mapToGlobal(pos), QPoint(), QPoint(0, 120 * steps), Qt.MouseButton.NoButton,
                     Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, ev)


def drag(widget: Any, start: QPointF, end: QPointF) -> None:
    left, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    for kind, pos, buttons in ((QEvent.Type.MouseButtonPress, start, left), (QEvent.Type.MouseMove, end, left),
                               (QEvent.Type.MouseButtonRelease, end, Qt.MouseButton.NoButton)):
        QApplication.sendEvent(widget, QMouseEvent(kind, pos, widget.mapToGlobal(pos), left, buttons, none))


def test_compare_two_to_four_frames_with_linked_zoom_by_key_and_button(review: Review, catalog: Catalog,
                                                                        qtbot) -> None:  # type: ignore[no-untyped-def]
    w, ids = review.widget, catalog.ids
    ctrl = Qt.KeyboardModifier.ControlModifier
    qtbot.mouseClick(w.view.viewport(), Qt.MouseButton.LeftButton, pos=cell_centre(w, ids["a2.jpg"]))
    qtbot.mouseClick(w.view.viewport(), Qt.MouseButton.LeftButton, ctrl, cell_centre(w, ids["a0.jpg"]))
    assert w.selected_photo_ids() == (ids["a0.jpg"], ids["a2.jpg"])
    qtbot.keyClick(w.view, Qt.Key.Key_C)
    cv = w.compare_view
    assert w.stack.currentWidget() is cv and [p.photo_id for p in cv.panes] == [ids["a0.jpg"], ids["a2.jpg"]]
    assert "★ best" in cv.panes[1].caption and "#1" in cv.panes[1].caption
    qtbot.waitUntil(lambda: cv.is_loaded, timeout=20000)
    assert all(p.full_size == (1600, 1200) and p.is_original for p in cv.panes)   # the originals, for 1:1
    assert cv.link.is_fit and all(p.scale < 1 for p in cv.panes)
    shot(w, "bursts-03-compare-fit")
    qtbot.keyClick(cv, Qt.Key.Key_Z)                                # 1:1, on every pane
    assert [p.scale for p in cv.panes] == [1.0, 1.0] and cv.zoom_label.text() == "100 %"
    a, b = cv.panes
    assert a.image_rect() == b.image_rect()
    drag(b, QPointF(200, 200), QPointF(80, 140))                    # pan one, the other follows
    assert a.image_rect() == b.image_rect() and a.image_rect().x() < -(1600 - a.width()) / 2 - 100
    wheel(a, QPointF(100, 100), 2)                                  # zoom one about the cursor, both follow
    assert abs(b.scale - 1.5625) < 1e-9 and a.image_rect() == b.image_rect()
    shot(w, "bursts-04-compare-zoomed")
    qtbot.mouseClick(cv.fit_button, Qt.MouseButton.LeftButton)
    assert cv.link.is_fit and cv.zoom_label.text() == "Fit"
    qtbot.mouseClick(cv.actual_button, Qt.MouseButton.LeftButton)
    assert all(p.scale == 1.0 for p in cv.panes)
    qtbot.keyClick(cv, Qt.Key.Key_Escape)
    assert w.stack.currentWidget() is w.strips_page
    # four frames marked with Space, compared with the button: a 2 × 2 grid
    w.view.selectionModel().clearSelection()
    w.set_current_photo(ids["b0.jpg"])
    for _ in range(3):
        qtbot.keyClick(w.view, Qt.Key.Key_Space)
        qtbot.keyClick(w.view, Qt.Key.Key_Right)
    w.set_current_photo(ids["a1.jpg"])
    qtbot.keyClick(w.view, Qt.Key.Key_Space)
    assert len(w.selected_photo_ids()) == 4
    qtbot.mouseClick(w.buttons["compare"], Qt.MouseButton.LeftButton)
    assert w.stack.currentWidget() is cv and len(cv.panes) == 4
    qtbot.waitUntil(lambda: cv.is_loaded, timeout=20000)
    positions = {cv.grid.getItemPosition(cv.grid.indexOf(p))[:2] for p in cv.panes}
    assert positions == {(0, 0), (0, 1), (1, 0), (1, 1)}
    wheel(cv.panes[3], QPointF(50, 50), 1)
    assert len({p.scale for p in cv.panes}) == 1 and not cv.link.is_fit
    shot(w, "bursts-05-compare-four")
    qtbot.mouseClick(cv.back_button, Qt.MouseButton.LeftButton)
    assert w.stack.currentWidget() is w.strips_page
    # five is too many; one marked compares the frame with its burst's best
    w.set_current_photo(ids["a3.jpg"])
    qtbot.keyClick(w.view, Qt.Key.Key_Space)
    assert not w.compare() and "2 to 4 frames; 5" in w.status_label.text()
    w.view.selectionModel().clearSelection()
    qtbot.keyClick(w.view, Qt.Key.Key_C)
    assert [p.photo_id for p in cv.panes] == [ids["a3.jpg"], ids["a2.jpg"]]


# -- keep the best, trash the rest
def test_delete_keeps_the_best_and_picks_of_one_burst_and_trashes_the_rest(review: Review, catalog: Catalog,
                                                                           own_trash: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    w, ids, root = review.widget, catalog.ids, catalog.root
    w.set_current_photo(ids["a3.jpg"])
    qtbot.keyClick(w.view, Qt.Key.Key_P)                            # a pick is kept too
    qtbot.waitUntil(lambda: member_in_view(w, ids["a3.jpg"]).decision == "pick" and not w.is_writing, timeout=10000)
    review.answer = False
    qtbot.mouseClick(w.buttons["trash_burst"], Qt.MouseButton.LeftButton)   # asked, declined: nothing moves
    qtbot.waitUntil(lambda: len(review.confirms) == 1, timeout=10000)
    assert "Nothing was moved" in w.status_label.text() and not review.started
    size = sum((root / f"a{i}.jpg").stat().st_size for i in (0, 1, 4))
    title, text = review.confirms[0]
    assert "Move 3 files" in text and "this burst" in text
    from lumina_desktop.services.describe import format_bytes
    assert format_bytes(size) in text
    review.answer = True
    stolen: list[bool] = []
    other = QAction("Delete something else", w)                      # a window shortcut on the same key
    other.setShortcut(QKeySequence(Qt.Key.Key_Delete))
    other.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    other.triggered.connect(lambda: stolen.append(True))
    w.addAction(other)
    with qtbot.waitSignal(w.operation_started, timeout=10000) as sig:
        qtbot.keyClick(w.view, Qt.Key.Key_Delete)
    assert not stolen and len(review.confirms) == 2
    op, job = sig.args
    assert op > 0 and job > 0 and review.started == [(op, job)]
    wait_job(qtbot, catalog, job)
    left = sorted(p.name for p in root.glob("*.jpg"))
    assert left == ["a2.jpg", "a3.jpg", "b0.jpg", "b1.jpg", "b2.jpg", "lone.jpg", "n0.jpg", "n1.jpg"]
    assert len(list((own_trash / "files").iterdir())) == 3
    w.refresh()                                                     # the window calls it on the change feed
    qtbot.waitUntil(lambda: w.model.frame_count(0) == 2, timeout=10000)
    assert names_in(w, 0) == ["a2.jpg", "a3.jpg"] and "2 of 5 frames left" in w.model.headerData(0, Qt.Orientation.Vertical)
    assert current_name(w) == "a3.jpg"                              # still on the frame it was on
    qtbot.waitUntil(lambda: thumbs_shown(w), timeout=10000)
    shot(w, "bursts-06-after-trash")


def test_keep_the_best_of_every_burst_by_button(review: Review, catalog: Catalog, qtbot) -> None:  # type: ignore[no-untyped-def]
    w, root = review.widget, catalog.root
    best_n = next(Path(m.path).name for m in catalog.burst_of("n0.jpg").members if m.is_best)
    with qtbot.waitSignal(w.operation_started, timeout=10000) as sig:
        qtbot.mouseClick(w.buttons["trash_all"], Qt.MouseButton.LeftButton)
    (_title, text), = review.confirms
    assert "Move 7 files" in text and "all 3 bursts" in text and "3 photos" in text
    wait_job(qtbot, catalog, sig.args[1])
    left = {p.name for p in root.glob("*.jpg")}
    assert left == {"a2.jpg", "b0.jpg", "lone.jpg", best_n}
    w.refresh()
    qtbot.waitUntil(lambda: [w.model.frame_count(r) for r in range(w.model.rowCount())] == [1, 1, 1], timeout=10000)
    # nothing left to move: said, not asked
    qtbot.mouseClick(w.buttons["trash_all"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Nothing to move" in w.status_label.text(), timeout=10000)
    assert len(review.confirms) == 1


# -- empty, refresh, scale
def test_empty_state_when_the_catalog_has_no_bursts(qtbot, coordinator, conn, db, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "lib"
    a = scene(3, size=(800, 600))
    for i in range(3):
        frame(root / f"far{i}.jpg", a, T0 + timedelta(minutes=5 * i))          # minutes apart: no burst
    _, cat = scan(coordinator, conn, root)
    run(coordinator, conn, "bursts", cat.id)
    s = services_on(settings, db)
    io = ThreadPoolExecutor(max_workers=1)
    w = BurstReviewWidget(io, s.bursts, s.photos, s.images, s.trash, s.jobs, confirm=lambda t, x: True)
    qtbot.addWidget(w)
    w.resize(1000, 600)
    w.show()
    w.set_catalog(cat.id)
    qtbot.waitUntil(lambda: w.is_loaded, timeout=10000)
    assert w.is_empty and w.empty.title.text() == EMPTY_TITLE == "No bursts yet"
    assert "quick succession" in w.empty.body.text() and not w.empty.button.isVisible()
    shot(w, "bursts-00-empty")
    w.close()
    io.shutdown(wait=True)


def test_refresh_and_the_change_feed_keep_the_place(review: Review, catalog: Catalog, qtbot) -> None:  # type: ignore[no-untyped-def]
    from lumina_desktop.core.changes import Aspect, PhotoChanges

    w, ids = review.widget, catalog.ids
    w.set_current_photo(ids["b1.jpg"])
    w.select_photo_ids([ids["a0.jpg"], ids["b2.jpg"]])
    gen = w._generation
    w.refresh()
    qtbot.waitUntil(lambda: w._generation == gen + 1 and w.status_label.text() == "", timeout=10000)
    qtbot.waitUntil(lambda: w.model.rowCount() == 3, timeout=10000)
    assert current_name(w) == "b1.jpg" and set(w.selected_photo_ids()) == {ids["a0.jpg"], ids["b2.jpg"]}
    # another window rejects b1: the feed names it and only its burst is read again
    catalog.services.bursts.decide_photo(catalog.id, ids["b1.jpg"], "reject")
    w.apply_changes(PhotoChanges(catalog.id, frozenset({ids["b1.jpg"]}), frozenset({Aspect.FLAGS})))
    qtbot.waitUntil(lambda: member_in_view(w, ids["b1.jpg"]).decision == "reject", timeout=10000)
    assert current_name(w) == "b1.jpg"


class FakeBursts:
    """:class:`BurstCulling` over ``n`` synthetic bursts of five frames (no database)."""

    def __init__(self, n: int) -> None:
        self.rows = [BurstRow(b, "Canon EOS R5", T0 + timedelta(seconds=10 * b), T0 + timedelta(seconds=10 * b + 1), 5,
                              b * 10 + 2, ("sharpest",), {}, False,
                              tuple(MemberRow(b * 10 + k, f"/p/b{b}/f{k}.jpg", fake_hash(b * 10 + k), k + 1, k + 1,
                                              k == 2, ("sharpest",) if k == 2 else ("soft",), 1.0 - k / 10, 80.0 - k,
                                              None) for k in range(5)))
                     for b in range(1, n + 1)]

    def bursts(self, catalog_id: int) -> list[BurstRow]:
        return list(self.rows)

    def burst(self, catalog_id: int, burst_id: int) -> BurstRow | None:
        return self.rows[burst_id - 1]

    def decide_photo(self, catalog_id: int, photo_id: int, decision: str | None) -> list[int]:
        return []

    def set_stars(self, catalog_id: int, photo_id: int, stars: int | None) -> list[int]:
        return []


def test_five_thousand_bursts_open_quickly_and_load_only_what_shows(qtbot) -> None:  # type: ignore[no-untyped-def]
    io = ThreadPoolExecutor(max_workers=2)
    pictures = FakePictures()
    w = BurstReviewWidget(io, FakeBursts(5000), FakePhotos(), pictures, None, None)  # type: ignore[arg-type]
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    t0 = time.perf_counter()
    w.set_catalog(1)
    qtbot.waitUntil(lambda: w.model.rowCount() == 5000, timeout=10000)
    qtbot.waitUntil(lambda: w.model.data(w.model.index(0, 0), Qt.ItemDataRole.DecorationRole) is not None,
                    timeout=10000)
    w.grab()
    assert time.perf_counter() - t0 < 3.0
    assert pictures.calls["thumbnail"] < 100                        # the screen and one ahead, not 25,000
    qtbot.keyClick(w.view, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    assert w.view.currentIndex().row() == 4999
    qtbot.waitUntil(lambda: w.model.data(w.model.index(4999, 4), Qt.ItemDataRole.DecorationRole) is not None,
                    timeout=10000)
    w.close()
    io.shutdown(wait=True, cancel_futures=True)
