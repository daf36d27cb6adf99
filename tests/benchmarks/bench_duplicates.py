"""Benchmark duplicate detection accuracy: labelled copies of real photos, Lumina vs findimagedupes.

    python tests/benchmarks/bench_duplicates.py [--originals 120] [--workdir DIR] [--direct]
                                                [--fid-threshold 90%[,95%...]] [--skip-fid]
                                                [--seed 7] [--max-edge 2048]

Labelled set (made in --workdir/photos, default a temp dir; with --workdir it is kept and
reused when the parameters match): --originals distinct real photos (min side >= 400 px,
round-robin over the source folders of ../shared/photos, bursts excluded, near-identical
sources skipped), each saved as JPEG q92 with its EXIF (EXIF-oriented, long edge capped at
--max-edge), plus copies that COUNT as duplicates (see ``analysis/duplicates.py``):

    identical      byte copy, other folder and name                      tier identical
    meta_exif      same bytes, only the APP1 Exif segment rewritten      tier same_picture
    meta_xmp       same bytes plus an XMP APP1 and a COM segment         tier same_picture
    jpeg_q60_85    re-encode at a random quality 60-85                   tier near_copy
    resize50/25    half / quarter size                                   near_copy
    png webp heic  format conversions (heic when pillow-heif can write)  near_copy
    rot_orient     pixels rotated 90 deg + EXIF Orientation 6/8 (displays as the original)
    crop_border    border crop of 2-4 % of each dimension, random sides  near_copy
    bright110      brightness x1.1                                       near_copy
    levels         levels 12..240 -> 0..255, gamma 0.9                   near_copy
    watermark      text in a corner, 2-3 % of the area                   near_copy
    real_resized   the elephants photo at 1920/3840/5640 px (a real triple, copied as-is)

and hard NEGATIVES, each its own photograph (must not join the original or each other):
mirror; crop_big (20-40 % of the area removed); overlap_a / overlap_b (two different 60 %
crops of the original); content_paste (a block of another photo, 16 % of the area, pasted
in); real burst / bracket / HDR frames from ../shared/photos/bursts and exif-samples/jpg/hdr.
truth.json lists every file with its photograph id, transformation and tier.

Runs: Lumina through the CLI against a private data dir (``scan`` -> ``duplicates find`` ->
``duplicates list --format json``), or with --direct (or when the CLI has no ``duplicates``
command) ``analyse_file`` on 2 threads + ``find_duplicate_groups``; then ``findimagedupes
-R -t 90%`` (GraphicsMagick, single process, fresh fingerprint db) on the same folder.
Scoring is pairwise: a predicted pair = two files in one group, a true pair = two files of
one photograph; precision/recall overall, recall per tier (the looser tier of the two
files) and per transformation, false pairs by the transformation of the wrongly joined
file, groups that join different photographs (target 0), largest group, seconds.
Targets: precision >= 0.99, recall >= 0.95, no group joining different photographs.
With --workdir the raw outputs are kept beside the set (lumina_rows.json,
findimagedupes_groups_<t>.json).  Default run ~3.5 min on 2 cores (set ~1 min, Lumina ~1
min, findimagedupes ~1 min).  The last line is JSON.
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import csv
import io
import itertools
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import imagehash
import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFont, ImageOps

ROOT = Path(__file__).resolve().parents[2]
PHOTOS = ROOT.parent / "shared" / "photos"
sys.path.insert(0, str(ROOT))

try:
    import pillow_heif

    pillow_heif.register_heif_opener()
    HEIF_WRITE = "HEIF" in Image.SAVE
except ImportError:  # pragma: no cover - optional
    HEIF_WRITE = False

GEN_VERSION = 4  # bump when the generated set changes, so kept workdirs are rebuilt
TIER_RANK = {"identical": 0, "same_picture": 1, "near_copy": 2}
TIERS = tuple(TIER_RANK)
# name -> (kind, tier); kind: original | positive | negative.  Order = table order.
TRANSFORMS: dict[str, tuple[str, str | None]] = {
    "original": ("original", "identical"),
    "identical": ("positive", "identical"),
    "meta_exif": ("positive", "same_picture"),
    "meta_xmp": ("positive", "same_picture"),
    "jpeg_q60_85": ("positive", "near_copy"),
    "resize50": ("positive", "near_copy"),
    "resize25": ("positive", "near_copy"),
    "png": ("positive", "near_copy"),
    "webp": ("positive", "near_copy"),
    "heic": ("positive", "near_copy"),
    "rot_orient": ("positive", "near_copy"),
    "crop_border": ("positive", "near_copy"),
    "bright110": ("positive", "near_copy"),
    "levels": ("positive", "near_copy"),
    "watermark": ("positive", "near_copy"),
    "real_resized": ("positive", "near_copy"),
    "mirror": ("negative", None),
    "crop_big": ("negative", None),
    "overlap_a": ("negative", None),
    "overlap_b": ("negative", None),
    "content_paste": ("negative", None),
    "burst_cs639": ("negative", None),
    "burst_horses": ("negative", None),
    "burst_phototriage": ("negative", None),
    "bracket_sony": ("negative", None),
    "hdr_pair": ("negative", None),
}
ORDER = {t: i for i, t in enumerate(TRANSFORMS)}
PICTURE_EXT = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".heic", ".heif", ".avif"}


# --------------------------------------------------------------------------- choosing real photos


def _display(path: Path, draft: int | None = None) -> Image.Image:
    """The EXIF-oriented RGB picture (alpha flattened on white)."""
    with Image.open(path) as im:
        if draft:
            im.draft("RGB", (draft, draft))
        im = ImageOps.exif_transpose(im)
        if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
            im = im.convert("RGBA")
            bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
            im = Image.alpha_composite(bg, im)
        return im.convert("RGB")


def _sig(im: Image.Image) -> tuple[Any, np.ndarray]:
    g = np.asarray(im.convert("L").resize((32, 32), Image.BILINEAR), np.float64).ravel()
    return imagehash.phash(im, 8), (g - g.mean()) / (g.std() + 1e-6)


def _near(a: tuple[Any, np.ndarray], b: tuple[Any, np.ndarray]) -> bool:
    d = a[0] - b[0]
    corr = float(a[1] @ b[1]) / len(a[1])
    return corr >= 0.85 or (d <= 16 and corr >= 0.5)


def candidate_sources() -> list[Path]:
    """Real photos usable as originals: min side >= 400 px, no bursts, no known variants."""
    out = []
    for p in sorted(PHOTOS.rglob("*")):
        rel = p.relative_to(PHOTOS).as_posix()
        if not p.is_file() or p.suffix.lower() not in PICTURE_EXT or rel.startswith("bursts/"):
            continue
        if rel.startswith("exif-samples/jpg/hdr/") or "Elephants" in p.name:
            continue  # used as labelled real sets below
        if rel.startswith("imagededup-ukbench-subset/") and "/base_images/" not in rel:
            continue  # flipped/rotated/format variants of the base images
        if rel.startswith("exif-samples/jpg/orientation/") and not p.stem.endswith("_1"):
            continue  # the same two pictures under all 8 orientations
        try:
            with Image.open(p) as im:
                if min(im.size) < 400:
                    continue
                im.verify()
        except Exception:
            continue
        out.append(p)
    return out


def pick_originals(n: int) -> list[Path]:
    """n distinct photos, round-robin over source folders, skipping near-identical and flat ones."""
    by_folder: dict[str, list[Path]] = defaultdict(list)
    for p in candidate_sources():
        by_folder[p.parent.relative_to(PHOTOS).as_posix()].append(p)
    order = [p for tier in itertools.zip_longest(*by_folder.values()) for p in tier if p is not None]
    chosen: list[tuple[Path, tuple[Any, np.ndarray]]] = []
    for p in order:
        try:
            im = _display(p, draft=512)
        except Exception:
            continue
        if np.asarray(im.convert("L").resize((64, 64), Image.BILINEAR), np.float64).std() < 8:
            continue  # flat test cards (a uniform grey, a blue card with a word): no picture to tell apart
        sig = _sig(im)
        if any(_near(sig, s) for _, s in chosen):
            continue
        chosen.append((p, sig))
        if len(chosen) == n:
            break
    if len(chosen) < n:
        print(f"note: only {len(chosen)} distinct source photos available (asked for {n})", file=sys.stderr)
    return [p for p, _ in chosen]


def real_negative_sets() -> list[tuple[str, list[Path]]]:
    """Real different frames of one scene: (category, files); every file is its own photograph."""
    b = PHOTOS / "bursts"
    out: list[tuple[str, list[Path]]] = []
    lab = b / "cs639_iphone_series" / "cs639_labels.csv"
    if lab.exists():
        series: dict[str, list[str]] = defaultdict(list)
        for r in csv.DictReader(lab.open()):
            series[r["burst_id_1s"]].append(r["file"])
        per_set: Counter[str] = Counter()
        for bid, files in sorted(series.items()):
            s = bid.rsplit("-", 1)[0]
            folder = "Julia2_resized800" if s == "Julia2" else s
            paths = [b / "cs639_iphone_series" / folder / Path(f).name for f in files[:2]]
            if len(files) >= 2 and per_set[s] < 5 and all(p.exists() for p in paths):
                per_set[s] += 1
                out.append(("burst_cs639", paths))
    lab = b / "horses_p6_culling" / "horses_all_exif.csv"
    if lab.exists():
        series = defaultdict(list)
        for r in csv.DictReader(lab.open()):
            if r["in_subset"] == "1":
                series[r["burst_id_1s"]].append(r["file"])
        multi = [fs for _, fs in sorted(series.items(), key=lambda kv: int(kv[0])) if len(fs) >= 2]
        for fs in multi[:: max(1, len(multi) // 8)][:8]:
            out.append(("burst_horses", [b / "horses_p6_culling" / "images" / f for f in fs[:2]]))
    for d in sorted((b / "phototriage" / "demos_auto-triage").glob("scenario-*")):
        out.append(("burst_phototriage", sorted(d.glob("*.jpg"))))
    lab = b / "sony_rx100_brackets" / "groups.csv"
    if lab.exists():
        groups: dict[str, list[Path]] = defaultdict(list)
        for r in csv.DictReader(lab.open()):
            if r["group_id"]:
                groups[r["group_id"]].append(b / "sony_rx100_brackets" / r["file"])
        out += [("bracket_sony", fs) for _, fs in sorted(groups.items())]
    hdr = PHOTOS / "exif-samples" / "jpg" / "hdr"
    for cam in ("canon", "iphone"):
        fs = [hdr / f"{cam}_hdr_NO.jpg", hdr / f"{cam}_hdr_YES.jpg"]
        if all(p.exists() for p in fs):
            out.append(("hdr_pair", fs))
    return [(c, [p for p in fs if p.exists()]) for c, fs in out if len([p for p in fs if p.exists()]) >= 2]


# --------------------------------------------------------------------------- JPEG metadata surgery


def jpeg_header_segments(data: bytes) -> tuple[list[tuple[int, bytes]], int]:
    """(marker, whole segment bytes) of the segments before the first non-APP/COM marker, and its offset."""
    if data[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG")
    i, segs = 2, []
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            raise ValueError(f"bad JPEG marker at {i}")
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if not (0xE0 <= marker <= 0xEF or marker == 0xFE):
            return segs, i
        n = int.from_bytes(data[i + 2 : i + 4], "big")
        segs.append((marker, data[i : i + 2 + n]))
        i += 2 + n
    raise ValueError("no image data in JPEG")


def _segment(marker: int, payload: bytes) -> bytes:
    if len(payload) + 2 > 0xFFFF:
        raise ValueError("segment too large")
    return bytes((0xFF, marker)) + (len(payload) + 2).to_bytes(2, "big") + payload


def rewrite_jpeg_metadata(data: bytes, *, exif: bytes | None = None, extra: Sequence[bytes] = ()) -> bytes:
    """The same JPEG with its Exif APP1 replaced by ``exif`` (a full "Exif\\0\\0..." payload) and
    ``extra`` segments appended after the header segments; tables and scans byte-for-byte unchanged."""
    segs, body = jpeg_header_segments(data)
    out = []
    done = exif is None
    for marker, seg in segs:
        if marker == 0xE1 and seg[4:10] == b"Exif\x00\x00" and not done:
            out.append(_segment(0xE1, exif))  # type: ignore[arg-type]
            done = True
        else:
            out.append(seg)
    if not done:  # no Exif yet: insert after APP0 (JFIF) if present, else first
        at = 1 if segs and segs[0][0] == 0xE0 else 0
        out.insert(at, _segment(0xE1, exif))  # type: ignore[arg-type]
    new = b"\xff\xd8" + b"".join(out) + b"".join(extra) + data[body:]
    assert new[len(new) - (len(data) - body):] == data[body:]
    return new


def _edited_exif(data: bytes, serial: int) -> bytes:
    with Image.open(io.BytesIO(data)) as im:
        ex = im.getexif()
    ex[0x0132] = f"2031:0{1 + serial % 9}:1{serial % 10} 12:34:56"  # DateTime (modified)
    ex[0x013B] = "Lumina Bench"  # Artist
    ex[0x010E] = f"metadata edited by the duplicate benchmark #{serial}"  # ImageDescription
    ex[0x8298] = "(c) bench"  # Copyright
    return ex.tobytes()


def _xmp_segments(serial: int) -> list[bytes]:
    packet = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/"'
        f' xmp:Rating="{1 + serial % 5}"><dc:subject><rdf:Bag><rdf:li>bench</rdf:li><rdf:li>tag{serial}</rdf:li>'
        '</rdf:Bag></dc:subject></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    ).encode()
    return [_segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + packet), _segment(0xFE, f"edited #{serial}".encode())]


# --------------------------------------------------------------------------- transformations


def _crop(im: Image.Image, left: float, top: float, right: float, bottom: float) -> Image.Image:
    w, h = im.size
    return im.crop((round(left * w), round(top * h), round(w - right * w), round(h - bottom * h)))


def _resize(im: Image.Image, f: float) -> Image.Image:
    return im.resize((max(8, round(im.width * f)), max(8, round(im.height * f))), Image.LANCZOS)


def _levels(im: Image.Image, lo: int = 12, hi: int = 240, gamma: float = 0.9) -> Image.Image:
    lut = [round(255 * min(1.0, max(0.0, (i - lo) / (hi - lo))) ** gamma) for i in range(256)]
    return im.point(lut * 3)


def _watermark(im: Image.Image, rng: random.Random) -> tuple[Image.Image, float]:
    """White text with a dark outline in a random corner; returns (image, share of area covered by its box)."""
    im = im.copy()
    w, h = im.size
    text = "(c) Lumina Photo 2024"
    target = rng.uniform(0.02, 0.03) * w * h
    size = 8
    font = ImageFont.load_default(size=size)
    d = ImageDraw.Draw(im)
    while True:
        nxt = ImageFont.load_default(size=size + 1)
        x0, y0, x1, y1 = d.textbbox((0, 0), text, font=nxt, stroke_width=max(1, (size + 1) // 12))
        if (x1 - x0) * (y1 - y0) > target or x1 - x0 > 0.6 * w:
            break
        size, font = size + 1, nxt
    sw = max(1, size // 12)
    x0, y0, x1, y1 = d.textbbox((0, 0), text, font=font, stroke_width=sw)
    tw, th = x1 - x0, y1 - y0
    m = max(4, round(0.02 * min(w, h)))
    corner = rng.randrange(4)
    x = m if corner in (0, 2) else w - tw - m
    y = m if corner in (0, 1) else h - th - m
    d.text((x - x0, y - y0), text, font=font, fill=(255, 255, 255), stroke_width=sw, stroke_fill=(0, 0, 0))
    return im, tw * th / (w * h)


def _rotated_with_tag(im: Image.Image, tag: int) -> Image.Image:
    """Stored pixels such that EXIF Orientation ``tag`` (6 or 8) displays ``im``."""
    return im.transpose(Image.Transpose.ROTATE_90 if tag == 6 else Image.Transpose.ROTATE_270)


def _exif_bytes(ex: Image.Exif, **set_tags: Any) -> bytes:
    ex = Image.Exif() if ex is None else ex
    for k, v in set_tags.items():
        tag = {"orientation": 0x0112}[k]
        if v is None:
            ex.pop(tag, None)
        else:
            ex[tag] = v
    if not len(ex):
        return b""
    b = ex.tobytes()
    return b if len(b) < 60000 else b""


def _save(im: Image.Image, path: Path, fmt: str, *, exif: bytes, icc: bytes | None, **kw: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if exif:
        kw["exif"] = exif
    if icc:
        kw["icc_profile"] = icc
    try:
        im.save(path, fmt, **kw)
    except Exception:  # odd EXIF/ICC the encoder refuses: keep the pixels, drop the metadata
        kw.pop("exif", None)
        kw.pop("icc_profile", None)
        im.save(path, fmt, **kw)


def make_original(job: tuple[int, str, str, int, int, str]) -> list[dict[str, Any]]:
    """Write one original with its copies and negatives; returns the file records."""
    idx, src, donor, max_edge, seed, out = job
    rng = random.Random(seed * 100_003 + idx)
    root = Path(out)
    oid = f"o{idx:03d}"
    with Image.open(src) as raw:
        icc = raw.info.get("icc_profile")
    disp = _display(Path(src))
    if max(disp.size) > max_edge:
        disp.thumbnail((max_edge, max_edge), Image.LANCZOS)
    try:
        with Image.open(src) as raw:
            ex = raw.getexif() if raw.format in ("JPEG", "MPO", "HEIF", "PNG", "WEBP") else Image.Exif()
    except Exception:
        ex = Image.Exif()
    base_exif = _exif_bytes(ex, orientation=None)
    recs: list[dict[str, Any]] = []

    def rec(rel: str, transform: str, pid: str | None = None, **extra: Any) -> None:
        recs.append({"path": rel, "photo": pid or oid, "transform": transform, "source": Path(src).relative_to(PHOTOS).as_posix(), **extra})

    def jpeg(im: Image.Image, rel: str, transform: str, q: int = 92, exif: bytes | None = None, pid: str | None = None, **extra: Any) -> None:
        _save(im, root / rel, "JPEG", exif=base_exif if exif is None else exif, icc=icc, quality=q)
        rec(rel, transform, pid, **extra)

    orig_rel = f"originals/{oid}.jpg"
    jpeg(disp, orig_rel, "original")
    data = (root / orig_rel).read_bytes()
    # tier identical / same_picture: byte surgery on the original file
    (root / "backup" / "2024").mkdir(parents=True, exist_ok=True)
    (root / "backup" / "2024" / f"IMG_{idx:04d}.jpg").write_bytes(data)
    rec(f"backup/2024/IMG_{idx:04d}.jpg", "identical")
    for name, new in (("meta_exif", rewrite_jpeg_metadata(data, exif=_edited_exif(data, idx))),
                      ("meta_xmp", rewrite_jpeg_metadata(data, extra=_xmp_segments(idx)))):
        p = root / name / f"{oid}_{name}.jpg"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(new)
        rec(p.relative_to(root).as_posix(), name)
    # tier near_copy
    q = rng.randint(60, 85)
    jpeg(disp, f"jpeg_q60_85/{oid}_q{q}.jpg", "jpeg_q60_85", q=q, quality=q)
    jpeg(_resize(disp, 0.5), f"resize50/{oid}_half.jpg", "resize50", q=90)
    jpeg(_resize(disp, 0.25), f"resize25/{oid}_quarter.jpg", "resize25", q=90)
    _save(disp, root / f"png/{oid}.png", "PNG", exif=base_exif, icc=icc, compress_level=1)
    rec(f"png/{oid}.png", "png")
    _save(disp, root / f"webp/{oid}.webp", "WEBP", exif=base_exif, icc=icc, quality=80)
    rec(f"webp/{oid}.webp", "webp")
    if HEIF_WRITE:
        _save(disp, root / f"heic/{oid}.heic", "HEIF", exif=base_exif, icc=icc, quality=80,
              enc_params={"preset": "ultrafast"})  # x265's default preset takes ~3 s a picture
        rec(f"heic/{oid}.heic", "heic")
    tag = 6 if idx % 2 == 0 else 8
    jpeg(_rotated_with_tag(disp, tag), f"rot_orient/{oid}_o{tag}.jpg", "rot_orient",
         exif=_exif_bytes(Image.Exif() if not base_exif else _reload_exif(base_exif), orientation=tag), orientation=tag)
    f, t1, t2 = rng.uniform(0.02, 0.04), rng.random(), rng.random()
    jpeg(_crop(disp, f * t1, f * t2, f * (1 - t1), f * (1 - t2)), f"crop_border/{oid}_crop.jpg", "crop_border", crop=round(f, 4))
    jpeg(ImageEnhance.Brightness(disp).enhance(1.1), f"bright110/{oid}_bright.jpg", "bright110")
    jpeg(_levels(disp), f"levels/{oid}_levels.jpg", "levels")
    wm, share = _watermark(disp, rng)
    jpeg(wm, f"watermark/{oid}_wm.jpg", "watermark", area=round(share, 4))
    # negatives: each one its own photograph
    jpeg(disp.transpose(Image.Transpose.FLIP_LEFT_RIGHT), f"mirror/{oid}_mirror.jpg", "mirror", pid=f"{oid}~mirror")
    a = rng.uniform(0.2, 0.4)
    s = math.sqrt(1 - a)
    ox, oy = rng.random(), rng.random()
    jpeg(_crop(disp, (1 - s) * ox, (1 - s) * oy, (1 - s) * (1 - ox), (1 - s) * (1 - oy)),
         f"crop_big/{oid}_crop{round(100 * a)}.jpg", "crop_big", pid=f"{oid}~crop_big", crop=round(a, 3))
    jpeg(_crop(disp, 0, 0, 0.25, 0.2), f"overlap/{oid}_a.jpg", "overlap_a", pid=f"{oid}~overlap_a")
    jpeg(_crop(disp, 0.25, 0.2, 0, 0), f"overlap/{oid}_b.jpg", "overlap_b", pid=f"{oid}~overlap_b")
    patch_src = _display(Path(donor), draft=1024)
    pw, ph = round(0.4 * disp.width), round(0.4 * disp.height)
    patch = ImageOps.fit(patch_src, (pw, ph), Image.LANCZOS)
    edited = disp.copy()
    edited.paste(patch, (rng.randint(0, disp.width - pw), rng.randint(0, disp.height - ph)))
    jpeg(edited, f"content_paste/{oid}_paste.jpg", "content_paste", pid=f"{oid}~content_paste")
    return recs


def _reload_exif(b: bytes) -> Image.Exif:
    ex = Image.Exif()
    ex.load(b)
    return ex


def build_set(workdir: Path, n: int, seed: int, max_edge: int) -> dict[str, Any]:
    """Generate (or reuse) the labelled set under workdir/photos; returns the ground truth."""
    photos = workdir / "photos"
    truth_path = workdir / "truth.json"
    params = {"version": GEN_VERSION, "originals": n, "seed": seed, "max_edge": max_edge, "heic": HEIF_WRITE}
    if truth_path.exists():
        truth = json.loads(truth_path.read_text())
        if truth.get("params") == params and all((photos / r["path"]).exists() for r in truth["files"]):
            print(f"reusing the labelled set in {photos}", file=sys.stderr)
            return truth
    shutil.rmtree(photos, ignore_errors=True)
    photos.mkdir(parents=True)
    t0 = time.perf_counter()
    srcs = pick_originals(n)
    jobs = [(i, str(p), str(srcs[(i + len(srcs) // 2) % len(srcs)]), max_edge, seed, str(photos)) for i, p in enumerate(srcs)]
    files: list[dict[str, Any]] = []
    with cf.ProcessPoolExecutor(max(1, min(2, os.cpu_count() or 1))) as ex:
        for recs in ex.map(make_original, jobs):
            files += recs
    # labelled real sets, copied as they are
    for p in sorted((PHOTOS / "debian-mate-backgrounds").glob("*Elephants*")):
        dst = photos / "real_elephants" / p.name
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(p, dst)
        files.append({"path": dst.relative_to(photos).as_posix(), "photo": "elephants", "transform": "real_resized",
                      "source": p.relative_to(PHOTOS).as_posix()})
    for k, (cat, fs) in enumerate(real_negative_sets()):
        for p in fs:
            rel_src = p.relative_to(PHOTOS).as_posix()
            dst = photos / "real_series" / f"{k:02d}_{cat}" / p.name
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(p, dst)
            files.append({"path": dst.relative_to(photos).as_posix(), "photo": f"real:{rel_src}", "transform": cat, "source": rel_src})
    for r in files:
        kind, tier = TRANSFORMS[r["transform"]]
        r["kind"], r["tier"] = kind, tier
    truth = {"params": params, "originals": len(srcs), "files": files, "generate_s": round(time.perf_counter() - t0, 1)}
    truth_path.write_text(json.dumps(truth, indent=1))
    print(f"generated {len(files)} files from {len(srcs)} originals in {truth['generate_s']} s", file=sys.stderr)
    return truth


def self_check(truth: dict[str, Any], photos: Path) -> list[str]:
    """Check that the labels mean what they say (byte copies, untouched entropy data, orientation)."""
    problems = []
    by_photo: dict[str, dict[str, str]] = defaultdict(dict)
    for r in truth["files"]:
        by_photo[r["photo"]][r["transform"]] = r["path"]
    for pid, t in by_photo.items():
        if "original" not in t:
            continue
        data = (photos / t["original"]).read_bytes()
        body = data[jpeg_header_segments(data)[1]:]
        if "identical" in t and (photos / t["identical"]).read_bytes() != data:
            problems.append(f"{pid}: identical copy differs")
        for m in ("meta_exif", "meta_xmp"):
            other = (photos / t[m]).read_bytes()
            if other == data or other[jpeg_header_segments(other)[1]:] != body:
                problems.append(f"{pid}: {m} is not a same-pixels metadata edit")
        if "rot_orient" in t:
            a = np.asarray(_display(photos / t["original"]).convert("L"), np.float64)
            b = np.asarray(_display(photos / t["rot_orient"]).convert("L"), np.float64)
            if a.shape != b.shape or np.abs(a - b).mean() > 6:
                problems.append(f"{pid}: rot_orient does not display like the original")
    return problems


# --------------------------------------------------------------------------- running the tools


def _cli() -> list[str]:
    exe = ROOT / ".venv" / "bin" / "lumina-desktop"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "lumina_desktop"]


def cli_has_duplicates() -> bool:
    r = subprocess.run([*_cli(), "duplicates", "--help"], capture_output=True, text=True)
    return r.returncode == 0 and "find" in r.stdout and "list" in r.stdout


def _rows_from_json(doc: Any) -> list[dict[str, Any]]:
    """Member rows from ``duplicates list --format json`` (a list of rows, or groups with members)."""
    if isinstance(doc, dict):
        for key in ("rows", "members", "groups", "items", "results"):
            if isinstance(doc.get(key), list):
                doc = doc[key]
                break
        else:
            raise ValueError(f"unexpected JSON keys {sorted(doc)[:10]}")
    rows: list[dict[str, Any]] = []
    for item in doc:
        if isinstance(item, dict) and isinstance(item.get("members"), list):
            gid = item.get("group_id", item.get("id"))
            for m in item["members"]:
                rows.append({"group_id": gid, "tier": item.get("tier"), **m})
        else:
            rows.append(item)
    return rows


def run_lumina_cli(photos: Path, catalog: str = "bench") -> tuple[list[dict[str, Any]], dict[str, float], str]:
    base = Path(tempfile.mkdtemp(prefix="lumina-bench-dup-"))
    os.chmod(base, 0o755)
    data = base / "data"
    cmd = [*_cli(), "--data-dir", str(data)]
    times: dict[str, float] = {}
    log = []
    try:
        for name, args in (("scan", ["scan", str(photos), "--catalog", catalog]),
                           ("find", ["duplicates", "find", "--catalog", catalog]),
                           ("list", ["duplicates", "list", "--catalog", catalog, "--format", "json"])):
            t0 = time.perf_counter()
            r = subprocess.run([*cmd, *args], capture_output=True, text=True)
            times[name] = time.perf_counter() - t0
            if r.returncode != 0:
                raise SystemExit(f"{' '.join(args)} failed ({r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
            if name != "list":
                log.append(r.stdout.strip())
        rows = _rows_from_json(json.loads(r.stdout))
    finally:
        subprocess.run([*cmd, "db", "stop"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)
    return rows, times, "\n".join(log)


def run_lumina_direct(photos: Path, workers: int = 2) -> tuple[list[dict[str, Any]], dict[str, float], str]:
    """The job's pieces in-process: analyse_file on a thread pool, then find_duplicate_groups."""
    from lumina_desktop.analysis.duplicates import find_duplicate_groups
    from lumina_desktop.core.duplicates import PhotoFingerprint
    from lumina_desktop.analysis.ingest import analyse_file
    from lumina_desktop.core.media import MediaKind

    import logging

    # every true group here has 15 files (> MAX_GROUP_SIZE): do not log each one; the report counts them
    logging.getLogger("lumina_desktop.analysis.duplicates").setLevel(logging.ERROR)
    paths = sorted(p for p in photos.rglob("*") if p.is_file())

    def one(p: Path) -> Any:
        try:
            return analyse_file(p)
        except Exception as exc:  # reported, not fatal
            return exc

    t0 = time.perf_counter()
    with cf.ThreadPoolExecutor(workers) as ex:
        results = list(ex.map(one, paths))
    t1 = time.perf_counter()
    fps, errors = [], []
    for i, (p, res) in enumerate(zip(paths, results)):
        if isinstance(res, Exception) or res.perceptual is None:
            errors.append(f"{p.relative_to(photos)}: {res}")
            continue
        m, per = res.metadata, res.perceptual
        fps.append(PhotoFingerprint(
            id=i, content_hash=res.identity.content_hash, image_data_hash=res.identity.image_data_hash,
            phash=per.phash, dhash=per.dhash, grey=per.grey, aspect=per.aspect,
            width=m.width or 0, height=m.height or 0, size=res.identity.size, format=res.format,
            is_raw=res.kind is MediaKind.RAW, has_camera_exif=bool(m.make or m.model),
            capture_time=m.capture_time, mtime=p.stat().st_mtime, path=str(p)))
    groups = find_duplicate_groups(fps)
    t2 = time.perf_counter()
    path_of = {fp.id: fp.path for fp in fps}
    rows = []
    for g in groups:
        rows.append({"group_id": g.keeper_id, "tier": g.tier, "path": path_of[g.keeper_id], "is_keeper": True,
                     "reason": None, "similarity": None, "match": None})
        for m in g.members:
            rows.append({"group_id": g.keeper_id, "tier": m.tier, "path": path_of[m.photo_id], "is_keeper": False,
                         "reason": m.reason, "similarity": m.similarity, "match": m.match,
                         "copy_of": path_of[m.copy_of] if m.copy_of is not None else ""})
    note = f"analysed {len(fps)} files, {len(errors)} errors" + "".join(f"\n  error: {e}" for e in errors[:10])
    return rows, {"analyse": t1 - t0, "group": t2 - t1}, note


