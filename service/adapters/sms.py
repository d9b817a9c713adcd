"""Text messages through the two SMS providers used in mainland China: Alibaba Cloud
(``dysmsapi`` 2017-05-25 ``SendSms``) and Tencent Cloud (SMS API 2021-01-11 ``SendSms``).

Why by hand: both providers' official SDKs are synchronous and pull in a large tree of
packages for one signed POST each. The two signing schemes are short and fully
documented, so they are written here and proven against each document's own worked
example (``tests/test_sms_channel.py``), and every send in the tests goes to a fake
provider (``tests/fakes/sms.py``) that recomputes the signature from the raw request with
code of its own.

- Alibaba Cloud: signature method V3, ``ACS3-HMAC-SHA256`` in the ``Authorization``
  header ("Request syntax and signature method V3"). SendSms is an RPC-style operation
  whose parameters the API metadata places in the query string, so they go there and the
  body is empty. The message's stable id goes in ``OutId``.
- Tencent Cloud: API 3.0 ``TC3-HMAC-SHA256`` ("Signature v3"), a JSON body, the number
  in E.164 form (``+86…``), and the message's stable id in ``SessionContext``.

Each send returns the provider's receipt (Alibaba ``BizId``, Tencent ``SerialNo``) or
raises ``DeliveryFailed``. Throttling, the providers' internal errors, HTTP 5xx, timeouts
and network failures may pass later and are retryable; a refused template, sign name,
number or credential is not. The reason names the provider's error code or the HTTP
status only: never the number, the template values or the provider's message text (which
can quote the number). Nothing here logs. httpx does: it logs each request's URL at INFO,
and Alibaba's URL carries the number and the template values, so the ``httpx`` logger is
best kept at WARNING wherever these adapters run (log redaction masks the number, not
the values).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from service.adapters.channels import DeliveryFailed

ALIBABA_ENDPOINT = "https://dysmsapi.aliyuncs.com"
ALIBABA_VERSION = "2017-05-25"
ALIBABA_ALGORITHM = "ACS3-HMAC-SHA256"
TENCENT_ENDPOINT = "https://sms.tencentcloudapi.com"
TENCENT_VERSION = "2021-01-11"
TENCENT_SERVICE = "sms"
"""The service name in Tencent's credential scope; fixed, so an endpoint on another host
(a private gateway, the tests' fake) still signs for SMS."""
TENCENT_ALGORITHM = "TC3-HMAC-SHA256"
USER_AGENT = "Banshi-SMS/1"
MAX_ANSWER_BYTES = 64 * 1024
"""A provider's answer is a small JSON object; anything past this is not read."""

_MAINLAND_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_MESSAGE_ID = re.compile(r"[\x21-\x7e]{1,128}")
"""Visible ASCII: it travels as ``OutId``/``SessionContext`` and comes back in receipts."""
_PROVIDER_CODE = re.compile(r"[A-Za-z][A-Za-z0-9._-]{0,99}")
"""What a provider's error code looks like; anything else is not copied into a reason."""
_RETRYABLE_STATUSES = frozenset({408, 429})

_ALIBABA_RETRYABLE_CODES = frozenset(
    {
        "isv.BUSINESS_LIMIT_CONTROL",  # per-number rate limits (minute, hour, day)
        "isp.SYSTEM_ERROR",
        "InternalError",
        "ServiceUnavailable",
        "SignatureNonceUsed",  # another attempt carries a new nonce
    }
)
_ALIBABA_RETRYABLE_PREFIXES = ("Throttling",)
_TENCENT_RETRYABLE_PREFIXES = ("LimitExceeded", "RequestLimitExceeded", "InternalError")


@dataclass(frozen=True, slots=True)
class SmsMessage:
    """One text message: the notice's stable id, the recipient's mobile number (eleven
    digits for the mainland, or E.164 with ``+``), the template registered with the
    provider, and the template's values as ordered name/value pairs. Alibaba takes them
    by name (``TemplateParam``), Tencent by position (``TemplateParamSet``), so the order
    is the template's. The number and the values are left out of the repr."""

    message_id: str
    mobile: str = field(repr=False)
    template_id: str
    params: tuple[tuple[str, str], ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        if not _MESSAGE_ID.fullmatch(self.message_id):
            raise ValueError("an SMS message id is 1 to 128 visible ASCII characters")
        if not (_MAINLAND_MOBILE.fullmatch(self.mobile) or _E164.fullmatch(self.mobile)):
            raise ValueError("an SMS mobile number is 11 mainland digits or E.164 with '+'")
        if not self.template_id or not self.template_id.isprintable():
            raise ValueError("an SMS template id is a non-empty printable string")
        names = [name for name, _ in self.params]
        if any(not isinstance(name, str) or not name for name in names) or len(set(names)) != len(names):
            raise ValueError("SMS template parameters need distinct, non-empty names")
        if any(not isinstance(value, str) for _, value in self.params):
            raise ValueError("SMS template parameter values are strings")

    @property
    def e164(self) -> str:
        """The number with its country code: ``+8613800138000``."""
        return self.mobile if self.mobile.startswith("+") else f"+86{self.mobile}"


class SmsProvider(Protocol):
    """A provider that sends one message and returns its receipt id, or raises
    ``DeliveryFailed``. ``name`` is what the delivery log records as the channel."""

    name: str

    async def send(self, message: SmsMessage) -> str: ...


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _new_nonce() -> str:
    return secrets.token_hex(16)


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac_sha256(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


# --- Alibaba Cloud: signature method V3 (ACS3-HMAC-SHA256) ---------------------------


def acs3_percent_encode(text: str) -> str:
    """RFC 3986 encoding of UTF-8, as the V3 document asks: letters, digits and ``-_.~``
    stay, everything else is ``%XX`` (a space is ``%20``, ``*`` is ``%2A``)."""
    return quote(text, safe="-_.~")


def acs3_canonical_query(query: Sequence[tuple[str, str]]) -> str:
    """Parameters sorted by name, each name and value encoded, joined with ``&``."""
    return "&".join(f"{acs3_percent_encode(k)}={acs3_percent_encode(v)}" for k, v in sorted(query))


def _acs3_signed_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers V3 signs: every ``x-acs-*`` one, ``host`` and ``content-type``."""
    chosen = {
        name.lower(): value.strip()
        for name, value in headers.items()
        if name.lower().startswith("x-acs-") or name.lower() in ("host", "content-type")
    }
    return dict(sorted(chosen.items()))


def acs3_canonical_request(
    method: str, canonical_uri: str, query: Sequence[tuple[str, str]], headers: Mapping[str, str], body: bytes
) -> str:
    """Step 1 of the V3 document: method, URI, query, headers, signed header names and
    the body's SHA-256, one per line. ``headers`` must already hold ``x-acs-content-sha256``
    (``acs3_sign`` adds it)."""
    signed = _acs3_signed_headers(headers)
    canonical_headers = "".join(f"{name}:{value}\n" for name, value in signed.items())
    return "\n".join(
        (
            method.upper(),
            canonical_uri,
            acs3_canonical_query(query),
            canonical_headers,
            ";".join(signed),
            _sha256_hex(body),
        )
    )


def acs3_sign(
    *,
    access_key_id: str,
    access_key_secret: str,
    method: str,
    query: Sequence[tuple[str, str]],
    headers: Mapping[str, str],
    body: bytes = b"",
    canonical_uri: str = "/",
) -> dict[str, str]:
    """``headers`` (``host`` and the ``x-acs-*`` ones) with ``x-acs-content-sha256`` and
    ``Authorization`` added, ready to send."""
    signed = {name.lower(): value for name, value in headers.items()}
    signed["x-acs-content-sha256"] = _sha256_hex(body)
    canonical = acs3_canonical_request(method, canonical_uri, query, signed, body)
    string_to_sign = f"{ALIBABA_ALGORITHM}\n{_sha256_hex(canonical.encode('utf-8'))}"
    signature = hmac.new(access_key_secret.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    names = ";".join(_acs3_signed_headers(signed))
    signed["authorization"] = (
        f"{ALIBABA_ALGORITHM} Credential={access_key_id},SignedHeaders={names},Signature={signature}"
    )
    return signed


# --- Tencent Cloud: API 3.0 signature v3 (TC3-HMAC-SHA256) ----------------------------


def _tc3_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Names and values in lower case, trimmed, sorted by name, as the document asks."""
    return dict(sorted((name.lower(), value.strip().lower()) for name, value in headers.items()))


def tc3_canonical_request(method: str, query: str, signed_headers: Mapping[str, str], body: bytes) -> str:
    """Step 1 of the document. ``signed_headers`` are the headers to sign (at least
    ``content-type`` and ``host``); the canonical URI is always ``/`` in API 3.0."""
    chosen = _tc3_headers(signed_headers)
    canonical_headers = "".join(f"{name}:{value}\n" for name, value in chosen.items())
    return "\n".join((method.upper(), "/", query, canonical_headers, ";".join(chosen), _sha256_hex(body)))


def tc3_authorization(
    *,
    secret_id: str,
    secret_key: str,
    service: str,
    timestamp: int,
    method: str,
    signed_headers: Mapping[str, str],
    body: bytes,
    query: str = "",
) -> str:
    """The ``Authorization`` header for a request sent at ``timestamp`` (Unix seconds,
    also sent as ``X-TC-Timestamp``)."""
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    scope = f"{date}/{service}/tc3_request"
    canonical = tc3_canonical_request(method, query, signed_headers, body)
    string_to_sign = f"{TENCENT_ALGORITHM}\n{timestamp}\n{scope}\n{_sha256_hex(canonical.encode('utf-8'))}"
    key = _hmac_sha256(f"TC3{secret_key}".encode(), date)
    key = _hmac_sha256(key, service)
    key = _hmac_sha256(key, "tc3_request")
    signature = hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    names = ";".join(_tc3_headers(signed_headers))
    return f"{TENCENT_ALGORITHM} Credential={secret_id}/{scope}, SignedHeaders={names}, Signature={signature}"


# --- Sending ----------------------------------------------------------------------------


def _endpoint(endpoint: str, what: str) -> tuple[str, str]:
    """``(base URL, host header)`` for an http(s) endpoint; the path is always ``/``."""
    try:
        url = httpx.URL(endpoint)
    except (httpx.InvalidURL, TypeError):
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"the {what} endpoint must be an http:// or https:// address with a host")
    host = url.netloc.decode("ascii")
    return f"{url.scheme}://{host}", host


def _required(value: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} is required")
    return value


def _code(value: object) -> str | None:
    return value if isinstance(value, str) and _PROVIDER_CODE.fullmatch(value) else None


def _status_label(status: int) -> str:
    try:
        return f"HTTP {status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"


def _failed(provider: str, status: int, code: str | None, *, retryable: bool) -> DeliveryFailed:
    if code is None:
        return DeliveryFailed(f"{provider}: {_status_label(status)}", retryable=retryable)
    suffix = "" if status == HTTPStatus.OK else f" ({_status_label(status)})"
    return DeliveryFailed(f"{provider}: {code}{suffix}", retryable=retryable)


async def _exchange(
    client: httpx.AsyncClient | None,
    provider: str,
    url: str,
    *,
    headers: Mapping[str, str],
    body: bytes,
    seconds: float,
) -> tuple[int, Any]:
    """POST and return the status and the answer parsed as JSON (None when it is not).
    Failures to get an answer become ``DeliveryFailed`` naming the error's class only:
    an httpx error's text can carry the URL, and Alibaba's URL carries the number."""
    try:
        async with asyncio.timeout(seconds):
            if client is not None:
                status, raw = await _round_trip(client, url, headers, body, seconds)
            else:
                async with httpx.AsyncClient() as own:
                    status, raw = await _round_trip(own, url, headers, body, seconds)
    except (TimeoutError, httpx.TimeoutException) as error:
        raise DeliveryFailed(f"{provider}: timed out ({type(error).__name__})", retryable=True) from None
    except httpx.LocalProtocolError as error:
        raise DeliveryFailed(
            f"{provider}: request refused by the HTTP client ({type(error).__name__})", retryable=False
        ) from None
    except httpx.TransportError as error:
        raise DeliveryFailed(f"{provider}: connection failed ({type(error).__name__})", retryable=True) from None
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, None


async def _round_trip(
    client: httpx.AsyncClient, url: str, headers: Mapping[str, str], body: bytes, seconds: float
) -> tuple[int, bytes]:
    request = client.build_request("POST", url, headers=dict(headers), content=body, timeout=seconds)
    response = await client.send(request, stream=True, follow_redirects=False)
    try:
        raw = bytearray()
        async for chunk in response.aiter_bytes():
            raw += chunk
            if len(raw) > MAX_ANSWER_BYTES:
                break
        return response.status_code, bytes(raw[:MAX_ANSWER_BYTES])
    finally:
        await response.aclose()


class AlibabaSms:
    """Alibaba Cloud SMS (``dysmsapi``). ``clock`` and ``nonce`` are for tests: they give
    the ``x-acs-date`` and ``x-acs-signature-nonce`` of a request. Without ``client`` each
    send opens and closes a connection of its own."""

    name = "alibaba"
    label = "Alibaba Cloud SMS"

    def __init__(
        self,
        *,
        access_key_id: str,
        access_key_secret: str,
        sign_name: str,
        endpoint: str = ALIBABA_ENDPOINT,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], datetime] = _utc_now,
        nonce: Callable[[], str] = _new_nonce,
        timeout: float = 10.0,
    ) -> None:
        self._access_key_id = _required(access_key_id, "the Alibaba Cloud AccessKey ID")
        self._access_key_secret = _required(access_key_secret, "the Alibaba Cloud AccessKey secret")
        self._sign_name = _required(sign_name, "the Alibaba Cloud SMS sign name")
        self._base, self._host = _endpoint(endpoint, "Alibaba Cloud SMS")
        self._client = client
        self._clock = clock
        self._nonce = nonce
        self._timeout = timeout

    async def send(self, message: SmsMessage) -> str:
        query = [
            ("PhoneNumbers", self._phone_number(message)),
            ("SignName", self._sign_name),
            ("TemplateCode", message.template_id),
            ("OutId", message.message_id),
        ]
        if message.params:
            query.append(("TemplateParam", json.dumps(dict(message.params), ensure_ascii=False, separators=(",", ":"))))
        headers = acs3_sign(
            access_key_id=self._access_key_id,
            access_key_secret=self._access_key_secret,
            method="POST",
            query=query,
            headers={
                "host": self._host,
                "x-acs-action": "SendSms",
                "x-acs-version": ALIBABA_VERSION,
                "x-acs-date": self._clock().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "x-acs-signature-nonce": self._nonce(),
            },
        )
        headers |= {"accept": "application/json", "user-agent": USER_AGENT}
        url = f"{self._base}/?{acs3_canonical_query(query)}"
        status, answer = await _exchange(
            self._client, self.label, url, headers=headers, body=b"", seconds=self._timeout
        )
        return self._receipt(status, answer)

    @staticmethod
    def _phone_number(message: SmsMessage) -> str:
        """Eleven digits for the mainland; country code and number, no ``+``, elsewhere."""
        number = message.e164
        return number.removeprefix("+86") if number.startswith("+86") else number.removeprefix("+")

    def _receipt(self, status: int, answer: Any) -> str:
        fields = answer if isinstance(answer, dict) else {}
        code = _code(fields.get("Code"))
        if 200 <= status < 300 and code == "OK":
            # Accepted: without a BizId the request id is the best receipt there is.
            for key in ("BizId", "RequestId"):
                if isinstance(value := fields.get(key), str) and value:
                    return value
            return ""
        if code is None:
            # No answer to read: a 5xx, a proxy's page, a cut-off body. Only a 4xx that
            # says nothing is taken as final.
            retryable = status >= 500 or status in _RETRYABLE_STATUSES or 200 <= status < 300
        else:
            retryable = (
                status >= 500
                or status in _RETRYABLE_STATUSES
                or code in _ALIBABA_RETRYABLE_CODES
                or code.startswith(_ALIBABA_RETRYABLE_PREFIXES)
            )
        raise _failed(self.label, status, code, retryable=retryable)


