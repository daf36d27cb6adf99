"""Profile a whole default scan, threads included, and split the samples by stage.

    py-spy record --threads --idle --native -r 200 -f raw -o /tmp/scan.raw -- \\
        python tests/benchmarks/profile_scan.py run [--corpus DIR] [--workers 2]
    python tests/benchmarks/profile_scan.py split /tmp/scan.raw

``run`` scans ``--corpus`` (default: the bench_ingest corpus) into a fresh catalog on a private
embedded cluster and prints images/s.  ``split`` counts each sample under the leafmost frame that
matches a stage (decode, read, hashes, perceptual data, resize, encode, metadata, database,
thumbnail store, engine, idle), per thread; a thread parked in ``pthread_cond_*`` under a running
frame that is no wait of the engine's is counted as waiting for the GIL.
"""
from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

# the engine's own waits: an idle worker, a claim loop or a pool between batches
ENGINE_WAITS = [r"\bwait \(threading", r"_worker \(concurrent/futures/thread.py:8[01]\)", r"Condition.wait",
                r"Event.wait", r"SimpleQueue.get|_queue", r"sleep", r"_wait_for_tstate_lock", r"select|poll"]
STAGES = [
    ("idle (waiting)", [r"\bwait \(threading", r"_worker \(concurrent/futures/thread.py:8[01]\)", r"pthread_cond",
                        r"Condition.wait", r"Event.wait", r"SimpleQueue.get|_queue", r"sleep"]),
    ("database", [r"psycopg", r"libpq", r"_commit \(lumina", r"commit_batch", r"ScanKind.store"]),
    ("encode JPEG", [r"encode_jpeg", r"ImageFile._save|JpegImagePlugin._save"]),
    ("perceptual data", [r"perceptual\.py", r"imagehash"]),
    ("resize/colour/orient", [r"render_sizes", r"reduce_to", r"colour\.py", r"Image.resize|Image.reduce|ImageCms",
                              r"orient"]),
    ("decode JPEG", [r"load_reduced", r"ImageFile.load|Image.draft|decode \(", r"jpeg_|libjpeg|decompress"]),
    ("hashes", [r"hashing\.py", r"blake|sha256|xxh"]),
    ("metadata (EXIF/XMP)", [r"exif\.py", r"xmp\.py", r"dates\.py", r"getexif|_getexif|TiffImagePlugin"]),
    ("read file", [r"open_regular", r"read \(|readinto|FileIO|os.read|__libc_read|\bread\b"]),
    ("thumbnail store write", [r"storage/thumbnails", r"atomic_write"]),
    ("discovery", [r"_walk \(|scandir|discover"]),
    ("engine", [r"lumina_desktop/jobs/engine"]),
]


def run(corpus: Path, workers: int) -> None:
    from lumina_desktop.config import load_settings
    from lumina_desktop.db import catalogs
    from lumina_desktop.db.pool import open_database
    from lumina_desktop.jobs import wiring
    from lumina_desktop.jobs.engine.executor import shutdown_executor

    base = Path(tempfile.mkdtemp(prefix="lumina-prof-"))
    os.chmod(base, 0o755)
    settings = load_settings({"data_dir": str(base / "data"), "background_workers": workers},
                             environ={}, config_dir=base)
    db = open_database(settings, pool_size=workers + 10)
    try:
        with db.connection() as conn:
            cat = catalogs.create_catalog(conn, "Profile")
            folder = catalogs.add_folder(conn, cat.id, str(corpus))
        co = wiring.coordinator(db, settings)
        t0 = time.perf_counter()
        job = co.wait(co.submit("scan", {"folder_ids": [folder.id]}, catalog_id=cat.id), 3600)
        dt = time.perf_counter() - t0
        co.shutdown()
        shutdown_executor()
        n = (job.result or {}).get("files", 0)
        print(f"scan of {n} files in {dt:.1f} s = {n / dt:.1f} img/s ({job.state.value})")
    finally:
        db.close()
        shutil.rmtree(base, ignore_errors=True)


def split(raw: Path, threads: int = 4) -> None:
    per_thread: collections.Counter[str] = collections.Counter()
    stage: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        frames = stack.split(";")
        thread = re.sub(r"_\d+$", "", re.sub(r"thread \(\d+\):? ?", "", frames[0]) or "main (native)")
        per_thread[thread] += int(n)
        found = "other"
        # a thread parked in pthread_cond_* under a running Python frame that is not one of the
        # waits above is waiting to take the GIL back (after a call that released it)
        if any("pthread_cond" in f for f in frames[-2:]) and not any(re.search(p, f) for f in frames for p in ENGINE_WAITS):
            stage[thread]["GIL (waiting to run)"] += int(n)
            continue
        for f in reversed(frames[1:]):
            found = next((name for name, pats in STAGES if any(re.search(p, f) for p in pats)), "other")
            if found != "other":
                break
        stage[thread][found] += int(n)
    for thread, total in per_thread.most_common(threads):
        print(f"\n{thread}: {total} samples")
        for name, n in stage[thread].most_common():
            print(f"  {name:<26}{n:>7}  {100 * n / total:5.1f} %")


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="what", required=True)
    r = sub.add_parser("run")
    r.add_argument("--corpus", default="/tmp/lumina-bench-corpus-camera")
    r.add_argument("--workers", type=int, default=2)
    s = sub.add_parser("split")
    s.add_argument("raw")
    args = ap.parse_args()
    if args.what == "run":
        run(Path(args.corpus), args.workers)
    else:
        split(Path(args.raw))


if __name__ == "__main__":
    main()
