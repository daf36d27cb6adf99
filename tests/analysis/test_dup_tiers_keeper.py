"""Exact copies keep their tiers, every reason shows two different values, upright beats rotated.

1. A PNG made from a camera JPEG became the keeper and the JPEG's byte copies were listed as
   near copies of the PNG: the identical queue (safe for bulk accept) was empty while byte
   copies existed.  Byte copies and same-pixel copies of a member are now exact copies of it
   (``copy_of``), and trashing a whole tier never takes the last file of a content, a picture
   or the keeper.
2. Every keeper rule's reason states the two values it compared, and they differ.
3. A copy that needs the EXIF orientation turn lost to an upright one only by accident.
4. A RAW wins only when its recorded picture is real size (``counts_as_raw``).
"""
from __future__ import annotations

import itertools
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import timedelta

import pytest

try:
    from tests.analysis.test_dup_support import fingerprint_image, reencode, resize, rotated_with_orientation_tag, scene, when
except ImportError:  # tests/analysis is not a package
    from test_dup_support import fingerprint_image, reencode, resize, rotated_with_orientation_tag, scene, when

from lumina_desktop.analysis.dup_keeper import DEFAULT_RULES, RULES, explain, rank_key
from lumina_desktop.analysis.dup_tiers import tier_problems
from lumina_desktop.analysis.dup_verify import verify_pair
from lumina_desktop.analysis.duplicates import apply_decisions, find_duplicate_groups, with_members
from lumina_desktop.core.duplicates import DuplicateGroup, DuplicateTier, KeepThis, NotDuplicate, PhotoFingerprint

IDENTICAL, SAME, NEAR = DuplicateTier.IDENTICAL, DuplicateTier.SAME_PICTURE, DuplicateTier.NEAR_COPY
X = "\N{MULTIPLICATION SIGN}"


def byte_copy(p: PhotoFingerprint, pid: int, path: str) -> PhotoFingerprint:
    """The same file elsewhere: same content, pixels and facts; another id, path and mtime."""
    return replace(p, id=pid, path=path, mtime=p.mtime + pid)


