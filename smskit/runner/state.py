"""In-memory state of the runner: claimed tasks and open conversations."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from smskit.agents.base import EndReason, Recipient, Turn, Usage


@dataclass
class ClaimedTask:
    """A queued or waiting task that the dispatcher will greet."""

    task_id: int
    batch_id: int
    phone: str
    recipient: Recipient
    not_before: datetime | None = None
    wait_reason: str | None = None


@dataclass
class Conversation:
    """One task from its greeting to its result: transcript, session times, end state."""

    task_id: int
    batch_id: int
    phone: str
    recipient: Recipient
    started_at: datetime | None = None
    ends_at: datetime | None = None
    transcript: list[Turn] = field(default_factory=list)
    replies: int = 0
    sent: int = 0
    greeting_message_id: int | None = None
    greeting_failure: dict[str, Any] | None = None
    opted_out: bool = False
    end_reason: EndReason | None = None
    closing: bool = False
    unanswered: list[str] = field(default_factory=list)
    reply_task: asyncio.Task[None] | None = None
    usage: Usage = field(default_factory=Usage)

    @property
    def is_open(self) -> bool:
        return self.started_at is not None and not self.closing
