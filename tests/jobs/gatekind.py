"""A test kind whose items wait on a gate per (job, item) that the test opens: exact interleavings
of workers, cancels and resumes (no cancel checks inside an item, like a kind that forgot them)."""
from __future__ import annotations

import collections
import threading
from dataclasses import dataclass
from typing import Any

from lumina_desktop.jobs.engine.kind import JobKind, Lane, Stored

GATES: dict[tuple[int, int], threading.Event] = collections.defaultdict(threading.Event)
STARTED: list[tuple[int, int, str, int]] = []  # job, item, worker id, thread
LOCK = threading.Lock()


def gate(job: int, item: int) -> threading.Event:
    with LOCK:
        return GATES[(job, item)]


def reset() -> None:
    """Forget gates and starts (job ids restart at 1 in each test's fresh database)."""
    with LOCK:
        GATES.clear()
        STARTED.clear()


def open_all(job: int, items: int) -> None:
    for i in range(items):
        gate(job, i).set()


@dataclass(frozen=True)
class GateParams:
    items: int = 4


class GateKind(JobKind[GateParams]):
    name = "gate"
    title = "Gate"
    params_type = GateParams
    lane = Lane.IO
    needs_catalog = False
    batch_size = 2

    def discover(self, ctx: Any) -> Any:
        return range(ctx.params.items)

    def open(self, env: Any, params: GateParams) -> Any:
        def run(ictx: Any, item: int) -> int:
            with LOCK:
                STARTED.append((ictx.job.id, item, env.worker_id, threading.get_ident()))
            gate(ictx.job.id, item).wait(60)
            return item

        return run

    def store(self, tx: Any, job: Any, batch: Any, results: Any) -> Stored:
        for item, _ in results:
            tx.execute("INSERT INTO demo_results (job_id, item, value) VALUES (%s, %s, 'x') "
                       "ON CONFLICT (job_id, item) DO UPDATE SET writes = demo_results.writes + 1", (job.id, item))
        return Stored({"stored": len(results)})
