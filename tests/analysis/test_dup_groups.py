"""End-to-end grouping: tiers, every kind of copy found, look-alikes left out, no chaining."""
from __future__ import annotations

import logging
import random
from dataclasses import replace

import pytest

try:
    from tests.analysis.test_dup_support import NEGATIVES, POSITIVES, crop, fingerprint_image, reencode, resize, scene
except ImportError:  # tests/analysis is not a package
    from test_dup_support import NEGATIVES, POSITIVES, crop, fingerprint_image, reencode, resize, scene

from lumina_desktop.analysis.dup_index import DuplicateIndex
from lumina_desktop.analysis.duplicates import find_duplicate_groups
from lumina_desktop.core.duplicates import PhotoFingerprint

SEEDS = (0, 1, 2)
SIBLINGS = {"burst_moved_subject": {"move": (0.04, 0.0)}, "burst_camera_shift": {"shift": (0.015, 0.01)}}


@pytest.fixture(scope="module")
def library() -> tuple[list[PhotoFingerprint], dict[int, str]]:
    """Per seed: the original (id seed*100), every positive copy, every look-alike."""
    photos: list[PhotoFingerprint] = []
    kind: dict[int, str] = {}
    for seed in SEEDS:
        base = scene(seed)
        pid = seed * 100
        photos.append(fingerprint_image(base, pid, has_camera_exif=True, size=400_000))
        kind[pid] = "original"
        for k, (name, f) in enumerate(sorted(POSITIVES.items()), start=1):
            photos.append(fingerprint_image(f(base), pid + k))
            kind[pid + k] = name
        for k, (name, f) in enumerate(sorted(NEGATIVES.items()), start=50):
            photos.append(fingerprint_image(f(base), pid + k))
            kind[pid + k] = "neg:" + name
        for k, (name, kw) in enumerate(sorted(SIBLINGS.items()), start=70):
            photos.append(fingerprint_image(scene(seed, **kw), pid + k))
            kind[pid + k] = "neg:" + name
    return photos, kind


