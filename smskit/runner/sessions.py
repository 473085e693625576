"""Open conversations: inbound messages, agent replies, keywords and session expiry.

A session is open for the session-duration setting from the moment the greeting was sent;
replies do not extend it. A number has at most one conversation at a time, from the greeting's
intent until the conversation closes.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import duckdb

from smskit import attributes as attrs
from smskit.agents.base import Turn
from smskit.clock import naive_utc, utc
from smskit.errors import AgentError, ProviderError
from smskit.keywords import classify_keyword
from smskit.runner.journal import Operation
from smskit.runner.state import Conversation

if TYPE_CHECKING:
    from smskit.runner.core import Runner

logger = logging.getLogger(__name__)


class Sessions:
    """Every conversation from its greeting to its close, by task and by phone number."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.by_task: dict[int, Conversation] = {}
        self.by_phone: dict[str, Conversation] = {}
        self.by_greeting: dict[int, Conversation] = {}
        self._expiry: list[tuple[datetime, int]] = []
        self._wake = asyncio.Event()

    def register(self, conversation: Conversation) -> None:
        """Reserve the number for this conversation, from the greeting's intent on."""
        self.by_task[conversation.task_id] = conversation
        self.by_phone[conversation.phone] = conversation

    def release(self, conversation: Conversation) -> None:
        """Free the number; a later task for it may now be greeted."""
        self.by_task.pop(conversation.task_id, None)
        if self.by_phone.get(conversation.phone) is conversation:
            del self.by_phone[conversation.phone]
        if conversation.greeting_message_id is not None:
            self.by_greeting.pop(conversation.greeting_message_id, None)
        self.runner.dispatcher.release_phone(conversation.phone)

    def open(
        self, conversation: Conversation, sent_at: datetime, ends_at: datetime | None = None
    ) -> None:
        """Start the session clock at the greeting's send time."""
        minutes = float(self.runner.settings[attrs.SESSION_DURATION])
        conversation.started_at = sent_at
        conversation.ends_at = ends_at or sent_at + timedelta(minutes=minutes)
        if conversation.greeting_message_id is not None:
            self.by_greeting[conversation.greeting_message_id] = conversation
        heapq.heappush(self._expiry, (conversation.ends_at, conversation.task_id))
        self.runner.metrics.sessions_open.inc()
        self._wake.set()
        if conversation.unanswered and conversation.reply_task is None:
            conversation.reply_task = asyncio.get_running_loop().create_task(
                self._reply(conversation)
            )

    def open_count(self) -> int:
        return sum(1 for conversation in self.by_task.values() if conversation.is_open)

    async def run_expiry(self, stop: asyncio.Event) -> None:
        """Close sessions whose time is up.

        A session closes only once every event spooled before its end has been applied, so a
        reply sent just before the end counts even when the store was busy or time runs fast.
        """
        clock = self.runner.clock
        while not stop.is_set():
            now = min(clock.now(), self.runner.applied_through)
            if not self.runner.inbound_caught_up:
                now = datetime.min.replace(tzinfo=UTC)
            while self._expiry and self._expiry[0][0] <= now:
                _, task_id = heapq.heappop(self._expiry)
                conversation = self.by_task.get(task_id)
                if conversation is not None and conversation.is_open:
                    self.runner.closer.close(conversation, None)
            delay = 1.0
            if self._expiry:
                delay = min(delay, clock.real_seconds((self._expiry[0][0] - now).total_seconds()))
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=max(delay, 0.02))
            except TimeoutError:
                pass

    def on_inbound(self, message: dict[str, Any]) -> None:
        """Handle one inbound SMS after it is stored: keywords, then the agent's reply."""
        phone, text = message["phone_number"], message["body"]
        conversation = self.by_phone.get(phone)
        if conversation is not None and conversation.task_id != message["task_id"]:
            conversation = None
        at = utc(message["created_at"])
        self.runner.metrics.messages_received.inc()
        keyword = classify_keyword(text)
        if keyword == "opt-out":
            self.opt_out(phone, message["task_id"], conversation, text)
            return
        if keyword == "opt-in":
            self.runner.journal.run(unsuppress_number(phone))
            logger.info("%s opted back in", phone)
            return
        if keyword == "help":
            if conversation is not None and conversation.is_open:
                # HELP is a reply of the recipient, though the agent does not answer it.
                conversation.transcript.append(Turn("recipient", text, at))
                conversation.replies += 1
            help_text = self.runner.settings[attrs.HELP_TEXT]
            if help_text:
                self._send_service(phone, message["task_id"], "help", help_text)
            return
        if (
            conversation is not None
            and conversation.started_at is None
            and not conversation.closing
        ):
            # The greeting is still being sent: answer once the session opens.
            conversation.transcript.append(Turn("recipient", text, at))
            conversation.replies += 1
            conversation.unanswered.append(text)
            return
        if conversation is None or not conversation.is_open:
            logger.info(
                "inbound from %s outside an open session stored (task %s)",
                phone,
                message["task_id"],
            )
            return
        conversation.transcript.append(Turn("recipient", text, at))
        conversation.replies += 1
        conversation.unanswered.append(text)
        if conversation.reply_task is None or conversation.reply_task.done():
            conversation.reply_task = asyncio.get_running_loop().create_task(
                self._reply(conversation)
            )

    def opt_out(
        self, phone: str, task_id: int | None, conversation: Conversation | None, text: str | None
    ) -> None:
        """Suppress the number, confirm if configured, and close its session as opted out.

        `text` is the opt-out message when it is not yet in the transcript (a keyword), None
        when the agent recognised an opt-out in a reply already recorded.
        """
        now = self.runner.clock.now()
        reason = "opted out" + (f": {text.strip()[:80]}" if text else " in a reply")
        self.runner.journal.run(suppress_number(phone, reason, now))
        logger.info("%s opted out (task %s)", phone, task_id)
        confirmation = self.runner.settings[attrs.OPT_OUT_CONFIRMATION]
        if confirmation:
            self._send_service(phone, task_id, "confirmation", confirmation)
        if conversation is not None and conversation.started_at is None:
            # The greeting is recorded but not sent yet: it will not be sent.
            conversation.opted_out = True
            return
        if conversation is not None and conversation.is_open:
            if text is not None:
                conversation.transcript.append(Turn("recipient", text, now))
                conversation.replies += 1
            conversation.opted_out = True
            self.runner.closer.close(conversation, "opted-out")

    def on_status_failure(
        self, message_id: int, status: str, code: str | None, text: str | None
    ) -> None:
        """End the conversation as `undelivered` when its greeting is reported undelivered."""
        conversation = self.by_greeting.get(message_id)
        if conversation is None or not conversation.is_open or conversation.replies:
            return
        conversation.greeting_failure = {"status": status, "code": code, "message": text}
        self.runner.closer.close(conversation, None)

    async def _reply(self, conversation: Conversation) -> None:
        runner = self.runner
        while conversation.unanswered and conversation.is_open:
            conversation.unanswered.clear()
            try:
                answer = await runner.composer.reply(conversation)
            except AgentError as error:
                logger.error("task %s: agent could not reply: %s", conversation.task_id, error)
                return
            conversation.usage.add(answer.usage)
            if answer.end == "opted-out":
                self.opt_out(conversation.phone, conversation.task_id, conversation, None)
                return
            if not conversation.is_open:
                return
            if answer.text:
                await self.send_in_session(conversation, "reply", answer.text)
            if answer.end is not None:
                self.runner.closer.close(conversation, answer.end)
                return

    async def send_in_session(self, conversation: Conversation, kind: str, text: str) -> None:
        """Send an agent message inside a session and add it to the transcript."""
        outbound = self.runner.outbound
        intent = outbound.new_intent(
            conversation.task_id, conversation.phone, kind, text, checked=False
        )
        await intent.verdict
        try:
            result = await outbound.send(intent)
        except ProviderError as error:
            outbound.record_failed(intent, error, self.runner.clock.now())
            logger.error("task %s: %s not sent: %s", conversation.task_id, kind, error)
            return
        now = self.runner.clock.now()
        outbound.record_sent(intent, result, now)
        conversation.sent += 1
        conversation.transcript.append(Turn("agent", text, now))

    def _send_service(self, phone: str, task_id: int | None, kind: str, text: str) -> None:
        # Confirmations and help answers are sent at any hour and outside sessions.
        asyncio.get_running_loop().create_task(self._send_detached(phone, task_id, kind, text))

    async def _send_detached(self, phone: str, task_id: int | None, kind: str, text: str) -> None:
        outbound = self.runner.outbound
        intent = outbound.new_intent(task_id, phone, kind, text, checked=False)
        await intent.verdict
        try:
            result = await outbound.send(intent)
        except ProviderError as error:
            outbound.record_failed(intent, error, self.runner.clock.now())
            logger.error("%s to %s not sent: %s", kind, phone, error)
            return
        outbound.record_sent(intent, result, self.runner.clock.now())
        conversation = self.by_task.get(task_id) if task_id is not None else None
        if conversation is not None:
            conversation.sent += 1


def suppress_number(phone: str, reason: str, now: datetime) -> Operation:
    """Return a journal operation that adds `phone` to the suppression list."""

    def operation(conn: duckdb.DuckDBPyConnection) -> None:
        conn.execute(
            "INSERT OR IGNORE INTO suppressions VALUES (?, ?, 'opt-out', ?)",
            [phone, reason, naive_utc(now)],
        )

    return operation


def unsuppress_number(phone: str) -> Operation:
    """Return a journal operation that removes `phone` from the suppression list."""

    def operation(conn: duckdb.DuckDBPyConnection) -> None:
        conn.execute("DELETE FROM suppressions WHERE phone_number = ?", [phone])

    return operation
