"""The main window as a new user meets it: empty catalog, add a folder, watch the scan, cancel, resume, quit."""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, Iterator

import pytest
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDropEvent

from lumina_desktop.config import load_settings
from lumina_desktop.core.jobs import JobState
from lumina_desktop.ui.app import AppContext, StartupBridge, create_application, start_database
from lumina_desktop.ui.windows.main_window import MainWindow
from tests.jobs.test_scan import make_jpeg

pytestmark = [pytest.mark.ui, pytest.mark.db, pytest.mark.slow]
SHOTS = os.environ.get("LUMINA_SCREENSHOTS")  # a folder: save screenshots of each state there


def shot(win: MainWindow, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        win.grab().save(str(Path(SHOTS) / f"{name}.png"))


@pytest.fixture
def window(qtbot, test_db, tmp_path: Path) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    create_application()
    settings = load_settings({"database_url": test_db.conninfo, "data_dir": str(tmp_path / "data"),
                              "background_workers": 2, "batch_size": 5}, environ={}, config_dir=tmp_path)
    ctx = AppContext(settings)
    startup = StartupBridge()
    win = MainWindow(ctx)  # not qtbot.addWidget: its teardown close() would start our quit sequence
    startup.database_opened.connect(win.on_database_opened)
    startup.database_failed.connect(win.on_database_failed)
    win.resize(1280, 800)
    win.show()
    with qtbot.waitSignal(startup.database_opened, timeout=30000):
        start_database(ctx, startup)
    qtbot.waitUntil(lambda: win.state is not None, timeout=10000)
    win.resize(1280, 800)      # not the size an earlier test's window saved (QSettings live for the run)
    yield win
    if not win._closing:
        win.quit_now(cancel_jobs=True)
    qtbot.waitUntil(lambda: win._quit_ready, timeout=10000)
    ctx.shutdown()
    win.deleteLater()


def library(tmp_path: Path, n: int) -> Path:
    root = tmp_path / "Pictures"
    for i in range(n):
        make_jpeg(root / f"2024-0{1 + i % 3}" / f"IMG_{i:04d}.jpg", i, size=(400, 300))
    return root


def test_first_run_shows_empty_catalog_and_add_folder(window: MainWindow) -> None:
    assert window.empty.title.text() == "Your catalog is empty"
    assert window.empty.button.isVisible() and window.add_folder_action.isEnabled()
    assert window.state is not None and window.state.current is not None and window.state.current.name == "Photos"
    assert window.stack.currentWidget() is window.empty
    shot(window, "01-empty")


def test_drop_folder_scans_and_fills_the_grid(window: MainWindow, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = library(tmp_path, 24)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(root))])
    drop = QDropEvent(QPoint(200, 200), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    window.dropEvent(drop)
    qtbot.waitUntil(lambda: any(j.kind == "scan" for j in window.job_panel.jobs.values()), timeout=20000)
    job = next(j for j in window.job_panel.jobs.values() if j.kind == "scan")
    qtbot.waitUntil(lambda: window.job_panel.jobs[job.id].state == JobState.SUCCEEDED, timeout=60000)
    row = window.job_panel.rows[job.id]
    assert row.bar.value() == 1000 and "24 files" in row.detail.text()
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.browser, timeout=10000)
    qtbot.waitUntil(lambda: window.browser.model.rowCount() == 24, timeout=10000)  # type: ignore[union-attr]
    assert window.state is not None and len(window.state.folders) == 1
    qtbot.waitUntil(lambda: window.sidebar.tree.topLevelItem(1).child(0).text(1) == "24", timeout=10000)
    from lumina_desktop.ui.models.roles import PhotoRole

    model = window.browser.model  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: model.data(model.index(0, 0), PhotoRole.Thumbnail) is not None, timeout=10000)
    shot(window, "02-grid-after-scan")
    # the scan's follow-on starts by itself in the window
    qtbot.waitUntil(lambda: any(j.kind == "duplicates" and j.parent_job_id == job.id and j.state == JobState.SUCCEEDED
                                for j in window.job_panel.jobs.values()), timeout=30000)
    follow = next(j for j in window.job_panel.jobs.values() if j.kind == "duplicates")
    view = window.browser.view  # type: ignore[union-attr]
    first, last = view.visible_rows()
    qtbot.waitUntil(lambda: all(model.data(model.index(r, 0), PhotoRole.Thumbnail) is not None
                                for r in range(first, last + 1)), timeout=5000)   # every visible cell, not a grey box
    shot(window, "03-scan-then-its-follow-on")
    assert "0 groups" in window.job_panel.rows[follow.id].detail.text()  # 24 different pictures
    # the Jobs menu is built from the registry: its action runs the kind alone, which finds nothing new
    action = next(a for a in window.job_actions if "duplicates" in a.text().lower())
    action.trigger()
    qtbot.waitUntil(lambda: any(j.kind == "duplicates" and j.id != follow.id and j.state == JobState.SUCCEEDED
                                for j in window.job_panel.jobs.values()), timeout=30000)
    dup = next(j for j in window.job_panel.jobs.values() if j.kind == "duplicates" and j.id != follow.id)
    assert "0 groups" in window.job_panel.rows[dup.id].detail.text() and dup.parent_job_id is None


