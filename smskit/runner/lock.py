"""The runner lock: one runner per data folder."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from smskit.errors import RunnerLockedError


class RunnerLock:
    """An exclusive `flock` on the folder's runner.lock, holding the runner's pid.

    The kernel releases the lock when the process dies, so a stale lock from a dead runner is
    taken over without any clean-up.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        """Take the lock or raise RunnerLockedError naming the other runner's pid."""
        lock_file = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held while running
        try:
            fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock_file.seek(0)
            pid_text = lock_file.read().strip()
            lock_file.close()
            pid = int(pid_text) if pid_text.isdigit() else None
            raise RunnerLockedError(
                f"another runner (pid {pid_text or 'unknown'}) is already serving "
                f"{self.path.parent}; stop it first (Ctrl-C or kill {pid_text or 'PID'})",
                pid=pid,
            ) from None
        lock_file.seek(0)
        lock_file.truncate()
        lock_file.write(str(os.getpid()))
        lock_file.flush()
        self._file = lock_file

    def release(self) -> None:
        """Release the lock."""
        if self._file is not None:
            self._file.seek(0)
            self._file.truncate()
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None
