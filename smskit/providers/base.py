"""The SMS provider interface that the runner sends through.

A provider sends one SMS at a time and returns the provider's message id, or raises
`ProviderError` with the provider's code. Delivery statuses and inbound messages do not come
back from `send`: they arrive as `SpoolEvent`s written to the data folder's spool, as a real
provider's webhooks would, and the runner applies them from there.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from smskit.clock import Clock
    from smskit.datafolder import DataFolder
    from smskit.spool import Spool

# Message statuses in the order they may advance; a final status never moves back.
STATUS_ORDER = {"pending": 0, "accepted": 1, "queued": 2, "sending": 3, "sent": 4}
FINAL_STATUSES = frozenset({"delivered", "undelivered", "failed", "received"})


@dataclass(frozen=True)
class OutboundSms:
    """One message to send. `attempt_id` is recorded in the store before the send."""

    attempt_id: str
    to: str
    body: str
    task_id: int | None = None
    sender: str | None = None


@dataclass(frozen=True)
class SendResult:
    """The provider's answer to an accepted send."""

    provider_message_id: str
    status: str = "queued"


@dataclass(frozen=True)
class SpoolEvent:
    """An inbound SMS or a status callback, as written to and read from the spool.

    kind "inbound": `phone_number` sent `body` to our `sender`.
    kind "status": the message `provider_message_id` (sent to `phone_number`) reached `status`.
    """

    kind: Literal["inbound", "status"]
    provider: str
    provider_message_id: str
    phone_number: str
    at: datetime
    body: str | None = None
    sender: str | None = None
    status: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class ProviderContext:
    """Runner state that a provider uses: folder, clock, spool and settings."""

    folder: DataFolder
    clock: Clock
    spool: Spool
    sender: str | None = None
    public_base_url: str | None = None
    request_timeout: float = 10.0


class Provider(abc.ABC):
    """An SMS provider plug-in, registered by its `code`."""

    code: ClassVar[str]
    default_rate_per_second: ClassVar[float] = 0.0

    def __init__(self, context: ProviderContext) -> None:
        self.context = context

    @abc.abstractmethod
    async def send(self, sms: OutboundSms) -> SendResult:
        """Send one SMS and return the provider's message id.

        Raises ProviderError; `ambiguous=True` when the request may have reached the provider
        (timeout or dropped connection after sending), `retryable=True` when the same request
        may be sent again later.
        """

    @abc.abstractmethod
    async def find_sent(self, sms: OutboundSms, since: datetime) -> SendResult | None:
        """Return the provider's record of `sms` if it was sent since `since`, else None.

        Resolves an ambiguous send without sending the message again.
        """

    async def fetch_inbound(self, since: datetime | None) -> list[SpoolEvent]:
        """Return inbound messages that arrived since `since` (the runner may have been down)."""
        return []

    def pending_events(self) -> int:
        """Return how many events the provider holds that are not yet in the spool."""
        return 0

    def routes(self) -> list[BaseRoute]:
        """Return the HTTP routes on which the provider delivers callbacks to the runner."""
        return []

    async def aclose(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release connections."""
