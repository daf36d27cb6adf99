"""TrashService: plan what goes to the trash (duplicates, the rest of a burst, chosen photos),
journal it, and undo it.  Any non-GUI thread; every call takes a pooled connection.

Planning journals the operation (every file and the trash path it will take) and returns its
id; the caller then runs the ``trash`` job with :meth:`TrashService.job_params` — in its own
engine (the CLI) or the window's — which moves the files with progress and cancel.  Undo is the
same job with ``undo``.  Safety rules, checked while planning:

* a photo goes only if it is analysed, present and not already trashed;
* a duplicate group's keeper never goes, so no picture loses its last copy;
* a burst keeps its best frame (yours if you chose one) and every frame you picked.
"""
from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from lumina_desktop.core.duplicates import DuplicateTier
from lumina_desktop.core.errors import LuminaError
from lumina_desktop.core.paths import path_from_db
from lumina_desktop.db import operations as ops_db
from lumina_desktop.db.bursts import list_bursts
from lumina_desktop.db.operations import OperationRow
from lumina_desktop.jobs.kinds.duplicates import load_groups
from lumina_desktop.storage import trash

TRASH_KIND = "trash"

__all__ = ["TRASH_KIND", "OperationRow", "Plan", "TrashService"]


@dataclass(frozen=True, slots=True)
class Plan:
    """What an action would move: the photos, their files and bytes (a dry run shows this)."""

    photo_ids: tuple[int, ...]
    paths: tuple[str, ...]
    bytes: int
    kept: int                      # photos the rules keep (keepers, best frames, picks)


class TrashService:
    """Operations on the catalog database: plan, journal, list; the moves are a job."""

    def __init__(self, db: Any) -> None:
        self._db = db

    # -- what would go
    def duplicates_plan(self, catalog_id: int, tier: DuplicateTier | str) -> Plan:
        """Every copy (non-keeper) of ``tier`` in the catalog's duplicate groups."""
        tier = DuplicateTier(tier)
        ids, kept = [], 0
        for sg in load_groups(self._db, catalog_id):
            kept += 1
            ids.extend(m.photo_id for m in sg.group.members if m.tier == tier)
        return self._plan(catalog_id, ids, kept)

    def bursts_plan(self, catalog_id: int, burst_ids: Sequence[int] | None = None) -> Plan:
        """Every frame but the best and your picks, of each scored burst (``burst_ids``: only those)."""
        with self._db.connection() as conn:
            bursts = list_bursts(conn, catalog_id, burst_ids=burst_ids)
        ids, kept = [], 0
        for b in bursts:
            if b.best_photo_id is None:
                continue                       # not scored yet: nothing is chosen, nothing goes
            for m in b.members:
                if m.photo_id == b.best_photo_id or m.decision in ("pick", "best"):
                    kept += 1
                else:
                    ids.append(m.photo_id)
        return self._plan(catalog_id, ids, kept)

    def photos_plan(self, catalog_id: int, photo_ids: Iterable[int]) -> Plan:
        return self._plan(catalog_id, list(photo_ids), 0)

    def _plan(self, catalog_id: int, photo_ids: Sequence[int], kept: int) -> Plan:
        rows = self._rows(catalog_id, photo_ids)
        return Plan(tuple(r[0] for r in rows), tuple(path_from_db(r[1], r[2]) for r in rows),
                    sum(r[4] or 0 for r in rows), kept)

    def _rows(self, catalog_id: int, photo_ids: Sequence[int]) -> list[tuple[Any, ...]]:
        with self._db.connection() as conn:
            return conn.execute(  # type: ignore[no-any-return]
                "SELECT id, path, path_bytes, content_hash, size_bytes FROM photos WHERE catalog_id = %s "
                "AND id = ANY(%s) AND status = 'ok' AND trashed_at IS NULL AND content_hash IS NOT NULL ORDER BY id",
                (catalog_id, sorted(set(photo_ids)))).fetchall()

    # -- journal, then the job moves them
    def journal(self, catalog_id: int, plan: Plan, description: str) -> int:
        """Write the operation and where each file will go; returns its id (run the job next).
        LuminaError when nothing is left to move or no trash can take a file."""
        rows = self._rows(catalog_id, plan.photo_ids)
        if not rows:
            raise LuminaError("nothing to move to the trash")
        token = secrets.token_hex(3)
        items = []
        for n, (pid, path, path_bytes, content_hash, size) in enumerate(rows, 1):
            real = path_from_db(path, path_bytes)
            try:
                spot = trash.plan(real, f"lumina-{token}-{n}")
            except trash.TrashError as exc:
                raise LuminaError(str(exc)) from None
            items.append((pid, path, path_bytes, spot.kind, spot.path, spot.info_path, content_hash, size))
        with self._db.connection() as conn, conn.transaction():
            return ops_db.create_operation(conn, catalog_id, description, items)

    @staticmethod
    def job_params(operation_id: int | None, *, undo: bool = False) -> dict[str, Any]:
        return {"operation_id": operation_id, "undo": undo}

    # -- reads
    def operations(self, catalog_id: int | None = None, limit: int = 50) -> list[OperationRow]:
        with self._db.connection() as conn:
            return ops_db.list_operations(conn, catalog_id=catalog_id, limit=limit)

    def undoable(self, catalog_id: int | None = None) -> list[int]:
        with self._db.connection() as conn:
            return ops_db.undoable(conn, catalog_id=catalog_id)

    def operation_catalog(self, operation_id: int) -> int | None:
        with self._db.connection() as conn:
            row = conn.execute("SELECT catalog_id FROM operations WHERE id = %s", (operation_id,)).fetchone()
        if row is None:
            raise LuminaError(f"there is no operation {operation_id}; see: lumina-desktop operations list")
        return row[0]  # type: ignore[no-any-return]

    def item_errors(self, operation_id: int) -> list[tuple[str, str]]:
        with self._db.connection() as conn:
            return [(it["original_path"], it["error"]) for it in ops_db.items(conn, operation_id=operation_id)
                    if it["error"]]
