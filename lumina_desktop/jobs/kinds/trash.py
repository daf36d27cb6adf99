"""The ``trash`` job kind: move the files of a journaled operation to the trash, or back (undo).

The operation and every file of it are journaled first (``services.trash`` writes
``operations`` / ``operation_items`` with the trash path each file will take); this kind then
moves them, in batches, with progress and cancel, like every job.

Moving a file to the trash (an item): it must still have the content the catalog knows (a file
edited since the scan may no longer be a copy of anything: it stays), then ``.trashinfo`` and
``rename``.  Undoing one: the trashed file must still have that content and nothing may have
taken its place; then ``rename`` back.  A move found already made (the process was killed
between the rename and its commit) is recorded as made, so resume and undo both complete an
interrupted operation from the journal alone.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

from lumina_desktop.analysis.hashing import hash_stream
from lumina_desktop.core.changes import Aspect
from lumina_desktop.core.jobs import JobSnapshot
from lumina_desktop.core.paths import path_from_db
from lumina_desktop.db.operations import PLANNED, TRASHED, OperationsRepository
from lumina_desktop.jobs.engine.context import BatchInfo, ItemContext, JobContext, JobEnv
from lumina_desktop.jobs.engine.kind import ItemFailure, ItemRunner, JobKind, Lane, Phase, Stored
from lumina_desktop.storage import trash


@dataclass(frozen=True)
class TrashParams:
    operation_id: int | None = None   # None with ``undo``: every operation with files in the trash
    undo: bool = False


def file_hash(path: str) -> str | None:
    """The content hash of a regular file, None when it is not one or cannot be read."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | os.O_NOFOLLOW)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        import stat

        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            return None
        try:
            return hash_stream(fh)[1]
        except OSError:
            return None


class TrashKind(JobKind[TrashParams]):
    name = "trash"
    title = "Move to trash"
    phases = (Phase("discover", 0.02, "Reading the journal"), Phase("process", 0.96, "Moving files"),
              Phase("finalize", 0.02, "Finishing"))
    params_type = TrashParams
    lane = Lane.IO
    batch_size = 100
    needs_catalog = False             # undo of every operation spans catalogs
    change_aspects = frozenset({Aspect.REMOVED, Aspect.ADDED})   # photos leave views, or come back

    def __init__(self, repo: Any = None) -> None:
        self.repo = repo if repo is not None else OperationsRepository()

    def describe(self, job: JobSnapshot) -> str:
        p = job.params if isinstance(job.params, Mapping) else {}
        what = f"operation {p['operation_id']}" if p.get("operation_id") else "every operation"
        return f"Undo {what}" if p.get("undo") else f"Move to trash ({what})"

    def summarize(self, result: Mapping[str, Any]) -> str:
        r = result
        if r.get("undo"):
            text = f"{r.get('restored', 0):,} files put back"
            if r.get("refused"):
                text += f", {r['refused']:,} refused (see the errors)"
            return text
        text = f"{r.get('trashed', 0):,} files moved to the trash"
        if r.get("failed"):
            text += f", {r['failed']:,} left where they are (see the errors)"
        return text

    def discover(self, ctx: JobContext) -> Iterator[Any]:
        params: TrashParams = ctx.params
        if not params.undo and params.operation_id is None:
            raise ValueError("a trash job names its operation")
        state = TRASHED if params.undo else PLANNED
        for it in self.repo.items(ctx.tx, operation_id=params.operation_id, states=[state]):
            yield {"id": it["id"], "o": it["original_path"], "ob": it["original_bytes"].hex() if it["original_bytes"] else None,
                   "k": it["trash_kind"], "t": it["trash_path"], "i": it["trash_info"], "h": it["content_hash"]}

    def item_key(self, item: Any) -> str:
        return str(item["o"])

    def open(self, env: JobEnv, params: TrashParams) -> ItemRunner:
        def run(ictx: ItemContext, item: Any) -> Any:
            original = path_from_db(item["o"], bytes.fromhex(item["ob"]) if item.get("ob") else None)
            spot = trash.TrashSpot(item["k"], item["t"], item["i"])
            if params.undo:
                return self._restore(original, spot, item["h"])
            return self._trash(original, spot, item["h"])

        return run

    @staticmethod
    def _trash(original: str, spot: trash.TrashSpot, content_hash: str) -> str:
        if trash.is_moved(original, spot):
            return "trashed"                        # an earlier attempt moved it, then stopped
        if not os.path.lexists(original):
            raise ItemFailure("gone", f"{original} is not there any more; nothing moved")
        if file_hash(original) != content_hash:
            raise ItemFailure("changed", f"{original} changed since it was scanned, so it may no longer be a "
                              "copy; it stays (rescan, then decide again)")
        try:
            trash.move(original, spot)
        except trash.TrashError as exc:
            raise ItemFailure("cannot_trash", str(exc)) from None
        return "trashed"

    @staticmethod
    def _restore(original: str, spot: trash.TrashSpot, content_hash: str) -> str:
        if not os.path.lexists(spot.path) and os.path.lexists(original) and file_hash(original) == content_hash:
            trash.drop_info(spot)
            return "restored"                       # an earlier undo moved it back, then stopped
        if os.path.lexists(original):
            raise ItemFailure("place_taken", f"a file now exists at {original}; the trashed copy stays in the "
                              f"trash ({spot.path})")
        if not os.path.lexists(spot.path):
            raise ItemFailure("not_in_trash", f"{os.path.basename(spot.path)} is no longer in the trash "
                              "(emptied, or restored from the desktop's trash?)")
        if file_hash(spot.path) != content_hash:
            raise ItemFailure("changed", f"the trashed file {spot.path} changed since it was trashed; "
                              "it stays in the trash")
        try:
            trash.restore(original, spot)
        except trash.TrashError as exc:
            raise ItemFailure("cannot_restore", str(exc)) from None
        return "restored"

    def store(self, tx: Any, job: JobSnapshot, batch: BatchInfo, results: list[tuple[Any, Any]]) -> Stored:
        params: TrashParams = self.parse_params(job.params)
        done = [item["id"] for item, r in results if not isinstance(r, ItemFailure)]
        for item, r in results:
            if isinstance(r, ItemFailure):
                self.repo.mark_failed(tx, item["id"], r.message, state=TRASHED if params.undo else "failed")
        if params.undo:
            photos = self.repo.mark_restored(tx, done) if done else []
            counts = {"restored": len(done), "refused": len(results) - len(done)}
        else:
            photos = self.repo.mark_trashed(tx, done) if done else []
            counts = {"trashed": len(done), "failed": len(results) - len(done)}
        return Stored(counts, tuple(photos))

    def finalize(self, ctx: JobContext) -> dict[str, Any]:
        params: TrashParams = ctx.params
        totals = ctx.env.store.batch_totals(ctx.job.id)
        keys = ("restored", "refused") if params.undo else ("trashed", "failed")
        return {**{k: totals.get(k, 0) for k in keys}, "undo": params.undo, "operation_id": params.operation_id}
