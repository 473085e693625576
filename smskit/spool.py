"""Append-only spool of inbound messages and status callbacks.

Whoever receives an event (the runner's HTTP routes, `smskit reply`, simulated recipients)
appends it here and flushes it to disk before answering, so an event is never lost while the
database is busy. The runner applies the events to the store afterwards and stores the offset
it has applied up to in the same transaction, so each event is applied exactly once.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

import filelock

from smskit.datafolder import DataFolder
from smskit.providers.base import SpoolEvent

logger = logging.getLogger(__name__)


class Spool:
    """The spool file of one data folder."""

    def __init__(self, folder: DataFolder, *, fsync: bool = True) -> None:
        self.path: Path = folder.spool
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = filelock.FileLock(str(folder.spool_lock))
        self._fsync = fsync
        self.reached_end = True

    def append(self, *events: SpoolEvent) -> None:
        """Append events and flush them to disk before returning."""
        if not events:
            return
        data = "".join(encode_event(event) + "\n" for event in events).encode()
        with self._lock:
            with open(self.path, "a+b") as spool_file:
                # A writer killed mid-append leaves a fragment: start on a fresh line after it.
                if spool_file.tell() > 0:
                    spool_file.seek(-1, os.SEEK_END)
                    if spool_file.read(1) != b"\n":
                        data = b"\n" + data
                spool_file.write(data)
                spool_file.flush()
                if self._fsync:
                    os.fsync(spool_file.fileno())

    def read_from(self, offset: int, max_bytes: int = 4 << 20) -> tuple[list[SpoolEvent], int]:
        """Read complete events after byte `offset`; return them and the offset after them.

        `reached_end` tells afterwards whether everything complete was read. A line that is not
        a valid event (a fragment left by a killed writer) is logged and skipped.
        """
        try:
            with open(self.path, "rb") as spool_file:
                spool_file.seek(offset)
                chunk = spool_file.read(max_bytes)
        except FileNotFoundError:
            self.reached_end = True
            return [], offset
        self.reached_end = len(chunk) < max_bytes
        end = chunk.rfind(b"\n")
        if end < 0:
            return [], offset
        events = []
        for line in chunk[:end].split(b"\n"):
            if not line.strip():
                continue
            try:
                events.append(decode_event(line))
            except (ValueError, TypeError, KeyError) as error:
                logger.error("spool line skipped, not a valid event (%s): %r", error, line[:200])
        return events, offset + end + 1

    def size(self) -> int:
        """Return the spool's size in bytes."""
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0


def encode_event(event: SpoolEvent) -> str:
    """Encode an event as one JSON line."""
    record = asdict(event)
    record["at"] = event.at.isoformat()
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def decode_event(line: bytes) -> SpoolEvent:
    """Decode one JSON line written by `encode_event`."""
    record = json.loads(line)
    record["at"] = datetime.fromisoformat(record["at"])
    return SpoolEvent(**record)
