"""Real photos from ../shared/photos: nothing but MediaError, upright thumbnails, P3 colour.

Skipped cleanly where the corpus folder is absent (a fresh clone).
"""
from __future__ import annotations

import io
import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lumina_desktop.analysis.ingest import analyse_file
from lumina_desktop.core.formats import is_candidate
from lumina_desktop.core.media import FailureReason, IngestResult, MediaError, MediaKind


def _candidates(root: Path) -> list[Path]:
    found = []
    for folder, _dirs, files in os.walk(root):
        found.extend(Path(folder) / f for f in files if is_candidate(f))
    return sorted(found)


def _grey(result: IngestResult, size: int = 256) -> np.ndarray:
    im = Image.open(io.BytesIO(result.thumbnails[size])).convert("L")
    return np.asarray(im, dtype=float)


def _outcome(path: Path) -> str:
    try:
        result = analyse_file(path)
    except MediaError as err:
        return err.reason.value if err.message else "empty message"
    except Exception as exc:  # reported by the caller's assertion, with the path
        return f"UNEXPECTED {type(exc).__name__}: {exc}"
    if result.identity.size != path.stat().st_size:
        return "UNEXPECTED size mismatch"
    if result.kind is not MediaKind.VIDEO and not (result.perceptual and result.thumbnails):
        return "UNEXPECTED missing perceptual data or thumbnails"
    return "ok"


@pytest.mark.filterwarnings("ignore::UserWarning:PIL.TiffImagePlugin")
def test_every_supported_file_ingests_or_fails_cleanly(photos_dir: Path) -> None:
    files = _candidates(photos_dir)
    assert len(files) > 100
    # Two worker threads, as the ingest job runs it (also exercises the shared caches).
    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = dict(zip(files, pool.map(_outcome, files), strict=True))
    unexpected = [f"{p}: {o}" for p, o in outcomes.items() if o.startswith("UNEXPECTED")]
    assert not unexpected, "\n".join(unexpected)
    counts = Counter(outcomes.values())
    assert counts["ok"] > 0.9 * len(files), counts


@pytest.mark.parametrize("kind", ["landscape", "portrait"])
def test_orientation_samples_come_out_upright(photos_dir: Path, kind: str) -> None:
    folder = photos_dir / "exif-samples" / "jpg" / "orientation"
    if not (folder / f"{kind}_1.jpg").exists():
        pytest.skip("orientation samples not in the corpus")
    reference = _grey(analyse_file(folder / f"{kind}_1.jpg"))
    for n in range(2, 9):
        result = analyse_file(folder / f"{kind}_{n}.jpg")
        assert result.metadata.orientation == n
        grey = _grey(result)
        assert grey.shape == reference.shape, n
        corr = np.corrcoef(grey.ravel(), reference.ravel())[0, 1]
        assert corr > 0.9, (n, corr)


def test_display_p3_photo_is_converted(photos_dir: Path) -> None:
    folder = photos_dir / "photoprism" / "internal" / "meta" / "testdata"
    p3, untagged = folder / "Iceland-P3.jpg", folder / "Iceland-sRGB.jpg"
    if not (p3.exists() and untagged.exists()):
        pytest.skip("Iceland P3 pair not in the corpus")
    # Same pixel values; only the P3 one carries its profile.
    a = np.asarray(Image.open(io.BytesIO(analyse_file(p3).thumbnails[256])), dtype=float)
    b = np.asarray(Image.open(io.BytesIO(analyse_file(untagged).thumbnails[256])), dtype=float)
    assert np.abs(a - b).mean() > 2.0
    assert a[..., 0].mean() > b[..., 0].mean()  # P3 reds become stronger sRGB reds


@pytest.mark.parametrize("relpath", [
    "immich-test-assets/formats/heic/IMG_2682.heic",
    "immich-test-assets/formats/avif/8bit-sRGB.avif",
    "immich-test-assets/formats/avif/10bit-HDR-P3-nclx.avif",
    "immich-test-assets/formats/webp/denali.webp",
    "exif-samples/heic/mobile/HMD_Nokia_8.3_5G.heif",
])
def test_modern_formats(photos_dir: Path, relpath: str) -> None:
    path = photos_dir / relpath
    if not path.exists():
        pytest.skip(f"{relpath} not in the corpus")
    result = analyse_file(path)
    assert result.kind is MediaKind.IMAGE and result.metadata.width and result.thumbnails


def test_broken_samples_are_media_errors(photos_dir: Path) -> None:
    broken = [photos_dir / "photoprism/internal/photoprism/testdata/broken/animated-earth.jpg",
              photos_dir / "imagededup-ukbench-subset/mixed_images/ukbench09268_corrupt.jpg"]
    broken = [p for p in broken if p.exists()]
    if not broken:
        pytest.skip("broken samples not in the corpus")
    for path in broken:
        with pytest.raises(MediaError) as info:
            analyse_file(path)
        assert info.value.reason in (FailureReason.TRUNCATED, FailureReason.NOT_AN_IMAGE,
                                     FailureReason.CORRUPT)
