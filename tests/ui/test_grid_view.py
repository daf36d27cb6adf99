"""PhotoGridView with 100,000 synthetic photos: opens without blocking, scrolls, reports what is visible."""
from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from PySide6.QtCore import QElapsedTimer, QItemSelectionModel, QPoint, QRect, Qt, QTimer

from lumina_desktop.services.images import PhotoImages
from lumina_desktop.ui.models.photo_grid_model import PhotoGridModel
from lumina_desktop.ui.models.roles import PhotoRole
from lumina_desktop.ui.thumbnails import ThumbnailLoader
from lumina_desktop.ui.widgets.photo_grid_view import PhotoGridView, row_ranges
from tests.ui.test_grid_model import FakeSource, write_thumbnails

pytestmark = pytest.mark.ui
N = 100_000


class StallMeter:
    """Longest gap between ticks of a 5 ms timer: how long the GUI thread was busy."""

    def __init__(self) -> None:
        self.clock = QElapsedTimer()
        self.timer = QTimer()
        self.timer.setInterval(5)
        self.timer.timeout.connect(self._on_timer_timeout)
        self.max_gap_ms = 0
        self._last = 0

    def start(self) -> None:
        self.clock.start()
        self._last = 0
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def _on_timer_timeout(self) -> None:
        now = self.clock.elapsed()
        self.max_gap_ms = max(self.max_gap_ms, now - self._last)
        self._last = now


def show_view(qtbot, view: PhotoGridView, model: PhotoGridModel) -> PhotoGridView:  # type: ignore[no-untyped-def]
    """``view`` on ``model``, 1000×700, shown (closed with the test)."""
    qtbot.addWidget(view)
    view.setModel(model)
    view.resize(1000, 700)
    view.show()
    return view


@pytest.fixture
def grid(qtbot, tmp_path: Path) -> Iterator[tuple[PhotoGridView, PhotoGridModel, ThumbnailLoader]]:  # type: ignore[no-untyped-def]
    write_thumbnails(tmp_path)
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="test-grid-io")
    loader = ThumbnailLoader(pool, PhotoImages(tmp_path))
    model = PhotoGridModel(pool, loader)
    view = PhotoGridView()
    show_view(qtbot, view, model)
    yield view, model, loader
    pool.shutdown(wait=True, cancel_futures=True)


def visible_thumbnails(view: PhotoGridView, model: PhotoGridModel) -> bool:
    first, last = view.visible_rows()
    return last >= 0 and all(model.data(model.index(r, 0), PhotoRole.Thumbnail) is not None
                             for r in range(first, last + 1))


def truly_visible(view: PhotoGridView, model: PhotoGridModel, around: range) -> list[int]:
    vp = view.viewport().rect()
    return [r for r in around if view.visualRect(model.index(r, 0)).intersects(vp)]


