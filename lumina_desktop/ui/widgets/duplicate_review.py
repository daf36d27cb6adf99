"""DuplicateReviewWidget: the Duplicates view — the queue of duplicate groups, tier by tier, and the
current group's photos side by side with what differs, decided from the keyboard (GUI thread).

Left: one header per tier (its groups and the bytes its copies take, "Accept all suggestions…"
to trash every copy of the tier after a confirmation), then the queue (a list view over a list
model: 10,000 groups are one model reset, not 10,000 widgets), the current group highlighted.
Right: "Group 12 of 240", the members as large cells (the keeper first, marked KEEP with why it
wins; each copy with its tier, how it was matched and the keeper's reason against it) and a
table of facts — dimensions, bytes, format, date taken and its source, folder, camera and
metadata — where a copy's value that differs from the keeper's is highlighted.  C (or Compare)
puts the members side by side with zoom and pan linked (:class:`CompareView`).

Keys: K keep the selected photo (it becomes the keeper), N not duplicates (the selected copy and
the keeper), Delete move the group's copies to the trash, S or → next group, ← previous, ↑/↓
also move through the queue, Home/End first/last, 1–9 or Tab/Shift+Tab select a photo, C compare,
Esc back.  After K or Delete the review moves on to the next group; after N it stays on the
group while copies are left in it (they still need a look), else it moves on.  The queue is read
again after every action.  Delete asks nothing (the move is journaled and undoable); "Accept all
suggestions…" asks first, with the file count and bytes.

Threads: everything here runs on the GUI thread except the functions marked "worker", which run
on ``io`` (the interactive executor) through :func:`run_query` — the groups, the photos' details
and pictures, the decisions, the trash plans, journals and job submits.  Results arrive as
values (frozen dataclasses, deep-copied QImages).  Actions are written one at a time, in key order.

Size (~1,370 lines, above the 600 review mark): written as one module while the window, sidebar
and browser were being edited by others.  To split: ``DuplicateQueueModel`` and its delegate →
ui/models and ui/delegates; ``_GroupPanel`` → ui/widgets/duplicate_group.py; the worker
functions → a small ``ui/duplicate_tasks.py``.
"""
from __future__ import annotations

import dataclasses
import logging
import math
import os
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Protocol

from PySide6.QtCore import (
    QAbstractListModel, QEvent, QItemSelectionModel, QModelIndex, QObject, QPersistentModelIndex, QRect, QSize, Qt,
    QTimer, Signal,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPalette, QPen, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView, QFrame, QGridLayout, QHBoxLayout, QLabel, QListView, QMessageBox, QPushButton, QScrollArea,
    QSizePolicy, QSplitter, QStackedWidget, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QVBoxLayout, QWidget,
)

from lumina_desktop.core.changes import Aspect, PhotoChanges
from lumina_desktop.core.duplicates import TIERS, DuplicateTier, GroupMember, StoredGroup
from lumina_desktop.core.library import PhotoDetails
from lumina_desktop.core.media import GRID_PX
from lumina_desktop.services.describe import (
    breakable, display_name, format_bytes, format_camera, format_date, format_dimensions, format_type,
)
from lumina_desktop.services.duplicates import TierStats, tier_stats
from lumina_desktop.services.images import PhotoPictures
from lumina_desktop.services.photos import PhotoQueries
from lumina_desktop.services.trash import TRASH_KIND, Plan
from lumina_desktop.ui.collector import note_activity
from lumina_desktop.ui.delegates.thumbnail_delegate import fit_rect
from lumina_desktop.ui.tasks import report_error, run_query
from lumina_desktop.ui.thumbnails import ThumbnailLoader, ThumbnailRequest, to_qimage
from lumina_desktop.ui.widgets.compare_view import MAX_PANES, ComparePhoto, CompareView
from lumina_desktop.ui.widgets.empty_state import EmptyStateWidget

log = logging.getLogger(__name__)

EMPTY_TITLE = "No duplicates found"
EMPTY_BODY = ("Nothing in this catalog has a copy, or duplicates have not been looked for yet:\n"
              "Jobs › Find duplicates compares every photo after a scan (byte copies, re-saved and resized copies).")
DONE_TITLE = "No duplicates left"
DONE_BODY = "Every group is decided. Moves to the trash can be undone (Edit › Undo move to trash)."
TIER_TITLE = {DuplicateTier.IDENTICAL: "Identical", DuplicateTier.SAME_PICTURE: "Same picture",
              DuplicateTier.NEAR_COPY: "Near copies"}
TIER_HINT = {DuplicateTier.IDENTICAL: "the same file, byte for byte",
             DuplicateTier.SAME_PICTURE: "the same pixels, other metadata",
             DuplicateTier.NEAR_COPY: "resized, re-encoded or edited"}
TIER_WORD = {DuplicateTier.IDENTICAL: "identical", DuplicateTier.SAME_PICTURE: "same picture",
             DuplicateTier.NEAR_COPY: "near copy"}
KEEP, NOT_DUPLICATE = "keep", "not_duplicate"
KEEP_FILE_TIP = "Keep this file instead: it has the same bytes as the keeper, which becomes its copy (remembered)"
SAME_BYTES_TIP = "This file is byte for byte the keeper: it is a duplicate whatever its name"
QUEUE_THUMB_PX = 44
QUEUE_ROW_PX = 56
PICTURE_PX = 640
CACHE_PHOTOS = 64
_KEEP_GREEN = QColor(90, 200, 110)
_WARN = QColor(230, 170, 40)
_CANVAS_BG = QColor(24, 24, 24)
_BADGE_BG = QColor(0, 0, 0, 170)
_DIFFERS_STYLE = "background: rgba(230, 160, 30, 0.30); border-radius: 3px; padding: 1px 3px; font-weight: 600;"
_SAME_STYLE = "padding: 1px 3px;"
_RELOAD_ASPECTS = frozenset({Aspect.DUPLICATES, Aspect.ADDED, Aspect.REMOVED, Aspect.ANALYSED, Aspect.STATUS})
REFRESH_DEBOUNCE_MS = 250
Confirm = Callable[[str, str], bool]


# -- the services it uses (protocols: tests pass the real ones or fakes with real constructors)
class DuplicateDecisions(Protocol):
    def groups(self, catalog_id: int) -> list[StoredGroup]: ...
    def keep(self, catalog_id: int, path: str) -> None: ...
    def not_duplicates(self, catalog_id: int, path_a: str, path_b: str) -> None: ...
    def forget(self, catalog_id: int, decision: Any, paths: Sequence[str]) -> None: ...


class DuplicateTrash(Protocol):
    def photos_plan(self, catalog_id: int, photo_ids: Iterable[int]) -> Plan: ...
    def duplicates_plan(self, catalog_id: int, tier: DuplicateTier | str) -> Plan: ...
    def journal(self, catalog_id: int, plan: Plan, description: str) -> int: ...
    def job_params(self, operation_id: int | None, *, undo: bool = False) -> dict[str, Any]: ...


class JobSubmitter(Protocol):
    def submit(self, kind: str, params: Mapping[str, Any] | None = None, *, catalog_id: int | None = None) -> int: ...


# -- values and worker functions
@dataclass(frozen=True)
class QueueSnapshot:
    """The groups to review (tier order, then group id) and their totals.  ``hidden``: photo ids
    left out (their move to the trash is under way); ``present_hidden``: those still in a group."""

    groups: tuple[StoredGroup, ...]
    stats: tuple[TierStats, ...]
    hidden: frozenset[int] = frozenset()
    present_hidden: frozenset[int] = frozenset()
    listed: tuple[TierStats, ...] = ()      # per queue header: the groups listed under it, what they free


def listed_totals(groups: Sequence[StoredGroup]) -> tuple[TierStats, ...]:
    """Any thread: each tier's header in the queue counts the groups listed under it (by the
    group's tier) and what they free; the tier panel counts copies by their own tier instead."""
    listed: dict[DuplicateTier, list[StoredGroup]] = {}
    for sg in groups:
        listed.setdefault(sg.tier, []).append(sg)
    return tuple(TierStats(tier, len(gs), sum(len(g.group.members) for g in gs), sum(g.reclaimable_bytes for g in gs))
                 for tier, gs in listed.items())