def meta_copy(p: PhotoFingerprint, pid: int, path: str, **kw: object) -> PhotoFingerprint:
    """The same pixels with other metadata: another content hash, same image-data hash."""
    return replace(p, id=pid, content_hash=f"{pid:064x}", path=path, mtime=p.mtime + pid, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def converted() -> dict[str, PhotoFingerprint]:
    """A camera JPEG, two byte copies of it, a retagged copy, and a PNG made from it that wins (format)."""
    base = scene(31)
    jpeg = fingerprint_image(reencode(base, "JPEG", quality=90), 10, image_data_hash="a" * 64, has_camera_exif=True,
                             size=300_000, capture_time=when("2021-06-01T10:00:00"), path="/photos/IMG_10.jpg")
    png = fingerprint_image(reencode(base, "PNG"), 1, image_data_hash="b" * 64, format="PNG", has_camera_exif=True,
                            size=900_000, capture_time=jpeg.capture_time, path="/exports/IMG_10.png")
    return {
        "png": png,
        "jpeg": jpeg,
        "backup": byte_copy(jpeg, 11, "/backup/IMG_10.jpg"),
        "phone": byte_copy(jpeg, 12, "/phone/DCIM/IMG_10.jpg"),
        "retagged": meta_copy(jpeg, 13, "/photos/IMG_10_rated.jpg", size=299_000),
        "retagged_twin": byte_copy(meta_copy(jpeg, 13, "/photos/IMG_10_rated.jpg", size=299_000), 14, "/backup/IMG_10_rated.jpg"),
    }


def only_group(photos: Iterable[PhotoFingerprint], **kw: object) -> DuplicateGroup:
    groups = find_duplicate_groups(photos, **kw)  # type: ignore[arg-type]
    assert len(groups) == 1, [g.photo_ids for g in groups]
    return groups[0]


# --------------------------------------------------------------------------- 1. exact copies keep their tiers


def test_byte_copies_of_a_member_are_identical_even_when_a_conversion_is_the_keeper(
    converted: dict[str, PhotoFingerprint],
) -> None:
    c = converted
    g = only_group(c.values())
    assert g.keeper_id == c["png"].id  # lossless PNG beats lossy JPEG: the case of the report
    by = {m.photo_id: m for m in g.members}
    jpeg = by[c["jpeg"].id]
    assert (jpeg.tier, jpeg.copy_of) == (NEAR, None) and jpeg.is_verified
    for name in ("backup", "phone"):
        m = by[c[name].id]
        assert (m.tier, m.copy_of, m.match, m.similarity) == (IDENTICAL, c["jpeg"].id, "content_hash", 1.0), name
        assert m.reason.startswith(f"same file as {c['jpeg'].path}; ")
    retagged, twin = by[c["retagged"].id], by[c["retagged_twin"].id]
    assert (retagged.tier, retagged.copy_of, retagged.match) == (SAME, c["jpeg"].id, "image_data_hash")
    assert (twin.tier, twin.copy_of) == (IDENTICAL, c["retagged"].id)
    assert g.tier == NEAR and tier_problems(g) == []
    # the identical queue is no longer empty: one member per extra byte copy
    assert sum(m.tier == IDENTICAL for m in g.members) == 3


def test_copies_of_the_keeper_point_at_the_keeper(converted: dict[str, PhotoFingerprint]) -> None:
    c = converted
    g = only_group([c["jpeg"], c["backup"], c["retagged"]])  # no PNG: the camera JPEG keeps
    assert g.keeper_id == c["jpeg"].id
    tiers = {m.photo_id: (m.tier, m.copy_of) for m in g.members}
    assert tiers == {c["backup"].id: (IDENTICAL, None), c["retagged"].id: (SAME, None)}
    assert g.tier == SAME


def test_exact_copies_are_exact_and_heads_are_verified_against_the_keeper(converted: dict[str, PhotoFingerprint]) -> None:
    """No chaining: a copy_of link is an equality of bytes or pixels; every head is checked on pixels."""
    facts = {p.id: p for p in converted.values()}
    g = only_group(facts.values())
    keeper = facts[g.keeper_id]
    for m in g.members:
        twin = keeper if m.copy_of is None else facts[m.copy_of]
        if m.tier is IDENTICAL:
            assert facts[m.photo_id].content_hash == twin.content_hash
        elif m.tier is SAME:
            assert facts[m.photo_id].image_data_hash == twin.image_data_hash
        else:
            assert m.copy_of is None and verify_pair(keeper, facts[m.photo_id]).state == "same"


def trash(groups: Sequence[DuplicateGroup], tier: DuplicateTier) -> tuple[set[int], list[DuplicateGroup]]:
    """What ``TrashService.duplicates_plan(tier)`` takes, and the groups as loaded afterwards (``drop_trashed``)."""
    gone = {m.photo_id for g in groups for m in g.members if m.tier == tier}
    after = []
    for g in groups:
        assert g.keeper_id not in gone
        left = [m for m in g.members if m.photo_id not in gone]
        if left:
            after.append(with_members(g, left))
    return gone, after


def check_tier_trash_is_safe(groups: list[DuplicateGroup], facts: dict[int, PhotoFingerprint], order: Sequence[DuplicateTier]) -> None:
    """Trash whole tiers in ``order``: each step leaves a file of every content (identical), every
    picture (same_picture), and the keeper; the groups stay sound."""
    for tier in order:
        files = {pid for g in groups for pid in g.photo_ids}
        gone, groups = trash(groups, tier)
        left = files - gone
        if tier is IDENTICAL:
            assert {facts[i].content_hash for i in files} == {facts[i].content_hash for i in left}
        if tier is SAME:
            pictures = {facts[i].image_data_hash or facts[i].content_hash for i in files}
            assert pictures == {facts[i].image_data_hash or facts[i].content_hash for i in left}
        for g in groups:
            assert tier_problems(g) == [], (tier, g)
            assert g.tier == max((m.tier for m in g.members), key=lambda t: t.rank)


@pytest.mark.parametrize("order", list(itertools.permutations((IDENTICAL, SAME, NEAR))))
def test_trashing_whole_tiers_never_takes_the_last_copy(converted: dict[str, PhotoFingerprint], order: tuple[DuplicateTier, ...]) -> None:
    facts = {p.id: p for p in converted.values()}
    check_tier_trash_is_safe(find_duplicate_groups(facts.values()), facts, order)


def test_an_exact_copy_takes_over_when_the_file_it_copies_is_trashed(converted: dict[str, PhotoFingerprint]) -> None:
    c = converted
    g = only_group(c.values())
    _, (after,) = trash([g], NEAR)  # the camera JPEG goes; its byte copies and the retagged file stay
    by = {m.photo_id: m for m in after.members}
    backup = by[c["backup"].id]
    assert (backup.tier, backup.copy_of, backup.is_verified) == (NEAR, None, True)
    assert backup.match.endswith("+ssim") and backup.reason.endswith("(said of an exact copy no longer in this group)")
    assert (by[c["phone"].id].tier, by[c["phone"].id].copy_of) == (IDENTICAL, c["backup"].id)
    assert (by[c["retagged"].id].tier, by[c["retagged"].id].copy_of) == (SAME, c["backup"].id)
    assert (by[c["retagged_twin"].id].tier, by[c["retagged_twin"].id].copy_of) == (IDENTICAL, c["retagged"].id)
    assert tier_problems(after) == []


def test_a_copy_of_a_file_no_longer_stored_is_an_unverified_near_copy(converted: dict[str, PhotoFingerprint]) -> None:
    """Stored groups lose a member row when its photo leaves the catalog: never an 'identical' of nothing."""
    c = converted
    g = only_group(c.values())
    stale = DuplicateGroup(g.keeper_id, g.keeper_content_hash,
                           tuple(m for m in g.members if m.photo_id != c["jpeg"].id), g.tier, g.is_suspicious)
    (loaded,) = apply_decisions([stale], [])
    by = {m.photo_id: m for m in loaded.members}
    head = by[c["backup"].id]
    assert (head.tier, head.copy_of, head.is_verified) == (NEAR, None, False)
    assert "unverified: the file it copies is gone" in head.match
    assert loaded.has_unverified and tier_problems(loaded) == []
    assert apply_decisions([g], []) == [g]  # a sound group loads unchanged


def test_keep_this_reroots_the_copies(converted: dict[str, PhotoFingerprint]) -> None:
    c = converted
    g = only_group(c.values())
    (k,) = apply_decisions([g], [KeepThis(c["jpeg"].content_hash)])
    assert k.keeper_id == c["jpeg"].id and k.is_keeper_forced and tier_problems(k) == []
    tiers = {m.photo_id: (m.tier, m.copy_of) for m in k.members}
    assert tiers == {
        c["png"].id: (NEAR, None), c["backup"].id: (IDENTICAL, None), c["phone"].id: (IDENTICAL, None),
        c["retagged"].id: (SAME, None), c["retagged_twin"].id: (IDENTICAL, c["retagged"].id),
    }
    assert k.members[0].photo_id == c["png"].id and k.members[0].reason == "kept by your choice"
    # keeping a same-pixel copy: the camera JPEG becomes its same-picture copy, the PNG a near copy
    (r,) = apply_decisions([g], [KeepThis(c["retagged"].content_hash)])
    assert r.keeper_id == c["retagged"].id and tier_problems(r) == []
    tiers = {m.photo_id: (m.tier, m.copy_of) for m in r.members}
    assert tiers[c["png"].id] == (NEAR, None) and tiers[c["jpeg"].id] == (SAME, None)
    assert tiers[c["retagged_twin"].id] == (IDENTICAL, None) and tiers[c["backup"].id] == (IDENTICAL, c["jpeg"].id)
    # a byte copy's content is the head's: keeping it keeps the head, not the copy
    (b,) = apply_decisions([g], [KeepThis(c["backup"].content_hash)])
    assert b.keeper_id == c["jpeg"].id


def test_not_duplicate_with_a_head_promotes_its_other_picture_copy(converted: dict[str, PhotoFingerprint]) -> None:
    c = converted
    g = only_group(c.values())
    (n,) = apply_decisions([g], [NotDuplicate(c["png"].content_hash, c["jpeg"].content_hash)])
    assert set(n.photo_ids) == {c["png"].id, c["retagged"].id, c["retagged_twin"].id}  # the content leaves, all of it
    by = {m.photo_id: m for m in n.members}
    assert (by[c["retagged"].id].tier, by[c["retagged"].id].copy_of) == (NEAR, None)
    assert (by[c["retagged_twin"].id].tier, by[c["retagged_twin"].id].copy_of) == (IDENTICAL, c["retagged"].id)
    assert tier_problems(n) == []


@pytest.mark.parametrize("seed", range(6))
def test_random_libraries_of_copies_stay_safe(seed: int) -> None:
    """Random mixes of conversions, resized copies, byte copies and retagged copies, random keeper
    facts and decisions: every tier order of trashing stays safe and every group sound."""
    rng = random.Random(seed)
    base = scene(40 + seed)
    variants = [reencode(base, "JPEG", quality=90), reencode(base, "PNG"), resize(base, 0.5), reencode(base, "JPEG", quality=60)]
    photos: list[PhotoFingerprint] = []
    for k, img in enumerate(variants):
        photos.append(fingerprint_image(
            img, len(photos) + 1, image_data_hash=f"{k:064x}", format=rng.choice(["JPEG", "PNG"]),
            has_camera_exif=rng.random() < 0.5, size=rng.randrange(100_000, 900_000),
            orientation=rng.choice([None, 1, 6]), path=f"/p/v{k}.jpg"))
    for _ in range(rng.randrange(4, 9)):
        src = rng.choice(photos)
        pid = len(photos) + 1
        where = rng.choice(["/backup", "/home/me/Downloads", "/p/copies"])
        photos.append(byte_copy(src, pid, f"{where}/c{pid}.jpg") if rng.random() < 0.6
                      else meta_copy(src, pid, f"{where}/m{pid}.jpg", size=src.size + rng.randrange(1, 999)))
    rng.shuffle(photos)
    facts = {p.id: p for p in photos}
    groups = find_duplicate_groups(photos)
    assert groups and all(tier_problems(g) == [] for g in groups)
    for g in groups:  # byte copies all reach the identical tier: one file per content is not identical
        contents = [facts[i].content_hash for i in g.photo_ids]
        assert sum(m.tier is IDENTICAL for m in g.members) == len(contents) - len(set(contents))
    decided = apply_decisions(groups, [KeepThis(rng.choice(photos).content_hash)])
    for gs in (groups, decided):
        assert all(tier_problems(g) == [] for g in gs)
        for order in itertools.permutations((IDENTICAL, SAME, NEAR)):
            check_tier_trash_is_safe(list(gs), facts, order)


# --------------------------------------------------------------------------- 2. reasons state two differing values


@pytest.fixture(scope="module")
def plain() -> PhotoFingerprint:
    return fingerprint_image(scene(32), 1, width=1600, height=1200, size=500_000, orientation=1,
                             capture_time=when("2020-05-01T10:00:00"), path="/photos/IMG_1.jpg")


Facts = dict[str, object]


def _variants(p: PhotoFingerprint) -> dict[str, tuple[Facts, Facts, str, list[tuple[Facts, Facts]]]]:
    """rule -> (better's facts, worse's facts, the reason, pairs of facts the rule calls equal)."""
    t = p.capture_time
    assert t is not None
    return {
        "raw": ({"format": "NEF", "is_raw": True}, {}, "RAW (NEF) beats JPEG",
                [({"format": "NEF", "is_raw": True}, {"format": "CR2", "is_raw": True}), ({}, {"format": "PNG"})]),
        "pixels": ({"width": 6000, "height": 4000}, {}, f"6000{X}4000 beats 1600{X}1200",
                   [({}, {}), ({}, {"width": 1200, "height": 1600})]),
        "camera_exif": ({"has_camera_exif": True}, {}, "camera EXIF (make or model) vs none",
                        [({}, {}), ({"has_camera_exif": True}, {"has_camera_exif": True})]),
        "format": ({"format": "PNG"}, {}, "lossless PNG beats lossy JPEG",
                   [({}, {"format": "WEBP"}), ({"format": "TIFF"}, {"format": "PNG"})]),
        "orientation": ({}, {"orientation": 6}, "upright (EXIF orientation 1) vs rotated (orientation 6)",
                        [({}, {"orientation": None}), ({}, {"orientation": 0}), ({"orientation": 6}, {"orientation": 8})]),
        "file_size": ({"size": 900_000}, {}, "larger file (900,000 bytes vs 500,000)", [({}, {})]),
        "earliest": ({}, {"capture_time": t + timedelta(days=366)}, "older: taken 2020-05-01 10:00:00 vs taken 2021-05-02 10:00:00",
                     [({}, {}), ({}, {"capture_time": t + timedelta(microseconds=300)})]),
        "path": ({}, {"path": "/home/me/Downloads/IMG_1 (1).jpg"}, "no copy hint in the path vs in Downloads, named as a copy",
                 [({}, {"path": "/elsewhere/IMG_1.jpg"}), ({"path": "/a/Downloads/x.jpg"}, {"path": "/b/download/y.jpg"})]),
    }


_TWO_VALUES = re.compile(r"^(?:older: )?(?:larger file \()?(.+?) (?:beats|vs) (.+?)\)?$")


def test_every_rule_states_two_different_values(plain: PhotoFingerprint) -> None:
    cases = _variants(plain)
    assert set(cases) == set(RULES), "a keeper rule without a case here"
    for name, (better_kw, worse_kw, reason, _) in cases.items():
        better = replace(plain, id=2, **better_kw)  # type: ignore[arg-type]
        worse = replace(plain, id=3, **worse_kw)  # type: ignore[arg-type]
        assert rank_key(better, (name,)) < rank_key(worse, (name,)), name
        assert explain(better, worse, (name,)) == reason, name
        if name in DEFAULT_RULES:  # the pair differs in this fact only: the default list says the same
            assert explain(better, worse) == reason, name
        m = _TWO_VALUES.match(reason)
        assert m and m.group(1) != m.group(2), reason


def test_a_rule_that_sees_equal_values_says_nothing(plain: PhotoFingerprint) -> None:
    for name, (_, _, _, equals) in _variants(plain).items():
        for a_kw, b_kw in equals:
            a, b = replace(plain, id=2, **a_kw), replace(plain, id=3, **b_kw)  # type: ignore[arg-type]
            assert rank_key(a, (name,))[:-1] == rank_key(b, (name,))[:-1], (name, a_kw, b_kw)
            assert explain(a, b, (name,)) == "equal on every rule; lower id kept (2 vs 3)", (name, a_kw, b_kw)


def test_explaining_the_worse_copy_still_shows_both_values(plain: PhotoFingerprint) -> None:
    small = replace(plain, id=2, width=800, height=600)
    assert explain(small, plain) == f"kept although pixels prefers the other copy: 1600{X}1200 beats 800{X}600"


# --------------------------------------------------------------------------- 3. upright beats rotated


def test_upright_copy_beats_one_needing_rotation(plain: PhotoFingerprint) -> None:
    rotated = replace(plain, id=0, orientation=6, size=plain.size + 40_000)  # larger file, lower id
    assert min((rotated, plain), key=rank_key) is plain
    assert explain(plain, rotated) == "upright (EXIF orientation 1) vs rotated (orientation 6)"
    untagged = replace(plain, orientation=None)
    assert explain(untagged, rotated) == "upright (no EXIF orientation) vs rotated (orientation 6)"
    mirrored = replace(plain, id=4, orientation=2)
    assert explain(plain, mirrored) == "upright (EXIF orientation 1) vs mirrored (orientation 2)"
    # two copies that both need turning: the next rules decide
    r8 = replace(plain, id=5, orientation=8)
    assert explain(rotated, r8) == "larger file (540,000 bytes vs 500,000)"


def test_orientation_does_not_outrank_the_picture(plain: PhotoFingerprint) -> None:
    """Other things equal only: a RAW, more pixels, camera EXIF or a better format still win."""
    upright = replace(plain, id=2)
    for kw in ({"format": "NEF", "is_raw": True}, {"width": 3200, "height": 2400}, {"has_camera_exif": True}, {"format": "TIFF"}):
        rotated = replace(plain, id=3, orientation=6, **kw)  # type: ignore[arg-type]
        assert min((upright, rotated), key=rank_key) is rotated, kw


def test_group_keeps_the_upright_copy() -> None:
    """The report: the keeper was the copy that displays rotated (pixels stored turned, EXIF orientation 8)."""
    base = scene(33)
    upright = fingerprint_image(reencode(base, "JPEG", quality=92), 2, orientation=1, has_camera_exif=True, size=480_000)
    turned = fingerprint_image(rotated_with_orientation_tag(base), 1, orientation=8, has_camera_exif=True, size=520_000)
    assert (turned.width, turned.height) == (upright.width, upright.height)  # displayed size
    g = only_group([turned, upright])
    assert g.keeper_id == upright.id
    assert g.members[0].reason == "upright (EXIF orientation 1) vs rotated (orientation 8)"


# --------------------------------------------------------------------------- 4. a RAW wins only at real size


@pytest.mark.parametrize(("w", "h", "wins"), [(0, 0, False), (8, 8, False), (160, 120, False), (640, 480, False),
                                               (800, 600, True), (1600, 1200, True), (6000, 4000, True)])
def test_raw_wins_only_at_real_size_among_its_copies(w: int, h: int, wins: bool) -> None:
    base = scene(34)
    jpeg = fingerprint_image(base, 1, width=1600, height=1200, has_camera_exif=True, size=900_000)
    small = fingerprint_image(resize(base, 0.25), 2)  # a small copy must not make a tiny RAW look big enough
    raw = replace(jpeg, id=3, content_hash="f" * 64, format="ORF", is_raw=True, width=w, height=h, size=15_000_000)
    for rules in (DEFAULT_RULES, ("format", *[r for r in DEFAULT_RULES if r != "format"])):
        g = only_group([small, raw, jpeg], rules=rules)
        assert (g.keeper_id == raw.id) is wins, (w, h, rules)
        if not wins:
            reason = {m.photo_id: m.reason for m in g.members}[raw.id]
            assert reason.startswith(f"1600{X}1200 beats {w}{X}{h}") or "ORF with " in reason, reason
