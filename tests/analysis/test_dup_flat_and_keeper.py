"""Featureless pictures, tiny-preview RAWs and honest reasons (regressions seen on ../shared/photos).

1. Flat pictures of different colours all hash alike (pHash/dHash of a grey ignore colour and
   flat pictures have no structure); 45 white, black, blue and purple ones once formed one
   "near copy" group.  Featureless pairs are now compared by tone; copies still group.
2. An X3F whose only picture was an 8x8 preview became the keeper ("RAW beats JPEG").  A RAW
   counts as RAW only when its recorded pixels are comparable to the photos it is compared with.
3. "older: taken 05:41:57 vs taken 05:41:57": a reason never compares equal values.
"""
from __future__ import annotations

import itertools
import re
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

try:
    from tests.analysis.test_dup_support import fingerprint_image, reencode, resize, scene, when
except ImportError:  # tests/analysis is not a package
    from test_dup_support import fingerprint_image, reencode, resize, scene, when

from lumina_desktop.analysis.dup_keeper import DEFAULT_RULES, explain, rank_key
from lumina_desktop.analysis.dup_verify import verify_pair
from lumina_desktop.analysis.duplicates import find_duplicate_groups
from lumina_desktop.analysis.ingest import analyse_file
from lumina_desktop.core.duplicates import DuplicateTier, PhotoFingerprint
from lumina_desktop.core.media import MediaKind

COLOURS = {"white": (255, 255, 255), "black": (0, 0, 0), "blue": (0, 0, 255), "purple": (128, 0, 128)}


def solid(rgb: tuple[int, int, int], size: tuple[int, int] = (200, 150)) -> Image.Image:
    return Image.new("RGB", size, rgb)


def gradient(w: int = 400, h: int = 300, *, lo: float = 80.0, hi: float = 170.0) -> Image.Image:
    """A soft left-to-right gradient with a faint vertical tint: low detail, but a layout."""
    x = np.linspace(lo, hi, w)[None, :, None]
    y = np.linspace(0.0, 20.0, h)[:, None, None]
    return Image.fromarray(np.clip(np.broadcast_to(x + y, (h, w, 3)), 0, 255).astype(np.uint8))


def fingerprint_file(path: Path, pid: int) -> PhotoFingerprint:
    """The production recipe: what the duplicates job reads for a file the scan analysed."""
    r = analyse_file(path)
    assert r.perceptual is not None
    m, per = r.metadata, r.perceptual
    return PhotoFingerprint(
        id=pid, content_hash=r.identity.content_hash, image_data_hash=r.identity.image_data_hash,
        phash=per.phash, dhash=per.dhash, grey=per.grey, aspect=per.aspect, width=m.width or 0, height=m.height or 0,
        size=r.identity.size, format=r.file_type if r.kind is MediaKind.RAW else r.format,
        is_raw=r.kind is MediaKind.RAW, has_camera_exif=bool(m.make or m.model), capture_time=m.capture_time,
        mtime=path.stat().st_mtime, path=str(path))


def save(im: Image.Image, path: Path, fmt: str, **kw: object) -> Path:
    im.save(path, fmt, **kw)
    return path


# --------------------------------------------------------------------------- featureless pictures


def test_flat_colours_are_not_near_copies_of_each_other() -> None:
    photos = [fingerprint_image(solid(rgb), i) for i, rgb in enumerate(COLOURS.values(), start=1)]
    for a, b in itertools.combinations(photos, 2):
        v = verify_pair(a, b)
        assert v.state == "different", (a.id, b.id, v)
        assert "brightness" in v.reason
    assert find_duplicate_groups(photos) == []


def test_flat_colour_files_form_no_group_production_recipe(tmp_path: Path) -> None:
    """The reported case end to end: solid-colour files of one shape, analysed as the scan does."""
    photos = []
    for i, (name, rgb) in enumerate(COLOURS.items(), start=1):
        photos.append(fingerprint_file(save(solid(rgb, (100, 100)), tmp_path / f"{name}.jpg", "JPEG", quality=90), i))
    photos.append(fingerprint_file(save(solid((20, 0, 135), (100, 100)), tmp_path / "dark_blue.png", "PNG"), 9))
    groups = find_duplicate_groups(photos)
    assert groups == [], [(g.keeper_id, [(m.photo_id, m.match) for m in g.members]) for g in groups]


