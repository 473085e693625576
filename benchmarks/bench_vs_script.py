"""smskit against a plain sequential script, both sending through a fake Twilio on 127.0.0.1.

The fake Twilio (`tests/fake_twilio.py`) responds to every accepted send after 200 ms, an
estimate of a remote API's latency rather than a measurement of Twilio's. A batch of 300 rows
(100 with `--quick`) is sent twice:

- by the script: a child process that reads the CSV with Polars and sends each row in turn
  through the official `twilio` library (`client.api.base_url` set to the fake);
- by smskit: `python runner.py` as a child process on a data folder with the batch, the Twilio
  provider, greetings from the offline agent, send rate 0 (unlimited) and quiet hours off.

Each time is the wall-clock time from starting the child process until the fake has recorded
one message per row, so both include their start-up. The figure is the script's time divided
by smskit's: the speed-up. Goal: at least 10 times.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.harness import Figure, meets_goal
from smskit import attributes as attrs
from smskit.datafolder import DataFolder
from smskit.project import Project

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from fake_twilio import SENDER, FakeTwilio  # noqa: E402 - needs the tests folder on sys.path

GOAL = ">= 10"
SEND_DELAY_SECONDS = 0.2
REASON = "Confirm the boiler service on Tuesday at 10:00"
# Upper bound that turns a stuck sender into an error instead of a hang.
TIMEOUT_SECONDS = 600.0

SCRIPT = """
import sys
import polars as pl
from twilio.rest import Client

csv_path, api_base, sender = sys.argv[1:4]
client = Client(sys.argv[4], sys.argv[5])
client.api.base_url = api_base
frame = pl.read_csv(csv_path, infer_schema=False)
for row in frame.iter_rows(named=True):
    body = f"Hi {row['first_name']}, this is Alex. {row['reason']}? Reply STOP to opt out."
    client.messages.create(to=row["phone_number"], from_=sender, body=body)
"""


def run(quick: bool) -> list[Figure]:
    """Time the sequential script and the runner on the same batch and fake Twilio."""
    rows = 100 if quick else 300
    numbers = phone_numbers(rows)
    body = "phone_number,reason,first_name\n" + "".join(f"{n},{REASON},Ana\n" for n in numbers)
    with tempfile.TemporaryDirectory(prefix="smskit-bench-script-") as folder:
        csv_path = Path(folder) / "batch.csv"
        csv_path.write_text(body, encoding="utf-8")
        script_seconds = _time_script(csv_path, rows)
        runner_seconds = _time_runner(Path(folder) / "data", body, rows)
    speedup = script_seconds / runner_seconds
    return [
        Figure(
            f"smskit speed-up over a sequential script, {rows} sends at 200 ms",
            speedup,
            "x",
            goal=GOAL,
            baseline=f"script {script_seconds:.1f} s, smskit {runner_seconds:.1f} s",
            passed=meets_goal(speedup, GOAL),
        )
    ]


def phone_numbers(count: int) -> list[str]:
    """Return `count` distinct valid US numbers in E.164 (at most 500)."""
    numbers = [
        f"+1{area}555{line:04d}"
        for area in ("202", "212", "312", "415", "617")
        for line in range(100, 200)
    ]
    if count > len(numbers):
        raise ValueError(f"at most {len(numbers)} numbers, {count} requested")
    return numbers[:count]


def _time_script(csv_path: Path, rows: int) -> float:
    fake = FakeTwilio(send_delay=SEND_DELAY_SECONDS).start()
    try:
        command = [sys.executable, "-c", SCRIPT, str(csv_path), fake.url, SENDER]
        command += [fake.account_sid, fake.auth_token]
        started = time.perf_counter()
        subprocess.run(command, cwd=REPO, timeout=TIMEOUT_SECONDS, check=True)
        seconds = time.perf_counter() - started
        _check_sent(fake, rows)
    finally:
        fake.stop()
    return seconds


def _time_runner(data: Path, body: str, rows: int) -> float:
    project = Project(DataFolder(data))
    project.set(attrs.SMS_PROVIDER, "twilio")
    project.set(attrs.SMS_SENDER, SENDER)
    project.set(attrs.QUIET_HOURS, "")
    project.set(attrs.SEND_RATE, "0")
    project.set(attrs.LLM_MODEL, "offline")
    project.set(attrs.SESSION_DURATION, "60")
    if project.add_batch("benchmark", body)["valid"] != rows:
        raise RuntimeError(f"not every one of the {rows} benchmark rows is valid")
    fake = FakeTwilio(send_delay=SEND_DELAY_SECONDS).start()
    environ = {**os.environ, **fake.environ()}
    environ.pop("SMSKIT_DATA", None)
    command = [sys.executable, str(REPO / "runner.py"), "--data", str(data)]
    command += ["--port", "-1", "--log-level", "WARNING"]
    try:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=REPO, env=environ, stdout=subprocess.DEVNULL)
        try:
            _wait(lambda: len(fake.sent()) >= rows, process)
            seconds = time.perf_counter() - started
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
        _check_sent(fake, rows)
    finally:
        fake.stop()
    return seconds


def _wait(condition: Callable[[], bool], process: subprocess.Popen[bytes]) -> None:
    deadline = time.perf_counter() + TIMEOUT_SECONDS
    while not condition():
        if process.poll() is not None:
            raise RuntimeError(f"the runner exited with {process.returncode} before every send")
        if time.perf_counter() > deadline:
            raise RuntimeError(f"timed out after {TIMEOUT_SECONDS:g} s waiting for every send")
        time.sleep(0.01)


def _check_sent(fake: FakeTwilio, rows: int) -> None:
    recipients = [message["to"] for message in fake.sent()]
    if len(recipients) != rows or len(set(recipients)) != rows:
        raise RuntimeError(
            f"{len(recipients)} messages to {len(set(recipients))} numbers, "
            f"expected one to each of {rows}"
        )
