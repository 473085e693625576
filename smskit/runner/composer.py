"""The runner's use of the agent: profile from the settings, opt-out notice, segment limits."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from smskit import attributes as attrs
from smskit.agents.base import Agent, AgentProfile, AgentReply, AgentText, Analysis, Recipient
from smskit.errors import AgentError
from smskit.segments import max_chars, measure

if TYPE_CHECKING:
    from smskit.runner.state import Conversation

logger = logging.getLogger(__name__)

SHORTEN_ATTEMPTS = 4


def create_agent(settings: dict[str, Any]) -> Agent:
    """Return the agent that the model setting names: offline templates or a litellm model."""
    model = settings[attrs.LLM_MODEL]
    if model == "offline":
        from smskit.agents.offline import OfflineAgent

        return OfflineAgent()
    from smskit.agents.llm import LlmAgent

    return LlmAgent(model, concurrency=int(settings[attrs.LLM_CONCURRENCY]))


class Composer:
    """Asks the agent for texts that fit the segment limit, within the LLM concurrency cap."""

    def __init__(self, agent: Agent, settings: dict[str, Any]) -> None:
        self.agent = agent
        self.settings = settings
        self._calls = asyncio.Semaphore(int(settings[attrs.LLM_CONCURRENCY]))

    @property
    def profile(self) -> AgentProfile:
        settings = self.settings
        return AgentProfile(
            name=settings[attrs.AGENT_NAME],
            business_context=settings[attrs.BUSINESS_CONTEXT],
            tone=settings[attrs.AGENT_TONE],
            language=settings[attrs.AGENT_LANGUAGE],
        )

    async def greeting(self, recipient: Recipient) -> AgentText:
        """Write the greeting with the opt-out notice appended, within the maximum segments."""
        notice = self.settings[attrs.OPT_OUT_NOTICE]
        suffix = f" {notice}" if notice else ""
        limit: int | None = None
        for _ in range(SHORTEN_ATTEMPTS):
            async with self._calls:
                text = await self.agent.greeting(self.profile, recipient, max_chars=limit)
            full = text.text.strip() + suffix
            if self._fits(full):
                return AgentText(full, text.usage)
            limit = self._shorter_limit(full, len(suffix), limit)
        raise AgentError(
            f"the greeting does not fit {self.settings[attrs.MAX_SEGMENTS]} SMS segments even "
            "when shortened; raise project_attributes_setting_max_segments or shorten the "
            "opt-out notice",
            task_id=recipient.task_id,
        )

    async def reply(self, conversation: Conversation) -> AgentReply:
        """Answer the recipient's latest message within the maximum segments."""
        limit: int | None = None
        for _ in range(SHORTEN_ATTEMPTS):
            async with self._calls:
                answer = await self.agent.reply(
                    self.profile, conversation.recipient, conversation.transcript, max_chars=limit
                )
            if answer.text is None or self._fits(answer.text):
                return answer
            limit = self._shorter_limit(answer.text, 0, limit)
        raise AgentError(
            "the reply does not fit the maximum segments even when shortened",
            task_id=conversation.task_id,
        )

    async def analyse(self, conversation: Conversation) -> Analysis:
        """Summarise the conversation and extract the payload-schema fields."""
        async with self._calls:
            return await self.agent.analyse(
                self.profile,
                conversation.recipient,
                conversation.transcript,
                self.settings[attrs.PAYLOAD_SCHEMA],
            )

    def _fits(self, text: str) -> bool:
        return measure(text).segments <= int(self.settings[attrs.MAX_SEGMENTS])

    def _shorter_limit(self, text: str, reserved: int, previous: int | None) -> int:
        size = measure(text)
        limit = max_chars(int(self.settings[attrs.MAX_SEGMENTS]), size.encoding) - reserved
        if previous is not None:
            limit = min(limit, previous - 10)
        return max(limit, 20)
