"""The runner: one process per data folder that greets, converses, closes and records.

Every `TICK_SECONDS` the runner opens the store for one transaction, in a worker thread. The
transaction writes what the journal collected and records the intents of messages about to be
sent. It also applies the events spooled since the last tick, reads batch states and settings,
and claims queued tasks. Everything slow (the agent, the provider, webhooks) happens outside
transactions.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import duckdb
import polars as pl

from smskit import attributes as attrs
from smskit.agents.base import Recipient, Speaker, Turn
from smskit.clock import Clock, naive_utc, utc
from smskit.datafolder import DataFolder
from smskit.errors import ProviderError, StoreBusyError
from smskit.providers.base import (
    FINAL_STATUSES,
    STATUS_ORDER,
    Provider,
    ProviderContext,
    SpoolEvent,
)
from smskit.runner.closing import Closer, enqueue_webhooks
from smskit.runner.composer import Composer, create_agent
from smskit.runner.dispatch import Dispatcher
from smskit.runner.journal import Journal, JournalBatch, apply_batch
from smskit.runner.metrics import Metrics
from smskit.runner.outbound import Intent, Outbound, check_greetings, message_row
from smskit.runner.sessions import Sessions
from smskit.runner.state import ClaimedTask, Conversation
from smskit.runner.webhooks import Deliverer
from smskit.spool import Spool
from smskit.store import Store, insert_frame, query_frame, query_rows, query_value, update_frame

logger = logging.getLogger(__name__)

TICK_SECONDS = 0.1
CLAIM_LIMIT = 2000
TICK_LOCK_TIMEOUT = 2.0


@dataclass
class TickInput:
    """Input of one tick transaction, taken from the loop's state."""

    batch: JournalBatch
    intents: list[Intent]
    events: list[SpoolEvent]
    spool_offset: int
    waiting: dict[int, tuple[str, datetime | None]]
    webhooks: list[tuple[int, dict[str, Any]]]
    open_phones: dict[str, int]
    claim: int
    claim_after: int
    now: datetime


@dataclass
class TickOutput:
    """Rows and verdicts that one tick transaction read."""

    verdicts: dict[str, str] = field(default_factory=dict)
    inbound: list[dict[str, Any]] = field(default_factory=list)
    failures: list[tuple[int, str, str | None, str | None]] = field(default_factory=list)
    batch_states: dict[int, str] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    claimed: list[ClaimedTask] = field(default_factory=list)
    unfinished: int = 0
    done: int = 0
    outbox_pending: int = 0


def create_provider(settings: dict[str, Any], context: ProviderContext) -> Provider:
    """Return the provider plug-in that the provider setting names."""
    if settings[attrs.SMS_PROVIDER] == "twilio":
        from smskit.providers.twilio import TwilioProvider

        return TwilioProvider(context)
    from smskit.providers.local import LocalProvider

    return LocalProvider(context)


