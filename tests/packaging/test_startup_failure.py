"""A window whose database cannot start says why, in the window and in the log (issue 18)."""
from __future__ import annotations

import logging
from pathlib import Path

import pytest

pytestmark = pytest.mark.ui


def test_a_database_that_fails_to_open_reaches_the_window_and_the_log(
        qtbot, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    from lumina_desktop.config import load_settings
    from lumina_desktop.ui.app import AppContext, StartupBridge, start_database

    # an external server that does not exist: fails at once, no cluster needed
    url = f"postgresql://lumina@/lumina?host={tmp_path / 'no-server-here'}&connect_timeout=2"
    ctx = AppContext(load_settings({"data_dir": str(tmp_path / "data"), "database_url": url}))
    bridge = StartupBridge()
    opened: list[object] = []
    bridge.database_opened.connect(opened.append)
    try:
        with caplog.at_level(logging.INFO, logger="lumina_desktop.ui.app"):
            with qtbot.waitSignal(bridge.database_failed, timeout=30_000) as blocker:
                start_database(ctx, bridge)
    finally:
        ctx.shutdown()
    (message,) = blocker.args
    assert not opened
    assert "no-server-here" in message or "connect" in message.lower(), message
    records = [r for r in caplog.records if r.name == "lumina_desktop.ui.app"]
    assert any("opening the catalog database" in r.getMessage() for r in records)
    errors = [r for r in records if r.levelno >= logging.ERROR]
    assert errors, "the failure must be in the log, not only on screen"
    assert message.splitlines()[0][:40] in errors[-1].getMessage() or errors[-1].exc_info
