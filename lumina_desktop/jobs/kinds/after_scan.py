"""What the kinds that follow a scan over the photos it stored share (previews, quality, tags).

Queued after a scan, such a kind works on the photos that scan stored (``after_job``); started
from the Jobs menu, on the whole catalog.  Any thread.
"""
from __future__ import annotations

from typing import Any, Sequence

from lumina_desktop.core.jobs import JobSnapshot
from lumina_desktop.jobs.engine.context import JobContext
from lumina_desktop.jobs.engine.kind import JobKind, P


class AfterScanKind(JobKind[P]):
    """A kind whose parameters carry ``after_job``: the job whose stored photos it works on."""

    def follow_on_params(self, parent: JobSnapshot, changed_photo_ids: Sequence[int]) -> dict[str, Any] | None:
        return {"after_job": parent.id} if changed_photo_ids else None   # nothing stored: nothing to follow

    def menu_params(self) -> dict[str, Any]:
        return {}

    @staticmethod
    def photos_of_parent(ctx: JobContext) -> list[int] | None:
        """The ids of the photos the parent job stored (empty: nothing to do), or None: the whole catalog."""
        after = ctx.params.after_job
        return ctx.env.store.changed_photos(after) if after is not None else None
