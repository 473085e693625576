"""End-to-end runs of `python runner.py` on temporary data folders.

Each test starts the runner as a subprocess on a fresh data folder, with the local provider, the
offline agent and quiet hours off. Its clock starts on a Monday at 17:00 UTC and runs 60 times
faster than real time, so one project minute passes per real second. The test drives it through the
`smskit` Python API and checks what it did in the store and in the local provider's ledger,
which has one line per SMS actually sent.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import jsonschema
import pytest
from local_server import ThreadedServer
from model_server import ModelServer, hang, reply
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

import smskit
from smskit import attributes as attrs
from smskit.clock import naive_utc
from smskit.project import Project
from smskit.results import AFTER_SESSION_MARK

REPO = Path(__file__).resolve().parents[1]
RUNNER = REPO / "runner.py"
START = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
TIME_SCALE = 60.0
REASON = "Confirm the boiler service visit"

T = TypeVar("T")
# The stderr file of each runner started by `Runners`, by pid, for failure messages.
STDERR_PATHS: dict[int, Path] = {}


# helpers


def phone_numbers(count: int, first: int = 0) -> list[str]:
    """Return `count` distinct valid US numbers in E.164, the same ones on every call."""
    numbers = [
        f"+1{area}555{line:04d}"
        for area in ("202", "212", "312", "415", "617")
        for line in range(100, 200)
    ]
    return numbers[first : first + count]


def batch_csv(numbers: list[str], reason: str = REASON) -> str:
    lines = ["phone_number,reason,first_name"]
    lines += [f"{number},{reason},Maria" for number in numbers]
    return "\n".join(lines) + "\n"


def configure(project: Project, **settings: str) -> Project:
    """Turn quiet hours off and apply `settings` (attribute name without its prefix)."""
    project.set(attrs.QUIET_HOURS, "")
    for name, value in settings.items():
        project.set(f"project_attributes_setting_{name}", value)
    return project


def wait_for(
    condition: Callable[[], T],
    timeout: float,
    what: str,
    process: subprocess.Popen[bytes] | None = None,
) -> T:
    """Poll `condition` until it returns a true value, and fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if process is not None and process.poll() is not None:
            raise AssertionError(
                f"the runner exited ({process.returncode}) before {what}:\n" + stderr_tail(process)
            )
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def stderr_tail(process: subprocess.Popen[bytes], lines: int = 30) -> str:
    path = STDERR_PATHS.get(process.pid)
    if path is None or not path.exists():
        return ""
    return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def read_ledger(data: Path) -> list[dict[str, Any]]:
    """Return the local provider's ledger: one record per SMS sent."""
    path = data / "local-provider" / "ledger.jsonl"
    if not path.exists():
        return []
    with open(path, encoding="utf-8") as ledger:
        return [json.loads(line) for line in ledger if line.endswith("\n")]


def greetings_per_task(project: Project, data: Path) -> Counter[int]:
    """Count the greetings in the ledger per task, matching attempt ids with `messages`."""
    rows = project.store.read(
        "SELECT attempt_id, task_id FROM messages WHERE kind = 'greeting' "
        "AND attempt_id IS NOT NULL"
    )
    greeting_attempts = dict(zip(rows["attempt_id"], rows["task_id"], strict=True))
    return Counter(
        greeting_attempts[record["attempt_id"]]
        for record in read_ledger(data)
        if record["attempt_id"] in greeting_attempts
    )


def states(project: Project, batch: str | None = None) -> Counter[str]:
    return Counter(project.tasks(batch)["state"].to_list())


def log_text(data: Path) -> str:
    path = data / "logs" / "runner.log"
    return path.read_text(encoding="utf-8") if path.exists() else ""


def only_task(project: Project) -> dict[str, Any]:
    tasks = project.tasks().to_dicts()
    assert len(tasks) == 1
    return tasks[0]


