"""Keeper rules: ordered, editable, serialisable, and every choice comes with a reason."""
from __future__ import annotations

from dataclasses import replace

import pytest

try:
    from tests.analysis.test_dup_support import fingerprint_image, reencode, resize, scene, when
except ImportError:  # tests/analysis is not a package
    from test_dup_support import fingerprint_image, reencode, resize, scene, when

from lumina_desktop.analysis.dup_keeper import DEFAULT_RULES, explain, rank_key, rules_from_strings, rules_to_strings
from lumina_desktop.analysis.duplicates import find_duplicate_groups
from lumina_desktop.core.duplicates import PhotoFingerprint


@pytest.fixture(scope="module")
def jpeg() -> PhotoFingerprint:
    return fingerprint_image(scene(11), 1, width=1600, height=1067, size=500_000, path="/photos/2021/IMG_1.jpg")


def best(*photos: PhotoFingerprint, rules: tuple[str, ...] = DEFAULT_RULES) -> PhotoFingerprint:
    return min(photos, key=lambda p: rank_key(p, rules))


def test_raw_beats_jpeg(jpeg: PhotoFingerprint) -> None:
    raw = replace(jpeg, id=2, format="NEF", is_raw=True, width=6000, height=4000)
    assert best(jpeg, raw) is raw
    assert explain(raw, jpeg) == "RAW (NEF) beats JPEG"


def test_more_pixels(jpeg: PhotoFingerprint) -> None:
    big = replace(jpeg, id=2, width=6000, height=4000)
    assert best(jpeg, big) is big
    assert explain(big, jpeg) == "6000\N{MULTIPLICATION SIGN}4000 beats 1600\N{MULTIPLICATION SIGN}1067"


def test_camera_exif_before_lossless(jpeg: PhotoFingerprint) -> None:
    camera = replace(jpeg, has_camera_exif=True)
    png_conversion = replace(jpeg, id=2, format="PNG", size=2_000_000)
    assert best(camera, png_conversion) is camera
    assert explain(camera, png_conversion) == "camera EXIF (make or model) vs none"
    # a user who wants format first can say so
    fmt_first = ("format", *[r for r in DEFAULT_RULES if r != "format"])
    assert best(camera, png_conversion, rules=fmt_first) is png_conversion
    assert explain(png_conversion, camera, fmt_first) == "lossless PNG beats lossy JPEG"


def test_larger_file_at_equal_pixels_and_format(jpeg: PhotoFingerprint) -> None:
    q95 = replace(jpeg, id=2, size=900_000)
    assert best(jpeg, q95) is q95
    assert explain(q95, jpeg) == "larger file (900,000 bytes vs 500,000)"


def test_earliest_capture_then_mtime(jpeg: PhotoFingerprint) -> None:
    old = replace(jpeg, id=2, capture_time=when("2019-05-01T10:00:00"))
    new = replace(jpeg, id=3, capture_time=when("2020-05-01T10:00:00"))
    assert best(new, old) is old
    assert explain(old, new).startswith("older: taken 2019-05-01")
    assert best(replace(jpeg, mtime=2e9), replace(jpeg, id=4, mtime=1e9)).id == 4


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/home/me/Downloads/IMG_1.jpg", "in Downloads"),
        ("/sdcard/WhatsApp/Media/WhatsApp Images/IMG-2021-WA0001.jpg", "from WhatsApp"),
        ("/home/me/Telegram Desktop/photo.jpg", "from Telegram"),
        ("/photos/Copy of IMG_1.jpg", "named 'Copy of'"),
        ("/photos/IMG_1 (1).jpg", "named as a copy"),
    ],
)
def test_path_hints(jpeg: PhotoFingerprint, path: str, words: str) -> None:
    copy = replace(jpeg, id=2, path=path)
    assert best(copy, jpeg) is jpeg
    assert explain(jpeg, copy) == f"no copy hint in the path vs {words}"


def test_ties_go_to_the_lower_id(jpeg: PhotoFingerprint) -> None:
    twin = replace(jpeg, id=0)
    assert best(jpeg, twin) is twin
    assert explain(twin, jpeg) == "equal on every rule; lower id kept (0 vs 1)"


def test_rule_list_round_trips_and_rejects_unknown_names() -> None:
    assert rules_from_strings(rules_to_strings(DEFAULT_RULES)) == DEFAULT_RULES
    assert rules_from_strings([" pixels", "raw", "pixels"]) == ("pixels", "raw")
    with pytest.raises(ValueError, match="unknown keeper rule"):
        rules_from_strings(["pixels", "sharpest"])


def test_groups_carry_the_deciding_reason_per_member() -> None:
    base = scene(12)
    original = fingerprint_image(base, 1, has_camera_exif=True, capture_time=when("2020-01-01T12:00:00"))
    small = fingerprint_image(resize(base, 0.5), 2)
    downloaded = fingerprint_image(reencode(base, "JPEG", quality=85), 3, path="/home/me/Downloads/x.jpg")
    (g,) = find_duplicate_groups([small, downloaded, original])
    assert g.keeper_id == 1
    reasons = {m.photo_id: m.reason for m in g.members}
    assert reasons[2] == "640\N{MULTIPLICATION SIGN}480 beats 320\N{MULTIPLICATION SIGN}240"
    assert reasons[3] == "camera EXIF (make or model) vs none"
    (g2,) = find_duplicate_groups([small, downloaded, original], rules=("path", *DEFAULT_RULES))
    assert g2.keeper_id == 1 and {m.photo_id: m.reason for m in g2.members}[3] == "no copy hint in the path vs in Downloads"
