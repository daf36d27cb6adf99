"""Fixtures for the services: the app's service graph on a fresh database (``services_on``)."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from lumina_desktop.config import load_settings
from lumina_desktop.jobs.engine.coordinator import EngineTiming
from lumina_desktop.services.app import AppServices, services_on

FAST = EngineTiming(heartbeat_s=0.5, cancel_poll_s=0.05, progress_interval_s=0.1)


@pytest.fixture
def settings(tmp_path: Path):  # type: ignore[no-untyped-def]
    return load_settings({"data_dir": str(tmp_path / "data"), "background_workers": 4, "batch_size": 10},
                         environ={}, config_dir=tmp_path)


@pytest.fixture
def app(db, settings) -> Iterator[AppServices]:  # type: ignore[no-untyped-def]
    """The services on the test database (which the ``db`` fixture closes); an engine started by
    the test is stopped at the end."""
    services = services_on(settings, db)
    try:
        yield services
    finally:
        services.stop_engine(cancel=True, timeout_s=10)
