"""Photo quality from pixels: physical measures, then 0–100 scores with reason words.

Runs on any thread (worker).  Pure functions of the picture: no DB, no Qt, no shared state.
The work is Pillow conversions/resizes and whole-array numpy arithmetic, which release the
GIL, so several workers measure in parallel.

How it measures (on the luma of the picture shrunk to :data:`ANALYSIS_PX`):

* The picture is cut in :data:`BLOCK_PX` blocks.  Per block, the gradient energy (squared first
  differences, as a structure tensor) is summed at four scales: full, ½, ¼ and ⅛ (2×2 means).
* **Noise** is the 10th-percentile block energy of the finest Haar diagonal band (flat blocks
  show only noise), corrected for that percentile's bias; noise adds a known energy at every
  scale (4σ² at full scale, a quarter of that per halving), which is subtracted.
* **Sharpness** is the *detail share* of the finest octaves: per octave, the ratio of fine to
  coarse gradient energy is 1/4 when the octave holds no detail and about 1 for a crisp
  natural picture, mapped to 0 … 1 (``(ratio − ¼) / ¾``) and weighted over three octaves
  (:data:`OCTAVE_WEIGHTS`), so slight blur lowers it and heavy blur keeps lowering it.  Being
  a ratio it ignores brightness and contrast (an underexposed photo is not "blurry"); with the
  noise energy subtracted grain does not count as detail; blocks touching clipped pixels, and
  their neighbours, are left out, so the hard rims of blown highlights do not either.  Only the
  more textured half of the blocks counts (flat sky holds no evidence, only noise); when
  noise swamps an octave anyway, the next coarser octave's share stands in for it.
* **Subject sharpness**: the same over the sharpest :data:`TILES`×:data:`TILES` tiles (top
  10 % of those with enough texture) — or over the centre tiles, when they are at least 90 %
  as sharp.  Faces are not looked for yet.
* **Motion blur**: blur along one direction removes fine detail in that direction only; the
  generalised eigenvalues of the fine and the coarse structure tensors give the fine/coarse
  ratio in the best and worst direction, and ``1 − worst/best`` is the measure.
* **Clipping** counts pixels whose brightest channel is blown (or crushed), on the 2×2-averaged
  picture and only in blocks where at least 1/8 is clipped (a glint is no blown sky).
* **Blockiness** is measured on the pixel grid of the input, before shrinking (the JPEG
  grid is lost by resampling): the extra squared step across the strongest 8-px column/row
  phase, over the noise-free step energy of the other phases (texture hides blocks, noise is
  not allowed to).

:func:`score` maps measures to :class:`~lumina_desktop.core.quality.QualityScore` by fixed,
absolute curves and multiplies the sub-scores (weighted) into ``overall``.  Bump
:data:`QUALITY_VERSION` whenever a number here changes.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
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
    return b if min(w, h) >= b else 0


def _block_sums(a: _F32, b: _F32, rows: int, cols: int, bs: int) -> _F64:
    """Per-block sums of ``a * b`` over (rows·bs, cols·bs) arrays, shape (rows, cols)."""
    seg = np.einsum("ijk,ijk->ij", a.reshape(rows * bs, cols, bs), b.reshape(rows * bs, cols, bs))
    return seg.reshape(rows, bs, cols).sum(axis=1, dtype=np.float64)


def _diffs(y: _F32) -> tuple[_F32, _F32]:
    """Forward differences along x and y, same shape as ``y`` (the last one repeated)."""
    dx = np.empty_like(y)
    dy = np.empty_like(y)
    if y.shape[1] > 1:
        np.subtract(y[:, 1:], y[:, :-1], out=dx[:, :-1])
        dx[:, -1] = dx[:, -2]
    else:
        dx[:] = 0.0
    if y.shape[0] > 1:
        np.subtract(y[1:], y[:-1], out=dy[:-1])
        dy[-1] = dy[-2]
    else:
        dy[:] = 0.0
    return dx, dy


_Tensor = tuple[_F64, _F64, _F64]


def _tensor(dx: _F32, dy: _F32, rows: int, cols: int, bs: int) -> _Tensor:
    """Per-block structure tensor (mean dx², dy², dx·dy)."""
    area = float(bs * bs)
    return (_block_sums(dx, dx, rows, cols, bs) / area, _block_sums(dy, dy, rows, cols, bs) / area,
            _block_sums(dx, dy, rows, cols, bs) / area)


def _halve(y: _F32) -> tuple[_F32, _F32]:
    """2×2 means, and the Haar diagonal band (white noise of variance σ² keeps variance σ²)."""
    s1 = y[0::2, 0::2] + y[1::2, 1::2]
    s2 = y[0::2, 1::2] + y[1::2, 0::2]
    return (s1 + s2) * np.float32(0.25), (s1 - s2) * np.float32(0.5)


def _chi2_quantile(z: float, k: int) -> float:
    """Wilson–Hilferty: the quantile of χ²_k / k at normal deviate ``z``."""
    c = 2.0 / (9.0 * k)
    return max(1e-3, (1.0 - c + z * math.sqrt(c)) ** 3)


def _dilate(mask: _Bool) -> _Bool:
    """A block mask grown by one block in all eight directions."""
    out = mask.copy()
    out[1:] |= mask[:-1]
    out[:-1] |= mask[1:]
    grown = out.copy()
    grown[:, 1:] |= out[:, :-1]
    grown[:, :-1] |= out[:, 1:]
    return grown


def _anisotropy(a: tuple[float, float, float], c: tuple[float, float, float]) -> float:
    """1 − λmin/λmax of the 2×2 generalised eigenproblem a·v = λ·c·v (tensors as xx, yy, xy)."""
    axx, ayy, axy = a
    cxx, cyy, cxy = c
    det_c = cxx * cyy - cxy * cxy
    if det_c <= 0.0 or axx + ayy <= 0.0:
        return 0.0
    tr = axx * cyy + ayy * cxx - 2.0 * axy * cxy
    root = math.sqrt(max(tr * tr - 4.0 * det_c * (axx * ayy - axy * axy), 0.0))
    hi, lo = tr + root, tr - root
    return 0.0 if hi <= 0.0 else min(max(1.0 - lo / hi, 0.0), 1.0)


# --------------------------------------------------------------------------- clipping, noise, JPEG


def _clip_fractions(half_mx: Image.Image, bs: int, low: float, high: float) -> tuple[_F64, _F64]:
    """Per block, the fractions of 2×2-averaged pixels blown (≥ ``high``) and crushed (≤ ``low``)."""
    out = []
    for lut in ([255 if v >= high else 0 for v in range(256)], [255 if v <= low else 0 for v in range(256)]):
        frac = half_mx.point(lut).reduce(bs // 2)
        out.append(np.asarray(frac, dtype=np.float64) / 255.0)
    return out[0], out[1]


def _noise_var(hh: _F32, rows: int, cols: int, hb: int, skip: _Bool | None) -> float:
    """Noise variance: the 10th-percentile block energy of the Haar diagonal band, unbiased
    for that percentile (in a flat block the band holds noise only)."""
    v = _block_sums(hh, hh, rows, cols, hb) / float(hb * hb)
    cand = v[~skip] if skip is not None else v.ravel()
    if cand.size < 4:
        cand = v.ravel()
    k = max(0, int(0.1 * cand.size) - 1)
    return float(np.partition(cand, k)[k]) / _chi2_quantile(-1.2816, hb * hb)


def _phase_excess(sq: _F32, axis: int, var: float) -> float:
    """Blocking along one axis from capped squared steps ``sq`` (steps along ``axis``)."""
    prof = sq.mean(axis=1 - axis, dtype=np.float64)[:-1]
    n = prof.size // JPEG_BLOCK_PX * JPEG_BLOCK_PX
    phase = prof[:n].reshape(-1, JPEG_BLOCK_PX).mean(axis=0)
    top = int(np.argmax(phase))
    rest = float(np.median(np.delete(phase, top)))
    return (float(phase[top]) - rest) / (max(rest - 2.0 * var, 0.0) + _MASK_FLOOR)


_MASK_FLOOR = 9.0   # a 3-level step energy: even a flat picture masks blocks a little


def _blockiness(dx: _F32, dy: _F32, var: float) -> float | None:
    """JPEG 8×8 blocking from the full-scale steps of the input's own pixel grid; None when
    the picture is too small to tell.  Overwrites ``dx``/``dy``."""
    h, w = dx.shape
    if min(w, h) < 4 * JPEG_BLOCK_PX:
        return None
    cap = np.float32(max(32.0, 4.0 * math.sqrt(max(var, 0.0))) ** 2)
    out = []
    for d, axis in ((dx, 1), (dy, 0)):
        np.square(d, out=d)
        np.minimum(d, cap, out=d)
        out.append(_phase_excess(d, axis, var))
    return max(0.0, sum(out) / 2.0)


def _input_blockiness(im: Image.Image) -> float | None:
    """Blockiness of a picture larger than the analysis size, on its own grid (centre crop)."""
    w, h = im.size
    cw, ch = min(w, BLOCKINESS_CROP_PX), min(h, BLOCKINESS_CROP_PX)
    x0 = (w - cw) // 2 // JPEG_BLOCK_PX * JPEG_BLOCK_PX
    y0 = (h - ch) // 2 // JPEG_BLOCK_PX * JPEG_BLOCK_PX
    cw, ch = cw // BLOCK_PX * BLOCK_PX, ch // BLOCK_PX * BLOCK_PX
    crop = im.crop((x0, y0, x0 + cw, y0 + ch))
    y = np.asarray(crop if crop.mode == "L" else crop.convert("L"), dtype=np.float32)
    var = _noise_var(_halve(y)[1], ch // BLOCK_PX, cw // BLOCK_PX, BLOCK_PX // 2, None)
    return _blockiness(*_diffs(y), var)


# --------------------------------------------------------------------------- detail


def _detail(sums: list[float], trust: list[float]) -> float:
    """Sharpness from per-scale energy sums (finest first): the weighted detail shares of the
    octaves; an octave not trusted (noise) takes over the next coarser octave's share."""
    n = len(sums) - 1
    shares = [0.0] * n
    coarser: float | None = None
    for k in range(n - 1, -1, -1):
        share = (sums[k] / sums[k + 1] - 0.25) / 0.75 if sums[k + 1] > 0.0 else 0.0
        share = min(max(share, 0.0), 4.0)
        if coarser is not None:
            share = trust[k] * share + (1.0 - trust[k]) * coarser
        shares[k] = coarser = share
    w = OCTAVE_WEIGHTS[:n]
    return sum(wi * s for wi, s in zip(w, shares)) / sum(w)


