"""Crash tests: `python runner.py` killed with SIGKILL at 20 seeded random moments of a batch.

A 200-row batch (192 valid rows, 4 invalid and 4 duplicates) runs on the local provider with
simulated recipients, and on the Twilio provider against the stateful fake Twilio, which drops
the connection after accepting some sends and fails others. The runner is killed 20 times and
restarted each time; the last run goes on until idle. Each restart resumes the project time at
which the last runner was killed.

Two kills come while a restarted runner recovers. Most others come after a random delay while
greetings are still being sent, so they land in greeting, sending, replies, closing, export and
webhook delivery at once. The last six wait until every greeting is out, so they land among
replies, closing, export and webhook delivery. A snapshot of the store after each kill shows
where it landed. Afterwards there must be exactly one greeting per valid row at the provider,
every task `done`, every row once in the results attributes, and every webhook delivery id at
the receiver, each time with the same body.
"""

from __future__ import annotations

import functools
import json
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fake_twilio import FakeTwilio
from stress_helpers import (
    Snapshot,
    check_webhooks,
    configure_twilio,
    fake_outbound_by_sid,
    free_port,
    inbound_url,
    results_task_ids,
    snapshot,
)
from test_runner import (
    Receiver,
    Runners,
    batch_csv,
    greetings_per_task,
    log_text,
    phone_numbers,
    read_ledger,
    wait_for,
)

import smskit
from smskit import attributes as attrs
from smskit.clock import Clock
from smskit.project import Project

START = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
TIME_SCALE = 60.0
KILLS = 20
# The last kills wait until every greeting is out.
TAIL_KILLS = 6
# These kills come while the restarted runner recovers, before its first tick.
RECOVERY_KILLS = (1, 7)
VALID_ROWS = 192
SEED = 20260302


@pytest.fixture
def runners(data_dir: Path) -> Iterator[Runners]:
    started = Runners(data_dir)
    yield started
    started.kill_all()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hook = Receiver()
    hook.server.start()
    yield hook
    hook.server.stop()


def crash_batch() -> tuple[str, list[str]]:
    """Return a 200-row batch body and its valid numbers, in row order."""
    numbers = phone_numbers(VALID_ROWS)
    rows = [f"{number},Confirm the boiler service visit,Maria" for number in numbers]
    rows[10:10] = ["+1202555,Confirm the boiler service visit,Ana", "not a number,Confirm,Ben"]
    rows[100:100] = [f"{numbers[3]},Confirm again,Maria", f"{numbers[50]},Confirm again,Maria"]
    rows += ["+44 20,Confirm the visit,Chen", "12,Confirm the visit,Dan"]
    rows += [f"{numbers[7]},Confirm again,Maria", f"{numbers[150]},Confirm again,Maria"]
    assert len(rows) == 200
    return "phone_number,reason,first_name\n" + "\n".join(rows) + "\n", numbers


def configure_crash(project: Project, receiver: Receiver) -> None:
    """Stretch the greetings over about 8 real seconds, with 8-minute sessions."""
    project.set(attrs.QUIET_HOURS, "")
    project.set(attrs.SESSION_DURATION, "8")
    project.set(attrs.SEND_RATE, "0.4")
    project.set(attrs.WEBHOOK_URL, receiver.url)


def kill_repeatedly(
    runners: Runners,
    project: Project,
    greeted: Callable[[], int],
    args: tuple[str, ...],
) -> list[Snapshot]:
    """Start, kill and restart the runner KILLS times, then run it until idle.

    Returns a snapshot of the store after each kill. Each restart resumes the project time at
    which the last runner was killed, so no session expires while no runner runs.
    """
    rng = random.Random(SEED)
    clock_start = START
    snapshots = []
    for index in range(KILLS):
        process = runners.start_ready(*args, clock_start=clock_start)
        if index in RECOVERY_KILLS:
            delay = rng.uniform(0.0, 0.3)
        else:
            ticked = functools.partial(first_tick_done, runners.data, process.pid)
            wait_for(ticked, 30, "a tick", process)
            delay = rng.uniform(0.05, 0.9)
            if index >= KILLS - TAIL_KILLS:
                wait_for(lambda: greeted() >= VALID_ROWS, 60, "every greeting", process)
                # Expired sessions close up to a second after the first tick.
                delay += 0.5
        time.sleep(delay)
        clock_start = project.now()
        assert process.poll() is None, f"runner {index} exited before it was killed"
        process.kill()
        process.wait(timeout=10)
        snapshots.append(snapshot(project, greeted(), clock_start))
        # kept next to the data folder, to see where each kill landed when a check fails
        with open(runners.data.parent / "kills.txt", "a", encoding="utf-8") as kills:
            kills.write(f"{index} {delay:.2f} {snapshots[-1]}\n")
    final = runners.start(*args, "--until-idle", clock_start=clock_start)
    assert final.wait(timeout=120) == 0, (runners.data.parent / "runner-20.stderr").read_text()
    return snapshots


