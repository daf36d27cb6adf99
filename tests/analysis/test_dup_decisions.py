"""User decisions: keyed by content hash, applied on top of detection results, surviving re-runs."""
from __future__ import annotations

from dataclasses import replace

import pytest

try:
    from tests.analysis.test_dup_support import fingerprint_image, reencode, resize, scene
except ImportError:  # tests/analysis is not a package
    from test_dup_support import fingerprint_image, reencode, resize, scene

from lumina_desktop.analysis.duplicates import apply_decisions, find_duplicate_groups
from lumina_desktop.core.duplicates import DuplicateGroup, KeepThis, NotDuplicate, PhotoFingerprint


@pytest.fixture(scope="module")
def photos() -> list[PhotoFingerprint]:
    base = scene(21)
    return [
        fingerprint_image(base, 1, has_camera_exif=True),
        fingerprint_image(resize(base, 0.5), 2),
        fingerprint_image(reencode(base, "JPEG", quality=60), 3),
        fingerprint_image(resize(base, 0.25), 4),
    ]


@pytest.fixture(scope="module")
def detected(photos: list[PhotoFingerprint]) -> list[DuplicateGroup]:
    groups = find_duplicate_groups(photos)
    assert [g.photo_ids for g in groups] == [(1, 3, 2, 4)]
    return groups


def h(photos: list[PhotoFingerprint], pid: int) -> str:
    return next(p.content_hash for p in photos if p.id == pid)


def test_not_duplicate_with_keeper_removes_the_member(photos: list[PhotoFingerprint], detected: list[DuplicateGroup]) -> None:
    out = apply_decisions(detected, [NotDuplicate(h(photos, 2), h(photos, 1))])
    assert [g.photo_ids for g in out] == [(1, 3, 4)]
    assert detected[0].photo_ids == (1, 3, 2, 4)  # detection results untouched


def test_not_duplicate_between_members_drops_the_less_preferred(photos: list[PhotoFingerprint], detected: list[DuplicateGroup]) -> None:
    out = apply_decisions(detected, [NotDuplicate(h(photos, 4), h(photos, 3))])
    assert [g.photo_ids for g in out] == [(1, 3, 2)]


def test_group_without_members_disappears(photos: list[PhotoFingerprint], detected: list[DuplicateGroup]) -> None:
    out = apply_decisions(detected, [NotDuplicate(h(photos, 1), h(photos, i)) for i in (2, 3, 4)])
    assert out == []


def test_keep_this_makes_the_member_keeper(photos: list[PhotoFingerprint], detected: list[DuplicateGroup]) -> None:
    (g,) = apply_decisions(detected, [KeepThis(h(photos, 2))])
    assert g.keeper_id == 2 and g.is_keeper_forced
    assert g.photo_ids == (2, 1, 3, 4)
    assert all(m.reason == "kept by your choice" for m in g.members)
    (g2,) = apply_decisions(detected, [KeepThis(h(photos, 1))])  # already the keeper: no change
    assert g2 == detected[0]


def test_keep_this_then_not_duplicate_relative_to_the_new_keeper(photos: list[PhotoFingerprint], detected: list[DuplicateGroup]) -> None:
    (g,) = apply_decisions(detected, [KeepThis(h(photos, 3)), NotDuplicate(h(photos, 3), h(photos, 4))])
    assert g.photo_ids == (3, 1, 2)


def test_decisions_survive_a_rescan_with_moved_and_renamed_files(photos: list[PhotoFingerprint]) -> None:
    decisions = [KeepThis(h(photos, 2)), NotDuplicate(h(photos, 1), h(photos, 4))]
    moved = [replace(p, id=p.id + 1000, path=p.path.replace("/photos/", "/archive/renamed_")) for p in photos]
    (g,) = find_duplicate_groups(moved, decisions=decisions)
    assert g.photo_ids == (1002, 1001, 1003)


def test_identical_contents_share_decisions(photos: list[PhotoFingerprint]) -> None:
    twin = replace(photos[3], id=5, path="/backup/img_4.jpg")  # same content as photo 4
    groups = find_duplicate_groups([*photos, twin], decisions=[NotDuplicate(h(photos, 1), h(photos, 4))])
    assert all(not {4, 5} & set(g.photo_ids) or g.keeper_id in (4, 5) for g in groups)