def test_cancel_a_scan_from_the_panel_then_resume(window: MainWindow, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = library(tmp_path, 150)
    window.library.add_folders([str(root)])  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: any(j.kind == "scan" and j.state == JobState.RUNNING and j.fraction > 0.1
                                for j in window.job_panel.jobs.values()), timeout=60000)
    job_id = next(j.id for j in window.job_panel.jobs.values() if j.kind == "scan")
    row = window.job_panel.rows[job_id]
    assert window.jobs_label.text().startswith("Scan")
    shot(window, "03-scan-running")
    qtbot.mouseClick(row.cancel_button, Qt.MouseButton.LeftButton)
    assert row.cancel_button.text() == "Cancelling…"
    qtbot.waitUntil(lambda: row.job.state == JobState.CANCELLED, timeout=15000)
    shot(window, "04-scan-cancelled")
    qtbot.mouseClick(row.resume_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: row.job.state == JobState.SUCCEEDED, timeout=120000)
    qtbot.waitUntil(lambda: window.browser is not None and window.browser.model.rowCount() == 150, timeout=10000)


def test_catalog_create_rename_switch_delete(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    lib = window.library
    assert lib is not None
    lib.create_catalog("Travel")
    qtbot.waitUntil(lambda: window.state.current.name == "Travel", timeout=10000)  # type: ignore[union-attr]
    assert window.sidebar.catalog_combo.count() == 2
    lib.rename_catalog(window.state.current.id, "Trips")  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: window.state.current.name == "Trips", timeout=10000)  # type: ignore[union-attr]
    assert "Trips" in window.windowTitle()
    errors: list[str] = []
    lib.failed.connect(errors.append)
    lib.create_catalog("trips")
    qtbot.waitUntil(lambda: bool(errors), timeout=10000)
    assert errors == ["a catalog named 'trips' already exists"]
    lib.delete_catalog(window.state.current.id)  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: window.state.current.name == "Photos", timeout=10000)  # type: ignore[union-attr]
    assert window.sidebar.catalog_combo.count() == 1


def test_adding_a_missing_folder_is_one_clear_message(window: MainWindow, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    errors: list[str] = []
    window.library.failed.connect(errors.append)  # type: ignore[union-attr]
    window.library.add_folders([str(tmp_path / "not-there")])  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: bool(errors), timeout=10000)
    assert errors[0].endswith("does not exist") and "Traceback" not in errors[0]


def test_quit_while_scanning_leaves_the_job_resumable(window: MainWindow, qtbot, tmp_path: Path, db) -> None:  # type: ignore[no-untyped-def]
    import time

    from lumina_desktop.db import jobs as jobs_db

    root = library(tmp_path, 200)
    window.library.add_folders([str(root)])  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: any(j.kind == "scan" and j.state == JobState.RUNNING and j.fraction > 0.1
                                for j in window.job_panel.jobs.values()), timeout=60000)
    job_id = next(j.id for j in window.job_panel.jobs.values() if j.kind == "scan")
    before = {t.name for t in threading.enumerate()}
    assert any(n.startswith("lumina-coord") for n in before)
    t0 = time.monotonic()
    stopped: list[bool] = []
    real_stop = window.ctx.stop_jobs
    window.ctx.stop_jobs = lambda **kw: stopped.append(real_stop(**kw)) or stopped[-1]  # type: ignore[method-assign]
    window.quit_now(cancel_jobs=False)
    qtbot.waitUntil(lambda: window._quit_ready, timeout=10000)
    assert time.monotonic() - t0 < 6.0
    assert stopped == [True], "the job engine did not stop within 5 s"
    assert not window.isVisible()
    with db.connection() as c:
        assert jobs_db.get_job(c, job_id).state == JobState.INTERRUPTED  # type: ignore[union-attr]
    alive = {t.name for t in threading.enumerate() if t.is_alive()}
    assert not any(n.startswith(("lumina-coord", "lumina-worker_", "lumina-heartbeat", "lumina-job-listener"))
                   for n in alive), alive


