"""The registry of job kinds: an explicit list, built by the caller and injected (any thread).

No import-time registration: ``jobs.kinds.BUILTIN_KINDS`` lists the app's kinds once; tests
build registries of their own (with fake repositories or test-only kinds).
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator

from lumina_desktop.core.errors import LuminaError
from lumina_desktop.jobs.engine.kind import JobKind


class KindRegistry:
    def __init__(self, kinds: Iterable[JobKind[Any]]) -> None:
        self._kinds: dict[str, JobKind[Any]] = {}
        for kind in kinds:
            if not kind.name:
                raise ValueError(f"{type(kind).__name__} has no name")
            if kind.name in self._kinds:
                raise ValueError(f"two job kinds are named {kind.name!r}")
            self._kinds[kind.name] = kind
        for kind in self._kinds.values():
            for name in kind.follow_ons:
                if name not in self._kinds:
                    raise ValueError(f"{kind.name!r} names an unknown follow-on kind {name!r}")

    def get(self, name: str) -> JobKind[Any]:
        try:
            return self._kinds[name]
        except KeyError:
            raise LuminaError(f"unknown job kind {name!r}; known: {', '.join(sorted(self._kinds))}") from None

    def find(self, name: str) -> JobKind[Any] | None:
        return self._kinds.get(name)

    def names(self) -> list[str]:
        return sorted(self._kinds)

    def __iter__(self) -> Iterator[JobKind[Any]]:
        return iter(self._kinds.values())

    def __contains__(self, name: object) -> bool:
        return name in self._kinds

    def with_kinds(self, *extra: JobKind[Any]) -> KindRegistry:
        """A registry with more kinds (tests add their own)."""
        return KindRegistry([*self._kinds.values(), *extra])

    def follow_on_stages(self) -> list[JobKind[Any]]:
        """Kinds that run after others (each can be switched off in Settings)."""
        wanted = {n for k in self._kinds.values() for n in k.follow_ons}
        return [k for k in self._kinds.values() if k.name in wanted]

    def menu_kinds(self) -> list[JobKind[Any]]:
        return [k for k in self._kinds.values() if k.menu_label]

    def stage_choices(self) -> list[tuple[str, str]]:
        """(name, label) of each follow-on stage, for Settings."""
        return [(k.name, (k.menu_label or k.title).replace("&", "")) for k in self.follow_on_stages()]
