"""Benchmark the scan and duplicates jobs on a large catalog: rescan of unchanged files, and an
incremental ``duplicates find`` after 1,000 new photos (issue 17, items 4b and 5).

    python tests/benchmarks/bench_scale_jobs.py [--photos 1000000] [--workers 2] [--previous synthetic|full] [--only rescan|duplicates|all]
    py-spy record --threads --idle -r 100 -f raw -o /tmp/x.raw -- python tests/benchmarks/bench_scale_jobs.py ...

Runs on a private embedded cluster in a temp folder (fsync off), through the real job engine
(``jobs.wiring.coordinator``) and the app's kinds, as ``bench_ui.measure_scan`` does.

The state, built cheaply:

* **files**: ``--photos`` real files in folders of 1,000 (``f0000/IMG_0000.jpg`` …), each its own
  file (its own inode, as in a user's library: hard links would let 1M stats hit a few hundred
  inodes); their bytes are one of 256 tiny distinct JPEGs (a rescan never reads them, so their
  size does not matter; the catalog rows record the real size and mtime of each file);
* **catalog rows** as a first scan leaves them, inserted with COPY instead of analysing 1M files:
  ``photos`` (status ok, path, size and mtime_ns from ``os.stat`` of each file, an old
  ``analysed_at``) and ``photo_fingerprints`` (current ``FINGERPRINT_VERSION``, a 64×64 grey of
  4,096 bytes per photo as the analysis stores, random 256-bit pHashes of which 2 % are near
  copies of another photo's, as ``bench_duplicates_scale.py`` makes; a near copy shares its
  source's grey, so verification finds it the same picture).  The pHashes and content hashes of
  the rows are synthetic, not those of the tiny files: a rescan never reads them, and real ones
  (256 distinct pictures × 4,000 copies) would make the duplicate graph degenerate;
* 100 of those rows get the real fingerprints of 100 generated pictures, whose re-encoded copies
  are among the 1,000 new files, so the incremental run has real candidates to verify.

Measured (wall clock, through ``co.submit`` / ``co.wait``):

1. ``rescan``: a scan of every folder of the catalog where nothing changed (it must stat the
   files and compare them with the catalog, reading none);
2. the previous ``duplicates`` run an incremental one builds on: ``--previous full`` runs the
   kind in full (timed as ``dup_full``; about 5 minutes at 1M on 2 cores, mostly verification of
   the 20,000 planted near copies); ``--previous synthetic`` (the default) records it as done
   with COPY: a current ``duplicate_runs`` row (job id -1, high water = the newest
   ``analysed_at``) and one verified group per planted source with its near copies, as a full
   run stores them;
3. ``scan_new``: a scan of a new folder of 1,000 real JPEGs (900 new pictures, 100 re-encoded
   copies of photos already catalogued; each taken by the catalog's camera 1.5 s after a
   catalogued photo);
4. ``dup_incremental``: ``duplicates`` with ``incremental`` (what the menu and the scan's
   follow-on run), split into discovery (candidate search: load, index, neighbours of the new
   photos) and the items (fingerprints of each part and pixel verification) and finalize;
5. ``bursts_incremental``: the scan's ``bursts`` follow-on (``after_job``), split into discovery
   (finding the runs that hold the new photos) and the rest (grouping about 1,000 runs).

Prints a table; the last line is JSON.  Targets (2 cores): rescan of 1M ≤ 30 s; incremental
duplicates ≤ 5 s plus the verification of the new candidates.
"""
from __future__ import annotations

