"""Compliance and delivery safety through the running runner, on the local provider.

Opt-out, opt-in and help keywords, the suppression list across batches, recipient-local quiet
hours, segment counting of stored greetings, one open session per number, the daily cap and
the send rate. Each test runs the runner in-process on a scaled clock from a fixed start.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest
from runner_helpers import (
    START,
    at,
    batch_csv,
    configure,
    ledger,
    messages_to,
    poll,
    run_until_idle,
    start_runner,
    suppressed_numbers,
    task_of,
)

from smskit import attributes as attrs
from smskit.agents.base import AgentProfile, Recipient
from smskit.agents.offline import OfflineAgent
from smskit.errors import AgentError
from smskit.project import Project
from smskit.segments import measure

CONFIRMATION = "You are unsubscribed and will not receive more messages."
HELP = "Acme Dental: reply STOP to opt out. Call 555-0100 for help."
REASON = "Confirm your appointment on Tuesday at 10:00"


def prompt(time_scale: float) -> timedelta:
    """Return how late, in project time, a message sent at once may be: two real seconds.

    A message takes two ticks of 0.1 real seconds, several times that on a loaded machine.
    """
    return timedelta(seconds=2 * time_scale)


def in_session(project: Project, *phones: str) -> bool:
    """Return whether every number's task has its session open."""
    return all(task_of(project, phone)["state"] == "in_session" for phone in phones)


def sent(project: Project, phone: str, kind: str) -> list[dict[str, Any]]:
    """Return the number's outbound messages of one kind that the provider took."""
    return [m for m in messages_to(project, phone, kind) if m["sent_at"] is not None]


# opt-out, opt-in and help


async def test_opt_out_closes_session(project: Project) -> None:
    keyword, request, sentence = "+12025550101", "+12025550102", "+12025550103"
    configure(project, {attrs.SESSION_DURATION: 3})
    project.add_batch("opt-outs", batch_csv([(p, REASON) for p in (keyword, request, sentence)]))

    runner = await start_runner(project, time_scale=60)
    await poll(
        lambda: in_session(project, keyword, request, sentence), timeout=15, what="open sessions"
    )
    project.reply(keyword, " Stop. ")
    project.reply(request, "Please stop texting me")
    project.reply(sentence, "We must STOP this bill!")
    assert await runner.finished(30) == 0

    for phone in (keyword, request):
        task = task_of(project, phone)
        assert task["outcome"] == "opted-out"
        assert task["status"] == "finished"
        confirmations = messages_to(project, phone, "confirmation")
        assert [m["body"] for m in confirmations] == [CONFIRMATION]
        assert confirmations[0]["provider_message_id"]
        assert confirmations[0]["task_id"] == task["task_id"]
    assert suppressed_numbers(project) == {keyword, request}

    # a keyword inside a sentence is a normal reply, so the agent replies to it
    task = task_of(project, sentence)
    assert task["outcome"] == "completed"
    assert messages_to(project, sentence, "confirmation") == []
    assert len(messages_to(project, sentence, "reply")) == 1
    sent_to = {record["to"] for record in ledger(project)}
    assert sent_to == {keyword, request, sentence}


async def test_opt_out_empty_confirmation(project: Project) -> None:
    phone = "+12025550104"
    configure(project, {attrs.SESSION_DURATION: 3, attrs.OPT_OUT_CONFIRMATION: ""})
    project.add_batch("quiet opt-out", batch_csv([(phone, REASON)]))

    runner = await start_runner(project, time_scale=60)
    await poll(lambda: in_session(project, phone), timeout=15, what="an open session")
    project.reply(phone, "STOP")
    assert await runner.finished(30) == 0

    assert task_of(project, phone)["outcome"] == "opted-out"
    assert suppressed_numbers(project) == {phone}
    outbound = [m["kind"] for m in messages_to(project, phone) if m["direction"] == "outbound"]
    assert outbound == ["greeting"]
    assert len(ledger(project)) == 1


