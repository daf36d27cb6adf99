"""The culling keys, one mapping for the grid, the viewer and the review views (GUI thread).

P pick, X reject, U unflag, 0–5 stars (0 clears them) — as in Lightroom and darktable.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent

from lumina_desktop.core.errors import LuminaError
from lumina_desktop.services.describe import not_flagged_yet

PICK, REJECT, UNFLAG, STARS = "pick", "reject", "unflag", "stars"
_KEYS = {Qt.Key.Key_P: (PICK, None), Qt.Key.Key_X: (REJECT, None), Qt.Key.Key_U: (UNFLAG, None)}
_DIGITS = {getattr(Qt.Key, f"Key_{n}"): n for n in range(6)}


def culling_action(event: QKeyEvent) -> tuple[str, int | None] | None:
    """(action, stars) for a culling key pressed without Ctrl/Alt/Meta, else None."""
    mods = event.modifiers() & ~(Qt.KeyboardModifier.KeypadModifier | Qt.KeyboardModifier.ShiftModifier)
    if mods != Qt.KeyboardModifier.NoModifier:
        return None
    key = Qt.Key(event.key())
    if key in _KEYS:
        return _KEYS[key]
    if key in _DIGITS:
        return STARS, _DIGITS[key]
    return None


def apply_culling(culling: object, catalog_id: int, photo_ids: tuple[int, ...], action: str,
                  stars: int | None) -> None:
    """Worker: write one culling action for the photos (the change feed then refreshes views).
    ``culling`` is the bursts service (``decide_photo``, ``set_stars``).

    Flags are kept with a photo's content, so a photo the scan has not read yet cannot take one:
    the others are flagged, then one :class:`LuminaError` says how many were not (it was silent).
    """
    unread = 0
    for pid in photo_ids:
        if action == STARS:
            changed = culling.set_stars(catalog_id, pid, stars or None)  # type: ignore[attr-defined]
        else:
            changed = culling.decide_photo(catalog_id, pid, None if action == UNFLAG else action)  # type: ignore[attr-defined]
        clears = action == UNFLAG or (action == STARS and not stars)
        unread += not changed and not clears
    if unread:
        raise LuminaError(not_flagged_yet(unread))
