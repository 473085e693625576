"""Simulated recipients on the local provider, for `--simulate` and the demo.

Each number gets a scripted persona (from a `persona` CSV column, else chosen by the number):
some reply and finish, some ask a question first, some refuse, some opt out, some never answer.
Their replies go through the spool like any inbound SMS.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from smskit.agents.base import Turn
from smskit.providers.base import OutboundSms, SendResult
from smskit.providers.local import LocalProvider, inbound_event
from smskit.runner.personas import Persona, persona_for, persona_named

if TYPE_CHECKING:
    from smskit.runner.core import Runner

logger = logging.getLogger(__name__)


class Simulator:
    """Answers the local provider's messages as each number's persona would."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.transcripts: dict[str, list[Turn]] = {}
        self.personas: dict[str, Persona] = {}
        self._scheduled: dict[str, asyncio.Task[None]] = {}

    def attach(self) -> None:
        """Listen to the local provider's sends; other providers have real recipients."""
        provider = self.runner.provider
        if not isinstance(provider, LocalProvider):
            raise RuntimeError("simulated recipients need the local provider")
        provider.on_sent.append(self._on_sent)

    def resume(self) -> None:
        """Plan the next reply of every conversation resumed after a restart."""
        for conversation in list(self.runner.sessions.by_task.values()):
            if not conversation.is_open or conversation.phone in self._scheduled:
                continue
            transcript = list(conversation.transcript)
            self.transcripts[conversation.phone] = transcript
            persona = self.persona(conversation.phone, conversation.task_id)
            planned = persona.next_reply(transcript, language=self._language())
            if planned is not None:
                self._schedule(conversation.phone, planned.text, planned.delay_seconds)

    def persona(self, phone: str, task_id: int | None) -> Persona:
        """Return the persona of a number, chosen once."""
        if phone not in self.personas:
            conversation = self.runner.sessions.by_task.get(task_id) if task_id else None
            name = conversation.recipient.variables.get("persona") if conversation else None
            self.personas[phone] = persona_named(name, phone) if name else persona_for(phone)
        return self.personas[phone]

    def _on_sent(self, sms: OutboundSms, result: SendResult) -> None:
        transcript = self.transcripts.setdefault(sms.to, [])
        transcript.append(Turn("agent", sms.body, self.runner.clock.now()))
        persona = self.persona(sms.to, sms.task_id)
        planned = persona.next_reply(transcript, language=self._language())
        if planned is None or sms.to in self._scheduled:
            return
        self._schedule(sms.to, planned.text, planned.delay_seconds)

    def _schedule(self, phone: str, text: str, delay: float) -> None:
        task = asyncio.get_running_loop().create_task(self._reply_later(phone, text, delay))
        self._scheduled[phone] = task

    def _language(self) -> str:
        from smskit import attributes as attrs

        return str(self.runner.settings[attrs.AGENT_LANGUAGE])

    async def _reply_later(self, phone: str, text: str, delay: float) -> None:
        try:
            await self.runner.clock.sleep(delay)
            now = self.runner.clock.now()
            self.transcripts[phone].append(Turn("recipient", text, now))
            await asyncio.to_thread(self.runner.spool.append, inbound_event(phone, text, now))
        finally:
            self._scheduled.pop(phone, None)

    def pending(self) -> int:
        """Return how many simulated replies are scheduled."""
        return len(self._scheduled)
