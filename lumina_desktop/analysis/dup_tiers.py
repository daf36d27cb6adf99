"""Exact copies inside a duplicate group: byte copies and same-pixel copies keep their own tiers.

Runs on any thread (worker): pure functions over plain values, no state.

A group is one keeper and the photos verified to be copies of *it* (never a chain of
look-alikes, see ``duplicates``). Among those copies, files often duplicate each other exactly:
a PNG made from a camera JPEG becomes the keeper, and byte copies of that JPEG sit next to it.
Each such file is reported as an exact copy of the member it duplicates (``copy_of``) instead
of as one more near copy of the keeper:

* the same ``content_hash`` as the keeper or an earlier member -> tier ``identical``;
* else the same ``image_data_hash`` (same pixels, other metadata) -> tier ``same_picture``;
* else a verified (or unverified) near copy of the keeper -> tier ``near_copy``.

"Earlier" is the keeper rules' order, so the best file of each set -- its *head* -- carries
the set's relation to the keeper and its exact copies point at it. A set of same-pixel files
is a *class*; the keeper's class holds the keeper's exact copies (``copy_of`` None).

What this guarantees (``tier_problems`` checks it; the trash plan takes every member of one
tier, ``services.trash.duplicates_plan``):

* an ``identical`` member copies a file of the same content that is not ``identical`` itself,
  so trashing a whole identical tier leaves at least one file of every content;
* a ``same_picture`` member copies the keeper or a ``near_copy`` head, so trashing a whole
  same-picture tier leaves at least one file of every picture;
* copies never point at copies of other pictures, and the keeper is never a member: trashing
  every ``near_copy`` member leaves the keeper (and the exact copies, which stay reviewable).

When members leave a group (trashed files: ``duplicates.with_members``; "not duplicate"
decisions) or the user picks another keeper (``KeepThis``), ``rebuild`` recomputes tiers and
``copy_of`` from the classes: the best remaining file of a class whose head left takes over the
head's relation to the keeper.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from lumina_desktop.core.duplicates import DuplicateGroup, DuplicateTier, GroupMember, PhotoFingerprint

__all__ = ["CopySets", "Classes", "classes_of", "rebuild", "tier_problems"]

_EXACT = (DuplicateTier.IDENTICAL, DuplicateTier.SAME_PICTURE)


@dataclass
class CopySets:
    """While a group is built: the head of each content and each picture met so far (None = the keeper)."""

    keeper: PhotoFingerprint
    _content: dict[str, int | None] = field(default_factory=dict)
    _pixels: dict[str, int | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._content[self.keeper.content_hash] = None
        if self.keeper.image_data_hash:
            self._pixels[self.keeper.image_data_hash] = None

    def twin_of(self, p: PhotoFingerprint) -> tuple[DuplicateTier, int | None] | None:
        """(tier, copy_of) when ``p`` is an exact copy of the keeper or of a member already in; else None."""
        if p.content_hash in self._content:
            return DuplicateTier.IDENTICAL, self._content[p.content_hash]
        if p.image_data_hash and p.image_data_hash in self._pixels:
            return DuplicateTier.SAME_PICTURE, self._pixels[p.image_data_hash]
        return None

    def add(self, p: PhotoFingerprint) -> None:
        """``p`` joined the group (call in the group's order, best first)."""
        self._content.setdefault(p.content_hash, p.id)
        if p.image_data_hash:
            self._pixels.setdefault(p.image_data_hash, p.id)


@dataclass(frozen=True)
class Classes:
    """The same-pixel classes of a group's members.

    ``of``: photo id -> class key (None = the keeper's pixels; otherwise the id of the class's
    original head). ``relation``: class key -> the member whose fields tell the class's relation to
    the keeper (its head, a near copy).
    """

    of: Mapping[int, int | None]
    relation: Mapping[int, GroupMember]


def classes_of(members: Sequence[GroupMember]) -> Classes:
    """The classes of a group's members, read from their tiers and ``copy_of`` links.

    A copy whose ``copy_of`` is not in the group (stored data of a photo deleted since) is
    treated as a near copy of the keeper that could not be verified: never as an exact copy of
    something that may be gone.
    """
    by_id = {m.photo_id: m for m in members}
    of: dict[int, int | None] = {}
    relation: dict[int, GroupMember] = {}
    for m in members:
        cur, seen = m, {m.photo_id}
        while cur.copy_of is not None and cur.copy_of in by_id and cur.copy_of not in seen:
            cur = by_id[cur.copy_of]
            seen.add(cur.photo_id)
        if cur.tier in _EXACT and cur.copy_of is None:
            of[m.photo_id] = None
            continue
        of[m.photo_id] = cur.photo_id
        if cur.photo_id not in relation:
            if cur.tier in _EXACT:  # a dangling (or circular) copy_of: its relation to the keeper is unknown
                why = "the file it copies is gone"
                cur = replace(cur, tier=DuplicateTier.NEAR_COPY, match=f"{cur.match} (unverified: {why})",
                              similarity=None, is_verified=False, copy_of=None)
            relation[cur.photo_id] = cur
    return Classes(of, relation)


def rebuild(keeper_hash: str, members: Sequence[GroupMember], classes: Classes) -> list[GroupMember]:
    """``members`` (each in ``classes``, any order) with tiers and ``copy_of`` recomputed, in the same order.

    Heads stay heads while they are among ``members``; a member whose tier and ``copy_of`` come
    out unchanged is returned as it is. Otherwise the first member (in the order given) of a
    class whose head is gone takes over the head's relation to the keeper (its reason says so),
    and an exact copy now pointing at another file says which kind of copy it is.
    """
    present = {m.photo_id for m in members}
    class_head: dict[int, int] = {}
    for m in members:
        c = classes.of[m.photo_id]
        if c is not None and c not in class_head:
            class_head[c] = c if c in present else m.photo_id
    content_head: dict[str, int | None] = {keeper_hash: None}
    heads = set(class_head.values())
    for prefer in (lambda m: m.photo_id in heads, lambda m: m.tier is not DuplicateTier.IDENTICAL, lambda m: True):
        for m in members:
            if prefer(m):
                content_head.setdefault(m.content_hash, m.photo_id)
    out: list[GroupMember] = []
    for m in members:
        c = classes.of[m.photo_id]
        rel: GroupMember | None = None
        if content_head[m.content_hash] != m.photo_id:
            tier, copy_of = DuplicateTier.IDENTICAL, content_head[m.content_hash]
        elif c is None:
            tier, copy_of = DuplicateTier.SAME_PICTURE, None
        elif class_head[c] != m.photo_id:
            tier, copy_of = DuplicateTier.SAME_PICTURE, class_head[c]
        else:
            rel = classes.relation[c]
            tier, copy_of = rel.tier, None
        if (tier, copy_of) == (m.tier, m.copy_of) and (rel is None or rel.photo_id == m.photo_id):
            out.append(m)
        elif rel is not None:
            reason = rel.reason if rel.photo_id == m.photo_id else f"{rel.reason} (said of an exact copy no longer in this group)"
            out.append(replace(rel, photo_id=m.photo_id, content_hash=m.content_hash, reason=reason, copy_of=None))
        else:
            same = "same file" if tier is DuplicateTier.IDENTICAL else "same pixels"
            reason = f"{same} as the keeper" if copy_of is None else f"{same} as another copy in this group"
            match = "content_hash" if tier is DuplicateTier.IDENTICAL else "image_data_hash"
            out.append(GroupMember(m.photo_id, m.content_hash, tier, match, 1.0, m.phash_distance, True, reason, copy_of))
    return out


def tier_problems(group: DuplicateGroup) -> list[str]:
    """What breaks the guarantees of the module doc in ``group`` (empty when it is sound)."""
    by_id = {m.photo_id: m for m in group.members}
    problems = []
    if group.keeper_id in by_id:
        problems.append(f"keeper {group.keeper_id} is also a member")
    for m in group.members:
        target = by_id.get(m.copy_of) if m.copy_of is not None else None
        if m.copy_of is not None and target is None:
            problems.append(f"{m.photo_id} copies {m.copy_of}, which is not a member")
            continue
        if m.tier is DuplicateTier.IDENTICAL:
            twin_hash = group.keeper_content_hash if target is None else target.content_hash
            if twin_hash != m.content_hash:
                problems.append(f"identical {m.photo_id} differs in content from {m.copy_of or group.keeper_id}")
            if target is not None and target.tier is DuplicateTier.IDENTICAL:
                problems.append(f"identical {m.photo_id} copies identical {target.photo_id}")
        elif m.tier is DuplicateTier.SAME_PICTURE:
            if target is not None and target.tier is not DuplicateTier.NEAR_COPY:
                problems.append(f"same-picture {m.photo_id} copies {target.tier} {target.photo_id}, not a near-copy head")
        elif m.copy_of is not None:
            problems.append(f"near copy {m.photo_id} has copy_of {m.copy_of}")
    return problems
