"""Multi-index hashing (MIH) over binary perceptual hashes: candidates without all pairs.

Runs on any thread (worker). Pure numpy; an index is a plain object owned by
its caller (no module state). It is not safe to mutate one index from two
threads at once; reading from several threads after the last ``add`` is fine.

How it works (Norouzi, Punjani & Fleet, "Fast search in Hamming space with
multi-index hashing", CVPR 2012). A code of ``n_bits`` is cut into ``m``
disjoint substrings (never crossing a 64-bit word). For each substring the
index keeps the photos sorted by that substring's value, so every bucket of
equal values is a contiguous run.

**Guarantee (exact, no false negatives).** If two codes differ in at most
``r`` bits, then at least one of the ``m`` substrings differs in at most
``r' = floor(r / m)`` bits (otherwise the total would be at least
``m * (r' + 1) > r``). The index therefore enumerates, per substring, every
pair whose substring values are within ``r'`` bits -- equal runs when
``r' == 0`` (the fast path: any ``r < m``, e.g. r <= 15 with 16 x 16-bit
substrings), plus buckets ``v ^ f`` for every flip mask ``f`` of 1..r' bits
-- and keeps the pairs whose full Hamming distance is ``<= r``. So
``self_join(r)`` returns exactly the pairs a brute-force scan would (tested
on random data against brute force). A pair is reported once: by the first
substring within ``r'`` bits, so partial runs (``part=(i, n)``) can be spread
over worker threads and their union is the whole answer without duplicates.

**Memory.** Codes are kept as ``uint64`` words (32 bytes per 256-bit pHash,
8 bytes per 64-bit key); the per-substring sort orders are built lazily
(int32 + the substring values, ~6-8 bytes per photo and substring) and
dropped on ``add``. ``self_join`` yields within-radius pairs in chunks; the
substring collisions it checks are generated in bounded slices and never
materialised as a whole.

**Cost.** Substring collisions between unrelated codes are the cost: about
``m * N^2 / 2 / 2^(n_bits/m)`` for uniform random codes (16 x 16-bit at 1M:
1.2e8 one-word prefilter checks). Measured (2 cores, 1M codes,
``tests/benchmarks/bench_duplicates_scale.py``): 256-bit channel r=15 about
1.5-2 s, 64-bit low-frequency channel r=7 (4 x 16 bits, one flip per
substring) about 3.5 s. On real photos (``../shared/photos``, 261k unrelated
cross-folder pairs) substring collisions are 1.6x (256-bit) and 2.2x (low
block) the uniform rate, so a real library costs up to ~2x the synthetic
figure. A bucket of ``L`` near-identical codes (e.g. black frames) costs
``L^2/2`` checks on every substring -- which is also the honest answer, as all
of those pairs are candidates (the candidate graph keeps the nearest
``MAX_NEIGHBOURS`` per photo and logs the rest).

**A few queries** (an incremental run: a thousand new photos against a
million) do not sort the index: each substring of every indexed code is looked
up in a direct-address table of the values the queries accept (``_scan_many``),
one gather of N values per substring instead of an argsort of N; same answer.

Also here: ``DuplicateIndex`` (both channels plus exact-hash keys of a
library) and its ``CandidateGraph`` -- hence ~670 lines.
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

__all__ = [
    "HashIndex",
    "Pairs",
    "as_words",
    "hamming",
    "low_frequency_code",
    "HasHashes",
    "CandidateGraph",
    "DuplicateIndex",
    "DEFAULT_RADIUS",
    "DEFAULT_LOW_RADIUS",
]

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]

_HAS_BITWISE_COUNT = hasattr(np, "bitwise_count")
_POP8 = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def _popcount(x: U64) -> npt.NDArray[np.uint8]:
    """Per-element popcount of a uint64 array (np.bitwise_count on numpy >= 2, else a byte table)."""
    if _HAS_BITWISE_COUNT:
        return np.asarray(np.bitwise_count(x), dtype=np.uint8)
    b = np.ascontiguousarray(x).view(np.uint8).reshape(*x.shape, 8)
    return np.asarray(_POP8[b].sum(axis=-1, dtype=np.uint8), dtype=np.uint8)


def hamming(a: U64, b: U64) -> npt.NDArray[np.int64]:
    """Hamming distance between rows of two (k, words) uint64 arrays."""
    return np.asarray(_popcount(a ^ b).sum(axis=-1, dtype=np.int64), dtype=np.int64)


def as_words(codes: npt.ArrayLike | Sequence[bytes], n_bytes: int) -> U64:
    """Codes (bytes objects, or an (N, n_bytes) uint8 array) as (N, n_bytes // 8) uint64.

    Bit order is kept: word w holds bytes 8w..8w+7 big-endian, so bit i of the
    packed code is bit (63 - i % 64) of word i // 64.
    """
    if isinstance(codes, np.ndarray) and codes.dtype == np.uint64:
        return np.ascontiguousarray(codes.reshape(-1, n_bytes // 8))
    if isinstance(codes, (list, tuple)) and (not codes or isinstance(codes[0], (bytes, bytearray, memoryview))):
        raw = np.frombuffer(b"".join(bytes(c) for c in codes), dtype=np.uint8)
    else:
        raw = np.asarray(codes, dtype=np.uint8)
    if raw.size % n_bytes:
        raise ValueError(f"codes must be {n_bytes} bytes each")
    raw = np.ascontiguousarray(raw.reshape(-1, n_bytes))
    return np.asarray(raw.view(">u8").astype(np.uint64), dtype=np.uint64)


def low_frequency_code(phash: npt.ArrayLike | Sequence[bytes]) -> U64:
    """The 8x8 lowest-frequency corner of 256-bit pHashes as one uint64 each.

    ``np.packbits`` of the 16x16 matrix puts row r in bytes 2r, 2r+1, so the
    left 8 columns of rows 0..7 are bytes 0, 2, ..., 14. These signs of the
    lowest DCT frequencies survive border crops that scramble the full hash
    (measurements in the duplicates module docstring).
    """
    raw = as_words(phash, 32).astype(">u8").view(np.uint8).reshape(-1, 32)
    return as_words(np.ascontiguousarray(raw[:, 0:16:2]), 8)


@dataclass(frozen=True)
class Pairs:
    """A chunk of pairs: ids (a < b) and their Hamming distance."""

    a: I64
    b: I64
    distance: I64

    def __len__(self) -> int:
        return len(self.a)


def _layout(n_bits: int, m: int) -> list[tuple[int, int, int]]:
    """(word, shift, bits) of each substring; substrings never cross a 64-bit word."""
    words = n_bits // 64
    if n_bits % 64 or not words <= m <= n_bits or m % words:
        raise ValueError(f"cannot cut {n_bits} bits into {m} word-aligned substrings")
    per_word = m // words
    out = []
    for w in range(words):
        sizes = [64 // per_word + (1 if i < 64 % per_word else 0) for i in range(per_word)]
        if max(sizes) > 32:
            raise ValueError("substrings longer than 32 bits are not supported")
        end = 64
        for s in sizes:
            out.append((w, end - s, s))
            end -= s
    return out


def _flips(bits: int, radius: int) -> list[int]:
    """Every mask of 1..radius set bits among `bits` bits."""
    out: list[int] = []
    frontier = [0]
    for _ in range(radius):
        nxt = {f | (1 << b) for f in frontier for b in range(bits) if not f >> b & 1}
        frontier = sorted(nxt)
        out.extend(frontier)
    return out


def _cross(sa: I64, ca: I64, sb: I64, cb: I64, budget: int) -> Iterator[tuple[I64, I64]]:
    """All (sa[i] + u, sb[i] + v), u < ca[i], v < cb[i], in slices of about `budget` pairs."""
    sizes = ca * cb
    start = 0
    while start < len(sizes):
        csum = np.cumsum(sizes[start:])
        stop = start + max(1, int(np.searchsorted(csum, budget, side="right")))
        s_a, c_a, s_b, c_b = sa[start:stop], ca[start:stop], sb[start:stop], cb[start:stop]
        start = stop
        if len(s_a) == 1 and int(c_a[0]) * int(c_b[0]) > budget:  # one huge bucket pair: slice its rows
            rows = max(1, budget // int(c_b[0]))
            for r0 in range(0, int(c_a[0]), rows):
                r = np.arange(r0, min(int(c_a[0]), r0 + rows), dtype=np.int64)
                yield (np.repeat(s_a[0] + r, c_b[0]), np.tile(s_b[0] + np.arange(c_b[0], dtype=np.int64), len(r)))
            continue
        elem_start = np.repeat(s_a, c_a) + (np.arange(int(c_a.sum()), dtype=np.int64) - np.repeat(np.cumsum(c_a) - c_a, c_a))
        reps = np.repeat(c_b, c_a)
        pa = np.repeat(elem_start, reps)
        base_b = np.repeat(np.repeat(s_b, c_a), reps)
        pb = base_b + (np.arange(len(pa), dtype=np.int64) - np.repeat(np.cumsum(reps) - reps, reps))
        yield pa, pb


class HashIndex:
    """MIH index over ``n_bits``-bit codes with ``n_substrings`` substrings (see module doc)."""

    def __init__(self, n_bits: int = 256, n_substrings: int = 16, *, chunk_pairs: int = 1 << 20) -> None:
        self.n_bits = n_bits
        self.n_substrings = n_substrings
        self.chunk_pairs = chunk_pairs
        self._layout = _layout(n_bits, n_substrings)
        self._words = n_bits // 64
        self._ids: I64 = np.zeros(0, np.int64)
        self._codes: U64 = np.zeros((0, self._words), np.uint64)
        self._pending: list[tuple[I64, U64]] = []
        self._tables: list[tuple[npt.NDArray[np.int32], npt.NDArray[np.uint32]] | None] = []
        self._key_cache: list[npt.NDArray[np.uint32] | None] = []

    # ------------------------------------------------------------------ building

    def add(self, ids: npt.ArrayLike, codes: npt.ArrayLike | Sequence[bytes] | U64) -> None:
        """Append codes; ids are caller-chosen int64 (unique)."""
        ids_arr = np.asarray(ids, dtype=np.int64).ravel()
        words = as_words(codes, self.n_bits // 8)
        if len(ids_arr) != len(words):
            raise ValueError("ids and codes differ in length")
        if len(ids_arr):
            self._pending.append((ids_arr, words))
            self._tables = []

    def __len__(self) -> int:
        return len(self._ids) + sum(len(i) for i, _ in self._pending)

    def _consolidate(self) -> None:
        if self._pending:
            self._ids = np.concatenate([self._ids, *[i for i, _ in self._pending]])
            self._codes = np.concatenate([self._codes, *[c for _, c in self._pending]])
            self._pending = []
            self._tables = []
            self._key_cache = []

    @property
    def ids(self) -> I64:
        self._consolidate()
        return self._ids

    @property
    def codes(self) -> U64:
        self._consolidate()
        return self._codes

    def _keys(self, j: int, codes: U64) -> npt.NDArray[np.uint32]:
        w, shift, bits = self._layout[j]
        return ((codes[:, w] >> np.uint64(shift)) & np.uint64((1 << bits) - 1)).astype(np.uint32)

    def _table(self, j: int) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.uint32]]:
        """(order, sorted keys) of substring j, built lazily."""
        self._consolidate()
        if not self._tables:
            self._tables = [None] * self.n_substrings
        t = self._tables[j]
        if t is None:
            keys = self._keys(j, self._codes)
            small = keys.astype(np.uint16) if self._layout[j][2] <= 16 else keys  # radix sort for 16 bits
            order = np.argsort(small, kind="stable").astype(np.int32)
            t = (order, keys[order])
            self._tables[j] = t
        return t

    def sub_radius(self, radius: int) -> int:
        """Per-substring search radius that makes `radius` exact (pigeonhole)."""
        return radius // self.n_substrings

    # ------------------------------------------------------------------ searching

    def _first_substring(self, ca: U64, cb: U64, r_sub: int) -> npt.NDArray[np.intp]:
        """Index of the first substring within r_sub bits, per pair of codes."""
        first = np.full(len(ca), self.n_substrings, dtype=np.intp)
        for j in range(self.n_substrings - 1, -1, -1):
            d = _popcount((self._keys(j, ca) ^ self._keys(j, cb)).astype(np.uint64))
            first[d <= r_sub] = j
        return first

    def self_join(self, radius: int, *, part: tuple[int, int] = (0, 1)) -> Iterator[Pairs]:
        """Every pair of indexed codes within `radius` bits, exactly once, in chunks.

        ``part=(i, n)`` restricts the work to substrings j with j % n == i; the
        n parts together give every pair once (run them on n worker threads).
        """
        r_sub = self.sub_radius(radius)
        codes = self.codes
        ids = self._ids
        flips = _flips(self._layout[0][2], r_sub) if r_sub else []
        for j in range(part[0], self.n_substrings, part[1]):
            order, skeys = self._table(j)
            sorted_codes = codes[order]
            # prefilter on one whole word (not the one holding substring j when there is a choice):
            # a 1-D gather is far cheaper than the full distance, and it rejects almost every
            # unrelated pair (P[Bin(64, 1/2) <= 15] ~ 2e-5)
            pre = np.ascontiguousarray(sorted_codes[:, (self._layout[j][0] + 1) % self._words])
            for pa, pb in self._collisions(skeys, flips, len(order)):
                near = _popcount(pre[pa] ^ pre[pb]) <= radius
                if not near.any():
                    continue
                pa, pb = pa[near], pb[near]
                d = hamming(sorted_codes[pa], sorted_codes[pb])
                keep = d <= radius
                if not keep.any():
                    continue
                pa, pb, d = pa[keep], pb[keep], d[keep]
                if j:
                    own = self._first_substring(sorted_codes[pa], sorted_codes[pb], r_sub) == j
                    pa, pb, d = pa[own], pb[own], d[own]
                a, b = ids[order[pa]], ids[order[pb]]
                lo, hi = np.minimum(a, b), np.maximum(a, b)
                if len(lo):
                    yield Pairs(lo, hi, d)

    def _collisions(self, skeys: npt.NDArray[np.uint32], flips: list[int], n: int) -> Iterator[tuple[I64, I64]]:
        """Position pairs (in sorted order) whose substring values are equal or differ by a flip."""
        if n < 2:
            return
        # equal values: runs in the sorted keys; pair p with p + k while both stay in the run
        run_end = np.empty(n, dtype=np.int64)
        change = np.flatnonzero(skeys[1:] != skeys[:-1]) + 1
        bounds = np.concatenate([change, [n]])
        starts = np.concatenate([[0], change])
        run_end[:] = np.repeat(bounds, bounds - starts)
        pos = np.flatnonzero(run_end - np.arange(n) > 1).astype(np.int64)
        k = 1
        while len(pos):
            for s in range(0, len(pos), self.chunk_pairs):
                p = pos[s : s + self.chunk_pairs]
                yield p, p + k
            k += 1
            pos = pos[run_end[pos] - pos > k]
        if not flips:
            return
        uniq = skeys[starts]
        counts = (bounds - starts).astype(np.int64)
        bits = max(b for _, _, b in self._layout)
        table: npt.NDArray[np.int32] | None = None
        if bits <= 24:  # direct-address table: bucket number of every possible value, -1 if empty
            table = np.full(1 << bits, -1, dtype=np.int32)
            table[uniq] = np.arange(len(uniq), dtype=np.int32)
        for f in flips:
            target = uniq ^ np.uint32(f)
            src = np.flatnonzero(target > uniq)  # each unordered bucket pair once
            if table is not None:
                t = target[src]
                inside = t < len(table)
                src, t = src[inside], t[inside]
                dst = table[t].astype(np.int64)
            else:
                t = target[src]
                dst = np.minimum(np.searchsorted(uniq, t), len(uniq) - 1).astype(np.int64)
                dst[uniq[dst] != t] = -1
            hit = dst >= 0
            src, dst = src[hit], dst[hit]
            if len(src):
                yield from _cross(starts[src].astype(np.int64), counts[src], starts[dst].astype(np.int64), counts[dst], self.chunk_pairs)

    def _all_keys(self, j: int) -> npt.NDArray[np.uint32]:
        """Substring j of every indexed code, in index order (kept for later queries)."""
        self._consolidate()
        if len(self._key_cache) != self.n_substrings:
            self._key_cache = [None] * self.n_substrings
        k = self._key_cache[j]
        if k is None:
            k = self._keys(j, self._codes)
            self._key_cache[j] = k
        return k

    def _scan_many(self, q: U64, radius: int, flips: list[int], r_sub: int) -> Iterator[tuple[I64, I64, I64]]:
        """:meth:`query_many` for a few queries without sorting the index: per substring, every
        indexed code is looked up in a table of the values the queries accept (one gather of N
        values instead of an argsort of N), so a thousand new photos against a million cost a
        few tens of milliseconds per substring."""
        all_codes = self._codes
        bits = max(b for _, _, b in self._layout)
        fl = np.asarray(flips, dtype=np.uint32)
        for j in range(self.n_substrings):
            keys = self._all_keys(j)
            qk = self._keys(j, q)
            wanted = (qk[:, None] ^ fl[None, :]).ravel()
            rows_of = np.repeat(np.arange(len(q), dtype=np.int64), len(fl))
            o = np.argsort(wanted, kind="stable")
            wanted, rows_of = wanted[o], rows_of[o]
            values, first, counts = np.unique(wanted, return_index=True, return_counts=True)
            if bits <= 24:   # direct-address tables: where each wanted value starts, and how many
                start = np.zeros(1 << bits, dtype=np.int64)
                many = np.zeros(1 << bits, dtype=np.int64)
                start[values], many[values] = first, counts
                pos = np.flatnonzero(many[keys])
                k = keys[pos]
                lo, n = start[k], many[k]
            else:
                pos = np.flatnonzero(np.isin(keys, values))
                at = np.searchsorted(values, keys[pos])
                lo, n = first[at].astype(np.int64), counts[at].astype(np.int64)
            if not len(pos):
                continue
            for pb, wa in _cross(pos.astype(np.int64), np.ones(len(pos), np.int64), lo, n, self.chunk_pairs):
                found = self._close_pairs(q, all_codes, rows_of[wa], pb, radius, j, r_sub)
                if found is not None:
                    yield found

    def query_many(self, codes: npt.ArrayLike | Sequence[bytes] | U64, radius: int) -> Iterator[tuple[I64, I64, I64]]:
        """For each query code, the indexed ids within `radius`: chunks of (query row, id, distance).

        A few queries against an index whose sorted tables are not built yet scan the index
        (:meth:`_scan_many`) rather than sort it; the answer is the same."""
        q = as_words(codes, self.n_bits // 8)
        if not len(q) or not len(self):
            return
        r_sub = self.sub_radius(radius)
        flips = [0, *_flips(self._layout[0][2], r_sub)] if r_sub else [0]
        self._consolidate()
        if not self._tables and len(q) * len(flips) <= len(self._ids):
            yield from self._scan_many(q, radius, flips, r_sub)
            return
        all_codes = self.codes
        for j in range(self.n_substrings):
            order, skeys = self._table(j)
            qk = self._keys(j, q)
            for f in flips:
                t = qk ^ np.uint32(f)
                lo = np.searchsorted(skeys, t, side="left")
                hi = np.searchsorted(skeys, t, side="right")
                rows = np.flatnonzero(hi > lo)
                if not len(rows):
                    continue
                for qa, pb in _cross(rows.astype(np.int64), np.ones(len(rows), np.int64), lo[rows].astype(np.int64), (hi - lo)[rows].astype(np.int64), self.chunk_pairs):
                    found = self._close_pairs(q, all_codes, qa, order[pb], radius, j, r_sub)
                    if found is not None:
                        yield found

    def _close_pairs(self, q: U64, all_codes: U64, qa: I64, cand: I64, radius: int, j: int,
                     r_sub: int) -> tuple[I64, I64, I64] | None:
        """Of the candidate pairs (query row ``qa``, index row ``cand``) met in substring table
        ``j``: those within ``radius``, each reported by its first matching substring only, as
        (query row, id, distance); None if none."""
        d = hamming(q[qa], all_codes[cand])
        keep = d <= radius
        qa, cand, d = qa[keep], cand[keep], d[keep]
        if j and len(qa):
            own = self._first_substring(q[qa], all_codes[cand], r_sub) == j
            qa, cand, d = qa[own], cand[own], d[own]
        return (qa, self._ids[cand], d) if len(qa) else None

    def query(self, code: bytes | npt.ArrayLike, radius: int) -> tuple[I64, I64]:
        """Ids within `radius` of one code and their distances, nearest first (ties by id)."""
        parts = list(self.query_many([bytes(code)] if isinstance(code, (bytes, bytearray)) else np.asarray(code)[None], radius))
        if not parts:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        ids = np.concatenate([p[1] for p in parts])
        dist = np.concatenate([p[2] for p in parts])
        o = np.lexsort((ids, dist))
        return ids[o], dist[o]


# --------------------------------------------------------------------------- candidate graph

DEFAULT_RADIUS = 15  # 256-bit channel: r < 16 substrings, so equal-substring runs are exact
DEFAULT_LOW_RADIUS = 7  # 64-bit low-frequency channel (4 x 16-bit substrings, r' = 1): border crops
MAX_NEIGHBOURS = 64  # per photo; more means a degenerate hash (flat frames): the nearest are kept

_log = logging.getLogger(__name__)


class HasHashes(Protocol):
    """What the index reads from a photo (PhotoFingerprint satisfies it)."""

    @property
    def id(self) -> int: ...
    @property
    def phash(self) -> bytes: ...
    @property
    def content_hash(self) -> str: ...
    @property
    def image_data_hash(self) -> str | None: ...


def _hash_key(h: str | None) -> int:
    """64-bit key of a content / image-data hash (0 = none); full hashes are compared at grouping time."""
    if not h:
        return 0
    return int.from_bytes(hashlib.blake2b(h.encode(), digest_size=8).digest(), "little") or 1


@dataclass(frozen=True)
class CandidateGraph:
    """Hash neighbours of the photos that have any: CSR adjacency plus exact-hash cliques."""

    vertices: I64  # sorted ids with at least one neighbour
    indptr: I64
    neighbours: I64
    distances: I64  # full 256-bit pHash distance of each edge
    cliques: dict[int, tuple[int, ...]]  # id -> ids with the same content or image-data key

    def neighbours_of(self, pid: int) -> Iterator[tuple[int, int]]:
        """(neighbour id, pHash distance) pairs; clique members come with distance -1 if not hash-adjacent."""
        i = int(np.searchsorted(self.vertices, pid))
        seen: set[int] = set()
        if i < len(self.vertices) and self.vertices[i] == pid:
            lo, hi = int(self.indptr[i]), int(self.indptr[i + 1])
            for n, d in zip(self.neighbours[lo:hi].tolist(), self.distances[lo:hi].tolist()):
                seen.add(n)
                yield n, d
        for n in self.cliques.get(pid, ()):
            if n != pid and n not in seen:
                yield n, -1


def _csr(a: I64, b: I64, d: I64) -> tuple[I64, I64, I64, I64]:
    """Symmetric CSR from undirected edges: deduplicated, nearest MAX_NEIGHBOURS per photo."""
    src = np.concatenate([a, b])
    dst = np.concatenate([b, a])
    dist = np.concatenate([d, d])
    o = np.lexsort((dist, dst, src))  # by src, dst, then distance
    src, dst, dist = src[o], dst[o], dist[o]
    if len(src):  # an edge found by both channels: keep one
        first = np.concatenate([[True], (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])])
        src, dst, dist = src[first], dst[first], dist[first]
    o = np.lexsort((dst, dist, src))  # nearest first within each row
    src, dst, dist = src[o], dst[o], dist[o]
    vertices, start, counts = np.unique(src, return_index=True, return_counts=True)
    keep = (np.arange(len(src)) - np.repeat(start, counts)) < MAX_NEIGHBOURS
    if not keep.all():
        _log.warning("%d photos have more than %d hash neighbours (degenerate hashes, e.g. flat frames); "
                     "the nearest %d are kept", int((counts > MAX_NEIGHBOURS).sum()), MAX_NEIGHBOURS, MAX_NEIGHBOURS)
        src, dst, dist = src[keep], dst[keep], dist[keep]
        vertices, start, counts = np.unique(src, return_index=True, return_counts=True)
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return vertices.astype(np.int64), indptr, dst.astype(np.int64), dist.astype(np.int64)


class DuplicateIndex:
    """The hashes of a library: two MIH channels plus exact content / image-data keys.

    Holds ~120 bytes per photo (no greys), so a million photos fit in ~150 MB.
    """

    def __init__(self, *, radius: int = DEFAULT_RADIUS, low_radius: int | None = DEFAULT_LOW_RADIUS) -> None:
        self.radius = radius
        self.low_radius = low_radius
        self.full = HashIndex(256, 16)
        self.low = HashIndex(64, 4)
        self._keys: list[tuple[I64, npt.NDArray[np.uint64], npt.NDArray[np.uint64]]] = []
        self._order: I64 | None = None
        self._order_n = -1
        self._ascending = False

    def __len__(self) -> int:
        return len(self.full)

    def add(self, photos: Iterable[HasHashes]) -> None:
        ps = list(photos)
        self.add_arrays(
            np.array([p.id for p in ps], dtype=np.int64),
            [p.phash for p in ps],
            np.array([_hash_key(p.content_hash) for p in ps], dtype=np.uint64),
            np.array([_hash_key(p.image_data_hash) for p in ps], dtype=np.uint64),
        )

    def add_arrays(self, ids: npt.ArrayLike, phashes: npt.ArrayLike | Sequence[bytes], content_keys: npt.ArrayLike, data_keys: npt.ArrayLike) -> None:
        """Bulk add: ids (N,), pHashes (N x 32 bytes), 64-bit keys of the content / image-data hashes (0 = none)."""
        ids_a = np.asarray(ids, dtype=np.int64)
        words = as_words(phashes, 32)
        self.full.add(ids_a, words)
        self.low.add(ids_a, low_frequency_code(words))
        self._keys.append((ids_a, np.asarray(content_keys, dtype=np.uint64), np.asarray(data_keys, dtype=np.uint64)))

    def _all_keys(self) -> tuple[I64, npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
        if len(self._keys) > 1:
            self._keys = [tuple(np.concatenate(x) for x in zip(*self._keys))]  # type: ignore[list-item]
        return self._keys[0] if self._keys else (np.zeros(0, np.int64), np.zeros(0, np.uint64), np.zeros(0, np.uint64))

    def _cliques(self, only: I64 | None = None) -> dict[int, tuple[int, ...]]:
        ids, ck, dk = self._all_keys()
        out: dict[int, set[int]] = {}
        for keys in (ck, dk):
            sel = keys != 0
            if only is not None:
                sel &= np.isin(keys, keys[np.isin(ids, only)])
            o = np.lexsort((ids[sel], keys[sel]))
            i, k = ids[sel][o], keys[sel][o]
            if len(k) < 2:
                continue
            same = k[1:] == k[:-1]
            shared = np.concatenate([[False], same]) | np.concatenate([same, [False]])
            i, k = i[shared], k[shared]  # only keys held by two photos or more
            for grp in np.split(i, np.flatnonzero(k[1:] != k[:-1]) + 1):
                g = set(grp.tolist())
                for x in g:
                    out.setdefault(x, set()).update(g)
        return {k: tuple(sorted(v)) for k, v in out.items()}

    def _rows(self, ids: I64) -> I64:
        """Rows of the given (indexed) ids in the full channel's arrays."""
        all_ids = self.full.ids
        if self._order is None or self._order_n != len(all_ids):
            ascending = len(all_ids) < 2 or bool((all_ids[1:] > all_ids[:-1]).all())
            # ids added in order (as a catalog's are loaded): rows are found without a sorter
            self._order = np.zeros(0, np.int64) if ascending else np.argsort(all_ids, kind="stable")
            self._order_n, self._ascending = len(all_ids), ascending
        if self._ascending:
            return np.asarray(np.searchsorted(all_ids, ids), dtype=np.int64)
        return np.asarray(self._order[np.searchsorted(all_ids, ids, sorter=self._order)], dtype=np.int64)

    def _full_distance(self, a: I64, b: I64) -> I64:
        codes = self.full.codes
        return hamming(codes[self._rows(a)], codes[self._rows(b)])

    def _edges(self, part: tuple[int, int], cancel_check: Callable[[], None] | None) -> tuple[I64, I64, I64]:
        found: list[tuple[I64, I64, I64]] = []
        for p in self.full.self_join(self.radius, part=part):
            if cancel_check is not None:
                cancel_check()
            found.append((p.a, p.b, p.distance))
        for p in self.low.self_join(self.low_radius, part=part) if self.low_radius is not None else ():
            if cancel_check is not None:
                cancel_check()
            found.append((p.a, p.b, self._full_distance(p.a, p.b)))
        if not found:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
        return tuple(np.concatenate([f[i] for f in found]) for i in range(3))  # type: ignore[return-value]

    def candidate_graph(
        self, cancel_check: Callable[[], None] | None = None, *, executor: Executor | None = None, parts: int = 2
    ) -> CandidateGraph:
        """Self-join both channels and return the graph of hash neighbours.

        With an ``executor`` the join runs as ``parts`` tasks on it (numpy
        releases the GIL in the heavy steps). Never pass the pool the caller
        itself runs on: waiting on tasks queued behind yourself deadlocks
        (lessons.md, trap 6).
        """
        self.full.ids, self.low.ids  # consolidate before any thread reads
        for j in range(self.full.n_substrings):
            self.full._table(j)
        if self.low_radius is not None:
            for j in range(self.low.n_substrings):
                self.low._table(j)
        self._rows(np.zeros(0, np.int64))
        if executor is None or parts < 2:
            a, b, d = self._edges((0, 1), cancel_check)
        else:
            futures = [executor.submit(self._edges, (i, parts), cancel_check) for i in range(parts)]
            chunks = [f.result() for f in futures]
            a, b, d = (np.concatenate([c[i] for c in chunks]) for i in range(3))
        v, ip, nb, dist = _csr(a, b, d)
        return CandidateGraph(v, ip, nb, dist, self._cliques())

    def neighbours(self, ids: Sequence[int], *,
                   same_hash: Mapping[int, Iterable[int]] | None = None) -> dict[int, dict[int, int]]:
        """Hash neighbours (both channels, both cliques) of indexed photos: id -> {neighbour: distance}.

        ``same_hash``: the exact-hash cliques of ``ids`` (id -> the other indexed photos with its
        content or image-data hash), when the caller looked them up itself (an index built
        without the hash keys, ``add_arrays`` with zero keys); by default they come from the keys."""
        want = np.asarray(list(ids), dtype=np.int64)
        all_ids, codes = self.full.ids, self.full.codes
        rows = np.flatnonzero(np.isin(all_ids, want))
        out: dict[int, dict[int, int]] = {int(i): {} for i in all_ids[rows]}
        for qa, nid, d in self.full.query_many(codes[rows], self.radius):
            for q, n, x in zip(all_ids[rows][qa].tolist(), nid.tolist(), d.tolist()):
                if n != q:
                    out[q][n] = x
        if self.low_radius is not None:
            low_codes = self.low.codes
            for qa, nid, _ in self.low.query_many(low_codes[rows], self.low_radius):
                q = all_ids[rows][qa]
                full_d = self._full_distance(q, nid)
                for qq, n, x in zip(q.tolist(), nid.tolist(), full_d.tolist()):
                    if n != qq:
                        out[qq][n] = x
        for q, nb in out.items():  # the same cap as candidate_graph's CSR rows
            if len(nb) > MAX_NEIGHBOURS:
                out[q] = dict(sorted(nb.items(), key=lambda kv: (kv[1], kv[0]))[:MAX_NEIGHBOURS])
        cliques = self._cliques(want) if same_hash is None else same_hash
        for pid, members in cliques.items():
            if pid in out:
                for n in members:
                    if n != pid:
                        out[pid].setdefault(n, -1)
        return out