def run_findimagedupes(photos: Path, thresholds: Sequence[str]) -> list[tuple[str, list[list[str]], float, list[str]]]:
    """(threshold, groups, seconds, warnings) per threshold.  The first run starts from an empty
    fingerprint db (its time includes fingerprinting); later ones reuse it (compare time only)."""
    exe = shutil.which("findimagedupes")
    if exe is None:
        raise FileNotFoundError("findimagedupes not installed (apt-get install findimagedupes)")
    out = []
    with tempfile.TemporaryDirectory(prefix="fid-") as tmp:
        for t in thresholds:
            t0 = time.perf_counter()
            r = subprocess.run([exe, "-R", "-t", t, "-f", str(Path(tmp) / "fp.db"), "--", str(photos)],
                               capture_output=True, text=True)
            dt = time.perf_counter() - t0
            if r.returncode not in (0, 1):
                raise RuntimeError(f"findimagedupes failed ({r.returncode}): {r.stderr[-2000:]}")
            groups = [line.split() for line in r.stdout.splitlines() if line.strip()]
            out.append((t, groups, dt, [w for w in r.stderr.splitlines() if w.strip()]))
    return out


# --------------------------------------------------------------------------- scoring


def _ratio(a: int, b: int) -> float | None:
    return a / b if b else None


