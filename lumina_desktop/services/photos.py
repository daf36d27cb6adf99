"""PhotoQuery: what the window (and the CLI) read about photos — id lists, grid pages, one
photo's details, filter options.  Any non-GUI thread; every call takes a pooled connection."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from lumina_desktop.core.library import FilterOptions, PhotoDetails, PhotoFilter, PhotoSummary, SortOrder
from lumina_desktop.db import library


class PhotoQueries(Protocol):
    """The reads the grid, the details panel and the viewer use (a fake in widget tests)."""

    def ids(self, catalog_id: int, flt: PhotoFilter, order: SortOrder) -> tuple[int, ...]: ...
    def page(self, ids: Sequence[int]) -> dict[int, PhotoSummary]: ...
    def details(self, photo_id: int) -> PhotoDetails | None: ...
    def filter_options(self, catalog_id: int) -> FilterOptions: ...
    def paths(self, ids: Sequence[int]) -> tuple[str, ...]: ...
    def folder_ids_of(self, ids: Sequence[int]) -> tuple[int, ...]: ...


class PhotoQuery:
    """:class:`PhotoQueries` on the catalog database."""

    def __init__(self, db: Any) -> None:
        self._db = db

    def ids(self, catalog_id: int, flt: PhotoFilter = PhotoFilter(), order: SortOrder = SortOrder()) -> tuple[int, ...]:
        """The photos of ``catalog_id`` matching ``flt``, in ``order`` (one round trip)."""
        with self._db.connection() as conn:
            return library.list_photo_ids(conn, catalog_id, flt, order)

    def page(self, ids: Sequence[int]) -> dict[int, PhotoSummary]:
        """Grid rows of ``ids``, by id; photos no longer in the catalog are absent."""
        with self._db.connection() as conn:
            return library.fetch_summaries(conn, ids)

    def details(self, photo_id: int) -> PhotoDetails | None:
        with self._db.connection() as conn:
            return library.photo_details(conn, photo_id)

    def filter_options(self, catalog_id: int) -> FilterOptions:
        with self._db.connection() as conn:
            return library.filter_options(conn, catalog_id)

    def paths(self, ids: Sequence[int]) -> tuple[str, ...]:
        """Display paths of ``ids`` in that order (photos no longer catalogued are left out)."""
        with self._db.connection() as conn:
            found = library.photo_paths(conn, ids)
        return tuple(found[i] for i in ids if i in found)

    def folder_ids_of(self, ids: Sequence[int]) -> tuple[int, ...]:
        """The catalog folders holding ``ids`` (what a rescan of those photos scans)."""
        with self._db.connection() as conn:
            return library.folder_ids_of(conn, ids)
