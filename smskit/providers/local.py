"""The local provider: messages stay on this machine, recorded in an append-only ledger.

The ledger lives outside the store (`local-provider/ledger.jsonl` in the data folder) and is
flushed per send, so a crash between sending and recording is observable afterwards, as with a
real provider. Inbound replies come from `smskit reply`, the conversations notebook, the
`/providers/local/inbound` route, or simulated recipients; all go through the spool.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from smskit.clock import utc
from smskit.errors import ProviderError
from smskit.providers.base import OutboundSms, Provider, ProviderContext, SendResult, SpoolEvent

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import BaseRoute

logger = logging.getLogger(__name__)

LOCAL_SENDER = "+15005550006"
STATUS_FLUSH_SECONDS = 0.05


def inbound_event(phone: str, text: str, at: datetime) -> SpoolEvent:
    """Build the spool event of an SMS that `phone` sends to the local provider."""
    return SpoolEvent(
        kind="inbound",
        provider="local",
        provider_message_id="LI" + secrets.token_hex(16),
        phone_number=phone,
        body=text,
        sender=LOCAL_SENDER,
        at=utc(at),
    )


class LocalProvider(Provider):
    """Send by appending to the ledger; report `delivered` through the spool."""

    code: ClassVar[str] = "local"
    default_rate_per_second: ClassVar[float] = 0.0

    def __init__(self, context: ProviderContext) -> None:
        super().__init__(context)
        self.ledger_path = context.folder.local_ledger
        self.ledger_path.parent.mkdir(parents=True, exist_ok=True)
        self._sent = self._read_ledger()
        self._ledger = open(self.ledger_path, "a", encoding="utf-8")  # noqa: SIM115 - kept open
        self._statuses: list[SpoolEvent] = []
        self._flusher: asyncio.Task[None] | None = None
        self.on_sent: list[Callable[[OutboundSms, SendResult], None]] = []

    def _read_ledger(self) -> dict[str, dict[str, Any]]:
        sent: dict[str, dict[str, Any]] = {}
        try:
            with open(self.ledger_path, encoding="utf-8") as ledger:
                for line in ledger:
                    if line.endswith("\n"):
                        record = json.loads(line)
                        sent[record["attempt_id"]] = record
        except FileNotFoundError:
            pass
        return sent

    async def send(self, sms: OutboundSms) -> SendResult:
        """Append the message to the ledger, flush it, and queue its `delivered` status."""
        if sms.attempt_id in self._sent:
            # The same attempt id is never sent twice: answer with the first send's id.
            return SendResult(self._sent[sms.attempt_id]["sid"], "sent")
        if not sms.to.startswith("+"):
            raise ProviderError(f"invalid 'To' number {sms.to!r}", code="21211", phone=sms.to)
        now = self.context.clock.now()
        sid = "LM" + secrets.token_hex(16)
        record: dict[str, Any] = {
            "sid": sid,
            "attempt_id": sms.attempt_id,
            "task_id": sms.task_id,
            "to": sms.to,
            "from": sms.sender or LOCAL_SENDER,
            "body": sms.body,
            "sent_at": now.isoformat(),
        }
        self._ledger.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._ledger.flush()
        self._sent[sms.attempt_id] = record
        result = SendResult(sid, "sent")
        self._queue_status(sid, sms.to, now)
        for callback in self.on_sent:
            callback(sms, result)
        return result

    async def find_sent(self, sms: OutboundSms, since: datetime) -> SendResult | None:
        """Look the attempt up in the ledger."""
        record = self._sent.get(sms.attempt_id)
        if record is None:
            return None
        return SendResult(record["sid"], "sent")

    def pending_events(self) -> int:
        """Return how many `delivered` statuses wait to be written to the spool."""
        return len(self._statuses)

    def sent_at(self, attempt_id: str) -> datetime | None:
        """Return when the ledger recorded the attempt, or None if it never was sent."""
        record = self._sent.get(attempt_id)
        return datetime.fromisoformat(record["sent_at"]) if record else None

    def _queue_status(self, sid: str, phone: str, at: datetime) -> None:
        self._statuses.append(
            SpoolEvent(
                kind="status",
                provider=self.code,
                provider_message_id=sid,
                phone_number=phone,
                status="delivered",
                at=at,
            )
        )
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush_statuses())

    async def _flush_statuses(self) -> None:
        # Statuses are written in groups, as a provider's callbacks arrive, to keep the spool
        # from costing one disk sync per message.
        await asyncio.sleep(STATUS_FLUSH_SECONDS)
        events, self._statuses = self._statuses, []
        await asyncio.to_thread(self.context.spool.append, *events)

    def routes(self) -> list[BaseRoute]:
        """Return `POST /providers/local/inbound`, taking JSON `{"from": ..., "body": ...}`."""
        from starlette.routing import Route

        return [Route("/providers/local/inbound", self._inbound, methods=["POST"])]

    async def _inbound(self, request: Request) -> Response:
        from starlette.responses import JSONResponse

        try:
            payload = json.loads(await request.body())
            phone, text = str(payload["from"]), str(payload["body"])
        except (ValueError, KeyError, TypeError):
            return JSONResponse(
                {"error": 'expected a JSON object {"from": "+E164", "body": "text"}'}, 400
            )
        if not phone.startswith("+") or not text.strip():
            return JSONResponse({"error": f"invalid sender {phone!r} or empty body"}, 400)
        event = inbound_event(phone, text, self.context.clock.now())
        await asyncio.to_thread(self.context.spool.append, event)
        return JSONResponse({"sid": event.provider_message_id}, 200)

    async def aclose(self) -> None:
        """Write queued statuses and close the ledger."""
        if self._flusher is not None:
            await self._flusher
        if self._statuses:
            events, self._statuses = self._statuses, []
            self.context.spool.append(*events)
        self._ledger.close()
