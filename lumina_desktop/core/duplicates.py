"""Duplicate vocabulary: fingerprints, tiers, groups and the user's decisions (pure Python, any thread).

Frozen values shared by ``analysis.duplicates`` (which finds groups), ``db.duplicates`` (which
stores them) and the duplicates job, CLI and UI (which show them).  Tiers and decision kinds
are stored in the database by value; the SQL CHECK constraints mirror them (tested).
"""
from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar


class DuplicateTier(enum.StrEnum):
    """How sure a copy is, strictest first (the order of the review queues).

    ``identical``: the same file, byte for byte.  ``same_picture``: the same pixels with other
    metadata.  ``near_copy``: re-encoded, resized, converted, slightly cropped or brightened.
    """

    IDENTICAL = "identical"
    SAME_PICTURE = "same_picture"
    NEAR_COPY = "near_copy"

    @property
    def rank(self) -> int:
        """0 for the strictest tier; a group's tier is its loosest (highest-ranked) member's."""
        return _TIER_RANK[self]


TIERS: tuple[DuplicateTier, ...] = tuple(DuplicateTier)
_TIER_RANK = {t: i for i, t in enumerate(TIERS)}


class DecisionKind(enum.StrEnum):
    """What a remembered decision says (stored by value)."""

    NOT_DUPLICATE = "not_duplicate"
    KEEP = "keep"


@dataclass(frozen=True)
class PhotoHashes:
    """The hashes of an analysed photo: what the candidate index reads (cheap to load for a whole
    catalog).  ``analysed_at`` tells an incremental run which photos are new since the last."""

    id: int
    phash: bytes
    content_hash: str
    image_data_hash: str | None
    analysed_at: datetime | None


@dataclass(frozen=True)
class PhotoFingerprint:
    """Everything detection reads about one photo (produced by the ingest analysis).

    ``phash``/``dhash``: 32 bytes each; ``grey``: the 64x64 grey picture (None if not stored);
    ``size`` in bytes; ``mtime`` in seconds since the epoch; ``format`` is the decoded format
    (a RAW's file type for RAW files); ``orientation``: the EXIF orientation tag (1-8; None when
    absent) -- the other facts describe the picture as displayed, already turned by it.
    """

    id: int
    content_hash: str
    image_data_hash: str | None
    phash: bytes
    dhash: bytes
    grey: bytes | None
    aspect: float
    width: int
    height: int
    size: int
    format: str
    is_raw: bool
    has_camera_exif: bool
    capture_time: datetime | None
    mtime: float
    path: str
    orientation: int | None = None


@dataclass(frozen=True)
class GroupMember:
    """A copy in a group: what it copies, how it was matched and why the other file wins.

    ``copy_of`` is None for a copy of the keeper.  Otherwise it is the photo id of another member
    that this one duplicates exactly: the same file (tier ``identical``) or the same pixels (tier
    ``same_picture``).  That other member carries the relation to the keeper, so a tier's copies
    can all go and every file content (``identical``) or picture (``same_picture``) keeps a file.
    ``match`` names the method that found it (``content_hash``, ``image_data_hash``,
    ``phash+ssim``, ``phash_low+ssim`` or ``phash (unverified: <why>)``). ``similarity`` (None
    when unverified), ``phash_distance`` and ``reason`` compare it with the keeper, or with
    ``copy_of`` when that is set.
    """

    photo_id: int
    content_hash: str
    tier: DuplicateTier
    match: str
    similarity: float | None
    phash_distance: int
    is_verified: bool
    reason: str
    copy_of: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.tier, DuplicateTier):  # a stored value: 'identical', …
            object.__setattr__(self, "tier", DuplicateTier(self.tier))


@dataclass(frozen=True)
class DuplicateGroup:
    """One keeper and its copies (members exclude the keeper, best first).

    ``tier`` is the loosest member tier (the review queue it belongs to); ``is_keeper_forced``:
    the user chose the keeper (a :class:`KeepThis` decision).
    """

    keeper_id: int
    keeper_content_hash: str
    members: tuple[GroupMember, ...]
    tier: DuplicateTier
    is_suspicious: bool
    is_keeper_forced: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.tier, DuplicateTier):
            object.__setattr__(self, "tier", DuplicateTier(self.tier))
        if not self.members:
            raise ValueError("a duplicate group has at least one copy besides its keeper")

    @property
    def size(self) -> int:
        return 1 + len(self.members)

    @property
    def has_unverified(self) -> bool:
        return any(not m.is_verified for m in self.members)

    @property
    def photo_ids(self) -> tuple[int, ...]:
        return (self.keeper_id, *(m.photo_id for m in self.members))


@dataclass(frozen=True)
class StoredGroup:
    """A stored duplicate group with what the CLI and UI show about its photos.

    ``id`` is the stored group's id; ``paths``/``sizes`` give the display path and the bytes of
    each of its photos, by photo id.
    """

    id: int
    group: DuplicateGroup
    paths: Mapping[int, str]
    sizes: Mapping[int, int]

    @property
    def tier(self) -> DuplicateTier:
        return self.group.tier

    @property
    def reclaimable_bytes(self) -> int:
        """What deleting every copy but the keeper would free."""
        return sum(self.sizes.get(m.photo_id, 0) for m in self.group.members)


@dataclass(frozen=True)
class NotDuplicate:
    """The user says these two contents (content hashes) are not copies of each other."""

    kind: ClassVar[DecisionKind] = DecisionKind.NOT_DUPLICATE
    a: str
    b: str


@dataclass(frozen=True)
class KeepThis:
    """The user wants this content (content hash) kept in whatever group it lands in; with
    ``path``, this very file of that content (byte-identical copies elsewhere go instead)."""

    kind: ClassVar[DecisionKind] = DecisionKind.KEEP
    content_hash: str
    path: str = ""


Decision = NotDuplicate | KeepThis
"""A remembered decision, keyed by content so it survives rescans, moves and renames."""
