"""Helpers shared by the crash, fault and hostile-input tests of `python runner.py`.

They configure a project for the Twilio provider against the fake Twilio, read what a run left
behind (task states, the results attributes, the webhook outbox) and check the webhooks that a
test's receiver got against the outbox. The runner processes themselves are started with
`Runners` from the runner tests.
"""

from __future__ import annotations

import csv
import io
import socket
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl
from fake_twilio import SENDER, FakeTwilio
from test_runner import Receiver

from smskit import attributes as attrs
from smskit.clock import naive_utc
from smskit.project import Project


def free_port() -> int:
    """Return a port of 127.0.0.1 that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def configure_twilio(project: Project, port: int) -> str:
    """Set the Twilio provider, the fake's sender and the runner's public URL on `port`.

    Returns the public base URL. The fake Twilio's credentials go in the runner's environment
    (`FakeTwilio.environ`).
    """
    public_url = f"http://127.0.0.1:{port}"
    project.set(attrs.SMS_PROVIDER, "twilio")
    project.set(attrs.SMS_SENDER, SENDER)
    project.set(attrs.PUBLIC_BASE_URL, public_url)
    return public_url


def inbound_url(port: int) -> str:
    """Return the URL of the runner's Twilio inbound route on `port`."""
    return f"http://127.0.0.1:{port}/providers/twilio/inbound"


@dataclass
class Snapshot:
    """What the store held when a runner was killed."""

    states: Counter[str]
    # tasks being closed: state `closing`, or in session past their end
    closing: int
    pending_deliveries: int
    delivered: int
    exported: int
    done: int
    greeted: int


def snapshot(project: Project, greeted: int, killed_at: datetime) -> Snapshot:
    """Read task states, the outbox and the results attributes of a stopped runner's folder.

    `killed_at` is the project time at which the runner stopped.
    """
    tasks = project.tasks()
    states = Counter(tasks["state"].to_list())
    expired = tasks.filter(
        (pl.col("state") == "in_session") & (pl.col("session_ends_at") <= naive_utc(killed_at))
    )
    outbox = project.status()["outbox"]
    return Snapshot(
        states=states,
        closing=states["closing"] + expired.height,
        pending_deliveries=outbox.get("pending", 0),
        delivered=outbox.get("delivered", 0),
        exported=len(results_task_ids(project)),
        done=states["done"],
        greeted=greeted,
    )


def results_task_ids(project: Project) -> list[int]:
    """Return the task ids in the results chunk attributes, in chunk order.

    Every chunk must start with the same header row, whose first column is `task_id`.
    """
    frame = project.store.read(
        "SELECT name, value FROM attributes WHERE starts_with(name, ?)",
        [attrs.RESULTS_CHUNK_PREFIX],
    )
    chunks = sorted(
        zip(frame["name"].to_list(), frame["value"].to_list(), strict=True),
        key=lambda item: int(item[0].rsplit("_", 1)[1]),
    )
    task_ids: list[int] = []
    header: list[str] | None = None
    for _, text in chunks:
        rows = list(csv.reader(io.StringIO(text)))
        assert rows, "a results chunk is empty"
        assert rows[0][0] == "task_id", rows[0]
        assert header in (None, rows[0]), "results chunks have different header rows"
        header = rows[0]
        task_ids += [int(row[0]) for row in rows[1:]]
    return task_ids


def received_bodies(requests: list[tuple[dict[str, str], bytes]]) -> dict[str, set[bytes]]:
    """Group the bodies of a receiver's requests by their `webhook-id` header."""
    bodies: dict[str, set[bytes]] = {}
    for headers, body in list(requests):
        bodies.setdefault(headers["webhook-id"], set()).add(body)
    return bodies


def check_webhooks(project: Project, receiver: Receiver, greeted_tasks: set[int]) -> None:
    """Check the outbox against what the receiver got.

    Every task in `greeted_tasks` has exactly one delivery, every delivery is delivered and
    arrived at least once, and every arrival of a delivery id carries the stored body.
    """
    deliveries = project.store.read("SELECT delivery_id, task_id, state, body FROM deliveries")
    per_task = Counter(deliveries["task_id"].to_list())
    assert set(per_task) == greeted_tasks
    assert set(per_task.values()) == {1}, [t for t, n in per_task.items() if n > 1]
    assert set(deliveries["state"].to_list()) == {"delivered"}
    arrived = received_bodies(receiver.requests)
    stored = dict(zip(deliveries["delivery_id"], deliveries["body"], strict=True))
    assert set(arrived) == set(stored)
    for delivery_id, bodies in arrived.items():
        assert bodies == {stored[delivery_id].encode()}, delivery_id


def fake_outbound_by_sid(fake: FakeTwilio) -> dict[str, dict[str, Any]]:
    """Return the fake Twilio's outbound messages by message SID."""
    return {message["sid"]: message for message in fake.sent()}
