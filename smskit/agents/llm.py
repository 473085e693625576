"""The LLM agent: greetings, replies and analyses written by a model through litellm.

The model is any litellm model string (`openai/gpt-4o-mini`, `anthropic/...`), from the
attribute `project_attributes_setting_llm_model`; API keys and bases come from litellm's own
environment variables (`OPENAI_API_KEY`, `OPENAI_API_BASE`, ...). The prompts are the templates
in `smskit/agents/prompts/`. The recipient's data, above all their messages, goes to the model
as a JSON document in the user message, and the system prompt instructs the model to treat it
as data and never as instructions.

Every call has a timeout. Rate limits (429), server errors (5xx), timeouts and connection
errors are retried with exponential backoff, honouring `Retry-After`. A response that is not
valid JSON, does not match the expected fields or is longer than the character limit is sent
back to the model with the problem, a bounded number of times, and then raises AgentError.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import string
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any, TypeVar

# Imported with the module, which the runner loads in a worker thread: its first import took
# 2 s on a 2-core machine and would block the event loop inside a call.
import jsonschema
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from smskit.agents.base import (
    Agent,
    AgentProfile,
    AgentReply,
    AgentText,
    Analysis,
    EndReason,
    Recipient,
    Turn,
    Usage,
)
from smskit.agents.fields import schema_properties
from smskit.errors import AgentError, InvalidInputError

logger = logging.getLogger(__name__)

T = TypeVar("T")
Message = dict[str, str]

MODEL_ATTRIBUTE = "project_attributes_setting_llm_model"
CONCURRENCY_ATTRIBUTE = "project_attributes_setting_llm_concurrency"
END_REASONS: tuple[EndReason, ...] = ("goal-reached", "refused", "goodbye", "opted-out")
# Upper bound of one backoff wait, also when a server requests a longer Retry-After.
MAX_BACKOFF_SECONDS = 60.0

_GREETING_SCHEMA = {
    "type": "object",
    "required": ["text"],
    "properties": {"text": {"type": "string", "minLength": 1}},
}
_REPLY_SCHEMA = {
    "type": "object",
    "required": ["text", "end"],
    "properties": {
        "text": {"type": ["string", "null"]},
        "end": {"enum": [None, *END_REASONS]},
    },
}
_ANALYSIS_SCHEMA = {
    "type": "object",
    "required": ["summary", "opted_out", "fields"],
    "properties": {
        "summary": {"type": "string", "minLength": 1},
        "opted_out": {"type": "boolean"},
        "fields": {"type": ["object", "null"]},
    },
}


class InvalidResponse(Exception):
    """A model response that cannot be used; its message is sent back to the model."""


class LlmAgent(Agent):
    """Write and analyse conversations with a litellm model."""

    def __init__(
        self,
        model: str,
        *,
        concurrency: int = 4,
        timeout: float = 30.0,
        repair_attempts: int = 3,
        transport_attempts: int = 4,
        backoff_seconds: float = 1.0,
    ) -> None:
        model = model.strip()
        if not model or model == "offline":
            raise InvalidInputError(
                f"invalid LLM model {model!r}: set {MODEL_ATTRIBUTE} to a litellm model string "
                "such as 'openai/gpt-4o-mini'",
                name=MODEL_ATTRIBUTE,
                value=model,
            )
        if concurrency < 1:
            raise InvalidInputError(
                f"invalid LLM concurrency {concurrency!r}: "
                f"set {CONCURRENCY_ATTRIBUTE} to 1 or more",
                name=CONCURRENCY_ATTRIBUTE,
                value=concurrency,
            )
        if timeout <= 0:
            raise InvalidInputError(f"invalid LLM timeout {timeout!r}: use a number of seconds > 0")
        self.model = model
        self.timeout = timeout
        self.repair_attempts = max(0, repair_attempts)
        self.transport_attempts = max(1, transport_attempts)
        self.backoff_seconds = backoff_seconds
        self._backoff = wait_exponential_jitter(
            multiplier=backoff_seconds, max=MAX_BACKOFF_SECONDS, jitter=backoff_seconds
        )
        self._semaphore = asyncio.Semaphore(concurrency)

    async def greeting(
        self, profile: AgentProfile, recipient: Recipient, *, max_chars: int | None = None
    ) -> AgentText:
        """Write the opening message, at most `max_chars` characters when given."""
        system = _render("greeting", profile, max_chars=max_chars)
        data = _data(recipient, [])

        def validate(output: dict[str, Any]) -> str:
            _check(output, _GREETING_SCHEMA)
            return _check_length(output["text"].strip(), max_chars)

        text, usage = await self._complete(system, data, validate, recipient.task_id)
        return AgentText(text, usage)

    async def reply(
        self,
        profile: AgentProfile,
        recipient: Recipient,
        transcript: list[Turn],
        *,
        max_chars: int | None = None,
    ) -> AgentReply:
        """Reply to the recipient's latest message and detect whether the conversation ended."""
        system = _render("reply", profile, max_chars=max_chars)
        data = _data(recipient, transcript)

        def validate(output: dict[str, Any]) -> AgentReply:
            _check(output, _REPLY_SCHEMA)
            end: EndReason | None = output["end"]
            text = (output["text"] or "").strip() or None
            if end == "opted-out":
                text = None
            if text is None and end is None:
                raise InvalidResponse('"text" is empty while "end" is null; write the next SMS')
            if text is not None:
                text = _check_length(text, max_chars)
            return AgentReply(text, end)

        result, usage = await self._complete(system, data, validate, recipient.task_id)
        result.usage = usage
        return result

    async def analyse(
        self,
        profile: AgentProfile,
        recipient: Recipient,
        transcript: list[Turn],
        schema: dict[str, Any] | None,
    ) -> Analysis:
        """Summarise the conversation and fill the payload-schema fields that it settles."""
        fields_schema = _nullable_schema(schema) if schema else None
        shown_schema = json.dumps(schema or {"type": "object", "properties": {}}, indent=1)
        system = _render("analysis", profile, fields_schema=shown_schema)
        data = _data(recipient, transcript)

        def validate(output: dict[str, Any]) -> Analysis:
            _check(output, _ANALYSIS_SCHEMA)
            fields = _fields(output.get("fields") or {}, fields_schema)
            return Analysis(output["summary"].strip(), bool(output["opted_out"]), fields)

        analysis, usage = await self._complete(system, data, validate, recipient.task_id)
        analysis.usage = usage
        return analysis

    async def _complete(
        self,
        system: str,
        data: dict[str, Any],
        validate: Callable[[dict[str, Any]], T],
        task_id: int | None,
    ) -> tuple[T, Usage]:
        """Request until a response validates, sending each problem back; else raise AgentError."""
        messages: list[Message] = [
            {"role": "system", "content": system},
            {"role": "user", "content": json.dumps(data, ensure_ascii=False, indent=1)},
        ]
        usage = Usage()
        problem = ""
        for attempt in range(1 + self.repair_attempts):
            content = await self._call(messages, usage, task_id)
            try:
                return validate(parse_json_object(content)), usage
            except InvalidResponse as invalid:
                problem = str(invalid)
            logger.info(
                "model %s returned an unusable response for task %s (attempt %d): %s",
                self.model,
                task_id,
                attempt + 1,
                problem,
            )
            messages = [
                *messages,
                {"role": "assistant", "content": content},
                {"role": "user", "content": _template("repair").substitute(problem=problem)},
            ]
        raise AgentError(
            f"model {self.model!r} returned no usable response in "
            f"{1 + self.repair_attempts} attempts; the last problem: {problem}",
            task_id=task_id,
        )

    async def _call(self, messages: list[Message], usage: Usage, task_id: int | None) -> str:
        """Call the model once, retrying transient failures; add its usage and return the text."""
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.transport_attempts),
            wait=self._wait,
            retry=retry_if_exception(_is_transient),
            before_sleep=lambda state: _log_retry(self.model, task_id, state),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    response = await self._request(messages)
        except Exception as exc:
            raise _agent_error(self.model, exc, task_id, self.transport_attempts) from exc
        usage.add(_usage(response))
        return _content(response)

    async def _request(self, messages: list[Message]) -> Any:
        litellm = await _load_litellm()
        async with self._semaphore:
            # litellm's own timeout covers the HTTP call; wait_for also bounds the rest.
            return await asyncio.wait_for(
                litellm.acompletion(
                    model=self.model,
                    messages=messages,
                    timeout=self.timeout,
                    num_retries=0,
                    max_retries=0,
                    response_format={"type": "json_object"},
                    drop_params=True,
                ),
                timeout=self.timeout + 5,
            )

    def _wait(self, state: RetryCallState) -> float:
        exponential = self._backoff(state)
        outcome = state.outcome
        exc = outcome.exception() if outcome is not None else None
        retry_after = _retry_after(exc) if exc is not None else None
        if retry_after is None:
            return exponential
        return min(MAX_BACKOFF_SECONDS, max(retry_after, exponential))


