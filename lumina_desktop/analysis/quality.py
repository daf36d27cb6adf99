"""Photo quality from pixels: physical measures, then 0–100 scores with reason words.

Runs on any thread (worker).  Pure functions of the picture: no DB, no Qt, no shared state.
The work is Pillow conversions/resizes and whole-array numpy arithmetic, which release the
GIL, so several workers measure in parallel.

How it measures (on the luma of the picture shrunk to :data:`ANALYSIS_PX`, cut in
:data:`BLOCK_PX` blocks):

* A Haar decomposition on 2×2 cells, four levels deep (cells of 2, 4, 8, 16 px), gives per
  level an x-, a y- and a diagonal detail band; their energies are summed per block.  The cells
  are placed so that JPEG 8×8 block edges fall between cells of the three finest levels:
  blocking is no fine detail.
* **Noise** is the 10th-percentile block energy of the finest diagonal band (a flat block shows
  only noise there), unbiased for that percentile.  White noise adds σ² to every band of the
  finest level and a quarter of that per level down; that is subtracted from every energy.
* **Sharpness** is the *detail share* of the finest octaves: the detail energy of one level
  over the next is 1/4 where that octave holds no detail and about 1 for a crisp natural
  picture (scale invariance), mapped to 0 … 1 (``(ratio − ¼) / ¾``) and weighted over three
  octaves (:data:`OCTAVE_WEIGHTS`), so slight blur lowers it and heavy blur keeps lowering it.
  As a ratio it ignores brightness and contrast (a dark photo is not "blurry"); with the noise
  energy subtracted grain is no detail; clipped pixels and a rim around them (8-px cells) are
  left out at every level, so the hard edges of blown highlights are no detail either.  Only
  the more textured half of the blocks counts (flat sky holds no evidence, only noise); where
  noise still swamps an octave, the next coarser octave's share stands in for it.
* **Subject sharpness**: the same over the sharpest :data:`TILES`×:data:`TILES` tiles (top
  10 % of those with enough texture), or over the centre tiles when they are at least 90 % as
  sharp.  Faces are not looked for yet.
* **Motion blur**: blur along one direction removes fine detail across that direction only.
  The x/y detail bands form a structure tensor per level; the generalised eigenvalues of the
  finest level's tensor against the tensor two octaves coarser give the detail kept in the
  best and the worst direction, and ``1 − worst/best`` is the measure (tempered where noise
  or clipping leave little to judge by).  A weak detector: a picture whose content runs one
  way (blinds, stripes) reads up to about 0.5 without any blur.
* **Clipping** counts pixels whose brightest channel is blown or crushed, on the 2×2-averaged
  picture, only in blocks at least 1/8 clipped (a glint is no blown sky).  "Blown" is at or
  above 250, or within 3 levels of :attr:`QualityMeasures.highlight_level` when the picture's
  top is lower (a darkened blown sky is still a featureless patch at the top).
* **Blockiness** is measured on the pixel grid of the input, before any shrinking (resampling
  destroys the JPEG grid): the extra squared step across the strongest 8-px column/row phase,
  over the noise-free step energy of the other phases (texture hides blocks, noise may not).
  The app feeds the 1280 px preview (itself a JPEG q85): its own grid is measured, and an
  original's blocks only show where they survived the resize.

:func:`score` maps measures to :class:`~lumina_desktop.core.quality.QualityScore` by fixed,
absolute curves and multiplies the sub-scores (weighted) into ``overall``.  Bump
:data:`QUALITY_VERSION` whenever a number here changes.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Mapping

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageChops

from lumina_desktop.analysis import colour
from lumina_desktop.core.quality import QualityScore

QUALITY_VERSION: int = 1
ANALYSIS_PX: int = 1024
BLOCK_PX = 16
TILES = 6
CLIP_HIGH = 250
CLIP_LOW = 5
JPEG_BLOCK_PX = 8
BLOCKINESS_CROP_PX = 1024
REASON_PENALTY = 0.22
"""A factor gives its reason word when it alone lowers ``overall`` by this much (log scale:
e^-0.22 ≈ 0.8, a fifth off)."""
OCTAVE_WEIGHTS = (0.6, 0.25, 0.15)
"""Weights of the detail share of the finest octaves (e.g. 1024→512, 512→256, 256→128 px)."""

_F32 = npt.NDArray[np.float32]
_F64 = npt.NDArray[np.float64]
_Bool = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class QualityMeasures:
    """Raw physical measures of one picture (see the module docstring for how).

    ``sharpness``/``subject_sharpness``: detail share, 0 (no fine detail) … about 1 (crisp),
    above 1 for over-sharpened pictures; linear, so two frames of a burst compare by ratio.
    ``subject``: 'region' or 'centre'.  ``motion_blur``: 0 … 1.  ``noise_sigma``: 8-bit levels
    of luma.  ``clipped_high``/``clipped_low``: fractions of the picture.  ``mean_level``: mean
    luma 0–255.  ``contrast``: RMS of luma.  ``blockiness``: JPEG blocking, 0 = none, about 1 =
    strong; None when the picture is too small to tell.  ``highlight_level``: how high the
    bright end reaches — the level of the brightest 0.5 % of the brightest channel (an extra
    field beyond the first API draft: with ``mean_level`` alone a low-key night shot and an
    underexposed one look alike; 255 when absent from a stored dict).
    """

    sharpness: float
    subject_sharpness: float
    subject: str
    motion_blur: float
    noise_sigma: float
    clipped_high: float
    clipped_low: float
    mean_level: float
    contrast: float
    blockiness: float | None
    highlight_level: float = 255.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able plain dict (floats, str, None)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> QualityMeasures:
        """The inverse of :meth:`to_dict` (unknown keys are ignored)."""
        kw: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in d and f.name == "highlight_level":
                continue
            v = d[f.name]
            kw[f.name] = str(v) if f.name == "subject" else None if v is None else float(v)
        return cls(**kw)


# --------------------------------------------------------------------------- the picture


def _rgb_or_l(im: Image.Image) -> Image.Image:
    im = colour.flatten(im)
    return im if im.mode in ("RGB", "L") else im.convert("RGB")


def analysis_image(im: Image.Image) -> Image.Image:
    """``im`` as ``RGB`` or ``L``, shrunk so its long edge is at most :data:`ANALYSIS_PX`
    (integer box reduction, then a box resize for the rest)."""
    im = _rgb_or_l(im)
    w, h = im.size
    if max(w, h) <= ANALYSIS_PX:
        return im
    factor = max(w, h) // ANALYSIS_PX
    if factor >= 2:
        im = im.reduce(factor)
        w, h = im.size
        if max(w, h) <= ANALYSIS_PX:
            return im
    scale = ANALYSIS_PX / max(w, h)
    return im.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.BOX)


def _max_channel(im: Image.Image) -> Image.Image:
    """The brightest channel of every pixel (clipping is about any channel)."""
    if im.mode == "L":
        return im
    r, g, b = im.split()
    return ImageChops.lighter(ImageChops.lighter(r, g), b)


# --------------------------------------------------------------------------- block arithmetic


def _block_px(w: int, h: int) -> int:
    """Block edge: :data:`BLOCK_PX`, halved for tiny pictures (down to 4), or 0: too small."""
    b = BLOCK_PX
    while b > 4 and min(w, h) < 4 * b:
        b //= 2
    return b if min(w, h) >= b + 1 else 0


def _block_sums(a: _F32, b: _F32, rows: int, cols: int, bs: int) -> _F64:
    """Per-block means of ``a * b`` over (rows·bs, cols·bs) arrays, shape (rows, cols)."""
    seg = np.einsum("ijk,ijk->ij", a.reshape(rows * bs, cols, bs), b.reshape(rows * bs, cols, bs))
    return seg.reshape(rows, bs, cols).sum(axis=1, dtype=np.float64) / float(bs * bs)


def _haar(y: _F32) -> tuple[_F32, _F32]:
    """One unnormalised Haar level on 2×2 cells: (the sums of the four pixels, a (3, h, w)
    stack of x-, y- and diagonal details).  Scaled to unit gain (white noise of variance σ²
    keeps σ²; σ²/4 at the next level), a detail band is half of this; the sums are 4× means."""
    even, odd = y[:, 0::2], y[:, 1::2]
    pair_sum, pair_diff = even + odd, even - odd          # along x first: two strided passes only
    bands = np.empty((3, pair_sum.shape[0] // 2, pair_sum.shape[1]), dtype=np.float32)
    np.add(pair_diff[0::2], pair_diff[1::2], out=bands[0])
    np.subtract(pair_sum[0::2], pair_sum[1::2], out=bands[1])
    np.subtract(pair_diff[0::2], pair_diff[1::2], out=bands[2])
    return pair_sum[0::2] + pair_sum[1::2], bands


def _band_energy(bands: _F32, rows: int, cols: int, bs: int) -> _F64:
    """Per-block mean squares of each band of a (3, rows·bs, cols·bs) stack: (3, rows, cols)."""
    v = bands.reshape(3, rows * bs, cols, bs)
    seg = np.einsum("cijk,cijk->cij", v, v)
    return seg.reshape(3, rows, bs, cols).sum(axis=2, dtype=np.float64) / float(bs * bs)


def _chi2_quantile(z: float, k: int) -> float:
    """Wilson–Hilferty: the quantile of χ²_k / k at normal deviate ``z``."""
    c = 2.0 / (9.0 * k)
    return max(1e-3, (1.0 - c + z * math.sqrt(c)) ** 3)


def _dilate(mask: _Bool) -> _Bool:
    """A mask grown by one pixel in all eight directions."""
    out = mask.copy()
    out[1:] |= mask[:-1]
    out[:-1] |= mask[1:]
    grown = out.copy()
    grown[:, 1:] |= out[:, :-1]
    grown[:, :-1] |= out[:, 1:]
    return grown


def _anisotropy(a: npt.ArrayLike, c: npt.ArrayLike) -> float:
    """1 − λmin/λmax of the 2×2 generalised eigenproblem a·v = λ·c·v (tensors as xx, yy, xy)."""
    axx, ayy, axy = (float(v) for v in np.asarray(a)[:3])
    cxx, cyy, cxy = (float(v) for v in np.asarray(c)[:3])
    det_c = cxx * cyy - cxy * cxy
    if det_c <= 0.0 or axx + ayy <= 0.0:
        return 0.0
    tr = axx * cyy + ayy * cxx - 2.0 * axy * cxy
    root = math.sqrt(max(tr * tr - 4.0 * det_c * (axx * ayy - axy * axy), 0.0))
    hi, lo = tr + root, tr - root
    return 0.0 if hi <= 0.0 else min(max(1.0 - lo / hi, 0.0), 1.0)


def _block_fraction(mask: _Bool, bs: int) -> _F64:
    """Per block, the fraction of a mask that is set (``bs``: block edge in mask pixels)."""
    im = Image.fromarray(mask.view(np.uint8) * np.uint8(255))
    return np.asarray(im.reduce(bs) if bs > 1 else im, dtype=np.float64) / 255.0


def _pool_all(mask: _Bool, f: int) -> _Bool:
    """A mask shrunk ``f`` times: a coarse pixel is set only if all its fine ones are."""
    return np.asarray(Image.fromarray(mask.view(np.uint8) * np.uint8(255)).reduce(f)) == 255


def _top_level(hist: list[int], share: float) -> float:
    """The level that the brightest ``share`` of a 256-bin histogram reaches."""
    counts = np.asarray(hist, dtype=np.float64)
    from_top = np.cumsum(counts[::-1])
    return float(255 - int(np.searchsorted(from_top, share * from_top[-1])))


# --------------------------------------------------------------------------- noise, JPEG


def _noise_var(hh: _F32, rows: int, cols: int, hb: int, skip: _Bool | None) -> float:
    """Noise variance: the 10th-percentile block energy of the finest diagonal band, unbiased
    for that percentile (in a flat block the band holds noise only)."""
    v = _block_sums(hh, hh, rows, cols, hb)
    cand = v[~skip] if skip is not None else v.ravel()
    if cand.size < 4:
        cand = v.ravel()
    k = max(0, int(0.1 * cand.size) - 1)
    return float(np.partition(cand, k)[k]) / _chi2_quantile(-1.2816, hb * hb)


_MASK_FLOOR = 9.0   # a 3-level step energy: even a flat picture masks blocks a little


def _grid_profiles(y: _F32) -> tuple[_F64, _F64] | None:
    """Mean squared step across every column boundary (on every other row) and every row
    boundary (on every other column); None when the picture is too small to tell."""
    h, w = y.shape
    if min(w, h) < 4 * JPEG_BLOCK_PX:
        return None
    rows, cols = y[::2], y[:, ::2]
    dx = rows[:, 1:] - rows[:, :-1]
    dy = cols[1:] - cols[:-1]
    return (np.einsum("ij,ij->j", dx, dx).astype(np.float64) / dx.shape[0],
            np.einsum("ij,ij->i", dy, dy).astype(np.float64) / dy.shape[1])


def _phase(prof: _F64) -> tuple[int, float, float]:
    """The strongest 8-px phase of a step profile: (phase, its energy, the others' median)."""
    n = prof.size // JPEG_BLOCK_PX * JPEG_BLOCK_PX
    energy = prof[:n].reshape(-1, JPEG_BLOCK_PX).mean(axis=0)
    top = int(np.argmax(energy))
    return top, float(energy[top]), float(np.median(np.delete(energy, top)))


def _blocking(profiles: tuple[_F64, _F64], var: float) -> float:
    """JPEG 8×8 blocking: the extra step energy of the strongest phase over the noise-free step
    energy of the others (texture hides blocks, noise is not allowed to), both axes averaged."""
    out = 0.0
    for prof in profiles:
        _, top, rest = _phase(prof)
        out += (top - rest) / (max(rest - 2.0 * var, 0.0) + _MASK_FLOOR)
    return max(0.0, out / 2.0)


def _input_blockiness(im: Image.Image) -> float | None:
    """Blockiness of a picture larger than the analysis size, on its own grid (centre crop)."""
    w, h = im.size
    cw = min(w, BLOCKINESS_CROP_PX) // BLOCK_PX * BLOCK_PX
    ch = min(h, BLOCKINESS_CROP_PX) // BLOCK_PX * BLOCK_PX
    x0 = (w - cw) // 2 // JPEG_BLOCK_PX * JPEG_BLOCK_PX
    y0 = (h - ch) // 2 // JPEG_BLOCK_PX * JPEG_BLOCK_PX
    crop = im.crop((x0, y0, x0 + cw, y0 + ch))
    y = np.asarray(crop if crop.mode == "L" else crop.convert("L"), dtype=np.float32)
    profiles = _grid_profiles(y)
    if profiles is None:
        return None
    var = _noise_var(_haar(y)[1][2], ch // BLOCK_PX, cw // BLOCK_PX, BLOCK_PX // 2, None) / 4.0
    return _blocking(profiles, var)


# --------------------------------------------------------------------------- detail


def _shares(sums: _F64, trust: list[float]) -> _F64:
    """Sharpness from per-level detail energies (level first, finest first; any trailing shape):
    the weighted detail shares of the octaves; an octave not trusted (noise) takes over the
    next coarser octave's share."""
    n = sums.shape[0] - 1
    total = np.zeros(sums.shape[1:])
    coarser = None
    for k in range(n - 1, -1, -1):
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(sums[k + 1] > 0.0, (sums[k] / sums[k + 1] - 0.25) / 0.75, 0.0)
        share = np.clip(share, 0.0, 4.0)
        if coarser is not None:
            share = trust[k] * share + (1.0 - trust[k]) * coarser
        total = total + OCTAVE_WEIGHTS[k] * share
        coarser = share
    return total / sum(OCTAVE_WEIGHTS[:n])


def _subject(g: _F64, sel: _Bool, trust: list[float], sharp: float) -> tuple[float, str]:
    """Sharpness of the sharpest tiles (top 10 % of those with enough texture), or of the centre
    when that is at least 90 % as sharp: (value, 'region' | 'centre')."""
    rows, cols = sel.shape
    nt_y, nt_x = min(TILES, rows), min(TILES, cols)
    ey = np.linspace(0, rows, nt_y + 1).round().astype(int)[:-1]
    ex = np.linspace(0, cols, nt_x + 1).round().astype(int)[:-1]
    tg = np.add.reduceat(np.add.reduceat(g, ey, axis=1), ex, axis=2).reshape(g.shape[0], -1)
    n_sel = np.add.reduceat(np.add.reduceat(sel.astype(np.float64), ey, axis=0), ex, axis=1).ravel()
    n_all = np.outer(np.diff(np.append(ey, rows)), np.diff(np.append(ex, cols))).ravel()
    ok = (n_sel >= np.maximum(0.2 * n_all, 1.0)) & (tg[-1] > 0.0)
    if not ok.any():
        return sharp, "centre"
    s = np.where(ok, _shares(tg, trust), -1.0)
    top = np.argsort(s)[::-1][:max(1, math.ceil(0.1 * s.size))]
    top = top[s[top] >= 0.0]
    region = float(_shares(tg[:, top].sum(axis=1), trust))
    cy = np.abs((np.arange(nt_y) + 0.5) / nt_y - 0.5) < 0.2
    cx = np.abs((np.arange(nt_x) + 0.5) / nt_x - 0.5) < 0.2
    centre = (cy[:, None] & cx[None, :]).ravel() & ok
    if centre.any():
        c = float(_shares(tg[:, centre].sum(axis=1), trust))
        if c >= 0.9 * region:
            return c, "centre"
    return region, "region"


# --------------------------------------------------------------------------- measure


def measure(im: Image.Image) -> QualityMeasures:
    """The physical measures of ``im`` (upright sRGB ``RGB`` or ``L``; other modes are
    flattened), any size: larger pictures are shrunk to :data:`ANALYSIS_PX` first.

    Never feed it the 256 px grid thumbnail in production (the fine detail is gone there),
    though small pictures are handled.
    """
    im = _rgb_or_l(im)
    small = analysis_image(im)
    is_own_grid = small is im
    luma = small if small.mode == "L" else small.convert("L")
    hist = np.asarray(luma.histogram(), dtype=np.float64)
    levels = np.arange(256, dtype=np.float64)
    n_px = max(float(hist.sum()), 1.0)
    mean_level = float(hist @ levels) / n_px
    contrast = math.sqrt(max(float(hist @ (levels - mean_level) ** 2) / n_px, 0.0))
    w, h = small.size
    bs = _block_px(w, h)
    if bs == 0:
        mx = np.asarray(_max_channel(small))
        return QualityMeasures(0.0, 0.0, "centre", 0.0, 0.0, float((mx >= CLIP_HIGH).mean()),
                               float((mx <= CLIP_LOW).mean()), mean_level, contrast, None,
                               float(np.percentile(mx, 99.5)))
    y = np.asarray(luma, dtype=np.float32)
    profiles = _grid_profiles(y) if is_own_grid else None
    # Haar cells start so that the JPEG block edges (the strongest phase) fall between them
    ox, oy = (0, 0) if profiles is None else ((_phase(p)[0] + 1) % 2 for p in profiles)
    rows, cols = (h - oy) // bs, (w - ox) // bs
    box = (ox, oy, ox + cols * bs, oy + rows * bs)
    half_mx = _max_channel(small.reduce(2)).crop((0, 0, cols * bs // 2, rows * bs // 2))
    m = _measure_luma(y[oy:box[3], ox:box[2]], half_mx, bs, mean_level, contrast)
    blockiness = (_blocking(profiles, m.noise_sigma ** 2) if profiles is not None
                  else None if is_own_grid else _input_blockiness(im))
    return replace(m, blockiness=blockiness)


def _measure_luma(y: _F32, half_mx: Image.Image, bs: int, mean_level: float,
                  contrast: float) -> QualityMeasures:
    rows, cols = y.shape[0] // bs, y.shape[1] // bs
    hb = bs // 2
    highlight = _top_level(half_mx.histogram(), 0.005)
    blown_at = min(float(CLIP_HIGH), max(highlight - 3.0, 100.0))
    mx = np.asarray(half_mx)
    hi_px, lo_px = mx >= blown_at, mx <= CLIP_LOW
    hi, lo = _block_fraction(hi_px, hb), _block_fraction(lo_px, hb)
    y_sum, bands = _haar(y)
    var = _noise_var(bands[2], rows, cols, hb, (hi > 0.0) | (lo > 0.0)) / 4.0
    sigma = math.sqrt(var)
    if sigma > 0.5:   # noise lifts crushed blacks (a max of noisy channels): widen the margins
        hi_px, lo_px = mx >= blown_at - 0.5 * sigma, mx <= CLIP_LOW + 2.0 * sigma
        hi, lo = _block_fraction(hi_px, hb), _block_fraction(lo_px, hb)

    # Clipped pixels and a rim around them count for nothing — the same area at every level
    # (level ratios compare like with like): cells of the third level (8 px) kept only whole.
    n_levels = bs.bit_length() - 1
    mask_level = min(2, n_levels - 1)
    keep = ~_dilate(hi_px | lo_px)
    is_masked = not keep.all()
    if is_masked:
        coarse = _pool_all(keep, 1 << mask_level)
        kept = _block_fraction(coarse, bs >> (mask_level + 1))
    else:
        kept = np.ones((rows, cols))
    tensors = []
    for level in range(n_levels):
        cell = bs >> (level + 1)
        if level:
            y_sum, bands = _haar(y_sum)
        if is_masked:
            step = mask_level - level
            m = (coarse if step == 0 else _pool_all(coarse, 1 << -step) if step < 0
                 else np.repeat(np.repeat(coarse, 1 << step, axis=0), 1 << step, axis=1))
            np.multiply(bands, m.view(np.uint8), out=bands)
        unit = 4.0 * 16.0 ** level                              # energy of the unnormalised bands
        sq = _band_energy(bands, rows, cols, cell) / unit
        tensors.append([sq[0], sq[1], _block_sums(bands[0], bands[1], rows, cols, cell) / unit, sq[2]])
    t = np.array(tensors)                                   # (level, xx|yy|xy|dd, rows, cols)
    n_levels = t.shape[0]
    noise = (np.array([1.0, 1.0, 0.0, 1.0])[None, :] * (var / 4.0 ** np.arange(n_levels))[:, None])
    noise = noise[:, :, None, None] * kept[None, None]
    raw = t[:, 0] + t[:, 1] + t[:, 3]
    valid = kept >= 0.5
    if not valid.any():
        valid = kept > 0.0 if (kept > 0.0).any() else np.ones_like(valid)
    density = raw[-1] / np.maximum(kept, 1e-6)
    noise_raw = noise[:, 0] + noise[:, 1] + noise[:, 3]
    sel = valid & (density >= float(np.median(density[valid]))) & (raw[-1] > noise_raw[-1])
    if not sel.any():
        sel = valid
    sums = ((t - noise) * sel).sum(axis=(2, 3))             # (level, component)
    detail = sums[:, 0] + sums[:, 1] + sums[:, 3]
    total = (raw * sel).sum(axis=(1, 2))
    share = 1.0 - detail / np.maximum(total, 1e-9)          # of the raw energy that is noise
    trust = [min(max((0.95 - float(s)) / 0.2, 0.0), 1.0) for s in share[:-1]]
    sharp = float(_shares(detail, trust))
    subj, where = _subject((raw - noise_raw) * sel, sel, trust, sharp)
    # fine vs two octaves coarser; told with less confidence through noise or over clipped areas
    far = min(2, n_levels - 1)
    motion = _anisotropy(sums[0], sums[far]) if far >= 1 else 0.0
    motion *= trust[0] * min(1.0, float(kept.mean()) / 0.7) if trust else 0.0
    n_blocks = float(rows * cols)
    blown = float((hi * (hi >= 0.125)).sum()) / n_blocks
    crushed = float((lo * (lo >= 0.125)).sum()) / n_blocks
    noise_sigma = math.sqrt(max(var - 1.0 / 12.0, 0.0))   # less the 8-bit rounding
    return QualityMeasures(sharp, subj, where, motion, noise_sigma, blown, crushed, mean_level,
                           contrast, None, highlight)


# --------------------------------------------------------------------------- scores


def _logistic(x: float, mid: float, width: float) -> float:
    """0 … 1 through 0.5 at ``mid``; ``width`` > 0 rising, < 0 falling."""
    z = (x - mid) / width
    return 1.0 / (1.0 + math.exp(-max(min(z, 60.0), -60.0)))


def _hill(x: float, half: float, power: float = 2.0) -> float:
    """1 at 0, 0.5 at ``half``, falling towards 0 (x ≥ 0)."""
    return 1.0 / (1.0 + (max(x, 0.0) / half) ** power)


def _rising(x: float, half: float, power: float) -> float:
    """0 at 0, 0.5 at ``half``, rising towards 1 (x ≥ 0)."""
    return 0.0 if x <= 0.0 else 1.0 / (1.0 + (half / x) ** power)


def score(m: QualityMeasures) -> QualityScore:
    """Absolute 0–100 sub-scores, ``overall`` and reason words (most important first).

    Every sub-score is a fixed curve of one or two measures (0.5 where the flaw is plain);
    ``overall`` is the weighted geometric product of the factors, so each flaw pulls it down on
    its own and the worst one most.  A factor that alone takes a fifth or more off ``overall``
    gives its reason word; 'blurry' when even the whole picture is soft, else 'soft_subject'.
    """
    q_sharp = _rising(m.sharpness, 0.35, 2.5)
    q_subject = _rising(m.subject_sharpness, 0.35, 2.5)
    q_motion = _logistic(m.motion_blur, 0.62, -0.05)
    q_noise = _hill(m.noise_sigma, 7.0)
    q_under = _logistic(m.highlight_level, 150.0, 20.0) * _logistic(m.mean_level, 25.0, 8.0)
    q_over = _logistic(m.mean_level, 195.0, -12.0)
    q_blown = _hill(m.clipped_high, 0.3, 1.5)
    q_crushed = _hill(m.clipped_low, 0.3, 2.0)
    # RMS contrast relative to the brightness (a dark picture has smaller steps, not less contrast)
    q_contrast = _logistic(m.contrast / math.sqrt(max(m.mean_level, 1.0) * 128.0), 0.16, 0.035)
    q_block = None if m.blockiness is None else _hill(m.blockiness, 0.8, 2.0)
    soft_word = "blurry" if q_sharp < 0.5 else "soft_subject"
    parts: list[tuple[str, float, float]] = [
        (soft_word, q_subject, 0.9), ("", q_sharp, 0.25), ("motion_blur", q_motion, 0.6),
        ("noisy", q_noise, 0.8), ("underexposed", q_under, 1.0), ("overexposed", q_over, 1.0),
        ("highlights_clipped", q_blown, 0.8), ("shadows_clipped", q_crushed, 0.5),
        ("low_contrast", q_contrast, 0.4),
    ]
    if q_block is not None:
        parts.append(("jpeg_artifacts", q_block, 0.8))
    penalty = sum(w * -math.log(max(q, 1e-9)) for _, q, w in parts)
    reasons = tuple(word for word, q, w in sorted(parts, key=lambda p: p[2] * math.log(max(p[1], 1e-9)))
                    if word and w * -math.log(max(q, 1e-9)) >= REASON_PENALTY)

    def pct(q: float) -> float:
        return round(min(max(100.0 * q, 0.0), 100.0), 2)

    return QualityScore(overall=pct(math.exp(-penalty)), sharpness=pct(q_sharp), subject_sharpness=pct(q_subject),
                        motion_blur=pct(q_motion), noise=pct(q_noise),
                        exposure=pct(q_under * q_over * q_blown * q_crushed), contrast=pct(q_contrast),
                        blockiness=None if q_block is None else pct(q_block), reasons=reasons)


def assess(im: Image.Image) -> tuple[QualityMeasures, QualityScore]:
    """:func:`measure` then :func:`score`."""
    m = measure(im)
    return m, score(m)
