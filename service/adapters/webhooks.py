"""Sending a message to a receiver's HTTP endpoint the way the Standard Webhooks
specification (https://www.standardwebhooks.com) describes, so a receiver can check it
with any of that specification's libraries instead of code written for this service.

Each request carries three headers besides the body: ``webhook-id`` (the message's stable
id, the same on every attempt, so the receiver can drop a message it already has),
``webhook-timestamp`` (when this attempt was made, so a recorded request cannot be
replayed later) and ``webhook-signature`` (an HMAC-SHA256 over id, timestamp and body).

A target may hold two secrets while one replaces the other: the request is then signed
with both, space-separated in the one header, and a receiver that knows either accepts it.
The operator hands the receiver the new secret, and drops the old one from the target
once the receiver has switched; no message is refused on the way.

What the receiver answers decides what happens next: a 2xx is delivered; a timeout, a
refused connection, 408, 429 and 5xx may pass if tried later; a redirect or another 4xx
will not, so it is parked at once; and 410 Gone is the receiver saying it wants no more
messages, so the endpoint should be switched off (``EndpointGone``). Redirects are not
followed: the specification asks senders to have the URL corrected instead, and following
one would let a receiver point the service at an address nobody configured.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from math import floor
from secrets import token_bytes

import httpx
import msgspec
from standardwebhooks import Webhook

from service.adapters.channels import DeliveryFailed

SECRET_PREFIX = "whsec_"  # noqa: S105 (the prefix the specification gives secrets, not a secret)
SECRET_BYTES = 32
"""The size of a new secret; the specification asks for 24 to 64 random bytes."""
_SECRET_SIZES = range(24, 65)
USER_AGENT = "Banshi-Webhooks/1"
_MESSAGE_ID = re.compile(r"[\x21-\x7e]{1,200}")
"""Visible ASCII, no spaces: the id goes into a header and into the signed text."""
_EVENT_TYPE = re.compile(r"[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*")
"""Full-stop delimited identifiers, as the specification recommends (``notice.created``)."""
_RETRYABLE_STATUSES = frozenset({408, 429})


class EndpointGone(DeliveryFailed):
    """The receiver answered 410 Gone: it wants no more messages from this service. The
    specification asks the sender to disable the endpoint rather than retry."""

    def __init__(self, reason: str = "HTTP 410 Gone") -> None:
        super().__init__(reason, retryable=False)


@dataclass(frozen=True, slots=True)
class WebhookTarget:
    """Where messages go and the secrets they are signed with (``whsec_<base64>``). One
    secret normally; two while it is being replaced. The secrets are left out of the repr
    so a target written to a log does not give them away."""

    url: str
    secrets: tuple[str, ...] = field(repr=False)

    def __post_init__(self) -> None:
        # Parsed by httpx, which sends it, so a URL accepted here is one it can send to.
        try:
            url = httpx.URL(self.url)
        except (httpx.InvalidURL, TypeError):
            url = None
        if url is None or url.scheme not in ("http", "https") or not url.host:
            raise ValueError("a webhook URL must be an http:// or https:// address with a host")
        if not self.secrets:
            raise ValueError("a webhook target needs at least one secret")
        for position, secret in enumerate(self.secrets):
            _check_secret(secret, position)


def _check_secret(secret: str, position: int) -> None:
    """A bad secret is refused when the target is made, not at the first send; the message
    names the secret's position, never its value."""
    if not isinstance(secret, str) or not secret.startswith(SECRET_PREFIX):
        raise ValueError(f"webhook secret {position} does not start with {SECRET_PREFIX!r}")
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        # Padding is optional, as the library has it; anything else outside base64 is not.
        raw = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except binascii.Error:
        raise ValueError(f"webhook secret {position} is not base64 after {SECRET_PREFIX!r}") from None
    if len(raw) not in _SECRET_SIZES:
        raise ValueError(f"webhook secret {position} is {len(raw)} bytes; 24 to 64 are allowed")


def new_secret() -> str:
    """A fresh secret for a new endpoint or a rotation, in the form receivers expect."""
    return SECRET_PREFIX + base64.b64encode(token_bytes(SECRET_BYTES)).decode("ascii")


