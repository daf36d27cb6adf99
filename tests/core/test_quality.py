"""core.quality: QualityScore holds 0–100 scores (higher is better) and reasons as words."""
from __future__ import annotations

import dataclasses
import math

import pytest

from lumina_desktop.core.quality import QualityScore


def test_a_score_with_sub_scores_and_reasons() -> None:
    q = QualityScore(42.5, sharpness=30, subject_sharpness=None, motion_blur=20.0, noise=90, exposure=55,
                     contrast=60, blockiness=100, reasons=("motion_blur", "blurry"))
    assert q.overall == 42.5 and q.reasons == ("motion_blur", "blurry")
    assert q.sub_scores == {"sharpness": 30, "motion_blur": 20.0, "noise": 90, "exposure": 55, "contrast": 60,
                            "blockiness": 100}
    with pytest.raises(dataclasses.FrozenInstanceError):
        q.overall = 50  # type: ignore[misc]


def test_bounds_are_inclusive_and_sub_scores_optional() -> None:
    assert QualityScore(0).sub_scores == {} and QualityScore(100).reasons == ()


@pytest.mark.parametrize("field", ["overall", "sharpness", "subject_sharpness", "motion_blur", "noise", "exposure",
                                   "contrast", "blockiness"])
@pytest.mark.parametrize("bad", [-0.1, 100.01, math.nan, math.inf])
def test_every_score_is_within_0_and_100(field: str, bad: float) -> None:
    values = {"overall": 50.0, field: bad}
    with pytest.raises(ValueError, match=field):
        QualityScore(**values)


def test_scores_are_numbers() -> None:
    with pytest.raises(TypeError):
        QualityScore(True)
    with pytest.raises(TypeError):
        QualityScore(50, sharpness="80")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="overall is required"):
        QualityScore(None)  # type: ignore[arg-type]


@pytest.mark.parametrize("reasons", [("Blurry",), ("too dark",), ("",), ("blurry", "blurry"), ("1st",)])
def test_reasons_are_distinct_lower_snake_words(reasons: tuple[str, ...]) -> None:
    with pytest.raises(ValueError):
        QualityScore(10, reasons=reasons)


def test_reasons_are_a_tuple() -> None:
    with pytest.raises(TypeError):
        QualityScore(10, reasons=["blurry"])  # type: ignore[arg-type]
