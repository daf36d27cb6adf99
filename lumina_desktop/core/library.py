"""Browsing the library: what to show (filter, sort) and what a photo looks like to the UI.

Pure Python values, any thread.  ``db.library`` turns a :class:`PhotoFilter` + :class:`SortOrder`
into SQL and returns ordered id lists, :class:`PhotoSummary` pages (the grid) and
:class:`PhotoDetails` (the details panel and the viewer).
"""
from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from lumina_desktop.core.changes import Aspect
from lumina_desktop.core.errors import NotFoundError, SmartViewUnavailable
from lumina_desktop.core.media import MediaKind
from lumina_desktop.core.models import CameraIdentity, Catalog, CatalogFolder, PhotoStatus
from lumina_desktop.core.paths import path_from_db
from lumina_desktop.core.quality import QualityScore

RECENT_DAYS = 7


class SmartView(enum.StrEnum):
    """The sidebar's smart views.  ``duplicates`` comes with the review grid: a
    :class:`PhotoFilter` cannot express it yet (:attr:`is_filterable`)."""

    ALL = "all"
    RECENT = "recent"          # added in the last RECENT_DAYS days (or by the last scan that added any)
    ERRORS = "errors"          # status 'error'
    MISSING = "missing"        # status 'missing'
    DUPLICATES = "duplicates"
    BURSTS = "bursts"

    @property
    def is_filterable(self) -> bool:
        """Whether :meth:`PhotoFilter.for_smart_view` can express this view."""
        return self in SMART_VIEWS


SMART_VIEWS: tuple[SmartView, ...] = (SmartView.ALL, SmartView.RECENT, SmartView.ERRORS, SmartView.MISSING,
                                      SmartView.BURSTS)
"""The views :meth:`PhotoFilter.for_smart_view` accepts (the browser's ``set_smart_view``), in menu order."""


class SortKey(enum.StrEnum):
    """Grid orders; each has a (catalog_id, <column>, id) index (``added_at`` one is DESC)."""

    CAPTURE_TIME = "capture_time"
    FILE_NAME = "file_name"
    FILE_SIZE = "size_bytes"
    ADDED = "added_at"
    QUALITY = "quality"

    @property
    def label(self) -> str:
        return _SORT_LABELS[self]


_SORT_LABELS = {SortKey.CAPTURE_TIME: "Date taken", SortKey.FILE_NAME: "File name",
                SortKey.FILE_SIZE: "File size", SortKey.ADDED: "Date added", SortKey.QUALITY: "Quality"}


class StatusFilter(enum.StrEnum):
    ALL = "all"
    ERRORS = "errors"      # status = 'error'
    MISSING = "missing"    # status = 'missing'

    @property
    def status(self) -> PhotoStatus | None:
        """The one status this keeps (None: every status)."""
        return _STATUS_OF[self]


_STATUS_OF = {StatusFilter.ALL: None, StatusFilter.ERRORS: PhotoStatus.ERROR, StatusFilter.MISSING: PhotoStatus.MISSING}


class PhotoFlag(enum.IntFlag):
    """Small facts the grid paints as badges (one int per photo)."""

    NONE = 0
    ERROR = 1
    MISSING = 2
    RAW = 4
    VIDEO = 8
    HAS_WARNINGS = 16
    REJECTED = 32
    NOT_ANALYSED = 64      # status 'new': found by a scan that has not reached it yet
    PICKED = 128           # the user picked it (or chose it as its burst's best)


@dataclass(frozen=True, slots=True)
class SortOrder:
    key: SortKey = SortKey.CAPTURE_TIME
    is_descending: bool = False

    @property
    def depends_on_analysis(self) -> bool:
        """Whether re-analysing a photo can move it (its capture time or size changed)."""
        return self.key in (SortKey.CAPTURE_TIME, SortKey.FILE_SIZE)

    @property
    def key_aspects(self) -> frozenset[Aspect]:
        """What, changing about a photo, can move it in this order."""
        if self.key is SortKey.QUALITY:
            return frozenset({Aspect.QUALITY, Aspect.ANALYSED})
        return frozenset({Aspect.ANALYSED}) if self.depends_on_analysis else frozenset()