async def test_opt_in_removes_suppression(project: Project) -> None:
    start, unstop, stays = "+12025550105", "+12025550106", "+12025550107"
    # The silent number's open session keeps the runner busy while START and UNSTOP arrive.
    silent = "+12025550108"
    phones = (start, unstop, stays, silent)
    configure(project, {attrs.SESSION_DURATION: 4})
    project.add_batch("opt back in", batch_csv([(p, REASON) for p in phones]))

    runner = await start_runner(project, time_scale=60)
    await poll(lambda: in_session(project, *phones), timeout=15, what="open sessions")
    for phone in (start, unstop, stays):
        project.reply(phone, "STOP")
    await poll(
        lambda: suppressed_numbers(project) == {start, unstop, stays},
        timeout=10,
        what="three opt-outs on the suppression list",
    )
    project.reply(start, "START")
    project.reply(unstop, "unstop")
    await poll(lambda: suppressed_numbers(project) == {stays}, timeout=10, what="START and UNSTOP")
    assert task_of(project, silent)["state"] == "in_session"
    assert await runner.finished(30) == 0

    assert suppressed_numbers(project) == {stays}
    for phone in (start, unstop, stays):
        assert task_of(project, phone)["outcome"] == "opted-out"


async def test_help_inside_session(project: Project) -> None:
    phone = "+12025550109"
    configure(project, {attrs.SESSION_DURATION: 3, attrs.HELP_TEXT: HELP})
    project.add_batch("help", batch_csv([(phone, REASON)]))

    runner = await start_runner(project, time_scale=60)
    await poll(lambda: in_session(project, phone), timeout=15, what="an open session")
    project.reply(phone, "HELP")
    await poll(lambda: sent(project, phone, "help"), timeout=10, what="the HELP answer")
    project.reply(phone, " info? ")
    assert await runner.finished(30) == 0

    answers = messages_to(project, phone, "help")
    assert [m["body"] for m in answers] == [HELP, HELP]
    assert all(m["provider_message_id"] for m in answers)
    # help keywords are neither replies for the agent nor opt-outs
    assert messages_to(project, phone, "reply") == []
    assert suppressed_numbers(project) == set()
    task = task_of(project, phone)
    assert {m["task_id"] for m in answers} == {task["task_id"]}
    assert task["state"] == "done"


# the suppression list across batches


async def test_suppressed_number_skipped_later(project: Project) -> None:
    opted_out, other = "+12025550111", "+12025550112"
    configure(project, {attrs.SESSION_DURATION: 2})
    project.add_batch("first", batch_csv([(opted_out, REASON)]))
    runner = await start_runner(project, time_scale=60)
    await poll(lambda: in_session(project, opted_out), timeout=15, what="an open session")
    project.reply(opted_out, "STOP")
    assert await runner.finished(30) == 0
    assert suppressed_numbers(project) == {opted_out}
    first_task = task_of(project, opted_out, "first")["task_id"]
    sent_before = [r for r in ledger(project) if r["to"] == opted_out]
    assert [r["task_id"] for r in sent_before] == [first_task, first_task]

    project.add_batch("second", batch_csv([(opted_out, REASON), (other, REASON)]))
    later = START + timedelta(days=1)
    assert await run_until_idle(project, time_scale=60, start=later, timeout=30) == 0

    task = task_of(project, opted_out, "second")
    assert task["outcome"] == "suppressed"
    assert task["status"] == "failed"
    assert project.messages(task["task_id"]).height == 0
    assert [r for r in ledger(project) if r["to"] == opted_out] == sent_before
    assert task_of(project, other, "second")["outcome"] == "customer-did-not-answer"
    assert [r["to"] for r in ledger(project)].count(other) == 1


# quiet hours


def waiting_task(project: Project, phone: str, reason: str) -> dict[str, Any] | None:
    """Return the number's task while it waits for `reason`, else None."""
    task = task_of(project, phone)
    if task["state"] == "waiting" and task["wait_reason"] == reason:
        return task
    return None


