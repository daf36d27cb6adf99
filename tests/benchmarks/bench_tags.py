"""Benchmark the tags job: how often the right tag comes out, and photos/s, on real photos.

    python tests/benchmarks/bench_tags.py [--extra 240] [--workers 1,2]

Photos: the 61 photos of ../shared/photos labelled by hand in tests/data/tag_labels.csv (path,
expected tags — any of them counts — and a note), plus --extra unlabelled photos from its
bursts folders for the speed runs.  They are copied into a temporary folder (nothing is copied
into the project); without ../shared/photos the script exits with a message.

On a private embedded cluster: a default scan (grid thumbnails only), then the tags job
(``everything``) at each worker count from the 256 px grid thumbnails; then the previews job,
and the tags job again from the 1280 px previews.  Reported per source:

* **top-1 / top-5**: share of labelled photos where an expected tag is the classifier's top
  class or a word above it (top-1), or that of one of its 5 most likely classes (top-5); only
  photos whose expected tags include a classifier word count (not "people", "night", …);
* **shown**: share of ALL labelled photos where an expected tag is among the tags the job stored
  and shows by default (confidence ≥ SHOW_CONFIDENCE: classifier words and those above them,
  rule tags, "people");
* **photos/s** of the job, wall clock from submit to end, model loading included.

The last line is JSON.
"""
from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PHOTOS = ROOT.parent / "shared" / "photos"
LABELS = ROOT / "tests" / "data" / "tag_labels.csv"
sys.path.insert(0, str(ROOT))

RULE_TAGS = {"people", "night", "black and white", "document", "screenshot", "panorama"}


def read_labels() -> list[tuple[str, set[str]]]:
    with open(LABELS, newline="", encoding="utf-8") as fp:
        return [(r["path"], set(r["expected"].split("|"))) for r in csv.DictReader(fp)]


