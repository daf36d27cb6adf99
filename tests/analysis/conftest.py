"""Fixtures for the Qt-free analysis tests (real photos are optional)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

PHOTOS = Path(__file__).resolve().parents[3] / "shared" / "photos"


@pytest.fixture(scope="session")
def photos_dir() -> Path:
    """``../shared/photos`` beside the repository; the test is skipped where it is absent."""
    override = os.environ.get("LUMINA_PHOTOS_DIR")
    root = Path(override) if override else PHOTOS
    if not root.is_dir():
        pytest.skip(f"real photo corpus not available at {root}")
    return root
