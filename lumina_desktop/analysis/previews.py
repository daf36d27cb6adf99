"""Previews made on demand, for photos whose preview was not made by the scan.

Runs on a worker thread (details panel, viewer).  The preview is made from the original
file exactly as a scan would make it (same decode, orientation, colour, band) and returned
as JPEG bytes (the caller stores it under the photo's content hash) — but only if the file
still has that content: a file edited since the scan gets no preview under the old hash (the
next rescan re-analyses it).  The file is hashed before anything is decoded (one too big to
hold in memory: while it is read), and a file that could not give a preview is remembered (by path, size and mtime), so asking again costs a
``stat``, not another read.
"""
from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict

from lumina_desktop.analysis import hashing
from lumina_desktop.analysis.memory import MemoryGate
from lumina_desktop.analysis.ingest import MAX_FILE_BYTES, STREAM_FILE_BYTES, analyse_bytes, analyse_file, open_regular
from lumina_desktop.analysis.thumbnails import PREVIEW_PX
from lumina_desktop.core.media import MediaError

log = logging.getLogger(__name__)
_MAX_REMEMBERED = 4096
_failed: OrderedDict[tuple[str, int, int, str], None] = OrderedDict()
_failed_lock = threading.Lock()


def _remember(key: tuple[str, int, int, str]) -> None:
    with _failed_lock:
        _failed[key] = None
        while len(_failed) > _MAX_REMEMBERED:
            _failed.popitem(last=False)


def make_preview(source: str, content_hash: str, size: int = PREVIEW_PX, *,
                 gate: MemoryGate | None = None) -> bytes | None:
    """The ``size`` preview of ``source`` as JPEG bytes; None if it cannot be made.

    None means: the file is gone, unreadable, undecodable or no longer has ``content_hash``.
    Never raises for a property of the file.  ``gate``: the decode waits for room in this
    memory budget (a job's; see ``analysis.memory.MemoryGate``).
    """
    try:
        st = os.stat(source)
    except OSError:
        return None
    key = (source, st.st_size, st.st_mtime_ns, content_hash)
    with _failed_lock:
        if key in _failed:
            return None
    if st.st_size > MAX_FILE_BYTES:
        return None
    try:
        if st.st_size > STREAM_FILE_BYTES:  # too big to hold: read in pieces, as a scan does
            res = analyse_file(source, thumb_sizes=(size,), gate=gate)
            if res.identity.content_hash != content_hash:
                _remember(key)
                return None
            return res.thumbnails[size]
        with open_regular(source, source) as fh:  # never blocks on a FIFO; regular files only
            data = fh.read()
        if hashing.content_hash(data) != content_hash:  # edited since the scan: not under the old hash
            _remember(key)
            return None
        return analyse_bytes(data, name=source, mtime_s=st.st_mtime, thumb_sizes=(size,), gate=gate).thumbnails[size]
    except (MediaError, OSError, KeyError) as exc:
        log.info("no preview for %s: %s", source, exc)
        _remember(key)
        return None


__all__ = ["make_preview"]