class Runners:
    """Starts `python runner.py` processes on one data folder and kills any left at the end."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.environ = dict(os.environ)
        self.processes: list[subprocess.Popen[bytes]] = []

    def command(self, *args: str, clock_start: datetime = START) -> list[str]:
        return [
            sys.executable,
            str(RUNNER),
            "--data",
            str(self.data),
            "--time-scale",
            str(TIME_SCALE),
            "--clock-start",
            clock_start.isoformat().replace("+00:00", "Z"),
            "--port",
            "0",
            *args,
        ]

    def start(self, *args: str, clock_start: datetime = START) -> subprocess.Popen[bytes]:
        """Start a runner without waiting for it."""
        stderr_path = self.data.parent / f"runner-{len(self.processes)}.stderr"
        stderr = open(stderr_path, "wb")  # noqa: SIM115
        process = subprocess.Popen(
            self.command(*args, clock_start=clock_start),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            cwd=REPO,
            env=self.environ,
        )
        stderr.close()
        STDERR_PATHS[process.pid] = stderr_path
        self.processes.append(process)
        return process

    def start_ready(self, *args: str, clock_start: datetime = START) -> subprocess.Popen[bytes]:
        """Start a runner and wait until its log reports that it started."""
        process = self.start(*args, clock_start=clock_start)
        wait_for(
            lambda: f"pid {process.pid}," in log_text(self.data),
            30,
            f"runner {process.pid} to start",
            process,
        )
        return process

    def stop(self, process: subprocess.Popen[bytes], timeout: float = 15) -> int:
        """Send SIGTERM and return the exit code."""
        process.send_signal(signal.SIGTERM)
        return process.wait(timeout=timeout)

    def kill_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)


@pytest.fixture
def runners(data_dir: Path) -> Iterator[Runners]:
    started = Runners(data_dir)
    yield started
    started.kill_all()


class Receiver:
    """A webhook endpoint on 127.0.0.1 that records every request it gets.

    `script` gives the response to each request in turn: an HTTP status, or "hang" to respond
    with 200 only after `hang_seconds`. Requests past the end of the script get 200.
    """

    def __init__(self, script: list[int | str] | None = None, hang_seconds: float = 3.0) -> None:
        self.script = script or []
        self.hang_seconds = hang_seconds
        self.requests: list[tuple[dict[str, str], bytes]] = []
        app = Starlette(routes=[Route("/hook", self._receive, methods=["POST"])])
        self.server = ThreadedServer(app)

    @property
    def url(self) -> str:
        return self.server.url + "/hook"

    async def _receive(self, request: Request) -> Response:
        body = await request.body()
        self.requests.append((dict(request.headers), body))
        index = len(self.requests) - 1
        status = self.script[index] if index < len(self.script) else 200
        if status == "hang":
            await self.server.pause(self.hang_seconds)
            status = 200
        return JSONResponse({"received": len(self.requests)}, status_code=int(status))


@pytest.fixture
def receiver_factory() -> Iterator[Callable[..., Receiver]]:
    made: list[Receiver] = []

    def make(script: list[int | str] | None = None, hang_seconds: float = 3.0) -> Receiver:
        receiver = Receiver(script, hang_seconds)
        receiver.server.start()
        made.append(receiver)
        return receiver

    yield make
    for receiver in made:
        receiver.server.stop()


# sessions


@pytest.mark.timeout(60)
def test_runner_unanswered_session_fails_at_expiry(data_dir: Path, runners: Runners) -> None:
    minutes = 3
    project = configure(smskit.open(data_dir), outbound_sms_session_duration=str(minutes))
    project.add_batch("silent", batch_csv(phone_numbers(1)))
    process = runners.start("--until-idle")

    task = wait_for(
        lambda: (t := only_task(project))["state"] == "in_session" and t,
        30,
        "the session to open",
        process,
    )
    ends = task["session_ends_at"]
    assert ends - task["started_at"] == timedelta(minutes=minutes)

    # 45 project seconds before expiry the session must still be open.
    wait_for(
        lambda: naive_utc(project.now()) >= ends - timedelta(seconds=45),
        10,
        "45 s before expiry",
        process,
    )
    state_before_expiry = only_task(project)["state"]
    checked_at = naive_utc(project.now())
    assert checked_at < ends
    assert state_before_expiry == "in_session"
    assert project.status()["open_sessions"] == 1

    assert process.wait(timeout=30) == 0, stderr_tail(process)
    task = only_task(project)
    assert task["state"] == "done"
    assert task["status"] == "failed"
    assert task["outcome"] == "customer-did-not-answer"
    assert task["ended_at"] - task["started_at"] >= timedelta(minutes=minutes)
    assert task["ended_at"] - task["started_at"] < timedelta(minutes=minutes, seconds=60)


@pytest.mark.timeout(60)
def test_runner_reply_after_session_is_kept(data_dir: Path, runners: Runners) -> None:
    project = configure(smskit.open(data_dir), outbound_sms_session_duration="1")
    phone = phone_numbers(1)[0]
    # Row 2 repeats the number: its task is done as a duplicate and never texts it.
    project.add_batch("late", batch_csv([phone, phone]))
    greeted, duplicate = project.tasks().to_dicts()
    assert duplicate["outcome"] == "duplicate-phone-number"
    task_id = greeted["task_id"]
    process = runners.start_ready()
    wait_for(lambda: states(project) == {"done": 2}, 30, "the session to expire", process)

    # a reply while the runner runs
    project.reply(phone, "Sorry, only just saw this. Thursday works.")
    inbound = wait_for(
        lambda: project.messages(phone=phone).filter(direction="inbound").to_dicts(),
        10,
        "the late reply to be stored",
        process,
    )
    assert inbound[0]["task_id"] == task_id
    assert inbound[0]["after_session"] is True
    assert inbound[0]["body"] == "Sorry, only just saw this. Thursday works."

    # a reply while no runner runs is applied by the next one
    stopped_at = project.now()
    assert runners.stop(process) == 0
    project.reply(phone, "Hello? Are you there?")
    assert project.messages(phone=phone).filter(direction="inbound").height == 1
    restarted = runners.start("--until-idle", clock_start=stopped_at)
    assert restarted.wait(timeout=30) == 0, stderr_tail(restarted)

    inbound = project.messages(phone=phone).filter(direction="inbound").to_dicts()
    assert [message["body"] for message in inbound] == [
        "Sorry, only just saw this. Thursday works.",
        "Hello? Are you there?",
    ]
    assert [message["task_id"] for message in inbound] == [task_id, task_id]
    assert all(message["after_session"] for message in inbound)
    transcript = project.transcript(task_id)
    assert f"Recipient: Hello? Are you there?{AFTER_SESSION_MARK}" in transcript
    results = project.results()
    assert "Thursday works." in results["transcript"][0]
    assert results["transcript"][1] in ("", None)
    assert results["status"].to_list() == ["failed", "failed"]
    assert results["outcome"].to_list() == ["customer-did-not-answer", "duplicate-phone-number"]


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_runner_reply_while_closing_is_after_session(data_dir: Path, runners: Runners) -> None:
    # The model responds to the analysis request only after 4 s, so the task stays `closing`.
    # The runner imports litellm for the greeting: 3 s on an idle machine, 30 s on a busy one.
    analysis = {"summary": "Maria did not reply.", "opted_out": False, "fields": {}}
    model = ModelServer(
        [reply({"text": "Hi Maria, this is Alex. Does Thursday suit you?"}), hang(4.0, analysis)]
    ).start()
    try:
        project = configure(
            smskit.open(data_dir),
            outbound_sms_session_duration="1",
            llm_model="openai/gpt-4o-mini",
        )
        phone = phone_numbers(1)[0]
        project.add_batch("closing", batch_csv([phone]))
        runners.environ.update(
            OPENAI_API_BASE=model.url,
            OPENAI_API_KEY="sk-test-key-0123456789abcdef",
            LITELLM_LOCAL_MODEL_COST_MAP="True",
        )
        process = runners.start("--until-idle")
        wait_for(
            lambda: only_task(project)["state"] == "closing", 150, "the session to close", process
        )
        project.reply(phone, "Sorry, only just saw this.")
        inbound = wait_for(
            lambda: project.messages(phone=phone).filter(direction="inbound").to_dicts(),
            10,
            "the reply to be stored",
            process,
        )
        assert only_task(project)["state"] == "closing"
        assert process.wait(timeout=30) == 0, stderr_tail(process)
    finally:
        model.stop()
    assert inbound[0]["created_at"] > only_task(project)["session_ends_at"]
    assert inbound[0]["after_session"] is True
    task = only_task(project)
    assert task["outcome"] == "customer-did-not-answer"
    assert AFTER_SESSION_MARK in project.transcript(task["task_id"])


@pytest.mark.timeout(60)
def test_runner_unknown_number_stored_and_stop_suppresses(data_dir: Path, runners: Runners) -> None:
    project = configure(smskit.open(data_dir), outbound_sms_session_duration="1")
    stranger, other = phone_numbers(2, first=10)
    process = runners.start_ready()

    project.reply(stranger, "Hi, who is this?")
    stored = wait_for(
        lambda: project.messages(phone=stranger).to_dicts(), 10, "the inbound SMS", process
    )
    assert stored[0]["direction"] == "inbound"
    assert stored[0]["task_id"] is None
    assert stored[0]["after_session"] is True
    assert stored[0]["body"] == "Hi, who is this?"

    project.reply(stranger, "STOP")
    suppressed = wait_for(
        lambda: project.suppressions().filter(phone_number=stranger).to_dicts(),
        10,
        "the number to be suppressed",
        process,
    )
    assert suppressed[0]["source"] == "opt-out"
    confirmation = project.get(attrs.OPT_OUT_CONFIRMATION)
    wait_for(
        lambda: any(
            r["to"] == stranger and r["body"] == confirmation for r in read_ledger(data_dir)
        ),
        10,
        "the opt-out confirmation",
        process,
    )

    # a later batch never greets the suppressed number
    project.add_batch("after stop", batch_csv([stranger, other]))
    wait_for(
        lambda: states(project)["in_session"] == 1 and states(project)["done"] == 1,
        15,
        "the batch to be dispatched",
        process,
    )
    outcomes = dict(zip(project.tasks()["phone_number"], project.tasks()["outcome"], strict=True))
    assert outcomes[stranger] == "suppressed"
    greeted = [r["to"] for r in read_ledger(data_dir) if r["task_id"] is not None]
    assert greeted == [other]
    assert runners.stop(process) == 0


# results and webhooks


@pytest.mark.timeout(90)
def test_runner_results_chunks_of_fifty(data_dir: Path, runners: Runners) -> None:
    project = configure(smskit.open(data_dir), outbound_sms_session_duration="0.5")
    batch = project.add_batch("hundred twenty", batch_csv(phone_numbers(120)))
    assert batch["valid"] == 120
    process = runners.start("--until-idle")
    assert process.wait(timeout=75) == 0, stderr_tail(process)

    names = sorted(
        name for name in project.attributes()["name"] if name.startswith(attrs.RESULTS + "_batch_")
    )
    assert names == [f"{attrs.RESULTS}_batch_{n}" for n in (1, 2, 3)]
    chunks = [list(csv.reader(io.StringIO(project.get(name)))) for name in names]
    results = project.results()
    assert [len(chunk) - 1 for chunk in chunks] == [50, 50, 20]
    for chunk in chunks:
        assert chunk[0] == results.columns
    task_ids = [int(row[0]) for chunk in chunks for row in chunk[1:]]
    assert task_ids == project.tasks()["task_id"].to_list()
    assert project.get(attrs.RESULTS) == project.get(names[0])
    assert set(results["outcome"]) == {"customer-did-not-answer"}


@pytest.mark.timeout(60)
def test_runner_webhook_retries_same_delivery(
    data_dir: Path, runners: Runners, receiver_factory: Callable[..., Receiver]
) -> None:
    receiver = receiver_factory([500, "hang", 200], hang_seconds=3.0)
    project = configure(
        smskit.open(data_dir),
        outbound_sms_session_duration="0.5",
        outbound_request_endpoint=receiver.url,
        webhook_timeout_seconds="0.5",
    )
    project.add_batch("hooks", batch_csv(phone_numbers(1)))
    process = runners.start("--until-idle")
    assert process.wait(timeout=45) == 0, stderr_tail(process)

    assert len(receiver.requests) == 3
    ids = {headers["webhook-id"] for headers, _ in receiver.requests}
    assert len(ids) == 1
    bodies = {body for _, body in receiver.requests}
    assert len(bodies) == 1
    delivery = project.deliveries().to_dicts()
    assert len(delivery) == 1
    assert delivery[0]["delivery_id"] in ids
    assert delivery[0]["state"] == "delivered"
    assert delivery[0]["attempts"] == 3
    attempts = project.delivery_attempts().to_dicts()
    assert [a["status_code"] for a in attempts] == [500, None, 200]
    assert "timed out" in attempts[1]["error"]
    payload = json.loads(bodies.pop())
    assert payload["task_id"] == only_task(project)["task_id"]
    assert payload["outcome"] == "customer-did-not-answer"


SCHEMA = {
    "type": "object",
    "properties": {
        "confirmed": {"type": "boolean", "description": "Whether the customer confirmed"},
        "visit_date": {"type": "string", "format": "date", "description": "Date they chose"},
        "visit_time": {"type": "string", "format": "time", "description": "Time they chose"},
        "preferred_channel": {
            "type": "string",
            "enum": ["sms", "email", "phone"],
            "description": "How the customer prefers to be contacted",
        },
    },
}
# The clock starts on Monday 2 March 2026, so "Thursday" is 5 March.
EXPECTED_FIELDS = {
    "confirmed": True,
    "visit_date": "2026-03-05",
    "visit_time": "15:00",
    "preferred_channel": "email",
}


@pytest.mark.timeout(60)
def test_runner_conversation_fills_payload_fields(
    data_dir: Path, runners: Runners, receiver_factory: Callable[..., Receiver]
) -> None:
    receiver = receiver_factory()
    project = configure(
        smskit.open(data_dir),
        outbound_sms_session_duration="30",
        outbound_request_endpoint=receiver.url,
        outbound_payload_schema=json.dumps(SCHEMA),
    )
    phone = phone_numbers(1)[0]
    project.add_batch("conversation", batch_csv([phone]))
    process = runners.start("--until-idle")
    wait_for(lambda: only_task(project)["state"] == "in_session", 30, "the greeting", process)
    task_id = only_task(project)["task_id"]

    def agent_replies() -> int:
        messages = project.messages(task_id).filter(kind="reply")
        return messages["provider_message_id"].drop_nulls().len()

    project.reply(phone, "Who is this?")
    wait_for(lambda: agent_replies() == 1, 10, "the agent's answer", process)
    project.reply(phone, "Yes, Thursday at 3pm works for me. Email is the best way to reach me.")
    assert process.wait(timeout=30) == 0, stderr_tail(process)

    task = only_task(project)
    assert task["status"] == "finished"
    assert task["outcome"] == "completed"
    assert task["ended_at"] < task["session_ends_at"]
    row = project.results().to_dicts()[0]
    assert {name: row[name] for name in EXPECTED_FIELDS} == EXPECTED_FIELDS
    assert len(receiver.requests) == 1
    payload = json.loads(receiver.requests[0][1])
    assert {name: payload[name] for name in EXPECTED_FIELDS} == EXPECTED_FIELDS
    jsonschema.validate(payload, SCHEMA)
    assert payload["phone_number"] == phone
    assert payload["status"] == "finished"
    assert payload["transcript"].count("Recipient: ") == 2


# batch controls


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_runner_batch_controls_take_effect_live(data_dir: Path, runners: Runners) -> None:
    # 0.1 greetings per project second is 6 per real second at a time scale of 60.
    project = configure(smskit.open(data_dir), send_rate_per_second="0.1")
    project.add_batch("first", batch_csv(phone_numbers(40)))
    first_ids = set(project.tasks("first")["task_id"])
    process = runners.start_ready()

    def sent(task_ids: set[int]) -> int:
        return sum(1 for record in read_ledger(data_dir) if record["task_id"] in task_ids)

    wait_for(lambda: sent(first_ids) >= 3, 20, "the first greetings", process)

    # pause: no greeting later than a second after the call
    project.pause("first")
    time.sleep(1.0)
    after_pause = sent(first_ids)
    time.sleep(1.5)
    assert sent(first_ids) == after_pause
    assert after_pause < 40
    assert states(project, "first") == {"in_session": after_pause, "paused": 40 - after_pause}

    # resume: greetings again within a second
    project.resume("first")
    resumed_at = time.monotonic()
    wait_for(lambda: sent(first_ids) > after_pause, 1.0, "a greeting after resume", process)
    assert time.monotonic() - resumed_at <= 1.0

    # cancel: no greeting later than a second after the call; unsent tasks end cancelled
    project.cancel("first")
    time.sleep(1.0)
    after_cancel = sent(first_ids)
    time.sleep(1.5)
    assert sent(first_ids) == after_cancel
    assert after_cancel < 40
    tasks = project.tasks("first")
    assert Counter(tasks["outcome"].to_list()) == {
        None: after_cancel,
        "cancelled": 40 - after_cancel,
    }
    assert states(project, "first") == {"in_session": after_cancel, "done": 40 - after_cancel}

    # a batch added while the runner runs is picked up without a restart
    project.add_batch("second", batch_csv(phone_numbers(3, first=100)))
    second_ids = set(project.tasks("second")["task_id"])
    wait_for(
        lambda: states(project, "second") == {"in_session": 3},
        10,
        "the second batch's sessions",
        process,
    )
    assert sent(second_ids) == 3
    assert process.poll() is None
    assert greetings_per_task(project, data_dir) == Counter(
        {task_id: 1 for task_id in project.tasks().filter(state="in_session")["task_id"]}
    )
    assert runners.stop(process) == 0


# lifecycle


@pytest.mark.timeout(60)
def test_runner_second_runner_refused(data_dir: Path, runners: Runners) -> None:
    configure(smskit.open(data_dir))
    first = runners.start_ready()
    second = subprocess.run(
        runners.command("--until-idle"), capture_output=True, text=True, timeout=30, cwd=REPO
    )
    assert second.returncode != 0
    assert f"pid {first.pid}" in second.stderr
    assert first.poll() is None
    assert runners.stop(first) == 0


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_runner_sigterm_stops_and_restart_resumes(data_dir: Path, runners: Runners) -> None:
    rows, minutes = 12, 3
    # 0.05 greetings per project second is 3 per real second: SIGTERM comes mid-batch.
    project = configure(
        smskit.open(data_dir),
        outbound_sms_session_duration=str(minutes),
        send_rate_per_second="0.05",
    )
    project.add_batch("term", batch_csv(phone_numbers(rows)))
    process = runners.start_ready()
    wait_for(lambda: states(project)["in_session"] >= 2, 20, "two open sessions", process)

    stopped_at = project.now()
    assert runners.stop(process, timeout=15) == 0
    log = log_text(data_dir)
    assert "runner stopped" in log[log.index(f"pid {process.pid},") :]
    # Nothing is left half-sent: every task was greeted and is in session (or already done),
    # or is still queued.
    at_stop = states(project)
    assert set(at_stop) <= {"in_session", "done", "queued"}
    assert at_stop["queued"] > 0
    greeted = at_stop["in_session"] + at_stop["done"]
    assert sum(greetings_per_task(project, data_dir).values()) == greeted

    restarted = runners.start("--until-idle", clock_start=stopped_at)
    assert restarted.wait(timeout=45) == 0, stderr_tail(restarted)
    assert f"resumed {at_stop['in_session']} unfinished conversations" in log_text(data_dir)
    tasks = project.tasks().to_dicts()
    assert {task["outcome"] for task in tasks} == {"customer-did-not-answer"}
    for task in tasks:
        assert task["ended_at"] - task["started_at"] >= timedelta(minutes=minutes)
    assert greetings_per_task(project, data_dir) == Counter({t["task_id"]: 1 for t in tasks})


@pytest.mark.slow
@pytest.mark.timeout(150)
def test_runner_sigkill_sends_each_greeting_once(data_dir: Path, runners: Runners) -> None:
    rows = 60
    # 0.15 greetings per project second is 9 per real second, so greeting takes about 7 s.
    project = configure(
        smskit.open(data_dir),
        outbound_sms_session_duration="2",
        send_rate_per_second="0.15",
    )
    project.add_batch("kill", batch_csv(phone_numbers(rows)))
    rng = random.Random(20260302)

    def greeted() -> int:
        return len({r["task_id"] for r in read_ledger(data_dir) if r["task_id"] is not None})

    # The first kill comes right after the first greeting. The second comes as soon as the
    # restarted runner has started, while it recovers, and three more at random moments.
    process = runners.start_ready("--simulate")
    wait_for(greeted, 30, "the first greeting", process)
    clock_start = project.now()
    process.kill()
    process.wait(timeout=10)
    kills = [(greeted(), "after the first greeting")]
    for delay in [0.0] + [rng.uniform(0.2, 3.0) for _ in range(3)]:
        process = runners.start_ready("--simulate", clock_start=clock_start)
        time.sleep(delay)
        assert process.poll() is None, "the runner exited before it was killed"
        clock_start = project.now()
        process.kill()
        process.wait(timeout=10)
        kills.append((greeted(), f"{delay:.2f} s after start"))

    final = runners.start("--simulate", "--until-idle", clock_start=clock_start)
    assert final.wait(timeout=90) == 0, stderr_tail(final)

    tasks = project.tasks()
    assert states(project) == {"done": rows}
    assert tasks["outcome"].null_count() == 0
    counts = greetings_per_task(project, data_dir)
    assert sorted(counts) == sorted(tasks["task_id"].to_list()), kills
    assert set(counts.values()) == {1}, kills
    attempt_ids = [record["attempt_id"] for record in read_ledger(data_dir)]
    assert len(attempt_ids) == len(set(attempt_ids))
    # every SMS in the ledger was recorded as an intent first
    recorded = set(project.store.read("SELECT attempt_id FROM messages")["attempt_id"])
    assert set(attempt_ids) <= recorded
    # kills landed while greetings were being sent, not only before or after
    assert 0 < kills[0][0] < rows, kills
    assert any(kills[0][0] < count < rows for count, _ in kills[2:]), kills