class Runner:
    """The daemon's state and loops for one data folder."""

    def __init__(
        self,
        folder: DataFolder,
        clock: Clock,
        *,
        until_idle: bool = False,
        store: Store | None = None,
    ) -> None:
        self.folder = folder
        self.clock = clock
        self.until_idle = until_idle
        self.store = store or Store(folder, program="runner")
        self.spool = Spool(folder)
        self.journal = Journal()
        self.metrics = Metrics()
        self.stop = asyncio.Event()
        self.settings: dict[str, Any] = {}
        self.batch_states: dict[int, str] = {}
        self.waiting_updates: dict[int, tuple[str, datetime | None]] = {}
        self.export_needed = True
        # Project time up to which every spooled event has been applied; sessions close only
        # up to it. Nothing is applied before the first tick.
        self.applied_through = datetime.min.replace(tzinfo=UTC)
        # Set once the inbound messages that arrived while no runner ran have been fetched.
        self.inbound_caught_up = False
        self.deliverer: Deliverer | None = None
        self.accepting_work = True
        self._message_id = 0
        self._claim_after = 0
        self._spool_offset = 0
        self._unfinished = 1
        self._done: int | None = None
        self._outbox_pending = 0

    # set-up

    def prepare(self) -> None:
        """Read settings and counters, and record the clock so other processes can read it."""
        with self.store.transaction() as conn:
            self.settings = attrs.read_settings(conn)
            self._message_id = int(
                query_value(conn, "SELECT coalesce(max(message_id), 0) FROM messages")
            )
            offset = query_value(conn, "SELECT value FROM runtime WHERE key = 'spool_offset'")
            self._spool_offset = int(offset or 0)
            day_start = naive_utc(self.clock.now()).replace(
                hour=0, minute=0, second=0, microsecond=0
            )
            sent_today = int(
                query_value(
                    conn,
                    "SELECT count(*) FROM messages WHERE kind = 'greeting' AND sent_at >= ?",
                    [day_start],
                )
            )
            clock = {**self.clock.describe(), "pid": os.getpid()}
            conn.execute("INSERT OR REPLACE INTO runtime VALUES ('clock', ?)", [json.dumps(clock)])
        sender = self.settings[attrs.SMS_SENDER]
        context = ProviderContext(
            self.folder,
            self.clock,
            self.spool,
            sender=sender,
            public_base_url=self.settings[attrs.PUBLIC_BASE_URL],
        )
        self.provider = create_provider(self.settings, context)
        self.sender = sender
        self.composer = Composer(create_agent(self.settings), self.settings)
        self.outbound = Outbound(self, concurrency=64 if self.provider.code == "local" else 32)
        self.sessions = Sessions(self)
        self.closer = Closer(self)
        self.dispatcher = Dispatcher(self)
        self.dispatcher.sent_today = sent_today
        self._apply_settings(self.settings)

    def next_message_id(self) -> int:
        self._message_id += 1
        return self._message_id

    def _apply_settings(self, settings: dict[str, Any]) -> None:
        if settings is not self.settings:
            self.settings.clear()
            self.settings.update(settings)
        rate = settings[attrs.SEND_RATE]
        per_second = float(self.provider.default_rate_per_second if rate is None else rate)
        self.dispatcher.limiter.rate = per_second
        self.dispatcher.send_limiter.rate = per_second

    # the tick

    async def run_ticks(self) -> None:
        """Run one transaction per tick until stopped, then a last one to flush the journal."""
        while True:
            stopping = self.stop.is_set()
            await self.tick()
            if stopping:
                return
            self._check_idle()
            try:
                await asyncio.wait_for(self.stop.wait(), timeout=TICK_SECONDS)
            except TimeoutError:
                pass

    async def tick(self) -> None:
        """Run one tick: one transaction, then hand what it read to the loops."""
        read_at = self.clock.now()
        events, offset = await asyncio.to_thread(self.spool.read_from, self._spool_offset)
        backlog = self.spool.size() - offset
        self.metrics.spool_backlog.set(backlog)
        claim = 0
        if self.accepting_work and not self.stop.is_set():
            claim = max(0, CLAIM_LIMIT - self.dispatcher.pending())
        data = TickInput(
            batch=self.journal.take(),
            intents=self.outbound.take_intents(),
            events=events,
            spool_offset=offset,
            waiting=self.waiting_updates,
            webhooks=self.closer.take_webhooks(),
            # Inbound from a number whose conversation is closing is stored as after the session.
            # A conversation whose greeting is still being sent takes the reply and answers it
            # once the session opens.
            open_phones={
                phone: c.task_id for phone, c in self.sessions.by_phone.items() if not c.closing
            },
            claim=claim,
            claim_after=self._claim_after,
            now=self.clock.now(),
        )
        self.waiting_updates = {}
        for event in data.events:
            if event.kind == "inbound":
                event.extra["message_id"] = self.next_message_id()
        try:
            output = await asyncio.to_thread(self._transaction, data)
        except StoreBusyError as error:
            logger.warning("tick skipped: %s", error)
            self._requeue(data)
            return
        self.metrics.lock_waits.set(self.store.lock.waits)
        self._spool_offset = offset
        self._after_tick(data, output)
        if self.spool.reached_end:
            self.applied_through = read_at

    def _requeue(self, data: TickInput) -> None:
        # The store was busy, so everything taken for this tick goes back for the next one.
        self.journal.put_back(data.batch)
        self.outbound.intents = data.intents + self.outbound.intents
        self.waiting_updates = {**data.waiting, **self.waiting_updates}
        self.closer.webhooks = data.webhooks + self.closer.webhooks
        self.metrics.lock_timeouts.inc()

    def _transaction(self, data: TickInput) -> TickOutput:
        output = TickOutput()
        with self.store.transaction(timeout=TICK_LOCK_TIMEOUT) as conn:
            apply_batch(conn, data.batch)
            output.verdicts = _record_intents(
                conn, data.intents, self.provider.code, self.sender, data.now
            )
            _record_waiting(conn, data.waiting, data.now)
            output.inbound, output.failures = _apply_events(conn, data.events, data.open_phones)
            conn.execute(
                "INSERT OR REPLACE INTO runtime VALUES ('spool_offset', ?)",
                [str(data.spool_offset)],
            )
            output.settings = attrs.read_settings(conn)
            if data.webhooks and output.settings[attrs.WEBHOOK_URL]:
                enqueue_webhooks(
                    conn,
                    data.webhooks,
                    output.settings[attrs.WEBHOOK_URL],
                    output.settings[attrs.PAYLOAD_SCHEMA],
                    naive_utc(data.now),
                )
            output.batch_states = dict(query_rows(conn, "SELECT batch_id, state FROM batches"))
            if data.claim:
                output.claimed = _claim(conn, data.claim_after, data.claim)
            unfinished, done = query_rows(
                conn,
                "SELECT count(*) FILTER (WHERE state <> 'done'), "
                "count(*) FILTER (WHERE state = 'done') FROM tasks",
            )[0]
            output.unfinished, output.done = int(unfinished), int(done)
            output.outbox_pending = int(
                query_value(conn, "SELECT count(*) FROM deliveries WHERE state = 'pending'")
            )
        return output

    def _after_tick(self, data: TickInput, output: TickOutput) -> None:
        for waiter in data.batch.waiters:
            if not waiter.done():
                waiter.set_result(None)
        for intent in data.intents:
            if not intent.verdict.done():
                intent.verdict.set_result(output.verdicts.get(intent.attempt_id, "rejected"))  # type: ignore[arg-type]
        self._apply_settings(output.settings)
        self._follow_batches(output.batch_states)
        if output.claimed:
            self._claim_after = max(task.task_id for task in output.claimed)
            self.dispatcher.add(output.claimed)
        for message in output.inbound:
            self.sessions.on_inbound(message)
        for failure in output.failures:
            self.sessions.on_status_failure(*failure)
        if data.webhooks and self.deliverer is not None:
            self.deliverer.wake()
        # The results change when tasks end. Exporting after the commit that ended them means
        # an export that ran between a close and its commit cannot leave the results stale.
        if output.done != self._done:
            self.export_needed = True
        self._done = output.done
        self._unfinished = output.unfinished
        self._outbox_pending = output.outbox_pending

    def _follow_batches(self, states: dict[int, str]) -> None:
        stopped = {batch_id for batch_id, state in states.items() if state != "active"}
        resumed = [
            batch_id
            for batch_id, state in states.items()
            if state == "active" and self.batch_states.get(batch_id, "active") != "active"
        ]
        if stopped:
            self.dispatcher.drop_batches(stopped)
        for batch_id in resumed:
            logger.info("batch %s resumed", batch_id)
        for batch_id, state in states.items():
            if batch_id not in self.batch_states and state == "active":
                logger.info("batch %s picked up", batch_id)
            elif self.batch_states.get(batch_id) not in (None, state) and state != "active":
                logger.info("batch %s %s", batch_id, state)
        if resumed:
            self._claim_after = 0
        self.batch_states = states

    def _check_idle(self) -> None:
        busy = (
            self._unfinished
            or self.dispatcher.pending()
            or self.sessions.by_task
            or self.closer.in_flight
            or self.journal.pending()
            or self.outbound.intents
            or self.export_needed
            or self._outbox_pending
            or self.spool.size() > self._spool_offset
            or self.provider.pending_events()
            or not self.inbound_caught_up
        )
        if self.until_idle and not busy:
            logger.info("every task is done and the outbox is empty; stopping")
            self.stop.set()

    # greetings

    async def deliver_greeting(
        self, conversation: Conversation, intent: Intent, slot: datetime | None = None
    ) -> None:
        """Send a recorded greeting at its rate-limit slot and open the session.

        The task ends instead if the provider refuses the greeting.
        """
        if slot is not None:
            await self.clock.sleep_until(slot)
        await self.dispatcher.send_limiter.acquire()
        if conversation.opted_out:
            self._skip_greeting(conversation, intent)
            return
        try:
            result = await self.outbound.send(intent)
        except ProviderError as error:
            self.outbound.record_failed(intent, error, self.clock.now())
            self.closer.fail_greeting(conversation, error)
            return
        now = self.clock.now()
        self.outbound.record_sent(intent, result, now)
        self._open(conversation, intent.body, now)

    def _skip_greeting(self, conversation: Conversation, intent: Intent) -> None:
        """End a task whose number opted out after its greeting was recorded, before sending."""
        now = self.clock.now()
        reason = "not sent: the number opted out before the greeting went out"
        self.journal.update_message(
            intent.message_id, status="failed", error_message=reason, status_at=now
        )
        self.journal.update_task(
            conversation.task_id,
            state="done",
            status="failed",
            outcome="suppressed",
            error_message=reason,
            ended_at=now,
            updated_at=now,
        )
        self.sessions.release(conversation)
        self.export_needed = True
        logger.info("task %s: greeting not sent, the number opted out", conversation.task_id)

    def _open(self, conversation: Conversation, text: str, sent_at: datetime) -> None:
        conversation.sent += 1
        # The greeting comes first even when a reply arrived while it was being sent.
        conversation.transcript.insert(0, Turn("agent", text, sent_at))
        self.sessions.open(conversation, sent_at)
        self.journal.update_task(
            conversation.task_id,
            state="in_session",
            started_at=sent_at,
            session_ends_at=conversation.ends_at,
            error_message=None,
            updated_at=sent_at,
        )

    # recovery after a restart or crash

    async def recover(self) -> None:
        """Resume every unfinished conversation left by the previous run."""
        frame, messages, detached = await asyncio.to_thread(self._load_unfinished)
        for row in detached.to_dicts():
            loop = asyncio.get_running_loop()
            loop.create_task(self._resume_detached(_intent_from_row(row)))
        by_task: dict[int, list[dict[str, Any]]] = {}
        for message in messages.to_dicts():
            by_task.setdefault(message["task_id"], []).append(message)
        for task in frame.to_dicts():
            conversation = Conversation(
                task["task_id"], task["batch_id"], task["phone_number"], _recipient(task)
            )
            self.sessions.register(conversation)
            await self._recover_conversation(conversation, task, by_task.get(task["task_id"], []))
        if frame.height:
            logger.info("resumed %d unfinished conversations", frame.height)

    def _load_unfinished(self) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        with self.store.transaction() as conn:
            tasks = query_frame(
                conn,
                "SELECT task_id, batch_id, phone_number, reason, variables, state, started_at, "
                "session_ends_at FROM tasks WHERE state IN ('sending', 'in_session', 'closing') "
                "ORDER BY task_id",
            )
            messages = query_frame(
                conn,
                "SELECT m.* FROM messages m JOIN tasks t USING (task_id) "
                "WHERE t.state IN ('sending', 'in_session', 'closing') "
                "ORDER BY m.created_at, m.message_id",
            )
            # Confirmations and help answers whose task is finished, or that belong to no task.
            detached = query_frame(
                conn,
                "SELECT m.* FROM messages m LEFT JOIN tasks t USING (task_id) "
                "WHERE m.direction = 'outbound' AND m.status = 'pending' "
                "AND m.provider_message_id IS NULL "
                "AND (t.task_id IS NULL OR t.state IN ('done', 'queued', 'waiting', 'paused')) "
                "ORDER BY m.message_id",
            )
        return tasks, messages, detached

    async def _recover_conversation(
        self, conversation: Conversation, task: dict[str, Any], messages: list[dict[str, Any]]
    ) -> None:
        for message in messages:
            speaker: Speaker = "agent"
            if message["direction"] == "inbound":
                if message["after_session"]:
                    continue
                speaker = "recipient"
                conversation.replies += 1
            elif message["status"] in ("pending", "failed") and not message["provider_message_id"]:
                continue
            else:
                conversation.sent += 1
            conversation.transcript.append(
                Turn(speaker, message["body"], utc(message["created_at"]))
            )
        pending = [
            m
            for m in messages
            if m["direction"] == "outbound"
            and m["status"] == "pending"
            and not m["provider_message_id"]
        ]
        greeting = next((m for m in messages if m["kind"] == "greeting"), None)
        if greeting is not None:
            conversation.greeting_message_id = greeting["message_id"]
        if task["state"] == "sending" and greeting is not None and greeting in pending:
            intent = _intent_from_row(greeting)
            asyncio.get_running_loop().create_task(self._resume_greeting(conversation, intent))
            return
        if task["state"] == "sending":
            # The intent was never recorded: the task goes back to the queue.
            self.sessions.release(conversation)
            self.journal.update_task(task["task_id"], state="queued", updated_at=self.clock.now())
            return
        conversation.started_at = utc(task["started_at"])
        self.sessions.open(conversation, conversation.started_at, utc(task["session_ends_at"]))
        for message in pending:
            asyncio.get_running_loop().create_task(
                self._resume_reply(conversation, _intent_from_row(message))
            )
        if task["state"] == "closing":
            self.closer.close(conversation, None)
        elif (
            messages
            and messages[-1]["direction"] == "inbound"
            and not messages[-1]["after_session"]
        ):
            conversation.unanswered.append(messages[-1]["body"])
            conversation.reply_task = asyncio.get_running_loop().create_task(
                self.sessions._reply(conversation)
            )

    async def _resume_greeting(self, conversation: Conversation, intent: Intent) -> None:
        found = await self.outbound.resolve(intent)
        if found is None:
            logger.info(
                "task %s: greeting %s never reached the provider; sending it",
                intent.task_id,
                intent.attempt_id,
            )
            await self.deliver_greeting(conversation, intent)
            return
        sent_at = self._provider_sent_at(intent) or self.clock.now()
        self.outbound.record_sent(intent, found, sent_at)
        self._open(conversation, intent.body, sent_at)

    async def _resume_detached(self, intent: Intent) -> None:
        """Resolve a confirmation or help answer left pending by a crash: find it or send it."""
        await self._resume_send(intent)

    async def _resume_reply(self, conversation: Conversation, intent: Intent) -> None:
        sent_at = await self._resume_send(intent)
        if sent_at is not None:
            conversation.transcript.append(Turn("agent", intent.body, sent_at))
            conversation.sent += 1

    async def _resume_send(self, intent: Intent) -> datetime | None:
        """Find a pending message at the provider or send it; return when it went out."""
        found = await self.outbound.resolve(intent)
        if found is None:
            try:
                found = await self.outbound.send(intent)
            except ProviderError as error:
                self.outbound.record_failed(intent, error, self.clock.now())
                return None
        sent_at = self._provider_sent_at(intent) or self.clock.now()
        self.outbound.record_sent(intent, found, sent_at)
        return sent_at

    def _provider_sent_at(self, intent: Intent) -> datetime | None:
        sent_at = getattr(self.provider, "sent_at", None)
        return sent_at(intent.attempt_id) if sent_at else None


