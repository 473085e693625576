"""Greeting dispatch: suppression, one session per number, quiet hours, daily cap, rate limit.

Claimed tasks pass the gates in task order. A task that must wait keeps its place: it is parked
until its number's session closes, or until the quiet hours or the day's cap are over, and its
state in the store says why (`waiting`, with `wait_reason` and `not_before`).
"""

from __future__ import annotations

import asyncio
import heapq
import logging
from collections import deque
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from smskit import attributes as attrs
from smskit.errors import AgentError, InvalidInputError, ProviderError
from smskit.quiet_hours import next_allowed, parse_window
from smskit.runner.state import ClaimedTask, Conversation

if TYPE_CHECKING:
    from smskit.clock import Clock
    from smskit.runner.core import Runner

logger = logging.getLogger(__name__)

# Real seconds by which a rate-limited greeting starts before its send slot, so that it is
# written and its intent recorded (two ticks) by the slot. Intents are recorded in groups, one
# group per tick, so sending each greeting as soon as its intent is recorded would send two at
# the same moment and let the rate fall below the limit. A greeting that takes longer to write
# (an LLM agent) is sent when it is ready.
GREETING_LEAD_SECONDS = 0.5
# Greetings being written or sent at once, and how many start before the loop yields: enough
# for thousands a second at ten ticks a second, few enough that ticks stay regular.
MAX_GREETINGS_IN_FLIGHT = 500
YIELD_EVERY = 50
# A greeting sent after a late one may follow it sooner than `1/rate`, to keep the rate, by
# at most 5% of `1/rate` or by the few milliseconds that the event loop wakes late on a busy
# machine, whichever is more.
SEND_CATCH_UP_SHARE = 0.05
SEND_CATCH_UP_SECONDS = 0.01


class RateLimiter:
    """Spaces events `1/rate` project seconds apart (no bursts); rate 0 means unlimited.

    Slots follow each other `1/rate` apart, so an event that wakes late does not delay the
    slots after it, and the next event may follow it sooner. With `bounded_catch_up`, an
    event also waits until `1/rate`, less the catch-up allowance, after the previous event went.
    """

    def __init__(self, clock: Clock, *, bounded_catch_up: bool = False) -> None:
        self.clock = clock
        self.rate = 0.0
        self.bounded_catch_up = bounded_catch_up
        self._next_slot: datetime | None = None
        self._last: datetime | None = None

    async def acquire(self, lead: float = 0.0) -> datetime | None:
        """Take the next slot, wait until `lead` project seconds before it, and return it.

        Returns None when the rate is unlimited.
        """
        if self.rate <= 0:
            return None
        now = self.clock.now()
        ahead = timedelta(seconds=lead)
        if self._next_slot is None or self._next_slot < now:
            # No event is waiting: this one gets its lead too.
            slot = now + ahead
        else:
            slot = self._next_slot
        interval = timedelta(seconds=1.0 / self.rate)
        self._next_slot = slot + interval
        start = slot - ahead
        if start > now:
            await self.clock.sleep_until(start)
        if self.bounded_catch_up:
            catch_up = max(
                interval * SEND_CATCH_UP_SHARE,
                timedelta(seconds=self.clock.project_seconds(SEND_CATCH_UP_SECONDS)),
            )
            gap = max(interval - catch_up, timedelta(0))
            # Several callers may wait at once: the check and the update share no await.
            while self._last is not None and self.clock.now() < self._last + gap:
                await self.clock.sleep_until(self._last + gap)
            self._last = self.clock.now()
        return slot


