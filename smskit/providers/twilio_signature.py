"""Twilio's `X-Twilio-Signature` on webhook requests.

Twilio signs each webhook request with the account's Auth Token: HMAC-SHA1 over the full URL
that it requested, followed by every POST parameter as name then value, sorted by name, and
sends the base64 digest in the `X-Twilio-Signature` header. A parameter that occurs several
times contributes each of its values, sorted. The scheme is described at
https://www.twilio.com/docs/usage/webhooks/webhooks-security.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping

Params = Mapping[str, str] | Iterable[tuple[str, str]]


def compute_signature(auth_token: str, url: str, params: Params) -> str:
    """Return the base64 HMAC-SHA1 signature that Twilio sends for `url` and POST `params`."""
    pairs = params.items() if isinstance(params, Mapping) else params
    payload = url + "".join(name + value for name, value in sorted(pairs))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def is_valid_signature(auth_token: str, url: str, params: Params, signature: str | None) -> bool:
    """Check a request's `X-Twilio-Signature` header in constant time.

    A missing or empty signature, or an empty auth token, is never valid.
    """
    if not signature or not auth_token:
        return False
    expected = compute_signature(auth_token, url, params)
    return hmac.compare_digest(expected.encode("ascii"), signature.encode("utf-8", "replace"))
