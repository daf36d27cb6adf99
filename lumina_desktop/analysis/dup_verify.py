"""Pixel verification of near-copy candidates on the stored 64x64 greys.

Runs on any thread (worker): pure numpy, no I/O, no shared mutable state (the
module-level tables below are built once at import and never written).

A candidate pair found by hash distance is only a *candidate*: burst siblings,
HDR on/off pairs and overlapping crops of one scene reach small pHash
distances too (lessons.md, trap 2). This module decides on pixels:

1. **Validity.** A grey that is missing or of the wrong length gives
   ``unverified`` -- never ``same`` or ``different`` (lessons.md, trap 3).
2. **Aspect.** Displayed aspect ratios that differ by more than a border crop
   of ``max_crop`` allows (|ln(aspect_a/aspect_b)| > ``max_aspect_log``) give
   ``different`` without looking further.
2b. **Featureless pictures.** When either grey is too flat for SSIM (detail
   under ``min_detail``: solid colours, blank previews, near-solid
   backgrounds, which all hash alike), only tones can be compared, on 8x8
   block means of the greys. Two pictures with a layout (block-mean spread
   >= ``min_layout_spread``, e.g. soft gradients) differ when their layouts
   do not correlate (< ``min_layout_corr``, brightness-independent).
   Otherwise they differ when their mean brightness is more than
   ``max_flat_tone_diff`` grey levels apart (white vs black vs blue vs
   purple) or their block tones are (p90 > ``max_flat_block_diff``: a flat
   card vs a picture with a layout). Everything else stays ``unverified``:
   the grey holds no colour, so two flat pictures of equal brightness (red
   and green can have equal luma) are never called the same. Identical
   files and same-pixel copies never get here (content / image-data hash).
3. **Alignment.** The grey of B is modelled as the window
   ``[ox, ex] x [oy, ey]`` of A (normalised coordinates; the greys are
   squashed to 64x64, so each axis scales independently). Row and column
   mean profiles give the best windows per axis on a half-pixel grid (crops up
   to 12 % per axis, so a 10 % crop is *recognised* as a 10 % crop instead of
   being half-aligned), the best 3 per axis plus "no crop" are tried in 2-D,
   and two parabolic refinement steps bring it to about 1/8 pixel.
4. **Geometry.** A copy is a border crop: one view must contain the other
   (``containment misfit`` <= ``containment_tol``), and no axis may lose more
   than ``max_crop`` of the larger view. Two overlapping views of one scene
   (camera pan in a burst, two different crops) fail containment.
5. **Similarity.** Both aligned greys are blurred (sigma 0.7 px, to level the
   interpolation blur), B's brightness is mapped to A's by mean/std (handles
   brightness, exposure and mild levels changes), and SSIM (Gaussian window,
   sigma 1.5 px) is computed over the overlap. ``similarity`` is the mean of
   the SSIM map after dropping its worst 4 % of pixels, so a
   small watermark does not count; ``changed_area`` is the share of pixels
   whose local SSIM is below 0.7, and a large changed area (a content edit)
   fails on its own. Resolution: when a picture has under 64 px on a side,
   both greys are first brought down to that resolution.

Thresholds, chosen from measurements
------------------------------------
``tests/analysis/test_dup_measurements.py`` (run it as a script for the full
table) fingerprints 153 real photos from ``../shared/photos`` (Debian, skimage,
sklearn, 20+ camera makes of exif-samples, photoprism faces and scenes,
ukbench, every 10th horses frame, Julia2, Joy), applies each transformation,
and adds every real burst pair (horses 411, cs639 245, Sony AEB brackets 105,
PhotoTriage 5), the HDR on/off pairs, the motorcycle stereo pair and 459
random pairs. ``similarity`` = trimmed SSIM. Brief's fingerprint recipe; the
ingest recipe (``analysis.perceptual``: LANCZOS from a 256 px base) gives the
same verdicts within one point.

===============================  ===  ====================  ==========
copies (should be same)           n   sim min / p5 / p50     same
===============================  ===  ====================  ==========
JPEG q50 / q75 / q95             459  .996 / .998 / 1.000   99.3 %
resize 25 / 50 / 75 %            459  .974 / .980 / 1.000   99.3 %
PNG / WebP                       306  .994 / .997 / 1.000   99.3 %
rotated pixels + EXIF tag        153  1.00 / 1.00 / 1.000   99.3 %
brightness x0.85 / x1.2          306  .951 / .983 / .999    99.3 / 90.2 %
gamma 0.8 / 1.25, contrast 1.15  459  .843 / .977 / .998    98.7 / 93.5 / 96.1 %
border crop 1-5 % (6 kinds)      918  .989 / .991 / .995    98.7-99.3 %
watermark text 3 % / logo 2 %    306  .855 / .988 / .998    94.8 / 97.4 %
===============================  ===  ====================  ==========

(0.7 % of every row is one featureless photo: 'unverified', by design.)
Misses are highlight clipping (x1.2), dark tones crushed by gamma 1.25, and
text crossing busy detail.

===============================  ===  ====================  ==========
look-alikes (should differ)       n   sim max (p95)         same
===============================  ===  ====================  ==========
real burst siblings              766  .992 (.84-.98)        4 (0.5 %)
HDR on/off, stereo pair            3  .977                  0
mirror / vertical flip           306  .974                  0
crop 10 / 15 / 20 / 30 %         765  1.000 -- measured as a 9-11 % crop: 0
overlapping 85 % crops           153  .971 (containment)    0
content edit (12 % blob)         153  .984 (changed area)   0
random different photos          459  .860                  0
===============================  ===  ====================  ==========

The four burst pairs that pass (three Julia1 selfie pairs 0.15 s apart, one
horses pair) are frames without visible motion: at 64x64 they are
indistinguishable from a re-encoded copy. A threshold of 0.987 would drop
them to one but lose 2 points of recall on resized and cropped copies; 0.985
is the balance. Such pairs only ever reach the near-copy review queue, and a
"not a duplicate" decision sticks. Thresholds: aspect 0.085 (a 7.5 % crop plus
rounding), crop <= 7.5 % per axis (5 % crops measure 4.6-6.4 %, 10 % crops
9-11 %), containment within 0.012 (0.75 px), similarity >= 0.985 (0.97 when a
picture has under 64 px on a side: 25x17-px copies score 0.973-0.985),
changed area <= 7 % (watermarks reach 5.4 % at p95, 12 % blobs 9.9 % at p5),
detail >= 2.5 grey levels (below it SSIM calls featureless mirrors similar).

Featureless pairs (the 55 low-detail pictures of ``../shared/photos`` with a
side >= 64 px plus 15 synthetic ones -- solid colours, gradients, a word on a
card, paper, blurred photos -- each with the copies above): re-encodes,
resizes, crops <= 5 % and watermarks move the mean by <= 3.3 grey levels and
the p90 block difference by <= 1 (contrast x1.15: 5 and 5); layout
correlations of copies are >= 0.72 (watermarks; others >= 0.979), of
mirrors -1 to 1 (p50 0.56) and of different low-detail pictures -0.12 to
0.98 (p50 0.17). Brightness and gamma edits move flat tones by 19-39
levels: they become 'different', as any two flat pictures of different
brightness. Hence tone 6, block 8, spread 4, layout correlation 0.6. The
solid colours of the corpus are 7-255 levels apart (black 0, dark blue 22,
blue 29, blue 37, purple 109, grey 137, white 255); a real library's flat
frames of equal luma but different colour stay 'unverified'.

Cost: ~2-3 ms per pair on one core (alignment dominates).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

__all__ = [
    "GREY_SIDE",
    "GREY_BYTES",
    "VerifyThresholds",
    "DEFAULT_THRESHOLDS",
    "Verification",
    "VerificationState",
    "HasGrey",
    "PreparedGrey",
    "prepare_grey",
    "verify_pair",
    "verify_prepared",
]

GREY_SIDE = 64
GREY_BYTES = GREY_SIDE * GREY_SIDE

FloatArray = npt.NDArray[np.float32]
BoolArray = npt.NDArray[np.bool_]
VerificationState = Literal["same", "different", "unverified"]


@dataclass(frozen=True)
class VerifyThresholds:
    """Decision thresholds (see the module docstring for the measurements)."""

    max_aspect_log: float = 0.085
    """|ln(aspect_a / aspect_b)| above this is 'different' (7.5 % crop + rounding)."""
    max_crop: float = 0.075
    """Largest share of the larger view's width or height a copy may lose."""
    containment_tol: float = 0.012
    """How far (normalised, ~0.75 px) a window may stick out and still count as contained."""
    min_similarity: float = 0.985
    """Trimmed SSIM below this is 'different'."""
    min_similarity_tiny: float = 0.97
    """Used instead when either picture has under 64 px on a side (its grey is an enlargement)."""
    max_changed_area: float = 0.07
    """Share of pixels with local SSIM < 0.7 above this is 'different' (content edit)."""
    min_detail: float = 2.5
    """Mean absolute neighbour difference (grey levels) below which a grey is too flat for SSIM."""
    max_flat_tone_diff: float = 6.0
    """Featureless pair: mean brightness (grey levels) further apart than this is 'different'."""
    max_flat_block_diff: float = 8.0
    """Featureless pair: p90 of the 8x8 block-mean differences (grey levels) above this is 'different'."""
    min_layout_spread: float = 4.0
    """Std of the 8x8 block means (grey levels) from which a low-detail grey has a layout to correlate."""
    min_layout_corr: float = 0.6
    """Two low-detail greys with layouts whose block means correlate less than this are 'different'."""


