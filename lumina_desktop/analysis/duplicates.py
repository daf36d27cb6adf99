"""Duplicate detection: three tiers, keeper-anchored groups (no chaining), decisions, incremental runs.

Runs on any thread (worker). Pure functions over plain values: no Qt, no DB,
no module state. A DB-backed job feeds ``PhotoFingerprint`` values in and
stores the ``DuplicateGroup`` values that come out (those types, the tiers
and the decisions live in ``core.duplicates``).

What counts as a duplicate: copies of one photograph -- the same file, the
same pixels with other metadata, re-encoded, resized, converted, rotated
pixels vs. an orientation tag, a border crop of up to ~5 % per side, a mild
brightness/levels change, a small watermark. Not: burst siblings and other
shots of the scene, mirrored pictures, crops of 10 % or more, content edits.

Tiers (each member records its tier, the ``match`` that found it and, for an
exact copy of another member rather than of the keeper, ``copy_of``; see ``dup_tiers``):

* ``identical`` -- same ``content_hash`` (byte-identical file) as the keeper or
  as a better member, match ``content_hash``;
* ``same_picture`` -- same ``image_data_hash`` (same pixels, other metadata)
  as the keeper or as a better member, match ``image_data_hash``;
* ``near_copy`` -- a pHash neighbour whose 64x64 grey passed pixel verification
  against the keeper (``dup_verify``), match ``phash+ssim`` (found by the
  256-bit channel) or ``phash_low+ssim`` (found by the low-frequency channel);
  a neighbour that could not be verified (grey missing or corrupt, or both
  featureless with the same brightness) is kept with ``is_verified=False``
  and match ``phash (unverified: <why>)``, never silently dropped or accepted
  (lessons.md, trap 3). Featureless pictures of different brightness or
  layout are different pictures (``dup_verify``), so blank white, black and
  blue frames no longer share one group.

Candidates come from ``DuplicateIndex`` (``dup_index``): two multi-index hashing
channels over the stored pHash, never all pairs. Measured on 153 real photos
with generated copies (``tests/analysis/test_dup_measurements.py``), the
256-bit pHash is very sensitive to border crops (a 5 % crop moves it 18-130
bits, as far as unrelated photos at 94+), so a radius on it cannot find
crops at any useful setting:

=========================  ===============  ==========================
share found by the index   pHash-256 <= 15  union with low 8x8 block <= 7
=========================  ===============  ==========================
re-encode/resize/PNG/WebP  95-100 %         100 %
brightness/gamma/contrast  95-100 %         99.3-100 %
watermark text / logo      55 % / 33 %      89.5 % / 90.8 %
crop 2 % (1 % per side)    35 %             100 %
crop 3 % (one side)        1 %              90.8 %
crop 5 % (2.5 % per side)  0 %              83.7 %
crop 4 % + half size       0 %              66.7 %
crop 5 % of two sides      0 %              15-25 %
=========================  ===============  ==========================

The low-frequency channel (the 8x8 corner of the same pHash, 64 bits,
radius 7) carries the crop recall; unrelated real photos never came within
radius 9 on it (0 of 261,466 cross-folder pairs), so it adds burst siblings
to verify, not noise. Radius 7 with 4 x 16-bit
substrings is the largest that stays exact and fast at a million photos
(see ``tests/benchmarks/bench_duplicates_scale.py``); larger radii or 3-way
splits cost 4x more.

Grouping without chaining (lessons.md, trap 1): photos with any candidate
are ranked by the keeper rules (best first; a RAW counts as RAW only when its
recorded size is comparable to its candidates', see ``dup_keeper``). Each
unassigned photo in that order becomes a keeper; each of its unassigned candidates is checked against
*it* (tiers 1-2 by hash, tier 3 by pixels) and joins on success. A group is
one keeper and its verified copies; nothing joins through another member. An
exact copy (same bytes or pixels) of a member that joined is recorded as that
member's copy in tier ``identical`` / ``same_picture`` -- an exact relation, not
a chain -- so byte copies reach the identical queue even when a conversion
(a PNG of a camera JPEG, say) is the keeper.
Groups of more than ``MAX_GROUP_SIZE`` photos are logged and flagged
``is_suspicious``. The order, and so the output, is deterministic.

Review queues: a group's ``tier`` is its loosest member tier, so a group of
the ``identical`` queue holds only byte-identical copies, ``same_picture`` only
same-pixel copies, and everything else is ``near_copy``; ``has_unverified``
groups must never be accepted in bulk. Member tiers are what the trash takes
(every member of a tier, in every group): all ``identical`` members leave a
file of each content, all ``same_picture`` members a file of each picture, all
``near_copy`` members the keeper (``dup_tiers``).

Decisions (``NotDuplicate``, ``KeepThis``) are keyed by content hash, kept
apart from detection results, and applied on top of them by
``apply_decisions`` -- so they survive re-runs, moves and renames.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace

from lumina_desktop.analysis.dup_index import DEFAULT_LOW_RADIUS, DEFAULT_RADIUS, DuplicateIndex, as_words, hamming
from lumina_desktop.analysis.dup_keeper import DEFAULT_RULES, explain, pixel_count, rank_key
from lumina_desktop.analysis.dup_tiers import Classes, CopySets, classes_of, rebuild
from lumina_desktop.analysis.dup_verify import (
    DEFAULT_THRESHOLDS,
    PreparedGrey,
    Verification,
    VerifyThresholds,
    prepare_grey,
    verify_prepared,
)
from lumina_desktop.core.duplicates import (
    Decision,
    DuplicateGroup,
    DuplicateTier,
    GroupMember,
    KeepThis,
    NotDuplicate,
    PhotoFingerprint,
)

__all__ = [
    "MAX_GROUP_SIZE",
    "find_duplicate_groups",
    "match_new",
    "apply_decisions",
]

_log = logging.getLogger(__name__)

MAX_GROUP_SIZE = 10
"""A group of more photos than this (keeper included) is a bug signal, not a result."""

VerifyFn = Callable[[PhotoFingerprint, PhotoFingerprint], Verification]


# --------------------------------------------------------------------------- grouping


def _make_group(
    keeper: PhotoFingerprint | tuple[int, str], members: Sequence[GroupMember], forced: bool = False, *, log: bool = True
) -> DuplicateGroup:
    kid, khash = (keeper.id, keeper.content_hash) if isinstance(keeper, PhotoFingerprint) else keeper
    tier = max((m.tier for m in members), key=lambda t: t.rank)
    suspicious = 1 + len(members) > MAX_GROUP_SIZE
    if suspicious and log:
        _log.warning("suspicious duplicate group: keeper %d has %d copies (more than %d photos)", kid, len(members), MAX_GROUP_SIZE)
    return DuplicateGroup(kid, khash, tuple(members), tier, suspicious, forced)


def with_members(group: DuplicateGroup, members: Sequence[GroupMember]) -> DuplicateGroup:
    """The group with only these members (its tier follows them); e.g. without trashed copies.

    An exact copy of a member that left takes its place (``dup_tiers.rebuild``).
    """
    known = {m.photo_id for m in group.members}
    classes = classes_of([*group.members, *(m for m in members if m.photo_id not in known)])
    kept = rebuild(group.keeper_content_hash, members, classes)
    return _make_group((group.keeper_id, group.keeper_content_hash), kept, group.is_keeper_forced, log=False)


def _phash_distance(a: PhotoFingerprint, b: PhotoFingerprint) -> int:
    return int(hamming(as_words([a.phash], 32), as_words([b.phash], 32))[0])


def _group(
    vertices: Iterable[int],
    neighbours: Callable[[int], Iterable[int]],
    facts: Mapping[int, PhotoFingerprint],
    *,
    rules: Sequence[str],
    radius: int,
    thresholds: VerifyThresholds,
    verify: VerifyFn | None,
    cancel_check: Callable[[], None] | None,
    progress: Callable[[int, int], None] | None,
) -> list[DuplicateGroup]:
    """Greedy keeper-anchored grouping over a candidate graph (see module doc)."""
    verts = set(vertices)
    # a RAW counts as RAW only next to photos of comparable size (dup_keeper.counts_as_raw)
    peer_px = {v: max((pixel_count(facts[n]) for n in neighbours(v) if n != v), default=0.0) for v in verts}
    order = sorted(verts, key=lambda i: rank_key(facts[i], rules, peer_px=peer_px[i]))
    rank = {pid: i for i, pid in enumerate(order)}
    assigned: set[int] = set()
    groups: list[DuplicateGroup] = []
    total = len(order)
    for done, kid in enumerate(order):
        if cancel_check is not None:
            cancel_check()
        if progress is not None:
            progress(done, total)
        if kid in assigned:
            continue
        keeper = facts[kid]
        prepared_keeper: PreparedGrey | str | None = None
        members: list[GroupMember] = []
        sets = CopySets(keeper)
        for nid in sorted({n for n in neighbours(kid) if n not in assigned and n != kid}, key=rank.__getitem__):
            other = facts[nid]
            twin = sets.twin_of(other)
            if twin is not None:  # the same bytes or pixels as the keeper or as a better member
                tier, copy_of = twin
                ref = keeper if copy_of is None else facts[copy_of]
                reason = explain(ref, other, rules, peer_px=peer_px)
                if copy_of is not None:
                    reason = f"{'same file' if tier is DuplicateTier.IDENTICAL else 'same pixels'} as {ref.path}; {reason}"
                match = "content_hash" if tier is DuplicateTier.IDENTICAL else "image_data_hash"
                dist = _phash_distance(ref, other)
                members.append(GroupMember(nid, other.content_hash, tier, match, 1.0, dist, True, reason, copy_of))
                sets.add(other)
                continue
            dist = _phash_distance(keeper, other)
            if verify is not None:
                v = verify(keeper, other)
            else:
                if prepared_keeper is None:
                    prepared_keeper = prepare_grey(keeper.grey, keeper.aspect, keeper.width, keeper.height)
                v = verify_prepared(prepared_keeper, prepare_grey(other.grey, other.aspect, other.width, other.height), thresholds)
            if v.state == "different":
                continue
            channel = "phash" if dist <= radius else "phash_low"
            reason = explain(keeper, other, rules, peer_px=peer_px)
            if v.state == "same":
                members.append(GroupMember(nid, other.content_hash, DuplicateTier.NEAR_COPY, f"{channel}+ssim", v.similarity, dist, True, reason))
            else:
                members.append(GroupMember(nid, other.content_hash, DuplicateTier.NEAR_COPY, f"{channel} (unverified: {v.reason})", None, dist, False, reason))
            sets.add(other)
        if members:
            assigned.add(kid)
            assigned.update(m.photo_id for m in members)
            groups.append(_make_group(keeper, members))
    if progress is not None:
        progress(total, total)
    return groups


def _sorted(groups: Iterable[DuplicateGroup]) -> list[DuplicateGroup]:
    return sorted(groups, key=lambda g: (g.tier.rank, g.keeper_id))


# --------------------------------------------------------------------------- public API


def find_duplicate_groups(
    photos: Iterable[PhotoFingerprint],
    *,
    rules: Sequence[str] = DEFAULT_RULES,
    decisions: Iterable[Decision] = (),
    radius: int = DEFAULT_RADIUS,
    low_radius: int | None = DEFAULT_LOW_RADIUS,
    thresholds: VerifyThresholds = DEFAULT_THRESHOLDS,
    index: DuplicateIndex | None = None,
    verify: VerifyFn | None = None,
    cancel_check: Callable[[], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[DuplicateGroup]:
    """Duplicate groups of a set of photos, sorted by tier then keeper id.

    ``index``: pass an empty ``DuplicateIndex`` to keep it (with these photos
    added) for later ``match_new`` calls; its radii override ``radius`` /
    ``low_radius``. ``verify`` replaces pixel verification (tests, benchmarks).
    ``cancel_check`` is called at least once per chunk of index work and per
    photo while grouping (raise to cancel); ``progress(done, total)`` counts
    grouped photos and never goes backwards.
    """
    ps = list(photos)
    facts = {p.id: p for p in ps}
    if len(facts) != len(ps):
        raise ValueError("photo ids must be unique")
    if index is None:
        index = DuplicateIndex(radius=radius, low_radius=low_radius)
    index.add(ps)
    graph = index.candidate_graph(cancel_check)
    vertices = set(graph.vertices.tolist()) | set(graph.cliques)
    groups = _group(
        vertices, lambda k: (n for n, _ in graph.neighbours_of(k)), facts,
        rules=rules, radius=index.radius, thresholds=thresholds, verify=verify,
        cancel_check=cancel_check, progress=progress,
    )
    return apply_decisions(_sorted(groups), decisions)


def match_new(
    existing_index: DuplicateIndex,
    existing_groups: Sequence[DuplicateGroup],
    new_photos: Iterable[PhotoFingerprint],
    lookup: Callable[[Sequence[int]], Iterable[PhotoFingerprint]],
    *,
    rules: Sequence[str] = DEFAULT_RULES,
    decisions: Iterable[Decision] = (),
    thresholds: VerifyThresholds = DEFAULT_THRESHOLDS,
    verify: VerifyFn | None = None,
    cancel_check: Callable[[], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[DuplicateGroup]:
    """Add new photos to an existing index and update the groups, without redoing the library.

    ``existing_groups`` must be detection results (decisions not applied).
    Only the part of the candidate graph reachable from the new photos is
    regrouped -- found by index queries, its existing photos fetched through
    ``lookup(ids)`` -- and, because the grouping of one connected part depends
    on nothing outside it, the result equals a full run on the combined set.
    ``existing_index`` is updated in place.
    """
    new = list(new_photos)
    facts = {p.id: p for p in new}
    existing_index.add(new)
    adjacency: dict[int, dict[int, int]] = {}
    frontier = sorted(facts)
    while frontier:
        if cancel_check is not None:
            cancel_check()
        found = existing_index.neighbours(frontier)
        adjacency.update(found)
        frontier = sorted({n for nb in found.values() for n in nb} - adjacency.keys())
    missing = sorted(set(adjacency) - facts.keys())
    for p in lookup(missing):
        facts[p.id] = p
    lost = [i for i in missing if i not in facts]
    if lost:
        raise KeyError(f"lookup() returned no fingerprint for indexed photos {lost[:10]}")
    component = {k for k, nb in adjacency.items() if nb}
    groups = _group(
        component, lambda k: adjacency.get(k, {}).keys(), facts,
        rules=rules, radius=existing_index.radius, thresholds=thresholds, verify=verify,
        cancel_check=cancel_check, progress=progress,
    )
    touched = set(adjacency)
    kept = [g for g in existing_groups if touched.isdisjoint(g.photo_ids)]
    return apply_decisions(_sorted([*kept, *groups]), decisions)


def apply_decisions(groups: Iterable[DuplicateGroup], decisions: Iterable[Decision]) -> list[DuplicateGroup]:
    """Detection results with the user's decisions applied (pure; inputs unchanged).

    ``KeepThis(h)`` makes the member with content ``h`` the keeper of its group
    (the old keeper becomes a member; reasons that compared with it say "kept by
    your choice"). ``NotDuplicate(a, b)`` removes b from a group kept by a (or a
    from one kept by b); when both are members, the later (less preferred) one
    leaves. Groups left without members disappear. Exact copies are re-homed as
    ``with_members`` does (``dup_tiers.rebuild``), with or without decisions: a
    stored copy whose file left the catalog since becomes an unverified near copy.
    """
    decisions = list(decisions)
    keep = {d.content_hash for d in decisions if isinstance(d, KeepThis)}
    apart = {frozenset((d.a, d.b)) for d in decisions if isinstance(d, NotDuplicate) and d.a != d.b}
    touched = keep | {h for pair in apart for h in pair}
    out: list[DuplicateGroup] = []
    for g in groups:
        hashes = {g.keeper_content_hash, *(m.content_hash for m in g.members)}
        if touched.isdisjoint(hashes) and all(m.copy_of is None or m.copy_of in g.photo_ids for m in g.members):
            out.append(g)      # no decision concerns it and its copies' heads are all here: as stored
            continue
        keeper: tuple[int, str] = (g.keeper_id, g.keeper_content_hash)
        members = list(g.members)
        forced = g.is_keeper_forced
        classes = classes_of(members)
        if keeper[1] not in keep:
            chosen = [m for m in members if m.content_hash in keep]
            pick = next((m for m in chosen if m.tier is not DuplicateTier.IDENTICAL), chosen[0] if chosen else None)
            if pick is not None:
                members, classes = _keep_instead(keeper, pick, members, classes)
                keeper, forced = (pick.photo_id, pick.content_hash), True
        kept: list[GroupMember] = []
        for m in members:
            if frozenset((keeper[1], m.content_hash)) in apart:
                continue
            if any(frozenset((k.content_hash, m.content_hash)) in apart for k in kept):
                continue
            kept.append(m)
        if kept:
            out.append(_make_group(keeper, rebuild(keeper[1], kept, classes), forced, log=False))
    return _sorted(out) if decisions else out


def keep_file_instead(group: DuplicateGroup, photo_id: int) -> DuplicateGroup:
    """The group with ``photo_id`` — a byte-identical copy of its keeper — as its keeper (the user
    chose that file); the old keeper becomes its identical copy.  Other members are unchanged:
    the keeper's content is the same."""
    pick = next(m for m in group.members if m.photo_id == photo_id)
    if pick.content_hash != group.keeper_content_hash:
        raise ValueError(f"photo {photo_id} is not a byte copy of the keeper of group {group.keeper_id}")
    old = replace(pick, photo_id=group.keeper_id, reason="kept by your choice: the other file of the same bytes",
                  copy_of=None)
    members = tuple(old if m.photo_id == photo_id else m for m in group.members)
    return replace(group, keeper_id=photo_id, members=members, is_keeper_forced=True)


def _keep_instead(
    keeper: tuple[int, str], pick: GroupMember, members: Sequence[GroupMember], classes: Classes
) -> tuple[list[GroupMember], Classes]:
    """The members and classes once ``pick`` is the keeper: the old keeper becomes the first member.

    The picked file's class becomes the keeper's; the old keeper's class, if another, becomes a
    near copy headed by the old keeper, with the relation the picked class had to it.
    """
    reason = "kept by your choice"
    of = dict(classes.of)
    relation = dict(classes.relation)
    c = of.pop(pick.photo_id)
    if c is None:  # the same pixels as the old keeper
        old = GroupMember(keeper[0], keeper[1], DuplicateTier.SAME_PICTURE, "image_data_hash", 1.0, pick.phash_distance, True, reason)
        of[keeper[0]] = None
    else:
        old = replace(relation.pop(c), photo_id=keeper[0], content_hash=keeper[1], reason=reason, copy_of=None)
        of = {pid: keeper[0] if k is None else (None if k == c else k) for pid, k in of.items()}
        of[keeper[0]] = keeper[0]
        relation[keeper[0]] = old
    rest = [m if m.copy_of is not None else replace(m, reason=reason) for m in members if m is not pick]
    return [old, *rest], Classes(of, relation)

