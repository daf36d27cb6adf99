"""core.library: smart views, filters and what a grid cell shows (typed statuses and kinds)."""
from __future__ import annotations

from datetime import datetime

import pytest

from lumina_desktop.core.errors import LuminaError, NotFoundError, SmartViewUnavailable
from lumina_desktop.core.library import (
    SMART_VIEWS,
    PhotoFilter,
    PhotoFlag,
    PhotoSummary,
    SmartView,
    StatusFilter,
)
from lumina_desktop.core.media import MediaKind
from lumina_desktop.core.models import PhotoStatus


def test_smart_views_and_which_ones_filter() -> None:
    assert [v.value for v in SmartView] == ["all", "recent", "errors", "missing", "duplicates", "bursts"]
    assert SMART_VIEWS == PhotoFilter.filterable_views() == (
        SmartView.ALL, SmartView.RECENT, SmartView.ERRORS, SmartView.MISSING, SmartView.BURSTS)
    assert [v.is_filterable for v in SmartView] == [True, True, True, True, False, True]


@pytest.mark.parametrize("view, expected", [
    (SmartView.ALL, PhotoFilter()),
    (SmartView.RECENT, PhotoFilter(is_recent=True)),
    (SmartView.ERRORS, PhotoFilter(status=StatusFilter.ERRORS)),
    (SmartView.MISSING, PhotoFilter(status=StatusFilter.MISSING)),
    (SmartView.BURSTS, PhotoFilter(in_burst=True)),
])
def test_filterable_views(view: SmartView, expected: PhotoFilter) -> None:
    assert PhotoFilter.for_smart_view(view) == expected
    assert PhotoFilter.for_smart_view(view.value) == expected  # the plain name still works
    assert expected.smart_view is view
    narrowed = PhotoFilter(folder_id=3, text="x", status=StatusFilter.ERRORS).with_smart_view(view)
    assert narrowed.folder_id == 3 and narrowed.text == "x" and narrowed.smart_view is view


@pytest.mark.parametrize("view", [SmartView.DUPLICATES, "duplicates"])
def test_views_not_filterable_yet_raise_a_lumina_error(view: SmartView | str) -> None:
    with pytest.raises(SmartViewUnavailable, match="cannot filter photos yet") as err:
        PhotoFilter.for_smart_view(view)
    assert isinstance(err.value, LuminaError) and not isinstance(err.value, ValueError)
    assert err.value.view == SmartView(view)
    with pytest.raises(SmartViewUnavailable):
        PhotoFilter().with_smart_view(view)


def test_an_unknown_view_is_not_found() -> None:
    with pytest.raises(NotFoundError, match="no smart view named 'starred'"):
        PhotoFilter.for_smart_view("starred")


def test_filter_kind_is_typed() -> None:
    assert PhotoFilter(kind="raw").kind is MediaKind.RAW and PhotoFilter(kind="raw") == PhotoFilter(kind=MediaKind.RAW)
    assert PhotoFilter(status="errors").status is StatusFilter.ERRORS  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        PhotoFilter(kind="jpeg")  # type: ignore[arg-type]
    assert StatusFilter.ERRORS.status is PhotoStatus.ERROR and StatusFilter.ALL.status is None


def summary(status: PhotoStatus | str, kind: MediaKind | str | None, rating: int | None = None) -> PhotoSummary:
    return PhotoSummary(1, "a.jpg", "/a.jpg", None, kind, status, rating, None, (), None, None,  # type: ignore[arg-type]
                        datetime(2024, 1, 1), None)


@pytest.mark.parametrize("status, kind, flags", [
    (PhotoStatus.OK, MediaKind.IMAGE, PhotoFlag.NONE),
    (PhotoStatus.ERROR, None, PhotoFlag.ERROR),
    (PhotoStatus.MISSING, MediaKind.RAW, PhotoFlag.MISSING | PhotoFlag.RAW),
    (PhotoStatus.NEW, MediaKind.VIDEO, PhotoFlag.NOT_ANALYSED | PhotoFlag.VIDEO),
    ("missing", "video", PhotoFlag.MISSING | PhotoFlag.VIDEO),  # stored strings compare equal
])
def test_flags_from_typed_status_and_kind(status: PhotoStatus | str, kind: MediaKind | str | None,
                                          flags: PhotoFlag) -> None:
    assert summary(status, kind).flags == flags
    assert summary(status, kind, rating=-1).flags == flags | PhotoFlag.REJECTED


def test_filters_and_orders_name_the_changes_that_can_move_photos() -> None:
    from lumina_desktop.core.changes import Aspect
    from lumina_desktop.core.library import SortKey, SortOrder

    assert PhotoFilter().key_aspects == frozenset()
    assert Aspect.BURST in PhotoFilter(in_burst=True).key_aspects
    assert Aspect.QUALITY in PhotoFilter(min_quality=70).key_aspects
    assert Aspect.QUALITY in SortOrder(SortKey.QUALITY).key_aspects
    assert Aspect.QUALITY not in SortOrder(SortKey.CAPTURE_TIME).key_aspects
    assert SortOrder(SortKey.FILE_NAME).key_aspects == frozenset()
