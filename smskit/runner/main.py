"""`python runner.py`: the runner's command line, logging and lifecycle."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import socket
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from smskit.clock import Clock, utc
from smskit.datafolder import DataFolder, resolve_data_folder
from smskit.errors import InvalidInputError, SmskitError, StoreBusyError
from smskit.runner.lock import RunnerLock

if TYPE_CHECKING:
    from smskit.runner.core import Runner
    from smskit.runner.http import EmbeddedServer

logger = logging.getLogger("smskit.runner")

DEFAULT_PORT = 8787
SHUTDOWN_GRACE_SECONDS = 5.0
MISSED_INBOUND_ATTEMPTS = 6


def build_parser() -> argparse.ArgumentParser:
    """Build the runner's argument parser."""
    parser = argparse.ArgumentParser(
        prog="python runner.py",
        description="Send the greetings, hold the conversations, record and post the results.",
    )
    parser.add_argument(
        "--data",
        metavar="DIR",
        help="project data folder (default: $SMSKIT_DATA, else the nearest data/ folder)",
    )
    parser.add_argument(
        "--port",
        type=_port,
        default=DEFAULT_PORT,
        help=f"HTTP port for /healthz, /metrics and provider callbacks "
        f"(default {DEFAULT_PORT}; 0 picks a free port; -1 turns it off)",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address the HTTP server binds to (default 127.0.0.1)"
    )
    parser.add_argument(
        "--until-idle",
        action="store_true",
        help="exit once every task is done and the webhook outbox is empty",
    )
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        metavar="N",
        help="run project time N times faster than real time (default 1)",
    )
    parser.add_argument(
        "--clock-start",
        metavar="TIME",
        type=_parse_time,
        help="project time at start, ISO 8601 (e.g. 2026-03-02T14:00:00Z)",
    )
    parser.add_argument(
        "--simulate", action="store_true", help="simulated recipients answer on the local provider"
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="run the demo: a fresh data/demo folder, the example batch, "
        "simulated recipients and a local webhook receiver",
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        help="log level",
    )
    return parser


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -2
    if not -1 <= port <= 65535:
        raise argparse.ArgumentTypeError(
            f"invalid port {text!r}; use 1-65535, 0 for a free port, or -1 for no server"
        )
    return port


def _parse_time(text: str) -> datetime:
    try:
        return utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid time {text!r}; use ISO 8601 such as 2026-03-02T14:00:00Z"
        ) from None


def configure_logging(level: str, folder: DataFolder | None) -> None:
    """Log to stderr and, when a folder is given, to its logs/runner.log."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if folder is not None:
        folder.logs.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(folder.logs / "runner.log", encoding="utf-8"))
    logging.basicConfig(
        level=level,
        handlers=handlers,
        force=True,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("httpx", "httpcore", "LiteLLM", "litellm", "uvicorn.error"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the runner (or the demo) and return the exit code."""
    args = build_parser().parse_args(argv)
    if args.time_scale <= 0:
        print(f"runner: --time-scale must be > 0, got {args.time_scale}", file=sys.stderr)
        return 2
    try:
        if args.demo:
            from smskit.runner.demo import run_demo

            return run_demo(args)
        folder = resolve_data_folder(args.data)
        configure_logging(args.log_level, folder)
        clock = Clock(args.time_scale, args.clock_start)
        return asyncio.run(
            serve(
                folder,
                clock,
                port=None if args.port < 0 else args.port,
                host=args.host,
                until_idle=args.until_idle,
                simulate=args.simulate,
            )
        )
    except StoreBusyError as error:
        print(f"runner: {error}", file=sys.stderr)
        return 3
    except SmskitError as error:
        print(f"runner: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


async def serve(
    folder: DataFolder,
    clock: Clock,
    *,
    port: int | None,
    host: str = "127.0.0.1",
    until_idle: bool = False,
    simulate: bool = False,
    on_port: object = None,
) -> int:
    """Hold the runner lock and run every loop until stopped; return the exit code."""
    lock = RunnerLock(folder.runner_lock)
    lock.acquire()
    try:
        return await _serve_locked(folder, clock, port, host, until_idle, simulate)
    finally:
        lock.release()


async def _serve_locked(
    folder: DataFolder,
    clock: Clock,
    port: int | None,
    host: str,
    until_idle: bool,
    simulate: bool,
) -> int:
    from smskit.runner.core import Runner
    from smskit.runner.export import run_exports
    from smskit.runner.http import create_server
    from smskit.runner.webhooks import Deliverer

    listen_socket = _bind(host, port) if port is not None else None
    runner = Runner(folder, clock, until_idle=until_idle)
    runner.prepare()
    logger.info(
        "runner started: data %s, provider %s, pid %d, time scale %g",
        folder.path,
        runner.provider.code,
        __import__("os").getpid(),
        clock.time_scale,
    )
    shutdown = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, shutdown.set)
    simulator = None
    if simulate:
        from smskit.runner.simulate import Simulator

        simulator = Simulator(runner)
        simulator.attach()
    await runner.recover()
    if simulator is not None:
        simulator.resume()
    deliverer = Deliverer(runner.store, clock)
    runner.deliverer = deliverer
    loops = [
        asyncio.create_task(runner.run_ticks(), name="ticks"),
        asyncio.create_task(runner.dispatcher.run(runner.stop), name="dispatch"),
        asyncio.create_task(runner.sessions.run_expiry(runner.stop), name="sessions"),
        asyncio.create_task(run_exports(runner, deliverer), name="export"),
        asyncio.create_task(deliverer.run(runner.stop), name="webhooks"),
    ]
    # Not a loop: it ends when the fetch is done, which must not stop the runner.
    catch_up = asyncio.create_task(_fetch_missed_inbound(runner), name="missed inbound")
    server = None
    if port is not None and listen_socket is not None:
        server = create_server(runner, host, port)
        loops.append(asyncio.create_task(server.serve(sockets=[listen_socket]), name="http"))
        await _log_address(server)
    stopper = asyncio.create_task(shutdown.wait())
    await asyncio.wait(
        [stopper, asyncio.create_task(runner.stop.wait()), *loops],
        return_when=asyncio.FIRST_COMPLETED,
    )
    failed = [task for task in loops if task.done() and task.exception() is not None]
    catch_up.cancel()
    await _shut_down(runner, server, loops)
    for task in failed:
        logger.error("%s loop failed", task.get_name(), exc_info=task.exception())
    if failed:
        return 1
    logger.info("runner stopped")
    return 0


