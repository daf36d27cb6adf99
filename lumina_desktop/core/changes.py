"""The change feed's vocabulary: what changed about which photos of a catalog (pure values).

Every batch a job commits writes one row per set of aspects to ``catalog_changes`` (a sequence
number, the catalog, the job, the photo ids, the aspects) and NOTIFYs ``lumina_changes``.
Readers (the window, follow-on jobs) read the rows after the last sequence number they saw and
merge them into one :class:`PhotoChanges` per catalog.
"""
from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass


class Aspect(enum.StrEnum):
    """What about a photo changed.  A view decides from these alone what it must read again."""

    ADDED = "added"              # new photos in the catalog
    REMOVED = "removed"          # photos gone from the catalog (or marked missing)
    ANALYSED = "analysed"        # metadata, status or content changed (sort and filter keys may have)
    STATUS = "status"            # photos became unreadable, missing, or readable again (the sidebar's counts)
    THUMBNAIL = "thumbnail"      # stored thumbnails or previews changed
    QUALITY = "quality"
    TAGS = "tags"
    BURST = "burst"
    FLAGS = "flags"              # the user's culling flags (pick, reject, stars) changed
    DUPLICATES = "duplicates"
    FOLDERS = "folders"          # the catalog's folders changed (added, removed, rescanned)

    @classmethod
    def parse_all(cls, names: Iterable[str]) -> frozenset[Aspect]:
        """Known aspects among ``names`` (a newer writer's unknown names are skipped)."""
        known = {a.value for a in cls}
        return frozenset(cls(n) for n in names if n in known)


MEMBERSHIP_ASPECTS = frozenset({Aspect.ADDED, Aspect.REMOVED})
"""Aspects that change which photos a view holds (its id list), whatever its filter."""

KEY_ASPECTS = MEMBERSHIP_ASPECTS | {Aspect.ANALYSED, Aspect.QUALITY, Aspect.BURST, Aspect.FLAGS}
"""Aspects that may change which photos match a filter, or their order (which ones do for a
given filter and order: ``PhotoFilter.key_aspects`` and ``SortOrder.key_aspects``)."""


@dataclass(frozen=True, slots=True)
class CatalogChange:
    """One row of the feed: ``photo_ids`` (possibly empty: "some photos, not itemised") changed in
    ``aspects``, committed by ``job_id`` (None: a user action such as removing a folder)."""

    seq: int
    catalog_id: int
    job_id: int | None
    aspects: frozenset[Aspect]
    photo_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class PhotoChanges:
    """Several feed rows of one catalog merged: what a view gets in one signal."""

    catalog_id: int
    photo_ids: frozenset[int]
    aspects: frozenset[Aspect]
    is_itemised: bool = True     # False: some rows named no photos, so any photo may have changed

    @property
    def changes_membership(self) -> bool:
        return bool(self.aspects & MEMBERSHIP_ASPECTS)

    @property
    def may_change_keys(self) -> bool:
        return bool(self.aspects & KEY_ASPECTS)

    @staticmethod
    def merge(changes: Iterable[CatalogChange]) -> dict[int, PhotoChanges]:
        """Rows → one value per catalog."""
        ids: dict[int, set[int]] = {}
        aspects: dict[int, set[Aspect]] = {}
        itemised: dict[int, bool] = {}
        for c in changes:
            ids.setdefault(c.catalog_id, set()).update(c.photo_ids)
            aspects.setdefault(c.catalog_id, set()).update(c.aspects)
            itemised[c.catalog_id] = itemised.get(c.catalog_id, True) and bool(c.photo_ids)
        return {cid: PhotoChanges(cid, frozenset(ids[cid]), frozenset(aspects[cid]), itemised[cid]) for cid in ids}


class ChangeCursor:
    """Which feed rows a reader has seen, robust to rows that commit out of sequence order.

    Sequence numbers are handed out when a row is inserted, not when it commits: row 11 can be
    visible before row 10.  The cursor reads ``seq > floor``, remembers the numbers it has seen
    above the floor, and moves the floor up over every number seen; a gap (a transaction still
    open, or rolled back) is waited for ``gap_timeout_s`` and then skipped.
    """

    def __init__(self, floor: int = 0, *, gap_timeout_s: float = 30.0) -> None:
        self.floor = floor
        self.gap_timeout_s = gap_timeout_s
        self._seen: set[int] = set()
        self._gap_since: float | None = None

    def gap_age(self, now: float) -> float:
        """Seconds since rows above a missing sequence number were first seen (0: no gap)."""
        return 0.0 if self._gap_since is None else now - self._gap_since

    def accept(self, rows: Iterable[CatalogChange], now: float) -> list[CatalogChange]:
        """The rows (all with ``seq > floor``) not delivered before; advances the floor."""
        fresh = [r for r in rows if r.seq > self.floor and r.seq not in self._seen]
        self._seen.update(r.seq for r in fresh)
        while self.floor + 1 in self._seen:
            self.floor += 1
            self._seen.discard(self.floor)
        if self._seen:
            if self._gap_since is None:
                self._gap_since = now
            elif now - self._gap_since >= self.gap_timeout_s:   # never coming: skip the gap
                self.floor = min(self._seen)
                self._seen.discard(self.floor)
                while self.floor + 1 in self._seen:
                    self.floor += 1
                    self._seen.discard(self.floor)
                self._gap_since = now if self._seen else None
        else:
            self._gap_since = None
        return sorted(fresh, key=lambda r: r.seq)
