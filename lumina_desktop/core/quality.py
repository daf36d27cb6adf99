"""Quality vocabulary: how good a photo looks, as scores and the words that explain them.

Pure Python, any thread.  The quality analysis (a later kind) produces a :class:`QualityScore`
per photo; the grid paints ``overall`` as a dot, the details panel shows the sub-scores and
reasons.  Every score is on one scale, 0–100, where higher is always better: a
``motion_blur`` of 100 means no visible motion blur, a ``noise`` of 100 a clean picture.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, fields

SCORE_MIN = 0.0
SCORE_MAX = 100.0

_WORD = re.compile(r"[a-z][a-z0-9_]*")
"""A reason is one machine-readable word ('blurry', 'underexposed', 'subject_soft'): stable to
store and to count, worded for people by whoever shows it."""


def _check_score(name: str, value: float | None, *, is_optional: bool) -> None:
    if value is None:
        if not is_optional:
            raise ValueError(f"{name} is required")
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, not {type(value).__name__}")
    if not math.isfinite(value) or not SCORE_MIN <= value <= SCORE_MAX:
        raise ValueError(f"{name} must be within {SCORE_MIN:g}–{SCORE_MAX:g}, not {value!r}")


def check_reasons(reasons: tuple[str, ...], what: str = "reason") -> None:
    """Reasons are a tuple of distinct lower_snake words (ValueError / TypeError otherwise)."""
    if not isinstance(reasons, tuple):
        raise TypeError(f"{what}s must be a tuple, not {type(reasons).__name__}")
    for r in reasons:
        if not isinstance(r, str) or not _WORD.fullmatch(r):
            raise ValueError(f"a {what} is one lower_snake word (e.g. 'blurry'), not {r!r}")
    if len(set(reasons)) != len(reasons):
        raise ValueError(f"{what}s repeat: {reasons!r}")


@dataclass(frozen=True, slots=True)
class QualityScore:
    """How good one photo looks, 0–100 (higher is better).

    ``overall`` sums up the sub-scores.  A sub-score is None when it was not measured (no subject
    was found for ``subject_sharpness``; ``blockiness`` of a lossless file).  ``reasons`` are the
    words that explain a low ``overall``, most important first.
    """

    overall: float
    sharpness: float | None = None
    subject_sharpness: float | None = None
    motion_blur: float | None = None
    noise: float | None = None
    exposure: float | None = None
    contrast: float | None = None
    blockiness: float | None = None
    reasons: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for f in fields(self):
            if f.name != "reasons":
                _check_score(f.name, getattr(self, f.name), is_optional=f.name != "overall")
        check_reasons(self.reasons)

    @property
    def sub_scores(self) -> dict[str, float]:
        """The measured sub-scores by name (the ones that are not None)."""
        return {f.name: v for f in fields(self) if f.name not in ("overall", "reasons")
                and (v := getattr(self, f.name)) is not None}
