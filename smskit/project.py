"""`Project`: the Python API over one data folder, used by notebooks and the command line.

Every method opens the database for one short transaction and closes it again, so a notebook
never keeps the runner from working. Frames are Polars DataFrames.

Example::

    import smskit
    project = smskit.open()
    project.validate("Phone Number,Reason\\n+12025550143,Renewal reminder\\n")
    batch = project.add_batch("March renewals", open("renewals.csv").read())
    project.tasks(batch=batch["batch_id"])
"""

from __future__ import annotations

import json
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from smskit import attributes as attrs
from smskit.clock import Clock, naive_utc
from smskit.datafolder import DataFolder, resolve_data_folder
from smskit.errors import InvalidInputError, StoreBusyError
from smskit.store import Store, query_frame, query_rows, query_value, utcnow

if TYPE_CHECKING:
    import duckdb

    from smskit.validation import Validation

# Seconds `reply` waits for the database before it spools the reply without reading it.
REPLY_LOCK_TIMEOUT = 2.0

TASK_STATES = ("queued", "waiting", "sending", "in_session", "closing", "paused", "done")
BATCH_STATES = ("active", "paused", "cancelled")


class Project:
    """One project: a data folder with its database, spool and ledger."""

    def __init__(self, folder: DataFolder, *, program: str | None = None) -> None:
        self.folder = folder
        self.store = Store(folder, program=program)

    def __repr__(self) -> str:
        return f"Project({str(self.folder.path)!r})"

    @property
    def path(self) -> Path:
        """The resolved data folder."""
        return self.folder.path

    # attributes

    def get(self, name: str) -> Any:
        """Return the typed value of attribute `name` (its default when never set)."""
        attribute = attrs.lookup(name)
        with self.store.transaction() as conn:
            text = query_value(conn, "SELECT value FROM attributes WHERE name = ?", [name])
        if text is None:
            return attribute.default
        return attribute.parse(text)

    def set(self, name: str, value: Any) -> Any:
        """Validate and store a new value; return the typed value.

        Raises InvalidInputError with the reason, keeping the old value, when it is invalid.
        """
        attribute = attrs.lookup(name)
        if attribute.read_only:
            raise InvalidInputError(
                f"{name} is written by smskit and cannot be set; "
                "change the settings that produce it instead",
                name=name,
                value=value,
            )
        text, typed = attrs.parse_value(name, value)
        with self.store.transaction() as conn:
            attrs.write(conn, name, text)
        return typed

    def reset(self, name: str) -> Any:
        """Remove a stored value so the attribute has its default again; return the default."""
        attribute = attrs.lookup(name)
        if attribute.read_only:
            raise InvalidInputError(f"{name} is written by smskit and cannot be reset", name=name)
        with self.store.transaction() as conn:
            attrs.delete(conn, [name])
        return attribute.default

    def attributes(self) -> pl.DataFrame:
        """Return every attribute with its type, default, current value and description."""
        with self.store.transaction() as conn:
            stored = attrs.read_raw(conn)
        rows = []
        names = list(attrs.ATTRIBUTES) + sorted(
            (name for name in stored if attrs.is_results_chunk(name)),
            key=lambda name: int(name.rsplit("_", 1)[1]),
        )
        for name in names:
            attribute = attrs.lookup(name)
            rows.append(
                {
                    "name": name,
                    "type": attribute.type,
                    "default": attrs.to_text(name, attribute.default),
                    "value": stored.get(name, attrs.to_text(name, attribute.default)),
                    "is_set": name in stored,
                    "read_only": attribute.read_only,
                    "description": attribute.description,
                }
            )
        return pl.DataFrame(rows)

    def settings(self) -> dict[str, Any]:
        """Return the typed value of every setting, defaults filled in."""
        with self.store.transaction() as conn:
            return attrs.read_settings(conn)

    # batches

    def validate(
        self, body: str | bytes, region: str | None = None, *, skip_contacted: bool = False
    ) -> pl.DataFrame:
        """Return one verdict per CSV row as a frame (row, input, phone, verdict, message, ...).

        `region` is the default region for national numbers; None uses the default-region
        attribute. Raises InvalidInputError when the body as a whole is unusable.
        """
        return self.check(body, region, skip_contacted=skip_contacted).to_frame()

    def check(
        self, body: str | bytes, region: str | None = None, *, skip_contacted: bool = False
    ) -> Validation:
        """Validate a CSV body and return the full `Validation` (verdicts, columns, counts)."""
        from smskit.validation import validate_batch

        if not isinstance(body, str | bytes):
            raise InvalidInputError(
                f"the CSV body must be text or bytes, got {type(body).__name__}; "
                "pass the file's content, e.g. open(path, 'rb').read()",
                value=body,
            )
        with self.store.transaction() as conn:
            if region is None:
                region = attrs.read_settings(conn)[attrs.DEFAULT_REGION]
            contacted = _contacted_numbers(conn)
        validation = validate_batch(body, region=region or None, contacted=contacted)
        if skip_contacted:
            _skip_contacted(validation)
        return validation

    def add_batch(
        self,
        title: str,
        body: str | bytes,
        *,
        region: str | None = None,
        skip_contacted: bool = False,
        paused: bool = False,
    ) -> dict[str, Any]:
        """Validate and store a batch: the body verbatim and one task per CSV row.

        Valid rows become `queued` tasks; invalid and duplicate rows become tasks that are
        already `done` with their outcome. With `skip_contacted`, rows whose number has a task
        in an earlier batch are stored as duplicates. With `paused`, nothing is sent until the
        batch is resumed. Returns the batch's id, title and counts.
        """
        title = _check_title(title)
        validation = self.check(body, region, skip_contacted=skip_contacted)
        text = body if isinstance(body, str) else _decode_verbatim(body)
        with self.store.transaction() as conn:
            return _save_batch(conn, title, text, validation, region, paused)

    def batches(self) -> pl.DataFrame:
        """Return every batch with its task counts by state and outcome."""
        with self.store.transaction() as conn:
            return query_frame(conn, _BATCHES_SQL)

    def batch_id(self, title_or_id: str | int) -> int:
        """Return the id of the batch with this title or id, or raise InvalidInputError."""
        with self.store.transaction() as conn:
            return _find_batch(conn, title_or_id)

    def pause(self, batch: str | int) -> None:
        """Stop sending greetings for a batch; open sessions go on."""
        self._set_batch_state(batch, "paused")

    def resume(self, batch: str | int) -> None:
        """Let a paused batch send again."""
        self._set_batch_state(batch, "active")

    def cancel(self, batch: str | int) -> None:
        """Cancel a batch: tasks not yet sent end `cancelled`; open sessions go on."""
        self._set_batch_state(batch, "cancelled")

    def _set_batch_state(self, batch: str | int, state: str) -> None:
        now = utcnow()
        with self.store.transaction() as conn:
            batch_id = _find_batch(conn, batch)
            current = query_value(conn, "SELECT state FROM batches WHERE batch_id = ?", [batch_id])
            if current == "cancelled" and state != "cancelled":
                raise InvalidInputError(
                    f"batch {batch!r} is cancelled and cannot be resumed or paused; "
                    "add its rows again as a new batch",
                    value=batch,
                )
            conn.execute("UPDATE batches SET state = ? WHERE batch_id = ?", [state, batch_id])
            if state == "paused":
                conn.execute(
                    "UPDATE tasks SET state = 'paused', updated_at = ? "
                    "WHERE batch_id = ? AND state IN ('queued', 'waiting')",
                    [now, batch_id],
                )
            elif state == "active":
                conn.execute(
                    "UPDATE tasks SET state = 'queued', wait_reason = NULL, updated_at = ? "
                    "WHERE batch_id = ? AND state = 'paused'",
                    [now, batch_id],
                )
            else:
                conn.execute(
                    "UPDATE tasks SET state = 'done', status = 'failed', outcome = 'cancelled', "
                    "wait_reason = NULL, ended_at = ?, updated_at = ? "
                    "WHERE batch_id = ? AND state IN ('queued', 'waiting', 'paused')",
                    [now, now, batch_id],
                )

    # tasks, messages, sessions

    def tasks(self, batch: str | int | None = None) -> pl.DataFrame:
        """Return tasks (one per CSV row), optionally of one batch, ordered by task id."""
        with self.store.transaction() as conn:
            where, params = _batch_filter(conn, batch)
            return query_frame(
                conn,
                f"SELECT t.task_id, t.batch_id, b.title AS batch, t.row, t.input_phone, "
                f"t.phone_number, t.user_id, t.reason, t.variables, t.verdict, t.verdict_message, "
                f"t.warnings, t.state, t.wait_reason, t.not_before, t.status, t.outcome, "
                f"t.error_code, t.error_message, t.started_at, t.session_ends_at, t.ended_at, "
                f"t.summary, t.fields, t.llm_tokens, t.llm_cost "
                f"FROM tasks t JOIN batches b USING (batch_id) {where} ORDER BY t.task_id",
                params,
            )

    def messages(self, task_id: int | None = None, *, phone: str | None = None) -> pl.DataFrame:
        """Return messages in the order they were written, for one task or phone, or all."""
        clauses: list[str] = []
        params: list[Any] = []
        if task_id is not None:
            clauses.append("task_id = ?")
            params.append(task_id)
        if phone is not None:
            clauses.append("phone_number = ?")
            params.append(_normalise_phone_argument(phone))
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        with self.store.transaction() as conn:
            return query_frame(
                conn,
                "SELECT message_id, task_id, direction, kind, phone_number, body, status, "
                "provider_message_id, error_code, error_message, segments, encoding, cost, "
                f"after_session, created_at, sent_at, status_at FROM messages {where} "
                "ORDER BY created_at, message_id",
                params,
            )

    def transcript(self, task_id: int) -> str:
        """Return a task's conversation as text, one line per message."""
        from smskit.results import format_transcript

        frame = self.messages(task_id)
        return format_transcript(frame.to_dicts())

    def sessions(self) -> pl.DataFrame:
        """Return the open sessions with the project time left, soonest to close first."""
        now = naive_utc(self.now())
        with self.store.transaction() as conn:
            frame = query_frame(
                conn,
                "SELECT t.task_id, b.title AS batch, t.phone_number, t.started_at, "
                "t.session_ends_at, "
                "(SELECT count(*) FROM messages m WHERE m.task_id = t.task_id "
                " AND m.direction = 'inbound') AS replies "
                "FROM tasks t JOIN batches b USING (batch_id) "
                "WHERE t.state = 'in_session' ORDER BY t.session_ends_at, t.task_id",
            )
        return frame.with_columns(
            seconds_left=(pl.col("session_ends_at") - pl.lit(now))
            .dt.total_seconds()
            .clip(lower_bound=0)
        )

    def now(self) -> datetime:
        """Return the project time of the running runner (scaled in tests), else real time."""
        with self.store.transaction() as conn:
            return _runner_time(conn)

    # results and deliveries

    def results(self, batch: str | int | None = None) -> pl.DataFrame:
        """Return one result row per finished task, all batches together, by task id."""
        from smskit.results import results_frame

        with self.store.transaction() as conn:
            batch_id = None if batch is None else _find_batch(conn, batch)
            schema = attrs.read_settings(conn)[attrs.PAYLOAD_SCHEMA]
            return results_frame(conn, batch=batch_id, schema=schema)

    def deliveries(self) -> pl.DataFrame:
        """Return every webhook delivery with its state and attempt count."""
        with self.store.transaction() as conn:
            return query_frame(
                conn,
                "SELECT delivery_id, task_id, url, state, attempts, last_status, last_error, "
                "next_attempt_at, created_at, updated_at FROM deliveries ORDER BY created_at",
            )

    def delivery_attempts(self, delivery_id: str | None = None) -> pl.DataFrame:
        """Return the attempt log of webhook deliveries."""
        where = "WHERE delivery_id = ?" if delivery_id else ""
        with self.store.transaction() as conn:
            return query_frame(
                conn,
                f"SELECT * FROM delivery_attempts {where} ORDER BY delivery_id, attempt",
                [delivery_id] if delivery_id else None,
            )

    def replay(self, delivery_id: str) -> None:
        """Queue a given-up webhook delivery again."""
        from smskit.runner.webhooks import replay

        now = naive_utc(self.now())
        with self.store.transaction() as conn:
            replay(conn, delivery_id, now)

    # inbound on the local provider

    def reply(self, phone: str, text: str) -> None:
        """Deliver an inbound SMS from `phone` on the local provider (as its recipient)."""
        from smskit.providers.local import inbound_event
        from smskit.spool import Spool

        if not text.strip():
            raise InvalidInputError("the reply text is empty; write the message to deliver")
        number = _normalise_phone_argument(phone)
        try:
            with self.store.transaction(timeout=REPLY_LOCK_TIMEOUT) as conn:
                provider = attrs.read_settings(conn)[attrs.SMS_PROVIDER]
                now = _runner_time(conn)
        except StoreBusyError:
            # The spool takes the reply while another process holds the database, so the
            # provider is not checked and the reply gets this machine's time.
            # NOTE: under a scaled runner clock (tests, demo) that time is not project time.
            provider, now = "local", datetime.now(UTC)
        if provider != "local":
            raise InvalidInputError(
                "replies can only be simulated on the local provider; "
                f"{attrs.SMS_PROVIDER} is set to another provider",
                value=phone,
            )
        Spool(self.folder).append(inbound_event(number, text, now))

    # suppression list

    def suppressions(self) -> pl.DataFrame:
        """Return the suppression list: numbers that are never texted."""
        with self.store.transaction() as conn:
            return query_frame(conn, "SELECT * FROM suppressions ORDER BY created_at, phone_number")

    def suppress(self, phone: str, reason: str = "added by hand") -> str:
        """Add a number to the suppression list; return its E.164 form."""
        number = _normalise_phone_argument(phone)
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO suppressions VALUES (?, ?, 'manual', ?)",
                [number, reason, utcnow()],
            )
        return number

    def unsuppress(self, phone: str) -> str:
        """Remove a number from the suppression list; return its E.164 form."""
        number = _normalise_phone_argument(phone)
        with self.store.transaction() as conn:
            found = query_value(
                conn, "SELECT count(*) FROM suppressions WHERE phone_number = ?", [number]
            )
            if not found:
                raise InvalidInputError(f"{number} is not on the suppression list", value=phone)
            conn.execute("DELETE FROM suppressions WHERE phone_number = ?", [number])
        return number

    # status

    def status(self) -> dict[str, Any]:
        """Return tasks by state, open sessions, the webhook outbox and given-up deliveries."""
        with self.store.transaction() as conn:
            states = dict(query_rows(conn, "SELECT state, count(*) FROM tasks GROUP BY state"))
            outcomes = dict(
                query_rows(
                    conn,
                    "SELECT outcome, count(*) FROM tasks WHERE outcome IS NOT NULL GROUP BY 1",
                )
            )
            outbox = dict(query_rows(conn, "SELECT state, count(*) FROM deliveries GROUP BY 1"))
            given_up = query_frame(
                conn,
                "SELECT delivery_id, task_id, attempts, last_status, last_error FROM deliveries "
                "WHERE state = 'given-up' ORDER BY updated_at",
            )
            unresolved = query_frame(
                conn,
                "SELECT task_id, phone_number, error_message, updated_at FROM tasks "
                "WHERE state = 'sending' ORDER BY task_id",
            )
            waiting = query_rows(
                conn,
                "SELECT wait_reason, count(*), min(not_before) FROM tasks "
                "WHERE state = 'waiting' GROUP BY 1 ORDER BY 1",
            )
            runner = query_value(conn, "SELECT value FROM runtime WHERE key = 'clock'")
        runner_pid = json.loads(runner).get("pid") if runner else None
        return {
            "data": str(self.path),
            "runner_pid": runner_pid if runner_pid and _pid_alive(int(runner_pid)) else None,
            "tasks": {state: int(states.get(state, 0)) for state in TASK_STATES},
            "outcomes": {key: int(value) for key, value in outcomes.items()},
            "open_sessions": int(states.get("in_session", 0)),
            "waiting": [(reason, int(count), until) for reason, count, until in waiting],
            "outbox": {key: int(value) for key, value in outbox.items()},
            "given_up": given_up.to_dicts(),
            "unresolved_sends": unresolved.to_dicts(),
        }