def test_every_copy_found_and_no_lookalike(library: tuple[list[PhotoFingerprint], dict[int, str]]) -> None:
    photos, kind = library
    groups = find_duplicate_groups(photos)
    assert len(groups) == len(SEEDS)
    for g in groups:
        assert kind[g.keeper_id] == "original"
        found = {kind[m.photo_id] for m in g.members}
        assert found == set(POSITIVES), sorted(set(POSITIVES) ^ found)
        assert all(m.tier == "near_copy" and m.is_verified for m in g.members)
        assert all(m.match in ("phash+ssim", "phash_low+ssim") for m in g.members)
        assert all(m.photo_id // 100 == g.keeper_id // 100 for m in g.members)
        assert g.tier == "near_copy" and not g.has_unverified
        assert g.is_suspicious  # 16 photos: every copy kind at once is more than a real group should hold


def test_lookalikes_were_candidates_so_verification_rejected_them(library: tuple[list[PhotoFingerprint], dict[int, str]]) -> None:
    photos, kind = library
    idx = DuplicateIndex()
    idx.add(photos)
    graph = idx.candidate_graph()
    rejected = {kind[n] for seed in SEEDS for n, _ in graph.neighbours_of(seed * 100) if kind[n].startswith("neg:")}
    # the hash index alone cannot tell these from copies; pixels did
    assert {"neg:burst_moved_subject", "neg:burst_camera_shift", "neg:content_edit"} <= rejected


def test_output_is_deterministic(library: tuple[list[PhotoFingerprint], dict[int, str]]) -> None:
    photos, _ = library
    shuffled = photos[:]
    random.Random(4).shuffle(shuffled)
    assert find_duplicate_groups(shuffled) == find_duplicate_groups(photos)


def test_tiers_and_match_methods() -> None:
    base = scene(3)
    a = fingerprint_image(base, 1, has_camera_exif=True, image_data_hash="d" * 64)
    same_file = replace(a, id=2, path="/backup/img_1.jpg")  # byte-identical copy elsewhere
    new_metadata = replace(a, id=3, content_hash="e" * 64, has_camera_exif=False)  # same pixels, edited tags
    reencoded = fingerprint_image(reencode(base, "JPEG", quality=60), 4)
    groups = find_duplicate_groups([reencoded, new_metadata, same_file, a])
    assert len(groups) == 1
    g = groups[0]
    assert g.keeper_id == 1
    by_id = {m.photo_id: m for m in g.members}
    assert (by_id[2].tier, by_id[2].match) == ("identical", "content_hash")
    assert (by_id[3].tier, by_id[3].match) == ("same_picture", "image_data_hash")
    assert by_id[4].tier == "near_copy" and by_id[4].match.endswith("+ssim")
    assert g.tier == "near_copy"  # the loosest member decides the review queue
    only_identical = find_duplicate_groups([a, same_file])
    assert [x.tier for x in only_identical] == ["identical"]


def test_no_chaining_through_a_middle_copy() -> None:
    """A ~ B and B ~ C, but A and C are not copies: no group may hold both A and C."""
    base = scene(5)
    b_img = crop(base, 0.025, 0.025, 0.025, 0.025)  # 5 % crop of A
    c_img = crop(b_img, 0.025, 0.025, 0.025, 0.025)  # 5 % crop of B = 9.75 % of A
    a = fingerprint_image(base, 1, has_camera_exif=True)
    b = fingerprint_image(b_img, 2)
    c = fingerprint_image(c_img, 3)
    idx = DuplicateIndex()
    idx.add([a, b, c])
    graph = idx.candidate_graph()
    assert 2 in {n for n, _ in graph.neighbours_of(1)} and 3 in {n for n, _ in graph.neighbours_of(2)}
    from lumina_desktop.analysis.dup_verify import verify_pair

    assert verify_pair(b, c).state == "same" and verify_pair(a, c).state == "different"
    groups = find_duplicate_groups([a, b, c])
    assert all(not {1, 3} <= set(g.photo_ids) for g in groups)
    assert [g.photo_ids for g in groups] == [(1, 2)]


def test_big_group_is_flagged_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    base = scene(6)
    photos = [fingerprint_image(base, 0, has_camera_exif=True)]
    variants = [reencode(base, "JPEG", quality=q) for q in (40, 50, 60, 70, 80, 90)]
    variants += [resize(base, f) for f in (0.3, 0.4, 0.5, 0.6, 0.7)]
    photos += [fingerprint_image(v, i) for i, v in enumerate(variants, start=1)]
    with caplog.at_level(logging.WARNING, logger="lumina_desktop.analysis.duplicates"):
        groups = find_duplicate_groups(photos)
    assert len(groups) == 1 and groups[0].size == 12
    assert groups[0].is_suspicious
    assert any("suspicious" in r.message for r in caplog.records)


def test_missing_grey_is_an_unverified_member() -> None:
    base = scene(7)
    a = fingerprint_image(base, 1, has_camera_exif=True)
    b = replace(fingerprint_image(reencode(base, "JPEG", quality=70), 2), grey=None)
    (g,) = find_duplicate_groups([a, b])
    (m,) = g.members
    assert not m.is_verified and m.similarity is None
    assert "unverified" in m.match and "grey missing" in m.match
    assert g.has_unverified


def test_progress_is_monotonic_and_cancel_is_honoured(library: tuple[list[PhotoFingerprint], dict[int, str]]) -> None:
    photos, _ = library
    seen: list[tuple[int, int]] = []
    find_duplicate_groups(photos, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1][0] == seen[-1][1] and all(x[0] <= y[0] for x, y in zip(seen, seen[1:]))

    class Stop(Exception):
        pass

    calls = 0

    def cancel() -> None:
        nonlocal calls
        calls += 1
        if calls > 5:
            raise Stop

    with pytest.raises(Stop):
        find_duplicate_groups(photos, cancel_check=cancel)


def test_duplicate_ids_are_rejected() -> None:
    a = fingerprint_image(scene(8), 1)
    with pytest.raises(ValueError):
        find_duplicate_groups([a, a])