@pytest.mark.slow
async def test_quiet_hours_hold_greeting(project: Project) -> None:
    # At 04:00Z it is 23:00 in New York (EST), 04:00 in London and 13:00 in Tokyo.
    new_york, london, tokyo = "+12025550113", "+442079460113", "+81312345678"
    start = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)
    configure(project, {attrs.SESSION_DURATION: 30, attrs.HELP_TEXT: HELP})
    project.add_batch("zones", batch_csv([(p, REASON) for p in (new_york, london, tokyo)]))

    # one project hour passes in two real seconds
    runner = await start_runner(project, time_scale=1800, start=start)
    waiting = await poll(
        lambda: waiting_task(project, new_york, "quiet-hours"), timeout=15, what="New York waiting"
    )
    assert at(waiting["not_before"]) == datetime(2026, 3, 2, 13, 0, tzinfo=UTC)
    new_york_parked_at = at(
        project.store.read(
            "SELECT updated_at FROM tasks WHERE task_id = ?", [waiting["task_id"]]
        ).item()
    )
    waiting = await poll(
        lambda: waiting_task(project, london, "quiet-hours"), timeout=5, what="London waiting"
    )
    assert at(waiting["not_before"]) == datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

    # the help text is sent at night, while the greeting still waits
    project.reply(new_york, "INFO")
    answer = (await poll(lambda: sent(project, new_york, "help"), timeout=5, what="help"))[0]
    assert answer["body"] == HELP
    info = [m for m in messages_to(project, new_york) if m["direction"] == "inbound"]
    assert timedelta(0) <= at(answer["sent_at"]) - at(info[0]["created_at"]) <= prompt(1800)
    assert at(answer["sent_at"]) < datetime(2026, 3, 2, 13, 0, tzinfo=UTC)
    assert messages_to(project, new_york, "greeting") == []
    assert await runner.finished(40) == 0

    # London and New York are greeted at 08:00 local time, late by a few ticks at most.
    mornings = {
        london: datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
        new_york: datetime(2026, 3, 2, 13, 0, tzinfo=UTC),
    }
    for phone, morning in mornings.items():
        greetings = messages_to(project, phone, "greeting")
        assert len(greetings) == 1
        sent_at = at(greetings[0]["sent_at"])
        assert morning <= sent_at < morning + timedelta(hours=1), f"{phone} greeted at {sent_at}"

    # Tokyo is greeted in the same pass that parks the others: its greeting is written by the
    # tick that records their wait, or the one after it (0.1 real seconds, 3 project minutes).
    greetings = messages_to(project, tokyo, "greeting")
    assert len(greetings) == 1
    assert at(greetings[0]["created_at"]) <= new_york_parked_at + timedelta(minutes=3)
    assert at(greetings[0]["sent_at"]) < mornings[london]
    new_york_task = task_of(project, new_york)
    assert new_york_task["wait_reason"] is None
    assert at(new_york_task["started_at"]) >= mornings[new_york]


async def test_quiet_hours_pass_session_messages(project: Project) -> None:
    phone, later = "+12025550114", "+12025550115"
    configure(project, {attrs.SESSION_DURATION: 10, attrs.HELP_TEXT: HELP})
    project.add_batch("morning", batch_csv([(phone, REASON)]))

    runner = await start_runner(project, time_scale=60)
    await poll(lambda: in_session(project, phone), timeout=15, what="an open session")
    # From 09:00 in New York, quiet hours now cover the rest of the day there.
    project.set(attrs.QUIET_HOURS, "09:00-21:00")
    quiet_from = project.now()

    # a new greeting waits for the evening, while the open session goes on
    project.add_batch("later", batch_csv([(later, REASON)]))
    waiting = await poll(
        lambda: waiting_task(project, later, "quiet-hours"), timeout=5, what="wait"
    )
    assert at(waiting["not_before"]) == datetime(2026, 3, 3, 2, 0, tzinfo=UTC)
    project.reply(phone, "What is this about?")
    reply = await poll(lambda: sent(project, phone, "reply"), timeout=10, what="a reply")
    project.reply(phone, "HELP")
    help_answer = await poll(lambda: sent(project, phone, "help"), timeout=10, what="help")
    project.reply(phone, "STOP")
    confirmation = await poll(
        lambda: sent(project, phone, "confirmation"), timeout=10, what="a confirmation"
    )
    await poll(lambda: task_of(project, phone)["state"] == "done", timeout=10, what="the close")
    project.cancel("later")
    assert await runner.finished(30) == 0

    inbound = [m for m in messages_to(project, phone) if m["direction"] == "inbound"]
    assert [m["body"] for m in inbound] == ["What is this about?", "HELP", "STOP"]
    for question, answer in zip(inbound, (reply, help_answer, confirmation), strict=True):
        received = at(question["created_at"])
        assert received >= quiet_from
        assert timedelta(0) <= at(answer[0]["sent_at"]) - received <= prompt(60)
    assert task_of(project, phone)["outcome"] == "opted-out"
    assert task_of(project, later)["outcome"] == "cancelled"
    assert messages_to(project, later) == []


