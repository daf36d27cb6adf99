"""PhotoQuery: what the window (and the CLI) read about photos — id lists, grid pages, one
photo's details, filter options.  Any non-GUI thread; every call takes a pooled connection."""
from __future__ import annotations

import dataclasses

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from lumina_desktop.core.library import FilterOptions, PhotoDetails, PhotoFilter, PhotoSummary, SortOrder
from lumina_desktop.db import library
from lumina_desktop.services.tags import TagsService


class PhotoQueries(Protocol):
    """The reads the grid, the details panel and the viewer use (a fake in widget tests)."""

    def ids(self, catalog_id: int, flt: PhotoFilter, order: SortOrder) -> tuple[int, ...]: ...
    def id_array(self, catalog_id: int, flt: PhotoFilter, order: SortOrder, *,
                 limit: int | None = None) -> Sequence[int]: ...
    def first_ids_and_count(self, catalog_id: int, flt: PhotoFilter, order: SortOrder,
                            limit: int) -> tuple[Sequence[int], int]: ...
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
        """The photos of ``catalog_id`` matching ``flt``, in ``order``, as ints."""
        return tuple(self.id_array(catalog_id, flt, order).tolist())

    def id_array(self, catalog_id: int, flt: PhotoFilter = PhotoFilter(), order: SortOrder = SortOrder(), *,
                 limit: int | None = None) -> np.ndarray:
        """The photos of ``catalog_id`` matching ``flt``, in ``order`` (the first ``limit``), as an
        int64 array read by index walks.  Search text matches file names and the tags it means
        (synonyms and the hierarchy)."""
        flt = self._with_tag_terms(flt)
        with self._db.connection() as conn:
            return library.photo_id_array(conn, catalog_id, flt, order, limit=limit)

    @staticmethod
    def _with_tag_terms(flt: PhotoFilter) -> PhotoFilter:
        if flt.text.strip() and not flt.tag_terms:
            return dataclasses.replace(flt, tag_terms=tuple(sorted(TagsService.search_terms(flt.text))))
        return flt

    def first_ids_and_count(self, catalog_id: int, flt: PhotoFilter, order: SortOrder,
                            limit: int) -> tuple[np.ndarray, int]:
        """The first ``limit`` matching ids in ``order`` and how many match in all (one connection,
        the filter's lookups done once)."""
        flt = self._with_tag_terms(flt)
        with self._db.connection() as conn:
            return library.first_ids_and_count(conn, catalog_id, flt, order, limit)

    def page(self, ids: Sequence[int]) -> dict[int, PhotoSummary]:
        """Grid rows of ``ids``, by id; photos no longer in the catalog are absent."""
        with self._db.connection() as conn:
            return library.fetch_summaries(conn, ids)

    def details(self, photo_id: int) -> PhotoDetails | None:
        """The photo's details, with its quality score and burst standing in words."""
        from lumina_desktop.db import bursts as bursts_db
        from lumina_desktop.db import quality as quality_db
        from lumina_desktop.services.culling import member_reason
        from lumina_desktop.services.describe import quality_reason_texts

        with self._db.connection() as conn:
            d = library.photo_details(conn, photo_id)
            if d is None:
                return None
            q = quality_db.quality_of(conn, photo_id)
            bid = bursts_db.burst_of(conn, photo_id)
            burst = bursts_db.list_bursts(conn, d.catalog_id, burst_ids=[bid]) if bid is not None else []
            decision, stars = bursts_db.decision_of(conn, d.catalog_id, d.content_hash) if d.content_hash else (None, None)
        burst_text = None
        if burst:
            b = burst[0]
            m = next((m for m in b.members if m.photo_id == photo_id), None)
            if m is not None:
                head = f"frame {m.position} of {b.size}"
                if m.is_best:
                    head += " · the best of its burst"
                elif m.rank is not None:
                    head += f" · rank {m.rank}"
                burst_text = f"{head}: {member_reason(b, m)}"
        return dataclasses.replace(
            d, quality=q.score if q else None,
            quality_reasons=tuple(quality_reason_texts(q.score.reasons, q.measures)) if q else (),
            burst_text=burst_text, decision=decision, stars=stars)

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
