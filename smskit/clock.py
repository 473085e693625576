"""One injectable clock for sessions, quiet hours, backoff and rate limits.

Times are timezone-aware UTC datetimes. A `time_scale` of 60 makes one project minute pass in
one real second; `start` sets the project time at which the clock starts.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta


class Clock:
    """Project clock: real time, or scaled time from a chosen start."""

    def __init__(self, time_scale: float = 1.0, start: datetime | None = None) -> None:
        if time_scale <= 0:
            raise ValueError(f"time scale must be > 0, got {time_scale!r}")
        self.time_scale = time_scale
        self._real_start = time.time()
        self._monotonic_start = time.monotonic()
        self.start = (start or datetime.now(UTC)).astimezone(UTC)

    def now(self) -> datetime:
        """Return the current project time (aware, UTC)."""
        elapsed = (time.monotonic() - self._monotonic_start) * self.time_scale
        return self.start + timedelta(seconds=elapsed)

    def real_seconds(self, project_seconds: float) -> float:
        """Convert a project duration to the real seconds it takes."""
        return max(0.0, project_seconds) / self.time_scale

    def project_seconds(self, real_seconds: float) -> float:
        """Convert a real duration to project seconds."""
        return real_seconds * self.time_scale

    async def sleep(self, project_seconds: float) -> None:
        """Sleep for a project duration."""
        await asyncio.sleep(self.real_seconds(project_seconds))

    async def sleep_until(self, when: datetime) -> None:
        """Sleep until a project time."""
        await self.sleep((when - self.now()).total_seconds())

    def describe(self) -> dict[str, str | float]:
        """Return the parameters that let another process compute the same project time."""
        return {
            "time_scale": self.time_scale,
            "project_start": self.start.isoformat(),
            "real_start": self._real_start,
        }

    @classmethod
    def from_description(cls, description: dict[str, str | float]) -> Clock:
        """Rebuild a clock that another process described with `describe`."""
        scale = float(description["time_scale"])
        start = datetime.fromisoformat(str(description["project_start"]))
        real_elapsed = time.time() - float(description["real_start"])
        return cls(scale, start + timedelta(seconds=real_elapsed * scale))


def utc(dt: datetime) -> datetime:
    """Return `dt` as an aware UTC datetime; naive values are taken as UTC."""
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def naive_utc(dt: datetime) -> datetime:
    """Return `dt` as a naive UTC datetime, the form stored in DuckDB TIMESTAMP columns."""
    return utc(dt).replace(tzinfo=None)


def iso(dt: datetime | None) -> str | None:
    """Format a time as ISO 8601 UTC with a trailing Z, seconds precision."""
    if dt is None:
        return None
    return utc(dt).replace(microsecond=0).isoformat().replace("+00:00", "Z")
