"""analysis.tag_heuristics: screenshot, document, black and white, night and panorama from pixels
and file facts — each rule says yes for pictures made to be that, and no for a colourful photo."""
from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from lumina_desktop.analysis.tag_heuristics import FileFacts, heuristic_tags

CAMERA = FileFacts("JPEG", 4000, 3000, "Canon", 200, 1 / 250)


def _jpeg(im: Image.Image, quality: int = 85) -> Image.Image:
    """Through JPEG and the 256 px grid size, as the job sees a stored thumbnail."""
    im = im.copy()
    im.thumbnail((256, 256), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def photo(seed: int = 1, size: tuple[int, int] = (1200, 900), tones: tuple[int, int] = (30, 230)) -> Image.Image:
    rng = np.random.default_rng(seed)
    base = rng.integers(tones[0], tones[1], (size[1] // 40, size[0] // 40, 3), dtype=np.uint8)
    im = Image.fromarray(base).resize(size, Image.Resampling.BICUBIC)
    noise = rng.normal(0, 4, (size[1], size[0], 3))
    return Image.fromarray(np.clip(np.asarray(im, np.float64) + noise, 0, 255).astype(np.uint8))


def interface(size: tuple[int, int] = (1920, 1080)) -> Image.Image:
    im = Image.new("RGB", size, (250, 250, 250))
    d = ImageDraw.Draw(im)
    d.rectangle((0, 0, size[0], 60), fill=(32, 33, 36))
    d.rectangle((0, 60, 300, size[1]), fill=(241, 243, 244))
    for i in range(20):
        d.text((340, 90 + 40 * i), "Settings  ·  Privacy  ·  Notifications  ·  Display " * 2, fill=(60, 64, 67))
    d.rounded_rectangle((340, size[1] - 100, 500, size[1] - 60), 8, fill=(26, 115, 232))
    return im


def page() -> Image.Image:
    """A photographed page of text: off-white paper, dark lines of words, a little shading."""
    im = Image.new("RGB", (1500, 2000), (236, 232, 224))
    d = ImageDraw.Draw(im)
    rng = np.random.default_rng(3)
    for line in range(45):
        x = 120
        while x < 1350:
            w = int(rng.integers(30, 120))
            d.rectangle((x, 150 + 38 * line, x + w, 150 + 38 * line + 16), fill=(35, 35, 40))
            x += w + 18
    return im.filter(ImageFilter.GaussianBlur(1.2))


def test_a_colourful_camera_photo_gets_no_rule_tag() -> None:
    assert heuristic_tags(_jpeg(photo()), CAMERA) == {}
    assert heuristic_tags(_jpeg(photo(2, tones=(90, 200))), FileFacts("JPEG", 1200, 900)) == {}


def test_black_and_white() -> None:
    grey = _jpeg(photo().convert("L").convert("RGB"))
    assert heuristic_tags(grey, CAMERA)["black and white"] >= 0.9
    sepia = Image.merge("RGB", [c.point(lambda v, k=k: min(255, int(v * k))) for c, k in
                                zip(photo().convert("L").convert("RGB").split(), (1.1, 0.9, 0.65))])
    assert "black and white" not in heuristic_tags(_jpeg(sepia), CAMERA)          # a tint is colour


def test_screenshot_needs_flat_pixels_and_no_camera() -> None:
    ui = _jpeg(interface(), quality=90)
    shot = heuristic_tags(ui, FileFacts("PNG", 1920, 1080))
    assert shot["screenshot"] >= 0.9
    assert 0.3 <= heuristic_tags(ui, FileFacts("JPEG", 1000, 700))["screenshot"] < shot["screenshot"]
    assert "screenshot" not in heuristic_tags(ui, CAMERA)                         # a camera took it: a photo of a screen
    assert "screenshot" not in heuristic_tags(_jpeg(photo()), FileFacts("PNG", 1920, 1080))


def test_document() -> None:
    doc = heuristic_tags(_jpeg(page()), CAMERA)
    assert doc["document"] >= 0.5
    assert "document" not in heuristic_tags(_jpeg(photo(4, tones=(150, 255))), CAMERA)   # a bright photo


def test_night() -> None:
    rng = np.random.default_rng(5)
    a = rng.integers(4, 28, (900, 1200, 3), dtype=np.uint8)
    for _ in range(30):
        x, y = int(rng.integers(0, 1180)), int(rng.integers(0, 880))
        a[y:y + 12, x:x + 12] = (255, 214, 150)                                      # street lights
    night = _jpeg(Image.fromarray(a))
    assert heuristic_tags(night, FileFacts("JPEG", 1200, 900, "Sony", 6400, 1 / 10))["night"] >= 0.9
    assert heuristic_tags(night, FileFacts("JPEG", 1200, 900))["night"] >= 0.6    # the lights say so
    assert "black and white" not in heuristic_tags(night, FileFacts())           # dark is not grey
    dim = _jpeg(photo(6, tones=(0, 40)))                                          # dark, no lights, no EXIF
    assert heuristic_tags(dim, FileFacts()).get("night", 0) < 0.5


def test_panorama_from_the_original_size() -> None:
    wide = _jpeg(photo(7, size=(3000, 900)))
    assert heuristic_tags(wide, FileFacts("JPEG", 12000, 3600, "Apple"))["panorama"] == 1.0
    assert heuristic_tags(wide, FileFacts("JPEG", 4000, 3000, "Apple")).get("panorama") is None   # size from EXIF wins
    tall = _jpeg(photo(8, size=(700, 2100)))
    assert heuristic_tags(tall, FileFacts())["panorama"] == 1.0                   # no size known: the picture's
    assert "panorama" not in heuristic_tags(_jpeg(photo(9, size=(1600, 900))), FileFacts("JPEG", 1600, 900))
