"""Benchmark: move N photos to the trash and back, through the journal and the trash job.

    python tests/benchmarks/bench_trash.py [--files 1000] [--rounds 3]

N distinct small JPEGs, each with a byte copy; a scan and a duplicates run; then, per round,
``TrashService.duplicates_plan`` (the N copies) → journal → the ``trash`` job, then the undo job;
the folder must come back byte-identical every round.  Reports the time of each step and files/s.
Runs on a private embedded cluster, with its own freedesktop trash ($XDG_DATA_HOME).  The last
line is JSON.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    base = Path(tempfile.mkdtemp(prefix="lumina-bench-trash-"))
    os.chmod(base, 0o755)
    os.environ["XDG_DATA_HOME"] = str(base / "xdg")
    from lumina_desktop.config import load_settings
    from lumina_desktop.db import catalogs
    from lumina_desktop.db.pool import open_database
    from lumina_desktop.jobs import wiring
    from lumina_desktop.jobs.engine.executor import shutdown_executor
    from lumina_desktop.services.trash import TRASH_KIND, TrashService

    lib = base / "lib"
    for i in range(args.files):
        p = lib / "photos" / f"img{i:05d}.jpg"
        p.parent.mkdir(parents=True, exist_ok=True)
        Image.frombytes("RGB", (96, 72), os.urandom(96 * 72 * 3)).save(p, quality=90)   # all different
        (lib / "backup").mkdir(exist_ok=True)
        shutil.copy2(p, lib / "backup" / p.name)
    before = digest(lib)
    settings = load_settings({"data_dir": str(base / "data"), "background_workers": 2}, environ={}, config_dir=base)
    db = open_database(settings, pool_size=8)
    co = wiring.coordinator(db, settings)
    rows = []
    try:
        with db.connection() as conn:
            cat = catalogs.create_catalog(conn, "Bench")
            folder = catalogs.add_folder(conn, cat.id, str(lib))
        for kind, params in (("scan", {"folder_ids": [folder.id]}), ("duplicates", {})):
            job = co.wait(co.submit(kind, params, catalog_id=cat.id), 600)
            assert job.state.value == "succeeded", job.error
        service = TrashService(db)
        for r in range(args.rounds):
            t0 = time.perf_counter()
            plan = service.duplicates_plan(cat.id, "identical")
            op = service.journal(cat.id, plan, "bench")
            t1 = time.perf_counter()
            job = co.wait(co.submit(TRASH_KIND, service.job_params(op), catalog_id=cat.id), 600)
            t2 = time.perf_counter()
            assert job.result and job.result["trashed"] == args.files, job.result
            undo = co.wait(co.submit(TRASH_KIND, service.job_params(op, undo=True), catalog_id=cat.id), 600)
            t3 = time.perf_counter()
            assert undo.result and undo.result["restored"] == args.files, undo.result
            same = digest(lib) == before
            assert same, "the folder is not byte-identical after undo"
            rows.append({"round": r + 1, "plan_journal_s": t1 - t0, "trash_s": t2 - t1, "undo_s": t3 - t2,
                         "round_trip_s": t3 - t0, "byte_identical": same})
            print(f"round {r + 1}: plan+journal {t1 - t0:.2f} s, trash {t2 - t1:.2f} s, undo {t3 - t2:.2f} s",
                  file=sys.stderr)
    finally:
        co.shutdown()
        shutdown_executor()
        db.close()
        shutil.rmtree(base, ignore_errors=True)
    best = min(rows, key=lambda x: x["round_trip_s"])
    res = {"files": args.files, "rounds": args.rounds, "all_byte_identical": all(x["byte_identical"] for x in rows),
           "best_round_trip_s": best["round_trip_s"], "trash_files_s": args.files / best["trash_s"],
           "undo_files_s": args.files / best["undo_s"], "rounds_detail": rows}
    print(f"{args.files} files, {args.rounds} rounds, byte-identical every round: {res['all_byte_identical']}")
    print(f"best round trip {best['round_trip_s']:.2f} s (plan+journal {best['plan_journal_s']:.2f}, trash "
          f"{best['trash_s']:.2f} = {res['trash_files_s']:.0f} files/s, undo {best['undo_s']:.2f} = "
          f"{res['undo_files_s']:.0f} files/s)")
    print(json.dumps(res))


if __name__ == "__main__":
    main()