def payload_for(event_type: str, occurred_at: datetime, data: dict[str, object]) -> bytes:
    """The specification's recommended envelope, as compact JSON. ``timestamp`` is when
    the event happened (UTC, ISO 8601), which stays the same on every attempt; the
    ``webhook-timestamp`` header carries when the attempt was made."""
    if not _EVENT_TYPE.fullmatch(event_type):
        raise ValueError("an event type is full-stop delimited identifiers of [A-Za-z0-9_]")
    envelope = {"type": event_type, "timestamp": _iso_utc(occurred_at), "data": data}
    return msgspec.json.encode(envelope)


def _iso_utc(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("a webhook timestamp needs a time zone")
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _signatures(target: WebhookTarget, message_id: str, sent_at: datetime, payload: bytes) -> str:
    """One ``v1,<base64>`` signature per secret, space-separated."""
    signatures = (Webhook(secret).sign(message_id, sent_at, payload) for secret in target.secrets)
    return " ".join(dict.fromkeys(signatures))


async def post_webhook(
    client: httpx.AsyncClient,
    target: WebhookTarget,
    *,
    message_id: str,
    sent_at: datetime,
    payload: bytes,
    timeout: float = 10.0,  # noqa: ASYNC109 (bounds the attempt; the delivery job sets it per channel)
) -> int:
    """Send one attempt of a message and return the receiver's 2xx status.

    ``message_id`` is the message's stable id (the same on every attempt); ``sent_at`` is
    when this attempt is made (receivers refuse timestamps more than a few minutes off
    their clock, so a retry passes a new one). ``timeout`` bounds the whole attempt. Any
    other outcome raises ``DeliveryFailed`` (``EndpointGone`` for 410) whose reason names
    the status or the error's class, never the payload or the URL.
    """
    if not _MESSAGE_ID.fullmatch(message_id) or "." in message_id:
        # The signed text is "{id}.{timestamp}.{body}": an id with a full stop could be
        # made to sign the same text as another id and timestamp.
        raise ValueError("a webhook message id is 1 to 200 visible ASCII characters without '.'")
    if sent_at.tzinfo is None:
        raise ValueError("sent_at needs a time zone")
    headers = {
        "webhook-id": message_id,
        "webhook-timestamp": str(floor(sent_at.timestamp())),
        "webhook-signature": _signatures(target, message_id, sent_at, payload),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }
    request = client.build_request("POST", target.url, content=payload, headers=headers, timeout=timeout)
    try:
        async with asyncio.timeout(timeout):
            # Streamed and closed unread: only the status matters, and a receiver's body
            # (of any size) is never loaded.
            response = await client.send(request, stream=True, follow_redirects=False)
            await response.aclose()
    except (TimeoutError, httpx.TimeoutException) as error:
        raise DeliveryFailed(f"timed out ({type(error).__name__})", retryable=True) from None
    except httpx.LocalProtocolError as error:
        # The request itself could not be written: sending it again will not help.
        raise DeliveryFailed(f"request refused by the HTTP client ({type(error).__name__})", retryable=False) from None
    except httpx.TransportError as error:
        # Refused or reset connections, DNS failures, TLS refused, a receiver closing mid-answer.
        raise DeliveryFailed(f"connection failed ({_error_classes(error)})", retryable=True) from None
    return _outcome(response.status_code)


def _error_classes(error: BaseException) -> str:
    """``ConnectError: ConnectionRefusedError``: httpx's class and the one underneath it,
    which tells a refused connection from a failed certificate check or a name that does
    not resolve. Only class names: the errors' texts can carry the host."""
    root = error
    seen = {id(root)}
    while (below := root.__cause__ or root.__context__) is not None and id(below) not in seen:
        seen.add(id(below))
        root = below
    names = dict.fromkeys([type(error).__name__, type(root).__name__])
    return ": ".join(name for name in names if not name.startswith("_"))


def _outcome(status: int) -> int:
    if 200 <= status < 300:
        return status
    label = _status_label(status)
    if status == HTTPStatus.GONE:
        raise EndpointGone(f"{label}: the receiver asks for the endpoint to be disabled")
    if 300 <= status < 400:
        raise DeliveryFailed(
            f"{label}: redirects are not followed; the endpoint's URL needs correcting", retryable=False
        )
    retryable = status in _RETRYABLE_STATUSES or 500 <= status < 600
    raise DeliveryFailed(label, retryable=retryable)


def _status_label(status: int) -> str:
    """``HTTP 503 Service Unavailable``: the standard phrase, not the receiver's, which is
    text from outside that does not belong in the delivery log."""
    try:
        return f"HTTP {status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"
