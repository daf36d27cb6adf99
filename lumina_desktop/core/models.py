"""Domain values: frozen dataclasses and enums shared by every layer (pure Python, any thread)."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class PhotoStatus(enum.StrEnum):
    """Lifecycle of a catalogued file (stored by value); the SQL CHECK constraint mirrors this (tested)."""

    NEW = "new"          # found, not analysed yet
    OK = "ok"            # analysed
    ERROR = "error"      # analysis failed; see photos.error
    MISSING = "missing"  # was catalogued, no longer on disk


@dataclass(frozen=True)
class Catalog:
    id: int
    name: str
    created_at: datetime
    folder_count: int = 0
    photo_count: int = 0


@dataclass(frozen=True)
class CatalogFolder:
    id: int
    catalog_id: int
    path: str
    added_at: datetime
    last_scan_at: datetime | None = None
    photo_count: int = 0


@dataclass(frozen=True, slots=True)
class CameraIdentity:
    """Which camera took a photo, as its metadata says: make, model and, when the file names it,
    the body's serial number (two bodies of one model are two cameras)."""

    make: str | None = None
    model: str | None = None
    body_serial: str | None = None

    @property
    def is_known(self) -> bool:
        """Whether the metadata named a camera at all (a burst needs one)."""
        return any(p and p.strip() for p in (self.make, self.model, self.body_serial))

    @property
    def label(self) -> str:
        """'Canon EOS R5', 'NIKON D750 #3021455': model with the make when the model lacks it."""
        make, model = (self.make or "").strip(), (self.model or "").strip()
        name = model if make and model.lower().startswith(make.split()[0].lower()) else " ".join(
            p for p in (make, model) if p)
        if self.body_serial:
            name = f"{name} #{self.body_serial}".strip()
        return name or "Unknown camera"
