"""FilterBarWidget: what the grid shows and in which order (GUI thread).

Holds the current :class:`PhotoFilter` and :class:`SortOrder` as values and emits them when the
user changes something (the file-name search after a 300 ms pause).  The choices for folders,
cameras and file types come from :class:`FilterOptions`, read off-thread by the browser.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date

from PySide6.QtCore import QDate, QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDateEdit, QHBoxLayout, QVBoxLayout, QLabel, QLineEdit, QSizePolicy, QToolButton, QWidget,
)

from lumina_desktop.core.library import SMART_VIEWS, FilterOptions, PhotoFilter, SmartView, SortKey, SortOrder
from lumina_desktop.services.describe import MEDIA_KINDS_TEXT, QUALITY_BANDS, VIEW_TEXT

SEARCH_DEBOUNCE_MS = 300


def _qdate(d: date) -> QDate:
    return QDate(d.year, d.month, d.day)


def _pydate(q: QDate) -> date:
    return date(q.year(), q.month(), q.day())


class FilterBarWidget(QWidget):
    filter_changed = Signal(object)   # PhotoFilter
    sort_changed = Signal(object)     # SortOrder

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._filter = PhotoFilter()
        self._sort = SortOrder()
        self._options = FilterOptions()

        self.view_combo = QComboBox()
        for view in SMART_VIEWS:
            self.view_combo.addItem(VIEW_TEXT[view], view.value)
        self.view_combo.setToolTip("Smart views")
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText("Search names and tags (dog, beach, people…)")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.setMinimumWidth(140)
        self.search_edit.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.folder_combo = QComboBox()
        self.folder_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.folder_combo.setMinimumContentsLength(10)
        self.camera_combo = QComboBox()
        self.camera_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.camera_combo.setMinimumContentsLength(10)
        self.kind_combo = QComboBox()
        self.kind_combo.addItem("All types", None)
        for kind, label in MEDIA_KINDS_TEXT.items():
            self.kind_combo.addItem(label, kind.value)
        self.quality_combo = QComboBox()
        for i, (label, _lo, _hi) in enumerate(QUALITY_BANDS):
            self.quality_combo.addItem(label, i)
        self.quality_combo.setToolTip("Only photos whose quality score (0–100, from sharpness, noise, exposure "
                                      "and JPEG blocking) lies in this band; unscored photos drop out")
        self.stack_check = QCheckBox("Stack bursts")
        self.stack_check.setToolTip("Show each burst as one cell, its best frame, with the number of frames; "
                                    "click the count (or press S) to open the stack")
        self.date_check = QCheckBox("Taken between")
        self.date_check.setToolTip("Only photos taken between these days (inclusive)")
        self.date_from = QDateEdit()
        self.date_to = QDateEdit()
        for edit in (self.date_from, self.date_to):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setDate(QDate.currentDate())
        self.date_dash = QLabel("–")
        self._show_dates(False)                 # the day fields appear only when the range is on
        self.sort_combo = QComboBox()
        for key in SortKey:
            self.sort_combo.addItem(key.label, key.value)
        self.sort_combo.setToolTip("Sort by")
        self.order_button = QToolButton()
        self.order_button.setCheckable(True)
        self.order_button.setAutoRaise(True)
        self._fill_folders()
        self._fill_cameras()
        self._sync_sort_widgets()

        # two rows, so the window fits a 1280 px laptop screen with the side panels open
        first = QHBoxLayout()
        first.setSpacing(6)
        first.addWidget(self.view_combo)
        first.addWidget(self.search_edit, 2)
        first.addWidget(self.stack_check)
        first.addSpacing(8)
        first.addWidget(self.sort_combo)
        first.addWidget(self.order_button)
        second = QHBoxLayout()
        second.setSpacing(6)
        second.addWidget(self.folder_combo, 1)
        second.addWidget(self.camera_combo, 1)
        second.addWidget(self.kind_combo)
        second.addWidget(self.quality_combo)
        second.addWidget(self.date_check)
        second.addWidget(self.date_from)
        second.addWidget(self.date_dash)
        second.addWidget(self.date_to)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        lay.addLayout(first)
        lay.addLayout(second)

        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DEBOUNCE_MS)
        self._search_timer.timeout.connect(self._on_search_timer_timeout)
        self.search_edit.textChanged.connect(self._on_search_edit_text_changed)
        self.view_combo.currentIndexChanged.connect(self._on_controls_changed)
        self.folder_combo.currentIndexChanged.connect(self._on_controls_changed)
        self.camera_combo.currentIndexChanged.connect(self._on_controls_changed)
        self.kind_combo.currentIndexChanged.connect(self._on_controls_changed)
        self.quality_combo.currentIndexChanged.connect(self._on_controls_changed)
        self.stack_check.toggled.connect(self._on_controls_changed)
        self.date_check.toggled.connect(self._on_date_check_toggled)
        self.date_from.dateChanged.connect(self._on_controls_changed)
        self.date_to.dateChanged.connect(self._on_controls_changed)
        self.sort_combo.currentIndexChanged.connect(self._on_sort_controls_changed)
        self.order_button.toggled.connect(self._on_sort_controls_changed)

    # -- state
    @property
    def current_filter(self) -> PhotoFilter:
        return self._filter

    @property
    def current_sort(self) -> SortOrder:
        return self._sort

    def set_options(self, options: FilterOptions) -> None:
        """New choices (folders, cameras, types, date span); the current filter is kept."""
        self._options = options
        self._fill_folders()
        self._fill_cameras()
        with QSignalBlocker(self.date_from), QSignalBlocker(self.date_to):
            if not self.date_check.isChecked():
                if options.first_date:
                    self.date_from.setDate(_qdate(options.first_date))
                if options.last_date:
                    self.date_to.setDate(_qdate(options.last_date))

    def set_filter(self, flt: PhotoFilter, *, emit: bool = False) -> None:
        self._filter = flt
        self._sync_filter_widgets()
        if emit:
            self.filter_changed.emit(flt)

    def set_sort(self, order: SortOrder, *, emit: bool = False) -> None:
        self._sort = order
        self._sync_sort_widgets()
        if emit:
            self.sort_changed.emit(order)

    def take_pending(self) -> PhotoFilter:
        """The filter including a search still waiting for its debounce (which is then not emitted)."""
        if self._search_timer.isActive():
            self._search_timer.stop()
            self._filter = self._filter_from_widgets()
        return self._filter

    def set_folder(self, folder_id: int | None) -> None:
        self.set_filter(replace(self._filter, folder_id=folder_id))

    def set_smart_view(self, name: str) -> None:
        self.set_filter(self._filter.with_smart_view(name))

    # -- widgets ← state
    def _fill_folders(self) -> None:
        with QSignalBlocker(self.folder_combo):
            self.folder_combo.clear()
            self.folder_combo.addItem("All folders", None)
            known = False
            for f in self._options.folders:
                self.folder_combo.addItem(f.path.rstrip("/").rsplit("/", 1)[-1] or f.path, f.id)
                self.folder_combo.setItemData(self.folder_combo.count() - 1, f"{f.path}\n{f.photo_count:,} photos",
                                              Qt.ItemDataRole.ToolTipRole)
                known = known or f.id == self._filter.folder_id
            if self._filter.folder_id is not None and not known:
                self.folder_combo.addItem(f"Folder {self._filter.folder_id}", self._filter.folder_id)
            self.folder_combo.setCurrentIndex(max(0, self.folder_combo.findData(self._filter.folder_id)))

    def _fill_cameras(self) -> None:
        with QSignalBlocker(self.camera_combo):
            self.camera_combo.clear()
            self.camera_combo.addItem("All cameras", None)
            current = (self._filter.camera_make, self._filter.camera_model)
            chosen = 0
            for cam in self._options.cameras:
                self.camera_combo.addItem(f"{cam.label} ({cam.photo_count:,})", (cam.make, cam.model))
                if (cam.make, cam.model) == current:
                    chosen = self.camera_combo.count() - 1
            if current != (None, None) and chosen == 0:
                self.camera_combo.addItem(" ".join(p for p in current if p), current)
                chosen = self.camera_combo.count() - 1
            self.camera_combo.setCurrentIndex(chosen)

    def _sync_filter_widgets(self) -> None:
        f = self._filter
        with QSignalBlocker(self.view_combo), QSignalBlocker(self.kind_combo), QSignalBlocker(self.date_check), \
                QSignalBlocker(self.date_from), QSignalBlocker(self.date_to), QSignalBlocker(self.search_edit), \
                QSignalBlocker(self.quality_combo), QSignalBlocker(self.stack_check):
            self.view_combo.setCurrentIndex(SMART_VIEWS.index(f.smart_view))
            band = next((i for i, (_l, lo, hi) in enumerate(QUALITY_BANDS)
                         if lo == f.min_quality and hi == f.max_quality), 0)
            self.quality_combo.setCurrentIndex(band)
            self.stack_check.setChecked(f.stack_bursts)
            self.kind_combo.setCurrentIndex(max(0, self.kind_combo.findData(f.kind)))
            has_dates = f.date_from is not None or f.date_to is not None
            self.date_check.setChecked(has_dates)
            self._show_dates(has_dates)
            if f.date_from:
                self.date_from.setDate(_qdate(f.date_from))
            if f.date_to:
                self.date_to.setDate(_qdate(f.date_to))
            if self.search_edit.text().strip() != f.text.strip():
                self.search_edit.setText(f.text)
        self._fill_folders()
        self._fill_cameras()

    def _sync_sort_widgets(self) -> None:
        with QSignalBlocker(self.sort_combo), QSignalBlocker(self.order_button):
            self.sort_combo.setCurrentIndex(max(0, self.sort_combo.findData(self._sort.key.value)))
            self.order_button.setChecked(self._sort.is_descending)
        self.order_button.setText("↓" if self._sort.is_descending else "↑")
        self.order_button.setToolTip("Descending (click for ascending)" if self._sort.is_descending
                                     else "Ascending (click for descending)")

    # -- state ← widgets
    def _filter_from_widgets(self) -> PhotoFilter:
        camera = self.camera_combo.currentData()
        has_dates = self.date_check.isChecked()
        d_from, d_to = _pydate(self.date_from.date()), _pydate(self.date_to.date())
        if has_dates and d_to < d_from:
            d_from, d_to = d_to, d_from
        _label, q_lo, q_hi = QUALITY_BANDS[self.quality_combo.currentData() or 0]
        base = replace(self._filter, folder_id=self.folder_combo.currentData(), min_quality=q_lo, max_quality=q_hi,
                       stack_bursts=self.stack_check.isChecked(),
                       camera_make=camera[0] if camera else None, camera_model=camera[1] if camera else None,
                       kind=self.kind_combo.currentData(), text=self.search_edit.text().strip(),
                       date_from=d_from if has_dates else None, date_to=d_to if has_dates else None)
        return base.with_smart_view(SmartView(self.view_combo.currentData() or SmartView.ALL))

    def _on_controls_changed(self, *_args: object) -> None:
        self._search_timer.stop()
        flt = self._filter_from_widgets()
        if flt != self._filter:
            self._filter = flt
            self.filter_changed.emit(flt)

    def _on_date_check_toggled(self, is_checked: bool) -> None:
        self._show_dates(is_checked)
        self._on_controls_changed()

    def _show_dates(self, shown: bool) -> None:
        for w in (self.date_from, self.date_dash, self.date_to):
            w.setVisible(shown)

    def _on_search_edit_text_changed(self, _text: str) -> None:
        self._search_timer.start()

    def _on_search_timer_timeout(self) -> None:
        self._on_controls_changed()

    def _on_sort_controls_changed(self, *_args: object) -> None:
        order = SortOrder(SortKey(self.sort_combo.currentData()), self.order_button.isChecked())
        self._sort = order
        self._sync_sort_widgets()
        self.sort_changed.emit(order)