def open(data: str | os.PathLike[str] | None = None) -> Project:  # noqa: A001 - public API name
    """Open the project in the resolved data folder (see DataFolder resolution)."""
    return Project(resolve_data_folder(data))


_BATCHES_SQL = """
SELECT b.batch_id, b.title, b.state, b.created_at, b.row_count AS rows,
       count(*) FILTER (WHERE t.verdict = 'valid') AS valid,
       count(*) FILTER (WHERE t.verdict = 'invalid') AS invalid,
       count(*) FILTER (WHERE t.verdict = 'duplicate') AS duplicate,
       count(*) FILTER (WHERE t.state IN ('queued', 'waiting', 'paused')) AS pending,
       count(*) FILTER (WHERE t.state IN ('sending', 'in_session', 'closing')) AS active,
       count(*) FILTER (WHERE t.state = 'done') AS done,
       count(*) FILTER (WHERE t.status = 'finished') AS finished,
       count(*) FILTER (WHERE t.status = 'failed') AS failed
FROM batches b LEFT JOIN tasks t USING (batch_id)
GROUP BY ALL ORDER BY b.batch_id
"""


def _check_title(title: str) -> str:
    title = (title or "").strip()
    if not title:
        raise InvalidInputError("the batch title is empty; give the batch a name", value=title)
    if title.isdigit():
        raise InvalidInputError(
            f"batch title {title!r} is a number, which reads as a batch id; add a word to it",
            value=title,
        )
    if len(title) > 200 or any(ch in title for ch in "\r\n\x00"):
        raise InvalidInputError(
            "the batch title must be one line of at most 200 characters", value=title
        )
    return title


