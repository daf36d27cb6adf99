"""Main window: composition only — build, wire, restore state (GUI thread)."""
from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from lumina_desktop import APP_NAME
from lumina_desktop.core.changes import Aspect, PhotoChanges
from lumina_desktop.core.library import LibraryState, SmartView
from lumina_desktop.ui.bridge import JobBridge
from lumina_desktop.ui.icons import themed_icon
from lumina_desktop.ui.library_controller import LibraryController
from lumina_desktop.ui.tasks import run_op, run_query, set_error_reporter
from lumina_desktop.ui.theme import add_theme_menu, apply_theme, current_theme
from lumina_desktop.ui.widgets.catalog_sidebar import CatalogSidebarWidget
from lumina_desktop.ui.widgets.empty_state import EmptyStateWidget
from lumina_desktop.ui.widgets.job_panel import JobPanel
from lumina_desktop.ui.widgets.notice_bar import NoticeBar
from lumina_desktop.ui.widgets.burst_review import BurstReviewWidget
from lumina_desktop.ui.widgets.duplicate_review import DuplicateReviewWidget
from lumina_desktop.ui.widgets.photo_browser import PhotoBrowserWidget
from lumina_desktop.ui.windows.preferences_dialog import SettingsSaver

if TYPE_CHECKING:
    from lumina_desktop.services.app import AppServices
    from lumina_desktop.ui.app import AppContext

STATE_MIN_INTERVAL_MS = 3000   # sidebar counts are read again at most this often while photos arrive,
STATE_COST_FACTOR = 10         # …and at most once per 10× the time the last read took: at a million
FREE_STATE_READ_S = 0.05       # photos a read (counts per catalog, folder and status) took 0.3–0.5 s, its
                               # status count on three server processes; one costlier than
                               # FREE_STATE_READ_S waits that long after a quiet spell too (a short scan
                               # ends first, and its end reads the counts at once anyway)
JOBS_DOCK_PX = 190
SIDEBAR_PX = 210
RESTART_KEY = "restart-database"   # the notice's key for the lost database's button
_STATE_ASPECTS = frozenset({Aspect.ADDED, Aspect.REMOVED, Aspect.STATUS, Aspect.FOLDERS, Aspect.BURST,
                            Aspect.DUPLICATES})
EMPTY_BODY = ("Add a folder of photos to get started. Lumina scans it in the background,\n"
              "makes thumbnails and finds duplicates and bursts. Your files are never changed.\n"
              "You can also drag a folder onto this window.")


