"""PhotoBrowserWidget: filter bar + zoom + thumbnail grid + details panel, and the viewer (GUI thread).

``ctx`` is the app context (``settings``, ``db`` — may still be ``None`` while the database
opens —, ``io`` = the interactive executor).  Every read goes through ``run_query`` on
``ctx.io``; results arrive as values.  Selection leaves as photo ids.
"""
from __future__ import annotations

import logging
import os
import time
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QPoint, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMenu, QSlider, QSplitter, QVBoxLayout, QWidget

from lumina_desktop.core.library import SMART_VIEWS, FilterOptions, PhotoFilter, SortOrder
from lumina_desktop.ui.delegates.thumbnail_delegate import DEFAULT_THUMB_PX, MAX_THUMB_PX, MIN_THUMB_PX, render_cell
from lumina_desktop.ui.models.photo_grid_model import CatalogPhotoSource, PhotoGridModel
from lumina_desktop.ui.tasks import run_query
from lumina_desktop.ui.thumbnails import ThumbnailLoader
from lumina_desktop.ui.widgets.details_panel import DetailsPanel
from lumina_desktop.ui.widgets.filter_bar import FilterBarWidget
from lumina_desktop.ui.widgets.photo_grid_view import PhotoGridView
from lumina_desktop.ui.windows.viewer_window import ViewerWindow

log = logging.getLogger(__name__)
OPTIONS_REFRESH_S = 10.0


