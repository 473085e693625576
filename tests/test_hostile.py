"""Hostile input: arbitrary bytes, CSV shapes, attribute values and webhook requests.

Batch parsing and attribute parsing either work or raise InvalidInputError; every data row of
a readable batch gets a verdict. Results neutralise every text cell that a spreadsheet would
read as a formula. The runner's Twilio routes respond to no request with a 5xx and write nothing
to the spool without a valid signature; its HTTP server binds 127.0.0.1 and rejects bodies over
its limit with 413. Secrets set in the environment never reach the database file, the logs, the
results, the webhooks or error messages.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import polars as pl
import pytest
from fake_twilio import SENDER, FakeTwilio
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from local_server import ThreadedServer
from model_server import ModelServer, error
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from stress_helpers import configure_twilio, free_port
from test_runner import REPO, RUNNER, Runners, batch_csv, log_text, wait_for
from test_runner_twilio import respond

import smskit
from smskit import attributes as attrs
from smskit.batchfile import PHONE_ALIASES, REASON_ALIASES
from smskit.clock import Clock
from smskit.errors import InvalidInputError
from smskit.results import neutralise, to_csv
from smskit.runner.signing import resolve_headers
from smskit.validation import Validation, validate_batch

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1", "ascii", "shift_jis")
START = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
INBOUND = "/providers/twilio/inbound"
STATUS = "/providers/twilio/status"


# batch bodies


def check_accounted(validation: Validation, rows: int | None = None) -> None:
    """Check that every data row has one verdict, numbered from 1 without gaps."""
    verdicts = validation.rows
    if rows is not None:
        assert len(verdicts) == rows
    assert [verdict.row for verdict in verdicts] == list(range(1, len(verdicts) + 1))
    first_rows: dict[str, int] = {}
    for verdict in verdicts:
        assert verdict.verdict in ("valid", "invalid", "duplicate")
        if verdict.verdict == "invalid":
            assert verdict.message
            continue
        assert verdict.phone is not None
        assert verdict.phone.startswith("+")
        if verdict.verdict == "valid":
            assert verdict.phone not in first_rows
            first_rows[verdict.phone] = verdict.row
        else:
            assert verdict.duplicate_of == first_rows[verdict.phone]


def validate_or_reject(body: str | bytes, region: str | None = "US") -> Validation | None:
    """Validate a body; return None when it is rejected as a whole with InvalidInputError."""
    try:
        return validate_batch(body, region=region)
    except InvalidInputError as error:
        assert str(error)
        return None


@settings(max_examples=1000, deadline=None)
@given(st.binary(max_size=3000))
@example(b"")
@example(b"\xff\xfe")
@example(b"\xfe\xff\x00")
@example(b"phone,reason\n\x00,\x00\n")
@example(b'phone,reason\n"+12025550143,hi\n')
def test_validate_batch_arbitrary_bytes(body: bytes) -> None:
    validation = validate_or_reject(body)
    if validation is not None:
        check_accounted(validation)


@settings(max_examples=200, deadline=None)
@given(
    st.text(max_size=1500),
    st.sampled_from(ENCODINGS),
    st.sampled_from(["Phone Number,Reason\n", "to;notes\r\n", "mobile\tpurpose\n", ""]),
)
def test_validate_batch_arbitrary_text_encodings(text: str, encoding: str, header: str) -> None:
    body = (header + text).encode(encoding, errors="replace")
    validation = validate_or_reject(body)
    if validation is not None:
        check_accounted(validation)


_CELL = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=30,
)
_PHONE_CELL = st.one_of(
    _CELL,
    st.sampled_from(["+12025550143", "(202) 555-0143", "202.555.0144", "+44 20 7946 0958"]),
    st.from_regex(r"\+1[2-9]\d{2}[2-9]\d{6}", fullmatch=True),
)


@dataclass
class CsvBatch:
    body: str | bytes
    rows: int


def _unambiguous(cell: str, terminator: str) -> str:
    # The csv writer quotes a cell that contains a character of the line terminator, but not
    # one with the other line-break character, which a reader then takes as a row end.
    if terminator == "\n":
        return cell.replace("\r", " ")
    if terminator == "\r":
        return cell.replace("\n", " ")
    return cell


@st.composite
def csv_batches(draw: st.DrawFn) -> CsvBatch:
    """Draw a CSV batch: header aliases, extra columns, delimiters, quoting and ragged rows."""
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    extra = [f"x{i}{draw(st.text('abcdefgh', max_size=6))}" for i in range(draw(st.integers(0, 3)))]
    names = [draw(st.sampled_from(PHONE_ALIASES)), draw(st.sampled_from(REASON_ALIASES)), *extra]
    names = [draw(st.sampled_from([name, name.upper(), f" {name} "])) for name in names]
    order = draw(st.permutations(range(len(names))))
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]))
    terminator = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, quoting=quoting, lineterminator=terminator)
    writer.writerow([names[i] for i in order])
    rows = 0
    for _ in range(draw(st.integers(1, 25))):
        if draw(st.booleans()) and draw(st.booleans()):
            out.write(terminator)  # a blank line, which is not a row
            continue
        cells = [draw(_PHONE_CELL), draw(_CELL)]
        cells += [draw(_CELL) for _ in extra]
        width = draw(st.sampled_from([len(names), len(names), len(names) - 1, len(names) + 1]))
        cells = [_unambiguous(cell, terminator) for cell in cells + [draw(_CELL)]][:width]
        ordered = [cells[i] for i in order if i < len(cells)] + cells[len(order) :]
        writer.writerow(ordered)
        if any(cell.strip() for cell in ordered):
            rows += 1
    text = out.getvalue()
    encoding = draw(st.sampled_from(["str", "utf-8", "utf-8-sig", "utf-16"]))
    body: str | bytes = text if encoding == "str" else text.encode(encoding)
    return CsvBatch(body, rows)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(csv_batches())
def test_validate_batch_csv_shapes(batch: CsvBatch) -> None:
    # Only a batch without any data row is rejected as a whole.
    if batch.rows == 0:
        with pytest.raises(InvalidInputError, match="no data rows"):
            validate_batch(batch.body, region="US")
        return
    validation = validate_batch(batch.body, region="US")
    check_accounted(validation, batch.rows)


# attribute values


_SETTABLE = sorted(name for name, attribute in attrs.ATTRIBUTES.items() if not attribute.read_only)
_VALUES = st.one_of(
    st.text(max_size=60),
    st.from_regex(r"-?\d{1,4}(\.\d{1,3})?", fullmatch=True),
    st.sampled_from(["", " ", "0", "-1", "nan", "inf", "1e400", "21:00-08:00", "twilio", "{}"]),
    st.integers(),
    st.floats(),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=10), st.one_of(st.text(max_size=10), st.integers())),
)


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(_SETTABLE), _VALUES)
@example(attrs.TIME_ZONE, "Europe")
@example(attrs.TIME_ZONE, "a" * 300)
def test_parse_value_valid_or_clear_error(name: str, value: Any) -> None:
    try:
        text, typed = attrs.parse_value(name, value)
    except InvalidInputError as error:
        assert name in str(error)
        return
    assert isinstance(text, str)
    # the stored text reads back as the same value
    assert attrs.lookup(name).parse(text) == typed


@settings(max_examples=200, deadline=None)
@given(
    st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,20}", fullmatch=True),
    st.text(max_size=20),
    st.sampled_from(["\r", "\n", "\r\n"]),
    st.text(max_size=20),
)
def test_headers_line_break_rejected(header: str, before: str, newline: str, after: str) -> None:
    value = json.dumps({header: before + newline + after})
    with pytest.raises(InvalidInputError, match="line break"):
        attrs.parse_value(attrs.WEBHOOK_HEADERS, value)


# results


_TEXT_CELL = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["=1+2", "+1", "-1", "@A1", "\t=x", "\r=x", "+12025550143"]),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_TEXT_CELL, _TEXT_CELL, st.integers(-(2**63), 2**63 - 1)), max_size=20))
def test_neutralise_leaves_no_formula(rows: list[tuple[str, str, int]]) -> None:
    frame = pl.DataFrame(
        rows,
        schema={"phone_number": pl.String, "summary": pl.String, "segments": pl.Int64},
        orient="row",
    )
    neutral = neutralise(frame)
    for phone, summary in zip(neutral["phone_number"], neutral["summary"], strict=True):
        is_e164 = phone[1:].isdigit() and phone.startswith("+") and phone.isascii()
        assert is_e164 or not phone.startswith(FORMULA_START), phone
        assert not summary.startswith(FORMULA_START), summary
    assert neutral["segments"].to_list() == frame["segments"].to_list()


def test_results_rejected_phone_cell_neutralised(data_dir: Path) -> None:
    project = smskit.open(data_dir)
    project.add_batch("formulas", 'phone_number,reason\n=1+2,Hi\n@SUM(A1),Hi\n"-2+3",Hi\n')
    rows = list(csv.reader(io.StringIO(to_csv(project.results()))))
    assert [row[4] for row in rows[1:]] == ["'=1+2", "'@SUM(A1)", "'-2+3"]


# the runner's HTTP server


@dataclass
class RunnerServer:
    data: Path
    port: int
    process: subprocess.Popen[bytes]
    fake: FakeTwilio

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def spool_size(self) -> int:
        path = self.data / "spool" / "events.jsonl"
        return path.stat().st_size if path.exists() else 0


@pytest.fixture(scope="module")
def runner_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunnerServer]:
    """Run one Twilio runner without a batch for the HTTP tests of this module."""
    data = tmp_path_factory.mktemp("hostile") / "data"
    port = free_port()
    configure_twilio(smskit.open(data), port)
    fake = FakeTwilio().start()
    environ = {**os.environ, **fake.environ()}
    environ.pop("SMSKIT_DATA", None)
    log = open(data.parent / "runner.stderr", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, str(RUNNER), "--data", str(data), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=log,
        cwd=REPO,
        env=environ,
    )
    server = RunnerServer(data, port, process, fake)
    try:
        wait_for(
            lambda: (
                "HTTP server on" in (data / "logs" / "runner.log").read_text("utf-8")
                if (data / "logs" / "runner.log").exists()
                else False
            ),
            30,
            "the runner's HTTP server",
            process,
        )
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()
        fake.stop()


_FIELDS = ["MessageSid", "SmsSid", "From", "To", "Body", "MessageStatus", "ErrorCode", "NumMedia"]
_FORM = st.dictionaries(
    st.one_of(st.sampled_from(_FIELDS), st.text(max_size=10)), st.text(max_size=40), max_size=8
)
_HEADER_TEXT = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60
).map(str.strip)


@st.composite
def webhook_requests(draw: st.DrawFn, url: str) -> tuple[str, bytes, dict[str, str]]:
    """Draw a request to a Twilio route: its path and query, body and headers.

    Signatures are missing, random, or valid for another URL, route or body.
    """
    path = draw(st.sampled_from([INBOUND, STATUS]))
    query = draw(st.one_of(st.just(""), _HEADER_TEXT.map(lambda q: "?" + q.replace("#", ""))))
    form = draw(_FORM)
    body = draw(st.one_of(st.just(urlencode(form).encode()), st.binary(max_size=300)))
    headers: dict[str, str] = {}
    content_type = draw(
        st.sampled_from(
            ["application/x-www-form-urlencoded", "application/json", "text/plain", None]
        )
    )
    if content_type:
        headers["Content-Type"] = content_type
    fake = FakeTwilio()
    other = {**form, "Body": form.get("Body", "") + "!"}
    signature = draw(
        st.one_of(
            st.none(),
            _HEADER_TEXT,
            st.just(fake.sign(url + (STATUS if path == INBOUND else INBOUND), form)),
            st.just(fake.sign(url + path + "?x=1", form)),
            st.just(fake.sign(url + path, other)),
        )
    )
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    return path + query, body, headers


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_twilio_routes_reject_unsigned(runner_server: RunnerServer, data: st.DataObject) -> None:
    target, body, headers = data.draw(webhook_requests(runner_server.url))
    before = runner_server.spool_size()
    response = httpx.post(runner_server.url + target, content=body, headers=headers, timeout=10)
    assert response.status_code < 500
    assert response.status_code in (400, 403, 404, 405, 413), response.status_code
    assert runner_server.spool_size() == before


def test_twilio_routes_signed_request_spooled(runner_server: RunnerServer) -> None:
    # the other tests' oracle: a correctly signed request is spooled
    form = {"MessageSid": "SM" + "1" * 32, "From": "+12025550143", "To": SENDER, "Body": "Hi"}
    url = runner_server.url + INBOUND
    before = runner_server.spool_size()
    response = httpx.post(
        url, data=form, headers={"X-Twilio-Signature": runner_server.fake.sign(url, form)}
    )
    assert response.status_code == 200
    assert runner_server.spool_size() > before


def raw_request(port: int, request: bytes) -> bytes:
    """Send raw bytes to the server and return its response, up to 4 KiB, until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(request)
        try:
            connection.shutdown(socket.SHUT_WR)
            chunks = []
            while sum(map(len, chunks)) < 4096:
                chunk = connection.recv(4096)
                if not chunk:
                    break
                chunks.append(chunk)
        except (ConnectionResetError, TimeoutError):
            return b""
    return b"".join(chunks)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.binary(min_size=1, max_size=20), st.binary(max_size=60)), max_size=4),
    st.binary(max_size=200),
)
def test_twilio_routes_raw_headers(
    runner_server: RunnerServer, header_lines: list[tuple[bytes, bytes]], body: bytes
) -> None:
    lines = [b"POST " + INBOUND.encode() + b" HTTP/1.1", b"Host: 127.0.0.1"]
    lines += [name + b": " + value for name, value in header_lines]
    lines += [b"Content-Length: " + str(len(body)).encode(), b"Connection: close"]
    before = runner_server.spool_size()
    answer = raw_request(runner_server.port, b"\r\n".join(lines) + b"\r\n\r\n" + body)
    if answer:
        status_line = answer.split(b"\r\n", 1)[0]
        assert status_line.startswith(b"HTTP/1.1 "), status_line
        assert int(status_line.split()[1]) < 500, status_line
    assert runner_server.spool_size() == before


