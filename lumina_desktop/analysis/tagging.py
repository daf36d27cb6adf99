"""A picture's tags: the classifier's words with their hierarchy, rule-based tags, and faces.

Runs on a worker thread; one :class:`Tagger` per thread (it holds an onnxruntime session and a
face detector, neither shared).  :meth:`Tagger.tag` takes an upright RGB picture — the preview
or the grid thumbnail — and what the catalog knows of the file, and returns the tags to store
(each with its confidence and source) and the face boxes.
"""
from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

from lumina_desktop.analysis.classifier import MODEL_VERSION, Classifier, prepare
from lumina_desktop.analysis.faces import FaceDetector, make_detector, people_confidence
from lumina_desktop.analysis.tag_heuristics import FileFacts, heuristic_tags
from lumina_desktop.analysis.tag_vocabulary import Vocabulary, vocabulary
from lumina_desktop.core.photo_tags import STORE_CONFIDENCE, FaceBox, PhotoTag, TagOrigin

RULES_VERSION = 1
TAGS_VERSION = MODEL_VERSION * 100 + RULES_VERSION
"""Stored with each tagged content; a change re-tags everything at the next run."""
PEOPLE_TAG = "people"


@dataclass(frozen=True, slots=True)
class Tagging:
    tags: tuple[PhotoTag, ...]
    faces: tuple[FaceBox, ...]


class Tagger:
    """The classifier, the vocabulary and a face detector, for one worker thread."""

    def __init__(self, *, classifier: Classifier | None = None, vocab: Vocabulary | None = None,
                 detector: FaceDetector | None = None, detect_faces: bool = True) -> None:
        self.classifier = classifier if classifier is not None else Classifier()
        self.vocab = vocab if vocab is not None else vocabulary()
        self.detector = detector if detector is not None else (make_detector() if detect_faces else None)

    @property
    def has_faces(self) -> bool:
        return self.detector is not None

    def tag(self, im: Image.Image, facts: FileFacts) -> Tagging:
        if im.mode != "RGB":
            im = im.convert("RGB")
        probs = self.classifier.probabilities(prepare(im)[None])[0]
        found: dict[tuple[str, TagOrigin], float] = {}
        for tag, c in self.vocab.class_tags(probs, min_confidence=STORE_CONFIDENCE).items():
            found[(tag, TagOrigin.MODEL)] = c
        for tag, c in heuristic_tags(im, facts).items():
            if c >= STORE_CONFIDENCE:
                found[(tag, TagOrigin.HEURISTIC)] = c
                for parent in self.vocab.ancestors(tag):   # a screenshot is also a document
                    key = (parent, TagOrigin.HEURISTIC)
                    found[key] = max(found.get(key, 0.0), c)
        faces: list[FaceBox] = []
        if self.detector is not None:
            faces = self.detector.detect(im)
            c = people_confidence(faces)
            if c >= STORE_CONFIDENCE:
                key = (PEOPLE_TAG, TagOrigin.HEURISTIC)
                found[key] = max(found.get(key, 0.0), c)
        tags = tuple(PhotoTag(t, round(min(1.0, c), 4), src)
                     for (t, src), c in sorted(found.items(), key=lambda kv: (-kv[1], kv[0][0])))
        return Tagging(tags, tuple(faces))
