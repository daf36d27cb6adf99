"""Pixel quality measures and scores (analysis.quality) on synthetic pictures made here.

The scene: a gradient, overlapping shapes, rows of text-like strokes in both directions and a
fine texture, drawn at twice the size and shrunk (anti-aliased edges, like a downscaled photo).
Every picture is seeded; no timing is asserted.
"""
from __future__ import annotations

import io
import json
import math
import threading

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from lumina_desktop.analysis import quality
from lumina_desktop.analysis.quality import QualityMeasures
from lumina_desktop.core.quality import QualityScore


def scene(w: int = 768, h: int = 512, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    big_w, big_h = 2 * w, 2 * h
    yy, xx = np.mgrid[0:big_h, 0:big_w]
    base = np.stack([90 + 60 * xx / big_w, 110 + 40 * yy / big_h, 130 - 50 * xx / big_w], axis=-1)
    im = Image.fromarray(base.astype(np.uint8))
    draw = ImageDraw.Draw(im)
    for _ in range(70):
        x0, y0 = int(rng.integers(0, big_w)), int(rng.integers(0, big_h))
        size = int(rng.integers(20, 260))
        colour = tuple(int(c) for c in rng.integers(30, 225, 3))
        box = [x0, y0, x0 + size, y0 + int(size * rng.uniform(0.4, 1.6))]
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=colour)
    for i in range(60):   # text-like rows of strokes, half of them running down the picture
        x0, y0 = int(rng.integers(0, max(1, big_w - 320))), int(rng.integers(0, max(1, big_h - 320)))
        low, high = (0, 90) if rng.random() < 0.5 else (170, 240)   # dark or light strokes
        colour = tuple(int(c) for c in rng.integers(low, high, 3))
        for k in range(int(rng.integers(5, 14))):
            bend = int(rng.integers(-12, 12))
            if i % 2:
                gx = x0 + k * 22
                draw.rectangle([gx, y0, gx + 4, y0 + 28], fill=colour)
                draw.line([gx, y0 + 14, gx + 14, y0 + 14 + bend], fill=colour, width=3)
            else:
                gy = y0 + k * 22
                draw.rectangle([x0, gy, x0 + 28, gy + 4], fill=colour)
                draw.line([x0 + 14, gy, x0 + 14 + bend, gy + 14], fill=colour, width=3)
    grain = np.clip(128 + 40 * rng.normal(0, 1, (big_h, big_w)), 0, 255).astype(np.uint8)
    texture = np.asarray(Image.fromarray(grain).filter(ImageFilter.GaussianBlur(1.5)), np.float32) - 128.0
    arr = np.asarray(im, np.float32) + (texture / texture.std() * 6.0)[..., None]
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)).resize((w, h), Image.Resampling.LANCZOS)


def with_noise(im: Image.Image, sigma: float, seed: int = 1) -> Image.Image:
    """Grey Gaussian noise (the same in every channel, so luma noise is ``sigma``)."""
    rng = np.random.default_rng(seed)
    arr = np.asarray(im, np.float32) + rng.normal(0, sigma, (im.height, im.width, 1))
    return Image.fromarray(np.clip(arr + 0.5, 0, 255).astype(np.uint8))


def exposed(im: Image.Image, ev: float) -> Image.Image:
    """Brighter or darker in linear light by ``ev`` stops, clipped at 255."""
    v = np.arange(256) / 255.0
    linear = np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4) * 2.0 ** ev
    linear = np.clip(linear, 0.0, 1.0)
    srgb = np.where(linear <= 0.0031308, linear * 12.92, 1.055 * linear ** (1 / 2.4) - 0.055)
    return im.point(list(np.round(srgb * 255).astype(int)) * 3)


def jpeg(im: Image.Image, q: int) -> Image.Image:
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=q)
    buf.seek(0)
    with Image.open(buf) as out:
        return out.convert("RGB")