import argparse
import dataclasses
import io
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from lumina_desktop.config import load_settings  # noqa: E402
from lumina_desktop.core.media import FINGERPRINT_VERSION, GREY_SIZE  # noqa: E402
from lumina_desktop.db import catalogs  # noqa: E402
from lumina_desktop.db.pool import open_database  # noqa: E402
from lumina_desktop.jobs import wiring  # noqa: E402
from lumina_desktop.jobs.engine.executor import shutdown_executor  # noqa: E402
from lumina_desktop.jobs.engine.registry import KindRegistry  # noqa: E402
from lumina_desktop.jobs.kinds import BUILTIN_KINDS  # noqa: E402
from lumina_desktop.jobs.kinds.bursts import BurstsKind  # noqa: E402
from lumina_desktop.jobs.kinds.duplicates import DuplicatesKind  # noqa: E402
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_duplicates_scale import make_data as plant_codes  # noqa: E402  (2 % planted near copies)

PER_FOLDER = 1000
NEW_FILES = 1000
PLANTED = 100          # new files that are re-encoded copies of photos already catalogued
RESCAN_TARGET_S = 30.0
DUP_TARGET_S = 5.0


# -- timing of the duplicates kind's stages (the kind's own code, timed around) -------------------
class TimedDuplicatesKind(DuplicatesKind):
    """The app's duplicates kind with stopwatches around discovery, the items and finalize."""

    def __init__(self) -> None:
        super().__init__()
        self.times: dict[str, float] = {}

    def reset(self) -> None:
        self.times = {"discover_s": 0.0, "items_s": 0.0, "items_cpu_s": 0.0, "finalize_s": 0.0, "parts": 0}

    def discover(self, ctx: Any) -> Any:
        t0 = time.perf_counter()
        items = list(super().discover(ctx))
        self.times["discover_s"] += time.perf_counter() - t0
        self.times["parts"] += len(items)
        yield from items

    def open(self, env: Any, params: Any) -> Any:
        run = super().open(env, params)

        def timed(ictx: Any, item: Any) -> Any:
            t0, c0 = time.perf_counter(), time.thread_time()
            try:
                return run(ictx, item)
            finally:
                self.times["items_s"] += time.perf_counter() - t0
                self.times["items_cpu_s"] += time.thread_time() - c0

        return timed

    def finalize(self, ctx: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return super().finalize(ctx)
        finally:
            self.times["finalize_s"] += time.perf_counter() - t0


class TimedBurstsKind(BurstsKind):
    """The app's bursts kind with a stopwatch around discovery."""

    def __init__(self) -> None:
        super().__init__()
        self.times: dict[str, float] = {}

    def discover(self, ctx: Any) -> Any:
        t0 = time.perf_counter()
        items = list(super().discover(ctx))
        self.times = {"discover_s": time.perf_counter() - t0, "runs": len(items)}
        yield from items


# -- data -------------------------------------------------------------------------------------------
def tiny_jpegs(n: int = 256) -> list[bytes]:
    rng = np.random.default_rng(5)
    out = []
    for _ in range(n):
        im = Image.fromarray(rng.integers(0, 255, (3, 4, 3), dtype=np.uint8)).resize((32, 24), Image.BICUBIC)
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=80)
        out.append(buf.getvalue())
    return out


def picture(rng: np.random.Generator) -> Image.Image:
    base = rng.integers(0, 255, (9, 12, 3), dtype=np.uint8)
    return Image.fromarray(base).resize((480, 360), Image.BICUBIC)