class Dispatcher:
    """Greets claimed tasks in order, as the gates allow."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.ready: deque[ClaimedTask] = deque()
        self.timed: list[tuple[datetime, int, ClaimedTask]] = []
        self.by_phone: dict[str, deque[ClaimedTask]] = {}
        self.claimed: set[int] = set()
        self.limiter = RateLimiter(runner.clock)
        # `limiter` gives each greeting its slot when it starts, `send_limiter` spaces the
        # provider calls themselves.
        self.send_limiter = RateLimiter(runner.clock, bounded_catch_up=True)
        self.greeting: set[asyncio.Task[None]] = set()
        self._in_flight = asyncio.Semaphore(MAX_GREETINGS_IN_FLIGHT)
        self.sent_today = 0
        self._day = runner.clock.now().date()
        self._wake = asyncio.Event()

    def add(self, tasks: list[ClaimedTask]) -> None:
        """Take newly claimed tasks."""
        for task in tasks:
            if task.task_id in self.claimed:
                continue
            self.claimed.add(task.task_id)
            self.ready.append(task)
        if tasks:
            self._wake.set()

    def pending(self) -> int:
        """Return how many claimed tasks are not greeted yet."""
        return len(self.claimed)

    def drop_batches(self, batch_ids: set[int]) -> None:
        """Forget tasks of batches that were paused or cancelled."""

        def keep(task: ClaimedTask) -> bool:
            if task.batch_id in batch_ids:
                self.claimed.discard(task.task_id)
                return False
            return True

        self.ready = deque(task for task in self.ready if keep(task))
        self.timed = [item for item in self.timed if keep(item[2])]
        heapq.heapify(self.timed)
        for phone in list(self.by_phone):
            self.by_phone[phone] = deque(task for task in self.by_phone[phone] if keep(task))
            if not self.by_phone[phone]:
                del self.by_phone[phone]

    def release_phone(self, phone: str) -> None:
        """Let the next task waiting for `phone` go, because its conversation closed."""
        waiting = self.by_phone.get(phone)
        if waiting:
            self.ready.appendleft(waiting.popleft())
            if not waiting:
                del self.by_phone[phone]
            self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Pass ready tasks through the gates and start their greetings."""
        clock = self.runner.clock
        while not stop.is_set():
            self._release_due(clock.now())
            started = 0
            while self.ready and not stop.is_set() and self.runner.accepting_work:
                task = self.ready.popleft()
                if self._gate(task, clock.now()):
                    lead = clock.project_seconds(GREETING_LEAD_SECONDS)
                    slot = await self.limiter.acquire(lead)
                    await self._in_flight.acquire()
                    self._start(task, slot)
                    started += 1
                    if started % YIELD_EVERY == 0:
                        # Let the tick and the HTTP server run between bursts of greetings.
                        await asyncio.sleep(0)
            delay = 0.5
            if self.timed:
                delay = min(
                    delay, clock.real_seconds((self.timed[0][0] - clock.now()).total_seconds())
                )
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=max(delay, 0.005))
            except TimeoutError:
                pass

    def _release_due(self, now: datetime) -> None:
        while self.timed and self.timed[0][0] <= now:
            _, _, task = heapq.heappop(self.timed)
            self.ready.append(task)

    def _gate(self, task: ClaimedTask, now: datetime) -> bool:
        runner = self.runner
        settings = runner.settings
        if runner.batch_states.get(task.batch_id) != "active":
            self.claimed.discard(task.task_id)
            return False
        if task.phone in runner.sessions.by_phone:
            self.by_phone.setdefault(task.phone, deque()).append(task)
            self._wait(task, "open-session", None)
            return False
        window = parse_window(settings[attrs.QUIET_HOURS] or "")
        try:
            allowed = (
                now
                if window is None
                else next_allowed(task.phone, now, window, settings[attrs.TIME_ZONE])
            )
        except InvalidInputError as error:
            # The number's time zones leave no common sending time outside the quiet hours.
            self.claimed.discard(task.task_id)
            conversation = Conversation(task.task_id, task.batch_id, task.phone, task.recipient)
            runner.closer.fail_greeting(conversation, ProviderError(str(error)))
            return False
        if allowed > now:
            self._park(task, "quiet-hours", allowed)
            return False
        if now.date() != self._day:
            self._day, self.sent_today = now.date(), 0
        cap = int(settings[attrs.DAILY_SEND_CAP])
        if cap and self.sent_today >= cap:
            midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)
            self._park(task, "daily-cap", midnight)
            return False
        return True

    def _park(self, task: ClaimedTask, reason: str, until: datetime) -> None:
        heapq.heappush(self.timed, (until, task.task_id, task))
        self._wait(task, reason, until)

    def _wait(self, task: ClaimedTask, reason: str, until: datetime | None) -> None:
        if task.wait_reason == reason and task.not_before == until:
            return
        task.wait_reason, task.not_before = reason, until
        self.runner.waiting_updates[task.task_id] = (reason, until)

    def _start(self, task: ClaimedTask, slot: datetime | None) -> None:
        conversation = Conversation(task.task_id, task.batch_id, task.phone, task.recipient)
        self.runner.sessions.register(conversation)
        self.sent_today += 1
        greeting = asyncio.get_running_loop().create_task(self._greet(task, conversation, slot))
        self.greeting.add(greeting)
        greeting.add_done_callback(self._greeting_done)

    def _greeting_done(self, greeting: asyncio.Task[None]) -> None:
        self.greeting.discard(greeting)
        self._in_flight.release()
        if not greeting.cancelled() and greeting.exception() is not None:
            logger.error("greeting failed unexpectedly", exc_info=greeting.exception())

    async def _greet(
        self, task: ClaimedTask, conversation: Conversation, slot: datetime | None
    ) -> None:
        runner = self.runner
        try:
            text = await runner.composer.greeting(task.recipient)
        except AgentError as error:
            self.claimed.discard(task.task_id)
            runner.closer.fail_greeting(conversation, ProviderError(f"agent: {error}"))
            return
        conversation.usage.add(text.usage)
        intent = runner.outbound.new_intent(
            task.task_id, task.phone, "greeting", text.text, checked=True
        )
        verdict = await intent.verdict
        self.claimed.discard(task.task_id)
        if verdict != "approved":
            runner.sessions.release(conversation)
            return
        conversation.greeting_message_id = intent.message_id
        await runner.deliver_greeting(conversation, intent, slot)