def test_identical_flat_pictures_are_still_duplicates(tmp_path: Path) -> None:
    white = save(solid(COLOURS["white"]), tmp_path / "white.png", "PNG")
    twin = tmp_path / "copy" / "white.png"
    twin.parent.mkdir()
    twin.write_bytes(white.read_bytes())
    retagged = save(solid(COLOURS["white"]), tmp_path / "white_tagged.png", "PNG", pnginfo=_png_text("Title", "x"))
    black = save(solid(COLOURS["black"]), tmp_path / "black.png", "PNG")
    photos = [fingerprint_file(p, i) for i, p in enumerate((white, twin, retagged, black), start=1)]
    (g,) = find_duplicate_groups(photos)
    tiers = {m.photo_id: m.tier for m in g.members}
    assert set(g.photo_ids) == {1, 2, 3}  # black is not a copy of white
    assert set(tiers.values()) <= {DuplicateTier.IDENTICAL, DuplicateTier.SAME_PICTURE}
    assert all(m.is_verified for m in g.members)


def test_same_flat_picture_in_another_format_stays_an_unverified_candidate(tmp_path: Path) -> None:
    """Same brightness, no detail: the grey holds no colour, so never 'same' -- but never dropped either."""
    a = fingerprint_file(save(solid((200, 200, 200)), tmp_path / "grey.png", "PNG"), 1)
    b = fingerprint_file(save(solid((200, 200, 200)), tmp_path / "grey.jpg", "JPEG", quality=80), 2)
    (g,) = find_duplicate_groups([a, b])
    (m,) = g.members
    assert m.tier == DuplicateTier.NEAR_COPY and not m.is_verified and g.has_unverified
    assert "colour not compared" in m.match


def test_equal_luma_colours_are_unverified_not_same() -> None:
    """Red and green of equal luma cannot be told apart on a grey: say so, never 'same'."""
    red, green = fingerprint_image(solid((255, 0, 0)), 1), fingerprint_image(solid((0, 130, 0)), 2)
    v = verify_pair(red, green)
    assert v.state == "unverified" and "colour not compared" in v.reason


def test_flat_picture_versus_textured_photo_is_different() -> None:
    photo = fingerprint_image(scene(5), 1)
    grey_card = fingerprint_image(solid((128, 128, 128), photo_size := (640, 480)), 2)
    assert photo_size == (photo.width, photo.height)
    for x, y in ((photo, grey_card), (grey_card, photo)):
        assert verify_pair(x, y).state == "different"


def test_low_detail_layouts() -> None:
    """Soft gradients: copies (even brightened) are not rejected, mirrors and other layouts are."""
    base = gradient()
    a = fingerprint_image(base, 1)
    assert verify_pair(a, a).reason.startswith("too little detail")  # the case under test
    assert verify_pair(a, fingerprint_image(reencode(base, "JPEG", quality=60), 2)).state != "different"
    assert verify_pair(a, fingerprint_image(resize(base, 0.5), 3)).state != "different"
    brighter = base.point(lambda v: min(255, int(v * 1.15)))
    assert verify_pair(a, fingerprint_image(brighter, 4)).state == "unverified"
    mirrored = fingerprint_image(base.transpose(Image.Transpose.FLIP_LEFT_RIGHT), 5)
    v = verify_pair(a, mirrored)
    assert v.state == "different" and "layout" in v.reason


