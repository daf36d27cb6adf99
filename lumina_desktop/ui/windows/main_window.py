"""Main window: composition only — build, wire, restore state (GUI thread)."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QFileDialog, QLabel, QMainWindow, QStackedWidget

from lumina_desktop import APP_NAME
from lumina_desktop.ui.widgets.empty_state import EmptyStateWidget

if TYPE_CHECKING:
    from lumina_desktop.db.pool import Database
    from lumina_desktop.ui.app import AppContext

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.exit_code: int | None = None
        self.setWindowTitle(APP_NAME)
        self.resize(1280, 800)
        self.stack = QStackedWidget()
        self.empty = EmptyStateWidget()
        self.empty.show_message("Starting…", "Opening the catalog database.", can_add=False)
        self.empty.add_folder_requested.connect(self._on_empty_add_folder_requested)
        self.stack.addWidget(self.empty)
        self.setCentralWidget(self.stack)
        self.db_label = QLabel("Starting database…")
        self.statusBar().addPermanentWidget(self.db_label)
        self._build_menus()
        self._restore_state()

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.add_folder_action = QAction("&Add folder…", self)
        self.add_folder_action.setShortcut(QKeySequence("Ctrl+O"))
        self.add_folder_action.setEnabled(False)
        self.add_folder_action.triggered.connect(self._on_empty_add_folder_requested)
        file_menu.addAction(self.add_folder_action)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

    def _restore_state(self) -> None:
        s = QSettings()
        geom = s.value("main_window/geometry")
        if geom is not None:
            self.restoreGeometry(geom)

    # -- start-up results (signals from the worker)
    def on_database_opened(self, db: Database) -> None:
        self.ctx.db = db
        where = "embedded server" if db.cluster is not None else "external server"
        self.db_label.setText(f"Catalog database: {where}")
        self.add_folder_action.setEnabled(True)
        self.empty.show_message(
            "Your catalog is empty",
            "Add a folder of photos to get started. Lumina scans it in the background,\n"
            "makes thumbnails and finds duplicates and bursts. Your files are never changed.\n"
            "You can also drag a folder onto this window.", can_add=True)

    def on_database_failed(self, message: str) -> None:
        self.db_label.setText("Catalog database unavailable")
        self.empty.show_message("The catalog database could not be opened", message, can_add=False)

    def _on_empty_add_folder_requested(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Add folder")
        if path:
            self.statusBar().showMessage(f"Added {path}", 5000)

    def closeEvent(self, event: QCloseEvent) -> None:
        QSettings().setValue("main_window/geometry", self.saveGeometry())
        super().closeEvent(event)
