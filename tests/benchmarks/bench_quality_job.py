"""Benchmark the quality job end to end: photos/s at 1 and 2 workers on camera-size JPEGs.

    python tests/benchmarks/bench_quality_job.py [--corpus DIR]

Uses bench_ingest's corpus (600 camera-size JPEGs, 2–12 MP; built by bench_ingest.py if absent).
A default scan (grid thumbnails only) on a private embedded cluster, then per worker count:
the quality job from the originals (each decoded at the DCT scale of the preview band, its
preview kept in the store) on a fresh thumbnail store, and again from the stored previews
(``everything``: scored again).  The last line is JSON.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> None:
    from bench_ingest import build_corpus
    from lumina_desktop.config import load_settings
    from lumina_desktop.db import catalogs
    from lumina_desktop.db.pool import open_database
    from lumina_desktop.jobs import wiring
    from lumina_desktop.jobs.engine.executor import shutdown_executor

    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default="/tmp/lumina-bench-corpus-camera")
    ap.add_argument("--count", type=int, default=600)
    args = ap.parse_args()
    files = build_corpus(Path(args.corpus), args.count)
    base = Path(tempfile.mkdtemp(prefix="lumina-bench-quality-"))
    os.chmod(base, 0o755)
    settings = load_settings({"data_dir": str(base / "data")}, environ={}, config_dir=base)
    db = open_database(settings, pool_size=12)
    res: dict = {"files": len(files)}
    try:
        with db.connection() as conn:
            cat = catalogs.create_catalog(conn, "Q")
            folder = catalogs.add_folder(conn, cat.id, args.corpus)
        for workers in (1, 2):
            s = dataclasses.replace(settings, background_workers=workers)
            co = wiring.coordinator(db, s)
            try:
                if workers == 1:
                    job = co.wait(co.submit("scan", {"folder_ids": [folder.id]}, catalog_id=cat.id), 3600)
                    assert job.state.value == "succeeded", job.error
                for h in ("cold", "warm"):
                    if h == "cold":   # no previews: decode the originals (and keep the previews made)
                        for p in s.thumbnails_dir.rglob("*_1280.jpg"):
                            p.unlink()
                    t0 = time.perf_counter()
                    job = co.wait(co.submit("quality", {"everything": True}, catalog_id=cat.id), 3600)
                    dt = time.perf_counter() - t0
                    assert job.state.value == "succeeded", job.error
                    n = (job.result or {}).get("scored", 0)
                    res[f"{h}_w{workers}_photos_s"] = n / dt
                    print(f"{workers} worker(s), {h}: {n} photos in {dt:.1f} s = {n / dt:.1f} photos/s", file=sys.stderr)
            finally:
                co.shutdown()
                shutdown_executor()
    finally:
        db.close()
        shutil.rmtree(base, ignore_errors=True)
    for k, v in res.items():
        print(f"{k:<24}{v:>10.1f}" if isinstance(v, float) else f"{k:<24}{v!s:>10}")
    print(json.dumps(res))


if __name__ == "__main__":
    main()
