"""Sidebar: catalog switcher, smart views and the folder tree with counts (GUI thread; paints state it is given)."""
from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QMenu,
    QPushButton,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from lumina_desktop.core.library import LibraryState, SmartView
from lumina_desktop.core.models import PhotoStatus
from lumina_desktop.services.describe import VIEW_TEXT

_ROLE_KIND = Qt.ItemDataRole.UserRole + 1
_ROLE_VALUE = Qt.ItemDataRole.UserRole + 2


class CatalogSidebarWidget(QWidget):
    catalog_selected = Signal(int)
    view_selected = Signal(str)
    folder_selected = Signal(int)
    add_folder_requested = Signal()
    rescan_requested = Signal(object)        # tuple of folder ids; empty = all
    remove_folder_requested = Signal(int)
    new_catalog_requested = Signal()
    rename_catalog_requested = Signal()
    delete_catalog_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state: LibraryState | None = None
        self.catalog_combo = QComboBox()
        self.catalog_combo.setToolTip("Switch catalog")
        self.catalog_combo.activated.connect(self._on_catalog_combo_activated)
        self.catalog_menu_button = QToolButton()
        self.catalog_menu_button.setText("⋯")
        self.catalog_menu_button.setToolTip("Manage catalogs")
        self.catalog_menu_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self)
        for text, sig in (("New catalog…", self.new_catalog_requested), ("Rename catalog…", self.rename_catalog_requested),
                          ("Delete catalog…", self.delete_catalog_requested)):
            act = QAction(text, self)
            act.triggered.connect(sig)
            menu.addAction(act)
        self.catalog_menu_button.setMenu(menu)
        self.tree = QTreeWidget()
        self.tree.setHeaderHidden(True)
        self.tree.setColumnCount(2)
        self.tree.setRootIsDecorated(False)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._on_tree_context_menu_requested)
        self.tree.itemClicked.connect(self._on_tree_item_clicked)
        self.add_button = QPushButton("Add folder…")
        self.add_button.clicked.connect(self.add_folder_requested)
        self.rescan_button = QPushButton("Rescan all")
        self.rescan_button.clicked.connect(lambda: self.rescan_requested.emit(()))
        top = QHBoxLayout()
        top.addWidget(self.catalog_combo, 1)
        top.addWidget(self.catalog_menu_button)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.rescan_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addLayout(top)
        lay.addWidget(self.tree, 1)
        lay.addLayout(buttons)
        self.setMinimumWidth(220)
        self.current_view = SmartView.ALL.value
        self.current_folder: int | None = None

    def set_state(self, state: LibraryState) -> None:
        self.state = state
        if self.current_folder is not None and all(f.id != self.current_folder for f in state.folders):
            self.current_view, self.current_folder = SmartView.ALL.value, None   # its folder was removed
        self.catalog_combo.blockSignals(True)
        self.catalog_combo.clear()
        for cat in state.catalogs:
            self.catalog_combo.addItem(f"{cat.name}", cat.id)
        if state.current is not None:
            self.catalog_combo.setCurrentIndex(self.catalog_combo.findData(state.current.id))
        self.catalog_combo.blockSignals(False)
        self.tree.clear()
        counts = state.status_counts
        total = sum(counts.values())
        library = QTreeWidgetItem(self.tree, ["Library", ""])
        library.setFlags(Qt.ItemFlag.ItemIsEnabled)
        _bold(library)
        missing = counts.get(PhotoStatus.MISSING, 0)
        view_counts = {SmartView.ALL: total - missing, SmartView.ERRORS: counts.get(PhotoStatus.ERROR, 0),
                       SmartView.MISSING: missing, SmartView.BURSTS: state.photos_in_bursts}
        for view in SmartView:   # the duplicates view comes with the review grid: greyed until then
            label = VIEW_TEXT[view]
            n = view_counts.get(view)
            item = QTreeWidgetItem(library, [label, f"{n:,}" if n is not None else ""])
            item.setData(0, _ROLE_KIND, "view")
            item.setData(0, _ROLE_VALUE, view.value)
            if not view.is_filterable and view is not SmartView.DUPLICATES:   # the duplicate review is its own page
                item.setFlags(Qt.ItemFlag.NoItemFlags)
                item.setToolTip(0, f"{label}: review comes in a later version; see Jobs › Find duplicates")
            elif view is SmartView.BURSTS:
                item.setToolTip(0, f"{state.bursts:,} bursts of {state.photos_in_bursts:,} photos; ★ marks the best "
                                   "frame of each" if state.bursts else "Frames shot in quick succession appear here "
                                   "after a scan (Jobs › Find bursts)")
        folders = QTreeWidgetItem(self.tree, ["Folders", ""])
        folders.setFlags(Qt.ItemFlag.ItemIsEnabled)
        _bold(folders)
        for f in state.folders:
            name = f.path.rstrip("/").rsplit("/", 1)[-1] or f.path
            item = QTreeWidgetItem(folders, [name, f"{f.photo_count:,}"])
            item.setToolTip(0, f.path + (f"\nlast scanned {f.last_scan_at:%Y-%m-%d %H:%M}" if f.last_scan_at else "\nnot scanned yet"))
            item.setData(0, _ROLE_KIND, "folder")
            item.setData(0, _ROLE_VALUE, f.id)
        if not state.folders:
            hint = QTreeWidgetItem(folders, ["No folders yet", ""])
            hint.setFlags(Qt.ItemFlag.NoItemFlags)
        self.tree.expandAll()
        self.tree.resizeColumnToContents(1)
        self.tree.setColumnWidth(0, max(120, self.tree.viewport().width() - self.tree.columnWidth(1) - 8))
        self._select_current()
        has_catalog = state.current is not None
        for w in (self.add_button, self.rescan_button):
            w.setEnabled(has_catalog)
        self.rescan_button.setEnabled(has_catalog and bool(state.folders))

    def select_view(self, view: str) -> None:
        """Select a view as if it were clicked (the toolbar's Review, a notice's offer)."""
        self.current_view, self.current_folder = view, None
        self._select_current()
        self.view_selected.emit(view)

    def _select_current(self) -> None:
        for item in _walk(self.tree):
            kind, value = item.data(0, _ROLE_KIND), item.data(0, _ROLE_VALUE)
            if (kind == "folder" and value == self.current_folder) or \
                    (kind == "view" and self.current_folder is None and value == self.current_view):
                self.tree.setCurrentItem(item)
                return

    def _on_catalog_combo_activated(self, index: int) -> None:
        cat_id = self.catalog_combo.itemData(index)
        if cat_id is not None:
            self.current_view, self.current_folder = SmartView.ALL.value, None
            self.catalog_selected.emit(int(cat_id))

    def _on_tree_item_clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        if not item.flags() & Qt.ItemFlag.ItemIsEnabled:
            return  # a greyed view (its analysis has not run): Qt still reports the click
        kind, value = item.data(0, _ROLE_KIND), item.data(0, _ROLE_VALUE)
        if kind == "view":
            self.current_view, self.current_folder = str(value), None
            self.view_selected.emit(str(value))
        elif kind == "folder":
            self.current_folder = int(value)
            self.folder_selected.emit(int(value))

    def _on_tree_context_menu_requested(self, pos: QPoint) -> None:
        item = self.tree.itemAt(pos)
        if item is None or item.data(0, _ROLE_KIND) != "folder":
            return
        folder_id = int(item.data(0, _ROLE_VALUE))
        menu = QMenu(self)
        menu.addAction("Rescan folder", lambda: self.rescan_requested.emit((folder_id,)))
        menu.addAction("Remove from catalog…", lambda: self.remove_folder_requested.emit(folder_id))
        menu.popup(self.tree.viewport().mapToGlobal(pos))

    def folder_path(self, folder_id: int) -> str:
        for f in self.state.folders if self.state else ():
            if f.id == folder_id:
                return f.path
        return ""


def _bold(item: QTreeWidgetItem) -> None:
    f = item.font(0)
    f.setBold(True)
    item.setFont(0, f)


def _walk(tree: QTreeWidget) -> list[QTreeWidgetItem]:
    out: list[QTreeWidgetItem] = []
    stack = [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]
    while stack:
        it = stack.pop(0)
        out.append(it)
        stack.extend(it.child(i) for i in range(it.childCount()))
    return out
