"""File-system paths in the database: readable text plus exact bytes when needed (pure, any thread).

POSIX file names are bytes.  PostgreSQL text must be valid UTF-8, so a name that is not gets a
readable text form (undecodable bytes shown as ``\\xNN``) and its exact bytes kept alongside.
"""
from __future__ import annotations

import os


def path_for_db(path: str | bytes | os.PathLike[str] | os.PathLike[bytes]) -> tuple[str, bytes | None]:
    """(text, exact bytes or None when the text already round-trips)."""
    raw = os.fsencode(path)
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError:
        return raw.decode("utf-8", "backslashreplace"), raw


def path_from_db(text: str, raw: bytes | None) -> str:
    """The path to open: exact bytes decoded the way ``os`` does (surrogateescape)."""
    return os.fsdecode(raw) if raw is not None else text
