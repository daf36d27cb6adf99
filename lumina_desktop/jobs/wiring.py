"""The job engine on PostgreSQL with the app's kinds: what the window, the CLI and benchmarks build (any thread)."""
from __future__ import annotations

from typing import Any

from lumina_desktop.config import Settings
from lumina_desktop.db.jobs import PgJobStore
from lumina_desktop.jobs.engine.coordinator import JobCoordinator
from lumina_desktop.jobs.engine.registry import KindRegistry
from lumina_desktop.jobs.engine.worker import WorkerProcess
from lumina_desktop.jobs.kinds import BUILTIN_KINDS


def coordinator(db: Any, settings: Settings, *, registry: KindRegistry | None = None, **kw: Any) -> JobCoordinator:
    """A coordinator on this database (``db.pool.Database``) running the built-in kinds."""
    return JobCoordinator(PgJobStore(db), settings, registry or BUILTIN_KINDS, **kw)


def worker(db: Any, settings: Settings, *, registry: KindRegistry | None = None, **kw: Any) -> WorkerProcess:
    return WorkerProcess(PgJobStore(db), settings, registry or BUILTIN_KINDS, **kw)
