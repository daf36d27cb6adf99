"""Tags of photos as the tags job and the user set them (pure values, any thread).

A tag is a lower-case friendly word or phrase ("dog", "golden retriever", "beach", "screenshot",
"people"), kept per photo *content* with a confidence 0–1 and its source.  Words sit in a
hierarchy ("golden retriever" → "dog" → "animal") held by ``analysis.tag_vocabulary``; the job
stores a photo's class and every word above it, each with its own confidence (a parent's is the
summed probability of the classes under it), so "dog" is sure even when the breed is not.
"""
from __future__ import annotations

import enum
import math
from dataclasses import dataclass

SHOW_CONFIDENCE = 0.30
"""Tags below this confidence are hidden by default (lists, search, the details panel)."""
STORE_CONFIDENCE = 0.05
"""The tags job does not store tags below this confidence."""
MAX_TAG_CHARS = 80


class TagOrigin(enum.StrEnum):
    """Who set a tag (stored by value)."""

    MODEL = "model"            # the image classifier
    HEURISTIC = "heuristic"    # a rule on pixels or EXIF (screenshot, night, …) or the face detector
    USER = "user"


def normalise_tag(text: str) -> str:
    """The stored form of a tag the user typed: trimmed, inner spaces collapsed, lower case;
    ValueError for an empty or over-long tag, or one with control characters."""
    if not isinstance(text, str):
        raise TypeError(f"a tag is text, not {type(text).__name__}")
    tag = " ".join(text.split()).lower()
    if not tag:
        raise ValueError("a tag cannot be empty")
    if len(tag) > MAX_TAG_CHARS:
        raise ValueError(f"a tag has at most {MAX_TAG_CHARS} characters")
    if not tag.isprintable():
        raise ValueError(f"a tag has no control characters: {text!r}")
    return tag


@dataclass(frozen=True, slots=True)
class PhotoTag:
    """One tag of a photo's content."""

    tag: str
    confidence: float
    source: TagOrigin

    def __post_init__(self) -> None:
        if not isinstance(self.source, TagOrigin):
            object.__setattr__(self, "source", TagOrigin(self.source))
        c = float(self.confidence)
        if not math.isfinite(c) or not 0.0 <= c <= 1.0:
            raise ValueError(f"confidence must be within 0–1, not {self.confidence!r}")
        object.__setattr__(self, "confidence", c)

    @property
    def is_shown(self) -> bool:
        """Shown by default: the user's, or sure enough."""
        return self.source is TagOrigin.USER or self.confidence >= SHOW_CONFIDENCE


@dataclass(frozen=True, slots=True)
class FaceBox:
    """A face found in a picture: its box as fractions (0–1) of the upright picture."""

    x: float
    y: float
    w: float
    h: float
    confidence: float
    detector: str


@dataclass(frozen=True, slots=True)
class TagListRow:
    """One row of ``tags list``: one tag of one photo file."""

    photo_id: int
    path: str
    tag: str
    confidence: float
    source: TagOrigin