@dataclass(frozen=True, slots=True)
class PhotoFilter:
    """Which photos of a catalog to show.  Every field narrows; the default shows everything.

    ``date_from``/``date_to`` are inclusive calendar days of ``capture_time`` (photos without a
    date drop out when either is set).  ``kind`` is a :class:`MediaKind` (its value, 'image',
    'raw' or 'video', is taken too).  ``text`` matches anywhere in the file name, case-insensitively.  ``is_recent``
    keeps photos added in the last :data:`RECENT_DAYS` days or, when that is empty, by the last
    scan that added any (see ``db.library``).
    """

    folder_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    camera_make: str | None = None
    camera_model: str | None = None
    kind: MediaKind | None = None
    status: StatusFilter = StatusFilter.ALL
    text: str = ""
    tag_terms: tuple[str, ...] = ()   # the tags ``text`` means (synonyms, the hierarchy): set by the service
    is_recent: bool = False
    in_burst: bool = False           # only photos in a burst (the Bursts view)
    min_quality: float | None = None  # only photos scored at least this (0–100); unscored drop out
    max_quality: float | None = None  # only photos scored below this
    flag: str | None = None           # the user's flag: "pick" (pick or best), "reject", "unflagged"
    min_stars: int | None = None      # only photos the user gave at least this many stars
    stack_bursts: bool = False        # a burst shows as one cell: its best frame (a stack)
    burst_id: int | None = None       # only the frames of this burst (an opened stack)

    def __post_init__(self) -> None:
        if self.kind is not None and not isinstance(self.kind, MediaKind):
            object.__setattr__(self, "kind", MediaKind(self.kind))
        if not isinstance(self.status, StatusFilter):
            object.__setattr__(self, "status", StatusFilter(self.status))

    @staticmethod
    def filterable_views() -> tuple[SmartView, ...]:
        """The smart views a filter can express (:data:`SMART_VIEWS`)."""
        return SMART_VIEWS

    @staticmethod
    def for_smart_view(view: SmartView | str) -> PhotoFilter:
        """The filter of a smart view (a :class:`SmartView` or its value, e.g. 'recent').

        :class:`SmartViewUnavailable` for a view filters cannot express yet (duplicates, bursts);
        :class:`NotFoundError` for a name that is no smart view.
        """
        try:
            view = SmartView(view)
        except ValueError:
            raise NotFoundError(f"no smart view named {view!r}; the views are {', '.join(SmartView)}") from None
        if view is SmartView.RECENT:
            return PhotoFilter(is_recent=True)
        if view is SmartView.ERRORS:
            return PhotoFilter(status=StatusFilter.ERRORS)
        if view is SmartView.MISSING:
            return PhotoFilter(status=StatusFilter.MISSING)
        if view is SmartView.BURSTS:
            return PhotoFilter(in_burst=True)
        if view is SmartView.ALL:
            return PhotoFilter()
        raise SmartViewUnavailable(view, f"the smart view {view.value!r} cannot filter photos yet; "
                                         f"filterable views: {', '.join(SMART_VIEWS)}")

    def with_smart_view(self, view: SmartView | str) -> PhotoFilter:
        """This filter with the smart-view part (recent, status) replaced (raises as
        :meth:`for_smart_view`)."""
        only = PhotoFilter.for_smart_view(view)
        return replace(self, is_recent=only.is_recent, status=only.status, in_burst=only.in_burst)

    @property
    def smart_view(self) -> SmartView:
        """The smart view this filter's smart-view part (recent, status) amounts to."""
        if self.in_burst:
            return SmartView.BURSTS
        if self.is_recent:
            return SmartView.RECENT
        if self.status is StatusFilter.ERRORS:
            return SmartView.ERRORS
        if self.status is StatusFilter.MISSING:
            return SmartView.MISSING
        return SmartView.ALL

    @property
    def is_empty(self) -> bool:
        return self == PhotoFilter()

    @property
    def depends_on_analysis(self) -> bool:
        """Whether re-analysing a photo can change whether it matches (its date, camera, kind or
        status); the folder, the name and "recently added" do not change on analysis."""
        return (self.date_from is not None or self.date_to is not None or self.camera_make is not None
                or self.camera_model is not None or self.kind is not None or self.status is not StatusFilter.ALL)

    @property
    def key_aspects(self) -> frozenset[Aspect]:
        """What, changing about a photo, can make it join or leave this filter."""
        out = {Aspect.ANALYSED} if self.depends_on_analysis else set()
        if self.in_burst:
            out |= {Aspect.BURST, Aspect.ANALYSED}
        if self.min_quality is not None or self.max_quality is not None:
            out |= {Aspect.QUALITY, Aspect.ANALYSED}
        if self.flag is not None or self.min_stars is not None:
            out |= {Aspect.FLAGS, Aspect.BURST}
        if self.stack_bursts or self.burst_id is not None:
            out |= {Aspect.BURST, Aspect.FLAGS}       # a new best changes which frame tops a stack
        return frozenset(out)


