"""Measurements behind the duplicate thresholds, on real photos from ../shared/photos.

As a script it prints the full distribution table (takes ~3 minutes):

    python tests/analysis/test_dup_measurements.py [--recipe brief|prod] [--stride 1]

``--recipe brief``: fingerprints as in the duplicate-detector brief (phash on the
full oriented picture, grey = BILINEAR 64x64 of it); ``--recipe prod``: the
ingest code's ``analysis.perceptual.perceptual_data`` (LANCZOS from a 256 px
base). The thresholds hold for both. As a pytest module (marked slow) it runs
a small subset and checks the verdicts; it skips cleanly when the photos are
absent.

Last full run (brief recipe, 153 base photos, 6,127 pairs). pH = pHash-256
distance, low = 8x8 low-frequency block distance, cand = found by the index
(pH <= 15 or low <= 7), sim = trimmed SSIM after alignment, same = pixel
verification says copy, found = cand and same. The prod recipe agrees within
one point on every row (bursts: 0.4 % / 0.2 % / 0 % same).

    kind category                 n pH p50/max low p50/max   cand          sim min/p5/p50/p95/max   same  found
    neg  burst_cs639            245  124/150      28/39     10.2% 0.107 0.143 0.283 0.968 0.988   1.2%   1.2%
    neg  burst_horses           411   96/142      19/38      6.8% 0.239 0.323 0.597 0.838 0.989   0.2%   0.2%
    neg  burst_phototriage        5  120/140      26/36      0.0% 0.377 0.393 0.516 0.691 0.704   0.0%   0.0%
    neg  burst_sony_bracket     105  122/142      29/37     18.1% 0.129 0.196 0.378 0.977 0.992   0.0%   0.0%
    neg  crop10_c               153   74/126      10/21     19.6% 0.975 0.989 0.993 0.997 1.000   0.0%   0.0%
    neg  crop15_c               153  102/150      15/28      2.0% 0.732 0.880 0.940 0.978 0.999   0.0%   0.0%
    neg  crop20_left            153  116/150      24/34      0.0% 0.312 0.427 0.648 0.873 0.994   0.0%   0.0%
    neg  crop20_tl              153  124/152      29/39      0.0% 0.202 0.267 0.436 0.750 0.986   0.0%   0.0%
    neg  crop30_c               153  124/148      26/41      0.0% 0.107 0.217 0.376 0.770 0.994   0.0%   0.0%
    neg  edit_blob              153   42/122      11/34     27.5% 0.593 0.849 0.922 0.963 0.984   0.0%   0.0%
    neg  mirror                 153  128/138      32/34      0.0% 0.098 0.166 0.327 0.745 0.887   0.0%   0.0%
    neg  overlap_crops85        153  118/132      34/42      0.0% 0.075 0.180 0.399 0.740 0.971   0.0%   0.0%
    neg  random_different       459  128/156      32/47      0.0% 0.033 0.087 0.205 0.501 0.860   0.0%   0.0%
    neg  real_hdr_pair            2   55/94       11/16     50.0% 0.951 0.952 0.964 0.976 0.977   0.0%   0.0%
    neg  real_stereo              1   76/76        8/8       0.0% 0.730 0.730 0.730 0.730 0.730   0.0%   0.0%
    neg  vflip                  153  128/138      32/35      0.0% 0.043 0.109 0.257 0.638 0.974   0.0%   0.0%
    pos  bright085              153    0/6         0/2     100.0% 0.999 1.000 1.000 1.000 1.000  99.3%  99.3%
    pos  bright120              153    6/28        1/11     99.3% 0.951 0.983 0.998 1.000 1.000  90.2%  89.5%
    pos  combo_r50_q70_c3       153   24/42        3/9      96.7% 0.988 0.990 0.995 0.998 0.999  99.3%  96.1%
    pos  contrast115            153    2/12        0/3     100.0% 0.960 0.992 1.000 1.000 1.000  96.1%  96.1%
    pos  crop2_c                153   16/28        2/6     100.0% 0.989 0.991 0.995 0.999 1.000  99.3%  99.3%
    pos  crop3_left             153   34/64        4/12     90.8% 0.994 0.997 0.998 0.999 1.000  99.3%  90.2%
    pos  crop4_lt_half          153   50/88        7/18     66.7% 0.992 0.993 0.996 0.998 1.000  98.7%  65.4%
    pos  crop5_bl_q70           153   76/128      10/19     24.8% 0.989 0.992 0.995 0.998 0.999  99.3%  24.8%
    pos  crop5_c                153   38/70        5/14     83.7% 0.989 0.991 0.995 0.998 1.000  99.3%  83.7%
    pos  crop5_tr               153   82/130      11/26     15.0% 0.990 0.992 0.995 0.998 1.000  98.7%  14.4%
    pos  gamma08                153    6/14        1/5     100.0% 0.974 0.994 0.998 0.999 1.000  98.7%  98.7%
    pos  gamma125               153    6/20        1/5     100.0% 0.843 0.978 0.997 0.999 1.000  93.5%  93.5%
    pos  jpeg_q50               153    2/8         0/2     100.0% 0.996 0.998 1.000 1.000 1.000  99.3%  99.3%
    pos  jpeg_q75               153    0/6         0/3     100.0% 0.999 0.999 1.000 1.000 1.000  99.3%  99.3%
    pos  jpeg_q95               153    0/4         0/2     100.0% 1.000 1.000 1.000 1.000 1.000  99.3%  99.3%
    pos  png                    153    0/0         0/0     100.0% 1.000 1.000 1.000 1.000 1.000  99.3%  99.3%
    pos  real_elephants           3    2/2         0/0     100.0% 1.000 1.000 1.000 1.000 1.000 100.0% 100.0%
    pos  resize25               153    2/28        0/3     100.0% 0.974 0.980 0.999 1.000 1.000  99.3%  99.3%
    pos  resize50               153    0/4         0/2     100.0% 0.995 0.999 1.000 1.000 1.000  99.3%  99.3%
    pos  resize75               153    0/4         0/2     100.0% 0.998 0.999 1.000 1.000 1.000  99.3%  99.3%
    pos  rot_orient             153    0/4         0/2     100.0% 1.000 1.000 1.000 1.000 1.000  99.3%  99.3%
    pos  webp                   153    0/8         0/3     100.0% 0.994 0.997 1.000 1.000 1.000  99.3%  99.3%
    pos  wm_logo2               153   18/74        2/21     90.8% 0.950 0.993 0.999 1.000 1.000  97.4%  90.2%
    pos  wm_text3               153   16/106       3/27     89.5% 0.855 0.988 0.998 1.000 1.000  94.8%  86.3%

Burst "same" cases: 4 of 766 real pairs (three Julia1 selfie pairs 0.15 s
apart, one horses pair): frames without visible motion, indistinguishable at
64x64; they only reach the near-copy review queue.
"""
from __future__ import annotations