def _recipient(task: dict[str, Any]) -> Recipient:
    return Recipient(
        task["task_id"],
        task["phone_number"],
        task["reason"] or "",
        json.loads(task["variables"] or "{}"),
    )


def _intent_from_row(row: dict[str, Any]) -> Intent:
    intent = Intent(
        row["message_id"],
        row["attempt_id"],
        row["task_id"],
        row["phone_number"],
        row["kind"],
        row["body"],
        utc(row["created_at"]),
        checked=False,
    )
    intent.verdict = asyncio.get_running_loop().create_future()
    intent.verdict.set_result("approved")
    return intent


def _claim(conn: duckdb.DuckDBPyConnection, after: int, limit: int) -> list[ClaimedTask]:
    frame = query_frame(
        conn,
        "SELECT t.task_id, t.batch_id, t.phone_number, t.reason, t.variables, t.not_before, "
        "t.wait_reason FROM tasks t JOIN batches b USING (batch_id) "
        "WHERE b.state = 'active' AND t.state IN ('queued', 'waiting') AND t.task_id > ? "
        "ORDER BY t.task_id LIMIT ?",
        [after, limit],
    )
    return [
        ClaimedTask(
            row["task_id"],
            row["batch_id"],
            row["phone_number"],
            _recipient(row),
            utc(row["not_before"]) if row["not_before"] else None,
            row["wait_reason"],
        )
        for row in frame.to_dicts()
    ]


