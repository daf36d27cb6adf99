"""The window opens at once, the database opens off the GUI thread, then the empty catalog shows."""
from __future__ import annotations

from pathlib import Path

import pytest

from lumina_desktop.config import load_settings
from lumina_desktop.ui.app import AppContext, StartupBridge, create_application, start_database
from lumina_desktop.ui.windows.main_window import MainWindow

pytestmark = pytest.mark.ui


def _window(qtbot, settings):  # type: ignore[no-untyped-def]
    create_application()
    ctx = AppContext(settings)
    bridge = StartupBridge()
    win = MainWindow(ctx)
    qtbot.addWidget(win)
    bridge.database_opened.connect(win.on_database_opened)
    bridge.database_failed.connect(win.on_database_failed)
    win.show()
    return ctx, bridge, win


@pytest.mark.db
def test_window_opens_on_empty_catalog(qtbot, test_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings = load_settings({"database_url": test_db.conninfo, "data_dir": str(tmp_path)}, environ={}, config_dir=tmp_path)
    ctx, bridge, win = _window(qtbot, settings)
    assert win.empty.title.text() == "Starting…"
    with qtbot.waitSignal(bridge.database_opened, timeout=30000):
        start_database(ctx, bridge)
    assert win.empty.title.text() == "Your catalog is empty"
    assert win.empty.button.isVisible() and win.add_folder_action.isEnabled()
    pix = win.grab()
    assert pix.width() > 600 and not pix.isNull()
    ctx.shutdown()


def test_unreachable_database_shows_one_clear_message(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings = load_settings({"database_url": "postgresql://u:secret@127.0.0.1:1/x", "data_dir": str(tmp_path)},
                             environ={}, config_dir=tmp_path)
    ctx, bridge, win = _window(qtbot, settings)
    with qtbot.waitSignal(bridge.database_failed, timeout=30000) as blocker:
        start_database(ctx, bridge)
    assert "cannot connect" in blocker.args[0] and "secret" not in blocker.args[0]
    assert win.empty.title.text() == "The catalog database could not be opened"
    assert not win.empty.button.isVisible()
    ctx.shutdown()