class PhotoBrowserWidget(QWidget):
    """Browse one catalog.  API: set_catalog, set_folder, set_smart_view, refresh, selected_photo_ids."""

    selection_changed = Signal(object)   # tuple[int, ...] photo ids, grid order
    count_changed = Signal(int)          # photos in the current view
    rescan_requested = Signal(object)    # tuple[int, ...] catalog folder ids holding the chosen photos

    def __init__(self, ctx: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.catalog_id: int | None = None
        self._restore: tuple[tuple[int, ...], int | None] | None = None
        self._options_token = 0
        self._options_age_s: float | None = None
        self.loader = ThumbnailLoader(ctx.io, ctx.settings.thumbnails_dir, compose=render_cell, parent=self)
        self.model = PhotoGridModel(ctx.io, self.loader, parent=self)
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
        self.details = DetailsPanel(ctx.io, ctx.db, ctx.settings.thumbnails_dir)
        self.viewer: ViewerWindow | None = None

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
        self.splitter.setSizes([900, 320])
        self.splitter.setCollapsible(0, False)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(6)
        lay.addLayout(top)
        lay.addWidget(self.splitter, 1)

        self.filter_bar.filter_changed.connect(self._on_filter_bar_filter_changed)
        self.filter_bar.sort_changed.connect(self._on_filter_bar_sort_changed)
        self.zoom_slider.valueChanged.connect(self._on_zoom_slider_value_changed)
        self.model.count_changed.connect(self._on_model_count_changed)
        self.model.ids_about_to_change.connect(self._on_model_ids_about_to_change)
        self.model.ids_loaded.connect(self._on_model_ids_loaded)
        self._selection_timer = QTimer(self)     # selection + current change: one announcement per turn
        self._selection_timer.setSingleShot(True)
        self._selection_timer.setInterval(0)
        self._selection_timer.timeout.connect(self._emit_selection)
        self.view.selectionModel().selectionChanged.connect(self._on_view_selection_changed)
        self.view.selectionModel().currentChanged.connect(self._on_view_selection_changed)
        self.view.open_requested.connect(self._on_view_open_requested)
        self.view.context_menu_requested.connect(self._on_view_context_menu_requested)

    # -- public API
    def set_catalog(self, catalog_id: int | None) -> None:
        """Browse ``catalog_id`` (None: nothing); the folder filter is cleared."""
        self.catalog_id = catalog_id
        flt = replace(self.filter_bar.take_pending(), folder_id=None)
        self.filter_bar.set_options(FilterOptions())
        self.filter_bar.set_filter(flt)
        self._load_options()
        self._query()

    def set_folder(self, folder_id: int | None) -> None:
        self.filter_bar.set_filter(replace(self.filter_bar.take_pending(), folder_id=folder_id))
        self._query()

    def set_smart_view(self, name: str) -> None:
        """'all', 'recent', 'errors' or 'missing'."""
        if name not in SMART_VIEWS:
            raise ValueError(f"unknown smart view {name!r}")
        self.filter_bar.set_filter(self.filter_bar.take_pending().with_smart_view(name))
        self._query()

    def set_sort(self, order: SortOrder) -> None:
        self.filter_bar.set_sort(order)
        self._query()

    def refresh(self) -> None:
        """Re-read the current view, keeping scroll position and selection; fills in new thumbnails."""
        if self.catalog_id is None or self.ctx.db is None:
            return
        if self.model.source is None or getattr(self.model.source, "db", None) is not self.ctx.db:
            self._query()  # the database arrived after set_catalog
            return
        self.model.refresh()
        self.details.db = self.ctx.db
        self.details.refresh()
        now = time.monotonic()
        if self._options_age_s is None or now - self._options_age_s > OPTIONS_REFRESH_S:
            self._load_options()

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
    def _query(self) -> None:
        db = self.ctx.db
        if self.catalog_id is None or db is None:
            self.model.set_source(None)
            return
        self.details.db = db
        self.model.set_source(CatalogPhotoSource(db, self.catalog_id, self.current_filter, self.current_sort))

    def _load_options(self) -> None:
        db, catalog_id = self.ctx.db, self.catalog_id
        self._options_token += 1
        if db is None or catalog_id is None:
            return
        token = self._options_token
        self._options_age_s = time.monotonic()

        def op() -> FilterOptions:
            from lumina_desktop.db import library

            with db.connection() as conn:
                return library.filter_options(conn, catalog_id)

        run_query(self.ctx.io, op, lambda opts: self._on_options_loaded(token, opts), owner=self)

    def _on_options_loaded(self, token: int, options: FilterOptions) -> None:
        if token == self._options_token:
            self.filter_bar.set_options(options)

    # -- filter bar and zoom
    def _on_filter_bar_filter_changed(self, _flt: PhotoFilter) -> None:
        self._query()

    def _on_filter_bar_sort_changed(self, _order: SortOrder) -> None:
        self._query()

    def _on_zoom_slider_value_changed(self, px: int) -> None:
        self.view.set_thumb_px(px)

    # -- the id list changes: keep the selection (by photo id)
    def _on_model_ids_about_to_change(self) -> None:
        self._restore = (self.view.selected_photo_ids(), self.view.current_photo_id())

    def _on_model_ids_loaded(self, was_reset: bool) -> None:
        saved, self._restore = self._restore, None
        if saved is None:
            return
        selected, current = saved
        if selected or not was_reset:
            self.view.select_photo_ids(selected, current)
        if was_reset and current is not None and self.model.row_of(current) >= 0:
            self.view.scroll_to_photo(current)   # new filter or order: follow the current photo
        self._emit_selection()

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
        self.details.show_photo(current if ids else None, len(ids))
        self.selection_changed.emit(ids)

    def _is_selected(self, photo_id: int) -> bool:
        row = self.model.row_of(photo_id)
        sm = self.view.selectionModel()
        return row >= 0 and sm is not None and sm.isSelected(self.model.index(row, 0))

    # -- viewer
    def _on_view_open_requested(self, photo_id: int) -> None:
        self.open_viewer(photo_id)

    def open_viewer(self, photo_id: int) -> ViewerWindow:
        if self.viewer is None:
            self.viewer = ViewerWindow(self.ctx.io, self.ctx.db, self.ctx.settings.thumbnails_dir, self)
            self.viewer.current_changed.connect(self._on_viewer_current_changed)
        self.viewer.db = self.ctx.db
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
        db = self.ctx.db
        if db is None:
            return

        def op() -> tuple[str, ...]:
            from lumina_desktop.db import library

            with db.connection() as conn:
                found = library.photo_paths(conn, ids)
            return tuple(found[i] for i in ids if i in found)

        run_query(self.ctx.io, op, then, owner=self)

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
        db = self.ctx.db
        if db is None:
            return

        def op() -> tuple[int, ...]:
            from lumina_desktop.db import library

            with db.connection() as conn:
                return library.folder_ids_of(conn, ids)

        run_query(self.ctx.io, op, self._on_rescan_folders_loaded, owner=self)

    def _on_rescan_folders_loaded(self, folder_ids: tuple[int, ...]) -> None:
        if folder_ids:
            self.rescan_requested.emit(folder_ids)