def parse_json_object(text: str) -> dict[str, Any]:
    """Return the JSON object in a model's response: bare, in a code fence, or inside other text."""
    stripped = text.strip()
    candidates = [stripped]
    candidates += [block.strip() for block in _FENCE.findall(text)]
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    decoder = json.JSONDecoder()
    for match in re.finditer(r"\{", text):
        try:
            value, _ = decoder.raw_decode(text, match.start())
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    raise InvalidResponse("it contains no JSON object; respond with one JSON object only")


_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.DOTALL)


async def _load_litellm() -> Any:
    """Return litellm, importing it in a worker thread the first time.

    The first import takes several seconds (2.8 s to 7.5 s measured on a 2-core machine), and
    the event loop must keep responding to webhooks meanwhile.
    """
    if "litellm" in sys.modules:
        return _litellm()
    return await asyncio.to_thread(_litellm)


def _litellm() -> Any:
    """Import litellm on first use, with the bundled cost map instead of a download."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    litellm.suppress_debug_info = True
    return litellm


@cache
def _template(name: str) -> string.Template:
    text = resources.files("smskit.agents").joinpath("prompts", f"{name}.txt").read_text("utf-8")
    return string.Template(text.strip())


def _render(
    name: str, profile: AgentProfile, *, max_chars: int | None = None, fields_schema: str = ""
) -> str:
    length_rule = ""
    if max_chars is not None:
        length_rule = _template("length_rule").substitute(max_chars=max_chars)
    return _template(name).substitute(
        agent_name=profile.name,
        business_context=profile.business_context.strip() or "(none given)",
        tone=profile.tone,
        language=profile.language,
        length_rule=length_rule,
        fields_schema=fields_schema,
        data_rules=_template("data_rules").template,
    )


def _data(recipient: Recipient, transcript: list[Turn]) -> dict[str, Any]:
    """Return the JSON document of the user message; the phone number stays out of it."""
    data: dict[str, Any] = {"reason": recipient.reason, "variables": dict(recipient.variables)}
    if transcript:
        data["transcript"] = [
            {"speaker": turn.speaker, "text": turn.text, "at": _iso(turn.at)} for turn in transcript
        ]
    return data


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _check(output: dict[str, Any], schema: dict[str, Any]) -> None:
    errors = sorted(
        jsonschema.Draft202012Validator(schema).iter_errors(output), key=lambda e: list(e.path)
    )
    if errors:
        raise InvalidResponse("; ".join(_describe_error(error) for error in errors))


def _describe_error(error: Any) -> str:
    path = ".".join(str(part) for part in error.absolute_path)
    return f"{path}: {error.message}" if path else str(error.message)


def _check_length(text: str, max_chars: int | None) -> str:
    if max_chars is not None and len(text) > max_chars:
        raise InvalidResponse(
            f'"text" has {len(text)} characters but at most {max_chars} are allowed; write a '
            "shorter SMS with whole words and complete sentences"
        )
    return text


def _nullable_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Return `schema` with every property also accepting null, keeping shared definitions."""
    properties = schema_properties(schema)
    nullable: dict[str, Any] = {
        "type": "object",
        "properties": {
            name: {"anyOf": [{"type": "null"}, prop]} for name, prop in properties.items()
        },
    }
    for key in ("$schema", "$defs", "definitions"):
        if key in schema:
            nullable[key] = schema[key]
    return nullable


