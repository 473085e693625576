"""The agent interface: greeting, replies, end detection and analysis of one conversation.

The offline agent (`smskit.agents.offline`) and the LLM agent (`smskit.agents.llm`) implement
it. The runner appends the opt-out notice and enforces segment limits; the agent receives a
character limit and must keep whole words.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Speaker = Literal["agent", "recipient"]
# Reason a conversation ended before its session expired.
EndReason = Literal["goal-reached", "refused", "goodbye", "opted-out"]


@dataclass(frozen=True)
class AgentProfile:
    """The configured persona of the agent, from the project's attributes."""

    name: str = "Alex"
    business_context: str = ""
    tone: str = "friendly"
    language: str = "en"


@dataclass(frozen=True)
class Recipient:
    """One task's recipient: the CSV row's phone number, reason and other columns."""

    task_id: int
    phone_number: str
    reason: str
    variables: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Turn:
    """One message of the conversation."""

    speaker: Speaker
    text: str
    at: datetime


@dataclass
class Usage:
    """Tokens and cost spent by model calls; zero for the offline agent."""

    tokens: int = 0
    cost: float = 0.0

    def add(self, other: Usage) -> None:
        self.tokens += other.tokens
        self.cost += other.cost


@dataclass
class AgentText:
    """A text written by the agent."""

    text: str
    usage: Usage = field(default_factory=Usage)


@dataclass
class AgentReply:
    """The agent's answer to the recipient's latest message.

    `text` is None when nothing should be sent (for example after a goodbye); `end` is set
    when the conversation has ended naturally.
    """

    text: str | None
    end: EndReason | None = None
    usage: Usage = field(default_factory=Usage)


@dataclass
class Analysis:
    """The closing analysis of a conversation."""

    summary: str
    opted_out: bool = False
    fields: dict[str, Any] = field(default_factory=dict)
    usage: Usage = field(default_factory=Usage)


class Agent(abc.ABC):
    """Writes the messages of a conversation and analyses it when it closes."""

    @abc.abstractmethod
    async def greeting(
        self, profile: AgentProfile, recipient: Recipient, *, max_chars: int | None = None
    ) -> AgentText:
        """Write the opening message, at most `max_chars` characters when given."""

    @abc.abstractmethod
    async def reply(
        self,
        profile: AgentProfile,
        recipient: Recipient,
        transcript: list[Turn],
        *,
        max_chars: int | None = None,
    ) -> AgentReply:
        """Answer the recipient's latest message (the last turn) on the reason's goal."""

    @abc.abstractmethod
    async def analyse(
        self,
        profile: AgentProfile,
        recipient: Recipient,
        transcript: list[Turn],
        schema: dict[str, Any] | None,
    ) -> Analysis:
        """Summarise the conversation and fill the payload-schema fields it settles.

        Fields that the conversation does not settle are None.
        """

    async def aclose(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release connections."""