def _bind(host: str, port: int) -> socket.socket:
    """Bind the HTTP port before anything starts, so a busy port is one clear error."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as error:
        listener.close()
        raise InvalidInputError(
            f"cannot listen on {host}:{port} ({error.strerror}); another program (perhaps a "
            "runner of another data folder) uses it: pass --port 0 for a free port, or --port -1"
        ) from None
    listener.listen(128)
    return listener


async def _log_address(server: EmbeddedServer) -> None:
    for _ in range(200):
        if server.started:
            sockets = [sock for listener in server.servers for sock in listener.sockets]
            if sockets:
                host, port = sockets[0].getsockname()[:2]
                logger.info("HTTP server on http://%s:%d (/healthz, /metrics)", host, port)
            return
        await asyncio.sleep(0.01)


async def _fetch_missed_inbound(runner: Runner) -> None:
    """Fetch inbound messages that reached the provider while no runner ran, retrying.

    Sessions do not expire until this is done, so a reply sent while the runner was down still
    counts. After the last attempt fails the runner goes on and says so in the log.
    """
    since = await asyncio.to_thread(_last_inbound, runner)
    for attempt in range(1, MISSED_INBOUND_ATTEMPTS + 1):
        try:
            events = await runner.provider.fetch_inbound(since)
        except SmskitError as error:
            delay = 5.0 * 2 ** (attempt - 1)
            logger.warning(
                "could not fetch inbound messages received while stopped (attempt %d of %d): "
                "%s; trying again in %.0f s",
                attempt,
                MISSED_INBOUND_ATTEMPTS,
                error,
                delay,
            )
            if attempt < MISSED_INBOUND_ATTEMPTS:
                await runner.clock.sleep(delay)
            continue
        if events:
            await asyncio.to_thread(runner.spool.append, *events)
            logger.info("fetched %d inbound messages received while stopped", len(events))
        runner.inbound_caught_up = True
        return
    logger.error(
        "gave up fetching inbound messages received while stopped; replies sent then may be "
        "missing: check the provider's message log"
    )
    runner.inbound_caught_up = True


def _last_inbound(runner: Runner) -> datetime | None:
    from smskit.store import query_value

    with runner.store.transaction() as conn:
        value = query_value(
            conn, "SELECT max(created_at) FROM messages WHERE direction = 'inbound'"
        )
    return utc(value) if value else None


async def _shut_down(
    runner: Runner, server: EmbeddedServer | None, loops: list[asyncio.Task[None]]
) -> None:
    runner.accepting_work = False
    # Let greetings and closings under way finish, within a bounded wait.
    deadline = asyncio.get_running_loop().time() + SHUTDOWN_GRACE_SECONDS
    while (runner.dispatcher.greeting or runner.closer.in_flight) and not runner.stop.is_set():
        if asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.05)
    runner.stop.set()
    if server is not None:
        server.should_exit = True
    ticks = loops[0]
    if not ticks.done():
        await ticks
    for task in [*runner.dispatcher.greeting, *runner.closer.in_flight]:
        task.cancel()
    others = [task for task in loops[1:] if not task.done()]
    if others:
        await asyncio.wait(others, timeout=SHUTDOWN_GRACE_SECONDS)
    for task in others:
        task.cancel()
    await runner.provider.aclose()
    await runner.composer.agent.aclose()
