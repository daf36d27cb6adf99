"""PhotoGridView: the thumbnail grid over a PhotoGridModel (GUI thread).

A QAbstractItemView laid out by arithmetic: every cell has the grid's size, row ``r`` sits at
line ``r // columns``, column ``r % columns``, so placing, hit-testing, scrolling to and
painting a cell cost the same at ten photos or ten million, and nothing is ever laid out.
(QListView, used before, laid a million rows out in batches, then, in icon mode, put every item
in a BSP tree: one 50–100 ms stall of the GUI thread per layout; any row added at the end laid
everything out again and the scroll position fell back near the top while it did.)  Only the
cells on screen are painted, by the delegate, from pixmaps the model already holds.

Reports its visible row range to the model — a scroll after a quiet spell at once, then 15 ms
after scrolling or resizing settles — so the model reads pages and thumbnails for what is on
screen first.  Selection leaves the view as photo ids, never as QModelIndex lists.
"""
from __future__ import annotations

import time
from collections.abc import Iterable, Sequence

from PySide6.QtCore import (
    QEvent, QItemSelection, QItemSelectionModel, QModelIndex, QPersistentModelIndex, QPoint, QRect, QSize, Qt,
    QTimer, Signal,
)
from PySide6.QtGui import QColor, QContextMenuEvent, QCursor, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPalette, QRegion, QResizeEvent
from PySide6.QtWidgets import QAbstractItemView, QWidget

from lumina_desktop.ui.models.roles import PhotoRole
from lumina_desktop.ui.collector import note_activity
from lumina_desktop.ui.culling_keys import culling_action
from lumina_desktop.ui.delegates.thumbnail_delegate import (
    DEFAULT_THUMB_PX, FRAME_HOVER, FRAME_NONE, FRAME_SELECTED, ThumbnailDelegate,
)
from lumina_desktop.ui.models.photo_grid_model import PhotoGridModel, row_ranges

VISIBLE_DEBOUNCE_MS = 15
AnyIndex = QModelIndex | QPersistentModelIndex