def test_http_body_over_limit_413(runner_server: RunnerServer) -> None:
    big = b"Body=" + b"x" * (64 * 1024)
    declared = httpx.post(runner_server.url + INBOUND, content=big, timeout=10)
    assert declared.status_code == 413

    def chunks() -> Iterator[bytes]:
        for _ in range(80):
            yield b"x" * 1024

    streamed = httpx.post(runner_server.url + STATUS, content=chunks(), timeout=10)
    assert streamed.status_code == 413
    health = httpx.get(runner_server.url + "/healthz", timeout=10)
    assert health.status_code == 200


def listening_addresses(port: int) -> list[str]:
    """Return the local addresses with a TCP socket listening on `port` (from /proc/net)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        with open(table, encoding="ascii") as sockets:
            next(sockets)
            for line in sockets:
                local, state = line.split()[1], line.split()[3]
                address, port_hex = local.rsplit(":", 1)
                if state == "0A" and int(port_hex, 16) == port:
                    found.append(address)
    return found


def test_http_binds_loopback(runner_server: RunnerServer) -> None:
    # 0100007F is 127.0.0.1 as /proc/net/tcp writes it (little-endian hex)
    assert listening_addresses(runner_server.port) == ["0100007F"]
    log = (runner_server.data / "logs" / "runner.log").read_text("utf-8")
    assert f"HTTP server on http://127.0.0.1:{runner_server.port}" in log


# secrets


@pytest.fixture
def runners(data_dir: Path) -> Iterator[Runners]:
    started = Runners(data_dir)
    yield started
    started.kill_all()


def smskit_status(data: Path) -> str:
    """Return what `smskit status --json` prints for a data folder."""
    command = [str(Path(sys.executable).parent / "smskit"), "status", "--json", "--data", str(data)]
    run = subprocess.run(command, capture_output=True, text=True, timeout=30, cwd=REPO)
    assert run.returncode == 0, run.stderr
    return run.stdout


class EchoingReceiver:
    """A webhook endpoint that fails each delivery's first attempt with a body that echoes the
    request's headers, as a careless error page would, and accepts the second."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.seen: set[str] = set()
        self.server = ThreadedServer(
            Starlette(routes=[Route("/hook", self._receive, methods=["POST"])])
        )

    @property
    def url(self) -> str:
        return self.server.url + "/hook"

    async def _receive(self, request: Request) -> Response:
        headers = dict(request.headers)
        self.requests.append((headers, await request.body()))
        if headers["webhook-id"] in self.seen:
            return JSONResponse({"ok": True})
        self.seen.add(headers["webhook-id"])
        return PlainTextResponse(f"rejected request with headers {headers}", 500)