def _subject(g: list[_F64], sel: _Bool, trust: list[float], sharp: float) -> tuple[float, str]:
    """Sharpness of the sharpest tiles (top 10 % of those with enough texture), or of the centre
    when that is at least 90 % as sharp: (value, 'region' | 'centre')."""
    rows, cols = sel.shape
    nt_y, nt_x = min(TILES, rows), min(TILES, cols)
    ey = np.linspace(0, rows, nt_y + 1).round().astype(int)[:-1]
    ex = np.linspace(0, cols, nt_x + 1).round().astype(int)[:-1]

    def tiles(a: npt.NDArray[Any]) -> _F64:
        return np.add.reduceat(np.add.reduceat(a.astype(np.float64), ey, axis=0), ex, axis=1).ravel()

    tg = [tiles(a) for a in g]
    n_sel = tiles(sel)
    n_all = tiles(np.ones(sel.shape))
    ok = (n_sel >= np.maximum(0.2 * n_all, 1.0)) & (tg[-1] > 0.0)
    if not ok.any():
        return sharp, "centre"
    s = np.array([_detail([float(a[i]) for a in tg], trust) if o else -1.0 for i, o in enumerate(ok)])
    top = [int(i) for i in np.argsort(s)[::-1][:max(1, math.ceil(0.1 * s.size))] if s[i] >= 0.0]
    region = _detail([float(a[top].sum()) for a in tg], trust)
    cy = np.abs((np.arange(nt_y) + 0.5) / nt_y - 0.5) < 0.2
    cx = np.abs((np.arange(nt_x) + 0.5) / nt_x - 0.5) < 0.2
    centre = (cy[:, None] & cx[None, :]).ravel() & ok
    if centre.any():
        c = _detail([float(a[centre].sum()) for a in tg], trust)
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
    rows, cols = h // bs, w // bs
    box = (0, 0, cols * bs, rows * bs)
    y = np.asarray(luma.crop(box) if box[2:] != (w, h) else luma, dtype=np.float32)
    half_mx = _max_channel(small.crop(box) if box[2:] != (w, h) else small).reduce(2)
    m = _measure_luma(y, half_mx, bs, mean_level, contrast, is_own_grid)
    if not is_own_grid:
        m = _replace_blockiness(m, _input_blockiness(im))
    return m