def _record_intents(
    conn: duckdb.DuckDBPyConnection,
    intents: list[Intent],
    provider: str,
    sender: str | None,
    now: datetime,
) -> dict[str, str]:
    sendable, suppressed = check_greetings(conn, intents)
    verdicts: dict[str, str] = {}
    rows, sending, ended = [], [], []
    for intent in intents:
        if intent.checked and intent.task_id not in sendable:
            verdicts[intent.attempt_id] = "rejected"
            continue
        if intent.checked and intent.phone in suppressed:
            verdicts[intent.attempt_id] = "suppressed"
            ended.append(intent.task_id)
            continue
        verdicts[intent.attempt_id] = "approved"
        rows.append(message_row(intent, provider, sender))
        if intent.checked:
            sending.append(intent.task_id)
    if rows:
        insert_frame(
            conn,
            "messages",
            pl.DataFrame(rows, schema_overrides={"created_at": pl.Datetime("us")}).with_columns(
                pl.col("created_at").dt.replace_time_zone(None)
            ),
        )
    stamp = naive_utc(now)
    if sending:
        update_frame(
            conn,
            "tasks",
            "task_id",
            pl.DataFrame(
                {
                    "task_id": sending,
                    "state": ["sending"] * len(sending),
                    "wait_reason": [None] * len(sending),
                    "updated_at": [stamp] * len(sending),
                },
                schema_overrides={"wait_reason": pl.Utf8},
            ),
        )
    if ended:
        conn.execute(
            "UPDATE tasks SET state = 'done', status = 'failed', outcome = 'suppressed', "
            "error_message = 'the number is on the suppression list', ended_at = ?, updated_at = ? "
            "WHERE list_contains(?, task_id)",
            [stamp, stamp, ended],
        )
    return verdicts