def _fields(values: dict[str, Any], schema: dict[str, Any] | None) -> dict[str, Any]:
    """Return every schema property with its value or None; raise InvalidResponse on a bad value."""
    if schema is None:
        return {}
    names = list(schema["properties"])
    unknown = sorted(set(values) - set(names))
    if unknown:
        logger.debug("dropped fields outside the payload schema: %s", unknown)
    fields = {name: values.get(name) for name in names}

    validator_class = jsonschema.validators.validator_for(schema)
    errors = sorted(validator_class(schema).iter_errors(fields), key=lambda e: list(e.path))
    if errors:
        described = "; ".join(f"fields.{_describe_error(error)}" for error in errors)
        raise InvalidResponse(f"{described}; use a valid value or null")
    return fields


def _content(response: Any) -> str:
    try:
        content = response.choices[0].message.content
    except (AttributeError, IndexError, TypeError):
        return ""
    return content if isinstance(content, str) else ""


def _usage(response: Any) -> Usage:
    tokens = getattr(getattr(response, "usage", None), "total_tokens", None) or 0
    try:
        cost = float(_litellm().completion_cost(completion_response=response) or 0.0)
    except Exception as exc:  # litellm raises several types for a model without a price
        logger.debug("no cost known for the model: %s", exc)
        cost = 0.0
    return Usage(tokens=int(tokens), cost=cost)