class PhotoGridView(QAbstractItemView):
    open_requested = Signal(int)               # photo id (double-click, Enter, Space)
    context_menu_requested = Signal(QPoint)    # global position; the owner builds the menu
    visible_rows_changed = Signal(int, int)    # first, last (inclusive), after the debounce
    culling_requested = Signal(str, object)    # action (pick, reject, unflag, stars), stars or None
    stack_toggle_requested = Signal(object)    # photo id of a stack's cell to open (None: close the open stack)

    def __init__(self, parent: QWidget | None = None, thumb_px: int = DEFAULT_THUMB_PX) -> None:
        # (state first: Qt calls the overrides below from inside the setters that follow)
        self._grid = QSize(1, 1)
        self._cols = 1
        self._hover = QPersistentModelIndex()
        self._placeholders: set[int] = set()  # rows last painted as a placeholder (their thumbnail was coming)
        self._band: tuple[QPoint, QPoint] | None = None   # rubber band: press and current point, contents coordinates
        self._band_origin: QPoint | None = None
        self._last_report = -1.0
        self._generation = -1                 # the model's query generation shown
        self._visible_timer: QTimer | None = None
        super().__init__(parent)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)   # the width never flips
        self.setMouseTracking(True)
        self.setDragEnabled(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.delegate = ThumbnailDelegate(self, thumb_px)
        self.delegate.set_thumb_px(thumb_px, self.palette().color(QPalette.ColorRole.Text).rgba())
        self.setItemDelegate(self.delegate)
        self._grid = self.delegate.cell_size()
        self._visible_timer = QTimer(self)
        self._visible_timer.setSingleShot(True)
        self._visible_timer.setInterval(VISIBLE_DEBOUNCE_MS)
        self._visible_timer.timeout.connect(self._on_visible_timer_timeout)
        self.verticalScrollBar().valueChanged.connect(self._on_scrolled)
        self.doubleClicked.connect(self._on_self_activated)   # Enter and Space: keyPressEvent

    # -- model
    def grid_model(self) -> PhotoGridModel | None:
        m = self.model()
        return m if isinstance(m, PhotoGridModel) else None

    def setModel(self, model: PhotoGridModel) -> None:  # type: ignore[override]
        super().setModel(model)
        model.set_cell_style(self.delegate.cell_style)
        model.modelReset.connect(self._on_rows_changed)
        model.rowsInserted.connect(self._on_rows_changed)
        model.rowsRemoved.connect(self._on_rows_changed)
        self._on_rows_changed()

    def _on_rows_changed(self) -> None:
        """Rows came or went: the scroll range follows (the position stays), the screen repaints;
        a new query starts at the top (its owner then follows the current photo, if it is there)."""
        self._hover = QPersistentModelIndex()
        self._placeholders.clear()   # (rows may show other photos now; the repaint below records them again)
        self.updateGeometries()
        model = self.grid_model()
        if model is not None and model.generation != self._generation:
            self._generation = model.generation
            self.verticalScrollBar().setValue(0)
        self.viewport().update()
        self._schedule_visible_report()

    def _row_count(self) -> int:
        model = self.model()
        return model.rowCount() if model is not None else 0

    # -- zoom
    @property
    def thumb_px(self) -> int:
        return self.delegate.thumb_px

    def set_thumb_px(self, px: int) -> None:
        anchor = self.top_visible_photo_id()
        style = self.delegate.set_thumb_px(px, self.palette().color(QPalette.ColorRole.Text).rgba())
        model = self.grid_model()
        if model is not None:
            model.set_cell_style(style)
        self._fit_grid_to_width(anchor, force=True)
        self._schedule_visible_report()

    def gridSize(self) -> QSize:  # noqa: N802 — QListView's name, kept for callers
        """The cell every row occupies (the natural cell widened to share the row's spare width)."""
        self._fit_grid_to_width()
        return QSize(self._grid)

    @property
    def columns(self) -> int:
        self._fit_grid_to_width()
        return self._cols

    def _fit_grid_to_width(self, anchor: int | None = None, *, force: bool = False) -> None:
        """Share the row's spare width among the columns, so the grid fills the view evenly;
        ``anchor`` (a photo id) stays at the top.  Cheap when nothing changed (called before
        geometry is read: a hidden view gets no resize events)."""
        cell = self.delegate.cell_size()
        width = self.viewport().width()
        cols = max(1, width // cell.width())
        grid = QSize(max(cell.width(), width // cols), cell.height())
        if grid != self._grid or cols != self._cols or force:
            self._grid, self._cols = grid, cols
            self.delegate.set_item_size(grid)
            self.updateGeometries()
            if anchor is not None:
                self.scroll_to_photo(anchor)
            self.viewport().update()

    # -- geometry: all arithmetic
    def _cell_rect(self, row: int) -> QRect:
        """Row ``row``'s cell in contents coordinates."""
        g = self._grid
        return QRect((row % self._cols) * g.width(), (row // self._cols) * g.height(), g.width(), g.height())

    def _contents_height(self) -> int:
        n = self._row_count()
        return -(-n // self._cols) * self._grid.height()

    def visualRect(self, index: AnyIndex) -> QRect:  # noqa: N802
        if not index.isValid() or index.row() >= self._row_count():
            return QRect()
        return self._cell_rect(index.row()).translated(0, -self.verticalOffset())

    def indexAt(self, point: QPoint) -> QModelIndex:  # noqa: N802
        model = self.model()
        g = self._grid
        if model is None or point.x() < 0 or point.x() >= self._cols * g.width():
            return QModelIndex()
        y = point.y() + self.verticalOffset()
        if y < 0:
            return QModelIndex()
        row = (y // g.height()) * self._cols + point.x() // g.width()
        return model.index(row, 0) if row < model.rowCount() else QModelIndex()

    def scrollTo(self, index: AnyIndex, hint: QAbstractItemView.ScrollHint = QAbstractItemView.ScrollHint.EnsureVisible) -> None:  # noqa: N802
        if not index.isValid():
            return
        self._fit_grid_to_width()            # (a view not shown yet has had no resize event)
        rect = self._cell_rect(index.row())
        bar = self.verticalScrollBar()
        height = self.viewport().height()
        top = bar.value()
        hints = QAbstractItemView.ScrollHint
        if hint == hints.PositionAtTop:
            top = rect.top()
        elif hint == hints.PositionAtBottom:
            top = rect.bottom() + 1 - height
        elif hint == hints.PositionAtCenter:
            top = rect.center().y() - height // 2
        elif rect.top() < top:
            top = rect.top()
        elif rect.bottom() + 1 > top + height:
            top = rect.bottom() + 1 - height
        bar.setValue(max(0, min(top, bar.maximum())))

    def horizontalOffset(self) -> int:  # noqa: N802
        return 0

    def verticalOffset(self) -> int:  # noqa: N802
        return self.verticalScrollBar().value()

    def isIndexHidden(self, index: AnyIndex) -> bool:  # noqa: N802
        return False

    def moveCursor(self, action: QAbstractItemView.CursorAction, modifiers: Qt.KeyboardModifier) -> QModelIndex:  # noqa: N802
        model = self.model()
        n = self._row_count()
        if model is None or n == 0:
            return QModelIndex()
        current = self.currentIndex()
        if not current.isValid():
            return model.index(0, 0)
        row, cols = current.row(), self._cols
        page = max(1, self.viewport().height() // self._grid.height()) * cols
        moves = QAbstractItemView.CursorAction
        step = {moves.MoveLeft: -1, moves.MovePrevious: -1, moves.MoveRight: 1, moves.MoveNext: 1,
                moves.MoveUp: -cols, moves.MoveDown: cols, moves.MovePageUp: -page, moves.MovePageDown: page}
        if action == moves.MoveHome:
            row = 0
        elif action == moves.MoveEnd:
            row = n - 1
        elif action in step:
            target = row + step[action]
            if action in (moves.MoveUp, moves.MoveDown) and not 0 <= target < n:
                target = row          # no line above the first / below the last: stay
            row = target
        return model.index(max(0, min(n - 1, row)), 0)

    def _rows_in(self, rect: QRect) -> list[tuple[int, int]]:
        """Inclusive row runs of the cells meeting ``rect`` (viewport coordinates)."""
        n = self._row_count()
        g, cols = self._grid, self._cols
        r = rect.normalized().translated(0, self.verticalOffset())
        if n == 0 or r.right() < 0 or r.left() >= cols * g.width() or r.bottom() < 0:
            return []
        c0, c1 = max(0, r.left() // g.width()), min(cols - 1, r.right() // g.width())
        l0, l1 = max(0, r.top() // g.height()), r.bottom() // g.height()
        if c0 == 0 and c1 == cols - 1:                      # whole lines: one run
            first, last = l0 * cols, min(n - 1, (l1 + 1) * cols - 1)
            return [(first, last)] if first <= last else []
        out = []
        for line in range(l0, l1 + 1):
            first, last = line * cols + c0, min(n - 1, line * cols + c1)
            if first > last:
                break
            out.append((first, last))
        return out

    def setSelection(self, rect: QRect, command: QItemSelectionModel.SelectionFlag) -> None:  # noqa: N802
        """A rubber band selects the cells it covers; a shift-click or shift+key (Qt passes the
        rectangle from the anchor's centre to the new cell's) selects the photos between the
        two in reading order, as QListView did."""
        model, sm = self.model(), self.selectionModel()
        n = self._row_count()
        if model is None or sm is None or n == 0:
            return
        selection = QItemSelection()
        if self.state() != QAbstractItemView.State.DragSelectingState and (rect.width() != 1 or rect.height() != 1):
            a, b = sorted((self._row_nearest(rect.topLeft()), self._row_nearest(rect.bottomRight())))
            selection.select(model.index(a, 0), model.index(b, 0))
        else:
            for first, last in self._rows_in(rect):
                selection.select(model.index(first, 0), model.index(last, 0))
        sm.select(selection, command)

    def _row_nearest(self, point: QPoint) -> int:
        """The row at a viewport point, clamped into the grid."""
        g, cols = self._grid, self._cols
        line = max(0, (point.y() + self.verticalOffset()) // g.height())
        col = min(cols - 1, max(0, point.x() // g.width()))
        return min(self._row_count() - 1, line * cols + col)

    def visualRegionForSelection(self, selection: QItemSelection) -> QRegion:  # noqa: N802
        """The lines on screen that hold selected or deselected rows (what to repaint)."""
        first, last = self.visible_rows()
        region = QRegion()
        if last < 0:
            return region
        width = self._cols * self._grid.width()
        for rng in selection:
            top, bottom = max(first, rng.top()), min(last, rng.bottom())
            if top <= bottom:
                a, b = self._cell_rect(top), self._cell_rect(bottom)
                region += QRect(0, a.top() - self.verticalOffset(), width, b.bottom() - a.top() + 1)
        return region

    def dataChanged(self, top_left: AnyIndex, bottom_right: AnyIndex, roles: Sequence[int] = ()) -> None:  # noqa: N802
        """Repaint the part of the changed rows that is on screen.  (QAbstractItemView asks
        ``visualRect`` of every row of a range — 200 Python calls for each page of summaries
        read; there are no editors to update here.)"""
        first, last = self.visible_rows()
        lo, hi = max(first, top_left.row()), min(last, bottom_right.row())
        if last < 0 or lo > hi:
            return
        model = self.grid_model()
        if model is not None and roles and int(PhotoRole.PhotoId) not in roles and \
                all(r in self._placeholders and model.cell_pixmap(r) is None for r in range(lo, hi + 1)):
            return   # a page of summaries read while the thumbnails are still coming: still placeholders
        a, b = self._cell_rect(lo), self._cell_rect(hi)
        rect = a if lo == hi else QRect(0, a.top(), self._cols * self._grid.width(), b.bottom() - a.top() + 1)
        self.viewport().update(rect.translated(0, -self.verticalOffset()))

    def updateGeometries(self) -> None:  # noqa: N802
        bar = self.verticalScrollBar()
        height = self.viewport().height()
        bar.setPageStep(max(1, height))
        bar.setSingleStep(max(1, self._grid.height()))      # a line a step, as QListView: 3 a wheel notch
        bar.setRange(0, max(0, self._contents_height() - height))
        self.horizontalScrollBar().setRange(0, 0)
        super().updateGeometries()

    def resizeEvent(self, event: QResizeEvent) -> None:
        anchor = self.top_visible_photo_id() if event.size().width() != event.oldSize().width() else None
        super().resizeEvent(event)
        self._fit_grid_to_width(anchor)
        self.updateGeometries()
        self._schedule_visible_report()

    # -- painting
    def paintEvent(self, event: QPaintEvent) -> None:
        """The cells meeting the damaged region, each a blit of its composed pixmap (or a
        placeholder) through the delegate's :meth:`~ThumbnailDelegate.paint_cell`."""
        model = self.grid_model()
        painter = QPainter(self.viewport())
        rows: set[int] = set()
        for rect in event.region():
            first, last = self._rows_meeting(rect)
            rows.update(range(first, last + 1))
        if model is not None and rows:
            first, last = min(rows), max(rows)
            selected = self._selected_rows(first, last)
            hover = self._hover.row() if self._hover.isValid() else -1
            paint_cell, cell_pixmap = self.delegate.paint_cell, model.cell_pixmap
            palette = self.palette()
            g, cols, offset = self._grid, self._cols, self.verticalOffset()
            gw, gh = g.width(), g.height()
            placeholders = self._placeholders
            placeholders.difference_update(rows)
            for row in sorted(rows):
                frame = FRAME_SELECTED if row in selected else FRAME_HOVER if row == hover else FRAME_NONE
                pixmap = cell_pixmap(row)
                if pixmap is None:
                    placeholders.add(row)
                paint_cell(painter, QRect((row % cols) * gw, (row // cols) * gh - offset, gw, gh),
                           pixmap, frame, palette)
            if len(placeholders) > 4 * len(rows) + 256:   # (rows long scrolled away)
                placeholders.intersection_update(rows)
        if self._band is not None:
            self._paint_band(painter)
        painter.end()

    def _selected_rows(self, first: int, last: int) -> set[int]:
        """Selected rows among ``first``–``last``, from the selection's ranges (not row by row)."""
        sm = self.selectionModel()
        out: set[int] = set()
        if sm is None:
            return out
        for rng in sm.selection():
            top, bottom = max(first, rng.top()), min(last, rng.bottom())
            if top <= bottom:
                out.update(range(top, bottom + 1))
        return out

    def _rows_meeting(self, rect: QRect) -> tuple[int, int]:
        n = self._row_count()
        g = self._grid
        if n == 0 or g.height() <= 0:
            return (0, -1)
        offset = self.verticalOffset()
        l0 = max(0, (rect.top() + offset) // g.height())
        l1 = max(0, (rect.bottom() + offset) // g.height())
        return (min(n, l0 * self._cols), min(n - 1, (l1 + 1) * self._cols - 1))

    def _paint_band(self, painter: QPainter) -> None:
        assert self._band is not None
        a, b = self._band
        band = QRect(a, b).normalized().translated(0, -self.verticalOffset())
        hl = QColor(self.palette().color(QPalette.ColorRole.Highlight))
        fill = QColor(hl)
        fill.setAlpha(50)
        painter.setPen(hl)
        painter.setBrush(fill)
        painter.drawRect(band.adjusted(0, 0, -1, -1))

    # -- visible range
    def _schedule_visible_report(self) -> None:
        if self._visible_timer is not None:
            self._visible_timer.start(VISIBLE_DEBOUNCE_MS)

    def _on_scrolled(self, _value: int) -> None:
        """A scroll after a quiet spell is reported at once (a jump to another part of the list
        starts its reads 15 ms sooner); scrolls that follow within the debounce wait for it."""
        note_activity()
        if self._band is not None:
            self.viewport().update()
        pointer = self.viewport().mapFromGlobal(QCursor.pos())
        if self.viewport().rect().contains(pointer):
            self._set_hover(self.indexAt(pointer))   # the cell under a still pointer changed
        if self._visible_timer is None or self._visible_timer.isActive() or time.monotonic() - self._last_report < VISIBLE_DEBOUNCE_MS / 1000:
            self._schedule_visible_report()
        else:
            self._on_visible_timer_timeout()

    def visible_rows(self) -> tuple[int, int]:
        """(first, last) rows intersecting the viewport; (0, -1) when there are none."""
        first, last = self._rows_meeting(self.viewport().rect())
        return (first, last) if last >= first else (0, -1)

    def _on_visible_timer_timeout(self) -> None:
        self._last_report = time.monotonic()
        first, last = self.visible_rows()
        if last < 0:
            return
        model = self.grid_model()
        if model is not None:
            model.set_visible_rows(first, last)
        self.visible_rows_changed.emit(first, last)

    # -- scroll anchor (kept across model resets and zoom changes)
    def top_visible_photo_id(self) -> int | None:
        model = self.grid_model()
        if model is None or model.rowCount() == 0:
            return None
        first, last = self.visible_rows()
        return model.photo_id_at(first) if last >= 0 else None

    def scroll_to_photo(self, photo_id: int) -> None:
        """Put ``photo_id``'s line at the top (nothing happens if it is not in the list)."""
        model = self.grid_model()
        row = model.row_of(photo_id) if model is not None else -1
        if model is not None and row >= 0:
            self.scrollTo(model.index(row, 0), QAbstractItemView.ScrollHint.PositionAtTop)
            self._schedule_visible_report()

    # -- selection as photo ids
    def selected_photo_ids(self) -> tuple[int, ...]:
        model = self.grid_model()
        sm = self.selectionModel()
        if model is None or sm is None:
            return ()
        ids = model.ids
        spans = sorted((r.top(), r.bottom()) for r in sm.selection())
        out: list[int] = []
        for top, bottom in spans:
            out.extend(ids[top:bottom + 1].tolist())
        return tuple(out)

    def current_photo_id(self) -> int | None:
        model = self.grid_model()
        idx = self.currentIndex()
        return model.photo_id_at(idx.row()) if model is not None and idx.isValid() else None

    def select_photo_ids(self, photo_ids: Iterable[int], current: int | None = None) -> None:
        """Select rows by photo id with range selections (never row by row)."""
        model = self.grid_model()
        sm = self.selectionModel()
        if model is None or sm is None:
            return
        rows = [r for r in model.rows_of(photo_ids) if r >= 0]
        selection = QItemSelection()
        for a, b in row_ranges(rows):
            selection.select(model.index(a, 0), model.index(b, 0))
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect
        sm.select(selection, flags)
        cur_row = model.row_of(current) if current is not None else (min(rows) if rows else -1)
        if cur_row >= 0:
            sm.setCurrentIndex(model.index(cur_row, 0), QItemSelectionModel.SelectionFlag.NoUpdate)

    # -- opening and menus
    def _on_self_activated(self, index: QModelIndex) -> None:
        model = self.grid_model()
        pid = model.photo_id_at(index.row()) if model is not None and index.isValid() else None
        if pid is not None:
            self.open_requested.emit(pid)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        note_activity()
        idx = self.indexAt(event.position().toPoint())
        model = self.grid_model()
        if idx.isValid() and model is not None and model.is_stacked and event.button() == Qt.MouseButton.LeftButton:
            cell = self.visualRect(idx)
            st = self.delegate.cell_style
            box = st.box.translated(cell.x() + (cell.width() - st.cell_w) // 2, cell.y())   # the delegate centres the cell
            badge = box.adjusted(box.width() * 6 // 10, 0, 0, -(box.height() - max(24, box.height() // 6)))
            pid = model.photo_id_at(idx.row())
            if badge.contains(event.position().toPoint()) and pid is not None and \
                    model.data(idx, PhotoRole.BurstId) is not None:
                self.stack_toggle_requested.emit(pid)        # the count badge opens the stack
                event.accept()
                return
        super().mousePressEvent(event)
        if event.button() == Qt.MouseButton.LeftButton:
            self._band_origin = event.position().toPoint() + QPoint(0, self.verticalOffset())

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        super().mouseMoveEvent(event)    # a drag with the left button selects the rows it crosses (setSelection)
        pos = event.position().toPoint()
        index = self.indexAt(pos)
        self._set_hover(index)
        origin = self._band_origin
        if origin is None or not event.buttons() & Qt.MouseButton.LeftButton:
            return
        offset = QPoint(0, self.verticalOffset())
        self._band = (origin, pos + offset)
        self.viewport().update()
        states = QAbstractItemView.State
        if not index.isValid() and self.state() in (states.NoState, states.DragSelectingState):
            # Qt's base class drag-selects only over a cell: past the last one, or outside the
            # view, the band still selects what it covers, and the view scrolls on
            self.setState(states.DragSelectingState)
            command = self.selectionCommand(QModelIndex(), event)
            if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
                command = QItemSelectionModel.SelectionFlag.Select
            self.setSelection(QRect(origin - offset, pos), command)
            margin = self.autoScrollMargin()
            if event.source() != Qt.MouseEventSource.MouseEventSynthesizedByQt and \
                    not self.viewport().rect().adjusted(0, margin, 0, -margin).contains(pos):
                self.startAutoScroll()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        super().mouseReleaseEvent(event)
        self._band_origin = None
        if self._band is not None:
            self._band = None
            self.viewport().update()

    def viewportEvent(self, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Leave:
            self._set_hover(QModelIndex())
        return super().viewportEvent(event)

    def _set_hover(self, index: QModelIndex) -> None:
        if index == self._hover:
            return
        for old_or_new in (self._hover, index):
            if old_or_new.isValid():
                self.viewport().update(self.visualRect(old_or_new))
        self._hover = QPersistentModelIndex(index)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        note_activity()
        if event.key() == Qt.Key.Key_S and not event.modifiers():
            model = self.grid_model()
            pid = self.current_photo_id()
            self.stack_toggle_requested.emit(pid if model is not None and model.is_stacked else None)
            event.accept()
            return
        action = culling_action(event)
        if action is not None and self.selected_photo_ids():
            self.culling_requested.emit(*action)
            event.accept()
            return
        if event.key() in (Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Enter) and \
                not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            pid = self.current_photo_id()
            if pid is not None:
                self.open_requested.emit(pid)
            event.accept()
            return
        super().keyPressEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        idx = self.indexAt(event.pos())
        sm = self.selectionModel()
        if idx.isValid() and sm is not None and not sm.isSelected(idx):
            sm.select(idx, QItemSelectionModel.SelectionFlag.ClearAndSelect)
            sm.setCurrentIndex(idx, QItemSelectionModel.SelectionFlag.NoUpdate)
        if self.selected_photo_ids():
            self.context_menu_requested.emit(event.globalPos())
        event.accept()