def test_resolve_headers_substitutes_environment() -> None:
    headers = {"Authorization": "Bearer ${TOKEN}", "X-Pair": "${TOKEN}-${OTHER}", "X-Plain": "$A"}
    resolved, secrets = resolve_headers(headers, {"TOKEN": "one", "OTHER": "two"})
    assert resolved == {"Authorization": "Bearer one", "X-Pair": "one-two", "X-Plain": "$A"}
    assert secrets == ["one", "one", "two"]


def test_resolve_headers_missing_variable_named() -> None:
    with pytest.raises(InvalidInputError, match="environment variable CRM_TOKEN, which is not set"):
        resolve_headers({"Authorization": "Bearer ${CRM_TOKEN}"}, {"OTHER": "secret-value"})


def secret_forms(secrets: dict[str, str]) -> dict[str, bytes]:
    """Return every secret as bytes, with the encoded forms that could carry it."""
    forms = {name: value.encode() for name, value in secrets.items()}
    webhook_key = secrets["SMSKIT_WEBHOOK_SECRET"].removeprefix("whsec_")
    forms["SMSKIT_WEBHOOK_SECRET key"] = base64.b64decode(webhook_key)
    basic = f"{secrets['TWILIO_ACCOUNT_SID']}:{secrets['TWILIO_AUTH_TOKEN']}"
    forms["Twilio basic auth"] = base64.b64encode(basic.encode())
    del forms["TWILIO_ACCOUNT_SID"]
    return forms


