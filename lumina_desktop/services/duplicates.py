"""DuplicatesService: a catalog's duplicate groups (the user's decisions applied), their totals per
tier, the parameters of a "find duplicates" job, and the decisions themselves.

Any non-GUI thread; every call takes a pooled connection.  Decisions ("these two are not
duplicates", "keep this one") are keyed by file content, so they hold across rescans, moves and
renames; each is written to the change feed in the same transaction, so open windows regroup.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from lumina_desktop.analysis.dup_keeper import DEFAULT_RULES, rules_from_strings
from lumina_desktop.core.changes import Aspect
from lumina_desktop.core.duplicates import TIERS, Decision, DecisionKind, DuplicateTier, StoredGroup
from lumina_desktop.core.errors import NotFoundError
from lumina_desktop.db import catalogs
from lumina_desktop.db import duplicates as dup_db
from lumina_desktop.db.changes import record_changes
from lumina_desktop.jobs.kinds.duplicates import load_groups

DUPLICATES_KIND = "duplicates"
NOT_DUPLICATE = DecisionKind.NOT_DUPLICATE
KEEP = DecisionKind.KEEP
_PATHS_OF = {DecisionKind.NOT_DUPLICATE: 2, DecisionKind.KEEP: 1}
_DUPLICATES = frozenset({Aspect.DUPLICATES})

__all__ = ["DEFAULT_RULES", "DUPLICATES_KIND", "KEEP", "NOT_DUPLICATE", "DuplicateRow", "DuplicatesService", "TierStats",
           "member_rows", "tier_stats"]


@dataclass(frozen=True)
class TierStats:
    """One tier's totals: groups, copies (members other than the keeper), their bytes."""

    tier: DuplicateTier
    groups: int
    copies: int
    reclaimable_bytes: int


@dataclass(frozen=True)
class DuplicateRow:
    """One photo of a group, keeper first: what a list of duplicates shows."""

    group_id: int
    tier: DuplicateTier
    path: str
    is_keeper: bool
    reason: str
    similarity: float | None
    match: str
    size_bytes: int
    copy_of: str = ""    # a copy's tier is measured against this member ("": against the keeper)


def tier_stats(groups: Sequence[StoredGroup]) -> list[TierStats]:
    """Totals of every tier (in tier order, empty tiers included), counted by each copy's own
    tier — what ``duplicates resolve --tier`` and "Accept all" of that tier move: a group counts
    in every tier one of its copies has."""
    out = []
    for tier in TIERS:
        n_groups = copies = size = 0
        for sg in groups:
            ids = [m.photo_id for m in sg.group.members if m.tier == tier]
            if ids:
                n_groups += 1
                copies += len(ids)
                size += sum(sg.sizes.get(i, 0) for i in ids)
        out.append(TierStats(tier, n_groups, copies, size))
    return out


def member_rows(groups: Sequence[StoredGroup], tier: DuplicateTier | str | None = None) -> list[DuplicateRow]:
    """The groups (of ``tier``, if given) as rows: each keeper, then its copies."""
    rows = []
    for sg in groups:
        g = sg.group
        if tier and g.tier != tier:
            continue
        rows.append(DuplicateRow(sg.id, g.tier, sg.paths.get(g.keeper_id, ""), True,
                                 "suggested keeper" + (" (your choice)" if g.is_keeper_forced else ""),
                                 None, "", sg.sizes.get(g.keeper_id, 0)))
        for m in g.members:
            rows.append(DuplicateRow(sg.id, m.tier, sg.paths.get(m.photo_id, ""), False, m.reason,
                                     round(m.similarity, 4) if m.similarity is not None else None,
                                     m.match, sg.sizes.get(m.photo_id, 0),
                                     sg.paths.get(m.copy_of, "") if m.copy_of is not None else ""))
    return rows


