"""Burst vocabulary: shots taken in quick succession by one camera, and the one to keep.

Pure Python, any thread.  Burst detection (a later kind) groups consecutive photos from the
same camera body; the quality scores then suggest the best of them.  A burst is not a set of
duplicates: its photos are different moments, so each may be worth keeping.
"""
from __future__ import annotations

from dataclasses import dataclass

from lumina_desktop.core.models import CameraIdentity
from lumina_desktop.core.quality import check_reasons


@dataclass(frozen=True, slots=True)
class Burst:
    """Photos one camera took in quick succession, in shooting order.

    ``best_id`` is the suggested pick (one of ``photo_ids``), None until the photos are scored;
    ``pick_reasons`` are the words that explain it ('sharpest', 'eyes_open', …), empty without a
    pick.
    """

    id: int
    photo_ids: tuple[int, ...]
    camera: CameraIdentity
    best_id: int | None = None
    pick_reasons: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.photo_ids, tuple):
            raise TypeError(f"photo_ids must be a tuple, not {type(self.photo_ids).__name__}")
        if len(self.photo_ids) < 2:
            raise ValueError(f"a burst has at least two photos, not {len(self.photo_ids)}")
        if len(set(self.photo_ids)) != len(self.photo_ids):
            raise ValueError(f"a photo appears twice in burst {self.id}: {self.photo_ids!r}")
        if not self.camera.is_known:
            raise ValueError("a burst is taken by one known camera; this one names none")
        if self.best_id is not None and self.best_id not in self.photo_ids:
            raise ValueError(f"the best pick {self.best_id} is not a photo of burst {self.id}")
        if self.best_id is None and self.pick_reasons:
            raise ValueError("pick reasons without a pick")
        check_reasons(self.pick_reasons, "pick reason")

    @property
    def size(self) -> int:
        return len(self.photo_ids)

    @property
    def others(self) -> tuple[int, ...]:
        """The photos other than the best pick, in shooting order (all of them without a pick)."""
        return tuple(i for i in self.photo_ids if i != self.best_id)