@dataclass(frozen=True, slots=True)
class PhotoSummary:
    """One grid cell's worth of a photo (pages of these fill the grid's cache)."""

    id: int
    file_name: str
    path: str
    folder_id: int | None
    kind: MediaKind | None
    status: PhotoStatus
    rating: int | None
    content_hash: str | None
    thumb_sizes: tuple[int, ...]
    width: int | None
    height: int | None
    capture_time: datetime | None
    size_bytes: int | None
    has_warnings: bool = False
    quality_score: float | None = None
    burst_id: int | None = None
    is_burst_best: bool = False        # the best of its burst (the user's pick, else the detector's)
    decision: str | None = None        # the user's flag: best, pick, reject
    stars: int | None = None           # the user's stars, 0–5
    burst_size: int | None = None      # frames in its burst (a stack's count)
    duplicate_group_id: int | None = None

    @property
    def flags(self) -> PhotoFlag:
        f = PhotoFlag.NONE
        if self.status == PhotoStatus.ERROR:
            f |= PhotoFlag.ERROR
        elif self.status == PhotoStatus.MISSING:
            f |= PhotoFlag.MISSING
        elif self.status == PhotoStatus.NEW:
            f |= PhotoFlag.NOT_ANALYSED
        if self.kind == MediaKind.RAW:
            f |= PhotoFlag.RAW
        elif self.kind == MediaKind.VIDEO:
            f |= PhotoFlag.VIDEO
        if self.has_warnings:
            f |= PhotoFlag.HAS_WARNINGS
        if self.decision == "reject" or (self.decision is None and self.rating is not None and self.rating < 0):
            f |= PhotoFlag.REJECTED
        elif self.decision in ("pick", "best"):
            f |= PhotoFlag.PICKED
        return f

    @property
    def shown_stars(self) -> int | None:
        """The stars the grid shows: the user's, else the file's own rating."""
        return self.stars if self.stars is not None else (self.rating if self.rating and self.rating > 0 else None)

    def thumb_px_for(self, wanted_px: int) -> int | None:
        """The stored thumbnail size to read for a cell of ``wanted_px`` (None: there is none)."""
        if not self.thumb_sizes or not self.content_hash:
            return None
        bigger = [s for s in self.thumb_sizes if s >= wanted_px]
        return min(bigger) if bigger else max(self.thumb_sizes)


@dataclass(frozen=True, slots=True)
class PhotoDetails:
    """Everything the catalog knows about one photo (details panel, viewer)."""

    id: int
    catalog_id: int
    folder_id: int | None
    folder_path: str | None
    path: str
    path_bytes: bytes | None
    file_name: str
    size_bytes: int | None
    mtime_ns: int | None
    content_hash: str | None
    file_type: str | None
    kind: MediaKind | None
    format: str | None
    width: int | None
    height: int | None
    capture_time: datetime | None
    capture_offset_min: int | None
    date_source: str | None
    date_confidence: str | None
    camera_make: str | None
    camera_model: str | None
    lens: str | None
    iso: int | None
    aperture: float | None
    shutter_s: float | None
    focal_length_mm: float | None
    gps_lat: float | None
    gps_lon: float | None
    gps_alt: float | None
    orientation: int | None
    rating: int | None
    keywords: tuple[str, ...]
    duration_s: float | None
    status: PhotoStatus
    error: str | None
    error_reason: str | None
    warnings: tuple[str, ...]
    thumb_sizes: tuple[int, ...]
    added_at: datetime
    analysed_at: datetime | None
    # filled by the photo service from the quality and bursts results, worded for people
    quality: QualityScore | None = None
    quality_reasons: tuple[str, ...] = ()
    burst_text: str | None = None      # "frame 3 of 7 · best of its burst: sharpest of 7; …"
    decision: str | None = None        # the user's: best, pick, reject
    stars: int | None = None           # the user's stars, 0–5

    @property
    def os_path(self) -> str:
        """The path to open (exact bytes preserved through surrogateescape)."""
        return path_from_db(self.path, self.path_bytes)


@dataclass(frozen=True, slots=True)
class FolderOption:
    id: int
    path: str
    photo_count: int


@dataclass(frozen=True, slots=True)
class CameraOption:
    make: str | None
    model: str | None
    photo_count: int

    @property
    def label(self) -> str:
        return CameraIdentity(self.make, self.model).label


@dataclass(frozen=True, slots=True)
class FilterOptions:
    """What the filter bar can offer for a catalog."""

    folders: tuple[FolderOption, ...] = ()
    cameras: tuple[CameraOption, ...] = ()
    kinds: tuple[MediaKind, ...] = ()
    first_date: date | None = None
    last_date: date | None = None
    total: int = 0


@dataclass(frozen=True)
class LibraryState:
    """The catalogs, the one open, its folders and its photos by status: what the sidebar shows."""

    catalogs: tuple[Catalog, ...]
    current: Catalog | None
    folders: tuple[CatalogFolder, ...] = ()
    status_counts: Mapping[PhotoStatus, int] = field(default_factory=dict)
    bursts: int = 0
    photos_in_bursts: int = 0

    @property
    def photo_count(self) -> int:
        return sum(self.status_counts.values())

    @property
    def is_empty(self) -> bool:
        """No folder and no photo: the window shows "add a folder" instead of a grid."""
        return not self.folders and self.photo_count == 0
