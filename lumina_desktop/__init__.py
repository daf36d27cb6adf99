"""Lumina Desktop: a photo manager for large libraries (version only; imports nothing heavy)."""
from __future__ import annotations

__version__ = "0.1.0"
APP_ID = "io.github.lumina_desktop.lumina"   # lower-case reverse DNS: desktop file, icons, metainfo
APP_NAME = "Lumina Desktop"
