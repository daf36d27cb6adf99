"""Benchmark: cold start to first window shown (offscreen) and embedded cluster init/start/stop.

    python tests/benchmarks/bench_startup.py [--runs 5]

Prints a table; the last line is JSON.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import os, sys, time
t_start = float(sys.argv[1])
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from PySide6.QtCore import QTimer
from lumina_desktop.config import load_settings
from lumina_desktop.ui.app import AppContext, StartupBridge, create_application, start_database
from lumina_desktop.ui.windows.main_window import MainWindow
app = create_application()
ctx = AppContext(load_settings({"data_dir": sys.argv[2]}))
bridge = StartupBridge()
win = MainWindow(ctx)
marks = {}
def shown():
    marks["window_shown_s"] = time.time() - t_start
def opened(db):
    win.on_database_opened(db)
    marks["catalog_ready_s"] = time.time() - t_start
    QTimer.singleShot(0, app.quit)
bridge.database_opened.connect(opened)
bridge.database_failed.connect(lambda m: (print("FAILED", m), app.quit()))
win.show()
QTimer.singleShot(0, shown)
start_database(ctx, bridge)
app.exec()
ctx.shutdown()
print("MARKS", marks)
"""


def cold_start(data_dir: Path) -> dict[str, float]:
    t0 = time.time()
    res = subprocess.run([sys.executable, "-c", CHILD, str(t0), str(data_dir)],
                         capture_output=True, text=True, timeout=120)
    line = next((ln for ln in res.stdout.splitlines() if ln.startswith("MARKS")), None)
    if line is None:
        raise SystemExit(f"child failed: {res.stdout}\n{res.stderr}")
    marks: dict[str, float] = eval(line[6:])  # our own dict literal
    marks["process_s"] = time.time() - t0
    return marks


def cluster_times(base: Path) -> dict[str, float]:
    from lumina_desktop.db.cluster import EmbeddedCluster

    c = EmbeddedCluster(base / "cl", fsync=True)
    t = time.perf_counter(); c.init(); init = time.perf_counter() - t
    t = time.perf_counter(); c.start(); start = time.perf_counter() - t
    t = time.perf_counter(); c.stop(); stop = time.perf_counter() - t
    t = time.perf_counter(); c.start(); restart = time.perf_counter() - t
    c.stop()
    shutil.rmtree(c.home, ignore_errors=True)
    return {"init_s": init, "start_s": start, "stop_s": stop, "restart_s": restart}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    base = Path(tempfile.mkdtemp(prefix="lumina-bench-"))
    os.chmod(base, 0o755)
    try:
        cl = [cluster_times(base / f"c{i}") for i in range(args.runs)]
        first = cold_start(base / "app")  # includes initdb of the app's cluster
        warm = [cold_start(base / "app") for _ in range(args.runs)]
    finally:
        from lumina_desktop.db.cluster import EmbeddedCluster

        EmbeddedCluster(base / "app").stop()
        shutil.rmtree(EmbeddedCluster(base / "app").home, ignore_errors=True)
        shutil.rmtree(base, ignore_errors=True)
    med = lambda rows, k: statistics.median(r[k] for r in rows)  # noqa: E731
    result = {
        "cluster_init_s": med(cl, "init_s"), "cluster_start_s": med(cl, "start_s"),
        "cluster_stop_s": med(cl, "stop_s"), "cluster_restart_s": med(cl, "restart_s"),
        "first_run_window_shown_s": first["window_shown_s"], "first_run_catalog_ready_s": first["catalog_ready_s"],
        "window_shown_s": med(warm, "window_shown_s"), "catalog_ready_s": med(warm, "catalog_ready_s"),
        "runs": args.runs,
    }
    print(f"{'measure':<28}{'seconds (median)':>18}")
    for k, v in result.items():
        if k != "runs":
            print(f"{k:<28}{v:>18.3f}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