def _status_code(exc: BaseException) -> int | None:
    code = getattr(exc, "status_code", None)
    return code if isinstance(code, int) else None


def _is_transient(exc: BaseException) -> bool:
    """Return whether a failed call may succeed when repeated: 408, 429, 5xx, timeouts."""
    if isinstance(exc, TimeoutError):
        return True
    code = _status_code(exc)
    if code is not None:
        return code in (408, 429) or code >= 500
    name = type(exc).__name__
    return name in ("APIConnectionError", "APITimeoutError", "Timeout", "ServiceUnavailableError")


def _retry_after(exc: BaseException) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    value = headers.get("retry-after") if headers is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _log_retry(model: str, task_id: int | None, state: RetryCallState) -> None:
    outcome = state.outcome
    exc = outcome.exception() if outcome is not None else None
    wait = state.next_action.sleep if state.next_action is not None else 0.0
    logger.warning(
        "model %s call for task %s failed (%s), attempt %d; retrying in %.1f s",
        model,
        task_id,
        _short(exc),
        state.attempt_number,
        wait,
    )


def _agent_error(model: str, exc: BaseException, task_id: int | None, attempts: int) -> AgentError:
    code = _status_code(exc)
    if _is_transient(exc):
        return AgentError(
            f"model {model!r} failed {attempts} times ({_short(exc)}); try again later",
            task_id=task_id,
            retryable=True,
        )
    provider = model.split("/", 1)[0].upper() if "/" in model else "OPENAI"
    if code in (401, 403):
        hint = f"check the API key variable, for example {provider}_API_KEY"
    elif code == 404:
        hint = (
            f"check the model name in {MODEL_ATTRIBUTE} and the API base, e.g. {provider}_API_BASE"
        )
    else:
        hint = f"check {MODEL_ATTRIBUTE} and the {provider}_* environment variables"
    return AgentError(f"model {model!r} call failed ({_short(exc)}); {hint}", task_id=task_id)


def _short(exc: BaseException | None) -> str:
    """Describe an exception in one line, with any secret from the environment masked."""
    if exc is None:
        return "no error"
    code = _status_code(exc)
    if code in (401, 403):
        # Provider messages about rejected keys may quote part of the key.
        text = "authentication failed"
    else:
        text = " ".join(str(exc).split())[:300]
    label = type(exc).__name__ + (f" {code}" if code else "")
    return f"{label}: {_mask_secrets(text)}" if text else label


def _mask_secrets(text: str) -> str:
    for name, value in os.environ.items():
        if len(value) >= 8 and name.endswith(("_KEY", "_SECRET", "_TOKEN")) and value in text:
            text = text.replace(value, "***")
    return text
