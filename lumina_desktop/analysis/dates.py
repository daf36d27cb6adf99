"""Capture-date parsing and inference: EXIF strings, file names, folder names, mtime.

Runs on any thread (worker).  Pure functions, no I/O (the caller passes the mtime).

Confidence rules (``core.media.DateConfidence``):

* EXIF DateTimeOriginal / DateTimeDigitized, XMP creation dates — ``high``;
  EXIF IFD0 DateTime (last-modified by software) — ``medium``.
* File name with date and time (``IMG_20230514_101112``, ``2023-05-14 10.11.12``,
  ``PXL_20230514_101112123``, ``Screenshot_2023-05-14-10-11-12``) — ``medium``;
  file name with a date only (WhatsApp ``IMG-20230514-WA0001``) — ``medium``, time 00:00.
* Folder names, nearest first: a full date (``…/2023/05/14/``, ``…/2023-05-14 Trip/``,
  ``…/20230514/``) — ``medium``; year and month (``…/2023/05/``, ``…/2023-05/``) or a
  year alone (``…/2023/``) — ``low`` (first day of the period, 00:00).
* File modification time — ``low``.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from lumina_desktop.core.media import DateConfidence, DateSource

MIN_YEAR = 1900

_EXIF_DT = re.compile(
    r"^\s*(\d{4})[:\-/.](\d{1,2})[:\-/.](\d{1,2})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?"
    r"(?:[.,](\d{1,9}))?)?\s*(Z|[+-]\d{2}:?\d{2})?"
)
_OFFSET = re.compile(r"^\s*([+-])(\d{2}):?(\d{2})\s*$")
_NAME_DATETIME = re.compile(
    r"(?<!\d)((?:19|20)\d{2})[-_.]?(0[1-9]|1[0-2])[-_.]?(0[1-9]|[12]\d|3[01])"
    r"(?:[ _T-]|\s*at\s*)?([01]\d|2[0-3])[-_.:h]?([0-5]\d)[-_.:m]?([0-5]\d)s?(?:[-_.]?(\d{1,3}))?"
    r"(?!\d)"
)
_NAME_DATE = re.compile(
    r"(?<!\d)((?:19|20)\d{2})([-_.]?)(0[1-9]|1[0-2])\2(0[1-9]|[12]\d|3[01])(?!\d)")
_DIR_DATE = re.compile(r"^((?:19|20)\d{2})([-_.]?)(0[1-9]|1[0-2])\2(0[1-9]|[12]\d|3[01])(?!\d)")
_DIR_MONTH = re.compile(r"^((?:19|20)\d{2})[-_.](0[1-9]|1[0-2])(?!\d)")
_YEAR = re.compile(r"^((?:19|20)\d{2})(?!\d)")
_TWO = re.compile(r"^(0[1-9]|1[0-2]|[12]\d|3[01])(?!\d)")


@dataclass(frozen=True, slots=True)
class DateGuess:
    """An inferred capture time (naive local) and how sure we are."""

    when: datetime
    source: DateSource
    confidence: DateConfidence
    utc_offset_minutes: int | None = None


def _max_year() -> int:
    return datetime.now().year + 1


def _make(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0, us: int = 0
          ) -> datetime | None:
    if not MIN_YEAR <= y <= _max_year():
        return None
    try:
        return datetime(y, mo, d, h, mi, s, us)
    except ValueError:
        return None


def _fraction_to_us(digits: str | None) -> int:
    if not digits:
        return 0
    digits = "".join(ch for ch in digits if ch.isdigit())[:6]
    return int(digits.ljust(6, "0")) if digits else 0


def parse_offset(text: str | None) -> int | None:
    """``"+02:00"`` / ``"-0530"`` / ``"Z"`` → minutes east of UTC, else None."""
    if not text:
        return None
    if text.strip() in ("Z", "z"):
        return 0
    m = _OFFSET.match(text)
    if not m:
        return None
    minutes = int(m.group(2)) * 60 + int(m.group(3))
    if minutes > 14 * 60:
        return None
    return -minutes if m.group(1) == "-" else minutes


def parse_exif_datetime(text: str | None, subsec: str | None = None
                        ) -> tuple[datetime, int | None] | None:
    """Parse an EXIF/XMP date string (``2023:05:14 10:11:12``, ISO 8601 forms too).

    ``subsec`` is the matching SubSecTime* string; returns ``(naive local datetime,
    offset minutes or None)`` or None for blank, zero or impossible dates.
    """
    if not text:
        return None
    m = _EXIF_DT.match(text)
    if not m:
        return None
    y, mo, d, h, mi, s, frac, tz = m.groups()
    us = _fraction_to_us(subsec.strip() if subsec and subsec.strip() else frac)
    when = _make(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0), us)
    if when is None:
        return None
    return when, parse_offset(tz)


def date_from_filename(name: str) -> DateGuess | None:
    """A capture date encoded in a file name (base name only, no folders)."""
    stem = os.path.splitext(os.path.basename(name))[0]
    for m in _NAME_DATETIME.finditer(stem):
        y, mo, d, h, mi, s, ms = m.groups()
        when = _make(int(y), int(mo), int(d), int(h), int(mi), int(s), _fraction_to_us(ms))
        if when is not None:
            return DateGuess(when, "filename", "medium")
    for m in _NAME_DATE.finditer(stem):
        when = _make(int(m.group(1)), int(m.group(3)), int(m.group(4)))
        if when is not None:
            return DateGuess(when, "filename", "medium")
    return None


def date_from_folders(path: str) -> DateGuess | None:
    """A date from the folder names above ``path`` (nearest folder first)."""
    parts = [p for p in os.path.dirname(path).replace("\\", "/").split("/") if p]
    for i in range(len(parts) - 1, -1, -1):
        part = parts[i]
        m = _DIR_DATE.match(part)
        if m:
            when = _make(int(m.group(1)), int(m.group(3)), int(m.group(4)))
            if when is not None:
                return DateGuess(when, "folder", "medium")
        # nested …/YYYY/MM/DD, …/YYYY/MM or …/YYYY-MM
        if (_TWO.match(part) and i >= 2 and _TWO.match(parts[i - 1])
                and _YEAR.fullmatch(parts[i - 2])):
            when = _make(int(parts[i - 2]), int(parts[i - 1][:2]), int(part[:2]))
            if when is not None:
                return DateGuess(when, "folder", "medium")
        if _TWO.match(part) and i >= 1 and _YEAR.fullmatch(parts[i - 1]):
            when = _make(int(parts[i - 1]), int(part[:2]), 1)
            if when is not None:
                return DateGuess(when, "folder", "low")
        m = _DIR_MONTH.match(part)
        if m:
            when = _make(int(m.group(1)), int(m.group(2)), 1)
            if when is not None:
                return DateGuess(when, "folder", "low")
        if _YEAR.fullmatch(part):
            when = _make(int(part), 1, 1)
            if when is not None:
                return DateGuess(when, "folder", "low")
    return None


def date_from_mtime(mtime_s: float) -> DateGuess | None:
    """The file's modification time as local wall-clock time with the local offset."""
    try:
        aware = datetime.fromtimestamp(mtime_s, tz=UTC).astimezone()
    except (OverflowError, OSError, ValueError):
        return None
    offset = aware.utcoffset() or timedelta(0)
    return DateGuess(aware.replace(tzinfo=None), "file_mtime", "low",
                     int(offset.total_seconds() // 60))


def infer_date(path: str, mtime_s: float | None) -> DateGuess | None:
    """File name, then folder names, then mtime — for files without an embedded date."""
    guess = date_from_filename(path) or date_from_folders(path)
    if guess is None and mtime_s is not None:
        guess = date_from_mtime(mtime_s)
    return guess


def is_plausible(day: date) -> bool:
    """True for dates a camera could have written (guards against 1970/2080 junk)."""
    return MIN_YEAR <= day.year <= _max_year()
