"""Webhook deliveries: a durable outbox in the store, signed POSTs and retries.

Closing a task queues one delivery with `enqueue`: a `deliveries` row with a stable id (the
`webhook-id` header) and the exact body bytes, which every attempt sends again. `Deliverer`
picks due deliveries in one short transaction, POSTs them concurrently outside it, and records
every attempt and the new states in a second transaction.

Retry policy: 2xx is delivered. Connection errors, timeouts, 408, 429 and 5xx are retried
after the `Retry-After` the receiver sent, else with exponential backoff and full jitter in
project time. After the max-attempts setting is reached, the delivery is given up. 410, other
4xx and redirects are given up at once. `replay` queues a given-up delivery again.

With `SMSKIT_WEBHOOK_SECRET` set, requests are signed as Standard Webhooks specifies (see
`smskit.runner.signing`).
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import os
import random
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import duckdb
import httpx
import polars as pl

from smskit import attributes as attrs
from smskit.attributes import PAYLOAD_FIELDS
from smskit.clock import Clock, naive_utc
from smskit.errors import InvalidInputError, StoreBusyError
from smskit.runner.signing import (
    RESERVED_HEADERS,
    SECRET_ENV,
    header_problem,
    mask,
    request_headers,
    resolve_headers,
    secret_bytes,
)
from smskit.store import Store, insert_frame, query_frame, query_rows, update_frame

logger = logging.getLogger(__name__)

BACKOFF_BASE_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 600.0
# A Retry-After further away than this is taken as this, so a delivery is not parked for weeks.
RETRY_AFTER_CAP_SECONDS = 86_400.0
CONCURRENCY = 10
# Bytes of a failed response's body kept in `last_error`.
ERROR_BODY_BYTES = 200
# Bytes read past the excerpt, so that a secret of up to this length is masked whole.
EXCERPT_MARGIN_BYTES = 1024

STATES = ("pending", "delivered", "given-up")
RETRYABLE_STATUSES = frozenset({408, 429})


# payloads and the outbox


def build_payload(
    task_row: Mapping[str, Any], transcript: str, fields: Mapping[str, Any]
) -> dict[str, Any]:
    """Build a task's webhook payload: its own fields, then every payload-schema field.

    `task_row` needs `phone_number` (E.164), `status`, `outcome`, `task_id` and `user_id`;
    `fields` maps each payload-schema property to its value, None when the conversation did
    not settle it.
    """
    clashes = sorted(set(fields) & set(PAYLOAD_FIELDS))
    if clashes:
        raise InvalidInputError(
            f"payload fields {clashes} clash with the webhook's own fields; rename them in "
            f"{attrs.PAYLOAD_SCHEMA}",
            name=attrs.PAYLOAD_SCHEMA,
            value=clashes,
        )
    payload: dict[str, Any] = {
        "phone_number": task_row["phone_number"],
        "transcript": transcript,
        "status": task_row["status"],
        "outcome": task_row["outcome"],
        "task_id": task_row["task_id"],
        "user_id": task_row["user_id"],
    }
    payload.update(fields)
    return payload


def encode_body(payload: Mapping[str, Any]) -> str:
    """Encode a payload as compact JSON text, keys in the payload's order."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def enqueue(
    conn: duckdb.DuckDBPyConnection,
    task_id: int,
    url: str,
    payload: Mapping[str, Any],
    now: datetime,
) -> str:
    """Queue a webhook delivery of `payload` to `url` and return its delivery id.

    The body is encoded once here and stored, so every attempt sends the same bytes. The
    delivery is due at `now`.
    """
    try:
        body = encode_body(payload)
    except (TypeError, ValueError) as error:
        raise InvalidInputError(
            f"webhook payload of task {task_id} cannot be encoded as JSON ({error}); "
            "payload values must be text, numbers, booleans, null, lists or objects",
            value=task_id,
        ) from None
    delivery_id = "msg_" + secrets.token_hex(16)
    stamp = naive_utc(now)
    conn.execute(
        "INSERT INTO deliveries (delivery_id, task_id, url, body, state, attempts, "
        "next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, 'pending', 0, ?, ?, ?)",
        [delivery_id, task_id, url, body, stamp, stamp, stamp],
    )
    return delivery_id