# segments


NOTICE = "Reply STOP to opt out."
# Names and reasons from which the segment tests pick greetings of the lengths they need.
# They pick by asking the offline agent, so the tests follow changes in its wording.
AGENT_NAMES = (
    "Al", "Amy", "Alex", "Alexa", "Alexis", "Alberto", "Adelaide", "Alexander", "Alessandro",
    "Bartholomew",
)  # fmt: skip
FEEDBACK_WORDS = "Get Ann's feedback on the cleaning at the Main Street clinic last Tuesday morning"
CLINIC_WORDS = (
    "Confirm Ann's cleaning on Tuesday at 10:00 at the Main Street clinic with Dr Rivera and "
    "remind her to bring her insurance card and the new patient form and to arrive early"
)


def prefixes(words: str, shortest: int = 3) -> list[str]:
    """Return the reasons made of the first 3, 4, ... words of `words`."""
    parts = words.split()
    return [" ".join(parts[:count]) for count in range(shortest, len(parts) + 1)]


async def written(name: str, phone: str, reason: str, max_chars: int | None = None) -> str:
    """Return the greeting that the offline agent writes, casual tone, no business context."""
    profile = AgentProfile(name, "", "casual", "en")
    text = await OfflineAgent().greeting(
        profile, Recipient(0, phone, reason, {}), max_chars=max_chars
    )
    return text.text.strip()


async def pick_greeting(phone: str, length: int) -> tuple[str, str]:
    """Return an agent name and a reason whose greeting with the notice has `length` characters."""
    for reason in prefixes(FEEDBACK_WORDS):
        for name in AGENT_NAMES:
            if len(await written(name, phone, reason) + " " + NOTICE) == length:
                return name, reason
    pytest.fail(f"no name and reason give a {length}-character greeting; add longer reasons")


async def pick_reason(name: str, phone: str, fits: Callable[[str], bool]) -> str:
    """Return the first reason from CLINIC_WORDS whose greeting (without the notice) fits."""
    for reason in prefixes(CLINIC_WORDS):
        if fits(await written(name, phone, reason)):
            return reason
    pytest.fail("no reason from CLINIC_WORDS gives the greeting length needed")


async def test_segments_of_greetings(project: Project) -> None:
    plain, quote, emoji, notice = "+12025550116", "+12025550117", "+12025550118", "+12025550119"
    name, reason = await pick_greeting(plain, 113)
    # One segment has room for 160 GSM-7 characters. This greeting fits alone, not with the notice.
    limit = 160 - len(" " + NOTICE)
    reasons = {
        plain: reason,
        quote: reason.replace("'", "\u2019"),
        emoji: reason + " \U0001f642",
        notice: await pick_reason(name, notice, lambda text: limit < len(text) <= 160),
    }
    settings = {attrs.SESSION_DURATION: 1, attrs.AGENT_TONE: "casual", attrs.AGENT_NAME: name}
    configure(project, settings)
    project.add_batch("segments", batch_csv(reasons.items()))
    assert await run_until_idle(project, time_scale=120) == 0

    greetings = {phone: messages_to(project, phone, "greeting")[0] for phone in reasons}
    for phone, greeting in greetings.items():
        assert greeting["body"] == await written(name, phone, reasons[phone]) + " " + NOTICE
        size = measure(greeting["body"])
        assert greeting["segments"] == size.segments
        assert greeting["encoding"] == size.encoding
    assert len(greetings[plain]["body"]) == 113
    assert (greetings[plain]["encoding"], greetings[plain]["segments"]) == ("GSM-7", 1)
    assert len(greetings[quote]["body"]) == 113
    assert (greetings[quote]["encoding"], greetings[quote]["segments"]) == ("UCS-2", 2)
    assert "\U0001f642" in greetings[emoji]["body"]
    assert (greetings[emoji]["encoding"], greetings[emoji]["segments"]) == ("UCS-2", 2)

    # the notice pushes a one-segment greeting into a second segment, and is counted
    without_notice = greetings[notice]["body"].removesuffix(" " + NOTICE)
    assert measure(without_notice).segments == 1
    assert greetings[notice]["segments"] == 2


