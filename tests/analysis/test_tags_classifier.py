"""analysis.classifier: the ONNX graph built from the packaged .pth gives the same probabilities as
a plain numpy forward pass written after the PyTorch model the weights come from (explicit
TensorFlow-SAME zero padding, unfolded batch norms, ReLU6, skips) — no torch needed."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lumina_desktop.analysis import classifier

PHOTOS = Path(__file__).resolve().parents[3] / "shared" / "photos"


@pytest.fixture(scope="module")
def weights() -> dict[str, np.ndarray]:
    return classifier.load_state_dict(classifier.weights_path())


@pytest.fixture(scope="module")
def model(weights: dict[str, np.ndarray]) -> classifier.Classifier:
    return classifier.Classifier(classifier.build_model(weights))


def _pad_same(x: np.ndarray, k: int, s: int) -> np.ndarray:
    size = x.shape[-1]
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    a, b = total // 2, total - total // 2
    return np.pad(x, ((0, 0), (a, b), (a, b)))


def _conv(x: np.ndarray, w: np.ndarray, s: int, depthwise: bool) -> np.ndarray:
    k = w.shape[-1]
    xp = _pad_same(x, k, s)
    oh = -(-x.shape[-1] // s)
    out = np.zeros((w.shape[0], oh, oh), np.float64)
    for i in range(k):
        for j in range(k):
            patch = xp[:, i:i + s * oh:s, j:j + s * oh:s]
            if depthwise:
                out += w[:, 0, i, j][:, None, None] * patch
            else:
                out += np.einsum("oc,chw->ohw", w[:, :, i, j], patch)
    return out


def _bn(x: np.ndarray, sd: dict[str, np.ndarray], name: str) -> np.ndarray:
    g, b, m, v = (sd[f"{name}.{p}"].astype(np.float64) for p in ("weight", "bias", "running_mean", "running_var"))
    return (x - m[:, None, None]) / np.sqrt(v[:, None, None] + 1e-3) * g[:, None, None] + b[:, None, None]


def _relu6(x: np.ndarray) -> np.ndarray:
    return np.clip(x, 0.0, 6.0)


def reference_forward(sd: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """EfficientNet-Lite0 as in the PyTorch code the weights were exported from, on one (3,224,224)."""
    x = _relu6(_bn(_conv(x.astype(np.float64), sd["_conv_stem.weight"], 2, False), sd, "_bn0"))
    strides = [1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1]
    for i, s in enumerate(strides):
        p = f"_blocks.{i}"
        inp = x
        if f"{p}._expand_conv.weight" in sd:
            x = _relu6(_bn(_conv(x, sd[f"{p}._expand_conv.weight"], 1, False), sd, f"{p}._bn0"))
        x = _relu6(_bn(_conv(x, sd[f"{p}._depthwise_conv.weight"], s, True), sd, f"{p}._bn1"))
        x = _bn(_conv(x, sd[f"{p}._project_conv.weight"], 1, False), sd, f"{p}._bn2")
        if s == 1 and x.shape == inp.shape:
            x = x + inp
    x = _relu6(_bn(_conv(x, sd["_conv_head.weight"], 1, False), sd, "_bn1"))
    logits = sd["_fc.weight"] @ x.mean(axis=(1, 2)) + sd["_fc.bias"]
    e = np.exp(logits - logits.max())
    return e / e.sum()


def _picture(seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, (12, 18, 3)).astype(np.uint8)
    return Image.fromarray(base).resize((360, 240), Image.Resampling.BICUBIC)


def test_the_weights_are_read_without_torch(weights: dict[str, np.ndarray]) -> None:
    assert weights["_conv_stem.weight"].shape == (32, 3, 3, 3)
    assert weights["_fc.weight"].shape == (1000, 1280)
    assert len([k for k in weights if k.endswith("_depthwise_conv.weight")]) == 16
    assert np.isfinite(weights["_blocks.15._project_conv.weight"]).all()


def test_the_onnx_graph_matches_the_reference_forward(weights: dict[str, np.ndarray],
                                                      model: classifier.Classifier) -> None:
    for seed in (1, 2):
        x = classifier.prepare(_picture(seed))
        ref = reference_forward(weights, x)
        got = model.probabilities(x[None])[0]
        assert np.abs(got - ref).max() < 1e-4
        assert list(np.argsort(-got)[:5]) == list(np.argsort(-ref)[:5])


def test_prepare_is_tensorflow_style() -> None:
    im = Image.new("RGB", (512, 300), (255, 127, 0))
    x = classifier.prepare(im)
    assert x.shape == (3, 224, 224) and x.dtype == np.float32
    assert np.allclose(x[:, 100, 100], [(255 - 127) / 128, 0.0, -127 / 128])
    grey = classifier.prepare(Image.new("L", (100, 400), 127))   # upscaled, any mode
    assert grey.shape == (3, 224, 224) and np.allclose(grey, 0.0)


def test_a_hostile_weights_file_is_refused(tmp_path: Path) -> None:
    import pickle

    bad = tmp_path / "bad.pth"
    with open(bad, "wb") as fp:
        for v in (1, 1001, {}):
            pickle.dump(v, fp)
        pickle.dump(__import__("os").system, fp)   # os.system must never be resolved
    with open(tmp_path / "bad2.pth", "wb") as fp:
        pickle.dump(__import__("os").getcwd, fp)   # not even in the header pickles
    with pytest.raises(classifier.WeightsError):
        classifier.load_state_dict(tmp_path / "bad2.pth")
    with pytest.raises(classifier.WeightsError):
        classifier.load_state_dict(bad)


@pytest.mark.skipif(not (PHOTOS / "pypi-skimage" / "coffee.png").exists(), reason="../shared/photos is absent")
def test_real_photos_get_their_class(model: classifier.Classifier) -> None:
    top = model.top(Image.open(PHOTOS / "pypi-skimage" / "coffee.png"))
    assert top[0][0] == 967 and top[0][1] > 0.9    # espresso, 0.96 as measured in issue 15
    assert model.top(Image.open(PHOTOS / "pypi-skimage" / "chelsea.png"))[0][0] in (281, 282, 285)  # a cat