def motion(im: Image.Image, length: int, axis: int) -> Image.Image:
    """Box blur of ``length`` px along one axis (0: down the picture, 1: across): camera shake."""
    a = np.asarray(im, np.float32)
    pad = [(0, 0)] * a.ndim
    pad[axis] = (length // 2 + 1, length - length // 2 - 1)
    c = np.cumsum(np.pad(a, pad, mode="edge"), axis=axis)
    n = a.shape[axis]
    out = (np.take(c, np.arange(length, length + n), axis=axis) - np.take(c, np.arange(n), axis=axis)) / length
    return Image.fromarray(np.clip(out + 0.5, 0, 255).astype(np.uint8))


def laplacian_var(im: Image.Image) -> float:
    """The plain variance-of-the-Laplacian sharpness that noise and clipping fool."""
    y = np.asarray(im.convert("L"), np.float64)
    lap = y[1:-1, :-2] + y[1:-1, 2:] + y[:-2, 1:-1] + y[2:, 1:-1] - 4 * y[1:-1, 1:-1]
    return float(lap.var())


@pytest.fixture(scope="module")
def clean() -> Image.Image:
    return scene()


@pytest.fixture(scope="module")
def clean_result(clean: Image.Image) -> tuple[QualityMeasures, QualityScore]:
    return quality.assess(clean)


def test_a_clean_sharp_well_exposed_picture_scores_well(clean_result):
    m, s = clean_result
    assert s.overall >= 70
    assert s.reasons == ()
    assert m.sharpness > 0.5 and m.noise_sigma < 3 and m.blockiness is not None and m.blockiness < 0.45
    assert all(v >= 70 for v in s.sub_scores.values())


def test_blur_lowers_sharpness_and_overall_step_by_step(clean, clean_result):
    m0, s0 = clean_result
    results = [quality.assess(clean.filter(ImageFilter.GaussianBlur(r))) for r in (1, 2, 3)]
    sharpness = [m0.sharpness] + [m.sharpness for m, _ in results]
    overall = [s0.overall] + [s.overall for _, s in results]
    assert sharpness == sorted(sharpness, reverse=True) and len(set(sharpness)) == 4
    assert overall == sorted(overall, reverse=True) and len(set(overall)) == 4
    m2, s2 = results[1]
    assert m2.sharpness < 0.4 * m0.sharpness
    assert s2.overall < s0.overall - 30
    assert s2.reasons[0] == "blurry"
    assert s2.sharpness < 30 and s2.subject_sharpness < 50


def test_noise_does_not_raise_sharpness_though_the_laplacian_rises(clean, clean_result):
    m0, s0 = clean_result
    noisy = with_noise(clean, 10.0)
    m, s = quality.assess(noisy)
    assert laplacian_var(noisy) > 3.0 * laplacian_var(clean)      # the naive measure is fooled …
    assert abs(m.sharpness - m0.sharpness) <= 0.1 * m0.sharpness   # … this one is not
    assert abs(m.subject_sharpness - m0.subject_sharpness) <= 0.15 * m0.subject_sharpness
    assert 8.5 <= m.noise_sigma <= 12.0                            # ≈ √(10² + the scene's own)
    assert "noisy" in s.reasons and s.noise < 50 and s.noise < s0.noise
    assert s.overall < s0.overall - 20


def test_noise_estimate_grows_with_noise(clean):
    sigmas = [quality.measure(with_noise(clean, sd)).noise_sigma for sd in (0, 3, 6, 12, 24)]
    assert sigmas == sorted(sigmas) and len(set(sigmas)) == 5
    assert 20 <= sigmas[-1] <= 28


def test_blown_highlights_do_not_raise_sharpness(clean):
    soft = clean.filter(ImageFilter.GaussianBlur(2))
    blown = soft.copy()
    draw = ImageDraw.Draw(blown)
    rng = np.random.default_rng(5)
    for _ in range(25):   # hard-edged white patches: blown sky, windows, a lamp
        x0, y0 = int(rng.integers(0, 700)), int(rng.integers(0, 450))
        draw.rectangle([x0, y0, x0 + int(rng.integers(30, 120)), y0 + int(rng.integers(20, 90))],
                       fill=(255, 255, 255))
    m_soft, m_blown = quality.measure(soft), quality.measure(blown)
    assert laplacian_var(blown) > 3.0 * laplacian_var(soft)       # the naive measure is fooled …
    assert m_blown.sharpness <= 1.2 * m_soft.sharpness + 0.02     # … this one is not
    assert m_blown.subject_sharpness <= 1.2 * m_soft.subject_sharpness + 0.02
    assert m_blown.clipped_high > 0.1
    assert m_blown.sharpness < 0.5 * quality.measure(clean).sharpness


def test_overexposure_with_clipping_does_not_raise_sharpness(clean, clean_result):
    m0, _ = clean_result
    m, s = quality.assess(exposed(clean, 2.0))
    assert m.sharpness <= 1.3 * m0.sharpness      # the tone curve changes a little, clipping adds nothing
    assert m.clipped_high > 0.2
    assert {"highlights_clipped", "overexposed"} & set(s.reasons)


def test_underexposure_gives_its_reason_and_lowers_exposure(clean, clean_result):
    _, s0 = clean_result
    darker = [quality.assess(exposed(clean, -ev)) for ev in (1.0, 2.0, 3.0)]
    exposure = [s0.exposure] + [s.exposure for _, s in darker]
    assert exposure == sorted(exposure, reverse=True)
    m2, s2 = darker[1]
    assert s2.reasons[0] == "underexposed"
    assert s2.exposure < s0.exposure - 40 and s2.overall < s0.overall - 30
    assert "overexposed" not in s2.reasons and "highlights_clipped" not in s2.reasons
    assert m2.mean_level < 70 and m2.highlight_level < 150


def test_overexposure_gives_its_reasons_and_lowers_exposure(clean, clean_result):
    m0, s0 = clean_result
    brighter = [quality.assess(exposed(clean, ev)) for ev in (1.0, 2.0, 3.0)]
    exposure = [s0.exposure] + [s.exposure for _, s in brighter]
    assert exposure == sorted(exposure, reverse=True)
    m3, s3 = brighter[2]
    assert {"highlights_clipped", "overexposed"} <= set(s3.reasons)
    assert s3.exposure < 20 and m3.clipped_high > 0.5 > m0.clipped_high
    assert "underexposed" not in s3.reasons


def test_jpeg_q10_gives_jpeg_artifacts_and_a_lower_blockiness_score(clean):
    m95, s95 = quality.assess(jpeg(clean, 95))
    m10, s10 = quality.assess(jpeg(clean, 10))
    assert m10.blockiness is not None and m95.blockiness is not None
    assert m10.blockiness > m95.blockiness + 0.5
    assert s10.blockiness is not None and s95.blockiness is not None
    assert s10.blockiness < 50 < s95.blockiness
    assert "jpeg_artifacts" in s10.reasons and "jpeg_artifacts" not in s95.reasons
    assert s10.overall < s95.overall


def test_jpeg_blocks_are_found_on_the_input_grid_of_a_large_picture(clean):
    big = scene(1536, 1024, seed=3)
    blocky = jpeg(big, 10)
    m, s = quality.assess(blocky)      # shrunk to 1024 px inside: its grid is measured before
    assert m.blockiness is not None and m.blockiness > 0.6
    assert "jpeg_artifacts" in s.reasons
    fine = quality.measure(jpeg(big, 95))
    assert fine.blockiness is not None and fine.blockiness < 0.3


def test_jpeg_blocks_do_not_count_as_detail(clean, clean_result):
    m0, _ = clean_result
    sharpness = [quality.measure(jpeg(clean, q)).sharpness for q in (95, 50, 20, 10)]
    assert max(sharpness) <= 1.1 * m0.sharpness
    assert sharpness[-1] < sharpness[0]


def _sharp_in_blur(clean: Image.Image, box: tuple[int, int, int, int]) -> Image.Image:
    out = clean.filter(ImageFilter.GaussianBlur(4))
    out.paste(clean.crop(box), box[:2])
    return out


def test_a_sharp_subject_on_a_blurred_background(clean, clean_result):
    w, h = clean.size
    all_blurred = quality.measure(clean.filter(ImageFilter.GaussianBlur(4)))
    m, s = quality.assess(_sharp_in_blur(clean, (int(w * 0.33), int(h * 0.33), int(w * 0.67), int(h * 0.67))))
    assert m.subject_sharpness > 2.0 * m.sharpness
    assert m.subject_sharpness > 4.0 * all_blurred.subject_sharpness
    assert m.subject == "centre"
    assert s.subject_sharpness > s.sharpness and "blurry" not in s.reasons

    m_off = quality.measure(_sharp_in_blur(clean, (0, 0, int(w * 0.3), int(h * 0.35))))
    assert m_off.subject == "region"
    assert m_off.subject_sharpness > 1.5 * m_off.sharpness


def test_motion_blur_is_told_from_defocus(clean, clean_result):
    m0, s0 = clean_result
    shaken = [quality.assess(motion(clean, 15, axis)) for axis in (0, 1)]
    defocus, _ = quality.assess(clean.filter(ImageFilter.GaussianBlur(2)))
    for m, s in shaken:
        assert m.motion_blur > m0.motion_blur + 0.3
        assert m.motion_blur > defocus.motion_blur + 0.2
        assert "motion_blur" in s.reasons and s.motion_blur < 50 < s0.motion_blur
    assert "motion_blur" not in s0.reasons


def test_measures_round_trip_through_json(clean_result):
    m, _ = clean_result
    d = json.loads(json.dumps(m.to_dict()))
    assert QualityMeasures.from_dict(d) == m
    assert QualityMeasures.from_dict({**d, "extra": 1}) == m
    d.pop("highlight_level")
    assert QualityMeasures.from_dict(d).highlight_level == 255.0
    tiny = quality.measure(Image.new("RGB", (20, 10), (90, 90, 90)))
    assert tiny.blockiness is None
    assert QualityMeasures.from_dict(json.loads(json.dumps(tiny.to_dict()))) == tiny


@pytest.mark.parametrize("im", [
    Image.new("RGB", (20, 10), (120, 130, 140)),
    Image.new("RGB", (1, 1), (0, 0, 0)),
    Image.new("RGB", (3, 300), (255, 255, 255)),
    Image.new("RGB", (300, 200), (128, 128, 128)),
    Image.new("L", (300, 200), 0),
    Image.new("RGB", (300, 200), (255, 255, 255)),
    scene(40, 30),
    scene(64, 48).convert("L"),
    scene(100, 70).convert("RGBA"),
    scene(90, 60).convert("P"),
    Image.fromarray((np.arange(120 * 80, dtype=np.uint16).reshape(80, 120) * 6)),
], ids=["20x10", "1x1", "3x300-white", "flat-grey", "black-L", "white", "tiny-scene", "L-scene",
        "RGBA", "P", "I;16"])
def test_tiny_flat_and_odd_pictures_give_finite_scores(im):
    m, s = quality.assess(im)
    for name, v in m.to_dict().items():
        if name != "subject" and v is not None:
            assert math.isfinite(v), name
    assert m.subject in ("region", "centre")
    assert 0.0 <= m.motion_blur <= 1.0 and 0.0 <= m.clipped_high <= 1.0 and 0.0 <= m.clipped_low <= 1.0
    assert 0.0 <= s.overall <= 100.0 and all(0.0 <= v <= 100.0 for v in s.sub_scores.values())
    assert isinstance(s, QualityScore)


def test_flat_pictures_are_not_called_sharp_or_noisy():
    m, s = quality.assess(Image.new("RGB", (300, 200), (128, 128, 128)))
    assert m.sharpness == 0.0 and m.noise_sigma == 0.0
    assert "blurry" in s.reasons and "noisy" not in s.reasons


def test_white_and_black_pictures_are_clipped():
    white = quality.assess(Image.new("RGB", (300, 200), (255, 255, 255)))
    black = quality.assess(Image.new("RGB", (300, 200), (0, 0, 0)))
    assert white[0].clipped_high == 1.0 and "overexposed" in white[1].reasons
    assert black[0].clipped_low == 1.0 and "underexposed" in black[1].reasons


def test_large_input_is_shrunk_to_the_analysis_size(clean):
    big = scene(2048, 1365, seed=2)
    small = quality.analysis_image(big)
    assert max(small.size) == quality.ANALYSIS_PX and small.mode == "RGB"
    assert quality.analysis_image(clean) is clean
    m_big = quality.measure(big)
    m_small = quality.measure(small)   # the same pixels; only its own JPEG-grid alignment differs
    assert m_big.sharpness == pytest.approx(m_small.sharpness, rel=0.1)
    assert m_big.mean_level == pytest.approx(m_small.mean_level, rel=1e-9)


def test_measure_is_thread_safe(clean):
    pictures = [clean, with_noise(clean, 8), clean.filter(ImageFilter.GaussianBlur(2)),
                exposed(clean, 1.5), jpeg(clean, 15), motion(clean, 11, 0)] * 2
    expected = [quality.assess(p) for p in pictures]
    got: list[object] = [None] * len(pictures)

    def work(i: int) -> None:
        got[i] = quality.assess(pictures[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(pictures))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == expected


def _measures(**changes: object) -> QualityMeasures:
    base = dict(sharpness=0.8, subject_sharpness=1.0, subject="region", motion_blur=0.2, noise_sigma=1.0,
                clipped_high=0.01, clipped_low=0.0, mean_level=120.0, contrast=55.0, blockiness=0.1,
                highlight_level=245.0)
    return QualityMeasures(**{**base, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize("field, values, word", [
    ("subject_sharpness", (1.0, 0.5, 0.3, 0.1), "soft_subject"),
    ("motion_blur", (0.2, 0.5, 0.65, 0.9), "motion_blur"),
    ("noise_sigma", (1.0, 4.0, 8.0, 16.0), "noisy"),
    ("clipped_high", (0.01, 0.1, 0.3, 0.6), "highlights_clipped"),
    ("clipped_low", (0.0, 0.1, 0.3, 0.6), "shadows_clipped"),
    ("highlight_level", (245.0, 180.0, 130.0, 90.0), "underexposed"),
    ("mean_level", (120.0, 170.0, 200.0, 230.0), "overexposed"),
    ("contrast", (55.0, 30.0, 18.0, 8.0), "low_contrast"),
    ("blockiness", (0.1, 0.4, 0.9, 2.0), "jpeg_artifacts"),
])
def test_score_falls_monotonically_with_each_flaw_and_names_it(field, values, word):
    scores = [quality.score(_measures(**{field: v})) for v in values]
    overall = [s.overall for s in scores]
    assert overall == sorted(overall, reverse=True) and len(set(overall)) == len(overall)
    assert scores[0].reasons == () and scores[0].overall >= 70
    assert scores[-1].reasons[0] == word
    assert scores[-1].overall < 40


def test_reasons_are_ordered_by_what_pulls_hardest():
    s = quality.score(_measures(noise_sigma=6.0, blockiness=3.0))
    assert s.reasons == ("jpeg_artifacts", "noisy")
    s = quality.score(_measures(sharpness=0.1, subject_sharpness=0.12))
    assert s.reasons == ("blurry",)
    assert quality.score(_measures(blockiness=None)).blockiness is None