def test_100k_photos_open_without_blocking(qtbot, grid) -> None:  # type: ignore[no-untyped-def]
    view, model, loader = grid
    meter = StallMeter()
    meter.start()
    t0 = time.perf_counter()
    model.set_source(FakeSource(range(1, N + 1)))
    assert time.perf_counter() - t0 < 0.05          # the ids load off the GUI thread
    qtbot.waitUntil(lambda: model.rowCount() == N, timeout=10000)
    qtbot.waitUntil(lambda: visible_thumbnails(view, model), timeout=10000)
    opened_s = time.perf_counter() - t0
    # the batched layout finishes while the first screen is already usable
    qtbot.waitUntil(lambda: view.visualRect(model.index(N - 1, 0)).isValid(), timeout=20000)
    meter.stop()
    assert opened_s < 5.0 and meter.max_gap_ms < 300, (opened_s, meter.max_gap_ms)
    assert len(model.loaded_pages) <= 3 and loader.loaded < 200   # only what is on screen (and ahead)

    # jump to the end: the rows there get pages and thumbnails; nothing in between is read
    meter.start()
    view.scrollToBottom()
    qtbot.waitUntil(lambda: view.visible_rows()[1] == N - 1, timeout=5000)
    qtbot.waitUntil(lambda: visible_thumbnails(view, model), timeout=10000)
    meter.stop()
    first, last = view.visible_rows()
    assert truly_visible(view, model, range(first - 40, N)) == list(range(first, last + 1))
    assert len(model.loaded_pages) <= 5 and loader.loaded < 400
    assert meter.max_gap_ms < 300

    # a layout in batches of 200 rows stays a regular grid (visible rows computed right mid-list)
    view.scrollTo(model.index(N // 2 + 77, 0))
    qtbot.waitUntil(lambda: visible_thumbnails(view, model), timeout=10000)
    first, last = view.visible_rows()
    assert first <= N // 2 + 77 <= last
    assert truly_visible(view, model, range(first - 40, last + 40)) == list(range(first, last + 1))


def test_selection_of_many_rows_uses_ranges(qtbot, grid) -> None:  # type: ignore[no-untyped-def]
    view, model, _ = grid
    with qtbot.waitSignal(model.ids_loaded, timeout=10000):
        model.set_source(FakeSource(range(1, N + 1)))
    qtbot.waitUntil(lambda: not model.is_partial, timeout=10000)
    wanted = list(range(10, 60_010)) + [90_000]
    t0 = time.perf_counter()
    view.select_photo_ids(wanted, current=90_000)
    ids = view.selected_photo_ids()
    assert time.perf_counter() - t0 < 1.0
    assert ids == tuple(wanted) and view.current_photo_id() == 90_000
    assert len(view.selectionModel().selection()) == 2
    assert row_ranges([5, 3, 4, 9, 10, 1]) == [(1, 1), (3, 5), (9, 10)]


def test_zoom_changes_the_cell_and_keeps_the_top_photo(qtbot, grid) -> None:  # type: ignore[no-untyped-def]
    view, model, _ = grid
    with qtbot.waitSignal(model.ids_loaded, timeout=10000):
        model.set_source(FakeSource(range(1, 5001)))
    qtbot.waitUntil(lambda: not model.is_loading, timeout=10000)      # every id read, not just the first rows
    view.scrollTo(model.index(2000, 0), view.ScrollHint.PositionAtTop)
    top = view.top_visible_photo_id()
    assert top is not None
    view.set_thumb_px(280)
    assert view.delegate.cell_size().width() == 280 + 12 and view.gridSize().width() >= 292
    qtbot.waitUntil(lambda: view.visible_rows()[0] <= model.row_of(top) <= view.visible_rows()[1], timeout=10000)
    view.set_thumb_px(20)
    assert view.thumb_px == 96   # clamped to the slider's range


def test_a_scroll_after_a_quiet_spell_is_reported_at_once(qtbot, grid) -> None:  # type: ignore[no-untyped-def]
    view, model, _ = grid
    model.set_source(FakeSource(range(1, 5001)))
    qtbot.waitUntil(lambda: model.rowCount() == 5000 and not model.is_loading, timeout=10000)
    qtbot.waitUntil(lambda: not view._visible_timer.isActive(), timeout=5000)   # noqa: SLF001
    qtbot.wait(50)                                     # quiet
    reports: list[tuple[int, int]] = []
    view.visible_rows_changed.connect(lambda first, last: reports.append((first, last)))
    bar = view.verticalScrollBar()
    bar.setValue(bar.maximum() // 2)
    # the jump is reported before setValue returns: the page and thumbnail reads start now
    assert reports == [view.visible_rows()] and reports[0][0] > 1000
    bar.setValue(bar.maximum() // 2 + 5000)            # scrolling goes on: wait until it settles
    bar.setValue(bar.maximum() // 2 + 10000)
    assert len(reports) == 1
    qtbot.waitUntil(lambda: len(reports) == 2, timeout=2000)
    assert reports[1] == view.visible_rows() and reports[1][0] > reports[0][0]


def test_rows_added_at_the_end_keep_the_place_in_a_long_list(qtbot, grid) -> None:  # type: ignore[no-untyped-def]
    """A scan adds photos while the user looks at the middle of 100,000: the screen stays put
    (QListView laid every row out again and fell back near the top while it did)."""
    view, model, _ = grid
    source = FakeSource(range(1, N + 1))
    model.set_source(source)
    qtbot.waitUntil(lambda: model.rowCount() == N and not model.is_loading, timeout=10000)
    view.scroll_to_photo(N // 2)
    bar = view.verticalScrollBar()
    value, first = bar.value(), view.visible_rows()[0]
    assert first <= N // 2 - 1 < first + view.columns
    moved: list[int] = []
    bar.valueChanged.connect(moved.append)
    source.ids += list(range(N + 1, N + 301))
    with qtbot.waitSignal(model.rowsInserted, timeout=5000):
        model.refresh()
    qtbot.wait(100)
    assert model.rowCount() == N + 300 and moved == [] and bar.value() == value
    assert view.visible_rows()[0] == first and view.top_visible_photo_id() == model.photo_id_at(first)
    assert bar.maximum() >= view.visualRect(model.index(N + 299, 0)).bottom() - view.viewport().height()


def test_cells_are_placed_and_found_by_arithmetic(qtbot, grid) -> None:  # type: ignore[no-untyped-def]
    view, model, _ = grid
    model.set_source(FakeSource(range(1, 1001)))
    qtbot.waitUntil(lambda: model.rowCount() == 1000 and not model.is_loading, timeout=10000)
    cols, cell = view.columns, view.gridSize()
    assert cols == view.viewport().width() // view.delegate.cell_size().width() and cols * cell.width() <= view.viewport().width()
    view.scrollTo(model.index(500, 0), view.ScrollHint.PositionAtTop)
    for row in (500, 501, 500 + cols, 520, 999):
        rect = view.visualRect(model.index(row, 0))
        assert rect.size() == cell and rect.x() == (row % cols) * cell.width()
        assert rect.y() == (row // cols - 500 // cols) * cell.height()
        assert view.indexAt(rect.center()).row() == row
    assert not view.indexAt(view.visualRect(model.index(999, 0)).center() + QPoint(cell.width(), 0)).isValid() \
        or 999 % cols == cols - 1                                     # nothing after the last photo
    # the keyboard walks the grid: right is the next photo, down the same column one line on
    view.setCurrentIndex(model.index(500, 0))
    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert view.current_photo_id() == 502
    qtbot.keyClick(view, Qt.Key.Key_Down)
    assert view.currentIndex().row() == 501 + cols
    qtbot.keyClick(view, Qt.Key.Key_End)
    assert view.current_photo_id() == 1000 and view.visible_rows()[1] == 999
    qtbot.keyClick(view, Qt.Key.Key_Home)
    assert view.current_photo_id() == 1 and view.verticalScrollBar().value() == 0


def test_a_drag_selects_the_cells_it_crosses_as_ranges(qtbot, grid) -> None:  # type: ignore[no-untyped-def]
    view, model, _ = grid
    model.set_source(FakeSource(range(1, 1001)))
    qtbot.waitUntil(lambda: model.rowCount() == 1000 and not model.is_loading, timeout=10000)
    cols, cell = view.columns, view.gridSize()
    vp = view.viewport()
    start = view.visualRect(model.index(1, 0)).center()                      # line 0, column 1
    end = view.visualRect(model.index(2 * cols + 2, 0)).center()             # line 2, column 2
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(vp, start + QPoint(5, 5))
    qtbot.mouseMove(vp, end)
    shot = vp.grab()                       # the band is drawn while dragging
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=end)
    expected = tuple(pid for line in range(3) for pid in (line * cols + 2, line * cols + 3))
    assert view.selected_photo_ids() == expected
    assert len(view.selectionModel().selection()) == 3                       # one range per line
    inside = QPoint((start.x() + end.x()) // 2, start.y() + cell.height())
    after = vp.grab()                      # …and gone once the button is up (the selection stays)
    assert shot.toImage().pixelColor(inside) != after.toImage().pixelColor(inside)
    # whole lines: one range, whatever their number
    view.setSelection(QRect(0, 0, cols * cell.width(), 3 * cell.height()),
                      QItemSelectionModel.SelectionFlag.ClearAndSelect)
    assert view.selected_photo_ids() == tuple(range(1, 3 * cols + 1)) and len(view.selectionModel().selection()) == 1


def test_a_change_over_a_million_rows_repaints_only_the_screen(qtbot, grid) -> None:  # type: ignore[no-untyped-def]
    """QAbstractItemView asks visualRect of every row of a changed range it can see (200 Python
    calls per page read); the grid repaints the part on screen with arithmetic."""
    _, model, _ = grid
    calls: list[int] = []

    class CountingView(PhotoGridView):
        def visualRect(self, index):  # type: ignore[no-untyped-def]  # noqa: N802
            calls.append(index.row())
            return super().visualRect(index)

    view = CountingView()
    show_view(qtbot, view, model)
    model.set_source(FakeSource(range(1, 1_000_001)))
    qtbot.waitUntil(lambda: model.rowCount() == 1_000_000 and not model.is_loading, timeout=20000)
    qtbot.wait(50)
    calls.clear()
    model.dataChanged.emit(model.index(0, 0), model.index(199, 0), [int(PhotoRole.Rating)])
    model.dataChanged.emit(model.index(0, 0), model.index(999_999, 0), [int(PhotoRole.Rating)])
    assert len(calls) <= 2, len(calls)
    view.selectionModel().select(model.index(1, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect)
    qtbot.waitUntil(lambda: visible_thumbnails(view, model), timeout=10000)
    image = view.viewport().grab().toImage()
    cell0, cell1 = view.visualRect(model.index(0, 0)), view.visualRect(model.index(1, 0))
    probe = QPoint(3, cell0.height() // 2)                       # the frame's edge, left of the picture
    assert image.pixelColor(cell1.topLeft() + probe) != image.pixelColor(cell0.topLeft() + probe)


def test_a_jump_reads_the_page_on_screen_before_the_one_ahead(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.ui.test_grid_model import ManualExecutor

    write_thumbnails(tmp_path)
    pool = ManualExecutor()
    loader = ThumbnailLoader(pool, PhotoImages(tmp_path), batch_size=4, max_batches_in_flight=2)
    model = PhotoGridModel(pool, loader, page_size=100)
    source = FakeSource(range(1, 1001))
    model.set_source(source)
    pool.run_one()                                            # the ids (a short list: all at once)
    qtbot.waitUntil(lambda: model.rowCount() == 1000 and not model.is_loading, timeout=5000)
    while pool.queue or not loader.is_idle:                  # the first screen: pages, thumbnails
        if pool.queue:
            pool.run_one()
        qtbot.wait(5)
    source.page_calls.clear()
    model.set_visible_rows(560, 589)                          # on screen: page 5; a screen ahead: page 6
    assert len(pool.queue) == 1
    pool.run_one()
    assert source.page_calls[0][0] == 501                    # rows 500–599
    qtbot.waitUntil(lambda: loader.in_flight_count > 0, timeout=5000)   # the screen's thumbnails start…
    assert len(source.page_calls) == 1
    while pool.queue or not loader.is_idle:
        if pool.queue:
            pool.run_one()
        qtbot.wait(5)
    assert [c[0] for c in source.page_calls] == [501, 601]   # …and the page ahead is read after


@pytest.fixture
def small_grid(qtbot, grid):  # type: ignore[no-untyped-def]
    view, model, loader = grid
    model.set_source(FakeSource(range(1, 501)))
    qtbot.waitUntil(lambda: model.rowCount() == 500 and not model.is_loading, timeout=10000)
    return view, model, loader


def test_shift_click_and_shift_keys_select_a_run_in_reading_order(qtbot, small_grid) -> None:  # type: ignore[no-untyped-def]
    view, model, _ = small_grid
    vp, cols = view.viewport(), view.columns
    centre = lambda row: view.visualRect(model.index(row, 0)).center()  # noqa: E731
    qtbot.mouseClick(vp, Qt.MouseButton.LeftButton, pos=centre(2))
    qtbot.mouseClick(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, pos=centre(cols))
    assert view.selected_photo_ids() == tuple(range(3, cols + 2))           # photos 3 … the next line's first
    qtbot.mouseClick(vp, Qt.MouseButton.LeftButton, pos=centre(1))
    qtbot.keyClick(view, Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
    assert view.selected_photo_ids() == tuple(range(2, cols + 3))           # a whole line's worth
    qtbot.mouseClick(vp, Qt.MouseButton.LeftButton, pos=centre(cols - 1))
    qtbot.keyClick(view, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert view.selected_photo_ids() == (cols, cols + 1)                    # across the line's end: two


def test_a_drag_past_the_cells_keeps_selecting_and_scrolls_on(qtbot, small_grid) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtGui import QCursor

    view, model, _ = small_grid
    vp, bar = view.viewport(), view.verticalScrollBar()
    start = view.visualRect(model.index(1, 0)).center()
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(vp, start + QPoint(5, 5))
    outside = QPoint(vp.width() + 15, vp.height() + 10)                      # past the right edge and the bottom
    QCursor.setPos(vp.mapToGlobal(outside))
    qtbot.mouseMove(vp, outside)
    first = len(view.selected_photo_ids())
    assert first > view.columns                                             # the band's lines, to the right edge
    qtbot.waitUntil(lambda: bar.value() > 0 and len(view.selected_photo_ids()) > first, timeout=5000)
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=outside)
    assert view.selected_photo_ids()[0] == 2


def test_the_hover_follows_the_content_under_a_still_pointer(qtbot, small_grid) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtGui import QCursor

    view, model, _ = small_grid
    vp = view.viewport()
    point = view.visualRect(model.index(0, 0)).center()
    QCursor.setPos(vp.mapToGlobal(point))
    qtbot.mouseMove(vp, point)
    assert view._hover.row() == 0   # noqa: SLF001
    view.verticalScrollBar().setValue(view.gridSize().height() * 3)
    assert view._hover.row() == view.indexAt(point).row() == 3 * view.columns   # noqa: SLF001


def test_a_new_query_starts_at_the_top_and_opening_happens_once(qtbot, small_grid) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QEvent, QPointF
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    view, model, _ = small_grid
    bar = view.verticalScrollBar()
    assert bar.singleStep() == view.gridSize().height()                   # a wheel notch: three lines
    view.scroll_to_photo(400)
    assert bar.value() > 0
    with qtbot.waitSignal(model.ids_loaded, timeout=5000):
        model.set_source(FakeSource(range(1001, 1401)))                    # another query
    assert bar.value() == 0 and view.visible_rows()[0] == 0
    opened: list[int] = []
    view.open_requested.connect(opened.append)
    view.setCurrentIndex(model.index(3, 0))
    qtbot.keyClick(view, Qt.Key.Key_Return)
    assert opened == [1004]
    vp = view.viewport()
    p = QPointF(view.visualRect(model.index(5, 0)).center())
    for kind in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonRelease, QEvent.Type.MouseButtonDblClick,
                 QEvent.Type.MouseButtonRelease):
        held = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseButtonRelease else Qt.MouseButton.LeftButton
        QApplication.sendEvent(vp, QMouseEvent(kind, p, vp.mapToGlobal(p), Qt.MouseButton.LeftButton, held,
                                               Qt.KeyboardModifier.NoModifier))
    assert opened == [1004, 1006]                                          # a double-click opens once


def test_a_page_of_summaries_read_while_the_thumbnails_are_coming_does_not_repaint_the_placeholders(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QEvent, QObject

    from tests.ui.test_grid_model import ManualExecutor

    class Paints(QObject):
        n = 0

        def eventFilter(self, obj, event):  # type: ignore[no-untyped-def]  # noqa: N802
            if event.type() == QEvent.Type.Paint:
                self.n += 1
            return False

    write_thumbnails(tmp_path)
    pool = ManualExecutor()
    loader = ThumbnailLoader(pool, PhotoImages(tmp_path), batch_size=4, max_batches_in_flight=2, flush_ms=1)
    model = PhotoGridModel(pool, loader, page_size=500)
    view = PhotoGridView()
    show_view(qtbot, view, model)
    model.set_source(FakeSource(range(1, 1001)))
    pool.run_one()                                            # the ids
    qtbot.waitUntil(lambda: model.rowCount() == 1000 and not model.is_loading, timeout=5000)
    qtbot.waitUntil(lambda: bool(pool.queue), timeout=5000)   # the first page is asked for
    qtbot.wait(30)                                            # the placeholders are painted
    paints = Paints()
    view.viewport().installEventFilter(paints)
    pool.run_one()                                            # the page: summaries, thumbnails still to read
    qtbot.waitUntil(lambda: loader.in_flight_count > 0, timeout=5000)
    qtbot.wait(30)
    assert paints.n == 0                                      # the same placeholders: nothing to paint
    while pool.queue:                                         # the thumbnails
        pool.run_one()
        qtbot.wait(5)
    qtbot.waitUntil(lambda: visible_thumbnails(view, model), timeout=5000)
    qtbot.waitUntil(lambda: paints.n > 0, timeout=5000)       # ... which are painted
    seen = paints.n
    model.dataChanged.emit(model.index(0, 0), model.index(3, 0), [int(PhotoRole.Rating)])
    qtbot.waitUntil(lambda: paints.n > seen, timeout=5000)    # a change to a cell showing its picture repaints
