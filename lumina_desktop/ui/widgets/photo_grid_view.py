"""PhotoGridView: the thumbnail grid (QListView in icon mode) over a PhotoGridModel (GUI thread).

Reports its visible row range to the model 40 ms after scrolling or resizing settles, so the
model reads pages and thumbnails for what is on screen first.  Selection leaves the view as
photo ids, never as QModelIndex lists.
"""
from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QModelIndex, QPoint, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QMouseEvent, QContextMenuEvent, QKeyEvent, QPalette, QResizeEvent
from PySide6.QtWidgets import QAbstractItemView, QListView, QWidget

from lumina_desktop.ui.models.roles import PhotoRole
from lumina_desktop.ui.culling_keys import culling_action
from lumina_desktop.ui.delegates.thumbnail_delegate import DEFAULT_THUMB_PX, ThumbnailDelegate
from lumina_desktop.ui.models.photo_grid_model import PhotoGridModel

VISIBLE_DEBOUNCE_MS = 15
LAYOUT_BATCH = 200


def row_ranges(rows: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted rows → inclusive (first, last) runs."""
    out: list[tuple[int, int]] = []
    for r in sorted(set(rows)):
        if out and r == out[-1][1] + 1:
            out[-1] = (out[-1][0], r)
        else:
            out.append((r, r))
    return out


class PhotoGridView(QListView):
    open_requested = Signal(int)               # photo id (double-click, Enter, Space)
    context_menu_requested = Signal(QPoint)    # global position; the owner builds the menu
    visible_rows_changed = Signal(int, int)    # first, last (inclusive), after the debounce
    culling_requested = Signal(str, object)    # action (pick, reject, unflag, stars), stars or None
    stack_toggle_requested = Signal(object)    # photo id of a stack's cell to open (None: close the open stack)

    def __init__(self, parent: QWidget | None = None, thumb_px: int = DEFAULT_THUMB_PX) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(True)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(LAYOUT_BATCH)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setSelectionRectVisible(True)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setWrapping(True)
        self.setMouseTracking(True)
        self.setDragEnabled(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.delegate = ThumbnailDelegate(self, thumb_px)
        self.delegate.set_thumb_px(thumb_px, self.palette().color(QPalette.ColorRole.Text).rgba())
        self.setItemDelegate(self.delegate)
        self.setGridSize(self.delegate.cell_size())
        self._visible_timer = QTimer(self)
        self._visible_timer.setSingleShot(True)
        self._visible_timer.setInterval(VISIBLE_DEBOUNCE_MS)
        self._visible_timer.timeout.connect(self._on_visible_timer_timeout)
        self._pending_anchor: int | None = None
        self.verticalScrollBar().valueChanged.connect(self._schedule_visible_report)
        self.verticalScrollBar().rangeChanged.connect(self._on_scrollbar_range_changed)
        self.activated.connect(self._on_self_activated)
        self.doubleClicked.connect(self._on_self_activated)

    # -- model
    def grid_model(self) -> PhotoGridModel | None:
        m = self.model()
        return m if isinstance(m, PhotoGridModel) else None

    def setModel(self, model: PhotoGridModel) -> None:  # type: ignore[override]
        super().setModel(model)
        model.set_cell_style(self.delegate.cell_style)
        model.modelReset.connect(self._schedule_visible_report)
        model.rowsInserted.connect(self._schedule_visible_report)
        self._schedule_visible_report()

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
        self._fit_grid_to_width(anchor)
        self._schedule_visible_report()

    # -- visible range
    def _schedule_visible_report(self) -> None:
        self._visible_timer.start()

    def visible_rows(self) -> tuple[int, int]:
        """(first, last) rows intersecting the viewport; (0, -1) when nothing is laid out yet."""
        model = self.model()
        n = model.rowCount() if model is not None else 0
        if n == 0:
            return (0, -1)
        self.executeDelayedItemsLayout()  # never measure a layout that is about to be replaced
        origin = self.visualRect(model.index(0, 0))
        grid = self.gridSize()
        if not origin.isValid() or grid.width() <= 0 or grid.height() <= 0:
            return (0, -1)
        cols = self._columns(model, n, origin.y(), grid.width())
        vp = self.viewport().rect()
        first_line = max(0, (vp.top() - origin.y()) // grid.height())
        last_line = max(0, (vp.bottom() - origin.y()) // grid.height())
        first = min(n - 1, first_line * cols)
        last = min(n - 1, (last_line + 1) * cols - 1)
        return (first, last)

    def _columns(self, model: PhotoGridModel | object, n: int, y0: int, cell_w: int) -> int:
        """Items on the first line: a guess from the widths, corrected against the layout."""
        index = model.index  # type: ignore[attr-defined]
        cols = max(1, min(n, self.viewport().width() // cell_w))
        while cols > 1 and self.visualRect(index(cols - 1, 0)).y() != y0:
            cols -= 1
        while cols < n and self.visualRect(index(cols, 0)).y() == y0 and self.visualRect(index(cols, 0)).isValid():
            cols += 1
        return cols

    def _on_visible_timer_timeout(self) -> None:
        first, last = self.visible_rows()
        model = self.grid_model()
        if last < 0:
            if model is not None and model.rowCount() > 0:
                self._visible_timer.start()  # not laid out yet: ask again shortly
            return
        if model is not None:
            model.set_visible_rows(first, last)
        self.visible_rows_changed.emit(first, last)

    def resizeEvent(self, event: QResizeEvent) -> None:
        anchor = self.top_visible_photo_id() if event.size().width() != event.oldSize().width() else None
        super().resizeEvent(event)
        self._fit_grid_to_width(anchor)
        self._schedule_visible_report()

    def _fit_grid_to_width(self, anchor: int | None = None) -> None:
        """Share the row's spare width among the columns, so the grid fills the view evenly.

        A new grid size re-lays the items out (in batches); ``anchor`` stays at the top.
        """
        cell = self.delegate.cell_size()
        width = self.viewport().width() - 4   # QListView breaks a row when x + cell >= right edge
        cols = max(1, width // cell.width())
        grid = QSize(max(cell.width(), width // cols), cell.height())
        if grid != self.gridSize():
            self.delegate.set_item_size(grid)
            self.setGridSize(grid)
            self.executeDelayedItemsLayout()  # start the new layout now: old positions are void
            if anchor is not None:
                self.scroll_to_photo(anchor)

    # -- scroll anchor (kept across model resets and zoom changes)
    def top_visible_photo_id(self) -> int | None:
        model = self.grid_model()
        if model is None or model.rowCount() == 0:
            return None
        first, last = self.visible_rows()
        return model.photo_id_at(first) if last >= 0 else None

    def scroll_to_photo(self, photo_id: int) -> None:
        """Put ``photo_id`` at the top; waits for the batched layout to reach it if needed."""
        self._pending_anchor = photo_id
        self._try_anchor()

    def _try_anchor(self) -> None:
        model = self.grid_model()
        if self._pending_anchor is None or model is None:
            return
        row = model.row_of(self._pending_anchor)
        if row < 0:
            self._pending_anchor = None
            return
        idx = model.index(row, 0)
        self.executeDelayedItemsLayout()
        if self.visualRect(idx).isValid():
            self._pending_anchor = None
            self.scrollTo(idx, QAbstractItemView.ScrollHint.PositionAtTop)
            self._schedule_visible_report()

    def _on_scrollbar_range_changed(self, _lo: int, _hi: int) -> None:
        if self._pending_anchor is not None:
            self._try_anchor()
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
        idx = self.indexAt(event.position().toPoint())
        model = self.grid_model()
        if idx.isValid() and model is not None and model.is_stacked and event.button() == Qt.MouseButton.LeftButton:
            cell = self.visualRect(idx)
            box = self.delegate.cell_style.box.translated(cell.topLeft())
            badge = box.adjusted(box.width() * 6 // 10, 0, 0, -(box.height() - max(24, box.height() // 6)))
            pid = model.photo_id_at(idx.row())
            if badge.contains(event.position().toPoint()) and pid is not None and \
                    model.data(idx, PhotoRole.BurstId) is not None:
                self.stack_toggle_requested.emit(pid)        # the count badge opens the stack
                event.accept()
                return
        super().mousePressEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
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
        if event.key() == Qt.Key.Key_Space and not event.modifiers():
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
