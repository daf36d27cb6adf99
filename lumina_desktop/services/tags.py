"""Tags of a catalog's photos: search by words (with synonyms and the hierarchy), list, and the
user's own tags by content.

Any non-GUI thread; every call takes a pooled connection.  The user's tags are kept by file
content, so they survive rescans, moves and renames, and the tags job never overwrites them; each
change is written to the change feed in the same transaction so open windows re-read the photos.
Tags below :data:`SHOW_CONFIDENCE` are hidden unless asked for (``min_confidence=0``).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lumina_desktop.analysis.tag_vocabulary import vocabulary
from lumina_desktop.core.changes import Aspect
from lumina_desktop.core.errors import LuminaError, NotFoundError
from lumina_desktop.core.photo_tags import SHOW_CONFIDENCE, FaceBox, PhotoTag, TagListRow, normalise_tag
from lumina_desktop.db import tags as tags_db
from lumina_desktop.db.changes import record_changes

TAGS_KIND = "tags"
_TAG_CHANGE = frozenset({Aspect.TAGS})

__all__ = ["SHOW_CONFIDENCE", "TAGS_KIND", "FaceBox", "PhotoTag", "TagListRow", "TagsService"]


class TagsService:
    """Search, list and edit tags; the window and the CLI use this, never ``db.tags``."""

    def __init__(self, db: Any) -> None:
        self._db = db

    # -- reading
    @staticmethod
    def search_terms(text: str) -> set[str]:
        """The tags a search for ``text`` looks for: the words, their synonyms, and every tag under
        them ("dog" → every breed; "seaside" → beach).  Words separated by commas are alternatives."""
        vocab = vocabulary()
        out: set[str] = set()
        for part in text.split(","):
            if part.strip():
                out |= vocab.search_tags(part)
        return out

    def search(self, catalog_id: int, text: str, *, min_confidence: float = SHOW_CONFIDENCE) -> list[int]:
        """Ids of the catalog's photos tagged with what ``text`` means, in capture order."""
        terms = self.search_terms(text)
        if not terms:
            return []
        with self._db.connection() as conn:
            return tags_db.photos_with_any(conn, catalog_id, sorted(terms), min_confidence=min_confidence)

    def of_photo(self, photo_id: int, *, min_confidence: float = SHOW_CONFIDENCE) -> list[PhotoTag]:
        """A photo's tags (the user's first, then surest first); [] for a photo not analysed yet."""
        with self._db.connection() as conn:
            found = tags_db.content_of(conn, photo_id)
            if found is None:
                return []
            return tags_db.tags_of_content(conn, found[0], found[1], min_confidence=min_confidence)

    def faces_of_photo(self, photo_id: int) -> list[FaceBox]:
        with self._db.connection() as conn:
            found = tags_db.content_of(conn, photo_id)
            return tags_db.faces_of(conn, *found) if found else []

    def rows(self, catalog_id: int, *, min_confidence: float = SHOW_CONFIDENCE) -> list[TagListRow]:
        """One row per tag of every photo file: path, tag, confidence, source."""
        with self._db.connection() as conn:
            return tags_db.list_tags(conn, catalog_id, min_confidence=min_confidence)

    def counts(self, catalog_id: int, *, min_confidence: float = SHOW_CONFIDENCE) -> dict[str, int]:
        """How many photos carry each tag (for a tag list or completion)."""
        with self._db.connection() as conn:
            return tags_db.tag_counts(conn, catalog_id, min_confidence=min_confidence)

    @staticmethod
    def parent_of(tag: str) -> str | None:
        """The tag above ``tag`` in the hierarchy ("golden retriever" → "dog"), if any."""
        return vocabulary().parents.get(tag)

    # -- the user's tags
    def add(self, photo_ids: Sequence[int], text: str) -> list[int]:
        """Tag the contents of these photos with ``text`` (the user's tag); returns the photos changed."""
        return self._edit(photo_ids, text, tags_db.add_user_tag)

    def remove(self, photo_ids: Sequence[int], text: str) -> list[int]:
        """Remove ``text`` from the contents of these photos: the user's tag goes, and a tag the job
        set is hidden (reruns keep it hidden); returns the photos changed."""
        return self._edit(photo_ids, text, tags_db.remove_tag)

    def _edit(self, photo_ids: Sequence[int], text: str, op: Any) -> list[int]:
        try:
            tag = normalise_tag(text)
        except (TypeError, ValueError) as exc:
            raise LuminaError(str(exc)) from None
        if not photo_ids:
            return []
        with self._db.connection() as conn, conn.transaction():
            contents = tags_db.contents_of(conn, photo_ids)
            if not contents:
                raise NotFoundError("none of these photos has been analysed yet (scan them first)")
            changed: dict[int, list[str]] = {}
            for catalog_id, content_hash in contents:
                if op(conn, catalog_id, content_hash, tag):
                    changed.setdefault(catalog_id, []).append(content_hash)
            out: list[int] = []
            for catalog_id, hashes in changed.items():
                ids = tags_db.photos_of_contents(conn, catalog_id, hashes)
                record_changes(conn, catalog_id, None, "user", ids, _TAG_CHANGE)
                out.extend(ids)
        return sorted(out)
