"""The app's job kinds, listed once (``BUILTIN_KINDS``); a new kind is one module and one line here."""
from __future__ import annotations

from lumina_desktop.jobs.engine.registry import KindRegistry
from lumina_desktop.jobs.kinds.bursts import BurstsKind
from lumina_desktop.jobs.kinds.demo import DemoKind
from lumina_desktop.jobs.kinds.duplicates import DuplicatesKind
from lumina_desktop.jobs.kinds.quality import QualityKind
from lumina_desktop.jobs.kinds.scan import ScanKind
from lumina_desktop.jobs.kinds.tags import TagsKind
from lumina_desktop.jobs.kinds.thumbnails import ThumbnailsKind
from lumina_desktop.jobs.kinds.trash import TrashKind

BUILTIN_KINDS = KindRegistry([
    ScanKind(),
    DuplicatesKind(),
    ThumbnailsKind(),
    QualityKind(),
    TagsKind(),
    BurstsKind(),
    TrashKind(),
    DemoKind(),
])
