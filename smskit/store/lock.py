"""Cross-process lock around every database transaction, with the holder recorded."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import filelock

from smskit.errors import StoreBusyError


class StoreLock:
    """Exclusive lock on the database file, shared by every process of one data folder.

    The holder writes its pid, program and start time to an owner file, so a process that
    waits too long can say who holds the lock and for how long.
    """

    def __init__(self, lock_path: Path, owner_path: Path, program: str | None = None) -> None:
        self._lock = filelock.FileLock(str(lock_path))
        self._owner_path = owner_path
        self._program = program or Path(sys.argv[0]).name or "python"
        self.waits = 0
        self.wait_seconds = 0.0

    @contextmanager
    def hold(self, timeout: float) -> Iterator[None]:
        """Hold the lock for the body of the `with` block, waiting at most `timeout` seconds."""
        started = time.monotonic()
        try:
            self._lock.acquire(timeout=timeout, poll_interval=0.005)
        except filelock.Timeout:
            raise self._busy_error(timeout) from None
        waited = time.monotonic() - started
        if waited > 0.01:
            self.waits += 1
            self.wait_seconds += waited
        try:
            self._write_owner()
            yield
        finally:
            self._owner_path.write_text("")
            self._lock.release()

    def _write_owner(self) -> None:
        owner = {"pid": os.getpid(), "program": self._program, "since": time.time()}
        self._owner_path.write_text(json.dumps(owner))

    def _busy_error(self, timeout: float) -> StoreBusyError:
        holder = "another process"
        held = None
        try:
            owner = json.loads(self._owner_path.read_text())
            holder = f"pid {owner['pid']} ({owner['program']})"
            held = time.time() - float(owner["since"])
        except (OSError, ValueError, KeyError):
            pass
        held_text = f" for {held:.0f} s" if held is not None else ""
        return StoreBusyError(
            f"the database is locked by {holder}{held_text}; waited {timeout:.0f} s. "
            "Let that process finish its work (a notebook cell or a command), then try again.",
            holder=holder,
            held_seconds=held,
        )
