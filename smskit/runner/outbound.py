"""Sending exactly once: intent recorded before the provider call, id recorded after it.

Every outbound message (greeting, reply, opt-out confirmation, help answer) is first written to
`messages` with a fresh `attempt_id` and status `pending` in the next tick's transaction. Only
after that commit is it handed to the provider. An ambiguous provider answer (timeout or
dropped connection after the request went out) is resolved by asking the provider whether the
message exists, never by sending blindly again.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal

import duckdb

from smskit.clock import naive_utc
from smskit.errors import ProviderError
from smskit.providers.base import OutboundSms, SendResult
from smskit.segments import estimate_cost, measure
from smskit.store import query_rows

if TYPE_CHECKING:
    from smskit.runner.core import Runner

logger = logging.getLogger(__name__)

MAX_SEND_ATTEMPTS = 5
Verdict = Literal["approved", "suppressed", "rejected"]


@dataclass
class Intent:
    """An outbound message waiting for its intent to be recorded."""

    message_id: int
    attempt_id: str
    task_id: int | None
    phone: str
    kind: str
    body: str
    created_at: datetime
    # Greetings are re-checked in the recording transaction: the batch must still be active,
    # the task still unsent and the number not suppressed.
    checked: bool
    verdict: asyncio.Future[Verdict] = field(repr=False, init=False)

    def sms(self, sender: str | None) -> OutboundSms:
        return OutboundSms(self.attempt_id, self.phone, self.body, self.task_id, sender)


class Outbound:
    """Records intents, sends through the provider and records the provider's answer."""

    def __init__(self, runner: Runner, concurrency: int) -> None:
        self.runner = runner
        self.intents: list[Intent] = []
        self._slots = asyncio.Semaphore(concurrency)

    def new_intent(
        self, task_id: int | None, phone: str, kind: str, body: str, *, checked: bool
    ) -> Intent:
        """Create an intent and queue it for the next tick's transaction."""
        intent = Intent(
            message_id=self.runner.next_message_id(),
            attempt_id="att_" + secrets.token_hex(12),
            task_id=task_id,
            phone=phone,
            kind=kind,
            body=body,
            created_at=self.runner.clock.now(),
            checked=checked,
        )
        intent.verdict = asyncio.get_running_loop().create_future()
        self.intents.append(intent)
        return intent

    def take_intents(self) -> list[Intent]:
        intents, self.intents = self.intents, []
        return intents

    async def send(self, intent: Intent) -> SendResult:
        """Send a recorded intent; retry what is safe to retry, resolve what is ambiguous.

        Raises ProviderError when the provider refuses the message for good.
        """
        sms = intent.sms(self.runner.sender)
        attempt = 0
        while True:
            try:
                async with self._slots:
                    return await self.runner.provider.send(sms)
            except ProviderError as error:
                attempt += 1
                if error.ambiguous:
                    found = await self.resolve(intent)
                    if found is not None:
                        return found
                    logger.info(
                        "task %s: provider has no record of %s, sending again",
                        intent.task_id,
                        intent.attempt_id,
                    )
                elif not error.retryable or attempt >= MAX_SEND_ATTEMPTS:
                    raise
                delay = backoff_seconds(attempt, error.retry_after)
                logger.warning(
                    "task %s: send failed (%s), retry %d in %.1f s",
                    intent.task_id,
                    error,
                    attempt,
                    delay,
                )
                await self.runner.clock.sleep(delay)

    async def resolve(self, intent: Intent) -> SendResult | None:
        """Ask the provider whether an ambiguous send went out; keep asking while unknown."""
        attempt = 0
        while True:
            try:
                return await self.runner.provider.find_sent(
                    intent.sms(self.runner.sender), intent.created_at
                )
            except ProviderError as error:
                attempt += 1
                logger.warning(
                    "task %s: outcome of send %s unknown (%s); asking again",
                    intent.task_id,
                    intent.attempt_id,
                    error,
                )
                if intent.task_id is not None:
                    self.runner.journal.update_task(
                        intent.task_id,
                        error_message=f"send outcome unknown, checking with the provider: {error}",
                        updated_at=self.runner.clock.now(),
                    )
                await self.runner.clock.sleep(backoff_seconds(min(attempt, 8), None))

    def record_sent(self, intent: Intent, result: SendResult, at: datetime) -> None:
        """Record the provider's message id and status."""
        self.runner.journal.update_message(
            intent.message_id,
            provider_message_id=result.provider_message_id,
            status=result.status,
            sent_at=at,
            status_at=at,
        )
        self.runner.metrics.messages_sent.labels(intent.kind).inc()

    def record_failed(self, intent: Intent, error: ProviderError, at: datetime) -> None:
        """Record that the provider refused the message."""
        self.runner.journal.update_message(
            intent.message_id,
            status="failed",
            error_code=error.code,
            error_message=str(error),
            status_at=at,
        )


def backoff_seconds(attempt: int, retry_after: float | None) -> float:
    """Return an exponential backoff with full jitter (base 2 s, cap 5 min), or Retry-After."""
    if retry_after is not None and retry_after >= 0:
        return float(retry_after)
    return random.uniform(0, min(300.0, 2.0 * 2 ** max(0, attempt - 1)))


def message_row(intent: Intent, provider: str, sender: str | None) -> dict[str, object]:
    """Return the `messages` row of a recorded intent."""
    size = measure(intent.body)
    return {
        "message_id": intent.message_id,
        "task_id": intent.task_id,
        "direction": "outbound",
        "kind": intent.kind,
        "phone_number": intent.phone,
        "sender": sender,
        "body": intent.body,
        "attempt_id": intent.attempt_id,
        "provider": provider,
        "status": "pending",
        "segments": size.segments,
        "encoding": size.encoding,
        "cost": estimate_cost(size.segments),
        "after_session": False,
        "created_at": naive_utc(intent.created_at),
    }


def check_greetings(
    conn: duckdb.DuckDBPyConnection, intents: list[Intent]
) -> tuple[set[int], set[str]]:
    """Return the task ids still sendable and the numbers now suppressed, in the transaction."""
    checked = [intent for intent in intents if intent.checked]
    if not checked:
        return set(), set()
    sendable = {
        row[0]
        for row in query_rows(
            conn,
            "SELECT t.task_id FROM tasks t JOIN batches b USING (batch_id) "
            "WHERE list_contains(?, t.task_id) AND t.state IN ('queued', 'waiting') "
            "AND b.state = 'active'",
            [[intent.task_id for intent in checked]],
        )
    }
    suppressed = {
        row[0]
        for row in query_rows(
            conn,
            "SELECT phone_number FROM suppressions WHERE list_contains(?, phone_number)",
            [[intent.phone for intent in checked]],
        )
    }
    return sendable, suppressed