DEFAULT_THRESHOLDS = VerifyThresholds()


@dataclass(frozen=True)
class Verification:
    """Outcome of one pixel comparison.

    ``similarity`` is the trimmed SSIM (None when unverified or rejected before
    alignment); ``reason`` is a short human-readable explanation.
    """

    state: VerificationState
    similarity: float | None
    reason: str
    crop: float | None = None
    changed_area: float | None = None


class HasGrey(Protocol):
    """What verification needs from a photo (PhotoFingerprint satisfies it)."""

    @property
    def grey(self) -> bytes | None: ...
    @property
    def aspect(self) -> float: ...
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...


@dataclass(frozen=True)
class PreparedGrey:
    """A decoded grey ready for repeated comparisons (prepare the keeper once)."""

    pixels: FloatArray
    aspect: float
    width: int
    height: int
    detail: float


# --------------------------------------------------------------------------- tables

_STEP = 1.0 / 128.0  # half a pixel of the 64-px grey
_SEARCH_CROP = 0.12  # profile search range per axis (|o| + |1 - e|)
IntArray = npt.NDArray[np.intp]


def _taps(o: npt.NDArray[np.float64], e: npt.NDArray[np.float64]) -> tuple[IntArray, FloatArray, BoolArray]:
    """Two-tap linear interpolation of A's axis at B's pixel centres, per window.

    Window k maps B's axis onto ``[o[k], e[k]]`` of A's (normalised) axis.
    Returns the left tap index (k, n), the weight of the right tap (k, n) and
    which of B's pixels fall inside A (k, n).
    """
    n = GREY_SIDE
    xb = (np.arange(n) + 0.5) / n
    u = o[:, None] + xb[None, :] * (e - o)[:, None]
    valid = (u >= 0.0) & (u <= 1.0)
    pos = np.clip(u * n - 0.5, 0.0, n - 1.0)
    i0 = np.minimum(np.floor(pos).astype(np.intp), n - 2)
    return i0, (pos - i0).astype(np.float32), valid


