"""The ``demo`` job kind: the engine's self-test and benchmark load (worker / coordinator threads).

Items are integers; each sleeps ``sleep_ms`` and/or hashes ``work`` rounds, then its value
(item², or a digest) is upserted into ``demo_results`` when the batch commits.  Parameters let
tests make an item always fail (``fail_items``), a batch fail transiently on its first attempt
(``transient_fail_seqs``, which the engine must retry), or an item be long and cancellable
(``check_ms``: the sleep is cut into steps that check the item context and report progress).
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

import psycopg

from lumina_desktop.core.jobs import JobSnapshot
from lumina_desktop.db.demo import DemoRepository
from lumina_desktop.jobs.engine.context import BatchInfo, ItemContext, JobContext, JobEnv
from lumina_desktop.jobs.engine.kind import ItemRunner, JobKind, Lane, Phase, Stored


class DemoItemError(Exception):
    """The failure a demo item was told to have."""


@dataclass(frozen=True)
class DemoParams:
    items: int = 100
    sleep_ms: float = 0.0
    work: int = 0
    check_ms: float = 0.0
    fail_items: tuple[int, ...] = ()
    transient_fail_seqs: tuple[int, ...] = ()


class DemoKind(JobKind[DemoParams]):
    name = "demo"
    title = "Engine self-test"
    phases = (Phase("discover", 0.02, "Preparing"), Phase("process", 0.96, "Working"),
              Phase("finalize", 0.02, "Finishing"))
    params_type = DemoParams
    lane = Lane.IO
    needs_catalog = False

    def __init__(self, repo: Any = None) -> None:
        self.repo = repo if repo is not None else DemoRepository()

    def summarize(self, result: Mapping[str, Any]) -> str:
        return f"{result.get('stored', 0):,} of {result.get('items', 0):,} items stored"

    def discover(self, ctx: JobContext) -> Iterable[Any]:
        return range(ctx.params.items)

    def open(self, env: JobEnv, params: DemoParams) -> ItemRunner:
        failing = set(params.fail_items)

        def run(ictx: ItemContext, item: Any) -> Any:
            if item in failing:
                raise DemoItemError(f"item {item} always fails")
            if params.sleep_ms and params.check_ms:
                steps = max(1, round(params.sleep_ms / params.check_ms))
                for i in range(steps):
                    time.sleep(params.sleep_ms / steps / 1000)
                    ictx.progress((i + 1) / steps)
            elif params.sleep_ms:
                time.sleep(params.sleep_ms / 1000)
            if params.work:
                h = str(item).encode()
                for _ in range(params.work):
                    h = hashlib.sha256(h).digest()
                return h.hex()[:16]
            return str(item * item)

        return run

    def store(self, tx: Any, job: JobSnapshot, batch: BatchInfo, results: list[tuple[Any, Any]]) -> Stored:
        if batch.seq in job.params.get("transient_fail_seqs", ()) and batch.attempt == 1:
            raise psycopg.OperationalError("simulated lost connection")
        self.repo.store_values(tx, job.id, [(item, value) for item, value in results])
        return Stored()

    def finalize(self, ctx: JobContext) -> dict[str, Any]:
        with ctx.env.read() as tx:
            return {"stored": self.repo.count(tx, ctx.job.id)}