@dataclass(frozen=True)
class TrashOutcome:
    """A move to the trash started (``operation_id``, ``job_id``) or not (``note`` says why)."""

    snapshot: QueueSnapshot
    photo_ids: tuple[int, ...] = ()
    bytes: int = 0
    operation_id: int = 0
    job_id: int = 0
    note: str = ""


@dataclass(frozen=True)
class MemberPicture:
    """A photo's catalog facts and its picture (None: not in the catalog / no picture)."""

    photo_id: int
    details: PhotoDetails | None
    image: QImage | None


def without_photos(sg: StoredGroup, hidden: frozenset[int] | set[int]) -> StoredGroup | None:
    """The group without ``hidden`` photos (its tier follows the copies left); None if none is left."""
    g = sg.group
    if not hidden or not (hidden & set(g.photo_ids)):
        return sg
    members = tuple(m for m in g.members if m.photo_id not in hidden)
    if g.keeper_id in hidden or not members:
        return None
    tier = max((m.tier for m in members), key=lambda t: t.rank)
    return StoredGroup(sg.id, dataclasses.replace(g, members=members, tier=tier), sg.paths, sg.sizes)


def queue_of(groups: Sequence[StoredGroup], hidden: frozenset[int] = frozenset()) -> QueueSnapshot:
    """Any thread: the review order (strictest tier first, then group id) and each tier's totals."""
    present = frozenset(pid for sg in groups for pid in sg.group.photo_ids if pid in hidden) if hidden else frozenset()
    shown = [x for sg in groups if (x := without_photos(sg, hidden)) is not None]
    shown.sort(key=lambda sg: (sg.tier.rank, sg.id))
    return QueueSnapshot(tuple(shown), tuple(tier_stats(shown)), hidden, present, listed_totals(shown))


def load_queue(dups: DuplicateDecisions, catalog_id: int, hidden: frozenset[int]) -> QueueSnapshot:
    """Worker: the catalog's groups, decisions applied, in review order."""
    return queue_of(dups.groups(catalog_id), hidden)


def write_decision(dups: DuplicateDecisions, catalog_id: int, action: str, paths: tuple[str, ...],
                   hidden: frozenset[int], *, forget_keep: str | None = None) -> QueueSnapshot:
    """Worker: remember K (keep ``paths[0]``; ``forget_keep``: the path of the keeper the user chose
    before, whose "keep" is dropped so the new choice wins) or N (``paths`` are not duplicates),
    then read the queue again."""
    if action == KEEP:
        if forget_keep is not None:
            dups.forget(catalog_id, KEEP, (forget_keep,))
        dups.keep(catalog_id, paths[0])
    else:
        dups.not_duplicates(catalog_id, paths[0], paths[1])
    return load_queue(dups, catalog_id, hidden)


def trash_group_copies(dups: DuplicateDecisions, trash: DuplicateTrash, jobs: JobSubmitter, catalog_id: int,
                       seen: StoredGroup, hidden: frozenset[int]) -> TrashOutcome:
    """Worker: move the copies of ``seen`` (as the user saw it) to the trash — journal, then the
    trash job.  Checked against the stored group first: if its keeper changed meanwhile nothing moves."""
    groups = dups.groups(catalog_id)
    fresh = next((sg for sg in groups if sg.id == seen.id), None)
    if fresh is None or fresh.group.keeper_id != seen.group.keeper_id:
        return TrashOutcome(queue_of(groups, hidden), note="This group changed meanwhile; nothing was moved. Look again.")
    now = {m.photo_id for m in fresh.group.members}
    ids = [m.photo_id for m in seen.group.members if m.photo_id in now and m.photo_id not in hidden]
    plan = trash.photos_plan(catalog_id, ids) if ids else None
    if plan is None or not plan.photo_ids:
        return TrashOutcome(queue_of(groups, hidden), note="Nothing left to move in this group.")
    keeper = display_name(os.path.basename(seen.paths.get(seen.group.keeper_id, "")))
    n = len(plan.photo_ids)
    op = trash.journal(catalog_id, plan, f"Duplicates: keep {keeper}, move {n} cop{'y' if n == 1 else 'ies'} to the trash")
    job = jobs.submit(TRASH_KIND, trash.job_params(op), catalog_id=catalog_id)
    return TrashOutcome(queue_of(groups, hidden | set(plan.photo_ids)), plan.photo_ids, plan.bytes, op, job)


def start_plan_trash(dups: DuplicateDecisions, trash: DuplicateTrash, jobs: JobSubmitter, catalog_id: int,
                     plan: Plan, description: str, hidden: frozenset[int]) -> TrashOutcome:
    """Worker: journal ``plan`` and start the trash job, then read the queue again."""
    op = trash.journal(catalog_id, plan, description)
    job = jobs.submit(TRASH_KIND, trash.job_params(op), catalog_id=catalog_id)
    return TrashOutcome(load_queue(dups, catalog_id, hidden | set(plan.photo_ids)), plan.photo_ids, plan.bytes, op, job)


def load_members(photos: PhotoQueries, images: PhotoPictures, photo_ids: tuple[int, ...], px: int) -> tuple[MemberPicture, ...]:
    """Worker: each photo's details and its preview fitted to ``px`` (the grid thumbnail if there is no preview)."""
    out = []
    for pid in photo_ids:
        d = photos.details(pid)
        picture = images.preview(d, px) if d is not None else None
        if picture is None and d is not None and d.content_hash:
            picture = images.thumbnail(d.content_hash, GRID_PX, px)
        out.append(MemberPicture(pid, d, to_qimage(picture) if picture is not None else None))
    return tuple(out)


# -- wording
def match_text(m: GroupMember, copy_of: str = "") -> str:
    """How a copy was matched: "identical · same bytes", "near copy · 97 % similar", "⚠ not verified: …"
    (``copy_of``: the member it copies, named, when that is not the keeper)."""
    if m.match == "content_hash":
        how = "same bytes"
    elif m.match == "image_data_hash":
        how = "same pixels"
    elif not m.is_verified:
        inner = m.match[m.match.find("(") + 1:].rstrip(")") if "(" in m.match else ""
        how = f"⚠ {inner or 'not verified pixel by pixel'}"
    elif m.similarity is not None:
        pct = m.similarity * 100
        how = f"{math.floor(pct * 10) / 10:.1f} % similar" if 99.5 <= pct < 100 else f"{pct:.0f} % similar"
    else:
        how = m.match
    return f"{TIER_WORD[m.tier]} · {how}" + (f" as {copy_of}" if copy_of else "")


def copies_text(n: int) -> str:
    return f"{n:,} cop{'y' if n == 1 else 'ies'}"


def tier_copies_text(tier: DuplicateTier, n: int) -> str:
    """ "3 identical copies", "1 same-picture copy", "2 near copies"."""
    word = {DuplicateTier.IDENTICAL: "identical ", DuplicateTier.SAME_PICTURE: "same-picture ",
            DuplicateTier.NEAR_COPY: "near "}[tier]
    return f"{n:,} {word}cop{'y' if n == 1 else 'ies'}"


def reason_text(reason: str) -> str:
    """The keeper rules' reason in plain words (the tie-break names photo ids, which mean nothing to people)."""
    if reason.startswith("equal on every rule"):
        return "equal on every rule, so the first one found is kept"
    return reason


def keeper_text(sg: StoredGroup) -> str:
    g = sg.group
    if g.is_keeper_forced:
        return "Your choice"
    reasons = list(dict.fromkeys(reason_text(m.reason) for m in g.members if m.reason))
    return "Suggested: " + "; ".join(reasons[:2]) + ("; …" if len(reasons) > 2 else "") if reasons else "Suggested"


def _metadata(d: PhotoDetails) -> tuple[str, tuple[bool, ...]]:
    items = (("camera", bool(d.camera_make or d.camera_model)), ("exposure", bool(d.iso or d.aperture or d.shutter_s)),
             ("lens", bool(d.lens)), ("GPS", d.gps_lat is not None), ("keywords", bool(d.keywords)),
             ("rating", bool(d.rating)))
    present = [name for name, has in items if has]
    return (", ".join(present) if present else "none"), tuple(has for _, has in items)