def _record_waiting(
    conn: duckdb.DuckDBPyConnection, waiting: dict[int, tuple[str, datetime | None]], now: datetime
) -> None:
    if not waiting:
        return
    frame = pl.DataFrame(
        {
            "task_id": list(waiting),
            "wait_reason": [reason for reason, _ in waiting.values()],
            "not_before": [naive_utc(until) if until else None for _, until in waiting.values()],
        },
        schema_overrides={"not_before": pl.Datetime("us")},
    )
    conn.register("_waiting", frame.to_arrow())
    try:
        # A batch paused meanwhile keeps its tasks `paused`.
        conn.execute(
            "UPDATE tasks SET state = 'waiting', wait_reason = w.wait_reason, "
            "not_before = w.not_before, updated_at = ? FROM _waiting w "
            "WHERE tasks.task_id = w.task_id AND tasks.state IN ('queued', 'waiting')",
            [naive_utc(now)],
        )
    finally:
        conn.unregister("_waiting")


def _apply_events(
    conn: duckdb.DuckDBPyConnection, events: list[SpoolEvent], open_phones: dict[str, int]
) -> tuple[list[dict[str, Any]], list[tuple[int, str, str | None, str | None]]]:
    inbound = [event for event in events if event.kind == "inbound"]
    statuses = [event for event in events if event.kind == "status"]
    return _apply_inbound(conn, inbound, open_phones), _apply_statuses(conn, statuses)


