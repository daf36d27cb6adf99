"""The kind contract: the one place a job kind is defined (any thread).

A kind is one module in ``jobs/kinds/`` and one line in ``kinds.BUILTIN_KINDS``.  The engine, the
CLI and the window learn everything about it from the object: its name, title, phases with
their labels, typed parameters, lane, how it finds work, how a worker thread processes an item,
how results are stored, how the job is finished and summarised, and what runs after it.

Where each hook runs:

* ``parse_params`` — whoever submits the job (validation: a bad parameter is one clear error).
* ``discover(ctx)`` — the coordinator thread, once per job (not again on resume), inside the
  transaction that also creates the batches (``ctx.tx``).  Yields JSON-able work items.
* ``open(env, params)`` — once per worker thread (and parameter set): load models and caches
  here.  Returns the item runner ``runner(ictx, item) -> result``: pure work, no DB writes.
  Raising makes a per-item error and the batch goes on; raise ``ItemFailure`` to also hand the
  failure to ``store``.  A long item calls ``ictx.check_cancelled()`` and ``ictx.progress(f)``.
* ``store(tx, job, batch, results)`` — the worker, in the SAME transaction that records how far
  the batch got, so results and progress commit together (about once a second).  Must be
  idempotent.  Returns ``Stored(counters, changed_photo_ids)``.
* ``finalize(ctx)`` — the coordinator thread after all batches; returns the result mapping.
* ``summarize(result)`` — the one line shown by both the CLI and the jobs panel.
"""
from __future__ import annotations

import dataclasses
import enum
import types
import typing
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Generic, Iterable, Mapping, Sequence, TypeVar

from lumina_desktop.core.changes import Aspect
from lumina_desktop.core.errors import LuminaError
from lumina_desktop.core.jobs import JobSnapshot

if typing.TYPE_CHECKING:
    from lumina_desktop.jobs.engine.context import BatchInfo, ItemContext, JobContext, JobEnv

P = TypeVar("P")


class Lane(str, enum.Enum):
    """What an item mostly uses; the executor bounds how many items of a lane run at once."""

    CPU = "cpu"                  # decoding, hashing, scoring: one slot per core
    IO = "io"                    # file and database waits: every worker thread
    ACCELERATOR = "accelerator"  # a model on a GPU or NPU: one at a time


@dataclass(frozen=True)
class Phase:
    name: str
    weight: float
    label: str


QUEUED_LABEL = "Waiting"


@dataclass(frozen=True)
class Stored:
    """What ``store`` did: counters summed over the job, and the photos it changed."""

    counters: Mapping[str, int] = dataclasses.field(default_factory=dict)
    # the photos changed, in the kind's ``change_aspects`` (what follow-ons work on)
    changed_photo_ids: tuple[int, ...] = ()
    # per-item outcomes found only when storing (item key, class, message), recorded as item errors
    item_errors: tuple[tuple[str, str, str], ...] = ()
    # photos changed in other aspects than ``change_aspects`` (a scan's new photos are ADDED too):
    # (aspects, ids) pairs, written to the change feed besides ``changed_photo_ids``
    changes: tuple[tuple[frozenset[Aspect], tuple[int, ...]], ...] = ()

    def feed_rows(self, default: frozenset[Aspect]) -> list[tuple[frozenset[Aspect], tuple[int, ...]]]:
        """What goes to the change feed: the explicit groups, then the rest of
        ``changed_photo_ids`` in the kind's default aspects."""
        rows = [(a, ids) for a, ids in self.changes if ids and a]
        named = {i for _, ids in rows for i in ids}
        rest = tuple(i for i in self.changed_photo_ids if i not in named)
        if rest and default:
            rows.append((default, rest))
        return rows


@dataclass(frozen=True)
class NoParams:
    """Parameters of a kind that takes none."""


class ItemFailure(Exception):
    """Raised by an item runner for a failed item whose failure the kind also wants to store.

    The engine records it as a per-item error AND passes it to ``store`` in the results (as the
    result value), e.g. so the scan job can mark the file's row with the reason.
    """

    def __init__(self, error_class: str, message: str, payload: Any = None) -> None:
        super().__init__(message)
        self.error_class = error_class
        self.message = message
        self.payload = payload


ItemRunner = Callable[["ItemContext", Any], Any]


