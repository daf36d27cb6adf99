"""Benchmark the job engine: no-op items/s by workers × batch size, NOTIFY latency, cancel latency.

    python tests/benchmarks/bench_jobs.py [--items 20000] [--fsync]

Runs on a private embedded cluster in a temp folder.  Prints tables; the last line is JSON.
The engine's per-item overhead is compared with the ~15 ms a photo costs to decode.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

from lumina_desktop.config import load_settings
from lumina_desktop.db import jobs as jobs_db
from lumina_desktop.db.listen import JobListener
from lumina_desktop.db.pool import open_database
from lumina_desktop.jobs.engine.coordinator import EngineTiming, JobCoordinator
from lumina_desktop.jobs import wiring
from lumina_desktop.jobs.engine.executor import shutdown_executor
from lumina_desktop.db.jobs import PgJobStore
from lumina_desktop.jobs.engine.progress import publish_job_progress

DECODE_MS = 15.0


def throughput(db, base_settings, workers: int, batch: int, items: int) -> float:  # type: ignore[no-untyped-def]
    settings = dataclasses.replace(base_settings, background_workers=workers, batch_size=batch)
    co = wiring.coordinator(db, settings)
    try:
        t0 = time.perf_counter()
        job_id = co.submit("demo", {"items": items})
        job = co.wait(job_id, 600)
        dt = time.perf_counter() - t0
        assert job.state.value == "succeeded", job.error
    finally:
        co.shutdown()
        shutdown_executor()
    return items / dt


def notify_latency(db, samples: int = 200) -> dict[str, float]:  # type: ignore[no-untyped-def]
    with db.connection() as c:
        job_id = jobs_db.create_job(c, "demo", None, {"items": 0})
    listener = JobListener(db.conninfo)
    lat: list[float] = []
    try:
        for i in range(samples):
            got = threading.Event()
            t0 = time.perf_counter()
            publish_job_progress(PgJobStore(db), job_id, phase="process", done=i, total=samples, fraction=i / samples)
            ids = listener.wait(2.0)
            if job_id in ids or job_id in listener.take_progress():
                lat.append((time.perf_counter() - t0) * 1000)
            got.set()
    finally:
        listener.close()
    lat.sort()
    return {"median_ms": statistics.median(lat), "p99_ms": lat[int(len(lat) * 0.99) - 1], "n": len(lat)}


def cancel_latency(db, base_settings, runs: int = 5) -> dict[str, float]:  # type: ignore[no-untyped-def]
    settings = dataclasses.replace(base_settings, background_workers=8, batch_size=50)
    co = wiring.coordinator(db, settings, timing=EngineTiming(cancel_poll_s=0.1))
    out = []
    try:
        for _ in range(runs):
            job_id = co.submit("demo", {"items": 20000, "sleep_ms": 15})
            while co.batches.counters.busy < 8:
                time.sleep(0.005)
            time.sleep(0.3)
            t0 = time.perf_counter()
            co.cancel(job_id)
            while co.batches.counters.busy > 0:
                time.sleep(0.001)
            out.append((time.perf_counter() - t0) * 1000)
            co.wait(job_id, 30)
    finally:
        co.shutdown()
        shutdown_executor()
    return {"median_ms": statistics.median(out), "max_ms": max(out), "runs": runs}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=20000)
    ap.add_argument("--fsync", action="store_true", help="run the cluster with fsync on (as the app does)")
    args = ap.parse_args()
    base = Path(tempfile.mkdtemp(prefix="lumina-bench-jobs-"))
    os.chmod(base, 0o755)
    settings = load_settings({"data_dir": str(base / "data")}, environ={}, config_dir=base)
    db = open_database(settings, fsync=args.fsync, pool_size=24)
    table: dict[str, float] = {}
    try:
        print(f"no-op demo items/s ({args.items} items; each item upserts one row at batch commit)")
        print(f"{'workers':>8}{'batch 10':>12}{'batch 100':>12}{'batch 1000':>12}")
        for workers in (1, 2, 8):
            row = []
            for batch in (10, 100, 1000):
                n = min(args.items, 5000) if batch == 10 else args.items
                rate = throughput(db, settings, workers, batch, n)
                table[f"w{workers}_b{batch}"] = rate
                row.append(rate)
            print(f"{workers:>8}" + "".join(f"{r:>12,.0f}" for r in row))
        best = max(table.values())
        per_item_us = {k: 1e6 / v for k, v in table.items()}
        print(f"\nengine overhead per item: {min(per_item_us.values()):.0f}–{max(per_item_us.values()):.0f} µs "
              f"= {min(per_item_us.values()) / (DECODE_MS * 1000) * 100:.2f}–{max(per_item_us.values()) / (DECODE_MS * 1000) * 100:.1f} % "
              f"of a {DECODE_MS:.0f} ms photo decode")
        nl = notify_latency(db)
        print(f"NOTIFY latency publish → listener: median {nl['median_ms']:.2f} ms, p99 {nl['p99_ms']:.2f} ms")
        cl = cancel_latency(db, settings)
        print(f"cancel latency, 8 workers busy (15 ms items): median {cl['median_ms']:.0f} ms, max {cl['max_ms']:.0f} ms")
    finally:
        db.close()
        shutil.rmtree(base, ignore_errors=True)
    print(json.dumps({"items_per_s": table, "best_items_per_s": best, "overhead_us_per_item": per_item_us,
                      "notify_latency_ms": nl, "cancel_latency_ms": cl, "fsync": args.fsync}))


if __name__ == "__main__":
    main()