def score(truth: dict[str, Any], photos: Path, groups: Sequence[Sequence[str]],
          rows: Sequence[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Pairwise scores of groups (lists of paths, absolute or relative to photos)."""
    files = {r["path"]: r for r in truth["files"]}
    real_root = os.path.realpath(photos)

    def rel(p: str) -> str:
        rp = os.path.realpath(p if os.path.isabs(p) else os.path.join(real_root, p))
        return os.path.relpath(rp, real_root)

    gs = [[rel(p) for p in g] for g in groups]
    unknown = sorted({p for g in gs for p in g if p not in files})
    gs = [[p for p in g if p in files] for g in gs]
    gs = [g for g in gs if len(g) >= 2]
    group_of = {p: i for i, g in enumerate(gs) for p in g}

    def ftier(p: str) -> int:
        return TIER_RANK[files[p]["tier"]] if files[p]["tier"] else 2

    # true pairs
    by_photo: dict[str, list[str]] = defaultdict(list)
    for p, r in files.items():
        by_photo[r["photo"]].append(p)
    true_by_tier: Counter[str] = Counter()
    hit_by_tier: Counter[str] = Counter()
    true_by_t: Counter[str] = Counter()
    hit_by_t: Counter[str] = Counter()
    n_true = n_hit = 0
    for ps in by_photo.values():
        for a, b in itertools.combinations(sorted(ps), 2):
            tier = TIERS[max(ftier(a), ftier(b))]
            hit = a in group_of and group_of.get(a) == group_of.get(b)
            n_true += 1
            n_hit += hit
            true_by_tier[tier] += 1
            hit_by_tier[tier] += hit
            for t in {files[a]["transform"], files[b]["transform"]}:
                true_by_t[t] += 1
                hit_by_t[t] += hit
    # predicted pairs
    n_pred = 0
    fp_by_t: Counter[str] = Counter()
    fp_examples: dict[str, list[str]] = defaultdict(list)
    mixed = []
    for g in gs:
        n_pred += len(g) * (len(g) - 1) // 2
        if len({files[p]["photo"] for p in g}) > 1:
            mixed.append(g)
        for a, b in itertools.combinations(g, 2):
            if files[a]["photo"] == files[b]["photo"]:
                continue
            ka, kb = files[a]["kind"] == "negative", files[b]["kind"] == "negative"
            if ka != kb:
                blame = a if ka else b
            else:
                blame = max((a, b), key=lambda p: (ORDER[files[p]["transform"]], p))
            t = files[blame]["transform"]
            fp_by_t[t] += 1
            if len(fp_examples[t]) < 3:
                other = b if blame == a else a
                fp_examples[t].append(f"{blame} ~ {other}")
    # per file: grouped with its original (or, for sets without one, with any file of its photograph)
    found_by_t: Counter[str] = Counter()
    files_by_t: Counter[str] = Counter()
    joined_by_t: Counter[str] = Counter()
    anchor = {pid: next((p for p in ps if files[p]["transform"] == "original"), None) for pid, ps in by_photo.items()}
    for p, r in files.items():
        t = r["transform"]
        files_by_t[t] += 1
        g = group_of.get(p)
        if g is None:
            continue
        mates = [q for q in gs[g] if q != p]
        if any(files[q]["photo"] != r["photo"] for q in mates):
            joined_by_t[t] += 1
        a = anchor[r["photo"]]
        if (a is not None and a != p and a in mates) or ((a is None or a == p) and any(files[q]["photo"] == r["photo"] for q in mates)):
            found_by_t[t] += 1
    res: dict[str, Any] = {
        "precision": _ratio(n_pred - sum(fp_by_t.values()), n_pred), "recall": _ratio(n_hit, n_true),
        "true_pairs": n_true, "predicted_pairs": n_pred, "true_positive_pairs": n_hit, "false_pairs": sum(fp_by_t.values()),
        "recall_by_tier": {t: _ratio(hit_by_tier[t], true_by_tier[t]) for t in TIERS},
        "true_pairs_by_tier": dict(true_by_tier),
        "groups": len(gs), "files_in_groups": len(group_of), "largest_group": max((len(g) for g in gs), default=0),
        "largest_true_group": max(len(ps) for ps in by_photo.values()), "groups_over_10": sum(len(g) > 10 for g in gs),
        "mixed_groups": len(mixed), "mixed_group_examples": [sorted(g)[:8] for g in mixed[:5]],
        "pair_recall_by_transform": {t: _ratio(hit_by_t[t], true_by_t[t]) for t in TRANSFORMS if true_by_t[t]},
        "found_with_original_by_transform": {t: _ratio(found_by_t[t], files_by_t[t]) for t in TRANSFORMS
                                             if files_by_t[t] and TRANSFORMS[t][0] == "positive"},
        "false_pairs_by_transform": {t: fp_by_t[t] for t in TRANSFORMS if fp_by_t[t]},
        "files_wrongly_joined_by_transform": {t: joined_by_t[t] for t in TRANSFORMS if joined_by_t[t]},
        "false_pair_examples": dict(fp_examples),
        "unknown_paths": unknown[:10],
    }
    if rows is not None:
        res.update(_tier_checks(rows, files, rel, photos))
    return res


def _tier_checks(rows: Sequence[dict[str, Any]], files: dict[str, dict[str, Any]], rel: Any, photos: Path) -> dict[str, Any]:
    """Lumina's reported member tier vs the truth: member-vs-keeper precision per tier, tier mislabels, unverified."""
    by_group: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_group[r["group_id"]].append(r)
    ok: Counter[str] = Counter()
    n: Counter[str] = Counter()
    mislabel: Counter[str] = Counter()
    unverified = 0
    matches: Counter[str] = Counter()
    keepers: Counter[str] = Counter()
    for members in by_group.values():
        keeper = next((m for m in members if m.get("is_keeper")), None)
        if keeper is None:
            continue
        k = rel(keeper["path"])
        keepers[files[k]["transform"] if k in files else "?"] += 1
        for m in members:
            if m is keeper:
                continue
            p, tier = rel(m["path"]), str(m.get("tier"))
            # a copy's tier is measured against the member it copies (copy_of), else the keeper
            k = rel(m["copy_of"]) if m.get("copy_of") else rel(keeper["path"])
            match = str(m.get("match") or "")
            matches[match.split(" (")[0]] += 1
            unverified += "unverified" in match
            n[tier] += 1
            if k not in files or p not in files or files[k]["photo"] != files[p]["photo"]:
                continue
            ok[tier] += 1
            true_tier = TIERS[max(TIER_RANK[files[k]["tier"] or "near_copy"], TIER_RANK[files[p]["tier"] or "near_copy"])]
            if tier == "identical":
                correct = (photos / k).read_bytes() == (photos / p).read_bytes()
            else:
                correct = tier == true_tier
            mislabel[tier] += not correct
    return {
        "member_precision_by_reported_tier": {t: _ratio(ok[t], n[t]) for t in TIERS if n[t]},
        "members_by_reported_tier": {t: n[t] for t in TIERS if n[t]},
        "tier_mislabels": {t: mislabel[t] for t in TIERS if mislabel[t]},
        "unverified_members": unverified,
        "members_by_match": dict(matches),
        "keepers_by_transform": dict(keepers.most_common()),
    }


def groups_from_rows(rows: Iterable[dict[str, Any]]) -> list[list[str]]:
    out: dict[Any, list[str]] = defaultdict(list)
    for r in rows:
        out[r["group_id"]].append(r["path"])
    return list(out.values())


# --------------------------------------------------------------------------- report


def _f(v: Any, pct: bool = False) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{100 * v:.1f}%" if pct else f"{v:.4f}"
    return str(v)


def print_report(truth: dict[str, Any], results: dict[str, dict[str, Any]]) -> None:
    tools = list(results)
    counts = Counter(r["transform"] for r in truth["files"])
    print(f"\nset: {len(truth['files'])} files, {truth['originals']} originals, "
          f"{sum(1 for r in truth['files'] if r['kind'] == 'negative')} negatives; "
          f"{next(iter(results.values()))['true_pairs']} true pairs; a correct group has up to "
          f"{next(iter(results.values()))['largest_true_group']} files (more than MAX_GROUP_SIZE = 10 by design)")
    w = max(26, *(len(n) + 2 for n in tools))
    print(f"\n{'tool':<{w}}{'precision':>10}{'recall':>9}{'identical':>11}{'same_pic':>10}{'near_copy':>11}"
          f"{'mixed grp':>11}{'largest':>9}{'groups':>8}{'seconds':>9}")
    for name in tools:
        r = results[name]
        rt = r["recall_by_tier"]
        print(f"{name:<{w}}{_f(r['precision']):>10}{_f(r['recall']):>9}{_f(rt['identical']):>11}{_f(rt['same_picture']):>10}"
              f"{_f(rt['near_copy']):>11}{r['mixed_groups']:>11}{r['largest_group']:>9}{r['groups']:>8}{r['seconds']:>9.1f}")
    for name in tools:
        if results[name].get("timing"):
            print(f"  {name} timing: " + ", ".join(f"{k} {v:.1f} s" for k, v in results[name]["timing"].items()))
    print("\nrecall by transformation (found = grouped with its original; pairs = pair recall over pairs with that file)")
    head = f"{'transformation':<16}{'tier':<14}{'files':>6}" + "".join(f"{n[:14] + ' found':>21}{'pairs':>8}" for n in tools)
    print(head)
    for t, (kind, tier) in TRANSFORMS.items():
        if kind == "negative" or not counts[t]:
            continue
        cells = "".join(f"{_f(results[n]['found_with_original_by_transform'].get(t), True):>21}"
                        f"{_f(results[n]['pair_recall_by_transform'].get(t), True):>8}" for n in tools)
        print(f"{t:<16}{tier or '':<14}{counts[t]:>6}{cells}")
    print("\nfalse positives by transformation (pairs blamed on the wrongly joined file; files = files of that"
          " transformation sharing a group with another photograph)")
    print(f"{'transformation':<18}{'files':>6}" + "".join(f"{n[:14] + ' pairs':>21}{'files':>7}" for n in tools))
    for t in TRANSFORMS:
        if not counts[t] or t == "original":
            continue
        vals = [(results[n]["false_pairs_by_transform"].get(t, 0), results[n]["files_wrongly_joined_by_transform"].get(t, 0)) for n in tools]
        if TRANSFORMS[t][0] == "negative" or any(a or b for a, b in vals):
            print(f"{t:<18}{counts[t]:>6}" + "".join(f"{a:>21}{b:>7}" for a, b in vals))
    for name in tools:
        r = results[name]
        if "member_precision_by_reported_tier" in r:
            print(f"\n{name}: members by reported tier {r['members_by_reported_tier']}, member-vs-keeper precision "
                  + ", ".join(f"{t} {_f(v)}" for t, v in r["member_precision_by_reported_tier"].items())
                  + f"; tier mislabels {r['tier_mislabels'] or 0}; unverified members {r['unverified_members']}; "
                  f"matches {r['members_by_match']}; keepers by transformation {r['keepers_by_transform']}")
        shown = sorted(r["false_pair_examples"].items(), key=lambda kv: (TRANSFORMS[kv[0]][0] != "negative", ORDER[kv[0]]))
        for t, ex in shown[:8]:
            print(f"  {name} false pair [{t}]: " + "; ".join(ex))
        if len(shown) > 8:
            print(f"  {name}: false pairs blamed on {len(shown) - 8} more transformations (see the JSON)")
        for g in r["mixed_group_examples"][:3]:
            print(f"  {name} mixed group: {g}")
        if r.get("unknown_paths"):
            print(f"  {name}: paths not in the truth: {r['unknown_paths']}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--originals", type=int, default=120)
    ap.add_argument("--workdir", help="keep the labelled set here (reused when the parameters match)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--max-edge", type=int, default=2048, help="long edge cap of the generated originals (px)")
    ap.add_argument("--direct", action="store_true", help="run analyse_file + find_duplicate_groups in-process, not the CLI")
    ap.add_argument("--fid-threshold", default="90%",
                    help="findimagedupes -t, comma-separated for several (default 90%%, its default; "
                         "runs after the first reuse its fingerprints and time only the comparison)")
    ap.add_argument("--skip-fid", action="store_true", help="do not run findimagedupes")
    args = ap.parse_args()
    if not PHOTOS.is_dir():
        raise SystemExit(f"{PHOTOS} is missing: the set is made from the real photos there")
    tmp = None
    if args.workdir:
        workdir = Path(args.workdir).resolve()
        workdir.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.mkdtemp(prefix="lumina-bench-dupset-")
        workdir = Path(tmp)
    os.chmod(workdir, 0o755)
    photos = workdir / "photos"
    try:
        truth = build_set(workdir, args.originals, args.seed, args.max_edge)
        problems = self_check(truth, photos)
        for p in problems[:20]:
            print(f"label problem: {p}", file=sys.stderr)
        results: dict[str, dict[str, Any]] = {}
        mode = "direct" if args.direct else "cli"
        if mode == "cli" and not cli_has_duplicates():
            print("note: `lumina-desktop duplicates` is not available; running --direct", file=sys.stderr)
            mode = "direct"
        if mode == "cli":
            rows, times, log = run_lumina_cli(photos)
        else:
            rows, times, log = run_lumina_direct(photos)
        print(log, file=sys.stderr)
        if args.workdir:
            (workdir / "lumina_rows.json").write_text(json.dumps(rows, indent=0, default=str))
        name = f"lumina ({mode})"
        results[name] = score(truth, photos, groups_from_rows(rows), rows)
        results[name]["seconds"] = sum(times.values())
        results[name]["timing"] = times
        if not args.skip_fid:
            try:
                runs = run_findimagedupes(photos, [t.strip() for t in args.fid_threshold.split(",") if t.strip()])
            except FileNotFoundError as exc:
                print(f"note: {exc}", file=sys.stderr)
                runs = []
            for k, (thr, groups, dt, warns) in enumerate(runs):
                fname = f"findimagedupes -t {thr}" + (" (cached fp)" if k else "")
                if args.workdir:
                    (workdir / f"findimagedupes_groups_{thr.rstrip('%b')}.json").write_text(json.dumps(groups, indent=0))
                results[fname] = score(truth, photos, groups)
                results[fname]["seconds"] = dt
                unread = [w for w in warns if "fingerprint" in w]
                results[fname]["unreadable_files"] = len(unread)
                if unread and not k:
                    print(f"findimagedupes could not fingerprint {len(unread)} files, e.g. {unread[0]}", file=sys.stderr)
        print_report(truth, results)
        ok = results[name]
        figures = {
            "files": len(truth["files"]), "originals": truth["originals"], "true_pairs": ok["true_pairs"],
            "label_problems": len(problems), "lumina_mode": mode,
            "targets_met": bool((ok["precision"] or 0) >= 0.99 and (ok["recall"] or 0) >= 0.95 and ok["mixed_groups"] == 0),
            "tools": {n: {k: v for k, v in r.items() if k not in ("false_pair_examples", "mixed_group_examples")}
                      for n, r in results.items()},
        }
        print(json.dumps(figures, default=str))
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
