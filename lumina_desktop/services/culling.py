"""Quality scores and bursts of a catalog, with the user's culling decisions (best, pick, reject).

Any non-GUI thread; every call takes a pooled connection.  Decisions are kept by file content,
so they survive rescans, moves and re-detection, and each is written to the change feed in the
same transaction so open windows re-read the photos it touched.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Mapping

from lumina_desktop.core.changes import Aspect
from lumina_desktop.core.errors import LuminaError, NotFoundError
from lumina_desktop.db import bursts as bursts_db
from lumina_desktop.db import quality as quality_db
from lumina_desktop.db.bursts import DECISIONS, BurstRow, MemberRow
from lumina_desktop.db.changes import record_changes
from lumina_desktop.db.quality import SCORE_COLUMNS, StoredQuality
from lumina_desktop.services.describe import burst_reason_text, quality_reason_texts

QUALITY_KIND = "quality"
BURSTS_KIND = "bursts"
SUB_SCORES = SCORE_COLUMNS[1:]
_FLAG_CHANGE = frozenset({Aspect.FLAGS, Aspect.BURST})   # a decision can move a burst's best

__all__ = ["BURSTS_KIND", "DECISIONS", "QUALITY_KIND", "SUB_SCORES", "BurstPosition", "BurstRow", "BurstsService",
           "MemberRow", "QualityService", "StoredQuality"]


@dataclass(frozen=True, slots=True)
class BurstPosition:
    """Where a photo stands in its burst, for the details panel."""

    burst_id: int
    position: int
    size: int
    rank: int | None
    is_best: bool
    is_user_pick: bool
    reason: str            # in words: "sharpest of 7; 4 others show motion blur", "soft: 38 % of …"
    decision: str | None


class QualityService:
    """Stored quality scores, and their reasons in words."""

    def __init__(self, db: Any) -> None:
        self._db = db

    def of(self, photo_id: int) -> StoredQuality | None:
        with self._db.connection() as conn:
            return quality_db.quality_of(conn, photo_id)

    def scores(self, catalog_id: int, *, below: float | None = None) -> list[StoredQuality]:
        """The catalog's scored photos, worst first."""
        with self._db.connection() as conn:
            return quality_db.list_scores(conn, catalog_id, below=below)

    @staticmethod
    def reasons(q: StoredQuality) -> list[str]:
        return quality_reason_texts(q.score.reasons, q.measures)

    def rows(self, catalog_id: int) -> list[dict[str, Any]]:
        """One row per scored photo (path, score, each sub-score, reasons in words), worst first."""
        out = []
        for q in self.scores(catalog_id):
            row: dict[str, Any] = {"path": q.path, "score": round(q.score.overall, 1)}
            for name in SUB_SCORES:
                v = getattr(q.score, name)
                row[name] = round(v, 1) if v is not None else None
            row["reasons"] = "; ".join(self.reasons(q))
            out.append(row)
        return out


class BurstsService:
    """Bursts of a catalog, the best pick of each, and the user's decisions."""

    def __init__(self, db: Any) -> None:
        self._db = db

    def bursts(self, catalog_id: int) -> list[BurstRow]:
        with self._db.connection() as conn:
            return bursts_db.list_bursts(conn, catalog_id)

    def burst(self, catalog_id: int, burst_id: int) -> BurstRow | None:
        with self._db.connection() as conn:
            found = bursts_db.list_bursts(conn, catalog_id, burst_ids=[burst_id])
        return found[0] if found else None

    def position(self, catalog_id: int, photo_id: int) -> BurstPosition | None:
        with self._db.connection() as conn:
            bid = bursts_db.burst_of(conn, photo_id)
            if bid is None:
                return None
            found = bursts_db.list_bursts(conn, catalog_id, burst_ids=[bid])
        if not found:
            return None
        b = found[0]
        m = next((m for m in b.members if m.photo_id == photo_id), None)
        if m is None:
            return None
        return BurstPosition(b.id, m.position, b.size, m.rank, m.is_best, b.is_user_pick and m.is_best,
                             member_reason(b, m), m.decision)

    def rows(self, catalog_id: int) -> list[dict[str, Any]]:
        """One row per frame: burst_id, path, is_best, rank, score, reason."""
        out = []
        for b in self.bursts(catalog_id):
            for m in b.members:
                out.append({"burst_id": b.id, "path": m.path, "is_best": m.is_best, "rank": m.rank,
                            "score": round(m.quality, 1) if m.quality is not None else None,
                            "reason": member_reason(b, m), "decision": m.decision or ""})
        return out

    def decide(self, catalog_id: int, path: str, decision: str | None) -> list[int]:
        """The user's decision on the analysed photo at ``path`` (None clears it).  'best' makes it
        its burst's best (the other frames lose a 'best' of theirs).  NotFoundError names a path
        that is no analysed photo of the catalog."""
        if decision is not None and decision not in DECISIONS:
            raise LuminaError(f"a decision is one of {', '.join(DECISIONS)}, not {decision!r}")
        with self._db.connection() as conn, conn.transaction():
            pid = bursts_db.analysed_photo_at(conn, catalog_id, os.path.abspath(path))
            if pid is None:
                raise NotFoundError(f"{path} is not an analysed photo of this catalog")
            changed = bursts_db.set_decision(conn, catalog_id, pid, decision)
            if changed:
                record_changes(conn, catalog_id, None, "user", changed, _FLAG_CHANGE)
        return changed

    def decide_photo(self, catalog_id: int, photo_id: int, decision: str | None) -> list[int]:
        """As :meth:`decide`, by photo id (the window)."""
        if decision is not None and decision not in DECISIONS:
            raise LuminaError(f"a decision is one of {', '.join(DECISIONS)}, not {decision!r}")
        with self._db.connection() as conn, conn.transaction():
            changed = bursts_db.set_decision(conn, catalog_id, photo_id, decision)
            if changed:
                record_changes(conn, catalog_id, None, "user", changed, _FLAG_CHANGE)
        return changed

    def set_stars(self, catalog_id: int, photo_id: int, stars: int | None) -> list[int]:
        """The user's stars (0–5, None clears them) on the photo's content; returns the photos changed."""
        if stars is not None and (isinstance(stars, bool) or not isinstance(stars, int) or not 0 <= stars <= 5):
            raise LuminaError(f"stars are a whole number from 0 to 5, not {stars!r}")
        with self._db.connection() as conn, conn.transaction():
            changed = bursts_db.set_stars(conn, catalog_id, photo_id, stars)
            if changed:
                record_changes(conn, catalog_id, None, "user", changed, _FLAG_CHANGE)
        return changed


def member_reason(b: BurstRow, m: MemberRow) -> str:
    """A frame's standing in its burst, in words."""
    if m.is_best and b.is_user_pick:
        return "your pick"
    summary: Mapping[str, Any] = b.summary or {}
    return burst_reason_text(m.reasons, is_best=m.is_best, size=b.size, summary=summary,
                             relative_sharpness=m.relative_sharpness, rank=m.rank)