def _decode_verbatim(body: bytes) -> str:
    from smskit.batchfile import decode_body

    return decode_body(body)


def _contacted_numbers(conn: duckdb.DuckDBPyConnection) -> dict[str, str]:
    rows = query_rows(
        conn,
        "SELECT t.phone_number, arg_min(b.title, t.task_id), arg_min(t.row, t.task_id) "
        "FROM tasks t JOIN batches b USING (batch_id) "
        "WHERE t.phone_number IS NOT NULL AND t.verdict = 'valid' GROUP BY 1",
    )
    return {phone: f"batch {title!r} row {row}" for phone, title, row in rows}


def _skip_contacted(validation: Validation) -> None:
    for verdict in validation.rows:
        if verdict.verdict == "valid" and "already-contacted" in verdict.warnings:
            verdict.verdict = "duplicate"
            verdict.message = "skipped: already contacted in an earlier batch"


def _save_batch(
    conn: duckdb.DuckDBPyConnection,
    title: str,
    body: str,
    validation: Validation,
    region: str | None,
    paused: bool,
) -> dict[str, Any]:
    if query_value(conn, "SELECT count(*) FROM batches WHERE title = ?", [title]):
        raise InvalidInputError(
            f"a batch titled {title!r} already exists; choose another title", value=title
        )
    now = utcnow()
    batch_id = int(query_value(conn, "SELECT coalesce(max(batch_id), 0) + 1 FROM batches"))
    first_task = int(query_value(conn, "SELECT coalesce(max(task_id), 0) + 1 FROM tasks"))
    conn.execute(
        "INSERT INTO batches VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            batch_id,
            title,
            body,
            now,
            "paused" if paused else "active",
            region,
            json.dumps(validation.columns),
            len(validation.rows),
        ],
    )
    frame = _tasks_frame(validation, batch_id, first_task, now, paused)
    _insert_tasks(conn, frame)
    counts = frame.group_by("verdict").len()
    summary = {row["verdict"]: row["len"] for row in counts.to_dicts()}
    return {
        "batch_id": batch_id,
        "title": title,
        "rows": len(validation.rows),
        "valid": summary.get("valid", 0),
        "invalid": summary.get("invalid", 0),
        "duplicate": summary.get("duplicate", 0),
        "state": "paused" if paused else "active",
    }


