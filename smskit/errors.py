"""Exceptions raised by smskit.

Every error smskit raises on purpose derives from `SmskitError`::

    SmskitError
    ├── InvalidInputError   bad CSV, attribute value, phone number or argument
    ├── StoreBusyError      the database lock was held too long by another process
    ├── RunnerLockedError   another runner already serves the data folder
    ├── ProviderError       the SMS provider refused or failed a request
    ├── AgentError          the agent (offline or LLM) could not produce an answer
    └── DeliveryError       a webhook delivery failed

Messages name the bad value and say what to do. They never contain secrets.
"""

from __future__ import annotations


class SmskitError(Exception):
    """Base class of every error smskit raises on purpose."""


class InvalidInputError(SmskitError, ValueError):
    """Reject a value given by a user: a CSV body, an attribute, a phone number."""

    def __init__(
        self,
        message: str,
        *,
        row: int | None = None,
        column: str | None = None,
        name: str | None = None,
        value: object = None,
    ) -> None:
        super().__init__(message)
        self.row = row
        self.column = column
        self.name = name
        self.value = value


class StoreBusyError(SmskitError):
    """Raised when the database lock is not free within the wait limit."""

    def __init__(
        self, message: str, *, holder: str | None = None, held_seconds: float | None = None
    ):
        super().__init__(message)
        self.holder = holder
        self.held_seconds = held_seconds


class RunnerLockedError(SmskitError):
    """Raised when another runner process holds the data folder's runner lock."""

    def __init__(self, message: str, *, pid: int | None = None) -> None:
        super().__init__(message)
        self.pid = pid


class ProviderError(SmskitError):
    """Report a send or lookup that the SMS provider refused or could not complete.

    `code` is the provider's error code as text (Twilio: "21211"), `retryable` says whether
    the same request may be sent again later, and `ambiguous` says that the request may have
    reached the provider, so it must not be sent again before the provider is asked.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        http_status: int | None = None,
        retryable: bool = False,
        ambiguous: bool = False,
        retry_after: float | None = None,
        phone: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.http_status = http_status
        self.retryable = retryable
        self.ambiguous = ambiguous
        self.retry_after = retry_after
        self.phone = phone


class AgentError(SmskitError):
    """Raised when the agent cannot produce a usable answer after its retries."""

    def __init__(self, message: str, *, task_id: int | None = None, retryable: bool = False):
        super().__init__(message)
        self.task_id = task_id
        self.retryable = retryable


class DeliveryError(SmskitError):
    """Report a webhook delivery that failed or was given up."""

    def __init__(self, message: str, *, delivery_id: str | None = None) -> None:
        super().__init__(message)
        self.delivery_id = delivery_id