def extra_photos(n: int) -> list[str]:
    found = sorted(str(p.relative_to(PHOTOS)) for p in (PHOTOS / "bursts").rglob("*")
                   if p.suffix.lower() in (".jpg", ".jpeg") and p.is_file())
    step = max(1, len(found) // max(1, n))
    return found[::step][:n]


def accuracy(db, settings, cat_id: int, labels, copies: dict[str, str], px: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """top-1 / top-5 from the classifier on the stored picture of size ``px``; shown from the DB."""
    import numpy as np

    from lumina_desktop.analysis.classifier import Classifier, prepare
    from lumina_desktop.analysis.tag_vocabulary import vocabulary
    from lumina_desktop.jobs.kinds.tags import decode_for_tagging
    from lumina_desktop.services.tags import TagsService
    from lumina_desktop.storage.thumbnails import ThumbnailStore

    vocab, model, store, service = vocabulary(), Classifier(), ThumbnailStore(settings.thumbnails_dir), TagsService(db)
    with db.connection() as conn:
        rows = dict(conn.execute("SELECT path, id FROM photos WHERE catalog_id = %s", (cat_id,)).fetchall())
        hashes = dict(conn.execute("SELECT path, content_hash FROM photos WHERE catalog_id = %s", (cat_id,)).fetchall())
    top1 = top5 = counted = shown = 0
    misses = []
    for rel, expected in labels:
        path = copies[rel]
        pid = rows.get(path)
        if pid is None:
            misses.append((rel, "not catalogued"))
            continue
        visible = {t.tag for t in service.of_photo(pid)}
        shown += bool(expected & visible)
        model_words = expected - RULE_TAGS
        if not model_words:
            continue
        data = store.read(hashes[path], px)
        if data is None:
            misses.append((rel, f"no {px} px picture"))
            continue
        p = model.probabilities(prepare(decode_for_tagging(data))[None])[0]
        best = [int(i) for i in np.argsort(-p)[:5]]
        chains = [set(vocab.ancestors(vocab.classes[i], include_self=True)) for i in best]
        counted += 1
        top1 += bool(model_words & chains[0])
        top5 += bool(model_words & set().union(*chains))
        if not model_words & chains[0]:
            misses.append((rel, f"top-1 {vocab.classes[best[0]]!r} ({p[best[0]]:.2f}), shown {sorted(visible)[:6]}"))
    n = len(labels)
    out = {"top1": top1 / max(1, counted), "top5": top5 / max(1, counted), "shown": shown / max(1, n),
           "classified": counted, "labelled": n}
    for rel, why in misses:
        print(f"    miss {rel}: {why}", file=sys.stderr)
    return out


def main() -> None:
    from lumina_desktop.config import load_settings
    from lumina_desktop.core.photo_tags import SHOW_CONFIDENCE
    from lumina_desktop.db import catalogs
    from lumina_desktop.db.pool import open_database
    from lumina_desktop.jobs import wiring
    from lumina_desktop.jobs.engine.executor import shutdown_executor

    ap = argparse.ArgumentParser()
    ap.add_argument("--extra", type=int, default=240, help="unlabelled photos added for the speed runs")
    ap.add_argument("--workers", default="1,2")
    args = ap.parse_args()
    if not PHOTOS.is_dir():
        raise SystemExit(f"no photos: {PHOTOS} is absent")
    labels = read_labels()
    base = Path(tempfile.mkdtemp(prefix="lumina-bench-tags-"))
    os.chmod(base, 0o755)
    lib = base / "lib"
    copies: dict[str, str] = {}
    for i, rel in enumerate([r for r, _ in labels] + extra_photos(args.extra)):
        dest = lib / f"{i:04d}_{Path(rel).name}"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PHOTOS / rel, dest)
        copies.setdefault(rel, str(dest))
    settings = load_settings({"data_dir": str(base / "data")}, environ={}, config_dir=base)
    db = open_database(settings, pool_size=12)
    res: dict[str, object] = {"labelled": len(labels), "photos": len(copies), "show_confidence": SHOW_CONFIDENCE}
    try:
        with db.connection() as conn:
            cat = catalogs.create_catalog(conn, "Tags")
            folder = catalogs.add_folder(conn, cat.id, str(lib))
        worker_counts = [int(w) for w in args.workers.split(",")]
        for source, px in (("grid", 256), ("preview", 1280)):
            for workers in worker_counts:
                s = dataclasses.replace(settings, background_workers=workers, disabled_follow_ons=(
                    "duplicates", "thumbnails", "quality", "tags", "bursts"))
                co = wiring.coordinator(db, s)
                try:
                    if source == "grid" and workers == worker_counts[0]:
                        job = co.wait(co.submit("scan", {"folder_ids": [folder.id]}, catalog_id=cat.id), 3600)
                        assert job.state.value == "succeeded", job.error
                    if source == "preview" and workers == worker_counts[0]:
                        job = co.wait(co.submit("thumbnails", {}, catalog_id=cat.id), 3600)
                        assert job.state.value == "succeeded", job.error
                    t0 = time.perf_counter()
                    job = co.wait(co.submit("tags", {"everything": True}, catalog_id=cat.id), 3600)
                    dt = time.perf_counter() - t0
                    assert job.state.value == "succeeded", job.error
                    n = int((job.result or {}).get("tagged", 0))
                    res[f"{source}_w{workers}_photos_s"] = round(n / dt, 1)
                    print(f"{source}, {workers} worker(s): {n} photos in {dt:.1f} s = {n / dt:.1f} photos/s "
                          f"({job.result})", file=sys.stderr)
                finally:
                    co.shutdown()
                    shutdown_executor()
            acc = accuracy(db, settings, cat.id, labels, copies, px)
            print(f"{source}: top-1 {acc['top1']:.2f}, top-5 {acc['top5']:.2f} of {acc['classified']} photos "
                  f"with a classifier label; expected tag shown for {acc['shown']:.2f} of {acc['labelled']}",
                  file=sys.stderr)
            for k, v in acc.items():
                res[f"{source}_{k}"] = round(v, 3) if isinstance(v, float) else v
    finally:
        db.close()
        shutil.rmtree(base, ignore_errors=True)
    for k, v in res.items():
        print(f"{k:<24}{v!s:>10}")
    print(json.dumps(res))


if __name__ == "__main__":
    main()