def replay(conn: duckdb.DuckDBPyConnection, delivery_id: str, now: datetime) -> None:
    """Queue a given-up delivery again: state pending, attempts reset, due at `now`."""
    rows = query_rows(conn, "SELECT state FROM deliveries WHERE delivery_id = ?", [delivery_id])
    if not rows:
        raise InvalidInputError(
            f"delivery {delivery_id!r} not found; `smskit status` lists the deliveries "
            "given up with their ids",
            value=delivery_id,
        )
    state = rows[0][0]
    if state != "given-up":
        raise InvalidInputError(
            f"delivery {delivery_id!r} is {state}, not given up; only given-up deliveries "
            "can be replayed (`smskit status` lists them)",
            value=delivery_id,
        )
    stamp = naive_utc(now)
    conn.execute(
        "UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = ?, "
        "updated_at = ? WHERE delivery_id = ?",
        [stamp, stamp, delivery_id],
    )
    logger.info("webhook delivery %s queued again", delivery_id)


def outbox_summary(conn: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Count deliveries by state: pending, delivered and given-up."""
    counts = dict(query_rows(conn, "SELECT state, count(*) FROM deliveries GROUP BY state"))
    return {state: int(counts.get(state, 0)) for state in STATES}


def given_up(conn: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Return the deliveries given up, oldest first, with their last error."""
    return query_frame(
        conn,
        "SELECT delivery_id, task_id, url, attempts, last_status, last_error, created_at, "
        "updated_at FROM deliveries WHERE state = 'given-up' ORDER BY updated_at, delivery_id",
    )


# retry policy


def backoff_seconds(attempts: int, rng: random.Random) -> float:
    """Return the project seconds to wait after `attempts` failed attempts (full jitter)."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1))
    return rng.uniform(0, ceiling)


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Return the real seconds a `Retry-After` value requests, or None when it is invalid.

    The value is a number of seconds or an HTTP date; `now` is the current Unix time.
    """
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        seconds = float(text)
    else:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - now
    return min(max(seconds, 0.0), RETRY_AFTER_CAP_SECONDS)


def is_retryable_status(status: int) -> bool:
    """Tell whether a response status is worth another attempt."""
    return status in RETRYABLE_STATUSES or 500 <= status <= 599


# delivering


@dataclass(frozen=True)
class _Due:
    delivery_id: str
    task_id: int
    url: str
    body: str
    attempts: int
    history: int


@dataclass(frozen=True)
class _Settings:
    headers: dict[str, str]
    timeout: float
    max_attempts: int


@dataclass(frozen=True)
class _Result:
    """Outcome of one attempt: a status code or an error, and whether to try again."""

    due: _Due
    started_at: datetime
    duration_ms: float
    status_code: int | None
    error: str | None
    retryable: bool
    retry_after: float | None = None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code <= 299


class Deliverer:
    """Deliver due webhooks from the outbox, about `concurrency` requests at a time.

    Counters for metrics: `attempts`, `failures` (attempts that did not deliver), `delivered`
    and `given_up`. `secret` defaults to the SMSKIT_WEBHOOK_SECRET environment variable.
    """

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        client: httpx.AsyncClient | None = None,
        secret: str | None = None,
        concurrency: int = CONCURRENCY,
        poll_seconds: float = 1.0,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self._client = client
        self._owns_client = client is None
        if secret is None:
            secret = os.environ.get(SECRET_ENV) or None
        self._key = secret_bytes(secret) if secret else None
        self._concurrency = concurrency
        self._poll_seconds = poll_seconds
        self._rng = rng or random.Random()
        self._wake = asyncio.Event()
        self._next_due: datetime | None = None
        self._ignored_headers: set[str] = set()
        # The next round's deliveries, picked in the transaction that recorded the last round.
        self._prefetched: tuple[list[_Due], _Settings] | None = None
        self.attempts = 0
        self.failures = 0
        self.delivered = 0
        self.given_up = 0

    def wake(self) -> None:
        """Look for due deliveries now instead of at the next poll."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver due webhooks until `stop` is set. A busy store postpones a round."""
        try:
            while not stop.is_set():
                try:
                    count = await self.deliver_due()
                except StoreBusyError as error:
                    logger.warning("webhook deliveries postponed: %s", error)
                    count = 0
                if count == 0:
                    await self._wait(stop)
        finally:
            await self.aclose()

    async def deliver_due(self, limit: int = 100) -> int:
        """Attempt every due delivery, up to `limit`, and return the number of attempts.

        The transaction that records the attempts also picks the deliveries due next, and the
        next call sends those without a transaction of its own. When none were due then, the
        next call looks again.
        """
        prefetched, self._prefetched = self._prefetched, None
        if prefetched is not None and prefetched[0]:
            due, settings = prefetched[0][:limit], prefetched[1]
        else:
            due, settings = await asyncio.to_thread(self._pick, limit)
        if not due:
            return 0
        client = self._get_client()
        semaphore = asyncio.Semaphore(self._concurrency)

        async def attempt(item: _Due) -> _Result:
            async with semaphore:
                return await self._attempt(client, item, settings)

        results = await asyncio.gather(*(attempt(item) for item in due))
        self._prefetched = await asyncio.to_thread(
            self._record, results, settings.max_attempts, limit
        )
        return len(results)

    async def aclose(self) -> None:
        """Close the HTTP client if this deliverer created it."""
        if self._owns_client and self._client is not None:
            await self._client.aclose()
            self._client = None

    def _get_client(self) -> httpx.AsyncClient:
        if self._client is None:
            limits = httpx.Limits(max_connections=self._concurrency)
            self._client = httpx.AsyncClient(limits=limits, follow_redirects=False)
        return self._client

    async def _wait(self, stop: asyncio.Event) -> None:
        timeout = self._poll_seconds
        if self._next_due is not None:
            until_due = (self._next_due - naive_utc(self.clock.now())).total_seconds()
            timeout = min(timeout, self.clock.real_seconds(until_due))
        self._wake.clear()
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
        try:
            await asyncio.wait(
                waiters, timeout=max(timeout, 0.001), return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for waiter in waiters:
                waiter.cancel()

    def _pick(self, limit: int) -> tuple[list[_Due], _Settings]:
        with self.store.transaction() as conn:
            return self._pick_in(conn, limit)

    def _pick_in(self, conn: duckdb.DuckDBPyConnection, limit: int) -> tuple[list[_Due], _Settings]:
        now = naive_utc(self.clock.now())
        settings = attrs.read_settings(conn)
        rows = query_rows(
            conn,
            "SELECT d.delivery_id, d.task_id, d.url, d.body, d.attempts, "
            "(SELECT count(*) FROM delivery_attempts a WHERE a.delivery_id = d.delivery_id) "
            "FROM deliveries d WHERE d.state = 'pending' AND d.next_attempt_at <= ? "
            "ORDER BY d.next_attempt_at, d.created_at LIMIT ?",
            [now, limit],
        )
        picked = [row[0] for row in rows]
        self._next_due = query_rows(
            conn,
            "SELECT min(next_attempt_at) FROM deliveries "
            "WHERE state = 'pending' AND NOT list_contains(?, delivery_id)",
            [picked],
        )[0][0]
        due = [_Due(*row) for row in rows]
        return due, _Settings(
            headers=settings[attrs.WEBHOOK_HEADERS] or {},
            timeout=settings[attrs.WEBHOOK_TIMEOUT],
            max_attempts=settings[attrs.WEBHOOK_MAX_ATTEMPTS],
        )

    async def _attempt(self, client: httpx.AsyncClient, due: _Due, settings: _Settings) -> _Result:
        self._warn_reserved(settings.headers)
        started_at = naive_utc(self.clock.now())
        started = time.perf_counter()
        try:
            headers, secrets = resolve_headers(settings.headers)
            problem = header_problem(headers)
        except InvalidInputError as error:
            headers, secrets, problem = {}, [], str(error)
        if problem is not None:
            # Nothing is sent, but the attempt counts, so the delivery is not retried forever.
            outcome = _error(problem, retryable=True)
        else:
            outcome = await self._try_post(client, due, settings, headers, secrets)
        if outcome["error"] and secrets:
            # A receiver's error page may repeat the request's headers.
            outcome["error"] = mask(outcome["error"], secrets)
        duration_ms = (time.perf_counter() - started) * 1000
        return _Result(due, started_at, duration_ms, **outcome)

    async def _try_post(
        self,
        client: httpx.AsyncClient,
        due: _Due,
        settings: _Settings,
        extra: dict[str, str],
        secrets: list[str],
    ) -> dict[str, Any]:
        """POST one delivery and describe the response or the error that ended the attempt.

        `extra` is the headers attribute's headers with their environment references resolved,
        and `secrets` the values put in for them, which the description masks.
        """
        timestamp = int(time.time())
        headers = request_headers(due.delivery_id, timestamp, due.body, extra, self._key)
        try:
            async with asyncio.timeout(settings.timeout):
                return await self._post(client, due, headers, settings.timeout, secrets)
        except (TimeoutError, httpx.TimeoutException) as error:
            reason = f"timed out after {settings.timeout:g} s"
            if isinstance(error, httpx.TimeoutException):
                reason += f" ({type(error).__name__})"
            return _error(reason, retryable=True)
        except (httpx.NetworkError, httpx.RemoteProtocolError, httpx.ProxyError) as error:
            return _error(_describe(error), retryable=True)
        except httpx.LocalProtocolError:
            # httpx's message repeats the offending header value, which may be a credential.
            return _error(
                f"LocalProtocolError: the request was rejected before sending; check the "
                f"header values in {attrs.WEBHOOK_HEADERS}",
                retryable=False,
            )
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            return _error(_describe(error), retryable=False)
        except Exception as error:
            # An unexpected error is retried like a network error rather than stopping the loop.
            logger.exception(
                "webhook delivery %s for task %s failed unexpectedly",
                due.delivery_id,
                due.task_id,
            )
            return _error(_describe(error), retryable=True)

    async def _post(
        self,
        client: httpx.AsyncClient,
        due: _Due,
        headers: dict[str, str],
        timeout: float,
        secrets: list[str],
    ) -> dict[str, Any]:
        request = client.build_request(
            "POST", due.url, content=due.body.encode(), headers=headers, timeout=timeout
        )
        response = await client.send(request, stream=True)
        try:
            excerpt = await _read_excerpt(response, secrets)
        finally:
            await response.aclose()
        status = response.status_code
        if 200 <= status <= 299:
            return {"status_code": status, "error": None, "retryable": False}
        retryable = is_retryable_status(status)
        error = f"HTTP {status}"
        if 300 <= status <= 399:
            error += " redirect; set the endpoint to the final URL"
        elif excerpt:
            error += ": " + excerpt
        retry_after = None
        if retryable:
            retry_after = parse_retry_after(response.headers.get("retry-after"), time.time())
        return {
            "status_code": status,
            "error": error,
            "retryable": retryable,
            "retry_after": retry_after,
        }

    def _record(
        self, results: list[_Result], max_attempts: int, limit: int
    ) -> tuple[list[_Due], _Settings]:
        """Record the attempts and the new states, then pick up to `limit` deliveries due now."""
        now = naive_utc(self.clock.now())
        attempts_rows = []
        updates = []
        for result in results:
            attempts_rows.append(
                {
                    "delivery_id": result.due.delivery_id,
                    "attempt": result.due.history + 1,
                    "started_at": result.started_at,
                    "duration_ms": result.duration_ms,
                    "status_code": result.status_code,
                    "error": result.error,
                }
            )
            updates.append(self._next_state(result, max_attempts, now))
        with self.store.transaction() as conn:
            insert_frame(conn, "delivery_attempts", pl.DataFrame(attempts_rows, _ATTEMPTS_SCHEMA))
            update_frame(conn, "deliveries", "delivery_id", pl.DataFrame(updates, _UPDATE_SCHEMA))
            return self._pick_in(conn, limit)

    def _next_state(self, result: _Result, max_attempts: int, now: datetime) -> dict[str, Any]:
        due = result.due
        attempts = due.attempts + 1
        self.attempts += 1
        update: dict[str, Any] = {
            "delivery_id": due.delivery_id,
            "state": "pending",
            "attempts": attempts,
            "next_attempt_at": None,
            "last_status": result.status_code,
            "last_error": result.error,
            "updated_at": now,
        }
        if result.delivered:
            self.delivered += 1
            update["state"] = "delivered"
            logger.debug("webhook delivery %s for task %s delivered", due.delivery_id, due.task_id)
            return update
        self.failures += 1
        if not result.retryable or attempts >= max_attempts:
            self.given_up += 1
            update["state"] = "given-up"
            logger.warning(
                "webhook delivery %s for task %s given up after %d attempts: %s",
                due.delivery_id,
                due.task_id,
                attempts,
                result.error,
            )
            return update
        if result.retry_after is not None:
            delay = self.clock.project_seconds(result.retry_after)
        else:
            delay = backoff_seconds(attempts, self._rng)
        update["next_attempt_at"] = now + timedelta(seconds=delay)
        logger.info(
            "webhook delivery %s for task %s attempt %d failed (%s); next attempt in %.1f s",
            due.delivery_id,
            due.task_id,
            attempts,
            result.error,
            delay,
        )
        return update

    def _warn_reserved(self, headers: Mapping[str, str]) -> None:
        for name in headers:
            lowered = name.lower()
            if lowered in RESERVED_HEADERS and lowered not in self._ignored_headers:
                self._ignored_headers.add(lowered)
                logger.warning(
                    "header %s in %s is ignored because smskit sets it itself",
                    name,
                    attrs.WEBHOOK_HEADERS,
                )


_ATTEMPTS_SCHEMA: dict[str, pl.DataType] = {
    "delivery_id": pl.String(),
    "attempt": pl.Int32(),
    "started_at": pl.Datetime("us"),
    "duration_ms": pl.Float64(),
    "status_code": pl.Int32(),
    "error": pl.String(),
}
_UPDATE_SCHEMA: dict[str, pl.DataType] = {
    "delivery_id": pl.String(),
    "state": pl.String(),
    "attempts": pl.Int32(),
    "next_attempt_at": pl.Datetime("us"),
    "last_status": pl.Int32(),
    "last_error": pl.String(),
    "updated_at": pl.Datetime("us"),
}


def _error(message: str, *, retryable: bool) -> dict[str, Any]:
    return {"status_code": None, "error": message, "retryable": retryable}


def _describe(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


async def _read_excerpt(response: httpx.Response, secrets: list[str]) -> str:
    """Read the start of a response body, enough to explain a failure, with secrets masked.

    More than the excerpt is read, so that a secret that the excerpt's end cuts through is
    masked whole before the cut.
    """
    data = b""
    async for chunk in response.aiter_raw():
        data += chunk
        if len(data) >= ERROR_BODY_BYTES + EXCERPT_MARGIN_BYTES:
            break
    text = " ".join(mask(data.decode("utf-8", errors="replace"), secrets).split())
    return text.encode()[:ERROR_BODY_BYTES].decode("utf-8", errors="ignore")
