"""A few queries against a large index scan it instead of sorting it: same answer, either way."""
from __future__ import annotations

import numpy as np

from lumina_desktop.analysis.dup_index import DuplicateIndex, HashIndex


def planted(n: int, n_bytes: int, seed: int, flips: int) -> np.ndarray:
    """Random codes; every 10th a copy of the one before it with up to ``flips`` bits flipped."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 256, (n, n_bytes), dtype=np.uint8)
    for i in range(1, n, 10):
        codes[i] = codes[i - 1]
        for b in rng.choice(n_bytes * 8, int(rng.integers(0, flips + 1)), replace=False):
            codes[i, b // 8] ^= np.uint8(1 << (7 - b % 8))
    return codes


def answers(index: HashIndex, queries: np.ndarray, radius: int) -> list[tuple[int, int, int]]:
    out = [(int(a), int(b), int(d)) for qa, ids, dist in index.query_many(queries, radius)
           for a, b, d in zip(qa, ids, dist)]
    assert len(out) == len(set(out))      # each (query, photo) once
    return sorted(out)


def test_scan_of_the_index_equals_its_sorted_tables_on_both_channels() -> None:
    for n_bits, m, radius, flips in ((256, 16, 15, 14), (64, 4, 7, 6), (64, 2, 3, 3)):   # 32-bit substrings: no table
        codes = planted(20_000, n_bits // 8, seed=n_bits, flips=flips)
        queries = codes[::97][:150 if n_bits == 256 else 600]   # few queries: the index is scanned
        scanned = HashIndex(n_bits, m)
        scanned.add(np.arange(len(codes)) * 3 + 1, codes)
        assert not scanned._tables
        by_scan = answers(scanned, queries, radius)
        assert not scanned._tables           # no table was sorted
        tables = HashIndex(n_bits, m)
        tables.add(np.arange(len(codes)) * 3 + 1, codes)
        for j in range(m):
            tables._table(j)                 # sorted tables built: the search uses them
        assert answers(tables, queries, radius) == by_scan
        # and both equal brute force
        bits = np.unpackbits(codes, axis=1).astype(np.int16)
        qbits = np.unpackbits(queries, axis=1).astype(np.int16)
        dist = (qbits[:, None, :] != bits[None, :, :]).sum(axis=2)
        qa, pos = np.nonzero(dist <= radius)
        assert by_scan == sorted((int(a), int(p) * 3 + 1, int(dist[a, p])) for a, p in zip(qa, pos))
        assert len(by_scan) >= len(queries) + 20   # planted near copies found, not just the queries themselves


def test_neighbours_with_cliques_looked_up_elsewhere_equal_the_index_keys() -> None:
    codes = planted(5_000, 32, seed=3, flips=12)
    ids = np.arange(len(codes), dtype=np.int64) + 100
    content = np.arange(len(codes), dtype=np.uint64) + 1
    content[50:53] = 7777                                # three byte-identical files
    data = np.zeros(len(codes), np.uint64)
    data[[60, 4000]] = 4242                              # same pixels, other metadata
    with_keys = DuplicateIndex()
    with_keys.add_arrays(ids, codes, content, data)
    without = DuplicateIndex()
    without.add_arrays(ids, codes, np.zeros(len(codes), np.uint64), np.zeros(len(codes), np.uint64))
    query = [100, 101, 150, 160, 4100, 4999]
    same = {150: {151, 152}, 160: {4100}, 4100: {160}}
    assert without.neighbours(query, same_hash=same) == with_keys.neighbours(query)
    found = with_keys.neighbours(query)
    assert {151, 152} <= found[150].keys() and 4100 in found[160] and 160 in found[4100]
