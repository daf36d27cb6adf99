"""Benchmark ingest: images/s at 1 and 2 workers vs vipsthumbnail, and rescan files/s.

    python tests/benchmarks/bench_ingest.py [--count 2000] [--rescan-files 20000] [--corpus DIR]
                                            [--vips-both-sample 500]

Corpus (cached in --corpus, default /tmp/lumina-bench-corpus): --count realistic 2–12 MP JPEGs
made from the real photos in ../shared/photos (resized/cropped, re-encoded at q 85–95 with
their EXIF), plus the real JPEGs themselves.  The default scan (``previews = "job"``: metadata,
both hashes, the 256 px grid thumbnail, perceptual data) on a fresh catalog, against
vipsthumbnail making 256-px thumbnails of the same files, one process per worker
(VIPS_CONCURRENCY=1); then the thumbnails job that follows it (the 1280 px previews).  Also in
the same run: a scan with ``previews = "scan"`` (both sizes while scanning), and vipsthumbnail
doing that thumbnail work (a 1280 px thumbnail of the original, then a 256 px one of that) on
an evenly spaced sample of the files.
Rescan = the scan job over an unchanged catalog of --rescan-files files (rows inserted to
match the files' size and mtime, so nothing is read).  The last line is JSON.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]
PHOTOS = ROOT.parent / "shared" / "photos"
sys.path.insert(0, str(ROOT))

from lumina_desktop.config import load_settings  # noqa: E402
from lumina_desktop.core.media import FINGERPRINT_VERSION  # noqa: E402
from lumina_desktop.db import catalogs  # noqa: E402
from lumina_desktop.db.pool import open_database  # noqa: E402
from lumina_desktop.jobs.engine.coordinator import JobCoordinator  # noqa: E402
from lumina_desktop.jobs import wiring  # noqa: E402
from lumina_desktop.jobs.engine.executor import shutdown_executor  # noqa: E402


def sources() -> list[Path]:
    out = []
    for p in sorted(PHOTOS.rglob("*")):
        if p.suffix.lower() in (".jpg", ".jpeg") and p.stat().st_size > 30_000:
            try:
                with Image.open(p) as im:
                    if im.format == "JPEG" and min(im.size) >= 300:
                        out.append(p)
            except Exception:
                continue
    return out


def build_corpus(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    done = folder / ".complete"
    if done.exists() and int(done.read_text()) >= count:
        return sorted(p for p in folder.rglob("*.jpg"))
    src = sources()
    rng = random.Random(42)
    t0 = time.time()
    for i in range(count):
        s = src[i % len(src)]
        target = folder / f"d{i // 500:02d}" / f"IMG_{i:05d}.jpg"
        if target.exists():
            continue
        target.parent.mkdir(exist_ok=True)
        with Image.open(s) as im:
            exif = im.info.get("exif", b"")
            icc = im.info.get("icc_profile")
            im = im.convert("RGB")
            mp = rng.uniform(2, 12) * 1e6
            aspect = im.width / im.height
            w = int((mp * aspect) ** 0.5)
            h = int(w / aspect)
            # a slight random crop makes every file a different picture
            cx, cy = rng.randint(0, im.width // 20), rng.randint(0, im.height // 20)
            im = im.crop((cx, cy, im.width - rng.randint(0, im.width // 20), im.height - rng.randint(0, im.height // 20)))
            im = im.resize((w, h), Image.BICUBIC)
            kw = {"quality": rng.randint(85, 95), "exif": exif}
            if icc:
                kw["icc_profile"] = icc
            im.save(target, "JPEG", **kw)
        if i % 200 == 0:
            print(f"  corpus {i}/{count} ({time.time() - t0:.0f} s)", file=sys.stderr)
    real = folder / "real"
    real.mkdir(exist_ok=True)
    for s in src:
        dst = real / (s.parent.name + "__" + s.name)
        if not dst.exists():
            shutil.copy2(s, dst)
    done.write_text(str(count))
    return sorted(p for p in folder.rglob("*.jpg"))


def ingest(db, settings, folder: Path, workers: int, name: str, previews: str = "scan",  # type: ignore[no-untyped-def]
           then_thumbnails: bool = False) -> tuple[float, dict]:
    """The scan job on a fresh catalog (its follow-ons are not run); with ``then_thumbnails`` the
    result also holds ``thumbnails_s``, the time of the thumbnails job that follows it."""
    s = dataclasses.replace(settings, background_workers=workers, previews=previews)
    with db.connection() as conn:
        cat = catalogs.create_catalog(conn, name)
        f = catalogs.add_folder(conn, cat.id, str(folder))
    thumbs = s.thumbnails_dir
    shutil.rmtree(thumbs, ignore_errors=True)
    co = wiring.coordinator(db, s)
    try:
        t0 = time.perf_counter()
        job_id = co.submit("scan", {"folder_ids": [f.id]}, catalog_id=cat.id)
        job = co.wait(job_id, 3600)
        dt = time.perf_counter() - t0
        result = dict(job.result or {})
        if then_thumbnails:
            t1 = time.perf_counter()
            tj = co.wait(co.submit("thumbnails", {"after_job": job_id}, catalog_id=cat.id), 3600)
            result["thumbnails_s"] = time.perf_counter() - t1
            result["previews_made"] = (tj.result or {}).get("made")
    finally:
        co.shutdown()
        shutdown_executor()
    assert job.state.value == "succeeded", job.error
    return dt, result


def vips(files: list[Path], workers: int, out: Path, size: int = 256) -> float:
    exe = shutil.which("vipsthumbnail")
    if exe is None:
        raise SystemExit("vipsthumbnail not found: apt-get install libvips-tools")
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    chunks = [files[i::workers] for i in range(workers)]
    env = {**os.environ, "VIPS_CONCURRENCY": "1"}
    t0 = time.perf_counter()
    procs = []
    for k, chunk in enumerate(chunks):
        listfile = out / f"list{k}.txt"
        listfile.write_text("\n".join(str(p) for p in chunk))
        procs.append(subprocess.Popen(
            ["xargs", "-a", str(listfile), "-d", "\n", exe, "--size", str(size), "-o", str(out) + f"/%s_{k}.jpg"],
            env=env, stderr=subprocess.DEVNULL))
    for p in procs:
        p.wait()
    return time.perf_counter() - t0


def vips_both(files: list[Path], workers: int, out: Path) -> float:
    """vipsthumbnail making both sizes ingest makes: 1280 px from the original, 256 px from that."""
    t = vips(files, workers, out / "big", 1280)
    previews = sorted((out / "big").glob("*.jpg"))
    assert len(previews) == len(files), (len(previews), len(files))
    return t + vips(previews, workers, out / "small", 256)


def photo_tables(conn) -> tuple[sql.Identifier, sql.Identifier, sql.Identifier]:  # type: ignore[no-untyped-def]
    """(photos, their fingerprints, the fingerprints' photo-id column): the photo noun since migration
    0008, ``images`` / ``image_fingerprints`` / ``image_id`` in a checkout before it."""
    row = conn.execute("SELECT to_regclass('photos') IS NOT NULL").fetchone()
    names = ("photos", "photo_fingerprints", "photo_id") if row and row[0] else ("images", "image_fingerprints", "image_id")
    return sql.Identifier(names[0]), sql.Identifier(names[1]), sql.Identifier(names[2])


def rescan(db, settings, base: Path, n: int) -> tuple[float, dict]:  # type: ignore[no-untyped-def]
    folder = base / "rescan"
    seed = base / "seed.jpg"
    Image.new("RGB", (64, 48), "gray").save(seed)
    rows = []
    for i in range(n):
        p = folder / f"s{i // 1000:03d}" / f"f{i:06d}.jpg"
        p.parent.mkdir(parents=True, exist_ok=True)
        if not p.exists():
            os.link(seed, p)
    st = seed.stat()
    with db.connection() as conn:
        cat = catalogs.create_catalog(conn, "rescan")
        f = catalogs.add_folder(conn, cat.id, str(folder))
        for p in sorted(folder.rglob("*.jpg")):
            rows.append((cat.id, f.id, str(p), p.name, st.st_size, st.st_mtime_ns, "ok", "x" * 64))
        photos, fingerprints, photo_id = photo_tables(conn)
        with conn.cursor().copy(sql.SQL("COPY {} (catalog_id, folder_id, path, file_name, size_bytes, mtime_ns, "
                                        "status, content_hash) FROM STDIN").format(photos)) as cp:
            for r in rows:
                cp.write_row(r)
        # analysed photos have current fingerprints: the rescan joins them (FINGERPRINT_VERSION)
        conn.execute(sql.SQL("INSERT INTO {} ({}, content_hash, phash, dhash, version) "
                             "SELECT id, content_hash, %s, %s, %s FROM {} WHERE catalog_id = %s").format(
                                 fingerprints, photo_id, photos),
                     (b"\0" * 32, b"\0" * 32, FINGERPRINT_VERSION, cat.id))
    co = wiring.coordinator(db, settings)
    try:
        t0 = time.perf_counter()
        job_id = co.submit("scan", {"folder_ids": [f.id]}, catalog_id=cat.id)
        job = co.wait(job_id, 600)
        dt = time.perf_counter() - t0
    finally:
        co.shutdown()
        shutdown_executor()
    assert job.result and job.result["unchanged"] == n, job.result
    return dt, dict(job.result)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--rescan-files", type=int, default=20000)
    ap.add_argument("--corpus", default="/tmp/lumina-bench-corpus")
    ap.add_argument("--vips-both-sample", type=int, default=500,
                    help="files (evenly spaced) for vipsthumbnail making 1280 + 256 px; 0 skips it")
    args = ap.parse_args()
    if not PHOTOS.is_dir():
        raise SystemExit(f"{PHOTOS} is missing: the corpus is made from the real photos there")
    corpus = Path(args.corpus)
    files = build_corpus(corpus, args.count)
    mp = []
    for p in files[:: max(1, len(files) // 200)]:
        with Image.open(p) as im:
            mp.append(im.width * im.height / 1e6)
    print(f"corpus: {len(files)} JPEGs, mean {sum(mp) / len(mp):.1f} MP (sampled), "
          f"{sum(p.stat().st_size for p in files) / 1e9:.2f} GB")
    base = Path(tempfile.mkdtemp(prefix="lumina-bench-ingest-"))
    os.chmod(base, 0o755)
    settings = load_settings({"data_dir": str(base / "data")}, environ={}, config_dir=base)
    db = open_database(settings, pool_size=24)
    try:
        t1, r1 = ingest(db, settings, corpus, 1, "w1")                        # previews while scanning
        t2, r2 = ingest(db, settings, corpus, 2, "w2")
        g1, _ = ingest(db, settings, corpus, 1, "g1", previews="job")          # the default scan
        g2, rg2 = ingest(db, settings, corpus, 2, "g2", previews="job", then_thumbnails=True)
        v1 = vips(files, 1, base / "vips1")
        v2 = vips(files, 2, base / "vips2")
        sample = files[:: max(1, len(files) // args.vips_both_sample)] if args.vips_both_sample else []
        b1 = vips_both(sample, 1, base / "both1") if sample else None
        b2 = vips_both(sample, 2, base / "both2") if sample else None
        tr, rr = rescan(db, settings, base, args.rescan_files)
    finally:
        db.close()
        shutil.rmtree(base, ignore_errors=True)
    n = len(files)
    res = {
        "files": n, "ingest_w1_img_s": n / t1, "ingest_w2_img_s": n / t2,
        "vips_p1_img_s": n / v1, "vips_p2_img_s": n / v2,
        "ratio_w1_vs_vips1": (n / t1) / (n / v1), "ratio_w2_vs_vips2": (n / t2) / (n / v2),
        "scaling_w2_over_w1": t1 / t2,
        "default_scan_w1_img_s": n / g1, "default_scan_w2_img_s": n / g2,
        "ratio_default_scan_w1_vs_vips1": (n / g1) / (n / v1), "ratio_default_scan_w2_vs_vips2": (n / g2) / (n / v2),
        "thumbnails_job_w2_img_s": (rg2.get("previews_made") or 0) / rg2["thumbnails_s"],
        "rescan_files": args.rescan_files, "rescan_files_s": args.rescan_files / tr,
        "errors_w1": r1.get("errors"), "errors_w2": r2.get("errors"),
    }
    if b1 and b2:
        res.update({
            "vips_both_sample_files": len(sample),
            "vips_both_p1_img_s": len(sample) / b1, "vips_both_p2_img_s": len(sample) / b2,
            "ratio_w1_vs_vips_both1": (n / t1) / (len(sample) / b1),
            "ratio_w2_vs_vips_both2": (n / t2) / (len(sample) / b2),
            "ratio_thumbnails_job_w2_vs_vips_both2": ((rg2.get("previews_made") or 0) / rg2["thumbnails_s"]) / (len(sample) / b2),
        })
    print(f"\n{'measure':<34}{'value':>12}")
    for k, v in res.items():
        print(f"{k:<34}{v:>12,.2f}" if isinstance(v, float) else f"{k:<34}{v!s:>12}")
    print(json.dumps(res))


if __name__ == "__main__":
    main()