def folder_files(folder: Path) -> dict[str, bytes]:
    """Return the bytes of every file under `folder`, by path."""
    return {str(path): path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def table_texts(project: smskit.Project) -> dict[str, bytes]:
    """Return every table of the store as text: each value of each column, cast to text."""
    texts = {}
    with project.store.transaction() as conn:
        tables = [row[0] for row in conn.execute("SHOW TABLES").fetchall()]
        for table in tables:
            rows = conn.execute(f'SELECT * FROM "{table}"').fetchall()
            texts[f"table {table}"] = repr(rows).encode()
    return texts


@pytest.mark.slow
@pytest.mark.timeout(150)
def test_secrets_never_stored_logged_or_posted(data_dir: Path, runners: Runners) -> None:
    secrets = {
        "TWILIO_ACCOUNT_SID": "AC" + os.urandom(16).hex(),
        "TWILIO_AUTH_TOKEN": "tok" + os.urandom(16).hex(),
        "OPENAI_API_KEY": "sk-" + os.urandom(16).hex(),
        "SMSKIT_WEBHOOK_SECRET": "whsec_" + base64.b64encode(os.urandom(24)).decode(),
        "SMSKIT_TEST_WEBHOOK_TOKEN": "hdr" + os.urandom(16).hex(),
    }
    port = free_port()
    project = smskit.open(data_dir)
    configure_twilio(project, port)
    receiver = EchoingReceiver()
    receiver.server.start()
    for name, value in {
        attrs.QUIET_HOURS: "",
        attrs.SESSION_DURATION: "2",
        attrs.LLM_MODEL: "openai/gpt-4o-mini",
        attrs.WEBHOOK_URL: receiver.url,
        attrs.WEBHOOK_HEADERS: json.dumps(
            {"Authorization": "Bearer ${SMSKIT_TEST_WEBHOOK_TOKEN}", "X-Campaign": "march"}
        ),
    }.items():
        project.set(name, value)
    numbers = ["+12025550141", "+12025550142", "+12025550143", "+12025550144"]
    project.add_batch("secrets", batch_csv(numbers))

    fake = FakeTwilio(
        account_sid=secrets["TWILIO_ACCOUNT_SID"],
        auth_token=secrets["TWILIO_AUTH_TOKEN"],
        now=Clock(60, START).now,
        inbound_url=f"http://127.0.0.1:{port}{INBOUND}",
        auto_statuses=("sent", "delivered"),
        replies={numbers[0]: ["Yes, Tuesday works"], numbers[1]: ["STOP"]},
    ).start()
    fake.fail_number(numbers[2], "drop")
    fake.fail_number(numbers[3], "21211")
    # The model's error messages quote the API key, as some providers' do.
    model = ModelServer(
        [error(500, message=f"invalid key {secrets['OPENAI_API_KEY']}")],
        responder=respond,
    ).start()
    runners.environ.update(
        secrets,
        TWILIO_API_BASE=fake.url,
        OPENAI_API_BASE=model.url,
        LITELLM_LOCAL_MODEL_COST_MAP="True",
    )
    try:
        process = runners.start("--until-idle", "--port", str(port))
        assert process.wait(timeout=120) == 0, log_text(data_dir)[-3000:]
        status = smskit_status(data_dir)
    finally:
        fake.stop()
        model.stop()
        receiver.server.stop()

    # the runs used what the secrets protect
    delivered = {headers["webhook-id"] for headers, _ in receiver.requests}
    assert len(delivered) == 3
    for headers, _ in receiver.requests:
        assert headers["authorization"] == f"Bearer {secrets['SMSKIT_TEST_WEBHOOK_TOKEN']}"
        assert headers["webhook-signature"].startswith("v1,")
    assert any(r.method == "GET" for r in fake.requests)
    assert len(model.requests) > 2
    # the receiver's error page repeated the token, and the runner kept it masked
    errors = project.delivery_attempts()["error"].drop_nulls().to_list()
    assert any("'authorization': 'Bearer ***'" in text for text in errors), errors
    assert "invalid key ***" in log_text(data_dir)

    places = folder_files(data_dir)
    places |= {str(p): p.read_bytes() for p in data_dir.parent.glob("runner-*.stderr")}
    places |= table_texts(project)
    places["results csv"] = to_csv(project.results()).encode()
    places["results json"] = project.results().write_json().encode()
    places["status"] = status.encode()
    for index, (headers, body) in enumerate(receiver.requests):
        headers.pop("authorization")
        places[f"webhook {index}"] = repr(headers).encode() + body
    for name, secret in secret_forms(secrets).items():
        for place, content in places.items():
            assert secret not in content, f"{name} found in {place}"
