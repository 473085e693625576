"""Standard Webhooks signing and the headers of one webhook request.

With `SMSKIT_WEBHOOK_SECRET` set, requests are signed as Standard Webhooks specifies
(https://www.standardwebhooks.com): `webhook-signature` is `v1,` followed by the base64
HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}`. A secret with the `whsec_` prefix is
base64 after the prefix; any other secret is used as its UTF-8 bytes.

A value in the headers attribute may contain `${NAME}`, which is replaced by the environment
variable NAME when a request is sent, so a credential such as `Bearer ${CRM_TOKEN}` stays out
of the database.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from collections.abc import Mapping

from smskit import __version__
from smskit.attributes import WEBHOOK_HEADERS
from smskit.errors import InvalidInputError

SECRET_ENV = "SMSKIT_WEBHOOK_SECRET"
SECRET_PREFIX = "whsec_"

# Headers that smskit sets itself, so the headers attribute cannot override them.
RESERVED_HEADERS = frozenset(
    {
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
        "content-type",
        "content-length",
        "transfer-encoding",
        "host",
        "connection",
    }
)


# A reference to an environment variable in a header value.
ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def resolve_headers(
    headers: Mapping[str, str], environ: Mapping[str, str] | None = None
) -> tuple[dict[str, str], list[str]]:
    """Replace every `${NAME}` in header values by the environment variable NAME.

    Returns the headers and the values that were put in, which are secrets. Raises
    InvalidInputError, naming the header and the variable but no value, when a variable is
    not set.
    """
    env = os.environ if environ is None else environ
    secrets: list[str] = []
    resolved: dict[str, str] = {}
    for name, value in headers.items():
        parts = ENV_REFERENCE.split(value)
        # split() alternates literal text and variable names: text, name, text, ...
        for index in range(1, len(parts), 2):
            variable = parts[index]
            parts[index] = env.get(variable, "")
            if not parts[index]:
                raise InvalidInputError(
                    f"header {name} in {WEBHOOK_HEADERS} refers to the environment variable "
                    f"{variable}, which is not set; set it in the runner's environment",
                    name=WEBHOOK_HEADERS,
                    value=variable,
                )
            secrets.append(parts[index])
        resolved[name] = "".join(parts)
    return resolved, secrets


def mask(text: str, secrets: list[str]) -> str:
    """Replace every occurrence of each secret in `text` with `***`."""
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


def secret_bytes(secret: str) -> bytes:
    """Return the signing key of a secret: base64 after a `whsec_` prefix, else UTF-8."""
    if not secret.startswith(SECRET_PREFIX):
        return secret.encode()
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error:
        # The secret itself stays out of the message.
        raise InvalidInputError(
            f"{SECRET_ENV} starts with {SECRET_PREFIX!r} but the rest is not valid base64; "
            f"set it to {SECRET_PREFIX} followed by base64, or to a secret without the prefix"
        ) from None


def sign(key: bytes, delivery_id: str, timestamp: int, body: str) -> str:
    """Return the Standard Webhooks signature header value of one request."""
    content = f"{delivery_id}.{timestamp}.{body}".encode()
    digest = hmac.new(key, content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def request_headers(
    delivery_id: str,
    timestamp: int,
    body: str,
    extra: Mapping[str, str],
    key: bytes | None,
) -> dict[str, str]:
    """Build one attempt's headers: the headers attribute's, then the ones smskit sets."""
    headers = {"user-agent": f"smskit/{__version__}"}
    for name, value in extra.items():
        if name.lower() not in RESERVED_HEADERS:
            headers[name.lower()] = value
    headers["content-type"] = "application/json"
    headers["webhook-id"] = delivery_id
    headers["webhook-timestamp"] = str(timestamp)
    if key is not None:
        headers["webhook-signature"] = sign(key, delivery_id, timestamp, body)
    return headers


def header_problem(headers: Mapping[str, str]) -> str | None:
    """Describe why a header from the headers attribute cannot be sent, or return None.

    The message names the header but never its value, which may be a credential.
    """
    for name, value in headers.items():
        if not value.isascii():
            return f"header {name} in {WEBHOOK_HEADERS} has non-ASCII characters"
        if value != value.strip(" \t"):
            return f"header {name} in {WEBHOOK_HEADERS} starts or ends with whitespace"
    return None
