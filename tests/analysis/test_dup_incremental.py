"""match_new: new photos against an existing index give the same groups as a full run."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

try:
    from tests.analysis.test_dup_support import POSITIVES, crop, fingerprint_image, reencode, resize, scene
except ImportError:  # tests/analysis is not a package
    from test_dup_support import POSITIVES, crop, fingerprint_image, reencode, resize, scene

from lumina_desktop.analysis.dup_index import DuplicateIndex
from lumina_desktop.analysis.duplicates import find_duplicate_groups, match_new
from lumina_desktop.core.duplicates import PhotoFingerprint


def build() -> list[PhotoFingerprint]:
    photos: list[PhotoFingerprint] = []
    for seed in (30, 31, 32, 33):
        base = scene(seed)
        pid = seed * 100
        photos.append(fingerprint_image(base, pid + 1, has_camera_exif=True))
        for k, name in enumerate(("jpeg_q50", "resize_50", "crop_4pct_left", "watermark", "png"), start=2):
            photos.append(fingerprint_image(POSITIVES[name](base), pid + k))
        photos.append(fingerprint_image(scene(seed, move=(0.04, 0.0)), pid + 20))  # burst sibling
        # a bigger original that arrives later and must take over as keeper
        photos.append(fingerprint_image(base.resize((800, 600)), pid + 30, has_camera_exif=True))
    photos.append(fingerprint_image(reencode(resize(crop(scene(30), 0.02, 0.02, 0.0, 0.0), 0.6), "JPEG", quality=75), 9999))
    return photos


def test_match_new_equals_full_run_over_several_increments() -> None:
    photos = build()
    full = find_duplicate_groups(photos)
    assert len(full) == 4
    by_id = {p.id: p for p in photos}
    fetched: list[int] = []

    def lookup(ids: Sequence[int]) -> list[PhotoFingerprint]:
        fetched.extend(ids)
        return [by_id[i] for i in ids]

    first = [p for p in photos if p.id % 100 < 4]
    rest = [p for p in photos if p.id % 100 >= 4]
    index = DuplicateIndex()
    groups = find_duplicate_groups(first, index=index)
    done = list(first)
    for batch in (rest[: len(rest) // 3], rest[len(rest) // 3 : 2 * len(rest) // 3], rest[2 * len(rest) // 3 :]):
        groups = match_new(index, groups, batch, lookup)
        done += batch
        assert groups == find_duplicate_groups(done)  # equal to a full run after every increment
    assert groups == full
    assert any(g.keeper_id % 100 == 30 for g in full)  # a late, bigger original took over as keeper
    assert len(index) == len(photos)
    assert set(fetched) <= {p.id for p in photos}


def test_match_new_leaves_unrelated_groups_alone() -> None:
    photos = build()
    index = DuplicateIndex()
    old = find_duplicate_groups(photos, index=index)
    noise = np.random.default_rng(0).integers(0, 256, (12, 16, 3), dtype=np.uint8)
    unrelated = fingerprint_image(Image.fromarray(noise).resize((640, 480), Image.BICUBIC), 5000)
    probe = DuplicateIndex()
    probe.add([*photos, unrelated])
    assert probe.neighbours([5000]) == {5000: {}}  # really unrelated by hash
    fetched: list[int] = []
    new = match_new(index, old, [unrelated], lambda ids: fetched.extend(ids) or [])
    assert new == old and fetched == []
