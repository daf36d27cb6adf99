"""analysis.dates: EXIF strings, file names, folders, mtime — and end to end via ingest."""
from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest

from lumina_desktop.analysis import dates
from lumina_desktop.analysis.ingest import analyse_file

from .builders import encode, upright


@pytest.mark.parametrize(("text", "subsec", "expected", "offset"), [
    ("2023:05:14 10:11:12", None, datetime(2023, 5, 14, 10, 11, 12), None),
    ("2023:05:14 10:11:12", "5", datetime(2023, 5, 14, 10, 11, 12, 500000), None),
    ("2023:05:14 10:11:12", "0123456789", datetime(2023, 5, 14, 10, 11, 12, 12345), None),
    ("2023-05-14T10:11:12.25+05:30", None, datetime(2023, 5, 14, 10, 11, 12, 250000), 330),
    ("2023-05-14T10:11:12Z", None, datetime(2023, 5, 14, 10, 11, 12), 0),
    ("2023:05:14 10:11:12\x00", None, datetime(2023, 5, 14, 10, 11, 12), None),
    ("2023:05:14", None, datetime(2023, 5, 14), None),
])
def test_parse_exif_datetime(text: str, subsec: str | None, expected: datetime,
                             offset: int | None) -> None:
    assert dates.parse_exif_datetime(text, subsec) == (expected, offset)


@pytest.mark.parametrize("text", ["", "    :  :     :  :  ", "0000:00:00 00:00:00",
                                  "2023:13:01 00:00:00", "1800:01:01 00:00:00", "garbage"])
def test_parse_exif_datetime_rejects(text: str) -> None:
    assert dates.parse_exif_datetime(text) is None


@pytest.mark.parametrize(("text", "minutes"), [
    ("+02:00", 120), ("-05:30", -330), ("+0100", 60), ("Z", 0), ("", None), ("+25:00", None),
])
def test_parse_offset(text: str, minutes: int | None) -> None:
    assert dates.parse_offset(text) == minutes


@pytest.mark.parametrize(("name", "expected"), [
    ("IMG_20230514_101112.jpg", datetime(2023, 5, 14, 10, 11, 12)),
    ("2023-05-14 10.11.12.jpg", datetime(2023, 5, 14, 10, 11, 12)),
    ("PXL_20230514_101112123.jpg", datetime(2023, 5, 14, 10, 11, 12, 123000)),
    ("Screenshot_2023-05-14-10-11-12.png", datetime(2023, 5, 14, 10, 11, 12)),
    ("Screenshot 2023-05-14 at 10.11.12.png", datetime(2023, 5, 14, 10, 11, 12)),
    ("VID_20230514_101112.mp4", datetime(2023, 5, 14, 10, 11, 12)),
    ("IMG-20230514-WA0001.jpg", datetime(2023, 5, 14)),
    ("holiday 2023-05-14.jpg", datetime(2023, 5, 14)),
])
def test_date_from_filename(name: str, expected: datetime) -> None:
    guess = dates.date_from_filename(f"/any/folder/{name}")
    assert guess is not None
    assert (guess.when, guess.source, guess.confidence) == (expected, "filename", "medium")


@pytest.mark.parametrize("name", ["IMG_0001.jpg", "DSC_2023.jpg", "20231345_000000.jpg",
                                  "IMG_18000101_000000.jpg", "photo.jpg"])
def test_date_from_filename_rejects(name: str) -> None:
    assert dates.date_from_filename(name) is None


@pytest.mark.parametrize(("path", "expected", "confidence"), [
    ("/photos/2023/05/14/IMG_0001.jpg", datetime(2023, 5, 14), "medium"),
    ("/photos/2023-05-14 Birthday/IMG_0001.jpg", datetime(2023, 5, 14), "medium"),
    ("/photos/20230514/IMG_0001.jpg", datetime(2023, 5, 14), "medium"),
    ("/photos/2023/05/IMG_0001.jpg", datetime(2023, 5, 1), "low"),
    ("/photos/2023-05/IMG_0001.jpg", datetime(2023, 5, 1), "low"),
    ("/photos/2023/Summer/IMG_0001.jpg", datetime(2023, 1, 1), "low"),
])
def test_date_from_folders(path: str, expected: datetime, confidence: str) -> None:
    guess = dates.date_from_folders(path)
    assert guess is not None
    assert (guess.when, guess.source, guess.confidence) == (expected, "folder", confidence)


def test_date_from_folders_none() -> None:
    assert dates.date_from_folders("/home/me/Pictures/misc/IMG_0001.jpg") is None


def test_date_from_mtime_is_local_time_with_offset() -> None:
    guess = dates.date_from_mtime(1_684_059_072.5)
    assert guess is not None and guess.source == "file_mtime" and guess.confidence == "low"
    aware = datetime.fromtimestamp(1_684_059_072.5).astimezone()
    assert guess.when == aware.replace(tzinfo=None)
    assert guess.utc_offset_minutes == int(aware.utcoffset().total_seconds() // 60)  # type: ignore[union-attr]


def test_ingest_infers_filename_then_folder_then_mtime(tmp_path: Path) -> None:
    data = encode(upright(), "JPEG")  # no EXIF at all
    by_name = tmp_path / "2021" / "07" / "IMG_20230514_101112.jpg"
    by_folder = tmp_path / "2021" / "07" / "04" / "IMG_0001.jpg"
    by_mtime = tmp_path / "misc" / "IMG_0002.jpg"
    for path in (by_name, by_folder, by_mtime):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    os.utime(by_mtime, (1_600_000_000, 1_600_000_000))
    meta = analyse_file(by_name).metadata
    assert (meta.capture_time, meta.date_source) == (datetime(2023, 5, 14, 10, 11, 12), "filename")
    meta = analyse_file(by_folder).metadata
    assert (meta.capture_time, meta.date_source) == (datetime(2021, 7, 4), "folder")
    meta = analyse_file(by_mtime).metadata
    assert meta.date_source == "file_mtime" and meta.date_confidence == "low"
    assert meta.capture_time == datetime.fromtimestamp(1_600_000_000)