async def test_segments_max_one_shortens(project: Project) -> None:
    fits, too_long = "+12025550120", "+12025550121"
    limit = 160 - len(" " + NOTICE)

    async def shortened_fits(reason: str) -> bool:
        try:
            await written("Alex", fits, reason, max_chars=limit)
        except AgentError:
            return False
        return True

    long_reasons = [
        reason
        for reason in prefixes(CLINIC_WORDS)
        if len(await written("Alex", fits, reason)) > limit
    ]
    fitting = [reason for reason in long_reasons if await shortened_fits(reason)]
    failing = [reason for reason in long_reasons if not await shortened_fits(reason)]
    assert fitting, "no reason in CLINIC_WORDS needs shortening and can be shortened"
    assert failing, "every reason in CLINIC_WORDS can be shortened to one segment"
    configure(
        project,
        {attrs.SESSION_DURATION: 1, attrs.AGENT_TONE: "casual", attrs.MAX_SEGMENTS: 1},
    )
    project.add_batch("one segment", batch_csv([(fits, fitting[0]), (too_long, failing[-1])]))
    assert await run_until_idle(project, time_scale=120) == 0

    greeting = messages_to(project, fits, "greeting")[0]
    assert greeting["segments"] == 1
    assert measure(greeting["body"]).segments == 1
    assert greeting["body"].endswith(" " + NOTICE)
    # shortened by the agent's own layouts, never by cutting the text
    shortened = greeting["body"].removesuffix(" " + NOTICE)
    assert len(shortened) < len(await written("Alex", fits, fitting[0]))
    layouts = set()
    for max_chars in range(20, limit + 1):
        with contextlib.suppress(AgentError):
            layouts.add(await written("Alex", fits, fitting[0], max_chars=max_chars))
    assert shortened in layouts

    # a reason too long for one segment in any layout fails the task instead of being cut
    task = task_of(project, too_long)
    assert task["outcome"] == "send-failed"
    assert "project_attributes_setting_max_segments" in task["error_message"]
    assert messages_to(project, too_long) == []


# one session per number, daily cap, unknown senders, send rate


async def test_one_session_per_number(project: Project) -> None:
    phone = "+12025550122"
    configure(project, {attrs.SESSION_DURATION: 2})
    project.add_batch("first", batch_csv([(phone, REASON)]))
    project.add_batch("second", batch_csv([(phone, "Confirm your order for Friday")]))

    runner = await start_runner(project, time_scale=60)

    def second_waits() -> bool:
        tasks = {row["batch"]: row for row in project.tasks().to_dicts()}
        return (
            tasks["first"]["state"] == "in_session"
            and tasks["second"]["state"] == "waiting"
            and tasks["second"]["wait_reason"] == "open-session"
        )

    await poll(second_waits, timeout=15, what="the second task waiting for the open session")
    assert await runner.finished(30) == 0

    first, second = task_of(project, phone, "first"), task_of(project, phone, "second")
    assert first["outcome"] == second["outcome"] == "customer-did-not-answer"
    greeting = messages_to(project, phone, "greeting")
    assert [m["task_id"] for m in greeting] == [first["task_id"], second["task_id"]]
    assert at(greeting[1]["sent_at"]) >= at(first["ended_at"])
    assert at(second["started_at"]) >= at(first["ended_at"])


