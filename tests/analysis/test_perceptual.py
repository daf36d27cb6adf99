"""analysis.perceptual: the contract the duplicate detector relies on."""
from __future__ import annotations

import io

import imagehash
import numpy as np
from PIL import Image

from lumina_desktop.analysis import perceptual
from lumina_desktop.analysis.ingest import analyse_bytes
from lumina_desktop.core.media import GREY_SIZE, HASH_BYTES

from .builders import encode, exif_with_orientation, photo_like, stored_for


def test_contract_layout_matches_imagehash() -> None:
    picture = photo_like(300, 200, seed=1)
    data = perceptual.perceptual_data(picture)
    base = perceptual.reduce_to(picture, perceptual.BASE_PX).convert("L")
    expected_p = imagehash.phash(base, hash_size=16).hash
    expected_d = imagehash.dhash(base, hash_size=16).hash
    assert len(data.phash) == HASH_BYTES == 32 and len(data.dhash) == 32
    assert (perceptual.unpack_hash(data.phash) == expected_p).all()
    assert (perceptual.unpack_hash(data.dhash) == expected_d).all()
    assert data.phash == np.packbits(expected_p.ravel()).tobytes()  # row-major, MSB first
    assert data.grey_size == GREY_SIZE == 64 and len(data.grey) == 64 * 64
    grey = perceptual.grey_array(data)
    assert grey.shape == (64, 64) and grey.dtype == np.uint8
    expect = np.asarray(base.resize((64, 64), Image.Resampling.LANCZOS))
    assert (grey == expect).all()
    assert data.aspect == 1.5


def test_hamming() -> None:
    a = bytes(32)
    assert perceptual.hamming(a, a) == 0
    assert perceptual.hamming(a, b"\xff" * 32) == 256
    assert perceptual.hamming(a, b"\x01" + bytes(31)) == 1


def test_same_picture_in_other_format_and_size_is_close_other_picture_far() -> None:
    picture = photo_like(800, 600, seed=2)
    a = analyse_bytes(encode(picture, "JPEG", quality=90), name="a.jpg").perceptual
    b = analyse_bytes(encode(picture.resize((400, 300)), "PNG"), name="b.png").perceptual
    c = analyse_bytes(encode(photo_like(800, 600, seed=7), "JPEG"), name="c.jpg").perceptual
    assert a is not None and b is not None and c is not None
    assert perceptual.hamming(a.phash, b.phash) <= 8
    assert perceptual.hamming(a.phash, c.phash) >= 60
    grey_a, grey_b = perceptual.grey_array(a).astype(int), perceptual.grey_array(b).astype(int)
    assert np.abs(grey_a - grey_b).mean() < 3


def test_hashes_are_computed_on_the_oriented_picture() -> None:
    picture = photo_like(400, 300, seed=4)
    upright_data = analyse_bytes(encode(picture, "JPEG", quality=95), name="u.jpg").perceptual
    for orientation in (3, 6, 8):
        stored = encode(stored_for(picture, orientation), "JPEG", quality=95,
                        exif=exif_with_orientation(orientation))
        rotated = analyse_bytes(stored, name="r.jpg").perceptual
        assert upright_data is not None and rotated is not None
        assert perceptual.hamming(upright_data.phash, rotated.phash) <= 8, orientation
        assert rotated.aspect == upright_data.aspect == 400 / 300


def test_grey_is_whole_picture_squashed() -> None:
    im = Image.new("RGB", (400, 100), (255, 255, 255))
    im.paste((0, 0, 0), (0, 0, 200, 100))  # left half black
    data = perceptual.perceptual_data(im)
    grey = perceptual.grey_array(data)
    assert grey[:, :28].max() < 10 and grey[:, 36:].min() > 245
    assert data.aspect == 4.0
    assert Image.open(io.BytesIO(encode(im, "PNG"))).size == (400, 100)
