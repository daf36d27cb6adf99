"""PhotoBrowserWidget: filter bar + zoom + thumbnail grid + details panel, and the viewer (GUI thread).

It reads through two services — ``photos`` (:class:`PhotoQueries`: ids, pages, details, filter
options) and ``images`` (:class:`PhotoPictures`: thumbnails, previews, originals) — on ``io``, the
interactive executor; results arrive as values.  It never sees a database.  Selection leaves as
photo ids.  The window passes the change feed in (:meth:`apply_changes`).
"""
from __future__ import annotations

import logging
import os
import time
from dataclasses import replace
from concurrent.futures import Executor
from typing import Any

from PySide6.QtCore import QPoint, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QGuiApplication, QKeyEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMenu, QPushButton, QSlider, QSplitter, QVBoxLayout, QWidget

from lumina_desktop.core.changes import Aspect, PhotoChanges
from lumina_desktop.core.library import FilterOptions, PhotoFilter, SmartView, SortOrder
from lumina_desktop.services.images import PhotoPictures
from lumina_desktop.services.photos import PhotoQueries
from lumina_desktop.ui.culling_keys import apply_culling
from lumina_desktop.ui.delegates.thumbnail_delegate import (DEFAULT_THUMB_PX, MAX_THUMB_PX, MIN_THUMB_PX, cell_size,
                                                            render_cell)
from lumina_desktop.ui.models.photo_grid_model import CatalogPhotoSource, PhotoGridModel
from lumina_desktop.ui.models.roles import PhotoRole
from lumina_desktop.ui.tasks import report_error, run_op, run_query
from lumina_desktop.ui.thumbnails import ThumbnailLoader
from lumina_desktop.ui.widgets.details_panel import DetailsPanel
from lumina_desktop.ui.widgets.filter_bar import FilterBarWidget
from lumina_desktop.ui.widgets.photo_grid_view import PhotoGridView
from lumina_desktop.ui.windows.viewer_window import ViewerWindow

log = logging.getLogger(__name__)
DETAILS_PX = 250           # the details panel's default width
OPTIONS_REFRESH_S = 30.0   # the filter choices (4 queries) are read again at most this often while photos change
OPTIONS_KEEP_S = 600.0     # a catalog's filter choices are kept this long for its next opening, unless it changes
OPTIONS_QUIET_S = 0.5      # the filter choices are read once the grid has been still this long (not while scrolling)
_OPTION_ASPECTS = frozenset({Aspect.ADDED, Aspect.REMOVED, Aspect.ANALYSED, Aspect.FOLDERS})


