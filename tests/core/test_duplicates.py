"""core.duplicates: tiers in review order, groups and members, decisions (stored by value)."""
from __future__ import annotations

import dataclasses

import pytest

from lumina_desktop.core.duplicates import (
    TIERS,
    DecisionKind,
    DuplicateGroup,
    DuplicateTier,
    GroupMember,
    KeepThis,
    NotDuplicate,
    StoredGroup,
)


def member(photo_id: int, tier: DuplicateTier | str = DuplicateTier.IDENTICAL, is_verified: bool = True) -> GroupMember:
    return GroupMember(photo_id, f"h{photo_id}", tier, "content_hash", 1.0, 0, is_verified, "larger file")


def test_tiers_strictest_first() -> None:
    assert TIERS == (DuplicateTier.IDENTICAL, DuplicateTier.SAME_PICTURE, DuplicateTier.NEAR_COPY)
    assert [t.rank for t in TIERS] == [0, 1, 2]
    assert [t.value for t in TIERS] == ["identical", "same_picture", "near_copy"]
    assert DuplicateTier.NEAR_COPY == "near_copy"  # compares with the stored value


def test_stored_values_become_tiers() -> None:
    m = member(2, "same_picture")
    assert m.tier is DuplicateTier.SAME_PICTURE
    g = DuplicateGroup(1, "h1", (m,), "same_picture", False)
    assert g.tier is DuplicateTier.SAME_PICTURE
    with pytest.raises(ValueError):
        member(3, "similar")


def test_group_facts() -> None:
    g = DuplicateGroup(1, "h1", (member(2), member(3, DuplicateTier.NEAR_COPY, is_verified=False)),
                       DuplicateTier.NEAR_COPY, False)
    assert g.size == 3 and g.photo_ids == (1, 2, 3) and g.has_unverified and not g.is_keeper_forced
    with pytest.raises(ValueError, match="at least one copy"):
        DuplicateGroup(1, "h1", (), DuplicateTier.IDENTICAL, False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        g.tier = DuplicateTier.IDENTICAL  # type: ignore[misc]


def test_stored_group_reclaimable_bytes() -> None:
    g = DuplicateGroup(1, "h1", (member(2), member(3)), DuplicateTier.IDENTICAL, False)
    sg = StoredGroup(9, g, {1: "/a.jpg", 2: "/b.jpg", 3: "/c.jpg"}, {1: 100, 2: 60, 3: 40})
    assert sg.tier is DuplicateTier.IDENTICAL and sg.reclaimable_bytes == 100


def test_decisions_know_their_kind() -> None:
    assert NotDuplicate("a", "b").kind is DecisionKind.NOT_DUPLICATE and KeepThis("a").kind is DecisionKind.KEEP
    assert [k.value for k in DecisionKind] == ["not_duplicate", "keep"]
    assert NotDuplicate("a", "b") == NotDuplicate("a", "b") and hash(KeepThis("x")) == hash(KeepThis("x"))
    assert [f.name for f in dataclasses.fields(NotDuplicate)] == ["a", "b"]  # kind is a class constant