def _sample_rows(x: FloatArray, i0: IntArray, frac: FloatArray) -> FloatArray:
    """x (n, n) resampled along rows for each window: (k, n, n)."""
    return np.asarray(x[i0] * (1.0 - frac[:, :, None]) + x[i0 + 1] * frac[:, :, None], dtype=np.float32)


def _sample_cols(x: FloatArray, i0: IntArray, frac: FloatArray) -> FloatArray:
    """x (n, n) resampled along columns for each window: (k, n, n)."""
    left = np.moveaxis(x[:, i0], 1, 0)
    right = np.moveaxis(x[:, i0 + 1], 1, 0)
    return np.asarray(left * (1.0 - frac[:, None, :]) + right * frac[:, None, :], dtype=np.float32)


def _grid() -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    k = round(_SEARCH_CROP / _STEP)
    vals = np.arange(-k, k + 1) * _STEP
    o, e = np.meshgrid(vals, 1.0 + vals, indexing="ij")
    o, e = o.ravel(), e.ravel()
    keep = (np.abs(o) + np.abs(1.0 - e)) <= _SEARCH_CROP + 1e-9
    return o[keep], e[keep]


def _gauss(n: int, sigma: float) -> FloatArray:
    x = np.arange(n)
    d = x[:, None] - x[None, :]
    g = np.exp(-0.5 * (d / sigma) ** 2)
    g[np.abs(d) > 3.0 * sigma + 0.5] = 0.0
    return np.asarray(g / g.sum(axis=1, keepdims=True), dtype=np.float32)