class DuplicatesService:
    """Duplicate groups and decisions on the catalog database."""

    def __init__(self, db: Any) -> None:
        self._db = db

    # -- reads
    def groups(self, catalog_id: int) -> list[StoredGroup]:
        """The catalog's current groups (of its last finished run), decisions applied."""
        return load_groups(self._db, catalog_id)

    def stats(self, catalog_id: int) -> list[TierStats]:
        return tier_stats(self.groups(catalog_id))

    def rows(self, catalog_id: int, tier: DuplicateTier | str | None = None) -> list[DuplicateRow]:
        return member_rows(self.groups(catalog_id), tier)

    def decisions(self, catalog_id: int) -> list[Decision]:
        """The catalog's remembered decisions (``NotDuplicate`` / ``KeepThis``), oldest first."""
        with self._db.connection() as conn:
            return dup_db.decisions(conn, catalog_id)

    # -- the job
    @staticmethod
    def find_params(*, incremental: bool = False, rules: Iterable[str] | None = None) -> dict[str, Any]:
        """Parameters of a ``duplicates`` job.  ``rules``: keeper rules, best first (ValueError names
        an unknown one and the rules there are)."""
        params: dict[str, Any] = {"incremental": incremental}
        if rules is not None:
            params["rules"] = list(rules_from_strings(rules))
        return params

    # -- decisions
    def not_duplicates(self, catalog_id: int, path_a: str, path_b: str) -> None:
        """Remember that these two files are not duplicates (whatever their names later)."""
        self.remember(catalog_id, NOT_DUPLICATE, (path_a, path_b))

    def keep(self, catalog_id: int, path: str) -> None:
        """Remember to keep this file in whatever group it falls in (its content, and among
        byte-identical files this one)."""
        self.remember(catalog_id, KEEP, (path,))

    def remember(self, catalog_id: int, decision: DecisionKind | str, paths: Sequence[str]) -> None:
        """Remember a decision about analysed photos of the catalog, named by path (two for
        NOT_DUPLICATE, one for KEEP; a relative path is taken from the current folder).
        NotFoundError names a path that is no analysed photo of the catalog."""
        kind = DecisionKind(decision)
        with self._db.connection() as conn, conn.transaction():
            hashes = self._hashes(conn, catalog_id, kind, paths)
            if kind is DecisionKind.KEEP:     # this file, where byte-identical files share the content
                dup_db.remove_decision(conn, catalog_id, kind, hashes[0], os.path.abspath(paths[0]))
                hashes.append(os.path.abspath(paths[0]))
            dup_db.add_decision(conn, catalog_id, kind, *hashes)
            record_changes(conn, catalog_id, None, "user", (), _DUPLICATES)

    def forget(self, catalog_id: int, decision: DecisionKind | str, paths: Sequence[str]) -> None:
        """Drop a decision remembered with :meth:`remember` (nothing happens if there is none)."""
        kind = DecisionKind(decision)
        with self._db.connection() as conn, conn.transaction():
            hashes = self._hashes(conn, catalog_id, kind, paths)
            if kind is DecisionKind.KEEP:     # the file's choice, and an older one of the content alone
                dup_db.remove_decision(conn, catalog_id, kind, hashes[0], os.path.abspath(paths[0]))
            dup_db.remove_decision(conn, catalog_id, kind, *hashes)
            record_changes(conn, catalog_id, None, "user", (), _DUPLICATES)

    @staticmethod
    def _hashes(conn: Any, catalog_id: int, kind: DecisionKind, paths: Sequence[str]) -> list[str]:
        if _PATHS_OF[kind] != len(paths):
            raise ValueError(f"a {kind.value} decision names {_PATHS_OF[kind]} path(s), not {len(paths)}")
        hashes = []
        for p in paths:
            h = dup_db.content_hash_of(conn, catalog_id, os.path.abspath(p))
            if not h:
                name = catalogs.get_catalog(conn, catalog_id).name
                raise NotFoundError(f"{p} is not an analysed photo of catalog {name!r}")
            hashes.append(h)
        return hashes
