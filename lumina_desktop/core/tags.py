"""Tag vocabulary: a name in a hierarchy ("Animals/Dog"), how sure we are, and who said so.

Pure Python, any thread.  Tags come from a classifier (a later kind), from face recognition, or
from the user.  ``Animals/Dog`` is the tag ``Dog`` under ``Animals``; a photo tagged with it is
also under ``Animals`` (see :meth:`Tag.is_under`).
"""
from __future__ import annotations

import enum
import math
from dataclasses import dataclass

SEPARATOR = "/"


class TagSource(enum.StrEnum):
    """Who tagged a photo (stored by value)."""

    CLASSIFIER = "classifier"
    FACES = "faces"
    USER = "user"


def tag_parts(path: str) -> tuple[str, ...]:
    """The names along a tag path, top first; ValueError for an empty path or an empty or
    padded name ("Animals//Dog", " Dog", "Animals/")."""
    if not isinstance(path, str):
        raise TypeError(f"a tag path is a str, not {type(path).__name__}")
    parts = tuple(path.split(SEPARATOR))
    for p in parts:
        if not p or p != p.strip():
            raise ValueError(f"a tag path is names joined by {SEPARATOR!r}, each non-empty and "
                             f"without surrounding spaces, not {path!r}")
        if not p.isprintable():
            raise ValueError(f"a tag name has no control characters: {path!r}")
    return parts


@dataclass(frozen=True, slots=True)
class Tag:
    """A tag of a photo: ``path`` in the hierarchy, ``confidence`` 0–1 and its ``source``.

    A tag the user set is certain (confidence 1, the default).
    """

    path: str
    source: TagSource
    confidence: float = 1.0

    def __post_init__(self) -> None:
        tag_parts(self.path)
        if not isinstance(self.source, TagSource):
            object.__setattr__(self, "source", TagSource(self.source))
        c = self.confidence
        if isinstance(c, bool) or not isinstance(c, (int, float)):
            raise TypeError(f"confidence must be a number, not {type(c).__name__}")
        if not math.isfinite(c) or not 0.0 <= c <= 1.0:
            raise ValueError(f"confidence must be within 0–1, not {c!r}")
        if self.source is TagSource.USER and c != 1.0:
            raise ValueError("a tag the user set is certain (confidence 1)")

    @property
    def parts(self) -> tuple[str, ...]:
        """('Animals', 'Dog') for 'Animals/Dog'."""
        return tuple(self.path.split(SEPARATOR))

    @property
    def name(self) -> str:
        """The last name of the path: 'Dog'."""
        return self.parts[-1]

    @property
    def parent(self) -> str | None:
        """The path above: 'Animals' (None at the top)."""
        head, sep, _ = self.path.rpartition(SEPARATOR)
        return head if sep else None

    @property
    def depth(self) -> int:
        """1 for a top-level tag."""
        return len(self.parts)

    def is_under(self, ancestor: str) -> bool:
        """Whether this tag is ``ancestor`` or below it ('Animals/Dog' is under 'Animals', not under 'Anim')."""
        return self.parts[:len(a := tag_parts(ancestor))] == a
