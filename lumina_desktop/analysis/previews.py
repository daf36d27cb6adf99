"""Previews made on demand, for catalogs scanned with ``previews = "on_demand"``.

Runs on a worker thread (details panel, viewer).  The preview is made from the original
file exactly as a scan would make it (same decode, orientation, colour, band), and written
into the thumbnail cache under the photo's content hash — but only if the file still has
that content: a file edited since the scan gets no preview under the old hash (the next
rescan re-analyses it).
"""
from __future__ import annotations

import os
from pathlib import Path

from lumina_desktop.analysis.ingest import PathArg, analyse_file
from lumina_desktop.analysis.thumbnails import PREVIEW_PX, atomic_write, thumbnail_relpath
from lumina_desktop.core.media import MediaError


def ensure_preview(source: PathArg, content_hash: str, root: Path, size: int = PREVIEW_PX
                   ) -> Path | None:
    """The cached ``size`` thumbnail of ``source``, made now if missing; None if it cannot be.

    None means: the file is gone, unreadable, undecodable, or no longer has ``content_hash``.
    """
    target = root / thumbnail_relpath(content_hash, size)
    if target.exists():
        return target
    if not os.path.exists(source):
        return None
    try:
        result = analyse_file(source, thumb_sizes=(size,))
    except MediaError:
        return None
    data = result.thumbnails.get(size)
    if data is None or result.identity.content_hash != content_hash:
        return None
    atomic_write(target, data, durable=False)
    return target


__all__ = ["ensure_preview"]