def _replace_blockiness(m: QualityMeasures, blockiness: float | None) -> QualityMeasures:
    d = m.to_dict()
    d["blockiness"] = blockiness
    return QualityMeasures.from_dict(d)


def _measure_luma(y: _F32, half_mx: Image.Image, bs: int, mean_level: float, contrast: float,
                  is_own_grid: bool) -> QualityMeasures:
    rows, cols = y.shape[0] // bs, y.shape[1] // bs
    n_blocks = rows * cols
    highlight = _top_level(half_mx.histogram(), 0.005)
    blown_at = min(float(CLIP_HIGH), max(highlight - 3.0, 100.0))
    hi, lo = _clip_fractions(half_mx, bs, CLIP_LOW, blown_at)
    clipped = (hi > 0.0) | (lo > 0.0)
    y1, hh = _halve(y)
    var = _noise_var(hh, rows, cols, bs // 2, clipped)
    sigma = math.sqrt(var)
    if sigma > 0.5:   # noise lifts crushed blacks (a max of noisy channels): widen the margins
        hi, lo = _clip_fractions(half_mx, bs, CLIP_LOW + 2.0 * sigma, blown_at - 0.5 * sigma)
        clipped = (hi > 0.0) | (lo > 0.0)

    scales = [y, y1]
    while len(scales) <= len(OCTAVE_WEIGHTS) and (bs >> len(scales)) >= 1:
        scales.append(_halve(scales[-1])[0])
    dx, dy = _diffs(y)
    tensors = [_tensor(dx, dy, rows, cols, bs)]
    tensors += [_tensor(*_diffs(s), rows, cols, bs >> k) for k, s in enumerate(scales) if k > 0]
    blockiness = _blockiness(dx, dy, var) if is_own_grid else None
    noise = [4.0 * var / 4 ** k for k in range(len(scales))]
    raw = [t[0] + t[1] for t in tensors]

    valid = ~_dilate(clipped)
    if valid.sum() < max(1.0, 0.05 * n_blocks):
        valid = ~clipped if (~clipped).any() else np.ones_like(clipped)
    coarse = raw[-1]
    sel = valid & (coarse >= float(np.median(coarse[valid]))) & (coarse > noise[-1])
    if not sel.any():
        sel = valid
    n_sel = float(sel.sum())
    g = [(r - nz) * sel for r, nz in zip(raw, noise)]
    trust = []
    for k in range(len(scales) - 1):
        total = float((raw[k] * sel).sum())
        share = noise[k] * n_sel / total if total > 0.0 else 1.0
        trust.append(min(max((0.95 - share) / 0.2, 0.0), 1.0))
    sharp = _detail([float(a.sum()) for a in g], trust)
    subj, where = _subject(g, sel, trust, sharp)

    def tensor_sum(k: int) -> tuple[float, float, float]:
        t, v = tensors[k], var / 4 ** k
        return (float((t[0] * sel).sum()) - 2 * v * n_sel, float((t[1] * sel).sum()) - 2 * v * n_sel,
                float((t[2] * sel).sum()) - v * n_sel)

    motions = [_anisotropy(tensor_sum(k), tensor_sum(k + 1)) for k in range(min(2, len(scales) - 1))]
    motion = motions[0] if len(motions) == 1 else trust[0] * motions[0] + (1.0 - trust[0]) * motions[1]
    blown = float((hi * (hi >= 0.125)).sum()) / n_blocks
    crushed = float((lo * (lo >= 0.125)).sum()) / n_blocks
    noise_sigma = math.sqrt(max(var - 1.0 / 12.0, 0.0))   # less the 8-bit rounding
    return QualityMeasures(sharp, subj, where, motion, noise_sigma, blown, crushed, mean_level,
                           contrast, blockiness, highlight)


def _top_level(hist: list[int], share: float) -> float:
    """The level that the brightest ``share`` of a 256-bin histogram reaches."""
    counts = np.asarray(hist, dtype=np.float64)
    from_top = np.cumsum(counts[::-1])
    return float(255 - int(np.searchsorted(from_top, share * from_top[-1])))


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

    Every sub-score is a fixed curve of one or two measures (0.5 where the flaw starts to be
    plain); ``overall`` is the weighted geometric product of them, so each flaw pulls it down
    on its own and the worst one most.  A reason is given for a factor under 0.5.
    """
    q_sharp = _rising(m.sharpness, 0.35, 2.5)
    q_subject = _rising(m.subject_sharpness, 0.35, 2.5)
    q_motion = _logistic(m.motion_blur, 0.55, -0.07)
    q_noise = _hill(m.noise_sigma, 7.0)
    q_under = _logistic(m.highlight_level, 150.0, 20.0) * _logistic(m.mean_level, 25.0, 8.0)
    q_over = _logistic(m.mean_level, 195.0, -12.0)
    q_blown = _hill(m.clipped_high, 0.3, 1.5)
    q_crushed = _hill(m.clipped_low, 0.15, 2.0)
    # RMS contrast relative to the brightness (a dark picture has smaller steps, not less contrast)
    q_contrast = _logistic(m.contrast / math.sqrt(max(m.mean_level, 1.0) * 128.0), 0.16, 0.035)
    q_block = None if m.blockiness is None else _hill(m.blockiness, 0.8, 2.0)
    soft_word = "blurry" if q_sharp < 0.5 else "soft_subject"
    parts: list[tuple[str, float, float]] = [
        (soft_word, q_subject, 0.9), ("", q_sharp, 0.25), ("motion_blur", q_motion, 0.6),
        ("noisy", q_noise, 0.8), ("underexposed", q_under, 1.0), ("overexposed", q_over, 1.0),
        ("highlights_clipped", q_blown, 0.8), ("shadows_clipped", q_crushed, 0.6),
        ("low_contrast", q_contrast, 0.4),
    ]
    if q_block is not None:
        parts.append(("jpeg_artifacts", q_block, 0.8))
    penalty = sum(w * -math.log(max(q, 1e-9)) for _, q, w in parts)
    reasons = tuple(word for word, q, w in sorted(parts, key=lambda p: p[2] * math.log(max(p[1], 1e-9)))
                    if word and q < 0.5)

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
