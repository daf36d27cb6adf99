"""The ``scan`` job: one fused ingest job (coordinator thread for discovery, workers for files).

Why one job and not scan + thumbnails: the expensive part of both is reading and decoding the
file, and one reduced-size decode feeds the metadata, both hashes, the perceptual data and both
thumbnails.  Two jobs would read every file twice.  Phases: discover (walk, stat, compare with
the catalog), analyse (per file, in the worker pool), finalize (summary).

Incremental: a file whose size and mtime match its catalogued row is skipped without being
read, unless its fingerprints came from an older analysis chain (``FINGERPRINT_VERSION``):
then it is re-analysed and counted as "refreshed".  A changed file is re-analysed in place; a
new file whose content matches a catalogued photo that went missing is a move (the old row,
with its id, tags and decisions, takes the new path); a catalogued file no longer on disk is
marked missing, never deleted.

Scans that meet: discoveries of one folder take turns (a transaction-level advisory lock per
folder), and a scan that finds another scan of its folders past discovery, run by a live
process, waits for it to end before it looks at the files, so it finds them stored and
unchanged: no file is analysed twice and no count is false.  Symbolic links to files outside
the scanned folders are not read (setting ``outside_links``), nor are special files or linked
folders; the summary counts each.
"""
from __future__ import annotations

import base64
import logging
import os
import stat
from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterator, Mapping, Sequence

from lumina_desktop.analysis.memory import shared_gate
from lumina_desktop.analysis import thumbnails as thumbs
from lumina_desktop.analysis.ingest import analyse_file
from lumina_desktop.core.changes import Aspect
from lumina_desktop.core import formats
from lumina_desktop.core.jobs import JobSnapshot
from lumina_desktop.core.media import FailureReason, IngestResult, MediaError
from lumina_desktop.core.models import PhotoStatus
from lumina_desktop.core.paths import path_for_db
from lumina_desktop.db.photos import ScanRepository
from lumina_desktop.jobs.engine.context import BatchInfo, ItemContext, JobContext, JobEnv
from lumina_desktop.jobs.engine.kind import ItemFailure, ItemRunner, JobKind, Lane, Phase, Stored
from lumina_desktop.storage.thumbnails import ThumbnailStore

log = logging.getLogger(__name__)
THUMB_SIZES = (thumbs.GRID_PX, thumbs.PREVIEW_PX)
GRID_ONLY = (thumbs.GRID_PX,)


def scan_thumb_sizes(previews: str) -> tuple[int, ...]:
    """Thumbnail sizes a scan makes: the grid size only (the thumbnails job, or the first time a
    photo is shown large, makes the preview), or with the preview when ``previews="scan"``."""
    return THUMB_SIZES if previews == "scan" else GRID_ONLY