def _insert_tasks(conn: duckdb.DuckDBPyConnection, tasks: pl.DataFrame) -> None:
    """Insert tasks, each with the `user_id` of its number.

    A user id is a keyed hash of the E.164 number with the project's random salt, so it is the
    same for a number in every batch of the project without a lookup table, and it does not
    reveal the number.
    """
    columns = ", ".join(f'"{name}"' for name in tasks.columns)
    conn.register("_new_tasks", tasks.to_arrow())
    try:
        conn.execute(
            f"INSERT INTO tasks ({columns}, user_id) SELECT {columns}, "
            "CASE WHEN phone_number IS NULL THEN NULL "
            "ELSE 'usr_' || substr(sha256(? || phone_number), 1, 16) END FROM _new_tasks",
            [_user_id_salt(conn)],
        )
    finally:
        conn.unregister("_new_tasks")


def _user_id_salt(conn: duckdb.DuckDBPyConnection) -> str:
    salt = query_value(conn, "SELECT value FROM runtime WHERE key = 'user_id_salt'")
    if salt is None:
        salt = secrets.token_hex(16)
        conn.execute("INSERT INTO runtime VALUES ('user_id_salt', ?)", [salt])
    return str(salt)


_REJECTED = {
    "invalid": "invalid-phone-number",
    "duplicate": "duplicate-phone-number",
}


