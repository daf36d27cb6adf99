"""Pixel verification: every kind of copy is 'same', look-alikes are 'different', bad input is 'unverified'."""
from __future__ import annotations

from dataclasses import replace

import pytest

try:
    from tests.analysis.test_dup_support import NEGATIVES, POSITIVES, crop, fingerprint_image, scene
except ImportError:  # tests/analysis is not a package
    from test_dup_support import NEGATIVES, POSITIVES, crop, fingerprint_image, scene

from lumina_desktop.analysis.dup_verify import verify_pair

SEEDS = (0, 1, 2)


@pytest.fixture(scope="module")
def originals() -> dict[int, object]:
    return {s: scene(s) for s in SEEDS}


@pytest.mark.parametrize("name", sorted(POSITIVES))
def test_copies_are_same(name: str, originals: dict) -> None:
    for seed in SEEDS:
        a = fingerprint_image(originals[seed], 1)
        b = fingerprint_image(POSITIVES[name](originals[seed]), 2)
        v = verify_pair(a, b)
        assert v.state == "same", (name, seed, v)
        assert v.similarity is not None and v.similarity >= 0.985
        assert verify_pair(b, a).state == "same", (name, seed, "reversed")


@pytest.mark.parametrize("name", sorted(NEGATIVES))
def test_lookalikes_are_different(name: str, originals: dict) -> None:
    for seed in SEEDS:
        a = fingerprint_image(originals[seed], 1)
        b = fingerprint_image(NEGATIVES[name](originals[seed]), 2)
        assert verify_pair(a, b).state == "different", (name, seed)


@pytest.mark.parametrize(
    "sibling",
    [
        {"move": (0.04, 0.0)},  # the subject moved, camera still
        {"shift": (0.015, 0.01)},  # camera moved a little
        {"shift": (0.02, 0.0), "move": (0.03, 0.0)},
    ],
)
def test_burst_siblings_are_different(sibling: dict) -> None:
    for seed in SEEDS:
        a = fingerprint_image(scene(seed), 1)
        b = fingerprint_image(scene(seed, **sibling), 2)
        assert verify_pair(a, b).state == "different", (sibling, seed)


def test_crop_amount_decides_and_is_reported(originals: dict) -> None:
    a = fingerprint_image(originals[0], 1)
    five = verify_pair(a, fingerprint_image(crop(originals[0], 0.05, 0, 0, 0), 2))
    ten = verify_pair(a, fingerprint_image(crop(originals[0], 0.05, 0.05, 0.05, 0.05), 3))  # same aspect
    assert five.state == "same" and five.crop == pytest.approx(0.05, abs=0.01)
    assert ten.state == "different" and ten.crop == pytest.approx(0.10, abs=0.01)
    assert "crop" in ten.reason
    wide = verify_pair(a, fingerprint_image(crop(originals[0], 0.05, 0.0, 0.05, 0.0), 4))
    assert wide.state == "different" and "aspect" in wide.reason  # 10 % off the width only


@pytest.mark.parametrize(
    ("grey", "why"),
    [(None, "missing"), (b"\x00" * 100, "corrupt")],
)  # a flat grey is not unusable: featureless pairs are compared by tone (test_dup_flat_and_keeper.py)
def test_unusable_grey_is_unverified_never_same_or_different(grey: bytes | None, why: str, originals: dict) -> None:
    a = fingerprint_image(originals[0], 1)
    b = replace(a, id=2, grey=grey)
    for x, y in ((a, b), (b, a)):
        v = verify_pair(x, y)
        assert v.state == "unverified"
        assert v.similarity is None
        assert why in v.reason


def test_aspect_mismatch_is_different(originals: dict) -> None:
    a = fingerprint_image(originals[0], 1)
    squashed = fingerprint_image(originals[0].resize((480, 480)), 2)
    v = verify_pair(a, squashed)
    assert v.state == "different" and "aspect" in v.reason


def test_tiny_copy_is_compared_at_its_own_resolution(originals: dict) -> None:
    a = fingerprint_image(originals[1], 1)
    tiny = fingerprint_image(originals[1].resize((48, 36)), 2)
    assert verify_pair(a, tiny).state == "same"