_GRID_O, _GRID_E = _grid()
_GRID_I0, _GRID_F32, _GRID_V = _taps(_GRID_O, _GRID_E)
_GRID_F = _GRID_F32.astype(np.float64)
_GRID_VF = _GRID_V.astype(np.float64)
_GRID_VN = _GRID_VF.sum(axis=1)
_GRID_IDENTITY = int(np.flatnonzero((np.abs(_GRID_O) < 1e-12) & (np.abs(_GRID_E - 1.0) < 1e-12))[0])
_BLUR = _gauss(GREY_SIDE, 0.7)
_SSIM_C1 = (0.01 * 255.0) ** 2
_SSIM_C2 = (0.03 * 255.0) ** 2
_TRIM = 0.04  # worst share of the SSIM map ignored by `similarity` (watermarks, logos)
_CHANGED_SSIM = 0.7  # local SSIM under this counts as changed


# --------------------------------------------------------------------------- prepare


def prepare_grey(grey: bytes | None, aspect: float, width: int, height: int) -> PreparedGrey | str:
    """Decode a stored grey; return a reason string when it cannot be used."""
    if grey is None:
        return "grey missing"
    if len(grey) != GREY_BYTES:
        return f"grey corrupt ({len(grey)} bytes, expected {GREY_BYTES})"
    if not (math.isfinite(aspect) and aspect > 0.0):
        return f"invalid aspect {aspect!r}"
    px = np.frombuffer(grey, dtype=np.uint8).reshape(GREY_SIDE, GREY_SIDE).astype(np.float32)
    detail = float(np.abs(np.diff(px, axis=0)).mean() + np.abs(np.diff(px, axis=1)).mean())
    return PreparedGrey(px, float(aspect), int(width), int(height), detail)


def _prepare(p: HasGrey) -> PreparedGrey | str:
    return prepare_grey(p.grey, p.aspect, p.width, p.height)


# --------------------------------------------------------------------------- alignment