def first_tick_done(data: Path, pid: int) -> bool:
    """Tell whether runner `pid` has committed its first tick (it logs the batch it found)."""
    log = log_text(data)
    start = log.find(f"pid {pid},")
    return start >= 0 and "batch 1 picked up" in log[start:]


def check_phases(snapshots: list[Snapshot]) -> None:
    """Check that the kills landed in every phase of a conversation's life."""
    described = [
        f"greeted {s.greeted}, {dict(s.states)}, closing {s.closing}, "
        f"exported {s.exported}, pending deliveries {s.pending_deliveries}"
        for s in snapshots
    ]
    # greeting: some rows greeted and some not yet
    assert any(0 < s.greeted < VALID_ROWS for s in snapshots), described
    # send: an intent recorded whose provider id was not
    assert any(s.states["sending"] for s in snapshots), described
    # reply handling: sessions open
    assert any(s.states["in_session"] for s in snapshots), described
    # closing: sessions expired or ended whose result was not committed yet
    assert any(s.closing for s in snapshots), described
    # export: finished tasks missing from the results attributes
    assert any(s.exported < s.done for s in snapshots), described
    # webhook delivery: deliveries queued and not yet delivered
    assert any(s.pending_deliveries for s in snapshots), described
    # the tail: every greeting out, work left
    assert any(s.greeted == VALID_ROWS and s.states["done"] < 200 for s in snapshots), described


def check_end_state(project: Project) -> set[int]:
    """Check that every task is done and listed once in the results; return the greeted ones."""
    tasks = project.tasks()
    assert Counter(tasks["state"].to_list()) == {"done": 200}
    assert tasks["outcome"].null_count() == 0
    valid = set(tasks.filter(verdict="valid")["task_id"].to_list())
    assert len(valid) == VALID_ROWS
    exported = results_task_ids(project)
    assert sorted(exported) == sorted(tasks["task_id"].to_list())
    assert project.results().height == 200
    greetings = project.store.read(
        "SELECT task_id FROM messages WHERE kind = 'greeting' AND provider_message_id IS NOT NULL"
    )
    return set(greetings["task_id"].to_list())


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_crash_local_provider_sigkill(data_dir: Path, runners: Runners, receiver: Receiver) -> None:
    project = smskit.open(data_dir)
    configure_crash(project, receiver)
    body, _ = crash_batch()
    assert project.add_batch("crash", body)["valid"] == VALID_ROWS

    def greeted() -> int:
        return len({r["task_id"] for r in read_ledger(data_dir) if r["task_id"] is not None})

    snapshots = kill_repeatedly(runners, project, greeted, ("--simulate",))

    check_phases(snapshots)
    greeted_tasks = check_end_state(project)
    counts = greetings_per_task(project, data_dir)
    valid = set(project.tasks().filter(verdict="valid")["task_id"].to_list())
    assert set(counts) == valid
    assert set(counts.values()) == {1}
    assert greeted_tasks == valid
    # every SMS in the ledger was recorded as an intent first, and sent once
    attempt_ids = [record["attempt_id"] for record in read_ledger(data_dir)]
    assert len(attempt_ids) == len(set(attempt_ids))
    recorded = set(project.store.read("SELECT attempt_id FROM messages")["attempt_id"])
    assert set(attempt_ids) <= recorded
    check_webhooks(project, receiver, greeted_tasks)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_crash_twilio_provider_sigkill(
    data_dir: Path, runners: Runners, receiver: Receiver
) -> None:
    port = free_port()
    project = smskit.open(data_dir)
    configure_crash(project, receiver)
    configure_twilio(project, port)
    body, numbers = crash_batch()
    project.add_batch("crash", body)

    # A third of the recipients confirm and a few opt out. The next runner fetches the replies
    # that the fake posted while no runner listened from the Messages list.
    rng = random.Random(SEED)
    replies = {number: ["Yes, Tuesday at 10 works"] for number in rng.sample(numbers, 64)}
    replies.update(
        {number: ["STOP"] for number in rng.sample(sorted(set(numbers) - set(replies)), 8)}
    )
    fake = FakeTwilio(
        now=Clock(TIME_SCALE, START).now,
        inbound_url=inbound_url(port),
        auto_statuses=("sent", "delivered"),
        replies=replies,
    ).start()
    faults = rng.sample(numbers, 40)
    for number in faults[:24]:
        fake.fail_number(number, "drop")
    for number in faults[24:30]:
        fake.fail_number(number, "drop-unrecorded")
    for number in faults[30:36]:
        fake.fail_number(number, "500")
    for number in faults[36:]:
        fake.fail_number(number, "429")
    fake.retry_after = "1"
    runners.environ.update(fake.environ())
    valid_numbers = set(numbers)

    def greeted() -> int:
        return len({m["to"] for m in fake.sent()} & valid_numbers)

    try:
        snapshots = kill_repeatedly(runners, project, greeted, ("--port", str(port)))
    finally:
        fake.stop()

    check_phases(snapshots)
    greeted_tasks = check_end_state(project)
    messages = project.store.read(
        "SELECT task_id, phone_number, kind, provider_message_id FROM messages "
        "WHERE direction = 'outbound' AND provider_message_id IS NOT NULL"
    )
    recorded = dict(zip(messages["provider_message_id"], messages["kind"], strict=True))
    sent = fake_outbound_by_sid(fake)
    # every message Twilio accepted is recorded with its SID: none was sent behind the store
    unrecorded = [
        (m["to"], m["body"], project.messages(phone=m["to"]).to_dicts())
        for sid, m in sent.items()
        if sid not in recorded
    ]
    assert not unrecorded
    assert set(sent) == set(recorded)
    greetings_to = Counter(m["to"] for sid, m in sent.items() if recorded[sid] == "greeting")
    assert set(greetings_to) == valid_numbers
    assert set(greetings_to.values()) == {1}
    valid = set(project.tasks().filter(verdict="valid")["task_id"].to_list())
    assert greeted_tasks == valid
    # the dropped sends were resolved by listing messages, not by sending again
    assert any(r.method == "GET" for r in fake.requests)
    check_webhooks(project, receiver, greeted_tasks)


