"""analysis.video + probe_video: identity and header metadata without decoding."""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from lumina_desktop.analysis import hashing
from lumina_desktop.analysis.ingest import analyse_file, probe_video
from lumina_desktop.core.media import FailureReason, MediaError, MediaKind

from .builders import encode, mp4, upright

EPOCH_1904_TO_1970 = 2_082_844_800


def test_iphone_style_mov(tmp_path: Path) -> None:
    data = mp4(brand=b"qt  ", duration_s=12.5, rotate_90=True,
               created_utc_s=EPOCH_1904_TO_1970 + 1_684_051_872,
               iso6709="+48.8584+002.2945+035.000/", apple_date="2023-05-14T10:11:12+0200")
    path = tmp_path / "IMG_0001.MOV"
    path.write_bytes(data)
    result = probe_video(path)
    assert (result.file_type, result.kind, result.format) == ("MOV", MediaKind.VIDEO, "qt")
    assert result.identity.size == len(data)
    assert result.identity.content_hash == hashing.content_hash(data)
    assert result.perceptual is None and result.thumbnails == {}
    meta = result.metadata
    assert meta.duration_s == pytest.approx(12.5)
    assert (meta.width, meta.height) == (1080, 1920)  # rotated by the track matrix
    assert meta.capture_time == datetime(2023, 5, 14, 10, 11, 12)
    assert meta.utc_offset_minutes == 120
    assert (meta.date_source, meta.date_confidence) == ("container", "high")
    assert (meta.gps_lat, meta.gps_lon, meta.gps_alt) == (48.8584, 2.2945, 35.0)


def test_mp4_with_moov_at_end_and_utc_creation_time(tmp_path: Path) -> None:
    created = datetime(2022, 1, 2, 3, 4, 5, tzinfo=UTC)
    data = mp4(moov_last=True, created_utc_s=EPOCH_1904_TO_1970 + int(created.timestamp()))
    path = tmp_path / "clip.mp4"
    path.write_bytes(data)
    result = analyse_file(path)  # analyse_file routes videos to the probe
    meta = result.metadata
    assert result.file_type == "MP4" and result.format == "isom"
    assert (meta.width, meta.height, meta.duration_s) == (1920, 1080, 5.0)
    assert meta.capture_time == created.astimezone().replace(tzinfo=None)
    assert (meta.date_source, meta.date_confidence) == ("container", "medium")


def test_video_without_dates_falls_back_to_name(tmp_path: Path) -> None:
    path = tmp_path / "VID_20230514_101112.mp4"
    path.write_bytes(mp4())
    meta = probe_video(path).metadata
    assert meta.capture_time == datetime(2023, 5, 14, 10, 11, 12)
    assert meta.date_source == "filename"


def test_other_containers_are_catalogued_without_parsing(tmp_path: Path) -> None:
    path = tmp_path / "clip.mkv"
    path.write_bytes(b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x88matroska" + bytes(500))
    result = probe_video(path)
    assert result.file_type == "MKV" and result.metadata.width is None
    assert result.metadata.date_source == "file_mtime"


def test_truncated_or_garbled_mp4_is_not_fatal(tmp_path: Path) -> None:
    data = mp4()
    path = tmp_path / "cut.mp4"
    path.write_bytes(data[:60])
    result = probe_video(path)
    assert result.identity.size == 60 and result.metadata.duration_s is None


def test_text_named_mp4_and_picture_to_probe(tmp_path: Path) -> None:
    (tmp_path / "x.mp4").write_text("not a video at all")
    with pytest.raises(MediaError) as info:
        probe_video(tmp_path / "x.mp4")
    assert info.value.reason is FailureReason.NOT_A_VIDEO
    (tmp_path / "p.jpg").write_bytes(encode(upright(), "JPEG"))
    with pytest.raises(MediaError) as info:
        probe_video(tmp_path / "p.jpg")
    assert info.value.reason is FailureReason.NOT_A_VIDEO