import argparse
import csv
import glob
import itertools
import os
import random
import sys
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageEnhance, ImageFont, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
try:
    from tests.analysis.test_dup_support import PHOTOS, crop, fingerprint_image, gamma, reencode, resize, rotated_with_orientation_tag
except ImportError:  # tests/analysis is not a package
    from test_dup_support import PHOTOS, crop, fingerprint_image, gamma, reencode, resize, rotated_with_orientation_tag

from lumina_desktop.analysis.dup_index import DEFAULT_LOW_RADIUS, DEFAULT_RADIUS, as_words, hamming, low_frequency_code
from lumina_desktop.analysis.dup_verify import _measure, prepare_grey, verify_prepared
from lumina_desktop.core.duplicates import PhotoFingerprint

Transform = Callable[[Image.Image], Image.Image]


def _text_mark(im: Image.Image, frac: float = 0.03) -> Image.Image:
    im = im.copy()
    w, h = im.size
    bw = int(w * 0.25)
    bh = max(6, int(frac * w * h / bw))
    font = ImageFont.load_default(size=max(8, int(bh * 0.8)))
    ImageDraw.Draw(im).text((w - bw - 5, h - bh - 5), "(c) Lumina 2024", fill=(255, 255, 255), font=font,
                            stroke_width=max(1, bh // 12), stroke_fill=(0, 0, 0))
    return im


def _logo(im: Image.Image, frac: float = 0.02) -> Image.Image:
    im = im.convert("RGBA")
    s = int((frac * im.width * im.height) ** 0.5)
    logo = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    d = ImageDraw.Draw(logo)
    d.ellipse((0, 0, s - 1, s - 1), fill=(255, 255, 255, 150))
    d.rectangle((s // 4, s // 4, 3 * s // 4, 3 * s // 4), fill=(200, 30, 30, 180))
    im.alpha_composite(logo, (im.width - s - 10, 10))
    return im.convert("RGB")


def _blob(im: Image.Image, seed: int, frac: float = 0.45) -> Image.Image:
    im = im.copy()
    rng = random.Random(seed)
    s = int(min(im.size) * frac)
    x, y = rng.randint(0, im.width - s), rng.randint(0, im.height - s)
    ImageDraw.Draw(im).ellipse((x, y, x + s, y + s), fill=(rng.randint(0, 255), rng.randint(0, 255), rng.randint(0, 255)))
    return im


POSITIVE: dict[str, Transform] = {
    "jpeg_q50": lambda im: reencode(im, "JPEG", quality=50),
    "jpeg_q75": lambda im: reencode(im, "JPEG", quality=75),
    "jpeg_q95": lambda im: reencode(im, "JPEG", quality=95),
    "resize25": lambda im: reencode(resize(im, 0.25), "JPEG", quality=85),
    "resize50": lambda im: resize(im, 0.5),
    "resize75": lambda im: resize(im, 0.75),
    "png": lambda im: reencode(im, "PNG"),
    "webp": lambda im: reencode(im, "WEBP", quality=80),
    "crop2_c": lambda im: crop(im, 0.01, 0.01, 0.01, 0.01),
    "crop3_left": lambda im: crop(im, 0.03, 0, 0, 0),
    "crop4_lt_half": lambda im: resize(crop(im, 0.04, 0.02, 0, 0), 0.5),
    "crop5_c": lambda im: crop(im, 0.025, 0.025, 0.025, 0.025),
    "crop5_tr": lambda im: crop(im, 0, 0.05, 0.05, 0),
    "crop5_bl_q70": lambda im: reencode(crop(im, 0.05, 0, 0, 0.05), "JPEG", quality=70),
    "bright085": lambda im: ImageEnhance.Brightness(im).enhance(0.85),
    "bright120": lambda im: ImageEnhance.Brightness(im).enhance(1.2),
    "gamma08": lambda im: gamma(im, 0.8),
    "gamma125": lambda im: gamma(im, 1.25),
    "contrast115": lambda im: ImageEnhance.Contrast(im).enhance(1.15),
    "wm_text3": lambda im: reencode(_text_mark(im), "JPEG", quality=85),
    "wm_logo2": _logo,
    "rot_orient": rotated_with_orientation_tag,
    "combo_r50_q70_c3": lambda im: reencode(resize(crop(im, 0.015, 0.015, 0.015, 0.015), 0.5), "JPEG", quality=70),
}
NEGATIVE: dict[str, Transform] = {
    "mirror": lambda im: im.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
    "vflip": lambda im: im.transpose(Image.Transpose.FLIP_TOP_BOTTOM),
    "crop10_c": lambda im: crop(im, 0.05, 0.05, 0.05, 0.05),
    "crop15_c": lambda im: crop(im, 0.075, 0.075, 0.075, 0.075),
    "crop20_left": lambda im: crop(im, 0.2, 0, 0, 0),
    "crop20_tl": lambda im: crop(im, 0.2, 0.2, 0, 0),
    "crop30_c": lambda im: crop(im, 0.15, 0.15, 0.15, 0.15),
}


def _load(path: str, recipe: str, pid: int) -> PhotoFingerprint:
    im = Image.open(path)
    im.draft("RGB", (1600, 1600))
    return fingerprint(ImageOps.exif_transpose(im).convert("RGB"), recipe, pid)


def fingerprint(im: Image.Image, recipe: str, pid: int) -> PhotoFingerprint:
    fp = fingerprint_image(im, pid)
    if recipe == "prod":
        from lumina_desktop.analysis.perceptual import perceptual_data

        d = perceptual_data(ImageOps.exif_transpose(im).convert("RGB"))
        fp = PhotoFingerprint(**{**fp.__dict__, "phash": d.phash, "dhash": d.dhash, "grey": d.grey, "aspect": d.aspect})
    return fp


def bases(stride: int) -> list[str]:
    p = str(PHOTOS)
    out = [b for b in sorted(glob.glob(p + "/debian-mate-backgrounds/*.jpg")) if "Elephants_" not in b]
    out += sorted(glob.glob(p + "/pypi-skimage/*")) + sorted(glob.glob(p + "/pypi-sklearn/*.jpg"))
    out += sorted(glob.glob(p + "/exif-samples/jpg/*.jpg"))
    out += sorted(glob.glob(p + "/photoprism/internal/ai/face/testdata/*.jpg"))
    out += sorted(glob.glob(p + "/photoprism/internal/ai/nsfw/testdata/*.jpg"))
    out += sorted(glob.glob(p + "/imagededup-ukbench-subset/base_images/*.jpg"))
    out += sorted(glob.glob(p + "/bursts/horses_p6_culling/images/*.jpg"))[::10]
    out += sorted(glob.glob(p + "/bursts/cs639_iphone_series/Julia2_resized800/*.JPG"))[::5]
    out += sorted(glob.glob(p + "/bursts/cs639_iphone_series/Joy/*.JPG"))[::6]
    return out[::stride]


def burst_pairs(limit: int | None) -> Iterator[tuple[str, str, str]]:
    """(category, path a, path b) for real burst / series pairs."""
    p = str(PHOTOS) + "/bursts"
    out: list[tuple[str, str, str]] = []
    rows = [r for r in csv.DictReader(open(p + "/horses_p6_culling/horses_all_exif.csv")) if r["in_subset"] == "1"]
    groups: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        groups[r["burst_id_1s"]].append(r["file"])
    for fs in groups.values():
        out += [("burst_horses", f"{p}/horses_p6_culling/images/{a}", f"{p}/horses_p6_culling/images/{b}") for a, b in itertools.combinations(sorted(fs), 2)]
    groups = defaultdict(list)
    for r in csv.DictReader(open(p + "/cs639_iphone_series/cs639_labels.csv")):
        groups[r["burst_id_1s"]].append(r["file"])
    for fs in groups.values():
        out += [("burst_cs639", f"{p}/cs639_iphone_series/{a}", f"{p}/cs639_iphone_series/{b}") for a, b in itertools.combinations(sorted(fs), 2)]
    sony = sorted(glob.glob(p + "/sony_rx100_brackets/*.JPG"))
    out += [("burst_sony_bracket", a, b) for a, b in itertools.combinations(sony, 2)]
    for sc in sorted(glob.glob(p + "/phototriage/demos_auto-triage/*")):
        out += [("burst_phototriage", a, b) for a, b in itertools.combinations(sorted(glob.glob(sc + "/*.jpg")), 2)]
    hdr = str(PHOTOS) + "/exif-samples/jpg/hdr"
    out += [("real_hdr_pair", f"{hdr}/{c}_hdr_NO.jpg", f"{hdr}/{c}_hdr_YES.jpg") for c in ("canon", "iphone")]
    out += [("real_stereo", str(PHOTOS) + "/pypi-skimage/motorcycle_left.png", str(PHOTOS) + "/pypi-skimage/motorcycle_right.png")]
    bg = str(PHOTOS) + "/debian-mate-backgrounds/"
    out += [("real_elephants", bg + a, bg + b) for a, b in itertools.combinations(["Elephants.jpg", "Elephants_3840x2160.jpg", "Elephants_5640x3172.jpg"], 2)]
    if limit is not None:
        out = out[::max(1, len(out) // limit)]
    return iter(out)


def measure(a: PhotoFingerprint, b: PhotoFingerprint) -> dict[str, Any]:
    pa = prepare_grey(a.grey, a.aspect, a.width, a.height)
    pb = prepare_grey(b.grey, b.aspect, b.width, b.height)
    wa, wb = as_words([a.phash], 32), as_words([b.phash], 32)
    out: dict[str, Any] = {
        "ph": int(hamming(wa, wb)[0]),
        "low": int(hamming(low_frequency_code(wa), low_frequency_code(wb))[0]),
        "state": verify_prepared(pa, pb).state,
    }
    out["cand"] = out["ph"] <= DEFAULT_RADIUS or out["low"] <= DEFAULT_LOW_RADIUS
    if not isinstance(pa, str) and not isinstance(pb, str):
        out["sim"] = _measure(pa, pb).similarity
    return out


def run(recipe: str, stride: int, burst_limit: int | None, paths: list[str] | None = None) -> dict[tuple[str, str], list[dict[str, Any]]]:
    rows: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    fps: list[PhotoFingerprint] = []
    for k, path in enumerate(paths if paths is not None else bases(stride)):
        try:
            im = Image.open(path)
            im.draft("RGB", (1600, 1600))
            im = ImageOps.exif_transpose(im).convert("RGB")
        except OSError:
            continue
        if min(im.size) < 64:
            continue
        fa = fingerprint(im, recipe, 1)
        fps.append(fa)
        for name, f in POSITIVE.items():
            rows[("pos", name)].append(measure(fa, fingerprint(f(im), recipe, 2)))
        for name, f in NEGATIVE.items():
            rows[("neg", name)].append(measure(fa, fingerprint(f(im), recipe, 2)))
        rows[("neg", "edit_blob")].append(measure(fa, fingerprint(_blob(im, k), recipe, 2)))
        left, right = crop(im, 0, 0, 0.15, 0), crop(im, 0.15, 0, 0, 0)
        rows[("neg", "overlap_crops85")].append(measure(fingerprint(left, recipe, 1), fingerprint(right, recipe, 2)))
    for cat, a, b in burst_pairs(burst_limit):
        kind = "pos" if cat == "real_elephants" else "neg"
        rows[(kind, cat)].append(measure(_load(a, recipe, 1), _load(b, recipe, 2)))
    rng = random.Random(1)
    for _ in range(min(490, len(fps) * 3)):
        i, j = rng.sample(range(len(fps)), 2)
        rows[("neg", "random_different")].append(measure(fps[i], fps[j]))
    return rows


def table(rows: dict[tuple[str, str], list[dict[str, Any]]]) -> str:
    lines = [f"{'kind':4} {'category':20} {'n':>5} {'pH p50/max':>10} {'low p50/max':>11} {'cand':>6} "
             f"{'sim min/p5/p50/p95/max':>31} {'same':>6} {'found':>6}"]
    for (kind, cat), v in sorted(rows.items()):
        ph = np.array([x["ph"] for x in v])
        low = np.array([x["low"] for x in v])
        sims = np.array([x["sim"] for x in v if "sim" in x]) if any("sim" in x for x in v) else np.zeros(1)
        same = np.mean([x["state"] == "same" for x in v])
        found = np.mean([x["state"] == "same" and x["cand"] for x in v])
        cand = np.mean([x["cand"] for x in v])
        q = np.percentile(sims, [0, 5, 50, 95, 100])
        lines.append(f"{kind:4} {cat:20} {len(v):5d} {np.median(ph):4.0f}/{ph.max():<5.0f} {np.median(low):5.0f}/{low.max():<5.0f} "
                     f"{cand:6.1%} {q[0]:.3f} {q[1]:.3f} {q[2]:.3f} {q[3]:.3f} {q[4]:.3f} {same:6.1%} {found:6.1%}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- pytest (small subset)


@pytest.mark.slow
@pytest.mark.skipif(not (PHOTOS / "bursts").is_dir(), reason="../shared/photos is not available")
def test_real_photos_subset() -> None:
    small = [str(PHOTOS / "pypi-skimage" / f) for f in ("astronaut.png", "coffee.png", "chelsea.png")]
    small += sorted(glob.glob(str(PHOTOS / "bursts/horses_p6_culling/images/*.jpg")))[::80]
    rows = run("brief", stride=1, burst_limit=40, paths=small)
    for (kind, cat), v in rows.items():
        same = np.mean([x["state"] == "same" for x in v])
        if kind == "pos" and cat in ("jpeg_q75", "resize50", "png", "webp", "rot_orient", "crop2_c", "crop5_c", "bright085", "real_elephants"):
            assert same >= 0.9, (cat, same)
        if kind == "neg" and not cat.startswith("burst"):
            assert same == 0.0, (cat, same)
        if cat.startswith("burst"):
            assert same <= 0.05, (cat, same)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description="Print the measured distributions behind the duplicate thresholds.")
    ap.add_argument("--recipe", choices=("brief", "prod"), default="brief")
    ap.add_argument("--stride", type=int, default=1, help="use every n-th base photo")
    ap.add_argument("--bursts", type=int, default=None, help="limit the number of real burst pairs")
    a = ap.parse_args()
    if not PHOTOS.is_dir():
        sys.exit(f"{PHOTOS} not found")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    print(table(run(a.recipe, a.stride, a.bursts)))
