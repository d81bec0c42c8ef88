"""Domain errors. They carry what went wrong, where, and what to do; the CLI maps them to exit codes."""

from __future__ import annotations

__all__ = ["InputError", "JobError", "KlxError"]


class KlxError(Exception):
    """Base of every error klx reports to a user. ``exit_code`` follows the documented table."""

    exit_code = 1

    def __init__(self, message: str, *, remedy: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.remedy = remedy

    def __str__(self) -> str:
        return f"{self.message} ({self.remedy})" if self.remedy else self.message


class InputError(KlxError):
    """Bad usage or input the user can fix: a missing file, a broken value. Exit 2."""

    exit_code = 2


class JobError(KlxError):
    """The job itself failed (device, network, a check that did not pass). Exit 1."""

    exit_code = 1
