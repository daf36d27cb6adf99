"""What the CLI asks of JobService and LibraryService without a job engine of its own."""
from __future__ import annotations

from pathlib import Path

import pytest

from lumina_desktop.core.changes import Aspect
from lumina_desktop.core.errors import LuminaError, NotFoundError
from lumina_desktop.core.jobs import JobState
from lumina_desktop.db import jobs as jobs_db

pytestmark = pytest.mark.db


def test_cancel_requeue_and_prune_from_a_process_without_an_engine(app, db) -> None:  # type: ignore[no-untyped-def]
    with db.connection() as c:
        queued = jobs_db.create_job(c, "demo", None, {"items": 3})
        running = jobs_db.create_job(c, "demo", None, {"items": 3})
        assert jobs_db.take_ownership(c, running, "elsewhere")
    assert app.jobs.control is None
    assert app.jobs.request_cancel(queued) == JobState.CANCELLED  # nobody runs it: cancelled at once
    # "elsewhere" holds no liveness lock: a dead owner's job is cancelled at once (never left cancelling)
    assert app.jobs.request_cancel(running) == JobState.CANCELLED
    with pytest.raises(NotFoundError, match="no job with id 999999"):
        app.jobs.request_cancel(999999)
    assert app.jobs.requeue(queued) is True
    job = app.jobs.get(queued)
    assert job is not None and job.state == JobState.PENDING and job.owner is None
    assert app.jobs.requeue(queued) is False  # pending already
    # requeue first sees to jobs of dead processes: "elsewhere" holds no liveness lock
    assert app.jobs.get(running).state == JobState.CANCELLED  # type: ignore[union-attr]
    assert app.jobs.batch_summary(queued) == {}
    assert app.jobs.prune_finished(1) == 0  # finished just now
    with db.connection() as c:
        c.execute("UPDATE jobs SET finished_at = now() - interval '2 days' WHERE id = %s", (running,))
    # (the CLI's --older-than-days is a float)
    assert app.jobs.prune_finished(1.0) == 1 and app.jobs.get(running) is None and app.jobs.get(queued) is not None
    assert app.jobs.prune_finished(0.25) == 0          # fractions of a day work too
    # change-feed rows as old go with them (none of their jobs is active)
    from lumina_desktop.core.changes import Aspect

    cat = app.library.create_catalog("Pruned")
    app.jobs.record_change(cat.id, frozenset({Aspect.ANALYSED}), [1, 2])
    app.jobs.record_change(cat.id, frozenset({Aspect.ADDED}), [3])
    rows = app.jobs.changes_since(0)
    with db.connection() as c:
        c.execute("UPDATE catalog_changes SET created_at = now() - interval '3 days' WHERE id = %s", (rows[-2].seq,))
    app.jobs.prune_finished(1)
    assert [r.seq for r in app.jobs.changes_since(0) if r.catalog_id == cat.id] == [rows[-1].seq]
    assert app.jobs.processes() == [] and app.jobs.throughput() == []


@pytest.mark.slow
def test_engine_jobs_show_in_processes_batches_and_throughput(app) -> None:  # type: ignore[no-untyped-def]
    from tests.services.conftest import FAST

    co = app.start_engine(role="cli", timing=FAST)
    assert [p["role"] for p in app.jobs.processes()] == ["cli"]
    job_id = app.jobs.submit("demo", {"items": 30})
    assert co.wait(job_id, 30).state == JobState.SUCCEEDED
    assert app.jobs.batch_summary(job_id) == {"succeeded": (3, 30)}  # batch_size 10
    assert [(t["kind"], t["jobs"], t["items"]) for t in app.jobs.throughput()] == [("demo", 1, 30)]
    assert app.stop_engine(cancel=True) and app.jobs.processes() == []


def test_add_folders_to_is_all_or_nothing(app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with pytest.raises(LuminaError, match="does not exist"):
        app.library.add_folders_to("Trips", [str(tmp_path / "a"), str(tmp_path / "missing")])
    assert [c.name for c in app.library.catalogs()] == []  # no catalog, no folder left behind
    seq = app.jobs.latest_change()
    cat, folders = app.library.add_folders_to("Trips", [str(tmp_path / "a"), str(tmp_path / "b")])
    assert cat.name == "Trips" and cat.folder_count == 2
    assert [f.path for f in folders] == [str(tmp_path / "a"), str(tmp_path / "b")]
    assert [c.aspects for c in app.jobs.changes_since(seq)] == [frozenset({Aspect.FOLDERS})]
    again, _ = app.library.add_folders_to("trips", [str(tmp_path / "a")])  # names match without case
    assert again.id == cat.id and again.folder_count == 2
