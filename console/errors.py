"""The operators' commands' one error: what could not be done, and what to do instead."""

from __future__ import annotations


class OperatorError(Exception):
    """An operator command cannot do what was asked; the message says what to do instead.

    `exit_code` 2 means the command was asked for something it must not do (a usage error), 1 that it failed.
    """

    def __init__(self, message: str, *, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code