Fact = tuple[str, Any]        # (text, what is compared with the keeper's)
FACTS: tuple[tuple[str, str, Callable[[PhotoDetails], Fact]], ...] = (
    ("name", "File name", lambda d: (breakable(d.file_name), d.file_name)),
    ("folder", "Folder", lambda d: (breakable(os.path.dirname(d.path)), os.path.dirname(d.path))),
    ("dimensions", "Dimensions", lambda d: (format_dimensions(d), (d.width, d.height))),
    ("size", "File size", lambda d: (format_bytes(d.size_bytes), d.size_bytes)),
    ("format", "Format", lambda d: (format_type(d), (d.file_type, d.format))),
    ("date", "Date taken", lambda d: (format_date(d), format_date(d))),      # to the second, as shown
    ("camera", "Camera", lambda d: (format_camera(d), (d.camera_make, d.camera_model))),
    ("metadata", "Metadata", _metadata),
)


# -- the queue
class QueueRole(IntEnum):
    Group = Qt.ItemDataRole.UserRole + 1      # StoredGroup (None on a tier header)
    Stats = Qt.ItemDataRole.UserRole + 2      # TierStats (None on a group)
    Ordinal = Qt.ItemDataRole.UserRole + 3    # a group's place in the queue, from 1


class DuplicateQueueModel(QAbstractListModel):
    """Rows: each tier that has groups — its header, then its groups (review order)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[StoredGroup | TierStats] = []
        self._row_of: dict[int, int] = {}            # group id -> row
        self._row_of_keeper: dict[int, int] = {}     # keeper photo id -> row (thumbnails)
        self._header_rows: list[int] = []
        self.stats: tuple[TierStats, ...] = ()
        self.thumbnail: Callable[[StoredGroup], QPixmap | None] = lambda _sg: None

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def set_snapshot(self, snapshot: QueueSnapshot) -> None:
        self.beginResetModel()
        rows: list[StoredGroup | TierStats] = []
        headers = {s.tier: s for s in snapshot.listed or listed_totals(snapshot.groups)}   # made by the worker
        tier = None
        for sg in snapshot.groups:
            if sg.tier != tier:
                tier = sg.tier
                rows.append(headers[tier])
            rows.append(sg)
        self._rows, self.stats = rows, snapshot.stats
        self._row_of = {r.id: i for i, r in enumerate(rows) if isinstance(r, StoredGroup)}
        self._row_of_keeper = {r.group.keeper_id: i for i, r in enumerate(rows) if isinstance(r, StoredGroup)}
        self._header_rows = [i for i, r in enumerate(rows) if isinstance(r, TierStats)]
        self.endResetModel()

    @property
    def groups(self) -> tuple[StoredGroup, ...]:
        return tuple(r for r in self._rows if isinstance(r, StoredGroup))

    @property
    def group_count(self) -> int:
        return len(self._row_of)

    def group(self, row: int) -> StoredGroup | None:
        r = self._rows[row] if 0 <= row < len(self._rows) else None
        return r if isinstance(r, StoredGroup) else None

    def row_of(self, group_id: int | None) -> int:
        return self._row_of.get(group_id, -1) if group_id is not None else -1

    def ordinal(self, row: int) -> int:
        """The group's place among the groups, from 1 (0 for a header)."""
        if self.group(row) is None:
            return 0
        return row + 1 - sum(1 for h in self._header_rows if h < row)

    def group_row_near(self, row: int, step: int = 1) -> int:
        """The first group row from ``row`` on in direction ``step`` (else the other way); -1 if none."""
        for direction in (step, -step):
            r = row
            while 0 <= r < len(self._rows):
                if isinstance(self._rows[r], StoredGroup):
                    return r
                r += direction
        return -1

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        r = self._rows[index.row()]
        if isinstance(r, TierStats):
            if role == Qt.ItemDataRole.DisplayRole:
                return f"{TIER_TITLE[r.tier]} — {r.groups:,} group{'s' if r.groups != 1 else ''} · {format_bytes(r.reclaimable_bytes)}"
            if role == Qt.ItemDataRole.ToolTipRole:
                return f"{TIER_TITLE[r.tier]}: {TIER_HINT[r.tier]}; {copies_text(r.copies)}"
            return r if role == QueueRole.Stats else None
        if role == Qt.ItemDataRole.DisplayRole:
            return display_name(os.path.basename(r.paths.get(r.group.keeper_id, "")))
        if role == Qt.ItemDataRole.DecorationRole:
            return self.thumbnail(r)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{display_name(r.paths.get(r.group.keeper_id, ''))}\n{group_line(r)}"
        if role == QueueRole.Group:
            return r
        if role == QueueRole.Ordinal:
            return self.ordinal(index.row())
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        if self.group(index.row()) is None:
            return Qt.ItemFlag.ItemIsEnabled
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def thumbnails_arrived(self, photo_ids: Sequence[int]) -> None:
        for pid in set(photo_ids):
            row = self._row_of_keeper.get(pid)
            if row is not None:
                idx = self.index(row)
                self.dataChanged.emit(idx, idx, [Qt.ItemDataRole.DecorationRole])


def group_line(sg: StoredGroup) -> str:
    g = sg.group
    text = f"{g.size} photos · {format_bytes(sg.reclaimable_bytes)} to free"
    if g.is_keeper_forced:
        text += " · your keeper"
    if g.has_unverified or g.is_suspicious:
        text += " · ⚠ check"
    return text


