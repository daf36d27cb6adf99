"""core.tags: a Tag is a path in a hierarchy, a confidence 0–1 and who set it."""
from __future__ import annotations

import math

import pytest

from lumina_desktop.core.tags import Tag, TagSource, tag_parts


def test_a_tag_in_the_hierarchy() -> None:
    t = Tag("Animals/Dog", TagSource.CLASSIFIER, 0.83)
    assert t.parts == ("Animals", "Dog") and t.name == "Dog" and t.parent == "Animals" and t.depth == 2
    assert t.is_under("Animals") and t.is_under("Animals/Dog")
    assert not t.is_under("Anim") and not t.is_under("Animals/Dog/Puppy") and not t.is_under("Plants")
    top = Tag("Holiday", TagSource.USER)
    assert top.parent is None and top.depth == 1 and top.confidence == 1.0


def test_names_may_hold_spaces_and_any_language() -> None:
    assert Tag("Places/Île de Ré", TagSource.USER).name == "Île de Ré"


def test_source_is_stored_by_value() -> None:
    assert Tag("People/Ann", "faces", 0.5).source is TagSource.FACES  # type: ignore[arg-type]
    assert [s.value for s in TagSource] == ["classifier", "faces", "user"]
    with pytest.raises(ValueError):
        Tag("People/Ann", "guess", 0.5)  # type: ignore[arg-type]


@pytest.mark.parametrize("path", ["", "/", "Animals/", "/Animals", "Animals//Dog", " Dog", "Animals/Dog ", "a\tb"])
def test_malformed_paths_are_refused(path: str) -> None:
    with pytest.raises(ValueError):
        tag_parts(path)
    with pytest.raises(ValueError):
        Tag(path, TagSource.CLASSIFIER, 0.5)


@pytest.mark.parametrize("confidence", [-0.01, 1.01, math.nan])
def test_confidence_is_within_0_and_1(confidence: float) -> None:
    with pytest.raises(ValueError, match="confidence"):
        Tag("Animals", TagSource.CLASSIFIER, confidence)


def test_a_user_tag_is_certain() -> None:
    with pytest.raises(ValueError, match="certain"):
        Tag("Animals", TagSource.USER, 0.9)
    with pytest.raises(TypeError):
        Tag("Animals", TagSource.CLASSIFIER, True)
