"""apply_culling: a culling key on photos; photos the scan has not read are reported, not dropped."""
from __future__ import annotations

import pytest

from lumina_desktop.core.errors import LuminaError
from lumina_desktop.ui.culling_keys import PICK, STARS, UNFLAG, apply_culling


class Culling:
    """The bursts service's two calls (a fake at the service boundary): photos in ``unread`` have
    no content yet, so nothing changes for them, as in db.bursts."""

    def __init__(self, unread: set[int]) -> None:
        self.unread = unread
        self.calls: list[tuple[str, int, object]] = []

    def decide_photo(self, catalog_id: int, photo_id: int, decision: str | None) -> list[int]:
        self.calls.append(("decide", photo_id, decision))
        return [] if photo_id in self.unread else [photo_id]

    def set_stars(self, catalog_id: int, photo_id: int, stars: int | None) -> list[int]:
        self.calls.append(("stars", photo_id, stars))
        return [] if photo_id in self.unread else [photo_id]


def test_photos_not_read_yet_are_reported_and_the_others_flagged() -> None:
    culling = Culling(unread={2, 3})
    with pytest.raises(LuminaError, match=r"^2 photos not flagged: the scan has not read them yet"):
        apply_culling(culling, 1, (1, 2, 3, 4), PICK, None)
    assert culling.calls == [("decide", pid, "pick") for pid in (1, 2, 3, 4)]     # the others are flagged
    with pytest.raises(LuminaError, match=r"^1 photo not flagged: .* read it yet"):
        apply_culling(culling, 1, (2,), STARS, 4)
    apply_culling(culling, 1, (2, 3), UNFLAG, None)      # clearing a photo that has nothing: no message
    apply_culling(culling, 1, (2,), STARS, 0)
    apply_culling(Culling(unread=set()), 1, (1, 2), PICK, None)