class _QueueDelegate(QStyledItemDelegate):
    """Paints tier headers and group rows (thumbnail, keeper name, size line).  No I/O."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._small = QFont()
        self._small.setPointSizeF(max(7.0, self._small.pointSizeF() * 0.85))
        self._bold = QFont()
        self._bold.setBold(True)

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        return QSize(200, QUEUE_ROW_PX)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        rect: QRect = option.rect  # type: ignore[attr-defined]
        pal: QPalette = option.palette  # type: ignore[attr-defined]
        painter.save()
        stats = index.data(QueueRole.Stats)
        if stats is not None:
            painter.fillRect(rect, pal.color(QPalette.ColorRole.AlternateBase))
            painter.setPen(pal.color(QPalette.ColorRole.Mid))
            painter.drawLine(rect.bottomLeft(), rect.bottomRight())
            painter.setFont(self._bold)
            painter.setPen(pal.color(QPalette.ColorRole.Text))
            half = rect.height() // 2
            painter.drawText(rect.adjusted(10, 4, -8, -half), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom,
                             TIER_TITLE[stats.tier])
            painter.setFont(self._small)
            painter.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
            line = (f"{stats.groups:,} group{'s' if stats.groups != 1 else ''} · {copies_text(stats.copies)} · "
                    f"{format_bytes(stats.reclaimable_bytes)}")
            painter.drawText(rect.adjusted(10, half + 2, -8, -4), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
                             QFontMetrics(self._small).elidedText(line, Qt.TextElideMode.ElideRight, rect.width() - 18))
            painter.restore()
            return
        sg: StoredGroup = index.data(QueueRole.Group)
        is_selected = bool(option.state & QStyle.StateFlag.State_Selected)  # type: ignore[attr-defined]
        if is_selected:
            painter.fillRect(rect, pal.color(QPalette.ColorRole.Highlight))
        text_colour = pal.color(QPalette.ColorRole.HighlightedText if is_selected else QPalette.ColorRole.Text)
        box = QRect(rect.x() + 8, rect.y() + (rect.height() - QUEUE_THUMB_PX) // 2, QUEUE_THUMB_PX, QUEUE_THUMB_PX)
        pixmap = index.data(Qt.ItemDataRole.DecorationRole)
        if isinstance(pixmap, QPixmap) and not pixmap.isNull():
            painter.drawPixmap(fit_rect(pixmap.width(), pixmap.height(), box), pixmap)
        else:
            painter.fillRect(box, QColor(128, 128, 128, 48))
        x = box.right() + 10
        width = rect.right() - x - 8
        fm_small = QFontMetrics(self._small)
        number = f"{index.data(QueueRole.Ordinal):,}"
        painter.setFont(self._small)
        painter.setPen(pal.color(QPalette.ColorRole.HighlightedText if is_selected else QPalette.ColorRole.PlaceholderText))
        painter.drawText(QRect(x, rect.y() + 6, width, rect.height() // 2 - 6),
                         Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom, number)
        name_w = width - fm_small.horizontalAdvance(number) - 8
        painter.setFont(option.font)  # type: ignore[attr-defined]
        painter.setPen(text_colour)
        name = QFontMetrics(option.font).elidedText(index.data(), Qt.TextElideMode.ElideMiddle, name_w)  # type: ignore[attr-defined]
        painter.drawText(QRect(x, rect.y() + 6, name_w, rect.height() // 2 - 6),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom, name)
        painter.setFont(self._small)
        line = group_line(sg)
        warn = "⚠" in line
        painter.setPen(_WARN if warn and not is_selected else
                       pal.color(QPalette.ColorRole.HighlightedText if is_selected else QPalette.ColorRole.PlaceholderText))
        painter.drawText(QRect(x, rect.y() + rect.height() // 2 + 2, width, rect.height() // 2 - 6),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
                         fm_small.elidedText(line, Qt.TextElideMode.ElideRight, width))
        painter.restore()


class _QueueView(QListView):
    viewport_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setUniformItemSizes(True)
        self.setLayoutMode(QListView.LayoutMode.Batched)    # 10,000 groups laid out over a few turns, not one stall
        self.setBatchSize(2000)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.verticalScrollBar().valueChanged.connect(self.viewport_changed)
        self.verticalScrollBar().valueChanged.connect(lambda _v: note_activity())

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self.viewport_changed.emit()

    def visible_rows(self, ahead: int = 0) -> range:
        n = self.model().rowCount() if self.model() is not None else 0
        if not n:
            return range(0)
        top = self.indexAt(self.viewport().rect().topLeft()).row()
        bottom = self.indexAt(self.viewport().rect().bottomLeft()).row()
        top = max(0, top)
        if bottom < 0:    # the list ends above the bottom edge, or is not laid out there yet: a screenful
            bottom = top + self.viewport().height() // QUEUE_ROW_PX
        return range(top, min(n, bottom + 1 + ahead))


# -- the group
class _PictureCell(QWidget):
    """One member's picture with its KEEP / COPY badge; a click selects it, a double click compares."""

    clicked = Signal(int)
    double_clicked = Signal(int)

    def __init__(self, photo_id: int, badge: str, is_keeper: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.photo_id, self.badge, self.is_keeper = photo_id, badge, is_keeper
        self.pixmap: QPixmap | None = None
        self.message = "Loading…"
        self.is_selected = False
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), _CANVAS_BG)
        inner = self.rect().adjusted(4, 4, -4, -4)
        if self.pixmap is not None and not self.pixmap.isNull():
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            p.drawPixmap(fit_rect(self.pixmap.width(), self.pixmap.height(), inner), self.pixmap)
        else:
            p.setPen(QColor(190, 190, 190))
            p.drawText(inner, Qt.AlignmentFlag.AlignCenter, self.message)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        fm = p.fontMetrics()
        badge = QRect(10, 10, fm.horizontalAdvance(self.badge) + 14, fm.height() + 6)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(_KEEP_GREEN if self.is_keeper else _BADGE_BG)
        p.drawRoundedRect(badge, 4, 4)
        p.setPen(QColor(10, 30, 10) if self.is_keeper else QColor(235, 235, 235))
        p.drawText(badge, Qt.AlignmentFlag.AlignCenter, self.badge)
        p.setBrush(Qt.BrushStyle.NoBrush)
        if self.is_selected:
            p.setPen(QPen(self.palette().color(QPalette.ColorRole.Highlight), 4))
            p.drawRect(self.rect().adjusted(2, 2, -2, -2))
        p.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit(self.photo_id)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self.double_clicked.emit(self.photo_id)


