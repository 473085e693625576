"""Runner throughput and memory: greetings per second, and resident memory with open sessions.

A temporary data folder gets one batch of 10,000 rows (2,000 with `--quick`), each with its own
valid US number. Its settings are the local provider at rate 0 (unlimited), the offline agent,
quiet hours off and a session of 1,000 minutes, so no session closes during the run. `python
runner.py` runs on it at time scale 1 as a child process until every row is greeted and its
session is open in the store. Then the runner gets SIGTERM.

Figures:

- greetings per second, from the first to the last greeting in the local provider's ledger
  (its `sent_at` times). Goal: at least 1,000 per second. Baseline, measured in the same run: a
  bare Python loop that appends the same number of ledger-like JSON lines to a file, flushing
  each, as the local provider does per send;
- the runner's peak resident memory (`VmHWM` in /proc) once every session is open. Goal: at
  most 300 MB. Baseline: the peak resident memory of `python -c "import smskit.runner.core"`;
- the time from starting the process to its first greeting, without a goal.

The runner claims up to 2,000 tasks per tick and writes their greetings before it sends the
first, so with `--quick` (2,000 rows) writing the greetings happens before the first ledger
line, and the rate is the sending rate alone. With 10,000 rows the rate includes writing the
greetings of the later claims.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import phonenumbers

from benchmarks.harness import Figure, meets_goal
from smskit import attributes as attrs
from smskit.datafolder import DataFolder
from smskit.project import Project

REPO = Path(__file__).resolve().parents[1]
RATE_GOAL = ">= 1000"
MEMORY_GOAL = "<= 300"
SESSION_MINUTES = "1000"
REASON = "Confirm the boiler service on Tuesday at 10:00"
GREETING = f"Hi Ana, this is Alex. I'm reaching out to {REASON}. Reply STOP to opt out."
_AREA_CODES = ("202", "212", "305", "310", "404", "415", "512", "617", "718", "206")
# Upper bounds that turn a stuck runner into an error instead of a hang.
GREETING_TIMEOUT_SECONDS = 900.0
SETTLE_TIMEOUT_SECONDS = 120.0


def run(quick: bool) -> list[Figure]:
    """Measure the runner's greeting rate and memory on a batch of distinct numbers."""
    rows = 2_000 if quick else 10_000
    label = f"{rows // 1000}k"
    with tempfile.TemporaryDirectory(prefix="smskit-bench-runner-") as folder:
        data = Path(folder) / "data"
        project = _prepare(data, rows)
        measured = _run_runner(project, data, rows)
        bare_rate = _bare_append_rate(Path(folder) / "bare-ledger.jsonl", rows)
    import_peak_mb = _import_peak_mb()
    rate = measured["rate"]
    peak_mb = measured["peak_mb"]
    return [
        Figure(
            f"runner greetings per second, {label} rows",
            rate,
            "/s",
            goal=RATE_GOAL,
            baseline=f"bare ledger appends {bare_rate:,.0f}/s",
            passed=meets_goal(rate, RATE_GOAL),
        ),
        Figure(f"bare ledger appends / runner greetings, {label}", bare_rate / rate, "x"),
        Figure(
            f"runner peak RSS, {label} open sessions",
            peak_mb,
            "MB",
            goal=MEMORY_GOAL,
            baseline=f"import smskit.runner.core {import_peak_mb:.0f} MB",
            passed=meets_goal(peak_mb, MEMORY_GOAL),
        ),
        Figure(f"runner RSS after greeting, {label} open sessions", measured["rss_mb"], "MB"),
        Figure("runner start to first greeting", measured["first_greeting_seconds"], "s"),
    ]


def phone_numbers(count: int) -> list[str]:
    """Return `count` distinct valid US numbers in E.164, the same ones on every call."""
    numbers: list[str] = []
    for exchange in range(201, 1000):
        for area in _AREA_CODES:
            for line in range(0, 10_000, 97):
                text = f"+1{area}{exchange}{line:04d}"
                if phonenumbers.is_valid_number(phonenumbers.parse(text)):
                    numbers.append(text)
                if len(numbers) == count:
                    return numbers
    raise RuntimeError(f"only {len(numbers)} numbers generated, {count} requested")


