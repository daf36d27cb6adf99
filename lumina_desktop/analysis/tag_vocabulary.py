"""The tag vocabulary: ImageNet classes as friendly words, their hierarchy and synonyms.

Any thread; immutable once loaded.  The data file ``analysis/data/imagenet_tags.json`` ships in
the package and is made by ``tools/build_imagenet_tags.py``: ``classes`` (the 1,000 class
indices' words, e.g. "golden retriever"), ``parents`` (a tree: "golden retriever" → "dog" →
"animal"; "beach" → "sea" → "landscape" → "nature") and ``synonyms`` (a word → the tags it
means: "puppy" → dog, "seaside" → beach).

* :meth:`Vocabulary.class_tags` turns the classifier's 1,000 probabilities into tags with a
  confidence each: a class's word gets its probability, and every word above it the *sum* over
  all classes under it, so a photo of some dog whose breed the model is unsure of is still a
  sure "dog".
* :meth:`Vocabulary.search_tags` turns what a user typed into the tags to look for: the word,
  its synonyms, its singular, the tags that contain it as a word ("retriever"), and everything
  under each ("dog" finds every breed, and a user's tag "golden retriever"), and the synonyms of
  all those (a user's tag "puppy").
"""
from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from importlib import resources

import numpy as np
import numpy.typing as npt


class Vocabulary:
    """Words for the classifier's classes, their tree and synonyms."""

    def __init__(self, classes: list[str], parents: dict[str, str], synonyms: dict[str, list[str]],
                 version: int = 1) -> None:
        self.version = version
        self.classes = tuple(classes)
        self.parents = dict(parents)
        self.synonyms = {k: tuple(v) for k, v in synonyms.items()}
        children: dict[str, list[str]] = {}
        for child, parent in self.parents.items():
            children.setdefault(parent, []).append(child)
        self.children = {k: tuple(sorted(v)) for k, v in children.items()}
        self.tags = tuple(sorted({*self.classes, *self.parents, *self.parents.values(),
                                  *(t for ts in self.synonyms.values() for t in ts)}))
        index = {t: i for i, t in enumerate(self.tags)}
        # membership[t, c] = 1 when class c is tag t or under it
        self._membership = np.zeros((len(self.tags), len(self.classes)), np.float32)
        for c, name in enumerate(self.classes):
            for t in self.ancestors(name, include_self=True):
                self._membership[index[t], c] = 1.0
        self._words = {t: frozenset(t.split()) for t in self.tags}

    def ancestors(self, tag: str, *, include_self: bool = False) -> list[str]:
        """The tags above ``tag``, nearest first."""
        out = [tag] if include_self else []
        seen = {tag}
        while tag in self.parents:
            tag = self.parents[tag]
            if tag in seen:   # a loop in the data: stop (the build script refuses them)
                break
            seen.add(tag)
            out.append(tag)
        return out

    def descendants(self, tag: str) -> set[str]:
        """Every tag under ``tag`` (not itself)."""
        out: set[str] = set()
        todo = list(self.children.get(tag, ()))
        while todo:
            t = todo.pop()
            if t not in out:
                out.add(t)
                todo.extend(self.children.get(t, ()))
        return out

    def class_tags(self, probs: npt.NDArray[np.float32], *, min_confidence: float) -> dict[str, float]:
        """Tags of one picture from its class probabilities: each tag's summed probability over
        the classes at or under it, those at or above ``min_confidence``."""
        sums = self._membership @ np.asarray(probs, np.float32)
        keep = np.nonzero(sums >= min_confidence)[0]
        return {self.tags[i]: float(min(1.0, sums[i])) for i in keep}

    def search_tags(self, text: str) -> set[str]:
        """The tags a search for ``text`` means (with synonyms and everything under them)."""
        q = " ".join(text.lower().split())
        if not q:
            return set()
        found: set[str] = {q}
        for variant in _singulars(q):
            found.add(variant)
            found.update(self.synonyms.get(variant, ()))
        found.update(self.synonyms.get(q, ()))
        for variant in (q, *_singulars(q)):   # "retrievers" → "golden retriever"
            words = frozenset(variant.split())
            found.update(t for t, tw in self._words.items() if words <= tw)
        out = set(found)
        for t in found:
            out.update(self.descendants(t))
        # and the words that mean any of them, as a user may have typed them ("puppy" for dog)
        out.update(w for w, targets in self.synonyms.items() if not out.isdisjoint(targets))
        return out


def _singulars(word: str) -> Iterable[str]:
    if len(word) > 3 and word.endswith("ies"):
        yield word[:-3] + "y"
    if len(word) > 3 and word.endswith("es"):
        yield word[:-2]
    if len(word) > 2 and word.endswith("s") and not word.endswith("ss"):
        yield word[:-1]


@functools.cache
def vocabulary() -> Vocabulary:
    """The vocabulary shipped with the package (read once per process; immutable)."""
    text = resources.files("lumina_desktop.analysis").joinpath("data", "imagenet_tags.json").read_text("utf-8")
    data = json.loads(text)
    if len(data["classes"]) != 1000:
        raise ValueError("imagenet_tags.json must name 1000 classes")
    return Vocabulary(data["classes"], data["parents"], data["synonyms"], int(data.get("version", 1)))