def encode_path(raw: bytes) -> str:
    """A path as a JSON-safe string (jsonb refuses lone surrogates): text, or 'b64:' + bytes."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return "b64:" + base64.b64encode(raw).decode("ascii")


def decode_path(item: str) -> bytes:
    if item.startswith("b64:"):
        return base64.b64decode(item[4:])
    return item.encode("utf-8")


def _inside(target: bytes, roots: Sequence[bytes]) -> bool:
    return any(target == r or target.startswith(r.rstrip(b"/") + b"/") for r in roots)


def _walk(root: bytes, errors: list[tuple[str, str, str]], skipped: Counter[str] | None = None, *,
          roots: Sequence[bytes] = (), follow_outside: bool = True
          ) -> Iterator[tuple[bytes, os.stat_result, bytes | None]]:
    """Files below ``root`` (bytes paths), each with its link target when it is a symbolic link.

    Symlinked folders are not followed (so no loops).  ``skipped`` counts what is passed over:
    ``other`` (hidden, or not of a photo or video type), ``special`` (pipes, devices, sockets
    named like photos), ``linked_folder``, and ``outside_link`` (a link to a file outside
    ``roots``, the real paths of the scanned folders; followed only with ``follow_outside``).
    """
    count = skipped if skipped is not None else Counter()
    by_ext: dict[bytes, bool] = {}   # is_candidate by extension: a library has a handful, for 1M names
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError as exc:
            errors.append((encode_path(folder), "unreadable_folder", f"cannot list folder: {exc.strerror or exc}"))
            continue
        entries.sort(key=lambda e: e.name)
        subdirs = []
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    subdirs.append(entry.path)
                    continue
                link = entry.is_symlink()
                if link and entry.is_dir():
                    count["linked_folder"] += 1
                    continue
                name = entry.name
                dot = name.rfind(b".") if isinstance(name, bytes) and not name.startswith(b".") else -1
                ext = name[dot:] if dot > 0 else None     # hidden or without an extension: asked each time
                ok = by_ext.get(ext) if ext is not None else None
                if ok is None:
                    ok = formats.is_candidate(name)
                    if ext is not None:
                        by_ext[ext] = ok
                if not ok:
                    count["other"] += 1
                    continue
                st = entry.stat()  # follows a symlinked file
            except OSError as exc:
                if isinstance(exc, FileNotFoundError) and entry.is_symlink():
                    errors.append((encode_path(entry.path), "broken_link", "symbolic link to a missing file"))
                elif not isinstance(exc, FileNotFoundError):
                    errors.append((encode_path(entry.path), "unreadable", f"cannot stat: {exc.strerror or exc}"))
                continue
            if not stat.S_ISREG(st.st_mode):
                count["special"] += 1
                continue
            target = None
            if link:
                target = os.path.realpath(entry.path)
                if not follow_outside and not _inside(target, roots):
                    count["outside_link"] += 1   # never read: x.jpg -> /etc/shadow
                    continue
            yield entry.path, st, target
        stack.extend(reversed(subdirs))


@dataclass(frozen=True)
class FailedFile:
    """What a failed item hands to ``store``: the error, and the file's (size, mtime_ns) when read."""

    error: MediaError | None
    stat: tuple[int, int] | None = None


@dataclass(frozen=True)
class ScanParams:
    folder_ids: tuple[int, ...] = ()     # empty: every folder of the catalog
    folder_paths: tuple[str, ...] = ()   # for titles only
    full: bool = False                   # re-analyse unchanged files too
    catalog_name: str = ""               # for titles only


FOLDER_REMOVED = ("folder_removed", "its folder was removed from the catalog during the scan; not kept")


# a file stored without a placeholder row, or a missing photo found moved (its placeholder goes)
_ARRIVED = frozenset({Aspect.ADDED, Aspect.REMOVED, Aspect.ANALYSED, Aspect.THUMBNAIL})
# files whose last analysis (or absence) stands while they are unchanged on disk
_SETTLED = frozenset({PhotoStatus.OK, PhotoStatus.MISSING, PhotoStatus.ERROR})


# a file that could not be read (again): its row is an error now
_FAILED = frozenset({Aspect.ANALYSED, Aspect.THUMBNAIL, Aspect.STATUS})


_NOT_FOLLOWED = (("skipped_special", "special files (pipes, devices, sockets)"),
                 ("skipped_linked_folder", "linked folders (symbolic links are not followed into folders)"),
                 ("skipped_outside_link", "links to files outside the scanned folders (setting outside_links)"))


def short_path(path: str, keep: int = 2) -> str:
    """A folder as a title names it: ``~`` for home, and at most its last ``keep`` parts."""
    home = os.path.expanduser("~").rstrip("/")
    p = path.rstrip("/") or path
    if home and (p == home or p.startswith(home + "/")):
        p = "~" + p[len(home):]
    parts = p.split("/")
    if len(parts) > keep + 1:
        p = "…/" + "/".join(parts[-keep:])
    return p