@pytest.mark.slow
async def test_daily_cap_next_day(project: Project) -> None:
    phones = [f"+120255501{index:02d}" for index in range(30, 35)]
    configure(project, {attrs.SESSION_DURATION: 30, attrs.DAILY_SEND_CAP: 3})
    project.add_batch("capped", batch_csv([(phone, REASON) for phone in phones]))
    midnight = datetime(2026, 3, 3, tzinfo=UTC)

    # two project hours pass in one real second: 14:00Z to midnight takes five seconds
    runner = await start_runner(project, time_scale=7200)

    def capped() -> list[dict[str, Any]]:
        tasks = project.tasks().to_dicts()
        waiting = [t for t in tasks if t["wait_reason"] == "daily-cap"]
        return waiting if len(waiting) == 2 else []

    waiting = await poll(capped, timeout=15, what="two tasks held by the daily cap")
    assert {at(task["not_before"]) for task in waiting} == {midnight}
    assert {task["phone_number"] for task in waiting} == set(phones[3:])
    assert await runner.finished(30) == 0

    sent_at = {phone: at(messages_to(project, phone, "greeting")[0]["sent_at"]) for phone in phones}
    assert all(sent_at[phone] < midnight for phone in phones[:3])
    assert all(midnight <= sent_at[phone] < midnight + prompt(7200) for phone in phones[3:])
    assert len(ledger(project)) == 5


async def test_inbound_unknown_number(project: Project) -> None:
    known, stranger = "+12025550140", "+12025550149"
    configure(project, {attrs.SESSION_DURATION: 3})
    project.add_batch("known", batch_csv([(known, REASON)]))

    runner = await start_runner(project, time_scale=60)
    await poll(lambda: in_session(project, known), timeout=15, what="an open session")
    project.reply(stranger, "Who is this?")
    await poll(lambda: messages_to(project, stranger), timeout=5, what="the stored message")
    project.reply(stranger, "STOP")
    await poll(lambda: stranger in suppressed_numbers(project), timeout=5, what="suppression")
    assert await runner.finished(30) == 0

    inbound = [m for m in messages_to(project, stranger) if m["direction"] == "inbound"]
    assert [m["body"] for m in inbound] == ["Who is this?", "STOP"]
    assert [m["task_id"] for m in inbound] == [None, None]
    assert all(m["after_session"] for m in inbound)
    assert suppressed_numbers(project) == {stranger}
    confirmations = messages_to(project, stranger, "confirmation")
    assert [(m["task_id"], m["body"]) for m in confirmations] == [(None, CONFIRMATION)]
    assert confirmations[0]["provider_message_id"]
    # the conversation under way is not disturbed
    assert task_of(project, known)["outcome"] == "customer-did-not-answer"
    assert messages_to(project, known, "reply") == []


@pytest.mark.slow
async def test_send_rate_spacing(project: Project) -> None:
    phones = [f"+120255502{index:02d}" for index in range(20)]
    # a three-second session: the rate is measured in real time
    configure(project, {attrs.SESSION_DURATION: 0.05, attrs.SEND_RATE: 5})
    project.add_batch("paced", batch_csv([(phone, REASON) for phone in phones]))
    assert await run_until_idle(project, time_scale=1, timeout=60) == 0

    # The ledger records each provider call as it arrives; `sent_at` is stored after the call
    # returns, a little later on a busy machine.
    calls = sorted(datetime.fromisoformat(record["sent_at"]) for record in ledger(project))
    assert len(calls) == 20
    gaps = [(after - before).total_seconds() for before, after in itertools.pairwise(calls)]
    assert min(gaps) >= 0.19, f"greetings {min(gaps):.3f} s apart: {gaps}"

    greetings = project.messages().filter(pl.col("kind") == "greeting").sort("sent_at")
    sent_at = [at(value) for value in greetings["sent_at"]]
    assert len(sent_at) == 20
    assert all(stored >= call for stored, call in zip(sent_at, calls, strict=True))
    # A late first greeting shortens the measured span by a few milliseconds, so the share
    # is compared at two decimals.
    achieved = (len(sent_at) - 1) / (sent_at[-1] - sent_at[0]).total_seconds()
    assert round(achieved / 5, 2) >= 0.95, f"{achieved:.2f} greetings per second"
    assert round(achieved / 5, 2) <= 1.00, f"{achieved:.2f} greetings per second"