def _tasks_frame(
    validation: Validation, batch_id: int, first_task: int, now: datetime, paused: bool
) -> pl.DataFrame:
    rows = validation.rows
    count = len(rows)
    queued_state = "paused" if paused else "queued"
    base = pl.DataFrame(
        {
            "row": [verdict.row for verdict in rows],
            "input_phone": [verdict.input for verdict in rows],
            "phone_number": [verdict.phone for verdict in rows],
            "reason": [verdict.reason for verdict in rows],
            "verdict": [verdict.verdict for verdict in rows],
            "verdict_message": [verdict.message or None for verdict in rows],
            "warnings": [json.dumps(v.warnings) if v.warnings else None for v in rows],
        },
        schema_overrides={"phone_number": pl.Utf8, "verdict_message": pl.Utf8, "warnings": pl.Utf8},
    )
    valid = pl.col("verdict") == "valid"
    return base.with_columns(
        task_id=pl.int_range(first_task, first_task + count, dtype=pl.Int64),
        batch_id=pl.lit(batch_id, dtype=pl.Int32),
        variables=_variables_json(validation),
        state=pl.when(valid).then(pl.lit(queued_state)).otherwise(pl.lit("done")),
        status=pl.when(valid).then(None).otherwise(pl.lit("failed")),
        outcome=pl.col("verdict").replace_strict(_REJECTED, default=None, return_dtype=pl.Utf8),
        error_message=pl.when(valid).then(None).otherwise(pl.col("verdict_message")),
        summary=pl.when(valid).then(None).otherwise(pl.col("verdict_message")),
        ended_at=pl.when(valid).then(None).otherwise(pl.lit(now)),
        updated_at=pl.lit(now),
    )


