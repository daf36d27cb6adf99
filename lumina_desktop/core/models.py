"""Domain values: frozen dataclasses and enums shared by every layer (pure Python, any thread)."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class ImageStatus(str, enum.Enum):
    """Lifecycle of a catalogued file; the SQL CHECK constraint mirrors this (tested)."""

    NEW = "new"          # found, not analysed yet
    OK = "ok"            # analysed
    ERROR = "error"      # analysis failed; see images.error
    MISSING = "missing"  # was catalogued, no longer on disk


@dataclass(frozen=True)
class Catalog:
    id: int
    name: str
    created_at: datetime
    folder_count: int = 0
    image_count: int = 0


@dataclass(frozen=True)
class CatalogFolder:
    id: int
    catalog_id: int
    path: str
    added_at: datetime
    last_scan_at: datetime | None = None
    image_count: int = 0