def test_settings_saver_writes_the_settings_file(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from concurrent.futures import ThreadPoolExecutor

    from lumina_desktop.config import load_settings, write_settings_file
    from lumina_desktop.ui.windows.preferences_dialog import PreferencesDialog

    create_application()
    settings = load_settings({"data_dir": str(tmp_path / "d")}, environ={}, config_dir=tmp_path)
    from lumina_desktop.jobs.kinds import BUILTIN_KINDS

    stages = [(k.name, k.title) for k in BUILTIN_KINDS.follow_on_stages()]
    assert ("duplicates", "Find duplicates") in stages
    dlg = PreferencesDialog(settings, stages=stages)
    qtbot.addWidget(dlg)
    assert dlg.changed_values() == {}
    dlg.workers.setValue(3)
    dlg.database_url.setText("postgresql://u@h/db")
    dlg.previews.setCurrentIndex(dlg.previews.findData("on_demand"))
    dlg.stage_boxes["duplicates"].setChecked(False)  # a follow-on stage switched off
    values = dlg.changed_values()
    assert values == {"background_workers": 3, "database_url": "postgresql://u@h/db", "previews": "on_demand",
                      "disabled_follow_ons": ["duplicates"]}
    with ThreadPoolExecutor(1) as io:
        io.submit(write_settings_file, settings.settings_path, values).result()
    again = load_settings(environ={}, config_dir=tmp_path)
    assert again.background_workers == 3 and again.database_url == "postgresql://u@h/db"
    assert again.previews == "on_demand" and again.disabled_follow_ons == ("duplicates",)


def test_a_cli_scan_shows_in_the_open_window_through_the_change_feed(window: MainWindow, qtbot, test_db,
                                                                      tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import subprocess
    import sys
    import time

    assert not hasattr(window, "_refresh_timer")  # no polling: the window learns from the change feed
    assert window.state is not None and window.state.current is not None
    root = library(tmp_path, 30)
    seen_changes: list[Any] = []
    window.bridge.photos_changed.connect(seen_changes.append)  # type: ignore[union-attr]
    env = {**os.environ, "LUMINA_DATA_DIR": str(tmp_path / "cli-data"), "LUMINA_BATCH_SIZE": "5",
           "BACKGROUND_WORKERS": "2", "LUMINA_DISABLED_FOLLOW_ONS": "duplicates"}
    proc = subprocess.Popen([sys.executable, "-m", "lumina_desktop", "--database-url", test_db.conninfo, "scan",
                             str(root), "--catalog", window.state.current.name],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    qtbot.waitUntil(lambda: proc.poll() is not None, timeout=120000)
    ended = time.monotonic()
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    qtbot.waitUntil(lambda: window.browser is not None and window.stack.currentWidget() is window.browser
                    and window.browser.model.rowCount() == 30, timeout=5000)  # type: ignore[union-attr]
    lag = time.monotonic() - ended
    assert lag <= 1.0, f"the grid showed the CLI's photos {lag:.2f} s after the scan ended"
    assert seen_changes and {c.catalog_id for c in seen_changes} == {window.state.current.id}
    # the feed names every photo the scan stored (the last rows may still be in the bridge's
    # 150 ms coalescing window when the grid is already complete)
    qtbot.waitUntil(lambda: len(set().union(*(c.photo_ids for c in seen_changes))) >= 30, timeout=3000)
    qtbot.waitUntil(lambda: window.sidebar.tree.topLevelItem(1).child(0).text(1) == "30", timeout=5000)


def test_the_window_reopens_the_catalog_used_last(window: MainWindow, qtbot, test_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import psycopg

    with psycopg.connect(test_db.conninfo) as c:  # "Archive" sorts before "Photos"
        archive = c.execute("INSERT INTO catalogs (name) VALUES ('Archive') RETURNING id").fetchone()[0]
        zoo = c.execute("INSERT INTO catalogs (name) VALUES ('Zoo') RETURNING id").fetchone()[0]
    assert window.library is not None
    window.library.load(zoo)
    qtbot.waitUntil(lambda: window.state is not None and window.state.current is not None
                    and window.state.current.id == zoo, timeout=10000)
    assert archive < zoo
    settings = window.ctx.settings
    ctx = AppContext(settings)
    startup = StartupBridge()
    second = MainWindow(ctx)
    startup.database_opened.connect(second.on_database_opened)
    with qtbot.waitSignal(startup.database_opened, timeout=30000):
        start_database(ctx, startup)
    try:
        qtbot.waitUntil(lambda: second.state is not None, timeout=10000)
        assert second.state is not None and second.state.current is not None
        assert second.state.current.name == "Zoo"
    finally:
        second.quit_now(cancel_jobs=True)
        qtbot.waitUntil(lambda: second._quit_ready, timeout=10000)
        ctx.shutdown()
        second.deleteLater()


def test_adding_a_folder_keeps_the_folder_being_browsed(window: MainWindow, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    first = library(tmp_path / "one", 6)
    window.library.add_folders([str(first)])  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: window.browser is not None and window.stack.currentWidget() is window.browser
                    and window.browser.model.rowCount() == 6, timeout=60000)  # type: ignore[union-attr]
    assert window.state is not None and window.state.folders
    folder_id = window.state.folders[0].id
    window.sidebar.folder_selected.emit(folder_id)  # browse that folder
    window.browser.filter_bar.search_edit.setText("IMG_000")  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: window.browser.filter_bar.current_filter.folder_id == folder_id,  # type: ignore[union-attr]
                    timeout=5000)
    second = library(tmp_path / "two", 4)
    window.library.add_folders([str(second)])  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: window.state is not None and len(window.state.folders) == 2
                    and window.state.current is not None and window.state.current.photo_count == 10, timeout=60000)
    qtbot.waitUntil(lambda: not any(j.state.is_active for j in window.job_panel.jobs.values()), timeout=60000)
    flt = window.browser.filter_bar.current_filter  # type: ignore[union-attr]
    assert flt.folder_id == folder_id and window.browser.filter_bar.search_edit.text() == "IMG_000"  # type: ignore[union-attr]


def test_removing_the_folder_being_browsed_elsewhere_shows_all_photos(window: MainWindow, qtbot, db,
                                                                      tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from lumina_desktop.services.library import LibraryService

    one, two = library(tmp_path / "one", 5), library(tmp_path / "two", 3)
    window.library.add_folders([str(one), str(two)])  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: window.browser is not None and window.browser.model.rowCount() == 8, timeout=60000)  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: not any(j.state.is_active for j in window.job_panel.jobs.values()), timeout=60000)
    assert window.state is not None and window.state.current is not None
    gone = next(f for f in window.state.folders if f.path == str(two))
    window.sidebar.folder_selected.emit(gone.id)
    window.sidebar.current_folder = gone.id
    qtbot.waitUntil(lambda: window.browser.model.rowCount() == 3, timeout=5000)  # type: ignore[union-attr]
    # another process (the CLI, say) removes that folder: the window follows through the change feed
    LibraryService(db).remove_folder(window.state.current.id, gone.path)
    qtbot.waitUntil(lambda: window.browser.current_filter.folder_id is None  # type: ignore[union-attr]
                    and window.browser.model.rowCount() == 5, timeout=5000)  # type: ignore[union-attr]
    assert window.sidebar.current_folder is None and window.sidebar.tree.currentItem() is not None
    assert window.sidebar.tree.currentItem().text(0) == "All photos"


def test_bursts_view_quality_badges_sort_and_details(window: MainWindow, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """After a scan the window runs quality, then bursts: the Bursts view lists the burst frames,
    the cells carry quality badges, a quality sort puts the sharp frames first, and the details
    panel gives the score's reasons and the frame's place in its burst."""
    from lumina_desktop.core.library import SortKey, SortOrder
    from lumina_desktop.ui.models.roles import PhotoRole
    from tests.jobs.test_quality_bursts_job import library as burst_library

    root = tmp_path / "Shoot"
    burst_library(root)
    window.library.add_folders([str(root)])  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: any(j.kind == "bursts" and j.state == JobState.SUCCEEDED
                                for j in window.job_panel.jobs.values()), timeout=120000)
    qtbot.waitUntil(lambda: window.state is not None and window.state.photos_in_bursts == 10, timeout=10000)
    browser = window.browser
    assert browser is not None
    item = next(window.sidebar.tree.topLevelItem(0).child(i) for i in range(window.sidebar.tree.topLevelItem(0).childCount())
                if window.sidebar.tree.topLevelItem(0).child(i).text(0) == "Bursts")
    assert item.text(1) == "10" and bool(item.flags() & Qt.ItemFlag.ItemIsEnabled)
    browser.set_smart_view("bursts")
    model = browser.model
    qtbot.waitUntil(lambda: model.rowCount() == 10, timeout=10000)  # type: ignore[union-attr]
    browser.set_sort(SortOrder(SortKey.QUALITY, is_descending=True))
    names = lambda: [model.data(model.index(r, 0), Qt.ItemDataRole.DisplayRole) for r in range(model.rowCount())]  # type: ignore[union-attr]  # noqa: E731
    scores = lambda: [model.data(model.index(r, 0), PhotoRole.QualityScore) for r in range(model.rowCount())]  # type: ignore[union-attr]  # noqa: E731
    qtbot.waitUntil(lambda: None not in scores() and scores() == sorted(scores(), reverse=True), timeout=10000)
    assert set(names()[:2]) <= {"a2.jpg", "b0.jpg", "n0.jpg", "n1.jpg"}      # sharp frames first
    qtbot.waitUntil(lambda: all(model.data(model.index(r, 0), PhotoRole.Thumbnail) is not None  # type: ignore[union-attr]
                                for r in range(model.rowCount())), timeout=10000)  # type: ignore[union-attr]
    row = names().index("a2.jpg")
    browser.view.select_photo_ids([model.data(model.index(row, 0), PhotoRole.PhotoId)])  # type: ignore[union-attr]
    panel = browser.details
    qtbot.waitUntil(lambda: panel.details is not None and panel.details.file_name == "a2.jpg", timeout=10000)
    assert panel.values["Quality"].text().split(" / ")[0].isdigit()
    assert panel.values["Burst"].text().startswith("frame 3 of 5 · the best of its burst: sharpest of 5")
    qtbot.wait(300)                                               # the panel lays out its preview
    shot(window, "05-bursts-view-sorted-by-quality")


def test_culling_keys_in_the_grid_flag_by_content_and_filter(window: MainWindow, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """P, X, U and 0–5 on the grid's selection: kept in the catalog by content, drawn on the cells,
    filterable."""
    from PySide6.QtTest import QTest

    from lumina_desktop.core.library import PhotoFilter, PhotoFlag
    from lumina_desktop.ui.models.roles import PhotoRole

    root = library(tmp_path, 6)
    window.library.add_folders([str(root)])  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: window.browser is not None and window.browser.model.rowCount() == 6, timeout=60000)
    browser = window.browser
    assert browser is not None
    model, view = browser.model, browser.view
    # flags are kept by content: wait for the scan to have read every photo's (rows show at discovery)
    qtbot.waitUntil(lambda: all((s := model.summary_at(r)) is not None and s.content_hash for r in range(6)),
                    timeout=60000)
    ids = [model.data(model.index(r, 0), PhotoRole.PhotoId) for r in range(6)]

    def at(i: int):  # type: ignore[no-untyped-def]
        """Photo ``ids[i]``'s index wherever it is now (the scan's analysis may still move rows)."""
        return model.index(model.row_of(ids[i]), 0)

    view.select_photo_ids([ids[0]])
    view.setFocus()
    QTest.keyClick(view, Qt.Key.Key_P)
    QTest.keyClick(view, Qt.Key.Key_4)
    qtbot.waitUntil(lambda: model.data(at(0), PhotoRole.Flags) is not None and
                    bool(int(model.data(at(0), PhotoRole.Flags)) & PhotoFlag.PICKED) and
                    model.data(at(0), PhotoRole.Rating) == 4, timeout=10000)
    view.select_photo_ids([ids[1], ids[2]])
    QTest.keyClick(view, Qt.Key.Key_X)
    qtbot.waitUntil(lambda: all(bool(int(model.data(at(r), PhotoRole.Flags)) & PhotoFlag.REJECTED)
                                for r in (1, 2)), timeout=10000)
    view.select_photo_ids([ids[2]])
    QTest.keyClick(view, Qt.Key.Key_U)
    qtbot.waitUntil(lambda: not int(model.data(at(2), PhotoRole.Flags)) & PhotoFlag.REJECTED,
                    timeout=10000)
    photos = window.ctx.services.photos  # type: ignore[union-attr]
    cat = window.state.current.id  # type: ignore[union-attr]
    assert set(photos.ids(cat, PhotoFilter(flag="reject"), browser.current_sort)) == {ids[1]}
    assert set(photos.ids(cat, PhotoFilter(flag="pick"), browser.current_sort)) == {ids[0]}
    assert set(photos.ids(cat, PhotoFilter(min_stars=4), browser.current_sort)) == {ids[0]}
    viewer = browser.open_viewer(ids[3])                    # the same keys in the viewer
    qtbot.waitUntil(lambda: viewer.photo_id == ids[3], timeout=10000)
    QTest.keyClick(viewer, Qt.Key.Key_5)
    qtbot.waitUntil(lambda: model.data(at(3), PhotoRole.Rating) == 5, timeout=10000)
    browser.close_viewer()
    # the details panel: its buttons and the same keys act on the selection; a second click clears
    panel = browser.details
    view.select_photo_ids([ids[4]])
    qtbot.waitUntil(lambda: panel.details is not None and panel.details.id == ids[4], timeout=10000)
    assert not panel.flag_bar.pick.isChecked() and not any(b.isChecked() for b in panel.flag_bar.star_buttons)
    qtbot.mouseClick(panel.flag_bar.pick, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(panel.flag_bar.star_buttons[2], Qt.MouseButton.LeftButton)       # ★★★
    qtbot.waitUntil(lambda: bool(int(model.data(at(4), PhotoRole.Flags)) & PhotoFlag.PICKED) and
                    model.data(at(4), PhotoRole.Rating) == 3, timeout=10000)
    qtbot.waitUntil(lambda: panel.flag_bar.pick.isChecked() and panel.flag_bar.stars == 3, timeout=10000)
    assert [b.isChecked() for b in panel.flag_bar.star_buttons] == [True, True, True, False, False]
    qtbot.mouseClick(panel.flag_bar.pick, Qt.MouseButton.LeftButton)                  # again: unflagged
    qtbot.waitUntil(lambda: not int(model.data(at(4), PhotoRole.Flags)) & PhotoFlag.PICKED, timeout=10000)
    qtbot.waitUntil(lambda: not panel.flag_bar.pick.isChecked(), timeout=10000)
    panel.setFocus()
    QTest.keyClick(panel, Qt.Key.Key_X)                                               # keys, in the panel
    qtbot.waitUntil(lambda: bool(int(model.data(at(4), PhotoRole.Flags)) & PhotoFlag.REJECTED) and
                    panel.flag_bar.reject.isChecked(), timeout=10000)
    qtbot.mouseClick(panel.flag_bar.star_buttons[2], Qt.MouseButton.LeftButton)       # ★★★ again: none
    qtbot.waitUntil(lambda: not model.data(at(4), PhotoRole.Rating), timeout=10000)
    qtbot.wait(200)
    shot(window, "06-grid-culling-flags")


def test_bursts_stack_in_the_grid_and_open_on_the_count_badge(window: MainWindow, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QPoint
    from PySide6.QtTest import QTest

    from lumina_desktop.ui.models.roles import PhotoRole
    from tests.jobs.test_quality_bursts_job import library as burst_library

    root = tmp_path / "Shoot"
    burst_library(root)                          # 11 photos: bursts of 5, 3 and 2 frames, 1 alone
    window.library.add_folders([str(root)])  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: any(j.kind == "bursts" and j.state == JobState.SUCCEEDED
                                for j in window.job_panel.jobs.values()), timeout=120000)
    browser = window.browser
    assert browser is not None
    model, view = browser.model, browser.view
    qtbot.waitUntil(lambda: model.rowCount() == 11, timeout=10000)
    browser.filter_bar.stack_check.setChecked(True)          # the filter bar's "Stack bursts"
    qtbot.waitUntil(lambda: model.rowCount() == 4, timeout=10000)   # 3 stacks and the lone frame
    names = lambda: sorted(str(model.data(model.index(r, 0), Qt.ItemDataRole.DisplayRole)) for r in range(model.rowCount()))  # noqa: E731
    qtbot.waitUntil(lambda: "None" not in names(), timeout=10000)
    assert names() == ["a2.jpg", "b0.jpg", "lone.jpg", "n1.jpg"]   # each stack shows its best frame
    qtbot.waitUntil(lambda: all(model.data(model.index(r, 0), PhotoRole.Thumbnail) is not None
                                for r in range(4)), timeout=10000)
    qtbot.wait(200)
    shot(window, "07-grid-bursts-stacked")
    row = next(r for r in range(4) if model.data(model.index(r, 0), Qt.ItemDataRole.DisplayRole) == "a2.jpg")
    cell = view.visualRect(model.index(row, 0))
    box = view.delegate.cell_style.box.translated(cell.topLeft())
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(box.right() - 8, box.top() + 10))
    qtbot.waitUntil(lambda: model.rowCount() == 5 and "None" not in names(), timeout=10000)   # its 5 frames
    assert names() == ["a0.jpg", "a1.jpg", "a2.jpg", "a3.jpg", "a4.jpg"] and browser.stack_bar.isVisible()
    qtbot.wait(200)
    shot(window, "08-grid-burst-stack-open")
    view.setFocus()
    QTest.keyClick(view, Qt.Key.Key_S)                                # S closes it again
    qtbot.waitUntil(lambda: model.rowCount() == 4 and not browser.stack_bar.isVisible(), timeout=10000)


def test_bursts_view_trashes_the_rest_and_edit_undo_brings_it_back(window: MainWindow, qtbot, tmp_path: Path,
                                                                   monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The sidebar's Bursts opens the burst review; "keep the best, trash the rest" for all bursts
    moves the other frames to the system trash (a job); Edit › Undo (Ctrl+Z) puts them back."""
    import hashlib

    from tests.jobs.test_quality_bursts_job import library as burst_library

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    root = tmp_path / "Shoot"
    burst_library(root)
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in root.iterdir()}
    window.library.add_folders([str(root)])  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: any(j.kind == "bursts" and j.state == JobState.SUCCEEDED
                                for j in window.job_panel.jobs.values()), timeout=120000)
    window.sidebar.view_selected.emit("bursts")
    review = window.bursts_view
    assert review is not None and window.stack.currentWidget() is review
    qtbot.waitUntil(lambda: review.is_loaded and not review.is_empty, timeout=10000)
    review.confirm = lambda *_a: True
    qtbot.wait(300)
    shot(window, "09-burst-review")
    review.trash_rest(all_bursts=True)
    qtbot.waitUntil(lambda: len(list(root.iterdir())) == 4, timeout=30000)   # three bests and the lone frame
    qtbot.waitUntil(lambda: any(j.kind == "trash" and j.state == JobState.SUCCEEDED
                                for j in window.job_panel.jobs.values()), timeout=30000)
    qtbot.waitUntil(lambda: window.undo_action.isEnabled(), timeout=10000)
    window.undo_action.trigger()                                              # Edit › Undo
    qtbot.waitUntil(lambda: {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in root.iterdir()} == before,
                    timeout=30000)
    qtbot.waitUntil(lambda: not window.undo_action.isEnabled(), timeout=10000)
    window.sidebar.view_selected.emit("all")
    assert window.stack.currentWidget() is window.browser


def test_review_opens_the_duplicate_review_and_other_views_return_to_the_grid(window: MainWindow, qtbot,
                                                                                tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = library(tmp_path, 3)
    window.library.add_folders([str(root)])  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: window.browser is not None and window.browser.model.rowCount() == 3, timeout=60000)
    window.review_action.trigger()                       # the toolbar's Review
    review = window.duplicates_view
    assert review is not None and window.stack.currentWidget() is review
    qtbot.waitUntil(lambda: review.is_loaded and review.is_empty, timeout=10000)   # 3 different pictures
    window.sidebar.view_selected.emit("errors")
    assert window.stack.currentWidget() is window.browser


def test_a_duplicates_job_offers_its_review_and_the_window_chrome(window: MainWindow, qtbot,
                                                                  tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A job that found duplicates offers the review in a notice (the kind says where); passing
    messages never hide the job status; the details panel collapses (Ctrl+I or dragged shut)
    and reads nothing while hidden; the day fields appear only with a date range."""
    import shutil

    from PySide6.QtWidgets import QApplication

    root = library(tmp_path, 4)
    shutil.copy2(root / "2024-01" / "IMG_0000.jpg", root / "2024-02" / "IMG_0000 copy.jpg")   # one byte copy
    assert window.notice.isHidden()
    window.library.add_folders([str(root)])  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: any(j.kind == "duplicates" and j.state == JobState.SUCCEEDED
                                for j in window.job_panel.jobs.values()), timeout=60000)
    qtbot.waitUntil(lambda: window.notice.isVisible(), timeout=10000)
    assert window.notice.label.text() == "Find duplicates: 1 group: 1 identical, 0 same picture, 0 near copies"
    assert window.notice.button.text() == "Review" and window.notice.key == "duplicates"
    shot(window, "notice-duplicates-found")
    qtbot.mouseClick(window.notice.button, Qt.MouseButton.LeftButton)
    review = window.duplicates_view
    assert window.notice.isHidden() and window.stack.currentWidget() is review
    assert window.sidebar.tree.currentItem().text(0) == "Duplicates"          # the sidebar follows
    qtbot.waitUntil(lambda: review.is_loaded and review.model.group_count == 1, timeout=10000)  # type: ignore[union-attr]
    # the grid: a passing message takes the status bar's left side, the job status stays
    window.sidebar.select_view("all")
    browser = window.browser
    assert browser is not None and window.stack.currentWidget() is browser
    window.jobs_label.setText("Scan: 40 %")
    window.statusBar().showMessage("Settings saved", 5000)
    assert window.jobs_label.isVisible() and window.db_label.isVisible()
    # Ctrl+I hides the details panel; a hidden panel reads nothing; Ctrl+I brings it back with the photo
    qtbot.waitUntil(lambda: browser.model.rowCount() == 5, timeout=10000)
    browser.view.select_photo_ids([browser.model.photo_id_at(0)])
    qtbot.waitUntil(lambda: browser.details.details is not None, timeout=10000)
    window.activateWindow()
    qtbot.keyClick(browser.view, Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier)
    assert not browser.details_visible and browser.details.isHidden() and not window.details_action.isChecked()
    shown = browser.details.photo_id
    browser.view.select_photo_ids([browser.model.photo_id_at(1)])
    qtbot.wait(300)
    assert browser.details.photo_id == shown                                # nothing read while hidden
    window.details_action.trigger()
    assert browser.details_visible and window.details_action.isChecked()
    qtbot.waitUntil(lambda: browser.details.photo_id == browser.model.photo_id_at(1), timeout=10000)
    # dragged shut: the action follows
    browser.splitter.moveSplitter(browser.splitter.width(), 1)
    QApplication.processEvents()
    assert browser.details.isHidden() and not window.details_action.isChecked()
    window.details_action.trigger()
    assert browser.details.isVisible() and browser.splitter.sizes()[1] >= 100
    # the day fields of the filter bar show only with the range on
    bar = browser.filter_bar
    assert bar.date_from.isHidden() and bar.date_to.isHidden()
    bar.date_check.setChecked(True)
    assert bar.date_from.isVisible() and bar.date_to.isVisible()
    bar.date_check.setChecked(False)
    assert bar.date_from.isHidden()


def test_a_lost_database_is_one_notice_and_restart_brings_it_back(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The window's own embedded server is killed while a job runs: the window says so once, in
    the notice bar, with "Restart the server"; pressing it starts the server and resumes the job."""
    import signal
    import tempfile

    from lumina_desktop.db.cluster import EmbeddedCluster

    base = Path(tempfile.mkdtemp(prefix="lumina-win-lost-"))
    os.chmod(base, 0o755)                      # the server account (when we are root) must reach it
    data = base / "data"
    create_application()
    settings = load_settings({"data_dir": str(data), "background_workers": 2, "batch_size": 10},
                             environ={}, config_dir=tmp_path)
    ctx = AppContext(settings)
    startup = StartupBridge()
    win = MainWindow(ctx)
    startup.database_opened.connect(win.on_database_opened)
    startup.database_failed.connect(win.on_database_failed)
    win.resize(1280, 800)
    win.show()
    try:
        with qtbot.waitSignal(startup.database_opened, timeout=60000):
            start_database(ctx, startup)
        qtbot.waitUntil(lambda: win.state is not None, timeout=10000)
        services = ctx.services
        assert services is not None
        job_id = services.jobs.submit("demo", {"items": 400, "sleep_ms": 10})
        qtbot.waitUntil(lambda: (j := win.job_panel.jobs.get(job_id)) is not None and j.progress is not None
                        and j.progress.done >= 30, timeout=30000)
        pid = int((EmbeddedCluster(data).pgdata / "postmaster.pid").read_text().split()[0])
        os.kill(pid, signal.SIGKILL)
        qtbot.waitUntil(lambda: win.notice.isVisible() and win.notice.key == "restart-database", timeout=10000)
        assert "the database server is not running" in win.notice.label.text()
        assert f"Job {job_id} stopped" in win.notice.label.text()
        assert win.notice.button.text() == "Restart the server" and win.db_label.text() == "Catalog database: lost"
        assert win.job_panel.jobs[job_id].state == JobState.INTERRUPTED
        assert win.notice.minimumSizeHint().width() < 600          # a long message wraps, the window stays
        shot(win, "database-lost")
        qtbot.mouseClick(win.notice.button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: win.db_label.text() == "Catalog database: " + services.database_kind, timeout=60000)
        assert "1 job resumed" in win.statusBar().currentMessage()
        qtbot.waitUntil(lambda: services.jobs.get(job_id).state == JobState.SUCCEEDED, timeout=60000)  # type: ignore[union-attr]
        assert win.notice.isHidden()
    finally:
        if not win._closing:
            win.quit_now(cancel_jobs=True)
        qtbot.waitUntil(lambda: win._quit_ready, timeout=20000)
        ctx.shutdown()
        win.deleteLater()
        try:
            os.kill(int((EmbeddedCluster(data).pgdata / "postmaster.pid").read_text().split()[0]), signal.SIGKILL)
        except (OSError, ValueError, IndexError):
            pass
        import shutil
        shutil.rmtree(base, ignore_errors=True)


def test_tags_in_the_details_panel_and_the_search(window: MainWindow, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The details panel's Tags row adds the user's tag to the selection (Enter) and removes one
    (its ×); the filter bar's search finds photos by tag as well as by name."""
    root = library(tmp_path, 3)
    window.library.add_folders([str(root)])  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: window.browser is not None and window.browser.model.rowCount() == 3, timeout=60000)
    browser = window.browser
    assert browser is not None
    panel, model = browser.details, browser.model
    first = model.photo_id_at(0)
    browser.view.select_photo_ids([first])
    qtbot.waitUntil(lambda: panel.details is not None and panel.details.id == first, timeout=10000)
    editor = panel.tags_editor
    assert editor.isVisible()
    editor.edit.setText("Holiday 2024")
    qtbot.keyClick(editor.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: any(t.tag == "holiday 2024" and str(t.source) == "user" for t in editor.tags),
                    timeout=10000)
    assert "holiday 2024" in editor.label.text() and editor.edit.text() == ""
    with qtbot.waitSignal(browser.count_changed, timeout=10000) as found:
        browser.filter_bar.search_edit.setText("holiday")
    assert found.args == [1] and model.photo_id_at(0) == first
    browser.filter_bar.search_edit.setText("")
    qtbot.waitUntil(lambda: model.rowCount() == 3, timeout=10000)
    browser.view.select_photo_ids([first])
    qtbot.waitUntil(lambda: panel.details is not None and panel.details.id == first, timeout=10000)
    from urllib.parse import quote

    editor.label.linkActivated.emit(quote("holiday 2024"))            # its ×
    qtbot.waitUntil(lambda: not any(t.tag == "holiday 2024" for t in editor.tags), timeout=10000)


def test_costly_sidebar_counts_are_read_again_at_most_once_per_ten_times_their_cost(window: MainWindow) -> None:
    import time

    from lumina_desktop.ui.windows.main_window import STATE_MIN_INTERVAL_MS

    lib = window.library
    assert lib is not None
    window._last_state_load = time.monotonic() - 60    # noqa: SLF001 — a quiet spell, then photos arrive
    lib.last_load_s = 0.01                             # a small catalog: read at once
    assert window._state_wait_ms() == 0                # noqa: SLF001
    lib.last_load_s = 0.4                              # a million photos: after 10× the read, by when a short
    assert 3900 <= window._state_wait_ms() <= 4000     # noqa: SLF001 — scan has ended (and read them itself)
    window._last_state_load = time.monotonic() - 1.0   # noqa: SLF001 — and while changes keep coming
    assert 2900 <= window._state_wait_ms() <= 3000     # noqa: SLF001
    lib.last_load_s = 0.01
    assert STATE_MIN_INTERVAL_MS - 1100 <= window._state_wait_ms() <= STATE_MIN_INTERVAL_MS - 1000   # noqa: SLF001
