"""Send rate: the greetings per second that the runner achieves against the configured limit.

For each configured limit (1, 10 and 100 greetings per second), a fresh data folder gets one
batch, and the runner serves it in this process until idle. It uses the local provider, the
offline agent, no quiet hours, a 3-second session and a time scale of 1, so project seconds
are real seconds. The achieved rate is (greetings - 1) divided by the time from the first
greeting's `sent_at` to the last one's. Each batch is sized to send for about 4 seconds (2
with `--quick`), with at least 8 greetings, which take 7 seconds at 1 per second. The figure
is achieved / configured, and the goal is 0.95 to 1.00: the runner keeps up with the limit and
never exceeds it. The baseline column shows the achieved rate and the shortest gap between
two greetings.
"""

from __future__ import annotations

import asyncio
import itertools
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

import smskit
from benchmarks.harness import Figure
from smskit import attributes as attrs
from smskit.clock import Clock
from smskit.runner.main import serve

GOAL = "0.95 to 1.00"
GOAL_RANGE = (0.95, 1.00)
START = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
SECONDS = 4.0
QUICK_SECONDS = 2.0
# Fewer greetings would measure too few gaps at 1 per second.
MIN_GREETINGS = 8
SESSION_MINUTES = 0.05


def run(quick: bool) -> list[Figure]:
    """Measure the achieved greeting rate at configured limits of 1, 10 and 100 per second."""
    seconds = QUICK_SECONDS if quick else SECONDS
    figures = []
    for rate in (1, 10, 100):
        greetings = max(MIN_GREETINGS, int(rate * seconds) + 1)
        achieved, min_gap = asyncio.run(_measure(rate, greetings))
        ratio = achieved / rate
        low, high = GOAL_RANGE
        figures.append(
            Figure(
                f"send rate {rate}/s, {greetings} greetings: achieved / configured",
                ratio,
                "x",
                goal=GOAL,
                baseline=f"{achieved:.3g}/s, shortest gap {min_gap * 1000:.0f} ms",
                # a first greeting sent a few milliseconds late shortens the measured span
                passed=low <= round(ratio, 2) <= high,
            )
        )
    return figures


async def _measure(rate: float, greetings: int) -> tuple[float, float]:
    """Run one batch at `rate` and return the achieved rate and the shortest gap in seconds."""
    with tempfile.TemporaryDirectory(prefix="smskit-bench-rate-") as folder:
        project = smskit.open(Path(folder) / "data")
        project.set(attrs.SEND_RATE, rate)
        project.set(attrs.QUIET_HOURS, "")
        project.set(attrs.SESSION_DURATION, SESSION_MINUTES)
        rows = "".join(
            f"+1202555{index:04d},Confirm your appointment on Tuesday\n"
            for index in range(greetings)
        )
        project.add_batch(f"rate {rate}", "phone_number,reason\n" + rows)
        code = await serve(project.folder, Clock(1.0, START), port=None, until_idle=True)
        if code != 0:
            raise RuntimeError(f"the runner exited with code {code} at rate {rate}/s")
        sent = (
            project.messages()
            .filter(pl.col("kind") == "greeting")
            .get_column("sent_at")
            .drop_nulls()
            .sort()
            .to_list()
        )
    if len(sent) != greetings:
        raise RuntimeError(f"{len(sent)} of {greetings} greetings were sent at rate {rate}/s")
    gaps = [(after - before).total_seconds() for before, after in itertools.pairwise(sent)]
    return (len(sent) - 1) / (sent[-1] - sent[0]).total_seconds(), min(gaps)