class JobKind(Generic[P]):
    """Base of every kind.  Class attributes describe it; methods are its hooks."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    phases: ClassVar[Sequence[Phase]] = (Phase("discover", 0.05, "Finding work"),
                                         Phase("process", 0.9, "Working"),
                                         Phase("finalize", 0.05, "Finishing"))
    params_type: ClassVar[type] = NoParams
    lane: ClassVar[Lane] = Lane.CPU
    is_low_priority: ClassVar[bool] = False
    needs_catalog: ClassVar[bool] = True
    batch_size: ClassVar[int | None] = None  # None: the setting
    # Jobs queued, for the photos this kind changed, when a job of it succeeds.
    follow_ons: ClassVar[tuple[str, ...]] = ()
    # The Jobs menu / ``jobs run`` label; None keeps the kind out of the menu.
    menu_label: ClassVar[str | None] = None
    menu_shortcut: ClassVar[str | None] = None
    # What its results change about photos, for the change feed (views re-read only that):
    # ``change_aspects`` of the photos ``store`` reports changed; ``discovery_aspects`` of photos
    # not itemised, when discovery commits (a scan marking files missing); ``finish_aspects`` of
    # photos not itemised, when the job ends (a duplicates run regrouping the catalog).
    change_aspects: ClassVar[frozenset[Aspect]] = frozenset()
    discovery_aspects: ClassVar[frozenset[Aspect]] = frozenset()
    finish_aspects: ClassVar[frozenset[Aspect]] = frozenset()

    # -- parameters
    def parse_params(self, raw: Mapping[str, Any] | None) -> P:
        """Typed, frozen parameters from JSON-able values; a bad value is one clear error."""
        return parse_dataclass(self.params_type, raw or {}, what=f"{self.name} job")  # type: ignore[no-any-return]

    def params_json(self, params: P) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in dataclasses.asdict(params).items()}  # type: ignore[call-overload]

    def menu_params(self) -> dict[str, Any]:
        """Parameters used when the user starts the kind from the Jobs menu."""
        return {}

    def follow_on_params(self, parent: JobSnapshot, changed_photo_ids: Sequence[int]) -> dict[str, Any] | None:
        """Parameters of this kind queued after ``parent`` changed those photos; None: nothing to do."""
        return None

    # -- hooks
    def discover(self, ctx: JobContext) -> Iterable[Any]:
        raise NotImplementedError

    def open(self, env: JobEnv, params: P) -> ItemRunner:
        raise NotImplementedError

    def store(self, tx: Any, job: JobSnapshot, batch: BatchInfo, results: list[tuple[Any, Any]]) -> Stored:
        return Stored()

    def finalize(self, ctx: JobContext) -> dict[str, Any]:
        return {}

    # -- wording
    def item_key(self, item: Any) -> str:
        return str(item)

    def describe(self, job: JobSnapshot) -> str:
        """The job's title in lists: the kind's title plus what it works on."""
        return self.title or self.name

    def summarize(self, result: Mapping[str, Any]) -> str:
        if "items" in result:
            return f"{result['items']:,} items"
        return ""

    def review_view(self, result: Mapping[str, Any]) -> str | None:
        """The view (a ``SmartView`` value) where the user reviews what a finished job found, if
        it found something to review; the window offers it when the job ends."""
        return None

    def phase_label(self, phase: str) -> str:
        for p in self.phases:
            if p.name == phase:
                return p.label
        return QUEUED_LABEL if phase == "queued" else phase.replace("_", " ").capitalize()


def parse_dataclass(cls: type, raw: Mapping[str, Any], *, what: str) -> Any:
    """Build a frozen dataclass from JSON-able values, checking names and simple types."""
    if not isinstance(raw, Mapping):
        raise LuminaError(f"parameters of a {what} must be an object")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        known = ", ".join(fields) or "none"
        raise LuminaError(f"unknown parameter(s) for a {what}: {', '.join(unknown)} (known: {known})")
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for name, value in raw.items():
        values[name] = _coerce(value, hints[name], f"parameter {name!r} of a {what}")
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:
        raise LuminaError(f"bad parameters for a {what}: {exc}") from None


def _coerce(value: Any, hint: Any, what: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Union or origin is types.UnionType:
        if value is None and type(None) in args:
            return None
        for a in args:
            if a is type(None):
                continue
            try:
                return _coerce(value, a, what)
            except LuminaError:
                continue
        raise LuminaError(f"{what} has the wrong type: {value!r}")
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise LuminaError(f"{what} must be a list, got {value!r}")
        inner = args[0] if args else Any
        return tuple(_coerce(v, inner, what) for v in value)
    if hint is Any:
        return value
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise LuminaError(f"{what} must be true or false, got {value!r}")
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise LuminaError(f"{what} must be a whole number, got {value!r}")
    if hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise LuminaError(f"{what} must be a number, got {value!r}")
    if hint is str:
        if isinstance(value, str):
            return value
        raise LuminaError(f"{what} must be text, got {value!r}")
    return value
