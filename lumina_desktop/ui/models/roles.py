"""Item data roles of the photo models, defined once (GUI thread)."""
from __future__ import annotations

import enum

from PySide6.QtCore import Qt


class PhotoRole(enum.IntEnum):
    """Custom roles, starting at ``Qt.UserRole + 1``."""

    PhotoId = Qt.ItemDataRole.UserRole + 1      # int
    Thumbnail = enum.auto()                      # the composed cell: QImage (in CellMemory) or QPixmap, or None (placeholder)
    Rating = enum.auto()                         # int | None (-1 rejected, 0–5)
    Flags = enum.auto()                          # int (core.library.PhotoFlag)
    QualityScore = enum.auto()                   # float | None
    BurstId = enum.auto()                        # int | None
    DuplicateGroupId = enum.auto()               # int | None
    Status = enum.auto()                         # str: 'new', 'ok', 'error', 'missing'
    Kind = enum.auto()                           # str | None: 'image', 'raw', 'video'
    Summary = enum.auto()                        # core.library.PhotoSummary | None (not loaded yet)
