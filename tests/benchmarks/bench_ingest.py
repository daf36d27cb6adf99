"""Benchmark ingest: images/s at 1 and 2 workers vs vipsthumbnail, and rescan files/s.

    python tests/benchmarks/bench_ingest.py [--count 600] [--rescan-files 20000] [--corpus DIR]
                                            [--repeats 3] [--vips-both-sample 300]

Corpus (cached in --corpus, default /tmp/lumina-bench-corpus-camera): --count camera-size JPEGs
shaped like users' photos (see ``build_corpus``: 2–12 MP, mean about 4.2 MP, about 0.5 MB each,
15 % stored sideways), made from the real photos in ../shared/photos.  In rounds, back to back:
the default scan (``previews = "job"``: metadata, both hashes, the 256 px grid thumbnail,
perceptual data) on a fresh catalog, then vipsthumbnail making 256 px thumbnails of the same
files, one process per worker (VIPS_CONCURRENCY=1), at 1 and 2 workers; medians of the rounds
and of the per-round ratios.  Then the thumbnails job that follows a scan (the 1280 px
previews) against vipsthumbnail making those two sizes (1280 px from the original, 256 px from
that) on an evenly spaced sample, and a scan with ``previews = "scan"`` (both sizes inline).
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


CORPUS_VERSION = "camera-v2"      # bump when the corpus recipe changes: a cached corpus is rebuilt
SIDEWAYS = 0.15                    # share stored on its side with an EXIF Orientation tag


def _encode_near(im: Image.Image, target_bytes: int, kw: dict) -> bytes:
    """JPEG bytes at the quality (60–95) whose size is nearest ``target_bytes`` (bisection)."""
    import io
    lo, hi, best = 60, 95, None
    while lo <= hi:
        q = (lo + hi) // 2
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=q, **kw)
        data = buf.getvalue()
        if best is None or abs(len(data) - target_bytes) < abs(len(best) - target_bytes):
            best = data
        if len(data) > target_bytes:
            hi = q - 1
        else:
            lo = q + 1
    assert best is not None
    return best


def build_corpus(folder: Path, count: int) -> list[Path]:
    """``count`` camera-size JPEGs shaped like users' photos: 2–12 MP with a mean near 4.2 MP
    (2 + 10·Beta(1, 3.5)), about 0.5 MB each (the quality is chosen per file for a size that
    grows with the square root of the pixel count), 15 % stored sideways (pixels turned, EXIF
    Orientation 6 or 8), each a differently cropped copy of a real photo with its EXIF and ICC
    profile.  Cached in ``folder`` until the count or the recipe changes."""
    done = folder / ".complete"
    stamp = f"{CORPUS_VERSION} {count}"
    if done.exists() and done.read_text() == stamp:
        return sorted(p for p in folder.rglob("*.jpg"))
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    src = sources()
    rng = random.Random(42)
    t0 = time.time()
    for i in range(count):
        s = src[i % len(src)]
        target = folder / f"d{i // 500:02d}" / f"IMG_{i:05d}.jpg"
        target.parent.mkdir(exist_ok=True)
        with Image.open(s) as im:
            exif = im.getexif()
            icc = im.info.get("icc_profile")
            im = im.convert("RGB")
        mp = (2 + 10 * rng.betavariate(1, 3.5)) * 1e6
        # a slight random crop makes every file a different picture
        cx, cy = rng.randint(0, im.width // 20), rng.randint(0, im.height // 20)
        im = im.crop((cx, cy, im.width - rng.randint(0, im.width // 20), im.height - rng.randint(0, im.height // 20)))
        aspect = im.width / im.height
        w = int((mp * aspect) ** 0.5)
        h = int(w / aspect)
        im = im.resize((w, h), Image.BICUBIC)
        exif[0x0112] = 1
        if rng.random() < SIDEWAYS:
            # stored turned a quarter: the tag says how to turn it back for display
            if rng.random() < 0.5:
                im, exif[0x0112] = im.transpose(Image.Transpose.ROTATE_90), 6
            else:
                im, exif[0x0112] = im.transpose(Image.Transpose.ROTATE_270), 8
        kw: dict = {"exif": exif.tobytes()}
        if icc:
            kw["icc_profile"] = icc
        want = int(0.5e6 * (mp / 4.2e6) ** 0.5 * rng.uniform(0.8, 1.2))
        target.write_bytes(_encode_near(im, want, kw))
        if i % 100 == 0:
            print(f"  corpus {i}/{count} ({time.time() - t0:.0f} s)", file=sys.stderr)
    done.write_text(stamp)
    return sorted(p for p in folder.rglob("*.jpg"))


def corpus_shape(files: list[Path]) -> dict:
    """What the corpus is: count, mean and range of megapixels, mean MB, share stored sideways."""
    mp, sideways = [], 0
    for p in files:
        with Image.open(p) as im:
            mp.append(im.width * im.height / 1e6)
            sideways += im.getexif().get(0x0112, 1) in (5, 6, 7, 8)
    size = [p.stat().st_size / 1e6 for p in files]
    return {"files": len(files), "mean_mp": sum(mp) / len(mp), "min_mp": min(mp), "max_mp": max(mp),
            "mean_mb": sum(size) / len(size), "sideways_share": sideways / len(files)}


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


def median(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[len(xs) // 2] if len(xs) % 2 else (xs[len(xs) // 2 - 1] + xs[len(xs) // 2]) / 2


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=600)
    ap.add_argument("--rescan-files", type=int, default=20000)
    ap.add_argument("--corpus", default="/tmp/lumina-bench-corpus-camera")
    ap.add_argument("--repeats", type=int, default=3,
                    help="rounds of (default scan, vipsthumbnail) per worker count, interleaved; medians reported")
    ap.add_argument("--vips-both-sample", type=int, default=300,
                    help="files (evenly spaced) for vipsthumbnail making 1280 + 256 px; 0 skips it")
    args = ap.parse_args()
    if not PHOTOS.is_dir():
        raise SystemExit(f"{PHOTOS} is missing: the corpus is made from the real photos there")
    corpus = Path(args.corpus)
    files = build_corpus(corpus, args.count)
    shape = corpus_shape(files)
    print(f"corpus: {shape['files']} JPEGs, {shape['mean_mp']:.2f} MP mean ({shape['min_mp']:.1f}–"
          f"{shape['max_mp']:.1f}), {shape['mean_mb']:.2f} MB mean, {shape['sideways_share']:.0%} sideways")
    base = Path(tempfile.mkdtemp(prefix="lumina-bench-ingest-"))
    os.chmod(base, 0o755)
    settings = load_settings({"data_dir": str(base / "data")}, environ={}, config_dir=base)
    db = open_database(settings, pool_size=24)
    n = len(files)
    scan: dict[int, list[float]] = {1: [], 2: []}
    ref: dict[int, list[float]] = {1: [], 2: []}
    try:
        for r in range(args.repeats):
            for w in (1, 2):
                # the default scan (grid thumbnail only) and vipsthumbnail -s 256, back to back
                t, _ = ingest(db, settings, corpus, w, f"g{w}r{r}", previews="job")
                scan[w].append(n / t)
                ref[w].append(n / vips(files, w, base / f"vips{w}"))
                print(f"  round {r + 1}, {w} worker(s): scan {scan[w][-1]:.1f} img/s, "
                      f"vipsthumbnail {ref[w][-1]:.1f} img/s", file=sys.stderr)
        _, rg = ingest(db, settings, corpus, 2, "thumbs", previews="job", then_thumbnails=True)
        t_inline, _ = ingest(db, settings, corpus, 2, "inline", previews="scan")
        sample = files[:: max(1, n // args.vips_both_sample)] if args.vips_both_sample else []
        b2 = vips_both(sample, 2, base / "both2") if sample else None
        tr, rr = rescan(db, settings, base, args.rescan_files)
    finally:
        db.close()
        shutil.rmtree(base, ignore_errors=True)
    thumbs_rate = (rg.get("previews_made") or 0) / rg["thumbnails_s"]
    res: dict = {**{f"corpus_{k}": v for k, v in shape.items()}, "repeats": args.repeats}
    for w in (1, 2):
        res[f"default_scan_w{w}_img_s"] = median(scan[w])
        res[f"vips256_p{w}_img_s"] = median(ref[w])
        res[f"ratio_default_scan_w{w}_vs_vips{w}"] = median([a / b for a, b in zip(scan[w], ref[w])])
    res.update({
        "scan_with_previews_w2_img_s": n / t_inline,
        "ratio_scan_with_previews_w2_vs_vips256_p2": (n / t_inline) / median(ref[2]),
        "thumbnails_job_w2_img_s": thumbs_rate,
        "rescan_files": args.rescan_files, "rescan_files_s": args.rescan_files / tr,
    })
    if b2:
        res.update({
            "vips_both_sample_files": len(sample),
            "vips_both_p2_img_s": len(sample) / b2,
            "ratio_thumbnails_job_w2_vs_vips_both2": thumbs_rate / (len(sample) / b2),
        })
    print(f"\n{'measure':<44}{'value':>12}")
    for k, v in res.items():
        print(f"{k:<44}{v:>12,.2f}" if isinstance(v, float) else f"{k:<44}{v!s:>12}")
    print(json.dumps(res))


if __name__ == "__main__":
    main()
