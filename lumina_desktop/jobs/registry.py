"""Job kinds: discover / process / store / finalize, registered by name (any thread).

A kind fits in one module: subclass ``JobKind``, set ``name``, implement the hooks, and call
``register(MyKind())`` at import.  Hooks run where the engine puts them:

* ``discover`` — coordinator thread, once per job (not again on resume): yields work items
  (JSON-able); the engine splits them into batches of ``batch_size``.
* ``process_item`` — a worker thread, once per item; pure work, no DB writes.  An exception
  becomes a per-item error and the batch goes on.
* ``store`` — the worker, in the SAME transaction that marks the batch succeeded, so a batch's
  results and status commit together.  Must be idempotent (upserts), as a batch may rerun.
* ``finalize`` — coordinator thread after all batches: aggregate, return the result summary.
"""
from __future__ import annotations

import importlib
from typing import Any, ClassVar, Iterable, Sequence

import psycopg

from lumina_desktop.core.jobs import JobSnapshot
from lumina_desktop.jobs.context import BatchInfo, JobContext, JobEnv

DEFAULT_PHASES: tuple[tuple[str, float], ...] = (("discover", 0.05), ("process", 0.9), ("finalize", 0.05))


class JobKind:
    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    phases: ClassVar[Sequence[tuple[str, float]]] = DEFAULT_PHASES
    batch_size: ClassVar[int | None] = None  # None: the setting

    def discover(self, ctx: JobContext) -> Iterable[Any]:
        raise NotImplementedError

    def process_item(self, env: JobEnv, job: JobSnapshot, item: Any) -> Any:
        raise NotImplementedError

    def store(self, conn: psycopg.Connection, job: JobSnapshot, batch: BatchInfo,
              results: list[tuple[Any, Any]]) -> dict[str, int] | None:
        """Write results of one batch (inside the batch-completion transaction).

        May return counters (e.g. ``{"new": 3}``) kept with the batch; ``batch_totals`` sums them.
        """
        return None

    def finalize(self, ctx: JobContext) -> dict[str, Any]:
        return {}

    def item_key(self, item: Any) -> str:
        return str(item)

    def describe(self, job: JobSnapshot) -> str:
        return self.title or self.name


class ItemFailure(Exception):
    """Raised by ``process_item`` for a failed item whose failure the kind also wants to store.

    The engine records it as a per-item error AND passes it to ``store`` in the results (as the
    result value), e.g. so the scan job can mark the file's row with the reason.
    """

    def __init__(self, error_class: str, message: str, payload: Any = None) -> None:
        super().__init__(message)
        self.error_class = error_class
        self.message = message
        self.payload = payload


_REGISTRY: dict[str, JobKind] = {}
_BUILTIN_MODULES = ("lumina_desktop.jobs.demo", "lumina_desktop.jobs.scan", "lumina_desktop.jobs.duplicates")


def register(kind: JobKind) -> JobKind:
    if not kind.name:
        raise ValueError("a job kind needs a name")
    _REGISTRY[kind.name] = kind
    return kind


def _load_builtins() -> None:
    for mod in _BUILTIN_MODULES:
        try:
            importlib.import_module(mod)
        except ModuleNotFoundError as exc:
            if exc.name != mod:
                raise


def get_kind(name: str) -> JobKind:
    _load_builtins()
    try:
        return _REGISTRY[name]
    except KeyError:
        from lumina_desktop.core.errors import LuminaError

        raise LuminaError(f"unknown job kind {name!r}; known: {', '.join(sorted(_REGISTRY))}") from None


def kind_names() -> list[str]:
    _load_builtins()
    return sorted(_REGISTRY)
