"""Fault injection: `python runner.py` against servers that fail, on 127.0.0.1.

The fake Twilio responds with 429 and 500, hangs past the provider's timeout, drops connections
after recording a send, and fails its Messages listings for a while. The model server responds
with errors, hangs and malformed output. The webhook receiver refuses connections, responds with
500, 410 and 429, and responds too slowly. Another process holds the database lock for 30
seconds while replies arrive. In every case nothing is lost, nothing is sent twice, and each
failure shows in `smskit status` and in the runner's log. Backoff runs in project time, so with
a time scale of 60 these tests take seconds.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fake_twilio import FakeTwilio
from local_server import ThreadedServer
from model_server import ModelServer, error, garbage, hang, reply
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from stress_helpers import (
    configure_twilio,
    fake_outbound_by_sid,
    free_port,
    received_bodies,
)
from test_runner import (
    REPO,
    Runners,
    batch_csv,
    greetings_per_task,
    log_text,
    phone_numbers,
    read_ledger,
    wait_for,
)
from test_runner_twilio import respond

import smskit
from smskit import attributes as attrs
from smskit.clock import Clock
from smskit.project import Project

START = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
SMSKIT = str(Path(sys.executable).parent / "smskit")


@pytest.fixture
def runners(data_dir: Path) -> Iterator[Runners]:
    started = Runners(data_dir)
    yield started
    started.kill_all()


def smskit_command(data: Path, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """Run the `smskit` command on a data folder and return what it printed."""
    return subprocess.run(
        [SMSKIT, *args, "--data", str(data)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
    )


def status_text(data: Path) -> str:
    run = smskit_command(data, "status")
    assert run.returncode == 0, run.stderr
    return run.stdout


def quiet(project: Project, **settings: str) -> Project:
    """Turn quiet hours off and apply `settings` (attribute name without its prefix)."""
    project.set(attrs.QUIET_HOURS, "")
    for name, value in settings.items():
        project.set(f"project_attributes_setting_{name}", value)
    return project


# the SMS provider


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_faults_twilio_errors_sent_once(data_dir: Path, runners: Runners) -> None:
    numbers = phone_numbers(8)
    plain, limited, erring, broken, hanging, dropped, lost, listed = numbers
    port = free_port()
    project = quiet(smskit.open(data_dir), outbound_sms_session_duration="1")
    configure_twilio(project, port)
    project.add_batch("faults", batch_csv(numbers))

    fake = FakeTwilio(now=Clock(60, START).now, hang_seconds=12.0, retry_after="1")
    fake.fail_number(limited, "429", "429")
    fake.fail_number(erring, "500")
    fake.fail_number(broken, *["500"] * 5)
    fake.fail_number(hanging, "hang")
    fake.fail_number(dropped, "drop")
    fake.fail_number(lost, "drop-unrecorded")
    fake.fail_number(listed, "drop")
    fake.fail_lists("500")
    fake.start()
    runners.environ.update(fake.environ())
    try:
        process = runners.start("--until-idle", "--port", str(port))
        # While Twilio's Messages list fails, the dropped sends stay unresolved, visibly.
        tasks = project.tasks()
        task_ids = dict(zip(tasks["phone_number"], tasks["task_id"], strict=True))
        wait_for(
            lambda: all(
                f"send not yet confirmed: task {task_ids[phone]} to {phone}"
                in status_text(data_dir)
                for phone in (dropped, lost, listed)
            ),
            40,
            "the unresolved sends in smskit status",
            process,
        )
        tasks = {t["phone_number"]: t for t in project.tasks().to_dicts()}
        assert tasks[dropped]["state"] == "sending"
        assert "send outcome unknown" in tasks[dropped]["error_message"]
        fake.clear_list_faults()
        assert process.wait(timeout=60) == 0
    finally:
        fake.stop()

    log = log_text(data_dir)
    assert "could not fetch inbound messages received while stopped" in log
    assert "outcome of send" in log
    assert "send failed (Twilio rate limit reached" in log
    assert "greeting not sent" in log
    assert "provider has no record of" in log

    # every message Twilio accepted is recorded, and each number got one greeting at most
    sent = fake_outbound_by_sid(fake)
    recorded = project.store.read(
        "SELECT provider_message_id FROM messages WHERE provider_message_id IS NOT NULL"
    )["provider_message_id"].to_list()
    assert set(sent) == set(recorded)
    per_number = Counter(message["to"] for message in sent.values())
    assert per_number == {n: 1 for n in numbers if n != broken}
    # the lost send was sent again after the provider had no record of it
    posts = Counter(r.params["To"] for r in fake.requests if r.method == "POST")
    assert posts[lost] == 2
    assert posts[broken] == 5

    tasks = {t["phone_number"]: t for t in project.tasks().to_dicts()}
    assert {t["state"] for t in tasks.values()} == {"done"}
    assert tasks[broken]["outcome"] == "send-failed"
    assert "Twilio failed to send" in tasks[broken]["error_message"]
    for number in (plain, limited, erring, hanging, dropped, lost, listed):
        assert tasks[number]["outcome"] == "customer-did-not-answer", number
    final = status_text(data_dir)
    assert "send not yet confirmed" not in final
    assert "send-failed 1" in final


# the model


def respond_except_broken(request: dict[str, Any]) -> str:
    """Write the model output as `respond` does, but never JSON for the recipient Broken."""
    data = json.loads(request["messages"][1]["content"])
    if data.get("variables", {}).get("first_name") == "Broken":
        return "I am sorry, I cannot write that message."
    return respond(request)


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_faults_model_errors_hangs_malformed(data_dir: Path, runners: Runners) -> None:
    project = quiet(
        smskit.open(data_dir),
        outbound_sms_session_duration="2",
        llm_model="openai/gpt-4o-mini",
        llm_concurrency="2",
    )
    numbers = phone_numbers(6)
    rows = [
        f"{n},Confirm the boiler service visit,{name}"
        for n, name in zip(
            numbers, ["Maria", "James", "Aisha", "Chen", "Ana", "Broken"], strict=True
        )
    ]
    project.add_batch("model faults", "phone_number,reason,first_name\n" + "\n".join(rows) + "\n")
    greeting = {"text": "Hi, this is Alex from Acme. Does Tuesday at 10 suit you?"}
    model = ModelServer(
        [
            error(429, retry_after="0"),
            error(500),
            error(503),
            hang(2.0, greeting),
            reply("Sure! Here is a friendly greeting for you."),
            reply({"message": "wrong field"}),
            garbage(),
        ],
        responder=respond_except_broken,
    ).start()
    runners.environ.update(
        OPENAI_API_BASE=model.url,
        OPENAI_API_KEY="sk-test-0123456789abcdef",
        LITELLM_LOCAL_MODEL_COST_MAP="True",
    )
    try:
        process = runners.start("--until-idle", "--simulate")
        assert process.wait(timeout=100) == 0, log_text(data_dir)[-3000:]
    finally:
        model.stop()

    tasks = {t["phone_number"]: t for t in project.tasks().to_dicts()}
    assert {t["state"] for t in tasks.values()} == {"done"}
    broken = tasks[numbers[5]]
    assert broken["outcome"] == "send-failed"
    assert broken["error_message"].startswith("agent: ")
    assert "no usable response" in broken["error_message"]
    # one greeting per other number, none to the one whose greeting could not be written
    task_ids = {t["phone_number"]: t["task_id"] for t in tasks.values()}
    assert greetings_per_task(project, data_dir) == {task_ids[n]: 1 for n in numbers[:5]}
    assert numbers[5] not in {r["to"] for r in read_ledger(data_dir)}
    log = log_text(data_dir)
    assert "retrying in" in log
    assert "returned an unusable response" in log
    assert "greeting not sent: agent:" in log
    assert "send-failed 1" in status_text(data_dir)


# the webhook receiver


class FaultyReceiver:
    """A webhook endpoint whose answers follow a plan per phone number in the payload.

    A plan is a list of answers to successive requests: an HTTP status, or "slow" to answer
    200 only after `slow_seconds`. Requests past the plan get 200.
    The socket is bound at once but accepts connections only after `start()`, so until then
    every connection is refused.
    """

    def __init__(self, plans: dict[str, list[int | str]], slow_seconds: float = 2.0) -> None:
        self.plans = plans
        self.slow_seconds = slow_seconds
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.answers: Counter[str] = Counter()
        app = Starlette(routes=[Route("/hook", self._receive, methods=["POST"])])
        self.server = ThreadedServer(app)

    @property
    def url(self) -> str:
        return self.server.url + "/hook"

    async def _receive(self, request: Request) -> Response:
        headers = dict(request.headers)
        try:
            body = await request.body()
        except ClientDisconnect:
            return Response(status_code=499)
        number = json.loads(body)["phone_number"]
        plan = self.plans.get(number, [])
        index = self.answers[number]
        self.answers[number] += 1
        answer = plan[index] if index < len(plan) else 200
        self.requests.append((headers, body))
        if answer == "slow":
            await self.server.pause(self.slow_seconds)
            answer = 200
        headers_out = {"Retry-After": "1"} if answer == 429 else None
        return JSONResponse({"answer": answer}, status_code=int(answer), headers=headers_out)


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_faults_webhook_receiver(data_dir: Path, runners: Runners) -> None:
    numbers = phone_numbers(6)
    gone, failing, recovering, slow, limited, plain = numbers
    receiver = FaultyReceiver(
        {gone: [410], failing: [500, 500, 500], recovering: [500], slow: ["slow"], limited: [429]}
    )
    project = quiet(
        smskit.open(data_dir),
        outbound_sms_session_duration="0.5",
        outbound_request_endpoint=receiver.url,
        webhook_timeout_seconds="0.5",
        webhook_max_attempts="3",
    )
    project.add_batch("hooks", batch_csv(numbers))
    process = runners.start_ready()
    try:
        # nothing listens yet: every delivery is refused and given up after three attempts
        wait_for(
            lambda: project.status()["outbox"].get("given-up") == 6, 30, "six given up", process
        )
        status = status_text(data_dir)
        given_up = project.deliveries()
        for delivery in given_up.to_dicts():
            assert delivery["attempts"] == 3
            assert "ConnectError" in delivery["last_error"]
            assert f"replay with: smskit deliveries replay {delivery['delivery_id']}" in status
        assert "given up after 3 attempts" in log_text(data_dir)

        receiver.server.start()
        ids = given_up["delivery_id"].to_list()
        replayed = smskit_command(data_dir, "deliveries", "replay", ids[0])
        assert replayed.returncode == 0, replayed.stderr
        for delivery_id in ids[1:]:
            project.replay(delivery_id)
        wait_for(
            lambda: (
                project.status()["outbox"].get("pending", 0) == 0
                and sum(project.status()["outbox"].values()) == 6
            ),
            30,
            "the replayed deliveries to settle",
            process,
        )
        assert runners.stop(process) == 0
    finally:
        receiver.server.stop()

    deliveries = {
        row["phone_number"]: row
        for row in project.store.read(
            "SELECT d.*, t.phone_number FROM deliveries d JOIN tasks t USING (task_id)"
        ).to_dicts()
    }
    assert deliveries[gone]["state"] == "given-up"
    assert deliveries[gone]["last_status"] == 410
    assert deliveries[gone]["attempts"] == 1
    assert deliveries[failing]["state"] == "given-up"
    assert deliveries[failing]["last_status"] == 500
    for number in (recovering, slow, limited, plain):
        assert deliveries[number]["state"] == "delivered", number
    attempts = project.delivery_attempts(deliveries[slow]["delivery_id"]).to_dicts()
    assert "timed out after 0.5 s" in attempts[3]["error"]
    assert attempts[4]["status_code"] == 200
    limited_attempts = project.delivery_attempts(deliveries[limited]["delivery_id"]).to_dicts()
    assert [a["status_code"] for a in limited_attempts[3:]] == [429, 200]
    # every arrival of a delivery id carries the same stored body
    stored = {row["delivery_id"]: row["body"].encode() for row in deliveries.values()}
    for delivery_id, bodies in received_bodies(receiver.requests).items():
        assert bodies == {stored[delivery_id]}
    status = status_text(data_dir)
    assert deliveries[gone]["delivery_id"] in status
    assert deliveries[failing]["delivery_id"] in status
    assert deliveries[plain]["delivery_id"] not in status


# the database lock


HOLD_LOCK = """
import sys, time
from smskit.datafolder import DataFolder
from smskit.store import Store
from pathlib import Path
with Store(DataFolder(Path(sys.argv[1])), program="lock-holder").transaction():
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
"""


@pytest.mark.slow
@pytest.mark.timeout(150)
def test_faults_database_locked_30_seconds(data_dir: Path, runners: Runners) -> None:
    numbers = phone_numbers(5)
    project = quiet(smskit.open(data_dir), outbound_sms_session_duration="120")
    project.add_batch("locked", batch_csv(numbers))
    process = runners.start("--until-idle")
    wait_for(
        lambda: len({r["to"] for r in read_ledger(data_dir)}) == 5, 30, "five greetings", process
    )
    wait_for(
        lambda: Counter(project.tasks()["state"].to_list())["in_session"] == 5,
        10,
        "five open sessions",
        process,
    )

    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(data_dir), "30"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        # `smskit reply` only writes the spool, so it works while the database is locked
        replies = [
            subprocess.Popen(
                [SMSKIT, "reply", number, "Yes, Tuesday at 10 works", "--data", str(data_dir)],
                stderr=subprocess.PIPE,
                text=True,
            )
            for number in numbers
        ]
        for answered in replies:
            _, stderr = answered.communicate(timeout=25)
            assert answered.returncode == 0, stderr
        assert holder.poll() is None, "the lock was released before the replies were spooled"
        assert holder.wait(timeout=40) == 0
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(timeout=10)
        if holder.stdout is not None:
            holder.stdout.close()
    assert process.wait(timeout=60) == 0

    log = log_text(data_dir)
    assert f"tick skipped: the database is locked by pid {holder.pid} (lock-holder)" in log
    inbound = project.store.read(
        "SELECT phone_number, body FROM messages WHERE direction = 'inbound'"
    )
    assert Counter(inbound["phone_number"].to_list()) == {n: 1 for n in numbers}
    # each number got one greeting and one answer to its reply
    per_number = Counter(r["to"] for r in read_ledger(data_dir))
    assert per_number == {n: 2 for n in numbers}
    attempt_ids = [r["attempt_id"] for r in read_ledger(data_dir)]
    assert len(attempt_ids) == len(set(attempt_ids))
    outcomes = Counter(project.tasks()["outcome"].to_list())
    assert outcomes == {"completed": 5}


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_faults_missed_inbound_fetched_after_listing_error(
    data_dir: Path, runners: Runners
) -> None:
    number = phone_numbers(1)[0]
    port = free_port()
    project = quiet(smskit.open(data_dir), outbound_sms_session_duration="10")
    configure_twilio(project, port)
    project.add_batch("missed", batch_csv([number]))
    fake = FakeTwilio(now=Clock(60, START).now).start()
    runners.environ.update(fake.environ())
    try:
        process = runners.start("--port", str(port))
        wait_for(
            lambda: project.tasks()["state"].to_list() == ["in_session"], 30, "the session", process
        )
        stopped_at = project.now()
        assert runners.stop(process) == 0

        # The reply reaches Twilio while no runner listens, and the first listing fails.
        fake.add_inbound(number, "Yes, Tuesday at 10 works")
        fake.fail_next_list("500")
        restarted = runners.start("--until-idle", "--port", str(port), clock_start=stopped_at)
        assert restarted.wait(timeout=60) == 0
    finally:
        fake.stop()

    assert "could not fetch inbound messages received while stopped" in log_text(data_dir)
    inbound = project.messages(phone=number).filter(direction="inbound")
    assert inbound["body"].to_list() == ["Yes, Tuesday at 10 works"]
    assert project.tasks()["outcome"].to_list() == ["completed"]