def _prepare(data: Path, rows: int) -> Project:
    project = Project(DataFolder(data))
    project.set(attrs.QUIET_HOURS, "")
    project.set(attrs.SEND_RATE, "0")
    project.set(attrs.LLM_MODEL, "offline")
    project.set(attrs.SESSION_DURATION, SESSION_MINUTES)
    body = "phone_number,reason,first_name\n"
    body += "".join(f"{phone},{REASON},Ana\n" for phone in phone_numbers(rows))
    batch = project.add_batch("benchmark", body)
    if batch["valid"] != rows:
        raise RuntimeError(f"{batch['valid']} of {rows} benchmark rows are valid, expected all")
    return project


def _run_runner(project: Project, data: Path, rows: int) -> dict[str, float]:
    ledger = data / "local-provider" / "ledger.jsonl"
    command = [sys.executable, str(REPO / "runner.py"), "--data", str(data)]
    command += ["--port", "-1", "--time-scale", "1", "--log-level", "WARNING"]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL)
    try:
        first_greeting = _wait(
            lambda: _line_count(ledger) > 0, "the first greeting", process, GREETING_TIMEOUT_SECONDS
        )
        _wait(
            lambda: _line_count(ledger) >= rows, "every greeting", process, GREETING_TIMEOUT_SECONDS
        )
        _wait(
            lambda: _open_sessions(project) == rows,
            "every session open in the store",
            process,
            SETTLE_TIMEOUT_SECONDS,
        )
        memory = _memory_mb(process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        _, status, _ = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"the runner exited with {process.returncode} after SIGTERM")
    return {
        "rate": _ledger_rate(ledger, rows),
        "peak_mb": memory["VmHWM"],
        "rss_mb": memory["VmRSS"],
        "first_greeting_seconds": first_greeting - started,
    }


def _wait(
    condition: Callable[[], bool], what: str, process: subprocess.Popen[bytes], timeout: float
) -> float:
    """Poll `condition` every 0.2 s and return the `perf_counter` time at which it held."""
    deadline = time.perf_counter() + timeout
    while not condition():
        if process.poll() is not None:
            raise RuntimeError(f"the runner exited with {process.returncode} before {what}")
        if time.perf_counter() > deadline:
            raise RuntimeError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.2)
    return time.perf_counter()


def _line_count(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def _open_sessions(project: Project) -> int:
    return int(project.status()["open_sessions"])


def _memory_mb(pid: int) -> dict[str, float]:
    """Return VmHWM (peak) and VmRSS (current) of a process, in MB."""
    values: dict[str, float] = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            name, _, rest = line.partition(":")
            if name in ("VmHWM", "VmRSS"):
                values[name] = int(rest.split()[0]) / 1024
    return values


def _ledger_rate(ledger: Path, rows: int) -> float:
    with open(ledger, encoding="utf-8") as lines:
        sent = [datetime.fromisoformat(json.loads(line)["sent_at"]) for line in lines]
    if len(sent) != rows:
        raise RuntimeError(
            f"the ledger has {len(sent)} messages for {rows} rows, expected one each"
        )
    span = (max(sent) - min(sent)).total_seconds()
    return (rows - 1) / span


def _bare_append_rate(path: Path, rows: int) -> float:
    """Append `rows` ledger-like JSON lines, flushing each, and return the lines per second."""
    now = datetime.now(UTC).isoformat()
    started = time.perf_counter()
    with open(path, "a", encoding="utf-8") as ledger:
        for task_id in range(rows):
            record = {
                "sid": "LM" + secrets.token_hex(16),
                "attempt_id": "att_" + secrets.token_hex(12),
                "task_id": task_id,
                "to": "+12025550143",
                "from": "+15005550006",
                "body": GREETING,
                "sent_at": now,
            }
            ledger.write(json.dumps(record, ensure_ascii=False) + "\n")
            ledger.flush()
    return rows / (time.perf_counter() - started)


def _import_peak_mb() -> float:
    process = subprocess.Popen([sys.executable, "-c", "import smskit.runner.core"], cwd=REPO)
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError("python -c 'import smskit.runner.core' failed")
    # ru_maxrss is in kilobytes on Linux.
    return usage.ru_maxrss / 1024
