"""Jobs panel over the real bridge: live progress, Cancel → Cancelling… → Cancelled, Resume, errors, other processes."""
from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterator

import pytest
from PySide6.QtCore import Qt

from lumina_desktop.config import load_settings
from lumina_desktop.core.jobs import JobState
from lumina_desktop.jobs.engine.coordinator import EngineTiming, JobCoordinator
from lumina_desktop.jobs import wiring
from lumina_desktop.jobs.engine.executor import shutdown_executor
from lumina_desktop.jobs.kinds import BUILTIN_KINDS
from lumina_desktop.services.describe import JobWording
from lumina_desktop.services.jobs import JobService
from lumina_desktop.ui.bridge import JobBridge
from lumina_desktop.ui.widgets.job_panel import JobErrorsDialog, JobPanel

pytestmark = [pytest.mark.ui, pytest.mark.db, pytest.mark.slow]


@pytest.fixture
def engine(db, tmp_path: Path, qtbot) -> Iterator[tuple[JobCoordinator, JobBridge, JobPanel]]:  # type: ignore[no-untyped-def]
    settings = load_settings({"data_dir": str(tmp_path), "background_workers": 4, "batch_size": 10},
                             environ={}, config_dir=tmp_path)
    co = wiring.coordinator(db, settings, timing=EngineTiming(heartbeat_s=0.5, cancel_poll_s=0.05, progress_interval_s=0.1))
    io = ThreadPoolExecutor(2, thread_name_prefix="test-io")
    bridge = JobBridge(JobService(db, co), io, refresh_s=0.5)
    panel = JobPanel(bridge, JobWording(BUILTIN_KINDS))
    qtbot.addWidget(panel)
    panel.resize(600, 400)
    panel.show()
    bridge.start()
    yield co, bridge, panel
    bridge.stop()
    co.shutdown(timeout_s=10)
    io.shutdown(wait=True)
    shutdown_executor()


def test_progress_bar_moves_and_completes(engine, qtbot) -> None:  # type: ignore[no-untyped-def]
    co, bridge, panel = engine
    values: list[int] = []
    bridge.jobs_updated.connect(lambda snaps: values.extend(
        panel.rows[s.id].bar.value() for s in snaps if s.id in panel.rows))
    job_id = co.submit("demo", {"items": 300, "sleep_ms": 6})
    qtbot.waitUntil(lambda: job_id in panel.rows and panel.rows[job_id].job.state == JobState.SUCCEEDED, timeout=30000)
    row = panel.rows[job_id]
    assert row.bar.value() == 1000 and row.state_label.text() == "Done"
    assert not row.cancel_button.isVisible() and not row.resume_button.isVisible()
    assert any(0 < v < 1000 for v in values), values
    assert values == sorted(values), "the bar went backwards"
    assert panel.summary() == ""


def test_cancel_button_then_resume(engine, qtbot) -> None:  # type: ignore[no-untyped-def]
    co, bridge, panel = engine
    job_id = co.submit("demo", {"items": 2000, "sleep_ms": 10})
    qtbot.waitUntil(lambda: job_id in panel.rows and panel.rows[job_id].job.state == JobState.RUNNING
                    and panel.rows[job_id].bar.value() > 0, timeout=30000)
    row = panel.rows[job_id]
    assert "Demo" in panel.summary() or "Engine self-test" in panel.summary()
    qtbot.mouseClick(row.cancel_button, Qt.MouseButton.LeftButton)
    assert row.cancel_button.text() == "Cancelling…" and not row.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: row.job.state == JobState.CANCELLED, timeout=10000)
    assert row.state_label.text() == "Cancelled" and row.resume_button.isVisible()
    assert not row.cancel_button.isVisible()
    qtbot.mouseClick(row.resume_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: row.job.state == JobState.SUCCEEDED, timeout=60000)
    assert row.bar.value() == 1000


def test_job_from_another_process_appears_and_errors_open(engine, qtbot, test_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    co, bridge, panel = engine
    proc = subprocess.run([sys.executable, "-m", "lumina_desktop", "--database-url", test_db.conninfo, "jobs", "run",
                           "demo", "--param", "items=120", "--param", "sleep_ms=5", "--param", "fail_items=[1,2,3]"],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "LUMINA_DATA_DIR": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    qtbot.waitUntil(lambda: any(j.state == JobState.SUCCEEDED and j.item_errors == 3 for j in panel.jobs.values()),
                    timeout=10000)
    job_id = next(j for j in panel.jobs.values() if j.item_errors == 3).id
    row = panel.rows[job_id]
    assert row.errors_button.isVisible() and row.errors_button.text() == "3 errors"
    with qtbot.waitSignal(bridge.errors_loaded, timeout=10000):
        qtbot.mouseClick(row.errors_button, Qt.MouseButton.LeftButton)
    dlg = panel.dialogs[-1]
    assert isinstance(dlg, JobErrorsDialog) and dlg.table.rowCount() == 3
    assert dlg.table.item(0, 1).text() == "DemoItemError"
    dlg.close()


def test_interrupted_job_shows_resume(engine, qtbot, db) -> None:  # type: ignore[no-untyped-def]
    from lumina_desktop.db import jobs as jobs_db

    co, bridge, panel = engine
    from lumina_desktop.db.jobs import PgJobStore

    ghost = PgJobStore(db)  # another process, which then dies
    ghost.attach("ghost", "app", 1)
    job_id = ghost.create_job("demo", None, {"items": 20})
    ghost.take_ownership(job_id, "ghost")
    ghost._live["ghost"].close()  # noqa: SLF001
    co.store.recover_dead()
    # the row may be created already interrupted (the death is seen at once): wait until it is shown
    qtbot.waitUntil(lambda: job_id in panel.rows and panel.rows[job_id].job.state == JobState.INTERRUPTED
                    and panel.rows[job_id].resume_button.isVisible(), timeout=10000)
    row = panel.rows[job_id]
    assert "resume" in row.detail.text().lower()
    qtbot.mouseClick(row.resume_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: row.job.state == JobState.SUCCEEDED, timeout=30000)