class ScanKind(JobKind[ScanParams]):
    name = "scan"
    title = "Scan"
    phases = (Phase("discover", 0.08, "Finding files"), Phase("process", 0.9, "Analysing"),
              Phase("finalize", 0.02, "Finishing"))
    params_type = ScanParams
    lane = Lane.CPU
    # re-analysed files: their metadata (sort and filter keys) and thumbnails
    change_aspects = frozenset({Aspect.ANALYSED, Aspect.THUMBNAIL})
    # discovery adds placeholder rows for new files, marks vanished ones missing, forgets some
    discovery_aspects = frozenset({Aspect.ADDED, Aspect.REMOVED, Aspect.ANALYSED, Aspect.STATUS, Aspect.FOLDERS})
    finish_aspects = frozenset({Aspect.FOLDERS})      # the folders' last scan time
    follow_ons = ("duplicates", "thumbnails", "quality", "tags")

    def __init__(self, repo: Any = None) -> None:
        self.repo = repo if repo is not None else ScanRepository()

    def describe(self, job: JobSnapshot) -> str:
        params = job.params if isinstance(job.params, Mapping) else {}
        folders = list(params.get("folder_paths") or [])
        text = self.title
        if folders:
            text += " " + ", ".join(short_path(str(f)) for f in folders[:2])
            if len(folders) > 2:
                text += f" +{len(folders) - 2}"
        if params.get("catalog_name"):
            text += f" into {params['catalog_name']!r}"
        return text

    def summarize(self, result: Mapping[str, Any]) -> str:
        r = result
        text = (f"{r.get('files', 0):,} files: {r.get('new', 0):,} new, {r.get('changed', 0):,} changed, "
                f"{r.get('moved', 0):,} moved, {r.get('missing', 0):,} missing, {r.get('errors', 0):,} errors")
        if r.get("refreshed"):
            text += f", {r['refreshed']:,} refreshed"
        if r.get("dropped"):
            text += f", {r['dropped']:,} not kept (folder removed)"
        if r.get("skipped"):
            text += f"; {r['skipped']:,} other files passed over (hidden, or not a photo or video type)"
        not_followed = [f"{r[key]:,} {what}" for key, what in _NOT_FOLLOWED if r.get(key)]
        if not_followed:
            text += "; not read: " + ", ".join(not_followed)
        if r.get("waited_for"):
            text += "; waited for " + ", ".join(f"scan #{j}" for j in r["waited_for"]) + " of the same folders"
        return text

    def discover(self, ctx: JobContext) -> Iterator[Any]:
        tx = ctx.tx
        params: ScanParams = ctx.params
        catalog_id = ctx.job.catalog_id
        assert catalog_id is not None  # needs_catalog: the engine refuses a job without one
        folders = self.repo.list_folders(tx, catalog_id)
        if params.folder_ids:
            folders = [f for f in folders if f.id in params.folder_ids]
        waited = self._wait_for_other_scans(ctx, catalog_id, [f.id for f in folders])
        present = self.repo.lock_folders(tx, [f.id for f in folders])  # a removal waits for discovery
        folders = [f for f in folders if f.id in present]
        known = self.repo.known_files(tx, catalog_id, [f.id for f in folders])
        seen: set[str] = set()
        placeholders: list[tuple[int, str, bytes | None, str, int, int]] = []
        errors: list[tuple[str, str, str]] = []
        came_back: list[int] = []
        stats = {"files": 0, "unchanged": 0, "to_analyse": 0, "refresh": 0, "missing": 0, "folders": len(folders),
                 "unchanged_errors": 0}
        skipped: Counter[str] = Counter()
        follow_outside = ctx.env.settings.outside_links == "follow"
        roots = [os.path.realpath(os.fsencode(f.path)) for f in folders]
        for folder in folders:
            root = os.fsencode(folder.path)
            if not os.path.isdir(root):
                errors.append((folder.path, "missing_folder", "folder is not reachable (unplugged or removed?)"))
                seen.update(p for p in known if p.startswith(folder.path.rstrip("/") + "/"))  # keep as is
                continue
            for raw, st, target in _walk(root, errors, skipped, roots=roots, follow_outside=follow_outside):
                ctx.check_cancelled()
                text, exact = path_for_db(raw)
                seen.add(text)
                stats["files"] += 1
                if stats["files"] % 500 == 0:
                    ctx.progress(stats["files"], 0, f"Found {stats['files']:,} files")
                row = known.get(text)
                same = row is not None and row.size == st.st_size and row.mtime_ns == st.st_mtime_ns
                stale = row is not None and row.needs_refresh and row.status != PhotoStatus.ERROR
                if row is not None and row.is_trashed:   # put back outside Lumina: shown again
                    came_back.append(row.id)
                if same and not params.full and row.status in _SETTLED and not stale:
                    stats["unchanged"] += 1
                    if row.status == PhotoStatus.MISSING and not row.is_trashed:
                        came_back.append(row.id)
                    elif row.status == PhotoStatus.ERROR:  # still unreadable: still an error of this scan
                        stats["unchanged_errors"] += 1
                    continue
                if row is None:
                    placeholders.append((folder.id, text, exact, path_for_db(os.path.basename(raw))[0],
                                         st.st_size, st.st_mtime_ns))
                stats["to_analyse"] += 1
                item = {"f": folder.id, "p": encode_path(raw), "m": st.st_mtime_ns}
                if target is not None and not follow_outside:
                    item["l"] = encode_path(target)   # read only while the link still points there
                if same and not params.full and stale:  # unchanged, but fingerprinted by an older chain
                    stats["refresh"] += 1
                    item["r"] = 1
                yield item
        gone = [r.id for p, r in known.items() if p not in seen and r.status != PhotoStatus.MISSING]
        stats["missing"] = len(gone)
        self.repo.insert_placeholders(tx, catalog_id, placeholders)
        self.repo.mark_missing(tx, gone)
        self.repo.mark_present(tx, came_back)
        ctx.env.store.record_item_errors(tx, ctx.job.id, None, errors)
        stats["discovery_errors"] = len(errors)
        stats["skipped"] = skipped["other"]
        stats.update({f"skipped_{k}": n for k, n in skipped.items() if k != "other"})
        if waited:
            stats["waited_for"] = waited
        ctx.discovery.update(stats)

    def _wait_for_other_scans(self, ctx: JobContext, catalog_id: int, folder_ids: list[int]) -> list[int]:
        """Two scans of one folder never analyse a file twice: discoveries of a folder take its
        advisory lock in turn (held until this discovery's batches are committed), and a scan
        that finds another scan of its folders past discovery waits for it to end; its own
        discovery then finds the files that scan stored unchanged.  Returns the scans waited for."""
        for folder_id in sorted(folder_ids):
            while not self.repo.try_lock_folder_scan(ctx.tx, folder_id):
                ctx.check_cancelled()
                ctx.token.wait(0.1)
        waited: list[int] = []
        while True:
            others = self.repo.scans_in_progress(ctx.tx, catalog_id, folder_ids, ctx.job.id)
            if not others:
                return waited
            if others[0] not in waited:
                waited.append(others[0])
                log.info("scan #%d waits for scan #%d of the same folders", ctx.job.id, others[0])
                ctx.progress(0, 0, f"Waiting for scan #{others[0]} of the same folder to finish")
            ctx.check_cancelled()
            ctx.token.wait(0.25)

    def item_key(self, item: Any) -> str:
        return path_for_db(decode_path(item["p"]))[0]

    def open(self, env: JobEnv, params: ScanParams) -> ItemRunner:
        sizes = scan_thumb_sizes(env.settings.previews)
        store = ThumbnailStore(env.settings.thumbnails_dir)
        gate = shared_gate(env.settings.memory_budget_mb << 20)
        follow = env.settings.outside_links == "follow"

        def run(ictx: ItemContext, item: Any) -> Any:
            raw = decode_path(item["p"])
            try:
                before: os.stat_result | None = os.stat(raw)
            except OSError:
                before = None
            try:
                if "l" in item and os.path.realpath(raw) != decode_path(item["l"]):
                    raise MediaError(FailureReason.UNREADABLE, "symbolic link changed during the scan; "
                                     "not read (the next scan looks at it again)")
                # a file that was not a link when found is never read through one (no swap to /etc/…)
                res = analyse_file(raw, thumb_sizes=sizes, gate=gate, follow_links="l" in item or follow)
            except MediaError as err:
                # the row records the file as it is now (a file truncated mid-scan: its new size)
                stat_now = (before.st_size, before.st_mtime_ns) if before is not None else None
                raise ItemFailure(err.reason.value, str(err.message), payload=FailedFile(err, stat_now)) from None
            # the sizes are recorded by store(), with the photo's row: the store only writes the files
            store.write_many(res.identity.content_hash, res.thumbnails, record=False, only_missing=True)
            written = list(res.thumbnails)
            # the mtime seen before the read: a file changed during or after it looks changed next time
            mtime_ns = before.st_mtime_ns if before is not None else item["m"]
            # drop the encoded thumbnails: only their sizes travel on to store()
            slim = IngestResult(res.file_type, res.kind, res.format, res.identity, res.metadata, res.perceptual,
                                {}, res.warnings)
            return slim, mtime_ns, tuple(sorted(written))

        return run

    def store(self, tx: Any, job: JobSnapshot, batch: BatchInfo, results: list[tuple[Any, Any]]) -> Stored:
        counts = {"new": 0, "changed": 0, "refreshed": 0, "moved": 0, "errors": 0, "vanished": 0, "dropped": 0}
        assert job.catalog_id is not None
        present = self.repo.lock_folders(tx, sorted({item["f"] for item, _ in results}))
        changed: list[int] = []
        arrived: list[int] = []      # new or moved in: the catalog's membership changed
        failed: list[int] = []       # now unreadable: the error counts changed
        entries: list[Any] = []      # analysed files, stored together below
        refreshing: list[bool] = []
        dropped: list[tuple[str, str, str]] = []
        for item, value in results:
            raw = decode_path(item["p"])
            text, exact = path_for_db(raw)
            if item["f"] not in present:
                counts["dropped"] += 1
                dropped.append((text, *FOLDER_REMOVED))
                continue
            if isinstance(value, ItemFailure):
                reason = value.error_class
                failed_file = value.payload if isinstance(value.payload, FailedFile) else FailedFile(value.payload)
                photo_id = self.repo.store_failure(tx, job.catalog_id, text, failed_file.error or value.message, reason)
                if failed_file.stat is not None and reason != FailureReason.VANISHED:
                    self.repo.refresh_failed_stat(tx, job.catalog_id, text, *failed_file.stat)
                counts["vanished" if reason == FailureReason.VANISHED else "errors"] += 1
                if photo_id is not None:
                    changed.append(photo_id)
                    failed.append(photo_id)
                continue
            res, mtime_ns, sizes = value
            entries.append((item["f"], text, exact, path_for_db(os.path.basename(raw))[0], res, mtime_ns, sizes))
            refreshing.append(bool(item.get("r")))
        # the analysed files in a few round trips for the whole batch (not three per file)
        for (outcome, photo_id), is_refresh in zip(self.repo.store_ingest_many(tx, job.catalog_id, entries),
                                                   refreshing):
            counts["refreshed" if outcome == "changed" and is_refresh else
                   "new" if outcome == "added" else outcome] += 1
            changed.append(photo_id)
            if outcome in ("added", "moved"):   # a new row, or a missing photo back: the catalog's membership
                arrived.append(photo_id)
        return Stored(counts, tuple(changed), tuple(dropped),
                      changes=((_ARRIVED, tuple(arrived)), (_FAILED, tuple(failed))))

    def finalize(self, ctx: JobContext) -> dict[str, Any]:
        params: ScanParams = ctx.params
        totals = ctx.env.store.batch_totals(ctx.job.id)
        stored = ctx.env.store.changed_photos(ctx.job.id)
        with ctx.env.transaction() as tx:
            folder_ids = list(params.folder_ids) or [f.id for f in self.repo.list_folders(tx, ctx.job.catalog_id)]
            self.repo.touch_folders(tx, folder_ids)
            # photos stored, then forgotten because their folder was removed from the catalog meanwhile
            forgotten = len(stored) - self.repo.count_present(tx, stored) if stored else 0
        d = ctx.discovery
        outcomes = {k: totals.get(k, 0) for k in ("new", "changed", "moved", "refreshed", "errors")}
        left = forgotten  # each forgotten photo leaves the one outcome it was counted under
        for key in outcomes:
            take = min(left, outcomes[key])
            outcomes[key] -= take
            left -= take
        return {
            "files": d.get("files", 0), "unchanged": d.get("unchanged", 0), **outcomes,
            "dropped": totals.get("dropped", 0) + forgotten - left,
            "missing": d.get("missing", 0) + totals.get("vanished", 0) - totals.get("moved", 0),
            "errors": outcomes["errors"] + d.get("discovery_errors", 0) + d.get("unchanged_errors", 0),
            "skipped": d.get("skipped", 0),
            **{key: d[key] for key, _ in _NOT_FOLLOWED if d.get(key)},
            **({"waited_for": d["waited_for"]} if d.get("waited_for") else {}),
        }

    def follow_on_params(self, parent: JobSnapshot, changed_photo_ids: Sequence[int]) -> dict[str, Any] | None:
        return None  # nothing runs a scan after another job