class PhotoBrowserWidget(QWidget):
    """Browse one catalog.  API: set_catalog, set_folder, set_smart_view, refresh, selected_photo_ids."""

    selection_changed = Signal(object)   # tuple[int, ...] photo ids, grid order
    details_toggled = Signal(bool)       # the details panel was shown or hidden (also by dragging it shut)
    count_changed = Signal(int)          # photos in the current view
    rescan_requested = Signal(object)    # tuple[int, ...] catalog folder ids holding the chosen photos

    def __init__(self, io: Executor, photos: PhotoQueries, images: PhotoPictures,
                 parent: QWidget | None = None, *, culling: Any = None, tags: Any = None,
                 slow_io: Executor | None = None) -> None:
        super().__init__(parent)
        self.io = io
        self.photos = photos
        self.images = images
        self.culling = culling          # decide_photo / set_stars (the bursts service); None: no flags
        self.tags = tags                # of_photo / add / remove (the tags service); None: no Tags row
        self.catalog_id: int | None = None
        self._restore: tuple[tuple[int, ...], int | None] | None = None
        self._restore_after_reset: tuple[tuple[int, ...], int | None] | None = None
        self._options_after_ids = False
        self._options_age_s: float | None = None
        # the filter choices by catalog, kept for the next opening until the change feed says the
        # catalog changed (a pass over a million photos costs 0.45 s of a core, and it slowed the
        # first scroll steps after every opening): what was read, when, and the reads on their way
        self._options_kept: dict[int, tuple[FilterOptions, float]] = {}
        self._options_epoch: dict[int, int] = {}
        self._options_reading: dict[int, int] = {}
        self._moved_s = 0.0    # when the grid last opened or scrolled (the choices' read waits for a still grid)
        self._options_timer = QTimer(self)
        self._options_timer.setSingleShot(True)
        self._options_timer.timeout.connect(self._load_options)
        # the filter choices read the whole catalog (0.3 s at a million photos): on ``slow_io``
        # (the app's lane for such reads), so a page of the grid never waits behind them (a
        # reopened catalog's first screen waited 0.4 s)
        self._options_io = slow_io or io
        self.loader = ThumbnailLoader(io, images, compose=render_cell, cell_size=cell_size, parent=self)
        self.model = PhotoGridModel(io, self.loader, parent=self)
        self.filter_bar = FilterBarWidget()
        self.zoom_slider = QSlider(Qt.Orientation.Horizontal)
        self.zoom_slider.setRange(MIN_THUMB_PX, MAX_THUMB_PX)
        self.zoom_slider.setValue(DEFAULT_THUMB_PX)
        self.zoom_slider.setFixedWidth(120)
        self.zoom_slider.setToolTip("Thumbnail size")
        self.count_label = QLabel("")
        self.count_label.setMinimumWidth(90)
        self.count_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.view = PhotoGridView(thumb_px=DEFAULT_THUMB_PX)
        self.view.setModel(self.model)
        self.details = DetailsPanel(io, photos, images, tags=tags)
        self.viewer: ViewerWindow | None = None

        self.stack_bar = QPushButton("◀ Back to the stacked grid  (S or Esc)")
        self.stack_bar.setToolTip("Close this burst")
        self.stack_bar.setFlat(True)
        self.stack_bar.hide()
        self.stack_bar.clicked.connect(lambda: self.close_stack())
        self._stack_base: PhotoFilter | None = None     # the filter an opened stack returns to
        top = QHBoxLayout()
        top.setContentsMargins(6, 6, 6, 0)
        top.addWidget(self.filter_bar, 1)
        top.addSpacing(6)
        top.addWidget(QLabel("Size"))
        top.addWidget(self.zoom_slider)
        top.addWidget(self.count_label)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.view)
        self.splitter.addWidget(self.details)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 0)
        self.splitter.setSizes([1000, DETAILS_PX])
        self.splitter.setCollapsible(0, False)
        self.splitter.setCollapsible(1, True)      # dragged shut, or View › Details panel (Ctrl+I)
        self._details_px = DETAILS_PX
        self.splitter.splitterMoved.connect(self._on_splitter_moved)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(6)
        lay.addLayout(top)
        lay.addWidget(self.stack_bar, 0, Qt.AlignmentFlag.AlignLeft)
        lay.addWidget(self.splitter, 1)

        self.filter_bar.filter_changed.connect(self._on_filter_bar_filter_changed)
        self.filter_bar.sort_changed.connect(self._on_filter_bar_sort_changed)
        self.zoom_slider.valueChanged.connect(self._on_zoom_slider_value_changed)
        self.model.count_changed.connect(self._on_model_count_changed)
        self.model.ids_about_to_change.connect(self._on_model_ids_about_to_change)
        self.model.ids_loaded.connect(self._on_model_ids_loaded)
        self.model.load_failed.connect(self._on_model_load_failed)
        self._selection_timer = QTimer(self)     # selection + current change: one announcement per turn
        self._selection_timer.setSingleShot(True)
        self._selection_timer.setInterval(0)
        self._selection_timer.timeout.connect(self._emit_selection)
        self.view.selectionModel().selectionChanged.connect(self._on_view_selection_changed)
        self.view.selectionModel().currentChanged.connect(self._on_view_selection_changed)
        self.view.open_requested.connect(self._on_view_open_requested)
        self.view.culling_requested.connect(self._on_view_culling_requested)
        self.details.culling_requested.connect(self._on_view_culling_requested)   # its buttons and keys: the selection
        self.details.tag_requested.connect(self._on_details_tag_requested)
        self.view.stack_toggle_requested.connect(self._on_view_stack_toggle_requested)
        self.view.visible_rows_changed.connect(self._on_view_visible_rows_changed)
        self.view.context_menu_requested.connect(self._on_view_context_menu_requested)

    # -- public API
    def set_catalog(self, catalog_id: int | None) -> None:
        """Browse ``catalog_id`` (None: nothing); the folder filter is cleared."""
        self.catalog_id = catalog_id
        flt = replace(self.filter_bar.take_pending(), folder_id=None)
        kept = self._kept_options(catalog_id)
        self._moved_s = time.monotonic()
        self.filter_bar.set_options(kept or FilterOptions())
        self.filter_bar.set_filter(flt)
        self._options_after_ids = kept is None   # once the grid has its ids: its first screen comes first
        self._query()

    def set_folder(self, folder_id: int | None) -> None:
        self.filter_bar.set_filter(replace(self.filter_bar.take_pending(), folder_id=folder_id))
        self._query()

    def set_smart_view(self, view: SmartView | str) -> None:
        """Show a filterable smart view (:data:`SMART_VIEWS`); another is a ``LuminaError``."""
        self.filter_bar.set_filter(self.filter_bar.take_pending().with_smart_view(view))
        self._query()

    def set_sort(self, order: SortOrder) -> None:
        self.filter_bar.set_sort(order)
        self._query()

    def refresh(self) -> None:
        """Re-read the whole view (F5-like), keeping scroll position and selection."""
        if self.catalog_id is None:
            return
        if self.model.source is None:
            self._query()
            return
        self.model.refresh()
        self.details.refresh()
        self._forget_options(self.catalog_id)
        self._load_options(now=True)

    def apply_changes(self, change: PhotoChanges) -> None:
        """The change feed for this catalog: the grid re-reads what the change affects, the details
        panel only if its photo changed, the filter choices at most every 30 s."""
        self.note_change(change)
        if change.catalog_id != self.catalog_id or self.model.source is None:
            return
        self.model.apply_changes(change)
        shown = self.details.photo_id
        if shown is not None and not self.details.isHidden() and (not change.is_itemised or shown in change.photo_ids):
            self.details.refresh()
        if change.aspects & _OPTION_ASPECTS and not self._options_timer.isActive():
            age = time.monotonic() - (self._options_age_s or -1e9)
            self._options_timer.start(max(0, int((OPTIONS_REFRESH_S - age) * 1000)))

    def note_change(self, change: PhotoChanges) -> None:
        """The change feed for any catalog, shown or not: filter choices kept for it are stale."""
        if change.aspects & _OPTION_ASPECTS:
            self._forget_options(change.catalog_id)

    def selected_photo_ids(self) -> tuple[int, ...]:
        return self.view.selected_photo_ids()

    @property
    def current_filter(self) -> PhotoFilter:
        """The filter bar holds the one copy of the view's filter and sort."""
        return self.filter_bar.current_filter

    @property
    def current_sort(self) -> SortOrder:
        return self.filter_bar.current_sort

    def close_viewer(self) -> None:
        if self.viewer is not None:
            self.viewer.close()

    # -- queries
    # -- stacks: a burst shown as one cell opens to its frames, and closes again
    def _on_view_stack_toggle_requested(self, photo_id: object) -> None:
        if isinstance(photo_id, int):
            self.open_stack(photo_id)
        else:
            self.close_stack()

    def open_stack(self, photo_id: int) -> bool:
        """Show the frames of the burst whose stack ``photo_id`` tops (the filter bar is kept)."""
        row = self.model.row_of(photo_id)
        burst = self.model.data(self.model.index(row, 0), PhotoRole.BurstId) if row >= 0 else None
        if burst is None or self._stack_base is not None:
            return False
        self._stack_base = self.current_filter
        self.filter_bar.set_filter(replace(self.current_filter, stack_bursts=False, burst_id=int(burst)))
        self.stack_bar.show()
        self._query()
        return True

    def close_stack(self) -> None:
        if self._stack_base is None:
            return
        base, self._stack_base = self._stack_base, None
        self.filter_bar.set_filter(base)
        self.stack_bar.hide()
        self._query()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape and self._stack_base is not None:
            self.close_stack()
            event.accept()
            return
        super().keyPressEvent(event)

    def _query(self) -> None:
        if self.catalog_id is None:
            self.model.set_source(None)
            return
        self.model.set_source(CatalogPhotoSource(self.photos, self.catalog_id, self.current_filter, self.current_sort))

    def _kept_options(self, catalog_id: int | None) -> FilterOptions | None:
        kept = self._options_kept.get(catalog_id) if catalog_id is not None else None
        if kept is None or time.monotonic() - kept[1] > OPTIONS_KEEP_S:
            return None
        return kept[0]

    def _forget_options(self, catalog_id: int | None) -> None:
        if catalog_id is not None:
            self._options_kept.pop(catalog_id, None)
            self._options_epoch[catalog_id] = self._options_epoch.get(catalog_id, 0) + 1

    def _load_options(self, *, now: bool = False) -> None:
        """The shown catalog's filter choices: those kept if the catalog has not changed since,
        else read on the slow lane (once: a read of the same state on its way is awaited) when
        the grid has been still for :data:`OPTIONS_QUIET_S` (``now``: at once, for F5) — the read
        is a pass over the whole catalog (0.45 s of a core at a million photos), and while the
        user scrolled just after opening it made the first jumps 10–30 ms slower."""
        catalog_id, photos = self.catalog_id, self.photos
        self._options_timer.stop()
        if catalog_id is None:
            return
        kept = self._kept_options(catalog_id)
        if kept is not None:
            self.filter_bar.set_options(kept)
            return
        still_s = time.monotonic() - self._moved_s
        if not now and still_s < OPTIONS_QUIET_S:
            self._options_timer.start(int((OPTIONS_QUIET_S - still_s) * 1000) + 1)
            return
        epoch = self._options_epoch.get(catalog_id, 0)
        if self._options_reading.get(catalog_id) == epoch:
            return
        self._options_reading[catalog_id] = epoch
        self._options_age_s = time.monotonic()
        run_query(self._options_io, lambda: photos.filter_options(catalog_id),
                  lambda opts: self._on_options_loaded(catalog_id, epoch, opts),
                  lambda exc: self._on_options_failed(catalog_id, epoch, exc), owner=self)

    def _on_view_visible_rows_changed(self, _first: int, _last: int) -> None:
        self._moved_s = time.monotonic()

    def _on_options_loaded(self, catalog_id: int, epoch: int, options: FilterOptions) -> None:
        if self._options_reading.get(catalog_id) == epoch:
            del self._options_reading[catalog_id]
        if self._options_epoch.get(catalog_id, 0) == epoch:   # not changed since it was read: keep it
            self._options_kept[catalog_id] = (options, time.monotonic())
        newer_coming = catalog_id in self._options_reading    # (a read of a newer state: it shows its own)
        if catalog_id == self.catalog_id and not newer_coming:
            self.filter_bar.set_options(options)   # (if it changed meanwhile, a newer read is scheduled)

    def _on_options_failed(self, catalog_id: int, epoch: int, exc: BaseException) -> None:
        if self._options_reading.get(catalog_id) == epoch:
            del self._options_reading[catalog_id]
        report_error("Could not read the filter choices", exc)

    # -- filter bar and zoom
    def _on_filter_bar_filter_changed(self, _flt: PhotoFilter) -> None:
        self._query()

    def _on_filter_bar_sort_changed(self, _order: SortOrder) -> None:
        self._query()

    def _on_zoom_slider_value_changed(self, px: int) -> None:
        self.view.set_thumb_px(px)

    # -- the details panel: collapsible
    @property
    def details_visible(self) -> bool:
        return not self.details.isHidden()

    def set_details_visible(self, visible: bool) -> None:
        if visible == self.details_visible:
            return
        if visible:
            self.details.show()
            grid_px, _ = self.splitter.sizes()
            self.splitter.setSizes([max(1, grid_px - self._details_px), self._details_px])
            self._emit_selection()         # it read nothing while hidden
        else:
            if (px := self.splitter.sizes()[1]) > 0:
                self._details_px = px
            self.details.hide()
        self.details_toggled.emit(visible)

    def _on_splitter_moved(self, _pos: int, _index: int) -> None:
        px = self.splitter.sizes()[1]
        if px > 0:
            self._details_px = px
        elif not self.details.isHidden():   # dragged shut: the same as hiding it
            self.details.hide()
            self.details_toggled.emit(False)

    # -- the id list changes: keep the selection (by photo id)
    def _on_model_ids_about_to_change(self) -> None:
        if self._restore_after_reset is None:   # (a new query's first rows are up: keep what it had)
            self._restore = (self.view.selected_photo_ids(), self.view.current_photo_id())

    def _on_model_ids_loaded(self, was_reset: bool) -> None:
        if self._options_after_ids and not self.model.is_partial:
            self._options_after_ids = False
            self._load_options()
        if self._restore_after_reset is not None:   # the rest of a new query's list has come
            self._restore, self._restore_after_reset = self._restore_after_reset, None
            was_reset = True
        saved, self._restore = self._restore, None
        if saved is None:
            return
        selected, current = saved
        if was_reset and self.model.is_partial:
            missing = [pid for pid, row in zip(selected, self.model.rows_of(selected)) if row < 0]
            if missing or (current is not None and self.model.row_of(current) < 0):
                self._restore_after_reset = saved    # not all among the first rows: once all are read
        if selected or not was_reset:
            self.view.select_photo_ids(selected, current)
        if was_reset and current is not None and self.model.row_of(current) >= 0:
            self.view.scroll_to_photo(current)   # new filter or order: follow the current photo
        self._emit_selection()

    def _on_model_load_failed(self, message: str) -> None:
        if self._options_after_ids:
            self._options_after_ids = False
            self._load_options()
        self.count_label.setText("Not loaded")
        report_error("Could not load the photos", RuntimeError(message))

    def _on_model_count_changed(self, count: int) -> None:
        self.count_label.setText(f"{count:,} photo{'s' if count != 1 else ''}")
        self.count_changed.emit(count)

    # -- selection
    def _on_view_selection_changed(self, *_args: object) -> None:
        self._selection_timer.start()

    def _emit_selection(self) -> None:
        self._selection_timer.stop()
        ids = self.view.selected_photo_ids()
        current = self.view.current_photo_id()
        if current is None or not self._is_selected(current):
            current = ids[0] if ids else None
        if not self.details.isHidden():          # a hidden panel reads nothing
            self.details.show_photo(current if ids else None, len(ids))
        self.selection_changed.emit(ids)

    def _is_selected(self, photo_id: int) -> bool:
        row = self.model.row_of(photo_id)
        sm = self.view.selectionModel()
        return row >= 0 and sm is not None and sm.isSelected(self.model.index(row, 0))

    # -- viewer
    def _on_view_open_requested(self, photo_id: int) -> None:
        self.open_viewer(photo_id)

    def _on_viewer_culling_requested(self, photo_id: int, action: str, stars: object) -> None:
        self._cull((photo_id,), action, stars)

    def _on_view_culling_requested(self, action: str, stars: object) -> None:
        self._cull(self.selected_photo_ids(), action, stars)

    def _cull(self, ids: tuple[int, ...], action: str, stars: object) -> None:
        """P / X / U / 0–5 on photos: written on a worker; the change feed redraws them."""
        if self.culling is None or self.catalog_id is None or not ids:
            return
        culling, catalog_id = self.culling, self.catalog_id
        run_op(self.io, lambda: apply_culling(culling, catalog_id, ids, action, stars if isinstance(stars, int) else None),
               lambda _r: None, what="Could not save the flag", owner=self)

    def _on_details_tag_requested(self, action: str, tag: str) -> None:
        """Add or remove a tag of the selected photos (the user's, kept by content; the change feed
        then re-reads the details)."""
        ids, tags = self.selected_photo_ids(), self.tags
        if tags is None or not ids:
            return
        op = tags.add if action == "add" else tags.remove
        run_op(self.io, lambda: op(ids, tag), lambda _r: None,
               what="Could not add the tag" if action == "add" else "Could not remove the tag", owner=self)

    def open_viewer(self, photo_id: int) -> ViewerWindow:
        if self.viewer is None:
            self.viewer = ViewerWindow(self.io, self.photos, self.images, self)
            self.viewer.current_changed.connect(self._on_viewer_current_changed)
            self.viewer.culling_requested.connect(self._on_viewer_culling_requested)
        self.viewer.show_photos(self.model.ids, max(0, self.model.row_of(photo_id)))
        return self.viewer

    def _on_viewer_current_changed(self, photo_id: int) -> None:
        row = self.model.row_of(photo_id)
        if row >= 0:
            self.view.select_photo_ids((photo_id,), photo_id)
            self.view.scrollTo(self.model.index(row, 0))

    # -- context menu
    def _on_view_context_menu_requested(self, global_pos: QPoint) -> None:
        ids = self.view.selected_photo_ids()
        current = self.view.current_photo_id()
        if not ids:
            return
        target = current if current is not None and self._is_selected(current) else ids[0]
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        open_action = QAction("Open", menu)
        open_action.triggered.connect(lambda: self.open_viewer(target))
        folder_action = QAction("Show in folder", menu)
        folder_action.triggered.connect(lambda: self.show_in_folder(target))
        copy_action = QAction("Copy path" if len(ids) == 1 else f"Copy {len(ids):,} paths", menu)
        copy_action.triggered.connect(lambda: self.copy_paths(ids))
        rescan_action = QAction("Rescan", menu)
        rescan_action.triggered.connect(lambda: self.request_rescan(ids))
        for action in (open_action, folder_action, copy_action):
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(rescan_action)
        self.context_menu = menu
        menu.popup(global_pos)

    def _paths(self, ids: tuple[int, ...], then: Any) -> None:
        photos = self.photos
        run_op(self.io, lambda: photos.paths(ids), then, what="Could not read the photos' paths", owner=self)

    def show_in_folder(self, photo_id: int) -> None:
        self._paths((photo_id,), self._on_folder_path_loaded)

    def _on_folder_path_loaded(self, paths: tuple[str, ...]) -> None:
        if paths:
            QDesktopServices.openUrl(QUrl.fromLocalFile(os.path.dirname(paths[0])))

    def copy_paths(self, ids: tuple[int, ...]) -> None:
        self._paths(ids, self._on_copy_paths_loaded)

    def _on_copy_paths_loaded(self, paths: tuple[str, ...]) -> None:
        QGuiApplication.clipboard().setText("\n".join(paths))

    def request_rescan(self, ids: tuple[int, ...]) -> None:
        photos = self.photos
        run_op(self.io, lambda: photos.folder_ids_of(ids), self._on_rescan_folders_loaded,
               what="Could not find the folders of these photos", owner=self)

    def _on_rescan_folders_loaded(self, folder_ids: tuple[int, ...]) -> None:
        if folder_ids:
            self.rescan_requested.emit(folder_ids)