def make_library(root: Path, folders: int, payloads: list[bytes]) -> None:
    """``folders`` × 1,000 files, each written on its own (its own inode)."""
    for f in range(folders):
        d = os.fsencode(root / f"f{f:04d}")
        os.mkdir(d)
        for i in range(PER_FOLDER):
            fd = os.open(d + b"/IMG_%04d.jpg" % i, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                os.write(fd, payloads[(f * PER_FOLDER + i) % len(payloads)])
            finally:
                os.close(fd)


def capture_time(n: int) -> datetime:
    """9 minutes apart from 2005 on (a million photos end in 2022: no date in the future, which
    the analysis would not trust), except every 50th photo, a second after the one before (a
    burst of two)."""
    return datetime(2005, 1, 1) + timedelta(minutes=(n - (n % 50 == 1)) * 9, seconds=int(n % 50 == 1))


def insert_catalog(db: Any, catalog_id: int, folders: list[Any], planted: list[Any], *,
                   previous: str) -> dict[str, float]:
    """Rows as a first scan leaves them: photos from ``os.stat`` of every file, then fingerprints."""
    t0 = time.perf_counter()
    analysed = datetime.now(timezone.utc) - timedelta(days=30)
    cols = ("catalog_id", "folder_id", "path", "file_name", "size_bytes", "mtime_ns", "content_hash", "file_type",
            "kind", "format", "width", "height", "capture_time", "date_source", "camera_make", "camera_model", "status",
            "thumb_sizes", "analysed_at", "added_at")
    n = 0
    with db.connection() as conn, conn.cursor() as cur:
        with cur.copy(f"COPY photos ({', '.join(cols)}) FROM STDIN") as copy:
            for folder in folders:
                with os.scandir(folder.path) as it:
                    entries = sorted(it, key=lambda e: e.name)
                for e in entries:
                    st = e.stat()
                    copy.write_row((catalog_id, folder.id, e.path, e.name, st.st_size, st.st_mtime_ns,
                                    f"{n + 1:064x}", "JPEG", "image", "JPEG", 4000, 3000,
                                    capture_time(n), "exif", "Canon", "Canon EOS R5",
                                    "ok", [256], analysed, analysed))
                    n += 1
        conn.commit()
    t1 = time.perf_counter()
    with db.connection() as conn:
        ids = np.array([r[0] for r in conn.execute("SELECT id FROM photos WHERE catalog_id = %s ORDER BY id",
                                                   (catalog_id,))], dtype=np.int64)
    assert len(ids) == n
    codes, family = plant_codes(n, 1)   # as bench_duplicates_scale.py makes them
    rng = np.random.default_rng(2)
    greys = [rng.integers(0, 255, (8, 8), dtype=np.uint8).repeat(8, 0).repeat(8, 1).tobytes() for _ in range(512)]
    # the pictures of the 100 planted photos: their real fingerprints, on rows no synthetic copy touches
    free = np.flatnonzero(family == np.arange(n))
    free = free[np.isin(free, family[family != np.arange(n)], invert=True)]
    spots = {int(i): p for i, p in zip(np.linspace(0, len(free) - 1, len(planted)).astype(int).tolist(), planted)}
    spots = {int(free[i]): p for i, p in spots.items()}
    with db.connection() as conn, conn.cursor() as cur:
        with cur.copy("COPY photo_fingerprints (photo_id, content_hash, phash, dhash, grey, grey_size, aspect, version) "
                      "FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["bigint", "text", "bytea", "bytea", "bytea", "int2", "float4", "int2"])
            for i in range(n):
                p = spots.get(i)
                if p is not None:
                    copy.write_row((int(ids[i]), f"{i + 1:064x}", p.phash, p.dhash, p.grey, p.grey_size, p.aspect,
                                    FINGERPRINT_VERSION))
                    continue
                src = int(family[i])
                copy.write_row((int(ids[i]), f"{i + 1:064x}", codes[i].tobytes(), codes[src][::-1].tobytes(),
                                greys[src % len(greys)], GREY_SIZE, 1.3333, FINGERPRINT_VERSION))
        conn.commit()
        conn.commit()
        conn.autocommit = True   # a library catalogued a while ago has been vacuumed by autovacuum
        conn.execute("VACUUM (ANALYZE) photos")
        conn.execute("VACUUM (ANALYZE) photo_fingerprints")
        conn.autocommit = False
    if previous == "synthetic":
        record_previous_run(db, catalog_id, ids, family)
    return {"photos_copy_s": t1 - t0, "fingerprints_copy_s": time.perf_counter() - t1}


def record_previous_run(db: Any, catalog_id: int, ids: np.ndarray, family: np.ndarray) -> None:
    """A finished full ``duplicates`` run, as stored: groups of each planted source and its copies."""
    copies = np.flatnonzero(family != np.arange(len(family)))
    with db.connection() as conn, conn.cursor() as cur:
        cur.execute("CREATE TEMP TABLE bench_pairs (keeper bigint, member bigint)")
        with cur.copy("COPY bench_pairs (keeper, member) FROM STDIN") as copy:
            for c in copies.tolist():
                copy.write_row((int(ids[family[c]]), int(ids[c])))
        cur.execute("INSERT INTO duplicate_runs (job_id, catalog_id, incremental, photos, high_water, is_current, "
                    "finished_at) SELECT -1, %s, false, count(*), max(analysed_at), true, now() FROM photos "
                    "WHERE catalog_id = %s", (catalog_id, catalog_id))
        cur.execute("INSERT INTO duplicate_groups (run_job_id, catalog_id, component_key, tier, keeper_photo_id, "
                    "keeper_content_hash, size, is_suspicious, has_unverified) "
                    "SELECT -1, %s, b.keeper, 'near_copy', b.keeper, p.content_hash, count(*) + 1, false, false "
                    "FROM bench_pairs b JOIN photos p ON p.id = b.keeper GROUP BY b.keeper, p.content_hash",
                    (catalog_id,))
        cur.execute("INSERT INTO duplicate_members (group_id, photo_id, content_hash, tier, match, similarity, "
                    "phash_distance, is_verified, reason, copy_of) "
                    "SELECT g.id, b.member, p.content_hash, 'near_copy', 'phash', 0.98, 6, true, 'near copy', NULL "
                    "FROM bench_pairs b JOIN duplicate_groups g ON g.run_job_id = -1 AND g.component_key = b.keeper "
                    "JOIN photos p ON p.id = b.member")
        cur.execute("DROP TABLE bench_pairs")
        conn.commit()


def camera_exif(when: datetime) -> Image.Exif:
    """The catalog's camera and a capture time (EXIF DateTimeOriginal and its hundredths)."""
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Canon", "Canon EOS R5"
    ifd = exif.get_ifd(0x8769)
    ifd[0x9003] = when.strftime("%Y:%m:%d %H:%M:%S")
    ifd[0x9291] = "50"
    return exif


def make_new_files(root: Path, originals_dir: Path, photos: int) -> list[Any]:
    """1,000 new JPEGs in ``root``: 900 new pictures, 100 re-encoded (smaller, other quality) copies
    of pictures whose fingerprints are planted in the catalog; returns those fingerprints.  Each is
    taken 1.5 s after a catalogued photo (spread over the catalog's years), by the same camera: a
    bursts run has a run to regroup around each."""
    from lumina_desktop.analysis.ingest import analyse_file

    rng = np.random.default_rng(11)
    root.mkdir()
    originals_dir.mkdir()
    planted = []
    for i in range(NEW_FILES):
        im = picture(rng)
        exif = camera_exif(capture_time(i * (photos // NEW_FILES) + 7) + timedelta(seconds=1.5))
        if i < PLANTED:
            orig = originals_dir / f"orig_{i:04d}.jpg"
            im.save(orig, "JPEG", quality=92)
            planted.append(analyse_file(os.fsencode(orig), thumb_sizes=(64,)).perceptual)
            im.resize((360, 270), Image.LANCZOS).save(root / f"new_{i:04d}.jpg", "JPEG", quality=75, exif=exif)
        else:
            im.save(root / f"new_{i:04d}.jpg", "JPEG", quality=85, exif=exif)
    shutil.rmtree(originals_dir)
    return planted


# -- runs -------------------------------------------------------------------------------------------
CPU: dict[str, float] = {}


def run_job(co: Any, kind: str, params: dict[str, Any], catalog_id: int) -> tuple[float, Any]:
    """Wall time of one job; its CPU time in this process (every thread; not the server's) in ``CPU``."""
    t0, c0 = time.perf_counter(), time.process_time()
    snap = co.wait(co.submit(kind, params, catalog_id=catalog_id), 3600)
    CPU[kind] = time.process_time() - c0
    return time.perf_counter() - t0, snap


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--photos", type=int, default=1_000_000, help="catalogued files (a multiple of 1,000)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--previous", choices=("synthetic", "full"), default="synthetic",
                    help="the previous duplicates run: recorded with COPY, or a real full run (timed)")
    ap.add_argument("--only", choices=("rescan", "duplicates", "all"), default="all")
    ap.add_argument("--rescans", type=int, default=2, help="rescans to time (the first warms the catalog's cache)")
    args = ap.parse_args()
    folders_n = max(1, args.photos // PER_FOLDER)

    base = Path(tempfile.mkdtemp(prefix="lumina-bench-scale-"))
    os.chmod(base, 0o755)
    settings = load_settings({"data_dir": str(base / "data"), "background_workers": args.workers},
                             environ={}, config_dir=base)
    settings = dataclasses.replace(settings, disabled_follow_ons=("duplicates", "thumbnails", "quality", "tags"))
    db = open_database(settings, fsync=False, pool_size=args.workers + 8)
    cluster_home = db.cluster.home if db.cluster is not None else None
    timed_dup, timed_bursts = TimedDuplicatesKind(), TimedBurstsKind()
    registry = KindRegistry([timed_dup if k.name == "duplicates" else timed_bursts if k.name == "bursts" else k
                             for k in BUILTIN_KINDS])
    r: dict[str, Any] = {"photos": folders_n * PER_FOLDER, "workers": args.workers, "cpus": os.cpu_count()}
    try:
        t = time.perf_counter()
        lib = base / "library"
        lib.mkdir()
        make_library(lib, folders_n, tiny_jpegs())
        r["files_s"] = time.perf_counter() - t
        planted = make_new_files(base / "incoming", base / "originals", folders_n * PER_FOLDER)
        with db.connection() as conn:
            cat = catalogs.ensure_catalog(conn, "Bench")
            conn.execute("INSERT INTO catalog_folders (catalog_id, path) SELECT %s, %s || '/' || 'f' || "
                         "lpad(g::text, 4, '0') FROM generate_series(0, %s) g", (cat.id, str(lib), folders_n - 1))
            conn.commit()
            folders = catalogs.list_folders(conn, cat.id)
        r.update(insert_catalog(db, cat.id, folders, planted, previous=args.previous))
        r["setup_s"] = time.perf_counter() - t
        with db.connection() as conn:   # sizes of the tables and of the indexes the duplicates run reads
            r["sizes_mb"] = {name: round(conn.execute("SELECT pg_relation_size(to_regclass(%s))", (name,)).fetchone()[0]
                                         / 1e6) for name in ("photos", "photo_fingerprints", "photos_indexed_photo_idx",
                                                             "photo_fingerprints_phash_idx")}
        print(f"setup: {r['photos']:,} files in {r['files_s']:.0f} s, rows in "
              f"{r['photos_copy_s'] + r['fingerprints_copy_s']:.0f} s", flush=True)

        co = wiring.coordinator(db, settings, registry=registry)
        try:
            if args.only in ("rescan", "all"):
                for k in range(args.rescans):
                    dt, snap = run_job(co, "scan", {}, cat.id)
                    res = dict(snap.result or {})
                    assert snap.state.value == "succeeded", (snap.state, snap.error)
                    assert res.get("unchanged") == r["photos"] and not res.get("new") and not res.get("changed"), res
                    r.setdefault("rescan_s", []).append(round(dt, 2))
                    r.setdefault("rescan_cpu_s", []).append(round(CPU["scan"], 2))
                    print(f"rescan {k + 1}: {dt:.2f} s (CPU here {CPU['scan']:.2f} s, load {os.getloadavg()[0]:.1f})  "
                          f"{res}", flush=True)
            if args.only in ("duplicates", "all"):
                if args.previous == "full":
                    timed_dup.reset()
                    dt, snap = run_job(co, "duplicates", {}, cat.id)
                    assert snap.state.value == "succeeded", (snap.state, snap.error)
                    r["dup_full_s"] = round(dt, 2)
                    r["dup_full"] = {**{k: round(v, 2) for k, v in timed_dup.times.items()}, **(snap.result or {})}
                    print(f"duplicates (full): {dt:.2f} s  {r['dup_full']}", flush=True)
                with db.connection() as conn:
                    incoming = catalogs.add_folder(conn, cat.id, str(base / "incoming")).id
                    conn.commit()
                dt, snap = run_job(co, "scan", {"folder_ids": [incoming]}, cat.id)
                assert snap.state.value == "succeeded", (snap.state, snap.error)
                scan_job = snap.id
                r["scan_new_s"] = round(dt, 2)
                print(f"scan of {NEW_FILES:,} new files: {dt:.2f} s  {snap.result}", flush=True)
                timed_dup.reset()
                dt, snap = run_job(co, "duplicates", {"incremental": True}, cat.id)
                assert snap.state.value == "succeeded", (snap.state, snap.error)
                r["dup_incremental_s"] = round(dt, 2)
                r["dup_incremental_cpu_s"] = round(CPU["duplicates"], 2)
                r["dup_incremental"] = {**{k: round(v, 2) for k, v in timed_dup.times.items()}, **(snap.result or {})}
                print(f"duplicates (incremental): {dt:.2f} s  {r['dup_incremental']}", flush=True)
                # the bursts follow-on of that scan (incremental: only runs holding its photos)
                dt, snap = run_job(co, "bursts", {"after_job": scan_job}, cat.id)
                assert snap.state.value == "succeeded", (snap.state, snap.error)
                r["bursts_incremental_s"] = round(dt, 2)
                r["bursts_incremental"] = {**{k: round(v, 2) for k, v in timed_bursts.times.items()},
                                           **(snap.result or {})}
                print(f"bursts (after the scan): {dt:.2f} s  {r['bursts_incremental']}", flush=True)
        finally:
            co.shutdown()
            shutdown_executor()
    finally:
        db.close(stop_server=True)
        for p in [base] + ([cluster_home] if cluster_home else []):
            shutil.rmtree(p, ignore_errors=True)
    r["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    report(r)


def report(r: dict[str, Any]) -> None:
    print(f"\n{r['photos']:,} photos, {r['workers']} workers, {r['cpus']} CPUs, load average at the end "
          f"{os.getloadavg()[0]:.1f}")
    if r.get("rescan_s"):
        best = min(r["rescan_s"])
        print(f"  rescan of unchanged files      {' / '.join(f'{x:.2f}' for x in r['rescan_s'])} s"
              f"   (CPU in this process {' / '.join(f'{x:.2f}' for x in r['rescan_cpu_s'])} s; "
              f"target at 1M ≤ {RESCAN_TARGET_S:.0f} s)")
        r["rescan_best_s"] = best
    if "dup_full_s" in r:
        print(f"  duplicates, full run          {r['dup_full_s']:.2f} s")
    if "dup_incremental_s" in r:
        d = r["dup_incremental"]
        print(f"  scan of {NEW_FILES:,} new files         {r['scan_new_s']:.2f} s")
        print(f"  duplicates, incremental       {r['dup_incremental_s']:.2f} s  = candidate search (discovery) "
              f"{d['discover_s']:.2f} s + parts {d['items_s']:.2f} s summed over threads ({d['parts']} parts, fingerprints + "
              f"verification, CPU {d['items_cpu_s']:.2f} s) + finalize {d['finalize_s']:.2f} s + engine   "
              f"(target ≤ {DUP_TARGET_S:.0f} s + verification)")
    if "bursts_incremental_s" in r:
        b = r["bursts_incremental"]
        print(f"  bursts after that scan        {r['bursts_incremental_s']:.2f} s  = discovery {b['discover_s']:.2f} s "
              f"({b['runs']} runs regrouped) + the rest")
    print(f"  peak RSS {r['peak_rss_mb']} MB")
    print(json.dumps(r, default=str))


if __name__ == "__main__":
    main()