class TencentSms:
    """Tencent Cloud SMS. ``clock`` is for tests: it gives ``X-TC-Timestamp``. Without
    ``client`` each send opens and closes a connection of its own."""

    name = "tencent"
    label = "Tencent Cloud SMS"

    def __init__(
        self,
        *,
        secret_id: str,
        secret_key: str,
        sdk_app_id: str,
        sign_name: str,
        region: str = "ap-guangzhou",
        endpoint: str = TENCENT_ENDPOINT,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], datetime] = _utc_now,
        timeout: float = 10.0,
    ) -> None:
        self._secret_id = _required(secret_id, "the Tencent Cloud SecretId")
        self._secret_key = _required(secret_key, "the Tencent Cloud SecretKey")
        self._sdk_app_id = _required(sdk_app_id, "the Tencent Cloud SMS SdkAppId")
        self._sign_name = _required(sign_name, "the Tencent Cloud SMS sign name")
        self._region = _required(region, "the Tencent Cloud region")
        self._base, self._host = _endpoint(endpoint, "Tencent Cloud SMS")
        self._client = client
        self._clock = clock
        self._timeout = timeout

    async def send(self, message: SmsMessage) -> str:
        payload: dict[str, Any] = {
            "PhoneNumberSet": [message.e164],
            "SmsSdkAppId": self._sdk_app_id,
            "SignName": self._sign_name,
            "TemplateId": message.template_id,
            "SessionContext": message.message_id,
        }
        if message.params:
            payload["TemplateParamSet"] = [value for _, value in message.params]
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        timestamp = int(self._clock().timestamp())
        signed = {"content-type": "application/json; charset=utf-8", "host": self._host, "x-tc-action": "SendSms"}
        authorization = tc3_authorization(
            secret_id=self._secret_id,
            secret_key=self._secret_key,
            service=TENCENT_SERVICE,
            timestamp=timestamp,
            method="POST",
            signed_headers=signed,
            body=body,
        )
        headers = signed | {
            "authorization": authorization,
            "x-tc-timestamp": str(timestamp),
            "x-tc-version": TENCENT_VERSION,
            "x-tc-region": self._region,
            "user-agent": USER_AGENT,
        }
        status, answer = await _exchange(
            self._client, self.label, f"{self._base}/", headers=headers, body=body, seconds=self._timeout
        )
        return self._receipt(status, answer)

    def _receipt(self, status: int, answer: Any) -> str:
        response = answer.get("Response") if isinstance(answer, dict) else None
        if not 200 <= status < 300 or not isinstance(response, dict):
            retryable = status >= 500 or status in _RETRYABLE_STATUSES or 200 <= status < 300
            raise _failed(self.label, status, None, retryable=retryable)
        error = response.get("Error")
        if isinstance(error, dict):
            code = _code(error.get("Code"))
            raise _failed(self.label, status, code or "unrecognised error", retryable=_tencent_retryable(code))
        statuses = response.get("SendStatusSet")
        first = statuses[0] if isinstance(statuses, list) and statuses else None
        if not isinstance(first, dict):
            raise _failed(self.label, status, "no send status", retryable=True)
        code = _code(first.get("Code"))
        if code == "Ok":
            serial = first.get("SerialNo")
            return serial if isinstance(serial, str) else ""
        raise _failed(self.label, status, code or "unrecognised status", retryable=_tencent_retryable(code))


def _tencent_retryable(code: str | None) -> bool:
    return code is not None and code.startswith(_TENCENT_RETRYABLE_PREFIXES)
