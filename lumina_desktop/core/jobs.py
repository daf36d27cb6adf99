"""The one job vocabulary: states, transitions and snapshots (pure Python, any thread).

Job states::

    pending → running → succeeded | failed
                      → cancelling → cancelled
                      → interrupted            (owner stopped heartbeating)
    cancelled | interrupted | failed → pending (resume)

The SQL CHECK constraints mirror these enums (tested), nothing else spells them.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping


class JobState(str, enum.Enum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLING = "cancelling"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"

    @property
    def is_active(self) -> bool:
        return self in ACTIVE_STATES

    @property
    def is_finished(self) -> bool:
        return self in FINISHED_STATES

    @property
    def can_resume(self) -> bool:
        return self in RESUMABLE_STATES

    @property
    def can_cancel(self) -> bool:
        return self in (JobState.PENDING, JobState.RUNNING, JobState.INTERRUPTED)


ACTIVE_STATES = frozenset({JobState.PENDING, JobState.RUNNING, JobState.CANCELLING})
FINISHED_STATES = frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED})
RESUMABLE_STATES = frozenset({JobState.CANCELLED, JobState.INTERRUPTED, JobState.FAILED})

TRANSITIONS: Mapping[JobState, frozenset[JobState]] = {
    JobState.PENDING: frozenset({JobState.RUNNING, JobState.CANCELLED, JobState.INTERRUPTED}),
    # RUNNING → PENDING never happens: a resumed job goes through INTERRUPTED or CANCELLED
    JobState.RUNNING: frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLING,
                                 JobState.CANCELLED, JobState.INTERRUPTED}),
    JobState.CANCELLING: frozenset({JobState.CANCELLED, JobState.INTERRUPTED}),
    JobState.SUCCEEDED: frozenset(),
    JobState.FAILED: frozenset({JobState.PENDING}),
    JobState.CANCELLED: frozenset({JobState.PENDING}),
    JobState.INTERRUPTED: frozenset({JobState.PENDING, JobState.CANCELLED}),
}


def can_transition(old: JobState, new: JobState) -> bool:
    return new in TRANSITIONS[old]


def sources_of(new: JobState) -> list[str]:
    """The states a job may be in to move to ``new`` (the guard of every state UPDATE)."""
    return [old.value for old in JobState if new in TRANSITIONS[old]]


def values(states: frozenset[JobState] | tuple[JobState, ...]) -> list[str]:
    return sorted(s.value for s in states)


class BatchState(str, enum.Enum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class BatchRow:
    """A claimed batch: its items still to do start at ``done_items``."""

    id: int
    job_id: int
    seq: int
    items: list[Any]
    attempts: int
    kind: str
    done_items: int = 0
    catalog_id: int | None = None
    claim_id: str = ""


@dataclass(frozen=True)
class JobProgress:
    """A row of ``job_progress``: what a progress bar shows."""

    job_id: int
    phase: str
    done: int
    total: int
    fraction: float
    message: str
    rate: float | None
    eta_s: float | None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class JobSnapshot:
    """A job as the UI and CLI see it: state plus latest progress."""

    id: int
    catalog_id: int | None
    kind: str
    state: JobState
    params: Mapping[str, Any]
    owner: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None
    result: Mapping[str, Any] | None
    item_errors: int
    cancel_requested: bool
    progress: JobProgress | None = None
    parent_job_id: int | None = None

    @property
    def fraction(self) -> float:
        if self.state == JobState.SUCCEEDED:
            return 1.0
        return self.progress.fraction if self.progress else 0.0


@dataclass(frozen=True)
class ItemError:
    job_id: int
    item: str
    error_class: str
    message: str
    created_at: datetime | None = None
