"""Preview the greetings a batch would send, with their segments and cost, before sending it.

The greetings come from the configured agent through the runner's `Composer`, so they are
the texts the runner would send now: the same profile, the same opt-out notice and the same
segment limit. With an LLM model configured, previewing calls the model.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

import polars as pl

from smskit.agents.base import Recipient
from smskit.errors import InvalidInputError
from smskit.segments import estimate_cost, measure

if TYPE_CHECKING:
    from smskit.project import Project

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Tasks that have not been sent yet: a paused batch's tasks, and those held by quiet hours or
# rate limits.
_UNSENT_STATES = ("queued", "waiting", "paused")
PREVIEW_SCHEMA = {
    "row": pl.Int64,
    "phone_number": pl.String,
    "greeting": pl.String,
    "segments": pl.Int64,
    "encoding": pl.String,
    "cost": pl.Float64,
}


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion, also from a thread that already runs an event loop.

    Jupyter kernels run an event loop in the main thread, where `asyncio.run` raises, so the
    coroutine then runs on a fresh loop in a worker thread.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _sample(project: Project, batch: str | int, n: int) -> list[dict[str, Any]]:
    tasks = project.tasks(batch)
    unsent = tasks.filter(
        (pl.col("verdict") == "valid") & pl.col("state").is_in(list(_UNSENT_STATES))
    )
    if unsent.is_empty():
        raise InvalidInputError(
            f"batch {batch!r} has no valid rows waiting to be sent, so there is nothing to "
            "preview; add the batch with --paused to preview it before sending",
            value=batch,
        )
    return unsent.sort("row").head(n).to_dicts()


async def _greetings(settings: dict[str, Any], tasks: list[dict[str, Any]]) -> list[str]:
    from smskit.runner.composer import Composer, create_agent

    agent = create_agent(settings)
    composer = Composer(agent, settings)
    try:
        texts = []
        for task in tasks:
            recipient = Recipient(
                task["task_id"],
                task["phone_number"],
                task["reason"] or "",
                json.loads(task["variables"] or "{}"),
            )
            texts.append((await composer.greeting(recipient)).text)
        return texts
    finally:
        await agent.aclose()


def preview_batch(project: Project, batch: str | int, n: int = 5) -> pl.DataFrame:
    """Write the greetings of the first `n` unsent valid rows of a batch, as the runner would.

    Returns one row per greeting: the CSV row number, the E.164 phone number, the greeting
    with the opt-out notice appended, its SMS segments and encoding, and an estimated cost in
    USD at `smskit.segments.estimate_cost`'s example price. Raises InvalidInputError for an
    unknown batch, an `n` below 1, or a batch with no valid row left to send, and AgentError
    when a greeting cannot be written.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InvalidInputError(
            f"invalid number of sample rows {n!r}: use an integer of 1 or more", value=n
        )
    tasks = _sample(project, batch, n)
    greetings = _run(_greetings(project.settings(), tasks))
    rows = []
    for task, greeting in zip(tasks, greetings, strict=True):
        size = measure(greeting)
        rows.append(
            {
                "row": task["row"],
                "phone_number": task["phone_number"],
                "greeting": greeting,
                "segments": size.segments,
                "encoding": size.encoding,
                "cost": estimate_cost(size.segments),
            }
        )
    logger.info("previewed %d greetings of batch %r", len(rows), batch)
    return pl.DataFrame(rows, schema=PREVIEW_SCHEMA)