@pytest.mark.parametrize("side", [8, 16])
def test_tiny_copy_of_a_photo_is_never_rejected_as_featureless(side: int) -> None:
    """A tiny thumbnail of a photo has a smooth grey; it may stay unverified but is not 'different'."""
    base = scene(6)
    tiny = base.resize((side, side * 3 // 4), Image.LANCZOS)
    v = verify_pair(fingerprint_image(base, 1), fingerprint_image(tiny, 2))
    assert v.state != "different", v


def test_textured_photo_and_its_recompressed_copy_are_still_near_copies() -> None:
    base = scene(7)
    original = fingerprint_image(base, 1, has_camera_exif=True)
    copy = fingerprint_image(reencode(base, "JPEG", quality=70), 2)
    (g,) = find_duplicate_groups([original, copy])
    (m,) = g.members
    assert g.keeper_id == 1 and m.photo_id == 2
    assert m.tier == DuplicateTier.NEAR_COPY and m.is_verified and m.match == "phash+ssim"


def test_flat_group_mixing_colours_from_the_report_is_split() -> None:
    """White, black, blue and purple squares of several sizes (as in exiftool's and immich's samples)."""
    photos: list[PhotoFingerprint] = []
    for name, rgb in COLOURS.items():
        for side in (8, 16, 100):
            photos.append(fingerprint_image(solid(rgb, (side, side)), len(photos) + 1, path=f"/p/{name}_{side}.jpg"))
    colour_of = {p.id: p.path.split("/")[-1].split("_")[0] for p in photos}
    groups = find_duplicate_groups(photos)
    for g in groups:
        assert len({colour_of[i] for i in g.photo_ids}) == 1, [colour_of[i] for i in g.photo_ids]
        assert all(not m.is_verified for m in g.members)  # same colour, no detail: candidates, never 'same'


# --------------------------------------------------------------------------- keeper: tiny-preview RAWs


@pytest.fixture(scope="module")
def full_jpeg() -> PhotoFingerprint:
    return fingerprint_image(scene(8), 1, width=1600, height=1200, size=900_000, has_camera_exif=True,
                             path="/photos/IMG_1.jpg")


def raw_like(jpeg: PhotoFingerprint, width: int, height: int) -> PhotoFingerprint:
    """A RAW file of the same picture whose recorded size is width x height (hashes as its preview)."""
    return replace(jpeg, id=2, content_hash="f" * 64, format="X3F", is_raw=True, width=width, height=height,
                   size=12_000_000, path="/photos/IMG_1.X3F")


def test_tiny_preview_raw_does_not_win_over_full_size_jpeg(full_jpeg: PhotoFingerprint) -> None:
    raw = raw_like(full_jpeg, 8, 8)  # LibRaw could not size it: recorded at its 8x8 preview
    (g,) = find_duplicate_groups([raw, full_jpeg])
    (m,) = g.members
    assert g.keeper_id == full_jpeg.id and m.photo_id == raw.id
    assert m.reason == "1600\N{MULTIPLICATION SIGN}1200 beats 8\N{MULTIPLICATION SIGN}8"
    # nor through the format rule when a user puts format first
    fmt_first = ("format", *[r for r in DEFAULT_RULES if r != "format"])
    (g2,) = find_duplicate_groups([raw, full_jpeg], rules=fmt_first)
    assert g2.keeper_id == full_jpeg.id


def test_raw_with_comparable_pixels_still_wins(full_jpeg: PhotoFingerprint) -> None:
    for w, h in ((1600, 1200), (4000, 3000), (800, 600)):  # same, larger, half the width and height
        raw = raw_like(full_jpeg, w, h)
        (g,) = find_duplicate_groups([raw, full_jpeg])
        assert g.keeper_id == raw.id, (w, h)
        assert g.members[0].reason == "RAW (X3F) beats JPEG"
    small = raw_like(full_jpeg, 640, 480)
    (g,) = find_duplicate_groups([small, full_jpeg])
    assert g.keeper_id == full_jpeg.id


def test_rank_key_and_explain_take_the_peers_into_account(full_jpeg: PhotoFingerprint) -> None:
    raw = raw_like(full_jpeg, 160, 120)
    peers = {raw.id: 1600.0 * 1200.0, full_jpeg.id: 160.0 * 120.0}
    assert min((raw, full_jpeg), key=lambda p: rank_key(p, peer_px=peers[p.id])) is full_jpeg
    assert explain(full_jpeg, raw, peer_px=peers) == "1600\N{MULTIPLICATION SIGN}1200 beats 160\N{MULTIPLICATION SIGN}120"
    fmt_first = ("format", *[r for r in DEFAULT_RULES if r != "format"])
    same_px = replace(raw, width=1600, height=1200)
    assert explain(same_px, full_jpeg, fmt_first, peer_px={same_px.id: 1600.0 * 1200.0}) == "RAW X3F beats lossy JPEG"
    # alone (no peers) a RAW is a RAW, as before
    assert min((raw, full_jpeg), key=rank_key) is raw


# --------------------------------------------------------------------------- reasons


def _png_text(key: str, value: str) -> object:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text(key, value)
    return info


def test_reason_never_compares_equal_times(full_jpeg: PhotoFingerprint) -> None:
    """The report: 'older: taken 05:41:57 vs taken 05:41:57' (sub-second capture times)."""
    t = when("2021-06-01T05:41:57.120000")
    a = replace(full_jpeg, capture_time=t)
    b = replace(full_jpeg, id=2, capture_time=t + timedelta(milliseconds=300))
    assert explain(a, b) == "older: taken 2021-06-01 05:41:57.120 vs taken 2021-06-01 05:41:57.420"
    assert explain(a, replace(b, capture_time=t.replace(second=58))) == \
        "older: taken 2021-06-01 05:41:57 vs taken 2021-06-01 05:41:58"
    # under a millisecond apart is a tie: the next rule (or the id) decides, not an invisible difference
    c = replace(full_jpeg, id=3, capture_time=t + timedelta(microseconds=400))
    assert explain(a, c) == "equal on every rule; lower id kept (1 vs 3)"
    # modification times closer than a second
    m1 = replace(full_jpeg, id=4, capture_time=None, mtime=1_700_000_000.25)
    m2 = replace(full_jpeg, id=5, capture_time=None, mtime=1_700_000_000.75)
    assert explain(m1, m2).startswith("older: modified ") and explain(m1, m2).count(".250") == 1


_PAIRS = [
    re.compile(r"^older: (?:taken |modified )?(.+) vs (?:taken |modified )?(.+)$"),
    re.compile(r"^larger file \((.+) bytes vs (.+)\)$"),
    re.compile(r"^(.+) beats (.+)$"),
]


def test_no_reason_compares_equal_values() -> None:
    """Every pair of a varied set of photos: the reason's two displayed values always differ."""
    base = fingerprint_image(scene(9), 0)
    t0 = datetime(2021, 6, 1, 5, 41, 57)
    variants = []
    formats = [("JPEG", False), ("PNG", False), ("NEF", True)]
    sizes = [(1600, 1200), (8, 8), (1600, 1200)]
    caps = [None, t0, t0.replace(microsecond=250_000), t0.replace(microsecond=250_400), t0 + timedelta(seconds=1)]
    mtimes = [1_700_000_000.0, 1_700_000_000.0004, 1_700_000_000.9]
    rng = np.random.default_rng(4)
    for k in range(60):
        fmt, raw = formats[rng.integers(len(formats))]
        w, h = sizes[rng.integers(len(sizes))]
        variants.append(replace(
            base, id=k + 1, format=fmt, is_raw=raw, width=int(w), height=int(h),
            size=int(rng.choice([500_000, 500_000, 900_000])), has_camera_exif=bool(rng.integers(2)),
            capture_time=caps[rng.integers(len(caps))], mtime=mtimes[rng.integers(len(mtimes))],
            path=str(rng.choice(["/p/a.jpg", "/p/Downloads/a.jpg", "/p/a (1).jpg"]))))
    checked = 0
    for a, b in itertools.permutations(variants, 2):
        peers = {a.id: float(b.width * b.height), b.id: float(a.width * a.height)}
        if rank_key(a, peer_px=peers[a.id]) > rank_key(b, peer_px=peers[b.id]):
            continue
        reason = explain(a, b, peer_px=peers)
        assert "prefers the other copy" not in reason
        for rx in _PAIRS:
            m = rx.match(reason)
            if m:
                assert m.group(1) != m.group(2), reason
                checked += 1
                break
    assert checked > 100