def _profile_scores(pa: npt.NDArray[np.float64], pb: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """NCC between A's resampled profile and B's profile, per grid window, over B's valid pixels."""
    pa = pa - pa.mean()
    pb = pb - pb.mean()
    s = (pa[_GRID_I0] * (1.0 - _GRID_F) + pa[_GRID_I0 + 1] * _GRID_F) * _GRID_VF  # zero outside A
    cnt = _GRID_VN
    sum_s = s.sum(axis=1)
    sum_b = _GRID_VF @ pb
    cov = s @ pb - sum_s * sum_b / cnt
    var_s = (s * s).sum(axis=1) - sum_s * sum_s / cnt
    var_b = _GRID_VF @ (pb * pb) - sum_b * sum_b / cnt
    return np.asarray(cov / np.sqrt(np.maximum(var_s * var_b, 1e-12)), dtype=np.float64)


def _batch_ncc(warps: FloatArray, b: FloatArray, vy: BoolArray, vx: BoolArray) -> npt.NDArray[np.float64]:
    """NCC of each warp (k, n, n) with b (both roughly zero-mean) over its valid rectangle."""
    w = (vy[:, :, None] & vx[:, None, :]).astype(np.float32)
    cnt = w.sum(axis=(1, 2)) + 1e-6
    ww = warps * w
    bw = b[None] * w
    sw, sb = ww.sum(axis=(1, 2), dtype=np.float64), bw.sum(axis=(1, 2), dtype=np.float64)
    cov = (ww * bw).sum(axis=(1, 2), dtype=np.float64) - sw * sb / cnt
    vw = (ww * ww).sum(axis=(1, 2), dtype=np.float64) - sw * sw / cnt
    vb = (bw * bw).sum(axis=(1, 2), dtype=np.float64) - sb * sb / cnt
    return np.asarray(cov / np.sqrt(np.maximum(vw * vb, 1e-12)), dtype=np.float64)


Window = tuple[float, float, float, float]


def _align(a: FloatArray, b: FloatArray) -> tuple[float, Window]:
    """Best window (ox, ex, oy, ey) of A matching B, and its NCC."""
    a = a - a.mean()
    b = b - b.mean()
    sx = _profile_scores(a.mean(axis=0, dtype=np.float64), b.mean(axis=0, dtype=np.float64))
    sy = _profile_scores(a.mean(axis=1, dtype=np.float64), b.mean(axis=1, dtype=np.float64))
    # the best 3 windows per axis, plus the identity window (pixel-only edits)
    ix = np.unique(np.append(np.argsort(-sx, kind="stable")[:3], _GRID_IDENTITY))
    iy = np.unique(np.append(np.argsort(-sy, kind="stable")[:3], _GRID_IDENTITY))
    xi0, xf, xv = _taps(_GRID_O[ix], _GRID_E[ix])
    yi0, yf, yv = _taps(_GRID_O[iy], _GRID_E[iy])
    cols = _sample_cols(a, xi0, xf)  # (kx, n, n)
    warps = cols[:, yi0] * (1.0 - yf)[None, :, :, None] + cols[:, yi0 + 1] * yf[None, :, :, None]
    warps = np.asarray(warps.transpose(1, 0, 2, 3), dtype=np.float32)  # (ky, kx, n, n)
    scores = _batch_ncc(
        warps.reshape(-1, GREY_SIDE, GREY_SIDE), b,
        np.repeat(yv, len(ix), axis=0), np.tile(xv, (len(iy), 1)),
    )
    best = int(np.argmax(scores))
    bx, by = ix[best % len(ix)], iy[best // len(ix)]
    p = [float(_GRID_O[bx]), float(_GRID_E[bx]), float(_GRID_O[by]), float(_GRID_E[by])]
    score = float(scores[best])
    # Refinement: probe each window edge at +-delta (8 warps in one batch), move every
    # edge to the vertex of its parabola, keep the move if the NCC improves.
    for delta in (_STEP / 2, _STEP / 4):
        score, p = _refine(a, b, p, score, delta)
    return score, (p[0], p[1], p[2], p[3])


def _refine(a: FloatArray, b: FloatArray, p: list[float], score: float, delta: float) -> tuple[float, list[float]]:
    cx = np.array([[p[0] - delta, p[1]], [p[0] + delta, p[1]], [p[0], p[1] - delta], [p[0], p[1] + delta]])
    cy = np.array([[p[2] - delta, p[3]], [p[2] + delta, p[3]], [p[2], p[3] - delta], [p[2], p[3] + delta]])
    ci0x, cfx, cvx = _taps(cx[:, 0], cx[:, 1])
    ci0y, cfy, cvy = _taps(cy[:, 0], cy[:, 1])
    ui0x, ufx, uvx = _taps(np.array([p[0]]), np.array([p[1]]))
    ui0y, ufy, uvy = _taps(np.array([p[2]]), np.array([p[3]]))
    rows_fixed = _sample_rows(a, ui0y, ufy)[0]
    cols_fixed = _sample_cols(a, ui0x, ufx)[0]
    w = np.concatenate([_sample_cols(rows_fixed, ci0x, cfx), _sample_rows(cols_fixed, ci0y, cfy)])
    vy_all = np.concatenate([np.repeat(uvy, 4, axis=0), cvy])
    vx_all = np.concatenate([cvx, np.repeat(uvx, 4, axis=0)])
    s = _batch_ncc(w, b, vy_all, vx_all).reshape(4, 2)  # per edge: (-delta, +delta)
    q = list(p)
    for i in range(4):
        lo, hi = float(s[i, 0]), float(s[i, 1])
        curv = lo + hi - 2.0 * score
        if curv < -1e-9:
            q[i] += float(np.clip(0.5 * (lo - hi) / curv, -1.0, 1.0)) * delta
        elif max(lo, hi) > score:
            q[i] += delta if hi > lo else -delta
    if q == p:
        return score, p
    i0x, fx, vx = _taps(np.array([q[0]]), np.array([q[1]]))
    i0y, fy, vy = _taps(np.array([q[2]]), np.array([q[3]]))
    wq = _sample_rows(_sample_cols(a, i0x, fx)[0], i0y, fy)
    sq = float(_batch_ncc(wq, b, vy, vx)[0])
    # fall back to the best single probe when the joint move does not help
    k = int(np.argmax(s))
    if sq >= float(s.flat[k]) and sq > score:
        return sq, q
    if float(s.flat[k]) > score:
        edge, sign = divmod(k, 2)
        r = list(p)
        r[edge] += delta if sign else -delta
        return float(s.flat[k]), r
    return score, p


def _warp(a: FloatArray, p: Window) -> tuple[FloatArray, BoolArray, BoolArray]:
    """A seen through window p at B's pixels, with B's valid rows and columns."""
    xi0, xf, xv = _taps(np.array([p[0]]), np.array([p[1]]))
    yi0, yf, yv = _taps(np.array([p[2]]), np.array([p[3]]))
    return _sample_rows(_sample_cols(a, xi0, xf)[0], yi0, yf)[0], yv[0], xv[0]


def _geometry(p: tuple[float, float, float, float]) -> tuple[float, float]:
    """(crop, containment misfit) of window p = (ox, ex, oy, ey).

    crop: largest share of the larger view lost on one axis.
    misfit: how far the windows are from one containing the other.
    """
    crops = []
    v_in = 0.0  # B inside A needs o >= 0 and e <= 1
    v_out = 0.0  # A inside B needs o <= 0 and e >= 1
    for o, e in ((p[0], p[1]), (p[2], p[3])):
        overlap = max(0.0, min(e, 1.0) - max(o, 0.0))
        crops.append(1.0 - overlap / max(1.0, e - o))
        v_in = max(v_in, max(0.0, -o) + max(0.0, e - 1.0))
        v_out = max(v_out, max(0.0, o) + max(0.0, 1.0 - e))
    return max(crops), min(v_in, v_out)


def _match_resolution(a: PreparedGrey, b: PreparedGrey) -> tuple[FloatArray, FloatArray]:
    """Bring both greys to the detail of the smaller picture when it has under 64 px on a side.

    The 64x64 grey of a 50x28 thumbnail is an enlargement; comparing it with the
    sharp grey of the original would penalise the copy for its size alone.
    """
    rx = min(GREY_SIDE, a.width, b.width)
    ry = min(GREY_SIDE, a.height, b.height)
    if rx >= GREY_SIDE and ry >= GREY_SIDE:
        return a.pixels, b.pixels
    my, mx = _down_up(max(ry, 2)), _down_up(max(rx, 2))
    return np.asarray(my @ a.pixels @ mx.T, dtype=np.float32), np.asarray(my @ b.pixels @ mx.T, dtype=np.float32)


def _down_up(r: int) -> FloatArray:
    """(64, 64) matrix: area-average an axis down to r samples, then linear back up to 64."""
    n = GREY_SIDE
    edges = np.linspace(0.0, n, r + 1)
    j = np.arange(n)
    down = np.clip(np.minimum(edges[1:, None], j[None, :] + 1) - np.maximum(edges[:-1, None], j[None, :]), 0.0, None)
    down /= down.sum(axis=1, keepdims=True)
    pos = np.clip((j + 0.5) * r / n - 0.5, 0.0, r - 1.0)
    i0 = np.minimum(np.floor(pos).astype(np.intp), r - 2)
    frac = pos - i0
    up = np.zeros((n, r))
    up[j, i0] = 1.0 - frac
    up[j, i0 + 1] += frac
    return np.asarray(up @ down, dtype=np.float32)


def _ssim_map(a: FloatArray, b: FloatArray) -> FloatArray:
    gh, gw = _gauss(a.shape[0], 1.5), _gauss(a.shape[1], 1.5)

    def f(x: FloatArray) -> FloatArray:
        return np.asarray(gh @ x @ gw.T, dtype=np.float32)

    ma, mb = f(a), f(b)
    saa = f(a * a) - ma * ma
    sbb = f(b * b) - mb * mb
    sab = f(a * b) - ma * mb
    num = (2.0 * ma * mb + _SSIM_C1) * (2.0 * sab + _SSIM_C2)
    den = (ma * ma + mb * mb + _SSIM_C1) * (saa + sbb + _SSIM_C2)
    return np.asarray(num / den, dtype=np.float32)


# --------------------------------------------------------------------------- verify


@dataclass(frozen=True)
class _Measures:
    aspect_log: float
    detail: float
    crop: float
    misfit: float
    similarity: float
    changed_area: float


def _measure(a: PreparedGrey, b: PreparedGrey) -> _Measures:
    """Every quantity the decision uses (also read by the measurement script)."""
    aspect_log = abs(math.log(a.aspect / b.aspect))
    pa, pb = _match_resolution(a, b)
    _, p = _align(pa, pb)
    crop, misfit = _geometry(p)
    warped, vy, vx = _warp(pa, p)
    rows, cols = np.flatnonzero(vy), np.flatnonzero(vx)
    keep = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
    wa = np.asarray((_BLUR @ warped @ _BLUR.T)[keep], dtype=np.float32)
    wb = np.asarray((_BLUR @ pb @ _BLUR.T)[keep], dtype=np.float32)
    sa, sb = float(wa.std()) + 1e-6, float(wb.std()) + 1e-6
    wa = np.asarray((wa - wa.mean()) * (sb / sa) + wb.mean(), dtype=np.float32)
    smap = np.sort(_ssim_map(wa, wb).ravel())
    similarity = float(smap[int(len(smap) * _TRIM) :].mean())
    changed = float((smap < _CHANGED_SSIM).mean())
    return _Measures(aspect_log, min(a.detail, b.detail), crop, misfit, similarity, changed)


_TONE_BLOCKS = 8  # featureless pairs are compared on 8x8 block means of the greys


def _block_means(px: FloatArray) -> npt.NDArray[np.float64]:
    n = _TONE_BLOCKS
    return np.asarray(px.reshape(n, GREY_SIDE // n, n, GREY_SIDE // n).mean(axis=(1, 3), dtype=np.float64))


def _compare_featureless(a: PreparedGrey, b: PreparedGrey, t: VerifyThresholds) -> Verification:
    """A pair where at least one grey is too flat for SSIM: compare what tones there are.

    Never 'same': a grey holds no colour, so flat pictures of equal brightness stay 'unverified'.
    """
    ba, bb = _block_means(a.pixels), _block_means(b.pixels)
    spread = min(float(ba.std()), float(bb.std()))
    if spread >= t.min_layout_spread:  # both have a layout (soft gradients, blurred scenes)
        da, db = ba - ba.mean(), bb - bb.mean()
        corr = float((da * db).sum() / math.sqrt(float((da * da).sum() * (db * db).sum())))
        if corr < t.min_layout_corr:
            return Verification("different", None, f"low-detail pictures with different layouts (correlation {corr:.2f})")
        return Verification("unverified", None, "too little detail to compare (layouts agree)")
    mean_a, mean_b = float(a.pixels.mean()), float(b.pixels.mean())
    if abs(mean_a - mean_b) > t.max_flat_tone_diff:
        return Verification("different", None, f"featureless, brightness {mean_a:.0f} vs {mean_b:.0f}")
    block_diff = float(np.percentile(np.abs(ba - bb), 90))
    if block_diff > t.max_flat_block_diff:
        return Verification("different", None, f"featureless, tones differ by {block_diff:.0f} grey levels over 10 % of the picture")
    return Verification("unverified", None, "too little detail to compare (featureless, same brightness; colour not compared)")


def verify_prepared(
    a: PreparedGrey | str, b: PreparedGrey | str, thresholds: VerifyThresholds = DEFAULT_THRESHOLDS
) -> Verification:
    """Compare two prepared greys (or the reasons they could not be prepared)."""
    t = thresholds
    if isinstance(a, str) or isinstance(b, str):
        why = "; ".join(x for x in (a, b) if isinstance(x, str))
        return Verification("unverified", None, why)
    if abs(math.log(a.aspect / b.aspect)) > t.max_aspect_log:
        return Verification("different", None, f"aspect {a.aspect:.3f} vs {b.aspect:.3f}")
    if min(a.detail, b.detail) < t.min_detail:
        return _compare_featureless(a, b, t)
    m = _measure(a, b)
    if m.misfit > t.containment_tol:
        return Verification("different", m.similarity, "overlapping views, neither contains the other", m.crop, m.changed_area)
    if m.crop > t.max_crop:
        return Verification("different", m.similarity, f"crop {m.crop:.1%} > {t.max_crop:.1%}", m.crop, m.changed_area)
    if m.changed_area > t.max_changed_area:
        return Verification("different", m.similarity, f"changed area {m.changed_area:.1%}", m.crop, m.changed_area)
    tiny = min(a.width, a.height, b.width, b.height) < GREY_SIDE
    if m.similarity < (t.min_similarity_tiny if tiny else t.min_similarity):
        return Verification("different", m.similarity, f"similarity {m.similarity:.3f}", m.crop, m.changed_area)
    return Verification("same", m.similarity, f"similarity {m.similarity:.3f}", m.crop, m.changed_area)


def verify_pair(a: HasGrey, b: HasGrey, thresholds: VerifyThresholds = DEFAULT_THRESHOLDS) -> Verification:
    """Verify that b is a copy of a (symmetric up to alignment rounding)."""
    return verify_prepared(_prepare(a), _prepare(b), thresholds)
