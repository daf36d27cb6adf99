"""Start-up off the GUI thread: the window is up at once; a database that cannot be reached is one clear message."""
from __future__ import annotations

from pathlib import Path

import pytest

from lumina_desktop.config import load_settings
from lumina_desktop.ui.app import AppContext, StartupBridge, create_application, start_database
from lumina_desktop.ui.windows.main_window import MainWindow

pytestmark = pytest.mark.ui


def test_unreachable_database_shows_one_clear_message(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    create_application()
    settings = load_settings({"database_url": "postgresql://u:secret@127.0.0.1:1/x", "data_dir": str(tmp_path)},
                             environ={}, config_dir=tmp_path)
    ctx = AppContext(settings)
    bridge = StartupBridge()
    win = MainWindow(ctx)
    bridge.database_opened.connect(win.on_database_opened)
    bridge.database_failed.connect(win.on_database_failed)
    win.show()
    assert win.empty.title.text() == "Starting…"  # the window is up before the database answers
    with qtbot.waitSignal(bridge.database_failed, timeout=30000) as blocker:
        start_database(ctx, bridge)
    assert "cannot connect" in blocker.args[0] and "secret" not in blocker.args[0]
    assert win.empty.title.text() == "The catalog database could not be opened"
    assert not win.empty.button.isVisible() and not win.add_folder_action.isEnabled()
    win.quit_now(cancel_jobs=True)
    qtbot.waitUntil(lambda: win._quit_ready, timeout=10000)
    ctx.shutdown()
    win.deleteLater()