def _apply_inbound(
    conn: duckdb.DuckDBPyConnection, events: list[SpoolEvent], open_phones: dict[str, int]
) -> list[dict[str, Any]]:
    if not events:
        return []
    ids = [event.provider_message_id for event in events]
    seen = {
        row[0]
        for row in query_rows(
            conn,
            "SELECT provider_message_id FROM messages WHERE direction = 'inbound' "
            "AND list_contains(?, provider_message_id)",
            [ids],
        )
    }
    # A message outside an open session goes to the latest task that texted the number, not
    # to a duplicate row or a task of a later batch that has not been greeted.
    latest = dict(
        query_rows(
            conn,
            "SELECT phone_number, max(task_id) FROM tasks WHERE list_contains(?, phone_number) "
            "AND started_at IS NOT NULL GROUP BY 1",
            [[event.phone_number for event in events]],
        )
    )
    rows = []
    for event in events:
        if event.provider_message_id in seen:
            continue
        seen.add(event.provider_message_id)
        task_id = open_phones.get(event.phone_number)
        rows.append(
            {
                "message_id": event.extra["message_id"],
                "task_id": task_id if task_id is not None else latest.get(event.phone_number),
                "direction": "inbound",
                "kind": "inbound",
                "phone_number": event.phone_number,
                "sender": event.sender,
                "body": event.body or "",
                "provider": event.provider,
                "provider_message_id": event.provider_message_id,
                "status": "received",
                "after_session": task_id is None,
                "created_at": utc(event.at),
            }
        )
    if rows:
        frame = pl.DataFrame(rows, schema_overrides={"task_id": pl.Int64}, infer_schema_length=None)
        insert_frame(
            conn, "messages", frame.with_columns(pl.col("created_at").dt.replace_time_zone(None))
        )
    return rows