class _GroupPanel(QWidget):
    """The current group's members side by side, then their facts; differing values highlighted."""

    member_clicked = Signal(int)
    member_double_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.group: StoredGroup | None = None
        self.cells: dict[int, _PictureCell] = {}
        self.fact_labels: dict[tuple[str, int], QLabel] = {}
        self.role_labels: dict[int, QLabel] = {}
        self.match_labels: dict[int, QLabel] = {}
        self._columns: list[list[QWidget]] = []
        self._structure: tuple[Any, ...] = ()
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(4, 4, 4, 4)
        self.grid.setHorizontalSpacing(10)
        self.grid.setVerticalSpacing(4)

    @staticmethod
    def cell_px(viewport_width: int, n: int) -> int:
        """The width of a member's column: the group fills the width, between 200 and 520 px a photo."""
        n = max(1, n)
        return max(200, min(520, (viewport_width - 90 - 24 - 10 * n) // n))

    def show_group(self, sg: StoredGroup, pictures: Mapping[int, MemberPicture], selected: int | None,
                   cell_px: int) -> None:
        """Build the cells (when the group's make-up changed) and fill them from ``pictures``."""
        structure = (sg.id, sg.group.photo_ids, sg.group.is_keeper_forced, tuple(m.reason for m in sg.group.members))
        if structure != self._structure:
            self._build(sg)
            self._structure = structure
        self.group = sg
        self.resize_cells(cell_px)
        self.fill(pictures, selected)
        self.grid.activate()

    def _build(self, sg: StoredGroup) -> None:
        while self.grid.count():
            item = self.grid.takeAt(0)
            w = item.widget() if item is not None else None
            if w is not None:
                w.hide()                  # now, not when the deletion runs: no frame shows both groups
                w.deleteLater()
        self.cells, self.fact_labels, self.role_labels, self.match_labels, self._columns = {}, {}, {}, {}, []
        g = sg.group
        for row, (_key, title, _fn) in enumerate(FACTS, start=4):
            head = QLabel(title)
            head.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
            head.setEnabled(False)
            self.grid.addWidget(head, row, 0)
        for col, pid in enumerate(g.photo_ids, start=1):
            member = next((m for m in g.members if m.photo_id == pid), None)
            cell = _PictureCell(pid, "KEEP" if member is None else f"COPY {col - 1}", member is None)
            cell.clicked.connect(self.member_clicked)
            cell.double_clicked.connect(self.member_double_clicked)
            role = QLabel(f"<b>{col}. Keep</b>" if member is None else f"<b>{col}. Copy</b> · {TIER_WORD[member.tier]}")
            of = getattr(member, "copy_of", None)       # a copy of another copy (not of the keeper)
            of_col = g.photo_ids.index(of) + 1 if of in g.photo_ids else 0
            match = QLabel(keeper_text(sg) if member is None else match_text(member, f"{of_col}." if of_col else ""))
            winner = f"{of_col}. wins" if of_col else "Keeper wins"
            reason = QLabel("" if member is None or not member.reason else f"{winner}: {reason_text(member.reason)}")
            column: list[QWidget] = [cell, role, match, reason]
            for w in (match, reason):
                w.setTextFormat(Qt.TextFormat.PlainText)
                w.setWordWrap(True)
                w.setEnabled(member is not None or w is match)
            for row, w in enumerate(column):
                self.grid.addWidget(w, row, col, Qt.AlignmentFlag.AlignTop)
            for row, (key, _title, _fn) in enumerate(FACTS, start=4):
                label = QLabel("…")
                label.setTextFormat(Qt.TextFormat.PlainText)
                label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
                label.setWordWrap(True)
                label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
                label.setProperty("differs", False)
                self.grid.addWidget(label, row, col, Qt.AlignmentFlag.AlignTop)
                self.fact_labels[(key, pid)] = label
                column.append(label)
            self.cells[pid] = cell
            self.role_labels[pid], self.match_labels[pid] = role, match
            self._columns.append(column)
        self.grid.setRowStretch(len(FACTS) + 4, 1)
        self.grid.setColumnStretch(len(g.photo_ids) + 1, 1)
        for i in range(self.grid.count()):
            item = self.grid.itemAt(i)
            if item is not None and item.widget() is not None:
                item.widget().show()      # now, not on the next turn of the event loop

    def resize_cells(self, cell_px: int) -> None:
        for column in self._columns:
            column[0].setFixedSize(cell_px, cell_px * 3 // 4)
            for w in column[1:]:
                w.setFixedWidth(cell_px)

    def fill(self, pictures: Mapping[int, MemberPicture], selected: int | None) -> None:
        sg = self.group
        if sg is None:
            return
        keeper = pictures.get(sg.group.keeper_id)
        keeper_facts = {key: fn(keeper.details) for key, _t, fn in FACTS} if keeper and keeper.details else None
        for pid, cell in self.cells.items():
            mp = pictures.get(pid)
            if mp is not None:
                if mp.image is not None and cell.pixmap is None:
                    cell.pixmap = QPixmap.fromImage(mp.image)
                cell.message = "No picture" if mp.details else "Not in the catalog any more"
            cell.is_selected = pid == selected
            cell.update()
            role = self.role_labels[pid]
            font = role.font()
            font.setUnderline(pid == selected)
            role.setFont(font)
            for key, _t, fn in FACTS:
                label = self.fact_labels[(key, pid)]
                if mp is None or mp.details is None:
                    label.setText("…" if mp is None else "—")
                    continue
                text, value = fn(mp.details)
                differs = keeper_facts is not None and pid != sg.group.keeper_id and value != keeper_facts[key][1]
                if differs and keeper_facts is not None and text == keeper_facts[key][0] and isinstance(value, int):
                    text += f" ({value:,} bytes)"        # 128.8 KB either way, not the same size
                label.setText(text)
                if bool(label.property("differs")) != differs or not label.styleSheet():
                    label.setProperty("differs", differs)
                    label.setStyleSheet(_DIFFERS_STYLE if differs else _SAME_STYLE)
                    label.setToolTip("Differs from the keeper's" if differs else "")


def _ask(parent: QWidget) -> Confirm:
    def confirm(title: str, text: str) -> bool:
        answer = QMessageBox.question(parent, title, text, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                                      QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Yes
    return confirm


class DuplicateReviewWidget(QWidget):
    """The Duplicates view (see the module docstring).  API: set_catalog, refresh, apply_changes,
    trash_job_finished, go_to_group, next_group, previous_group, select_photo, keep_selected,
    not_duplicate_selected, trash_copies, accept_tier, compare, close_compare; current_group,
    selected_photo_id, progress_text, is_loaded, is_empty, is_busy."""

    operation_started = Signal(int, int)   # operation id, trash job id
    error = Signal(str)                    # a failure, in words (also sent to the window's report_error)
    count_changed = Signal(int)            # groups in the queue
    group_changed = Signal(int)            # id of the group shown

    def __init__(self, io: Executor, duplicates: DuplicateDecisions, photos: PhotoQueries, images: PhotoPictures,
                 trash: DuplicateTrash, jobs: JobSubmitter, parent: QWidget | None = None, *,
                 confirm: Confirm | None = None, picture_px: int = PICTURE_PX) -> None:
        super().__init__(parent)
        self.io, self.duplicates, self.photos, self.images, self.trash, self.jobs = io, duplicates, photos, images, trash, jobs
        self.confirm: Confirm = confirm or _ask(self)
        self.picture_px = picture_px
        self.catalog_id: int | None = None
        self.is_loaded = False
        self._had_groups = False                              # this catalog had groups: empty now means "done"
        self._generation = 0
        self._is_reading = False
        self._hidden: set[int] = set()                       # photos on their way to the trash
        self._trash_jobs: dict[int, frozenset[int]] = {}     # job id -> the photos it moves
        self._writes: deque[Callable[[], None]] = deque()
        self._is_writing = False
        self._pictures: OrderedDict[int, MemberPicture] = OrderedDict()
        self._loading: set[int] = set()
        self._current_id: int | None = None
        self._selected: int | None = None
        self.loader = ThumbnailLoader(io, images, parent=self)
        self.model = DuplicateQueueModel(self)
        self.model.thumbnail = self._queue_thumbnail
        self.queue = _QueueView()
        self.queue.setItemDelegate(_QueueDelegate(self.queue))
        self.queue.setModel(self.model)
        self._build_ui()
        self._visible_timer = QTimer(self)
        self._visible_timer.setSingleShot(True)
        self._visible_timer.setInterval(40)
        self._visible_timer.timeout.connect(self._on_visible_timer_timeout)
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(REFRESH_DEBOUNCE_MS)
        self._refresh_timer.timeout.connect(self.refresh)
        self.queue.viewport_changed.connect(self._visible_timer.start)
        self.model.modelReset.connect(self._visible_timer.start)
        self.loader.thumbnails_ready.connect(self.model.thumbnails_arrived)
        self.queue.selectionModel().currentChanged.connect(self._on_queue_current_changed)
        self.queue.installEventFilter(self)
        self.compare_view.installEventFilter(self)
        self.scroll.viewport().installEventFilter(self)
        self.compare_view.closed.connect(self.close_compare)
        self.compare_view.pane_clicked.connect(self.select_photo)
        self.panel.member_clicked.connect(self.select_photo)
        self.panel.member_double_clicked.connect(lambda pid: (self.select_photo(pid), self.compare()))
        self._update_actions()

    def _build_ui(self) -> None:
        # left: the tiers and the queue
        self.tier_labels: dict[DuplicateTier, QLabel] = {}
        self.accept_buttons: dict[DuplicateTier, QPushButton] = {}
        tiers = QGridLayout()
        tiers.setContentsMargins(6, 6, 6, 6)
        for row, tier in enumerate(TIERS):
            label = self.tier_labels[tier] = QLabel()
            label.setToolTip(f"{TIER_TITLE[tier]}: {TIER_HINT[tier]}")
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)   # cut, not widening the window
            button = self.accept_buttons[tier] = QPushButton("Accept all…")
            button.setToolTip(f"Keep the suggested keeper of every group and move every {TIER_WORD[tier]} copy "
                              "to the trash (asks first; can be undone)")
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.clicked.connect(lambda _=False, t=tier: self.accept_tier(t))
            tiers.addWidget(label, row, 0)
            tiers.addWidget(button, row, 1)
        tiers.setColumnStretch(0, 1)
        left = QWidget()
        left_lay = QVBoxLayout(left)
        left_lay.setContentsMargins(0, 0, 0, 0)
        left_lay.setSpacing(0)
        tier_box = QFrame()
        tier_box.setLayout(tiers)
        left_lay.addWidget(tier_box)
        left_lay.addWidget(self.queue, 1)
        # right: the group, or the compare view
        self.progress_label = QLabel("")
        f = QFont(self.progress_label.font())
        f.setPointSizeF(f.pointSizeF() * 1.3)
        f.setBold(True)
        self.progress_label.setFont(f)
        self.tier_label = QLabel("")
        self.bytes_label = QLabel("")
        self.warning_label = QLabel("")
        self.warning_label.setStyleSheet(f"color: {_WARN.name()};")
        self.warning_label.setWordWrap(True)
        head = QHBoxLayout()
        head.addWidget(self.progress_label)
        head.addSpacing(12)
        head.addWidget(self.tier_label)
        head.addStretch(1)
        head.addWidget(self.bytes_label)
        self.panel = _GroupPanel()
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(self.panel)
        self.scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.buttons: dict[str, QPushButton] = {}
        self._tips: dict[str, str] = {}
        bar = QHBoxLayout()
        specs = (("previous", "◀ Previous", "Previous group  (←)", self.previous_group),
                 ("skip", "Skip ▶", "Next group; decide later  (S or →)", self.next_group), ("", "", "", None),
                 ("keep", "Keep this  (K)", "The selected photo becomes the keeper of its group (remembered by content)",
                  self.keep_selected),
                 ("not_duplicate", "Not duplicates  (N)", "The selected copy is not a copy of the keeper (remembered)",
                  self.not_duplicate_selected),
                 ("compare", "Compare  (C)", "Side by side with zoom and pan linked", self.compare), ("", "", "", None),
                 ("trash", "Trash the copies  (Del)", "Move every photo of this group but the keeper to the trash "
                                                      "(can be undone)", self.trash_copies))
        for name, text, tip, run in specs:
            if not name:
                bar.addSpacing(10)
                continue
            b = self.buttons[name] = QPushButton(text)
            b.setToolTip(tip)
            self._tips[name] = tip
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.clicked.connect(lambda _=False, r=run: r())
            bar.addWidget(b)
        bar.addStretch(1)
        keys = QLabel("1–9 or Tab select · K keep · N not duplicates · Del trash the copies · S/→ skip · ← back · "
                      "C compare")
        keys.setEnabled(False)
        for label in (keys, self.tier_label):           # long texts are cut rather than widen the window
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.status_label = QLabel("")
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.group_page = QWidget()
        page = QVBoxLayout(self.group_page)
        page.setContentsMargins(8, 6, 8, 6)
        page.addLayout(head)
        page.addWidget(self.warning_label)
        page.addWidget(self.scroll, 1)
        page.addLayout(bar)
        self.compare_view = CompareView(self.io, self.photos, self.images, back_text="◀ Back to the group  (Esc)")
        self.right = QStackedWidget()
        self.right.addWidget(self.group_page)
        self.right.addWidget(self.compare_view)
        right = QWidget()
        right_lay = QVBoxLayout(right)
        right_lay.setContentsMargins(0, 0, 0, 0)
        right_lay.addWidget(self.right, 1)
        foot = QHBoxLayout()
        foot.setContentsMargins(8, 0, 8, 4)
        foot.addWidget(keys, 1)
        foot.addWidget(self.status_label)
        right_lay.addLayout(foot)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([300, 900])
        self.empty = EmptyStateWidget()
        self.empty.show_message(EMPTY_TITLE, EMPTY_BODY, can_add=False)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.splitter)
        self.stack.addWidget(self.empty)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.stack)

    # -- loading
    def set_catalog(self, catalog_id: int | None) -> None:
        if catalog_id != self.catalog_id:
            self.catalog_id = catalog_id
            self.is_loaded = self._had_groups = False
            self._hidden.clear()
            self._trash_jobs.clear()
            self._pictures.clear()
            self._current_id = self._selected = None
            self.loader.reset()
            self.model.set_snapshot(QueueSnapshot((), ()))
            self._show_group(None)
            self.close_compare()
        self.refresh()

    def refresh(self) -> None:
        """Read the groups again (on a worker), keeping the group shown."""
        self._refresh_timer.stop()
        self._generation += 1
        gen, cat, dups, hidden = self._generation, self.catalog_id, self.duplicates, frozenset(self._hidden)
        if cat is None:
            self._on_queue_loaded(gen, QueueSnapshot((), ()))
            return
        if not self.is_loaded:
            self.say("Reading the duplicate groups…")
        self._is_reading = True
        run_query(self.io, lambda: load_queue(dups, cat, hidden), lambda snap: self._on_queue_loaded(gen, snap),
                  lambda exc: self._on_read_failed(gen, exc), owner=self)

    def apply_changes(self, changes: PhotoChanges) -> None:
        """The change feed: groups, photos coming or going, re-analysed photos → read again (coalesced)."""
        if changes.catalog_id == self.catalog_id and (changes.aspects & _RELOAD_ASPECTS or not changes.is_itemised):
            if not changes.is_itemised or changes.aspects & {Aspect.ANALYSED, Aspect.REMOVED}:
                for pid in changes.photo_ids if changes.is_itemised else list(self._pictures):
                    self._pictures.pop(pid, None)
            self._refresh_timer.start()

    def trash_job_finished(self, job_id: int) -> None:
        """A trash job this review started ended (any state): its photos show again unless they are gone."""
        ids = self._trash_jobs.pop(job_id, None)
        if ids is not None:
            self._hidden -= ids
            self.refresh()

    def _on_read_failed(self, generation: int, exc: BaseException) -> None:
        if generation == self._generation:
            self._is_reading = False
            self._fail("Could not read the duplicate groups", exc)

    def _on_queue_loaded(self, generation: int, snapshot: QueueSnapshot) -> None:
        if generation != self._generation:
            return
        self._is_reading = False
        self._apply_snapshot(snapshot)

    def _apply_snapshot(self, snapshot: QueueSnapshot, *, is_read: bool = True) -> None:
        """Show ``snapshot`` (``is_read``: read by a worker — it tells which hidden photos are still
        there; else the queue filtered here), keeping the group shown if it is still there."""
        if is_read:
            self._hidden = (self._hidden - snapshot.hidden) | set(snapshot.present_hidden)
        extra = frozenset(self._hidden - snapshot.hidden)    # hidden since the worker started
        if extra:
            snapshot = dataclasses.replace(queue_of(snapshot.groups, extra), hidden=snapshot.hidden | extra)
        old_row = self.queue.currentIndex().row()
        old_ordinal = self.model.ordinal(old_row) if old_row >= 0 else 1
        self.model.set_snapshot(snapshot)
        self.is_loaded = True
        if self.status_label.text() == "Reading the duplicate groups…":
            self.say("")
        row = self.model.row_of(self._current_id)
        if row < 0 and self.model.group_count:        # it went: the one now at its place in the queue
            groups = [r for r in range(self.model.rowCount()) if self.model.group(r) is not None]
            row = groups[min(max(old_ordinal, 1), len(groups)) - 1]
        self._set_current_row(row)
        self._update_tiers()
        self.count_changed.emit(self.model.group_count)
        if self.model.group_count:
            self._had_groups = True
            self.stack.setCurrentWidget(self.splitter)
        else:
            done = self._had_groups
            self.empty.show_message(DONE_TITLE if done else EMPTY_TITLE, DONE_BODY if done else EMPTY_BODY, can_add=False)
            self.stack.setCurrentWidget(self.empty)
            self.close_compare()

    @property
    def is_empty(self) -> bool:
        return self.stack.currentWidget() is self.empty

    @property
    def is_busy(self) -> bool:
        """A decision or move is being written, or the groups are being read."""
        return self._is_writing or self._is_reading

    def _update_tiers(self) -> None:
        stats = {s.tier: s for s in self.model.stats}
        for tier in TIERS:
            s = stats.get(tier) or TierStats(tier, 0, 0, 0)
            self.tier_labels[tier].setText(f"<b>{TIER_TITLE[tier]}</b> · {copies_text(s.copies)}"
                                           f" · {format_bytes(s.reclaimable_bytes)}")
            self.tier_labels[tier].setEnabled(s.groups > 0)
            self.accept_buttons[tier].setEnabled(s.groups > 0)

    # -- the queue and the current group
    @property
    def current_group(self) -> StoredGroup | None:
        return self.model.group(self.model.row_of(self._current_id))

    @property
    def selected_photo_id(self) -> int | None:
        return self._selected

    @property
    def progress_text(self) -> str:
        return self.progress_label.text()

    def go_to_group(self, group_id: int) -> bool:
        row = self.model.row_of(group_id)
        if row >= 0:
            self._set_current_row(row)
        return row >= 0

    def next_group(self) -> None:
        self._step(1)

    def previous_group(self) -> None:
        self._step(-1)

    def _step(self, step: int) -> None:
        row = self.model.row_of(self._current_id)
        target = self.model.group_row_near(row + step, step) if row >= 0 else self.model.group_row_near(0)
        if target >= 0 and (target - row) * step > 0:
            self._set_current_row(target)
        elif row >= 0:
            self.say("This is the last group" if step > 0 else "This is the first group")

    def _set_current_row(self, row: int) -> None:
        sm = self.queue.selectionModel()
        if row < 0 or self.model.group(row) is None:
            self._show_group(None)
            return
        idx = self.model.index(row)
        if self.queue.currentIndex() != idx:
            sm.setCurrentIndex(idx, QItemSelectionModel.SelectionFlag.ClearAndSelect)   # → _on_queue_current_changed
        else:
            sm.select(idx, QItemSelectionModel.SelectionFlag.ClearAndSelect)
            self._show_group(self.model.group(row))
        self.queue.scrollTo(idx)

    def _on_queue_current_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        row = current.row()
        if current.isValid() and self.model.group(row) is None:      # a tier header: its first group
            self._set_current_row(self.model.group_row_near(row + 1, 1))
            return
        self._show_group(self.model.group(row) if current.isValid() else None)

    def _show_group(self, sg: StoredGroup | None) -> None:
        changed = (sg.id if sg else None) != self._current_id
        self._current_id = sg.id if sg else None
        if sg is None:
            self.progress_label.setText("")
            self.tier_label.setText("")
            self.bytes_label.setText("")
            self.warning_label.hide()
            self._update_actions()
            return
        if changed or self._selected not in sg.group.photo_ids:   # K and N act on a copy: both can, if one does
            self._selected = next((m.photo_id for m in sg.group.members if not self._is_same_content(sg, m.photo_id)),
                                  sg.group.members[0].photo_id)
        ordinal = self.model.ordinal(self.model.row_of(sg.id))
        self.progress_label.setText(f"Group {ordinal:,} of {self.model.group_count:,}")
        self.tier_label.setText(f"{TIER_TITLE[sg.tier]}: {TIER_HINT[sg.tier]}")
        self.bytes_label.setText(f"{sg.group.size} photos · {format_bytes(sg.reclaimable_bytes)} to free")
        warn = []
        if sg.group.has_unverified:
            warn.append("Some copies were matched by their look alone, not checked pixel by pixel: compare (C) before trashing.")
        if sg.group.is_suspicious:
            warn.append("This group looks unusual (many members or loose matches): look closely.")
        self.warning_label.setText("⚠ " + " ".join(warn) if warn else "")
        self.warning_label.setVisible(bool(warn))
        self._render_group()
        self._load_pictures(sg)
        if self.right.currentWidget() is self.compare_view and changed:
            self._show_compare(sg)
        self._update_actions()
        if changed:
            self.group_changed.emit(sg.id)

    def _render_group(self) -> None:
        sg = self.current_group
        if sg is not None:
            self.panel.show_group(sg, self._pictures, self._selected,
                                  self.panel.cell_px(self.scroll.viewport().width(), sg.group.size))

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if self.right.currentWidget() is self.group_page:
            self.queue.setFocus()
        self._render_group()

    def select_photo(self, photo_id: int) -> None:
        """Select a member of the current group (what K and N act on)."""
        sg = self.current_group
        if sg is not None and photo_id in sg.group.photo_ids:
            self._selected = photo_id
            self.panel.fill(self._pictures, photo_id)
            self.compare_view.set_selected(photo_id)
            self._update_actions()

    def _select_step(self, step: int) -> None:
        sg = self.current_group
        if sg is not None:
            ids = sg.group.photo_ids
            k = ids.index(self._selected) if self._selected in ids else 0
            self.select_photo(ids[(k + step) % len(ids)])

    def _update_actions(self) -> None:
        sg = self.current_group
        has = sg is not None
        is_copy = has and self._selected is not None and self._selected != sg.group.keeper_id  # type: ignore[union-attr]
        row = self.model.row_of(self._current_id)
        prev, nxt = self.model.group_row_near(row - 1, -1), self.model.group_row_near(row + 1, 1)
        self.buttons["previous"].setEnabled(has and 0 <= prev < row)
        self.buttons["skip"].setEnabled(has and nxt > row)
        same_bytes = is_copy and self._is_same_content(sg, self._selected)  # type: ignore[arg-type]
        self.buttons["keep"].setEnabled(is_copy)        # among byte copies, K chooses which file stays
        self.buttons["not_duplicate"].setEnabled(is_copy and not same_bytes)
        self.buttons["keep"].setToolTip(KEEP_FILE_TIP if same_bytes else self._tips["keep"])
        self.buttons["not_duplicate"].setToolTip(SAME_BYTES_TIP if same_bytes else self._tips["not_duplicate"])
        self.buttons["compare"].setEnabled(has)
        self.buttons["trash"].setEnabled(has)

    # -- pictures and details of the members (cached, the next group read ahead)
    def _load_pictures(self, sg: StoredGroup) -> None:
        row = self.model.row_of(sg.id)
        nxt = self.model.group(self.model.group_row_near(row + 1, 1)) if row >= 0 else None
        for group in (sg, nxt if nxt is not None and nxt.id != sg.id else None):
            if group is None:
                continue
            ids = tuple(pid for pid in group.group.photo_ids if pid not in self._pictures and pid not in self._loading)
            if not ids:
                continue
            self._loading.update(ids)
            photos, images, px, cat = self.photos, self.images, self.picture_px, self.catalog_id
            run_query(self.io, lambda i=ids: load_members(photos, images, i, px),
                      lambda res, c=cat: self._on_pictures_loaded(c, res),
                      lambda exc, i=ids: self._on_pictures_failed(i, exc), owner=self)

    def _on_pictures_loaded(self, catalog_id: int | None, found: tuple[MemberPicture, ...]) -> None:
        for mp in found:
            self._loading.discard(mp.photo_id)
            if catalog_id == self.catalog_id:
                self._pictures[mp.photo_id] = mp
                self._pictures.move_to_end(mp.photo_id)
        while len(self._pictures) > CACHE_PHOTOS:
            self._pictures.popitem(last=False)
        sg = self.current_group
        if sg is not None and any(mp.photo_id in sg.group.photo_ids for mp in found):
            self._render_group()

    def _on_pictures_failed(self, photo_ids: tuple[int, ...], exc: BaseException) -> None:
        self._loading.difference_update(photo_ids)
        self._fail("Could not read the photos of a group", exc)

    def member_picture(self, photo_id: int) -> MemberPicture | None:
        return self._pictures.get(photo_id)

    # -- queue thumbnails: the visible rows first
    def _queue_thumbnail(self, sg: StoredGroup) -> QPixmap | None:
        h = sg.group.keeper_content_hash
        return self.loader.pixmap(sg.group.keeper_id, self._thumb_px(), h) or self.loader.any_pixmap(sg.group.keeper_id)

    def _thumb_px(self) -> int:
        return round(QUEUE_THUMB_PX * max(1.0, self.queue.devicePixelRatioF()))

    def _on_visible_timer_timeout(self) -> None:
        px = self._thumb_px()
        page = max(1, self.queue.viewport().height() // QUEUE_ROW_PX)
        requests = []
        for row in self.queue.visible_rows(ahead=page):
            sg = self.model.group(row)
            if sg is not None and sg.group.keeper_content_hash:
                requests.append(ThumbnailRequest(sg.group.keeper_id, px, sg.group.keeper_content_hash, GRID_PX))
        self.loader.request(requests)

    # -- actions: one write at a time, in key order
    def _enqueue(self, start: Callable[[], None]) -> None:
        self._writes.append(start)
        if not self._is_writing:
            self._next_write()

    def _next_write(self) -> None:
        self._is_writing = bool(self._writes)
        if self._writes:
            self._writes.popleft()()

    def _written(self, snapshot: QueueSnapshot) -> None:
        self._generation += 1                    # a read started before this write is stale
        self._is_reading = False
        self._apply_snapshot(snapshot)

    def _write_failed(self, what: str, exc: BaseException) -> None:
        self._fail(what, exc)
        self._next_write()
        self.refresh()

    def keep_selected(self) -> None:
        """K: the selected photo becomes its group's keeper; on to the next group."""
        sg, pid = self.current_group, self._selected
        if sg is None or pid is None or self.catalog_id is None:
            return
        if pid == sg.group.keeper_id:
            self.say("This photo is already the keeper; select a copy (1–9, Tab or a click) to keep it instead")
            return
        forget = sg.paths[sg.group.keeper_id] if sg.group.is_keeper_forced else None
        self._decide(KEEP, (sg.paths[pid],), f"Keeping {display_name(os.path.basename(sg.paths[pid]))}", forget)
        self.next_group()

    def not_duplicate_selected(self) -> None:
        """N: the selected copy is not a copy of the keeper; stays on the group while copies are left."""
        sg, pid = self.current_group, self._selected
        if sg is None or pid is None or self.catalog_id is None:
            return
        if pid == sg.group.keeper_id:
            self.say("Select a copy (1–9, Tab or a click): N says it is not a copy of the keeper")
            return
        if self._is_same_content(sg, pid):
            self.say(SAME_BYTES_TIP)
            return
        self._decide(NOT_DUPLICATE, (sg.paths[sg.group.keeper_id], sg.paths[pid]),
                     f"{display_name(os.path.basename(sg.paths[pid]))} is not a duplicate")
        if len(sg.group.members) == 1:
            self.next_group()

    @staticmethod
    def _is_same_content(sg: StoredGroup, photo_id: int) -> bool:
        """The photo is a byte copy of the keeper: decisions are remembered by content, so K and N
        cannot tell the two apart."""
        return any(m.photo_id == photo_id and m.content_hash == sg.group.keeper_content_hash for m in sg.group.members)

    def _decide(self, action: str, paths: tuple[str, ...], done_text: str, forget_keep: str | None = None) -> None:
        cat, dups = self.catalog_id, self.duplicates
        assert cat is not None

        def start() -> None:
            hidden = frozenset(self._hidden)
            run_query(self.io, lambda: write_decision(dups, cat, action, paths, hidden, forget_keep=forget_keep),
                      lambda snap: self._on_decided(done_text, snap),
                      lambda exc: self._write_failed("Could not save the decision", exc), owner=self)
        self._enqueue(start)

    def _on_decided(self, done_text: str, snapshot: QueueSnapshot) -> None:
        self._written(snapshot)
        self.say(done_text)
        self._next_write()

    def trash_copies(self) -> None:
        """Delete: move every copy of this group (all but the keeper) to the trash; on to the next group."""
        sg = self.current_group
        if sg is None or self.catalog_id is None:
            return
        cat, dups, trash, jobs = self.catalog_id, self.duplicates, self.trash, self.jobs
        ids = frozenset(m.photo_id for m in sg.group.members)
        self._hidden |= ids                      # gone from the queue now (Delete again cannot move them twice);
        self._apply_snapshot(queue_of(self.model.groups), is_read=False)   # the next group takes its place

        def start() -> None:
            hidden = frozenset(self._hidden - ids)
            run_query(self.io, lambda: trash_group_copies(dups, trash, jobs, cat, sg, hidden),
                      lambda out: self._on_trash_started(out, ids),
                      lambda exc: self._on_trash_failed(ids, exc), owner=self)
        self._enqueue(start)

    def _on_trash_started(self, out: TrashOutcome, asked: frozenset[int]) -> None:
        self._hidden -= asked - set(out.photo_ids)           # what did not go (changed, not analysed) shows again
        if out.job_id:
            self._trash_jobs[out.job_id] = frozenset(out.photo_ids)
        self._written(out.snapshot)
        if out.note:
            self.say(out.note)
        else:
            n = len(out.photo_ids)
            self.say(f"Moving {n:,} cop{'y' if n == 1 else 'ies'} ({format_bytes(out.bytes)}) to the trash… "
                     "(Edit › Undo move to trash)")
            self.operation_started.emit(out.operation_id, out.job_id)
        self._next_write()

    def _on_trash_failed(self, asked: frozenset[int], exc: BaseException) -> None:
        self._hidden -= asked
        self._write_failed("Could not move the copies to the trash", exc)

    def accept_tier(self, tier: DuplicateTier | str) -> None:
        """Every copy of ``tier`` to the trash (each group keeps its keeper), after a confirmation
        giving the file count and bytes."""
        tier = DuplicateTier(tier)
        cat, dups, trash, jobs = self.catalog_id, self.duplicates, self.trash, self.jobs
        if cat is None:
            return

        def on_confirmed(plan: Plan) -> None:
            n = len(plan.photo_ids)
            desc = f"Duplicates: keep the suggested keepers, move {tier_copies_text(tier, n)} to the trash"
            hidden = frozenset(self._hidden)
            run_query(self.io, lambda: start_plan_trash(dups, trash, jobs, cat, plan, desc, hidden),
                      lambda out: self._on_trash_started(out, frozenset()),
                      lambda exc: self._write_failed("Could not move the copies to the trash", exc), owner=self)

        def start() -> None:
            run_query(self.io, lambda: trash.duplicates_plan(cat, tier),
                      lambda plan: self._on_tier_planned(tier, plan, on_confirmed),
                      lambda exc: self._write_failed("Could not plan the move to the trash", exc), owner=self)
        self._enqueue(start)

    def _on_tier_planned(self, tier: DuplicateTier, plan: Plan, on_confirmed: Callable[[Plan], None]) -> None:
        n = len(plan.photo_ids)
        if not n:
            self.say(f"No {tier_copies_text(tier, 2).split(' ', 1)[1]} left to move")
            self._next_write()
            return
        text = (f"Move {tier_copies_text(tier, n)} ({format_bytes(plan.bytes)}) to the trash?\n\n"
                f"Each group keeps its keeper ({plan.kept:,} photos), as shown in the review. "
                "You can undo this (Edit › Undo move to trash).")
        if not self.confirm(f"Accept all {TIER_TITLE[tier].lower()} suggestions", text):
            self.say("Nothing was moved")
            self._next_write()
            return
        on_confirmed(plan)                      # the write goes on; _on_trash_started ends it

    # -- compare
    def compare(self) -> None:
        """C: the group's photos side by side (the selected one included), zoom and pan linked; C again: back."""
        sg = self.current_group
        if sg is None:
            return
        if self.right.currentWidget() is self.compare_view:
            self.close_compare()
            return
        self._show_compare(sg)
        self.right.setCurrentWidget(self.compare_view)
        self.compare_view.setFocus()

    def _show_compare(self, sg: StoredGroup) -> None:
        ids = list(sg.group.photo_ids[:MAX_PANES])
        if self._selected is not None and self._selected not in ids:
            ids[-1] = self._selected
        photos = []
        for pid in ids:
            member = next((m for m in sg.group.members if m.photo_id == pid), None)
            name = display_name(os.path.basename(sg.paths.get(pid, "")))
            folder = display_name(os.path.basename(os.path.dirname(sg.paths.get(pid, ""))))
            how = "keep" if member is None else match_text(member)
            photos.append(ComparePhoto(pid, f"{name}  ·  {folder}/  ·  {how}", member is None))
        self.compare_view.show_photos(photos, self._selected)

    def close_compare(self) -> None:
        if self.right.currentWidget() is self.compare_view:
            self.right.setCurrentWidget(self.group_page)
            self.queue.setFocus()

    # -- keys
    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self.scroll.viewport() and event.type() == QEvent.Type.Resize:
            sg = self.current_group
            if sg is not None:
                self.panel.resize_cells(self.panel.cell_px(self.scroll.viewport().width(), sg.group.size))
        elif obj in (self.queue, self.compare_view):
            if event.type() == QEvent.Type.ShortcutOverride and self._key(event, run=False):  # type: ignore[arg-type]
                event.accept()          # ours, even if the window has a shortcut on that key (Delete, say)
                return True
            if event.type() == QEvent.Type.KeyPress and self._key(event):  # type: ignore[arg-type]
                return True
        return super().eventFilter(obj, event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if not self._key(event):
            super().keyPressEvent(event)

    def _key(self, event: QKeyEvent, *, run: bool = True) -> bool:
        """The review's keys: True if ``event`` is one (done when ``run``)."""
        if event.modifiers() & ~(Qt.KeyboardModifier.KeypadModifier | Qt.KeyboardModifier.ShiftModifier):
            return False
        key = event.key()
        in_compare = self.right.currentWidget() is self.compare_view
        todo: dict[int, Callable[[], Any]] = {
            Qt.Key.Key_K: self.keep_selected, Qt.Key.Key_N: self.not_duplicate_selected,
            Qt.Key.Key_Delete: self.trash_copies, Qt.Key.Key_Backspace: self.trash_copies,
            Qt.Key.Key_S: self.next_group, Qt.Key.Key_Right: self.next_group, Qt.Key.Key_Left: self.previous_group,
            Qt.Key.Key_C: self.compare, Qt.Key.Key_Tab: lambda: self._select_step(1),
            Qt.Key.Key_Backtab: lambda: self._select_step(-1),
        }
        if not in_compare:
            todo.update({Qt.Key.Key_Down: self.next_group, Qt.Key.Key_Up: self.previous_group,
                         Qt.Key.Key_Home: lambda: self._set_current_row(self.model.group_row_near(0)),
                         Qt.Key.Key_End: lambda: self._set_current_row(self.model.group_row_near(self.model.rowCount() - 1, -1))})
        sg = self.current_group
        if Qt.Key.Key_1 <= key <= Qt.Key.Key_9 and sg is not None and key - Qt.Key.Key_1 < sg.group.size:
            todo[key] = lambda: self.select_photo(sg.group.photo_ids[key - Qt.Key.Key_1])
        if key not in todo:
            return False
        if run:
            todo[key]()
        return True

    # -- messages
    def say(self, text: str) -> None:
        self.status_label.setText(text)

    def _fail(self, what: str, exc: BaseException) -> None:
        report_error(what, exc)
        self.say(f"{what}: {exc}" if str(exc) else what)
        self.error.emit(f"{what}: {exc}" if str(exc) else what)