def _variables_json(validation: Validation) -> pl.Series:
    """Encode every row's extra columns as one JSON object per row, in one vectorised step."""
    rows = validation.rows
    if not validation.columns:
        return pl.Series("variables", ["{}"] * len(rows), dtype=pl.Utf8)
    columns = {
        name: [verdict.variables.get(name, "") for verdict in rows] for name in validation.columns
    }
    frame = pl.DataFrame(columns, schema={name: pl.Utf8 for name in columns})
    return frame.select(pl.struct(pl.all()).struct.json_encode().alias("variables")).to_series()


def _find_batch(conn: duckdb.DuckDBPyConnection, title_or_id: str | int) -> int:
    text = str(title_or_id).strip()
    if text.isdigit():
        found = query_value(conn, "SELECT batch_id FROM batches WHERE batch_id = ?", [int(text)])
    else:
        found = query_value(conn, "SELECT batch_id FROM batches WHERE title = ?", [text])
    if found is None:
        titles = [row[0] for row in query_rows(conn, "SELECT title FROM batches ORDER BY 1")]
        known = ", ".join(repr(title) for title in titles[:10]) or "none yet"
        raise InvalidInputError(
            f"no batch with title or id {title_or_id!r}; batches: {known}", value=title_or_id
        )
    return int(found)


def _batch_filter(
    conn: duckdb.DuckDBPyConnection, batch: str | int | None
) -> tuple[str, list[Any]]:
    if batch is None:
        return "", []
    return "WHERE t.batch_id = ?", [_find_batch(conn, batch)]


def _normalise_phone_argument(phone: str) -> str:
    from smskit.phones import normalize_phone

    check = normalize_phone(phone, None)
    if check.e164 is None:
        raise InvalidInputError(f"invalid phone number {phone!r}: {check.error}", value=phone)
    return check.e164


def _runner_time(conn: duckdb.DuckDBPyConnection) -> datetime:
    """Return the project time of the running runner, else real time."""
    text = query_value(conn, "SELECT value FROM runtime WHERE key = 'clock'")
    if text:
        description = json.loads(text)
        if _pid_alive(int(description.get("pid", 0))):
            return Clock.from_description(description).now()
    return datetime.now(UTC)


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
