"""core.bursts: a Burst is photos of one camera in shooting order, with an optional best pick."""
from __future__ import annotations

import pytest

from lumina_desktop.core.bursts import Burst
from lumina_desktop.core.models import CameraIdentity

R5 = CameraIdentity("Canon", "Canon EOS R5", "031021455")


def test_a_burst_in_shooting_order_with_its_pick() -> None:
    b = Burst(7, (12, 10, 11), R5, best_id=10, pick_reasons=("sharpest", "eyes_open"))
    assert b.size == 3 and b.photo_ids == (12, 10, 11) and b.others == (12, 11)
    assert b.camera.label == "Canon EOS R5 #031021455"


def test_a_burst_before_scoring_has_no_pick() -> None:
    b = Burst(1, (1, 2), CameraIdentity("NIKON", "D750"))
    assert b.best_id is None and b.pick_reasons == () and b.others == (1, 2)


@pytest.mark.parametrize("kwargs, message", [
    ({"photo_ids": (1,)}, "at least two"),
    ({"photo_ids": (1, 2, 1)}, "appears twice"),
    ({"best_id": 3}, "not a photo of burst"),
    ({"pick_reasons": ("sharpest",)}, "without a pick"),
    ({"best_id": 1, "pick_reasons": ("Sharpest",)}, "one lower_snake word"),
    ({"camera": CameraIdentity(None, " ", None)}, "known camera"),
])
def test_invalid_bursts_are_refused(kwargs: dict, message: str) -> None:  # type: ignore[type-arg]
    values = {"id": 1, "photo_ids": (1, 2), "camera": R5, **kwargs}
    with pytest.raises(ValueError, match=message):
        Burst(**values)


def test_photo_ids_are_a_tuple() -> None:
    with pytest.raises(TypeError):
        Burst(1, [1, 2], R5)  # type: ignore[arg-type]


def test_camera_labels() -> None:
    assert CameraIdentity("NIKON CORPORATION", "NIKON D750").label == "NIKON D750"
    assert CameraIdentity("FUJIFILM", "X-T4").label == "FUJIFILM X-T4"
    assert CameraIdentity().label == "Unknown camera" and not CameraIdentity().is_known
    assert CameraIdentity(body_serial="42").is_known
