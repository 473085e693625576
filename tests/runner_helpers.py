"""Helpers for end-to-end runner tests: settings, an in-process runner, polling, the ledger.

The runner runs in the test's event loop through `smskit.runner.main.serve`, with a scaled
clock and the local provider. The test reads the store through a `Project` in worker threads,
so the runner's loops keep running while the test waits.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import polars as pl

# The runner imports these when it starts. Importing them here keeps that second or so out of
# the first runner's scaled project time.
import smskit.agents.offline
import smskit.providers.local
import smskit.runner.core
import smskit.runner.export
import smskit.runner.webhooks  # noqa: F401
from smskit.clock import Clock, utc
from smskit.project import Project
from smskit.runner.main import serve

# 09:00 in New York and 14:00 in London: outside the default quiet hours for both.
START = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)

T = TypeVar("T")


def configure(project: Project, settings: Mapping[str, object]) -> None:
    """Set every attribute in `settings` (full attribute names) on the project."""
    for name, value in settings.items():
        project.set(name, value)


def batch_csv(
    rows: Iterable[Iterable[str]], header: Iterable[str] = ("phone_number", "reason")
) -> str:
    """Return a CSV batch body with `header` and one line per row; cells must not need quotes."""
    lines = [",".join(header)]
    lines += [",".join(row) for row in rows]
    return "\n".join(lines) + "\n"


@dataclass
class RunningRunner:
    """A runner serving one data folder inside the test's event loop."""

    project: Project
    clock: Clock
    task: asyncio.Task[int]
    started: float = field(default_factory=time.monotonic)

    async def finished(self, timeout: float) -> int:
        """Wait for the runner to stop by itself (until idle) and return its exit code."""
        try:
            return await asyncio.wait_for(asyncio.shield(self.task), timeout)
        except TimeoutError:
            await self.cancel()
            raise AssertionError(
                f"the runner did not become idle within {timeout} s "
                f"(project time {self.clock.now().isoformat()})"
            ) from None

    async def cancel(self) -> None:
        """Cancel a runner that is still running (clean-up after a failed check)."""
        if self.task.done():
            return
        self.task.cancel()
        try:
            await asyncio.wait_for(self.task, 10)
        except (asyncio.CancelledError, TimeoutError):
            pass


async def start_runner(
    project: Project, *, time_scale: float, start: datetime = START, until_idle: bool = True
) -> RunningRunner:
    """Start the runner on the project's folder with a scaled clock from `start`."""
    clock = Clock(time_scale, start)
    task = asyncio.get_running_loop().create_task(
        serve(project.folder, clock, port=None, until_idle=until_idle)
    )
    return RunningRunner(project, clock, task)


async def run_until_idle(
    project: Project, *, time_scale: float, start: datetime = START, timeout: float = 60
) -> int:
    """Run the runner until every task is done and return its exit code."""
    runner = await start_runner(project, time_scale=time_scale, start=start)
    return await runner.finished(timeout)


async def poll(
    check: Callable[[], T | None], *, timeout: float, what: str, interval: float = 0.1
) -> T:
    """Call `check` in a worker thread until it returns a truthy value, and return that value.

    Raises AssertionError naming `what` when `timeout` real seconds pass first.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = await asyncio.to_thread(check)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(interval)


def task_of(project: Project, phone: str, batch: str | int | None = None) -> dict[str, Any]:
    """Return the one task row of `phone` (in `batch`, when given)."""
    rows = project.tasks(batch).filter(pl.col("phone_number") == phone).to_dicts()
    assert len(rows) == 1, f"expected one task for {phone}, found {len(rows)}"
    return rows[0]


def messages_to(project: Project, phone: str, kind: str | None = None) -> list[dict[str, Any]]:
    """Return the messages of `phone` (of one kind, when given) in the order they were written."""
    frame = project.messages(phone=phone)
    if kind is not None:
        frame = frame.filter(pl.col("kind") == kind)
    return frame.to_dicts()


def suppressed_numbers(project: Project) -> set[str]:
    """Return the numbers on the suppression list."""
    return set(project.suppressions()["phone_number"].to_list())


def ledger(project: Project) -> list[dict[str, Any]]:
    """Return the local provider's ledger: every message it sent, in order."""
    path = project.folder.local_ledger
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def at(value: datetime | None) -> datetime:
    """Return a stored naive UTC time as an aware one; fail on a missing time."""
    assert value is not None, "expected a stored time, found NULL"
    return utc(value)
