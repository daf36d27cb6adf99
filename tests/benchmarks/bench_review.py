"""Benchmark the duplicate review on a catalog with 10,000 duplicate groups: the real service and widget.

    python tests/benchmarks/bench_review.py [--groups 10000] [--repeats 3]

Runs on a private embedded cluster in a temp folder (fsync off), offscreen Qt.  Writes the
photo rows (three per group slot) and a current duplicate run with COPY: 40 % identical groups
(keeper and a byte copy), 30 % same picture, 30 % near copies (keeper and two copies).  A few
hundred keepers have thumbnail files.  Then measures, each ``--repeats`` times (median):

* service: ``DuplicatesService.groups`` — the stored groups read, trashed photos dropped, the
  user's decisions and burst siblings applied;
* queue shown: ``DuplicateReviewWidget.set_catalog`` → the queue model holds every group and
  the window has repainted (the issue's target: at most 1 s);
* first group: until the first group's pictures are drawn in its cells;
* GUI stalls while opening: gaps between ticks of a 5 ms timer (p50 / p99 / max).

Prints a table; the last line is JSON.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from lumina_desktop.config import load_settings  # noqa: E402
from lumina_desktop.db import catalogs  # noqa: E402
from lumina_desktop.db.pool import Database, open_database  # noqa: E402
from tests.benchmarks.bench_ui import StallMeter, fake_hash, run_until, write_thumbnails  # noqa: E402

OPEN_TARGET_S = 1.0
RUN_JOB_ID = 1


def make_catalog(db: Database, catalog_id: int, folder_id: int, root: str, groups: int) -> float:
    """Photos and one current duplicate run with ``groups`` groups (COPY); seconds taken."""
    t0 = time.perf_counter()
    now = datetime.now(timezone.utc)
    cols = ("catalog_id", "folder_id", "path", "file_name", "size_bytes", "mtime_ns", "content_hash", "file_type",
            "kind", "format", "width", "height", "status", "thumb_sizes", "added_at")
    tiers = []
    with db.connection() as conn:
        with conn.cursor() as cur, cur.copy("COPY photos ({}) FROM STDIN".format(", ".join(cols))) as copy:
            for g in range(groups):
                tier = "identical" if g % 10 < 4 else "same_picture" if g % 10 < 7 else "near_copy"
                tiers.append(tier)
                for k in range(3):
                    i = 3 * g + k
                    h = fake_hash(3 * g) if tier == "identical" and k == 1 else fake_hash(i)
                    size = 4_000_000 - 1000 * k if tier != "near_copy" or k == 0 else 900_000
                    copy.write_row((catalog_id, folder_id, f"{root}/{g // 1000:03d}/{'copy' if k else 'orig'}_{g:06d}_{k}.jpg",
                                    f"{'copy' if k else 'orig'}_{g:06d}_{k}.jpg", size, 1_600_000_000_000_000_000 + i,
                                    h, "JPEG", "image", "JPEG", 6000 if size > 1e6 else 3000, 4000 if size > 1e6 else 2000,
                                    "ok", [256], now))
        ids = [r[0] for r in conn.execute("SELECT id FROM photos WHERE catalog_id = %s ORDER BY id", (catalog_id,))]
        conn.execute("INSERT INTO duplicate_runs (job_id, catalog_id, photos, finished_at, is_current) "
                     "VALUES (%s, %s, %s, now(), true)", (RUN_JOB_ID, catalog_id, len(ids)))
        with conn.cursor() as cur, cur.copy("COPY duplicate_groups (run_job_id, catalog_id, component_key, tier, "
                                            "keeper_photo_id, keeper_content_hash, size, is_suspicious, has_unverified) "
                                            "FROM STDIN") as copy:
            for g, tier in enumerate(tiers):
                copy.write_row((RUN_JOB_ID, catalog_id, g, tier, ids[3 * g], fake_hash(3 * g),
                                3 if tier == "near_copy" else 2, False, False))
        group_ids = [r[0] for r in conn.execute("SELECT id FROM duplicate_groups WHERE run_job_id = %s ORDER BY "
                                                "component_key", (RUN_JOB_ID,))]
        with conn.cursor() as cur, cur.copy("COPY duplicate_members (group_id, photo_id, content_hash, tier, match, "
                                            "similarity, phash_distance, is_verified, reason) FROM STDIN") as copy:
            for g, (gid, tier) in enumerate(zip(group_ids, tiers)):
                if tier == "identical":
                    copy.write_row((gid, ids[3 * g + 1], fake_hash(3 * g), tier, "content_hash", None, 0, True,
                                    "equal on every rule, so the first one found is kept"))
                elif tier == "same_picture":
                    copy.write_row((gid, ids[3 * g + 1], fake_hash(3 * g + 1), tier, "image_data_hash", 1.0, 0, True,
                                    "camera EXIF beats none"))
                else:
                    for k in (1, 2):
                        copy.write_row((gid, ids[3 * g + k], fake_hash(3 * g + k), tier, "phash+ssim", 0.97, 4, True,
                                        "6000×4000 beats 3000×2000"))
        conn.execute("ANALYZE photos")
        conn.execute("ANALYZE duplicate_groups")
        conn.execute("ANALYZE duplicate_members")
        conn.commit()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--groups", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    base = Path(tempfile.mkdtemp(prefix="lumina-bench-review-"))
    os.chmod(base, 0o755)
    os.environ["XDG_CONFIG_HOME"] = str(base / "config")
    settings = load_settings({"data_dir": str(base / "data")}, environ={}, config_dir=base)
    db = open_database(settings, fsync=False, pool_size=8)
    result: dict[str, Any] = {"groups": args.groups}
    try:
        write_thumbnails(settings.thumbnails_dir, 300)
        (base / "library").mkdir()
        with db.connection() as conn:
            cat = catalogs.ensure_catalog(conn, "Bench")
            folder = catalogs.add_folder(conn, cat.id, str(base / "library"))
            conn.commit()
        result["setup_s"] = make_catalog(db, cat.id, folder.id, str(base / "library"), args.groups)

        from PySide6.QtWidgets import QApplication

        from lumina_desktop.services.duplicates import DuplicatesService
        from lumina_desktop.services.images import PhotoImages
        from lumina_desktop.services.photos import PhotoQuery
        from lumina_desktop.ui.widgets.duplicate_review import DuplicateReviewWidget

        dups = DuplicatesService(db)
        service_s = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            n = len(dups.groups(cat.id))
            service_s.append(time.perf_counter() - t)
        assert n == args.groups, n
        result["service_s"] = statistics.median(service_s)

        app = QApplication.instance() or QApplication([sys.argv[0]])
        io = ThreadPoolExecutor(max_workers=settings.interactive_workers, thread_name_prefix="lumina-ui-io")
        opens, firsts, stalls = [], [], []
        for _ in range(args.repeats):
            w = DuplicateReviewWidget(io, dups, PhotoQuery(db), PhotoImages(settings.thumbnails_dir), None, None)  # type: ignore[arg-type]
            w.resize(1280, 760)
            w.show()
            run_until(lambda: w.isVisible(), 5)
            meter = StallMeter()
            meter.start()
            t = time.perf_counter()
            w.set_catalog(cat.id)
            if not run_until(lambda: w.is_loaded and w.model.group_count == args.groups, 60):
                raise SystemExit("the queue did not load")
            w.repaint()
            opens.append(time.perf_counter() - t)
            if not run_until(lambda: bool(w.panel.cells) and all(c.pixmap is not None for c in w.panel.cells.values()), 30):
                raise SystemExit("the first group's pictures did not show")
            firsts.append(time.perf_counter() - t)
            stalls.append(meter.stop())
            assert w.progress_text == f"Group 1 of {args.groups:,}", w.progress_text
            w.close()
            w.deleteLater()
            app.processEvents()
        result["queue_shown_s"] = statistics.median(opens)
        result["first_group_s"] = statistics.median(firsts)
        result["open_stalls"] = max(stalls, key=lambda s: s["p99_ms"])
        io.shutdown(wait=True, cancel_futures=True)
    finally:
        db.close()
        shutil.rmtree(base, ignore_errors=True)

    print(f"duplicate review, {args.groups:,} groups ({args.repeats} runs, medians; 2 cores)")
    print(f"  setup (COPY)                         {result['setup_s']:.1f} s")
    print(f"  service: groups read, decisions on   {result['service_s'] * 1000:.0f} ms")
    print(f"  queue shown (target ≤ {OPEN_TARGET_S:.1f} s)           {result['queue_shown_s'] * 1000:.0f} ms"
          f"  {'met' if result['queue_shown_s'] <= OPEN_TARGET_S else 'MISSED'}")
    print(f"  first group's pictures drawn         {result['first_group_s'] * 1000:.0f} ms")
    s = result["open_stalls"]
    print(f"  GUI stalls while opening             p50 {s['p50_ms']:.0f} ms, p99 {s['p99_ms']:.0f} ms, max {s['max_ms']:.0f} ms")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
