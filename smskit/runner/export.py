"""Results export: the results attributes refreshed at most once a second."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from smskit.errors import StoreBusyError
from smskit.results import ResultsExporter

if TYPE_CHECKING:
    from smskit.runner.core import Runner
    from smskit.runner.webhooks import Deliverer

logger = logging.getLogger(__name__)


async def run_exports(runner: Runner, deliverer: Deliverer) -> None:
    """Refresh the results attributes when results changed, and copy webhook counters."""
    exporter = ResultsExporter()
    while not runner.stop.is_set():
        if runner.export_needed:
            runner.export_needed = False
            try:
                await asyncio.to_thread(_refresh, runner, exporter)
            except StoreBusyError as error:
                runner.export_needed = True
                logger.warning("results export postponed: %s", error)
        runner.metrics.webhook_attempts.set(deliverer.attempts)
        runner.metrics.webhook_failures.set(deliverer.failures)
        runner.metrics.webhooks_given_up.set(deliverer.given_up)
        try:
            await asyncio.wait_for(runner.stop.wait(), timeout=exporter.min_interval_seconds)
        except TimeoutError:
            pass
    if runner.export_needed:
        await asyncio.to_thread(_refresh, runner, exporter)


def _refresh(runner: Runner, exporter: ResultsExporter) -> None:
    exporter.refresh_store(runner.store)