class MainWindow(QMainWindow):
    database_lost = Signal(object)   # DatabaseLostNotice, relayed from the engine thread that noticed it

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.exit_code: int | None = None
        self.bridge: JobBridge | None = None
        self.library: LibraryController | None = None
        self.browser: PhotoBrowserWidget | None = None
        self.bursts_view: BurstReviewWidget | None = None
        self.duplicates_view: DuplicateReviewWidget | None = None
        self.state: LibraryState | None = None
        self._closing = self._quit_ready = False
        self.setWindowTitle(APP_NAME)
        self.setObjectName("MainWindow")
        self.resize(1280, 800)
        self.setAcceptDrops(True)
        self.stack = QStackedWidget()
        self.empty = EmptyStateWidget()
        self.empty.show_message("Starting…", "Opening the catalog database.", can_add=False)
        self.empty.add_folder_requested.connect(self._on_add_folder_triggered)
        self.stack.addWidget(self.empty)
        self.notice = NoticeBar()               # "Find duplicates: 24 groups … [Review]" when a job ends
        self.notice.accepted.connect(self._on_notice_accepted)
        self.database_lost.connect(self._on_database_lost)
        central = QWidget()
        lay = QVBoxLayout(central)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.notice)
        lay.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self.sidebar = CatalogSidebarWidget()
        self.sidebar.setEnabled(False)
        library_dock = self._add_dock("Library", "library_dock", self.sidebar, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.resizeDocks([library_dock], [SIDEBAR_PX], Qt.Orientation.Horizontal)  # a saved layout may change it
        self.db_label, self.jobs_label = QLabel("Starting database…"), QLabel()
        # both permanent: a passing message (showMessage) takes the left side and never hides them
        self.statusBar().addPermanentWidget(self.jobs_label)
        self.statusBar().addPermanentWidget(self.db_label)
        self.settings_saver = SettingsSaver(ctx.io, self)
        self.settings_saver.failed.connect(self._show_error)
        self._state_timer = QTimer(self)        # the change feed's sidebar re-reads, rate-limited
        self._state_timer.setSingleShot(True)
        self._state_timer.timeout.connect(self._on_state_timer_timeout)
        self._last_state_load = -1e9
        self._build_actions()

    def _add_dock(self, title: str, name: str, widget: Any, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _build_actions(self) -> None:
        def act(text: str, slot: Any, shortcut: Any = None, enabled: bool = False) -> QAction:
            a = QAction(text, self)
            if shortcut is not None:
                a.setShortcut(QKeySequence(shortcut))
            a.triggered.connect(slot)
            a.setEnabled(enabled)
            return a

        self.add_folder_action = act("&Add folder…", self._on_add_folder_triggered, "Ctrl+O")
        self.rescan_action = act("&Rescan all folders", lambda: self.library and self.library.rescan(()), "F5")
        self.new_catalog_action = act("&New catalog…", self._on_new_catalog_triggered, "Ctrl+Shift+N")
        self.settings_action = act("&Settings…", self._on_settings_triggered, QKeySequence.StandardKey.Preferences, True)
        quit_action = act("&Quit", self.close, QKeySequence.StandardKey.Quit, True)
        file_menu = self.menuBar().addMenu("&File")
        for a in (self.add_folder_action, self.rescan_action, None, self.new_catalog_action, None,
                  self.settings_action, None, quit_action):
            file_menu.addSeparator() if a is None else file_menu.addAction(a)
        self._build_edit_menu()
        # one action per kind that offers itself in the menu (from the registry)
        self.job_actions = [act(k.menu_label or k.title, lambda _=False, k=k: self._on_job_action_triggered(k),
                                k.menu_shortcut) for k in self.ctx.registry.menu_kinds()]
        self.menuBar().addMenu("&Jobs").addActions(self.job_actions)
        self.view_menu = self.menuBar().addMenu("&View")
        self.view_menu.addAction(self.findChild(QDockWidget, "library_dock").toggleViewAction())
        self.details_action = act("&Details panel", self._on_details_action_toggled, "Ctrl+I")
        self.details_action.setCheckable(True)
        self.details_action.setChecked(True)
        self.view_menu.addAction(self.details_action)
        self._build_theme_menu()
        self._build_toolbar()

    # -- toolbar, Edit › Undo, View › Theme (the toolbar holds the menus' own actions)
    def _build_toolbar(self) -> None:
        self.review_action = QAction("Re&view duplicates", self)
        self.review_action.triggered.connect(self.show_review)
        self.jobs_action = QAction("&Jobs", self)   # shows or hides the Jobs dock (wired when it exists)
        self.jobs_action.setCheckable(True)
        for a in (self.review_action, self.jobs_action):
            a.setEnabled(False)
        find_dups = next((a for k, a in zip(self.ctx.registry.menu_kinds(), self.job_actions) if k.name == "duplicates"),
                         None)
        self.toolbar = bar = self.addToolBar("Toolbar")
        bar.setObjectName("main_toolbar")
        bar.setMovable(False)
        bar.setIconSize(QSize(20, 20))
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for item in ((self.add_folder_action, "folder-plus", "Add folder"), (self.rescan_action, "refresh", "Rescan"),
                     None, (find_dups, "duplicates", "Find duplicates"), (self.review_action, "review", "Review"),
                     None, (self.jobs_action, "jobs", "Jobs")):
            if item is None:
                bar.addSeparator()
            elif (action := item[0]) is not None:
                action.setIcon(themed_icon(item[1]))
                action.setIconText(item[2])
                keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
                action.setToolTip(action.text().replace("&", "") + (f" ({keys})" if keys else ""))
                bar.addAction(action)

    def _attach_jobs_dock(self, dock: QDockWidget) -> None:
        """The Jobs dock exists once the database is open: its View entry and the toolbar's Jobs button."""
        toggle = dock.toggleViewAction()
        self.view_menu.insertAction(self._view_docks_end, toggle)
        self.jobs_action.setChecked(toggle.isChecked())
        toggle.toggled.connect(self.jobs_action.setChecked)
        self.jobs_action.toggled.connect(dock.setVisible)
        for a in (self.review_action, self.jobs_action):
            a.setEnabled(True)
        # tall enough for three jobs without a scroll bar (a saved layout may change it)
        self.resizeDocks([dock], [JOBS_DOCK_PX], Qt.Orientation.Vertical)

    def _on_details_action_toggled(self, visible: bool) -> None:
        if self.browser is not None:
            self.browser.set_details_visible(visible)

    def show_review(self) -> None:
        """Open the duplicate review for the current catalog."""
        self.sidebar_select_view(SmartView.DUPLICATES.value)

    def sidebar_select_view(self, view: str) -> None:
        self.notice.dismiss()
        if self.sidebar.isEnabled():
            self.sidebar.select_view(view)      # highlighted there, then shown (view_selected)
        else:
            self._on_sidebar_view_selected(view)

    def _on_notice_accepted(self, key: str) -> None:
        if key == RESTART_KEY:
            self._restart_database()
        else:
            self.sidebar_select_view(key)

    def _on_database_lost(self, notice: Any) -> None:
        """The server or the connection went away: one message, and a restart where we can."""
        self.db_label.setText("Catalog database: lost")
        if self.bridge is not None:              # no news comes from a lost database: the rows say it
            self.job_panel.mark_stopped(notice.job_ids)
        if notice.can_restart:
            self.notice.offer(notice.message, "Restart the server", RESTART_KEY)
        else:
            self.notice.offer(notice.message + " — waiting for the server to come back", "Try again", RESTART_KEY)

    def _restart_database(self) -> None:
        services = self.ctx.services
        if services is None:
            return
        self.db_label.setText("Catalog database: starting…")

        def done(resumed: Any) -> None:
            self.db_label.setText("Catalog database: " + services.database_kind)
            n = len(resumed or ())
            self.statusBar().showMessage("The catalog database is back" +
                                         (f"; {n} job{'s' if n != 1 else ''} resumed" if n else ""), 8000)
            if self.library is not None:
                self.library.load(self.library.catalog_id)

        def failed(exc: BaseException) -> None:
            self.db_label.setText("Catalog database: lost")
            self.notice.offer(f"Could not restart the catalog database: {exc}", "Restart the server", RESTART_KEY)

        run_query(self.ctx.io, services.restart_after_loss, done, failed, owner=self)

    def _on_job_finished(self, job: Any) -> None:
        """The sidebar's counts are read again; a job that found something to review (its kind
        says where) offers that view, unless it is open."""
        services = self.ctx.services
        if self.state is None or self.state.current is None or job.catalog_id != self.state.current.id:
            return
        if not self._closing:
            self._state_timer.start(0)          # the sidebar's counts now, not up to 3 s later
            if self.browser is not None and self.stack.currentWidget() is self.browser:
                self.browser.model.flush_changes()   # and the grid's last rows, not when the rate limit allows
        offer = services.wording.review_offer(job) if services is not None else None
        if offer is None:
            return
        view, text = offer
        shown = {SmartView.DUPLICATES.value: self.duplicates_view, SmartView.BURSTS.value: self.bursts_view}.get(view)
        if shown is not None and self.stack.currentWidget() is shown:
            return
        self.notice.offer(text, "Review", view)

    def _build_edit_menu(self) -> None:
        self.undo_action = QAction("&Undo move to trash", self)
        self.undo_action.setShortcut(QKeySequence("Ctrl+Z"))
        self.undo_action.setEnabled(False)
        self.undo_action.triggered.connect(self._on_undo_action_triggered)
        self.edit_menu = self.menuBar().addMenu("&Edit")
        self.edit_menu.addAction(self.undo_action)

    def _on_undo_action_triggered(self) -> None:
        """Undo the newest operation that still has files in the trash (a job: progress, cancel)."""
        services, state = self.ctx.services, self.state
        if services is None or state is None or state.current is None:
            return
        catalog_id = state.current.id

        def undo() -> int | None:
            ops = services.trash.undoable(catalog_id)
            if not ops:
                return None
            return services.jobs.submit("trash", services.trash.job_params(ops[0], undo=True), catalog_id=catalog_id)

        def done(job_id: int | None) -> None:
            if job_id is None:
                self.statusBar().showMessage("Nothing to undo: no files of this catalog are in the trash", 5000)
            else:
                self.jobs_dock.show()
            self._refresh_undo()

        run_op(self.ctx.io, undo, done, what="Could not undo", owner=self)

    def _refresh_undo(self) -> None:
        """Edit › Undo is enabled while an operation of this catalog has files in the trash."""
        services, state = self.ctx.services, self.state
        if services is None or state is None or state.current is None:
            return
        catalog_id = state.current.id
        run_op(self.ctx.io, lambda: bool(services.trash.undoable(catalog_id)),
               lambda can: self.undo_action.setEnabled(bool(can)), what="Could not read the trash journal", owner=self)

    def _on_operation_started(self, _operation_id: int, _job_id: int) -> None:
        # Undo follows the journal (files committed as trashed), through the change feed
        self.jobs_dock.show()

    def _on_sidebar_folder_selected(self, folder_id: object) -> None:
        if self.browser is not None:
            self.stack.setCurrentWidget(self.browser)
            self.browser.set_folder(folder_id if isinstance(folder_id, int) else None)

    def _on_sidebar_view_selected(self, view: str) -> None:
        """The Bursts view is the burst review (filmstrips); every other view is the grid."""
        if view == SmartView.DUPLICATES.value and self.duplicates_view is not None and self.state is not None \
                and self.state.current is not None:
            self.duplicates_view.set_catalog(self.state.current.id)
            self.stack.setCurrentWidget(self.duplicates_view)
            return
        if view == SmartView.BURSTS.value and self.bursts_view is not None and self.state is not None \
                and self.state.current is not None:
            self.bursts_view.set_catalog(self.state.current.id)
            self.stack.setCurrentWidget(self.bursts_view)
            return
        if self.browser is not None:
            self.stack.setCurrentWidget(self.browser)
            self.browser.set_smart_view(view)

    def _build_theme_menu(self) -> None:
        self._view_docks_end = self.view_menu.addSeparator()
        active = current_theme(QApplication.instance()) or self.ctx.settings.theme  # type: ignore[arg-type]
        self.theme_actions = add_theme_menu(self.view_menu, active, self.set_theme)
        self.settings_saver.theme_chosen.connect(lambda n: self.set_theme(n, save=False))  # Settings saved it

    def set_theme(self, name: str, *, save: bool = True) -> None:
        """Switch the colours now; the choice is saved in the settings file for the next start."""
        apply_theme(QApplication.instance(), name)  # type: ignore[arg-type]
        self.theme_actions[name].setChecked(True)
        if self.browser is not None:
            self.browser.view.set_thumb_px(self.browser.view.thumb_px)   # the grid caches its name colour
        if name != self.ctx.settings.theme:
            self.ctx.settings = dataclasses.replace(self.ctx.settings, theme=name)
            if save:
                self.settings_saver.save(self.ctx.settings.settings_path, {"theme": name})

    # -- start-up results (signals from the worker)
    def on_database_opened(self, services: AppServices) -> None:
        self.ctx.adopt(services)
        set_error_reporter(self._show_error)
        self.db_label.setText("Catalog database: " + services.database_kind)
        self.bridge = JobBridge(services.jobs, self.ctx.io, parent=self)
        self.job_panel = JobPanel(self.bridge, services.wording)
        self.jobs_dock = self._add_dock("Jobs", "jobs_dock", self.job_panel, Qt.DockWidgetArea.BottomDockWidgetArea)
        self._attach_jobs_dock(self.jobs_dock)
        self.job_panel.summary_changed.connect(self.jobs_label.setText)
        self.bridge.photos_changed.connect(self._on_bridge_photos_changed)
        self.bridge.action_failed.connect(self._show_error)
        self.library = LibraryController(services.library, self.ctx.io, self)
        self.library.state_loaded.connect(self._on_library_state_loaded)
        self.library.failed.connect(self._show_error)
        self.library.scan_started.connect(self._on_library_scan_started)
        self.browser = PhotoBrowserWidget(self.ctx.io, services.photos, services.images, culling=services.bursts,
                                          tags=services.tags, slow_io=self.ctx.slow_io)
        self.browser.rescan_requested.connect(lambda ids: self.library and self.library.rescan(tuple(ids)))
        self.browser.details_toggled.connect(self.details_action.setChecked)
        self.details_action.setEnabled(True)
        self.stack.addWidget(self.browser)
        self.bursts_view = BurstReviewWidget(self.ctx.io, services.bursts, services.photos, services.images,
                                             services.trash, services.jobs)
        self.bursts_view.operation_started.connect(self._on_operation_started)
        self.stack.addWidget(self.bursts_view)
        self.duplicates_view = DuplicateReviewWidget(self.ctx.io, services.duplicates, services.photos,
                                                     services.images, services.trash, services.jobs)
        self.duplicates_view.operation_started.connect(self._on_operation_started)
        self.bridge.job_finished.connect(lambda job: self.duplicates_view and
                                         self.duplicates_view.trash_job_finished(job.id))
        self.bridge.job_finished.connect(self._on_job_finished)
        services.on_database_lost(self.database_lost.emit)      # once per loss, from an engine thread
        self.stack.addWidget(self.duplicates_view)
        sb = self.sidebar
        sb.setEnabled(True)
        sb.catalog_selected.connect(self.library.load)
        sb.view_selected.connect(self._on_sidebar_view_selected)
        sb.folder_selected.connect(self._on_sidebar_folder_selected)
        sb.add_folder_requested.connect(self._on_add_folder_triggered)
        sb.rescan_requested.connect(self.library.rescan)
        sb.remove_folder_requested.connect(self._on_remove_folder_requested)
        sb.new_catalog_requested.connect(self._on_new_catalog_triggered)
        sb.rename_catalog_requested.connect(self._on_rename_catalog_requested)
        sb.delete_catalog_requested.connect(self._on_delete_catalog_requested)
        for a in (self.add_folder_action, self.rescan_action, self.new_catalog_action, *self.job_actions):
            a.setEnabled(True)
        self._restore_state()
        self.bridge.start()
        last = QSettings().value("library/catalog_id")  # the catalog used last, else the first
        self.library.load(int(last) if str(last or "").isdigit() else None)

    def on_database_failed(self, message: str) -> None:
        self.db_label.setText("Catalog database unavailable")
        self.empty.show_message("The catalog database could not be opened", message, can_add=False)

    def _restore_state(self) -> None:
        s = QSettings()
        self.restoreGeometry(s.value("main_window/geometry", b""))
        self.restoreState(s.value("main_window/state", b""))
        if self.browser is not None:
            px = s.value("browser/thumb_px")
            if str(px or "").isdigit():
                self.browser.zoom_slider.setValue(int(px))
            self.browser.set_details_visible(str(s.value("browser/details", "true")).lower() != "false")

    # -- library
    def _on_library_state_loaded(self, state: LibraryState) -> None:
        # a switch of catalog, not a change of its counts (Catalog holds them): same id, same view
        changed = self.state is None or (self.state.current and self.state.current.id) != (
            state.current and state.current.id)
        self.state = state
        self.sidebar.set_state(state)
        cat = state.current
        if changed and cat is not None:
            QSettings().setValue("library/catalog_id", cat.id)
        self.setWindowTitle(f"{cat.name} — {APP_NAME}" if cat else APP_NAME)
        has_photos = bool(state.folders) or sum(state.status_counts.values()) > 0
        if changed:
            self._refresh_undo()
        if has_photos and self.browser is not None and not changed and \
                self.stack.currentWidget() in (self.bursts_view, self.duplicates_view):
            pass                                  # the burst review stays; its own feed keeps it current
        elif has_photos and self.browser is not None:
            self.stack.setCurrentWidget(self.browser)
            if cat is not None and (changed or self.browser.catalog_id != cat.id):
                self.browser.set_catalog(cat.id)
            elif (folder := self.browser.current_filter.folder_id) is not None and \
                    all(f.id != folder for f in state.folders):
                self.browser.set_folder(None)   # the folder shown was removed (here or elsewhere): all photos
        else:
            self.empty.show_message("Your catalog is empty" if cat else "No catalog", EMPTY_BODY, can_add=cat is not None)
            self.stack.setCurrentWidget(self.empty)

    def _on_library_scan_started(self, _started: Any) -> None:
        self.jobs_dock.show()

    def _on_bridge_photos_changed(self, change: PhotoChanges) -> None:
        """The change feed (any process): the grid re-reads what changed; the sidebar's counts
        only when photos or folders came or went (at most every 3 s while they keep coming)."""
        if self.browser is not None:
            self.browser.note_change(change)   # (it keeps other catalogs' filter choices for their next opening)
        if self._closing or self.state is None or self.state.current is None:
            return
        if self.state.current.id != change.catalog_id:
            return
        if self.browser is not None and self.stack.currentWidget() is self.browser:
            self.browser.apply_changes(change)
        if self.bursts_view is not None and self.stack.currentWidget() is self.bursts_view:
            self.bursts_view.apply_changes(change)
        if self.duplicates_view is not None and self.stack.currentWidget() is self.duplicates_view:
            self.duplicates_view.apply_changes(change)
        if change.aspects & {Aspect.REMOVED, Aspect.ADDED}:
            self._refresh_undo()
        if change.aspects & _STATE_ASPECTS and not self._state_timer.isActive():
            self._state_timer.start(self._state_wait_ms())

    def _state_wait_ms(self) -> int:
        """How long the change feed's next sidebar read waits (see STATE_MIN_INTERVAL_MS)."""
        took = self.library.last_load_s if self.library is not None else 0.0
        costly_ms = STATE_COST_FACTOR * took * 1000 if took > FREE_STATE_READ_S else 0.0
        since_ms = (time.monotonic() - self._last_state_load) * 1000
        if since_ms > STATE_MIN_INTERVAL_MS + 2000:   # a quiet spell: at once, unless the read is costly
            return int(costly_ms)
        return max(0, int(max(STATE_MIN_INTERVAL_MS, costly_ms) - since_ms))

    def _on_state_timer_timeout(self) -> None:
        if self.library is not None and not self._closing:
            self._last_state_load = time.monotonic()
            self.library.load(self.library.catalog_id)  # sidebar counts; switches empty → grid

    def _on_job_action_triggered(self, kind: Any) -> None:
        if self.state and self.state.current and self.bridge is not None:
            self.bridge.submit(kind.name, kind.menu_params(), self.state.current.id if kind.needs_catalog else None)
            self.jobs_dock.show()

    def _on_add_folder_triggered(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Add folder")
        if path and self.library is not None:
            self.library.add_folders([path])

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self.library is not None and event.mimeData().hasUrls() and all(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths and self.library is not None:
            self.library.add_folders(paths)  # validated off the GUI thread
            event.acceptProposedAction()

    def _on_new_catalog_triggered(self) -> None:
        name, ok = QInputDialog.getText(self, "New catalog", "Name of the new catalog:")
        if ok and name.strip() and self.library is not None:
            self.library.create_catalog(name.strip())

    def _on_rename_catalog_requested(self) -> None:
        cat = self.state.current if self.state else None
        if cat is None or self.library is None:
            return
        name, ok = QInputDialog.getText(self, "Rename catalog", "New name:", text=cat.name)
        if ok and name.strip() and name.strip() != cat.name:
            self.library.rename_catalog(cat.id, name.strip())

    def _on_delete_catalog_requested(self) -> None:
        cat = self.state.current if self.state else None
        if cat is None or self.library is None:
            return
        answer = QMessageBox.question(
            self, "Delete catalog",
            f"Forget the catalog “{cat.name}” ({cat.photo_count:,} photos)?\n\n"
            "Lumina forgets what it knows about these photos. The photo files themselves are not touched.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel)
        if answer == QMessageBox.StandardButton.Yes:
            self.library.delete_catalog(cat.id)

    def _on_remove_folder_requested(self, folder_id: int) -> None:
        path = self.sidebar.folder_path(folder_id)
        answer = QMessageBox.question(self, "Remove folder", f"Remove {path} from this catalog?\n\nThe files stay on disk.",
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel)
        if answer == QMessageBox.StandardButton.Yes and self.library is not None:
            self.library.remove_folder(folder_id, path)

    def _on_settings_triggered(self) -> None:
        if self.settings_saver.edit(self.ctx.settings, self, self.ctx.registry.stage_choices()):
            self.statusBar().showMessage("Settings saved; they apply the next time Lumina starts", 8000)

    def _show_error(self, message: str) -> None:
        """One clear message; window-modal but never blocks the event loop."""
        box = QMessageBox(QMessageBox.Icon.Warning, APP_NAME, message, QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.error_box = box

    # -- quitting: bounded, never a thread left behind
    def closeEvent(self, event: QCloseEvent) -> None:
        if self._quit_ready:
            s = QSettings()
            s.setValue("main_window/geometry", self.saveGeometry())
            s.setValue("main_window/state", self.saveState())
            if self.browser is not None:
                s.setValue("browser/thumb_px", self.browser.zoom_slider.value())
                s.setValue("browser/details", self.browser.details_visible)
            super().closeEvent(event)
            return
        event.ignore()
        if self._closing:
            return
        active = self.job_panel.active_jobs() if self.bridge is not None else []
        cancel = True
        if active:
            box = QMessageBox(QMessageBox.Icon.Question, APP_NAME,
                              f"{len(active)} job(s) still running. Quit anyway?", parent=self)
            later = box.addButton("Quit, resume later", QMessageBox.ButtonRole.AcceptRole)
            stop = box.addButton("Cancel jobs and quit", QMessageBox.ButtonRole.DestructiveRole)
            box.addButton("Keep working", QMessageBox.ButtonRole.RejectRole)
            box.exec()
            if box.clickedButton() not in (later, stop):
                return
            cancel = box.clickedButton() is stop
        self.quit_now(cancel_jobs=cancel)

    def quit_now(self, *, cancel_jobs: bool) -> None:
        """Stop jobs (cancelled, or left resumable), stop the listener, then close: ≤ ~5 s."""
        if self._closing:
            return
        self._closing = True
        self._state_timer.stop()
        self.setEnabled(False)
        self.statusBar().showMessage("Finishing…")
        bridge = self.bridge

        def finish() -> None:
            self.ctx.stop_jobs(cancel=cancel_jobs, timeout_s=5.0)
            if bridge is not None:
                bridge.stop()

        fut = self.ctx.io.submit(finish)
        self._quit_timer = QTimer(self)
        self._quit_timer.setInterval(50)
        self._quit_timer.timeout.connect(lambda: fut.done() and self._finish_quit())
        self._quit_timer.start()

    def _finish_quit(self) -> None:
        self._quit_timer.stop()
        self._quit_ready = True
        self.close()
