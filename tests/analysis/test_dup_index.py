"""Multi-index hashing: exactly the brute-force answer, incremental, partitionable."""
from __future__ import annotations

import numpy as np
import pytest

from lumina_desktop.analysis import dup_index
from lumina_desktop.analysis.dup_index import HashIndex, as_words, hamming, low_frequency_code


def brute_force(ids: np.ndarray, words: np.ndarray, radius: int) -> set[tuple[int, int, int]]:
    out: set[tuple[int, int, int]] = set()
    for i in range(len(ids)):
        d = hamming(words[i + 1 :], words[i][None])
        for k in np.flatnonzero(d <= radius):
            a, b = int(ids[i]), int(ids[i + 1 + k])
            out.add((min(a, b), max(a, b), int(d[k])))
    return out


def planted(rng: np.random.Generator, n: int, n_bytes: int) -> np.ndarray:
    """Random codes where a third are near copies (1-12 flipped bits) of others."""
    codes = rng.integers(0, 256, (n, n_bytes), dtype=np.uint8)
    for i in range(0, n, 3):
        j = int(rng.integers(0, n))
        codes[i] = codes[j]
        for bit in rng.choice(n_bytes * 8, int(rng.integers(1, 13)), replace=False):
            codes[i, bit // 8] ^= np.uint8(1 << (7 - bit % 8))
    return codes


def joined(idx: HashIndex, radius: int, part: tuple[int, int] = (0, 1)) -> list[tuple[int, int, int]]:
    return [(int(a), int(b), int(d)) for p in idx.self_join(radius, part=part) for a, b, d in zip(p.a, p.b, p.distance)]


@pytest.mark.parametrize(
    ("n_bits", "m", "radii"),
    [(256, 16, (0, 4, 12, 15, 16, 24)), (64, 4, (0, 3, 7, 9)), (64, 3, (2, 5)), (128, 8, (7, 17))],
)
def test_self_join_equals_brute_force(n_bits: int, m: int, radii: tuple[int, ...]) -> None:
    rng = np.random.default_rng(n_bits + m)
    n = 1500
    codes = planted(rng, n, n_bits // 8)
    ids = rng.permutation(n).astype(np.int64) * 5 + 11
    idx = HashIndex(n_bits, m, chunk_pairs=500)  # small chunks exercise the slicing
    idx.add(ids[:700], codes[:700])
    idx.add(ids[700:], codes[700:])
    words = as_words(codes, n_bits // 8)
    for r in radii:
        got = joined(idx, r)
        assert len(got) == len(set(got)), "a pair was reported twice"
        assert set(got) == brute_force(ids, words, r), f"radius {r}"
        parts = [x for i in range(3) for x in joined(idx, r, (i, 3))]
        assert sorted(parts) == sorted(got)


def test_query_matches_brute_force_and_sees_later_adds() -> None:
    rng = np.random.default_rng(7)
    codes = planted(rng, 900, 32)
    words = as_words(codes, 32)
    idx = HashIndex()
    idx.add(np.arange(600), codes[:600])
    ids, dist = idx.query(codes[5].tobytes(), 20)
    ref = sorted((int(d), i) for i, d in enumerate(hamming(words[:600], words[5][None])) if d <= 20)
    assert [(int(d), int(i)) for i, d in zip(ids, dist)] == ref
    idx.add(np.arange(600, 900), codes[600:])
    ids, dist = idx.query(codes[5], 20)
    ref = sorted((int(d), i) for i, d in enumerate(hamming(words, words[5][None])) if d <= 20)
    assert [(int(d), int(i)) for i, d in zip(ids, dist)] == ref


def test_query_many_equals_per_code_queries() -> None:
    rng = np.random.default_rng(3)
    codes = planted(rng, 600, 8)
    idx = HashIndex(64, 4)
    idx.add(np.arange(600), codes)
    seen: set[tuple[int, int]] = set()
    for q, ids, _ in idx.query_many(codes[:50], 7):
        for a, b in zip(q.tolist(), ids.tolist()):
            assert (a, b) not in seen
            seen.add((a, b))
    expected = {(q, int(i)) for q in range(50) for i in idx.query(codes[q], 7)[0]}
    assert seen == expected


def test_popcount_fallback_matches(monkeypatch: pytest.MonkeyPatch) -> None:
    x = np.random.default_rng(1).integers(0, 2**63, (100, 4), dtype=np.uint64)
    fast = dup_index._popcount(x)
    monkeypatch.setattr(dup_index, "_HAS_BITWISE_COUNT", False)
    assert np.array_equal(dup_index._popcount(x), fast)


def test_low_frequency_code_is_the_8x8_corner() -> None:
    bits = np.random.default_rng(5).integers(0, 2, (3, 16, 16)).astype(bool)
    packed = [np.packbits(b.ravel()).tobytes() for b in bits]
    low = low_frequency_code(packed)
    back = np.unpackbits(low.astype(">u8").view(np.uint8).reshape(3, 8), axis=1).reshape(3, 8, 8)
    assert np.array_equal(back.astype(bool), bits[:, :8, :8])


def test_layout_rejects_substrings_crossing_words() -> None:
    with pytest.raises(ValueError):
        HashIndex(256, 6)
