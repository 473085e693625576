"""Closing a conversation: analysis, result row, and the webhook delivery queued."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any

import duckdb

from smskit import attributes as attrs
from smskit.agents.base import Analysis, EndReason
from smskit.errors import AgentError, ProviderError
from smskit.runner.sessions import suppress_number
from smskit.store import query_frame

if TYPE_CHECKING:
    from smskit.runner.core import Runner
    from smskit.runner.state import Conversation

logger = logging.getLogger(__name__)

# Provider error codes that end a task with a specific outcome (Twilio's codes).
INVALID_NUMBER_CODES = {"21211", "21614", "21217"}
OPTED_OUT_CODES = {"21610"}
UNDELIVERED_CODES = {"30003", "30004", "30005", "30006", "30007", "30008"}


def outcome_for(conversation: Conversation, analysis: Analysis | None) -> tuple[str, str]:
    """Return (status, outcome) of a closed conversation."""
    if conversation.greeting_failure is not None and not conversation.replies:
        return "failed", "undelivered"
    if conversation.opted_out or (analysis is not None and analysis.opted_out):
        return "finished", "opted-out"
    if conversation.replies:
        return "finished", "completed"
    return "failed", "customer-did-not-answer"


def failed_send_outcome(error: ProviderError) -> str:
    """Return the outcome of a greeting that the provider refused."""
    if error.code in INVALID_NUMBER_CODES:
        return "invalid-phone-number"
    if error.code in OPTED_OUT_CODES:
        return "suppressed"
    if error.code in UNDELIVERED_CODES:
        return "undelivered"
    return "send-failed"


class Closer:
    """Analyses closed conversations and records their results."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.webhooks: list[tuple[int, dict[str, Any]]] = []
        self.in_flight: set[asyncio.Task[None]] = set()

    def close(self, conversation: Conversation, reason: EndReason | None) -> None:
        """Close a session: no more replies; analysis and result follow."""
        if conversation.closing:
            return
        conversation.closing = True
        conversation.end_reason = reason
        if conversation.started_at is not None:
            self.runner.metrics.sessions_open.dec()
        self.runner.journal.update_task(
            conversation.task_id, state="closing", updated_at=self.runner.clock.now()
        )
        task = asyncio.get_running_loop().create_task(self._finish(conversation))
        self.in_flight.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self.in_flight.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("closing a conversation failed unexpectedly", exc_info=task.exception())

    async def _finish(self, conversation: Conversation) -> None:
        runner = self.runner
        analysis: Analysis | None = None
        try:
            analysis = await runner.composer.analyse(conversation)
            conversation.usage.add(analysis.usage)
        except AgentError as error:
            logger.error("task %s: analysis failed: %s", conversation.task_id, error)
        status, outcome = outcome_for(conversation, analysis)
        if analysis is not None:
            summary = analysis.summary
        else:
            summary = "The conversation could not be analysed."
        failure = conversation.greeting_failure or {}
        runner.journal.update_task(
            conversation.task_id,
            state="done",
            status=status,
            outcome=outcome,
            summary=summary,
            fields=json.dumps(analysis.fields if analysis else {}, ensure_ascii=False, default=str),
            error_code=failure.get("code"),
            error_message=failure.get("message"),
            ended_at=runner.clock.now(),
            llm_tokens=conversation.usage.tokens,
            llm_cost=conversation.usage.cost,
            updated_at=runner.clock.now(),
        )
        self.queue_webhook(conversation.task_id, analysis.fields if analysis else {})
        runner.sessions.release(conversation)
        runner.export_needed = True
        logger.info(
            "task %s closed: %s/%s (%s, %d replies)",
            conversation.task_id,
            status,
            outcome,
            conversation.end_reason or "session expired",
            conversation.replies,
        )

    def fail_greeting(self, conversation: Conversation, error: ProviderError) -> None:
        """End a task whose greeting the provider refused for good."""
        runner = self.runner
        outcome = failed_send_outcome(error)
        now = runner.clock.now()
        runner.journal.update_task(
            conversation.task_id,
            state="done",
            status="failed",
            outcome=outcome,
            error_code=error.code,
            error_message=str(error),
            ended_at=now,
            updated_at=now,
        )
        if outcome == "suppressed":
            runner.journal.run(
                suppress_number(conversation.phone, "provider reports opted out", now)
            )
        self.queue_webhook(conversation.task_id, {})
        runner.sessions.release(conversation)
        runner.export_needed = True
        logger.warning(
            "task %s: greeting not sent: %s (%s)",
            conversation.task_id,
            error,
            outcome,
        )

    def queue_webhook(self, task_id: int, fields: dict[str, Any]) -> None:
        """Queue the task's webhook delivery for the next transaction, if an endpoint is set."""
        if self.runner.settings[attrs.WEBHOOK_URL]:
            self.webhooks.append((task_id, fields))

    def take_webhooks(self) -> list[tuple[int, dict[str, Any]]]:
        items, self.webhooks = self.webhooks, []
        return items


def enqueue_webhooks(
    conn: duckdb.DuckDBPyConnection,
    items: list[tuple[int, dict[str, Any]]],
    url: str,
    schema: dict[str, Any] | None,
    now: Any,
) -> None:
    """Build each task's payload from the stored conversation and queue its delivery.

    Only tasks that sent a greeting get a webhook. Runs after the task's final writes, in the
    same transaction, so the payload holds the whole transcript.
    """
    from smskit.results import format_transcript
    from smskit.runner.webhooks import build_payload, enqueue

    task_ids = [task_id for task_id, _ in items]
    tasks = query_frame(
        conn,
        "SELECT task_id, phone_number, user_id, status, outcome FROM tasks "
        "WHERE list_contains(?, task_id)",
        [task_ids],
    )
    messages = query_frame(
        conn,
        "SELECT task_id, direction, kind, body, status, provider_message_id, after_session, "
        "created_at, message_id "
        "FROM messages WHERE list_contains(?, task_id) ORDER BY created_at, message_id",
        [task_ids],
    )
    by_task: dict[int, list[dict[str, Any]]] = {}
    for message in messages.to_dicts():
        by_task.setdefault(message["task_id"], []).append(message)
    rows = {row["task_id"]: row for row in tasks.to_dicts()}
    properties = list((schema or {}).get("properties", {}))
    for task_id, fields in items:
        turns = by_task.get(task_id, [])
        # A greeting that the provider refused has no provider message id: nothing was sent.
        if not any(turn["kind"] == "greeting" and turn["provider_message_id"] for turn in turns):
            continue
        values = {name: fields.get(name) for name in properties}
        payload = build_payload(rows[task_id], format_transcript(turns), values)
        enqueue(conn, task_id, url, payload, now)
