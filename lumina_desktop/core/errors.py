"""Error hierarchy (pure Python, any thread).

``LuminaError`` and its subclasses are *user-facing*: their message is one clear line that the
CLI prints and the GUI shows, never a traceback.
"""
from __future__ import annotations


class LuminaError(Exception):
    """An error with a message meant for the user."""


class ConfigError(LuminaError):
    """Settings file or option values are invalid."""


class DatabaseError(LuminaError):
    """The database cannot be reached, started or migrated."""


class ClusterError(DatabaseError):
    """The embedded PostgreSQL cluster cannot be created, started or stopped."""


class DatabaseLost(DatabaseError):
    """The database server (or the connection to it) went away while work was running.

    ``reason`` names the cause in words; ``job_ids`` are the jobs this process was running (they
    are left ``interrupted`` and resume where their last commit got to)."""

    def __init__(self, reason: str, job_ids: tuple[int, ...] = ()) -> None:
        super().__init__(f"lost the connection to the catalog database: {reason}")
        self.reason = reason
        self.job_ids = tuple(job_ids)


class NotFoundError(LuminaError):
    """A catalog, folder, job or photo named by the user does not exist."""


class SmartViewUnavailable(LuminaError):
    """A smart view that photo filters cannot express yet (its feature has not come)."""

    def __init__(self, view: str, message: str) -> None:
        super().__init__(message)
        self.view = view


class JobCancelled(Exception):
    """Raised inside a job when cancellation was requested (not an error)."""