def _apply_statuses(
    conn: duckdb.DuckDBPyConnection, events: list[SpoolEvent]
) -> list[tuple[int, str, str | None, str | None]]:
    if not events:
        return []
    latest: dict[str, SpoolEvent] = {}
    for event in events:
        current = latest.get(event.provider_message_id)
        if current is None or _rank(event.status) > _rank(current.status):
            latest[event.provider_message_id] = event
    ids = list(latest)
    current_rows = query_rows(
        conn,
        "SELECT provider_message_id, message_id, status, kind FROM messages "
        "WHERE direction = 'outbound' AND list_contains(?, provider_message_id)",
        [ids],
    )
    updates, failures = [], []
    for provider_id, message_id, status, kind in current_rows:
        event = latest[provider_id]
        if status in FINAL_STATUSES or _rank(event.status) <= _rank(status):
            continue
        updates.append(
            {
                "message_id": message_id,
                "status": event.status,
                "error_code": event.error_code,
                "error_message": event.error_message,
                "status_at": naive_utc(event.at),
            }
        )
        if event.status in ("undelivered", "failed") and kind == "greeting":
            failures.append((message_id, str(event.status), event.error_code, event.error_message))
    if updates:
        update_frame(
            conn,
            "messages",
            "message_id",
            pl.DataFrame(
                updates,
                schema_overrides={"error_code": pl.Utf8, "error_message": pl.Utf8},
                infer_schema_length=None,
            ),
        )
    return failures


def _rank(status: str | None) -> int:
    if status in FINAL_STATUSES:
        return 10
    return STATUS_ORDER.get(status or "", 0)