@pytest.mark.timeout(90)
def test_crash_pending_confirmation_of_done_task(data_dir: Path, runners: Runners) -> None:
    # A runner recorded two confirmations of finished conversations and was killed: the first
    # after the provider took it, the second before it was sent.
    project = smskit.open(data_dir)
    project.set(attrs.QUIET_HOURS, "")
    project.set(attrs.SESSION_DURATION, "0.5")
    first, second = phone_numbers(2)
    project.add_batch("done", batch_csv([first, second]))
    assert runners.start("--until-idle").wait(timeout=60) == 0
    tasks = dict(zip(project.tasks()["phone_number"], project.tasks()["task_id"], strict=True))
    text = "You are unsubscribed and will not receive more messages."
    with project.store.transaction() as conn:
        conn.execute(
            "INSERT INTO messages (message_id, task_id, direction, kind, phone_number, body, "
            "attempt_id, provider, status, created_at) VALUES "
            "(1001, ?, 'outbound', 'confirmation', ?, ?, 'att_sent', 'local', 'pending', ?), "
            "(1002, ?, 'outbound', 'confirmation', ?, ?, 'att_unsent', 'local', 'pending', ?)",
            [tasks[first], first, text, START, tasks[second], second, text, START],
        )
    record = {"sid": "LMsent", "attempt_id": "att_sent", "task_id": tasks[first], "to": first}
    record.update({"from": "+15005550006", "body": text, "sent_at": START.isoformat()})
    with open(data_dir / "local-provider" / "ledger.jsonl", "a", encoding="utf-8") as ledger:
        ledger.write(json.dumps(record) + "\n")

    assert runners.start("--until-idle").wait(timeout=60) == 0

    confirmations = project.store.read(
        "SELECT attempt_id, provider_message_id, status FROM messages WHERE message_id > 1000 "
        "ORDER BY message_id"
    ).to_dicts()
    sent = Counter(record["attempt_id"] for record in read_ledger(data_dir))
    assert sent["att_sent"] == 1
    assert sent["att_unsent"] == 1
    assert confirmations[0]["provider_message_id"] == "LMsent"
    assert confirmations[1]["provider_message_id"] is not None
    assert {c["status"] for c in confirmations} != {"pending"}
