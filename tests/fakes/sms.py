"""Fake Alibaba Cloud and Tencent Cloud SMS APIs for tests: real HTTP servers on 127.0.0.1
that check each request's signature the way the provider does, from the raw request
line, headers and body, with signing code of their own written from the providers'
documents, not imported from ``service.adapters.sms``. A sender whose canonical request,
header choice or key derivation drifted from the documents is refused here as it would be
there (``test_sms_channel.py`` also checks these verifiers against the documents' worked
examples).

What each checks, in the order the provider's gateway does:

- ``FakeAlibabaSms`` (``dysmsapi`` 2017-05-25, signature V3 ``ACS3-HMAC-SHA256``): the
  ``Authorization`` form, the AccessKey ID, action and version, ``x-acs-date`` within 15
  minutes of now, every ``x-acs-*``/``host``/``content-type`` header signed, the body's
  SHA-256, the signature, a nonce not seen before; then SendSms's own parameters. Errors
  are answered as Alibaba does: a JSON ``Code`` with HTTP 4xx for the gateway's refusals
  (``SignatureDoesNotMatch`` is 400) and HTTP 200 for SendSms's business codes
  (``isv.BUSINESS_LIMIT_CONTROL``). Success is ``{"Code": "OK", "BizId": ...}``.
- ``FakeTencentSms`` (SMS API 2021-01-11, ``TC3-HMAC-SHA256``): the ``Authorization``
  form, the SecretId, ``X-TC-Timestamp`` within 5 minutes, the credential scope's date and
  service, ``content-type`` and ``host`` signed, the signature; then the SdkAppId and each
  number. Errors come back, as from Tencent, with HTTP 200: ``Response.Error.Code`` for the
  request, or a per-number ``Code`` in ``SendStatusSet``; success is ``Code: "Ok"`` with a
  ``SerialNo``.

``received`` lists the messages accepted (number as sent, template, values, the message
id from ``OutId``/``SessionContext`` and the receipt returned); ``refused`` lists every
error answered. ``fail_next`` makes the next requests fail: ``"throttle"`` with the
provider's rate-limit code (retryable), ``"reject"`` with a template refusal (final),
``"unavailable"`` with HTTP 503 before any checking, ``"hang"`` by answering only after
``hang_seconds``. Each serves from a thread of its own, so a synchronous test, an async
one (``async with``) and a service under test in another process (it only needs ``url``)
all use it the same way.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

from tests.fakes.loopback import LoopbackServer

ALIBABA_ACCESS_KEY_ID = "LTAI5tFakeAccessKeyId"
ALIBABA_ACCESS_KEY_SECRET = "fake-alibaba-access-key-secret"
TENCENT_SECRET_ID = "AKIDFakeSecretIdForTests"
TENCENT_SECRET_KEY = "fake-tencent-secret-key"
TENCENT_SDK_APP_ID = "1400000001"

MAX_BODY = 1 << 16
"""Larger bodies are answered 413 without being read."""

Failure = Literal["throttle", "reject", "unavailable", "hang"]


@dataclass(frozen=True, slots=True)
class AcceptedSms:
    """A message the fake accepted. ``mobile`` is as sent (Alibaba ``PhoneNumbers``,
    Tencent's ``PhoneNumberSet`` entry); ``params`` are name/value pairs (Tencent's
    positional values are named ``"1"``, ``"2"``…, as its templates write ``{1}``, ``{2}``)."""

    mobile: str
    sign_name: str
    template_id: str
    params: tuple[tuple[str, str], ...]
    message_id: str | None
    receipt: str


@dataclass(frozen=True, slots=True)
class Refusal:
    """An error answered: the provider's code and the HTTP status it came with."""

    code: str
    status: int


@dataclass(slots=True)
class _Scripted:
    failure: Failure
    remaining: int


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    body: bytes
    content_type: str = "application/json;charset=utf-8"


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _json(status: int, document: Mapping[str, Any]) -> _Answer:
    return _Answer(status, json.dumps(document, ensure_ascii=False).encode("utf-8"))


# --- the providers' signatures, as their documents describe them -------------------------


def _rfc3986(text: str) -> str:
    """Percent-encoding per RFC 3986 over UTF-8: only ``A-Za-z0-9-_.~`` stay as they are."""
    return "".join(
        chr(byte) if chr(byte).isascii() and (chr(byte).isalnum() or chr(byte) in "-_.~") else f"%{byte:02X}"
        for byte in text.encode("utf-8")
    )


def alibaba_v3_signature(
    secret: str,
    method: str,
    path: str,
    raw_query: str,
    headers: Mapping[str, str],
    signed_names: Sequence[str],
    body: bytes,
) -> str:
    """The hex HMAC-SHA256 signature the V3 document computes for a request as received:
    its query string decoded and re-encoded in sorted order, the listed headers (names in
    lower case) with their values trimmed, and the body's hash."""
    params = sorted(parse_qsl(raw_query, keep_blank_values=True))
    canonical_query = "&".join(f"{_rfc3986(name)}={_rfc3986(value)}" for name, value in params)
    canonical_headers = "".join(f"{name}:{headers.get(name, '').strip()}\n" for name in signed_names)
    canonical_uri = "/".join(_rfc3986(part) for part in path.split("/")) or "/"
    canonical_request = (
        f"{method}\n{canonical_uri}\n{canonical_query}\n{canonical_headers}\n{';'.join(signed_names)}\n"
        f"{_sha256_hex(body)}"
    )
    string_to_sign = "ACS3-HMAC-SHA256\n" + _sha256_hex(canonical_request.encode("utf-8"))
    return hmac.new(secret.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def tencent_tc3_signature(
    secret_key: str,
    method: str,
    raw_query: str,
    headers: Mapping[str, str],
    signed_names: Sequence[str],
    body: bytes,
    *,
    timestamp: str,
    date: str,
    service: str,
) -> str:
    """The hex signature Tencent's "Signature v3" computes: header names and values in
    lower case and trimmed, the query as sent (empty for POST), the key derived from
    ``"TC3" + SecretKey`` through the date, the service and ``tc3_request``."""
    canonical_headers = "".join(f"{name}:{headers.get(name, '').strip().lower()}\n" for name in signed_names)
    canonical_request = f"{method}\n/\n{raw_query}\n{canonical_headers}\n{';'.join(signed_names)}\n{_sha256_hex(body)}"
    string_to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{date}/{service}/tc3_request\n" + _sha256_hex(
        canonical_request.encode("utf-8")
    )
    key = ("TC3" + secret_key).encode("utf-8")
    for part in (date, service, "tc3_request"):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


# --- the common server -------------------------------------------------------------------


class _FakeSmsApi(LoopbackServer):
    """Serving, recording and failure scripts; the subclasses answer requests."""

    _thread_name = "fake-sms"

    def __init__(self, *, clock: Callable[[], float], hang_seconds: float) -> None:
        self._clock = clock
        self.hang_seconds = hang_seconds
        self._changed = threading.Condition()
        self._received: list[AcceptedSms] = []
        self._refused: list[Refusal] = []
        self._scripts: list[_Scripted] = []
        self._requests = 0
        super().__init__()

    @property
    def url(self) -> str:
        return self.origin

    @property
    def received(self) -> tuple[AcceptedSms, ...]:
        with self._changed:
            return tuple(self._received)

    @property
    def refused(self) -> tuple[Refusal, ...]:
        with self._changed:
            return tuple(self._refused)

    @property
    def requests(self) -> int:
        """How many requests arrived, answered or not."""
        with self._changed:
            return self._requests

    def fail_next(self, count: int = 1, failure: Failure = "throttle") -> None:
        """Fail the next ``count`` requests (see the module's docstring for each kind).
        ``throttle`` and ``reject`` come after the signature check, as a provider's rate
        limit and template review do; ``unavailable`` and ``hang`` before it."""
        if count < 1:
            raise ValueError("count must be at least 1")
        with self._changed:
            self._scripts.append(_Scripted(failure, count))

    def wait_for(self, count: int, timeout: float = 5.0) -> tuple[AcceptedSms, ...]:
        """Block until ``count`` messages were accepted; AssertionError after ``timeout``."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._received) >= count, timeout):
                raise AssertionError(
                    f"expected {count} accepted messages within {timeout}s; "
                    f"got {len(self._received)}, refused {self._refused!r}"
                )
            return tuple(self._received)

    async def await_received(self, count: int, timeout: float = 5.0) -> tuple[AcceptedSms, ...]:  # noqa: ASYNC109
        """``wait_for`` without blocking the event loop."""
        return await asyncio.to_thread(self.wait_for, count, timeout)

    def _new_server(self) -> ThreadingHTTPServer:
        return _Server(("127.0.0.1", 0), _handler_for(self))

    def _take_script(self, *, before_checks: bool) -> Failure | None:
        with self._changed:
            if not self._scripts or (self._scripts[0].failure in ("unavailable", "hang")) != before_checks:
                return None
            script = self._scripts[0]
            script.remaining -= 1
            if script.remaining == 0:
                self._scripts.pop(0)
            return script.failure

    def _handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> _Answer:
        """Called from the server's threads with header names in lower case."""
        with self._changed:
            self._requests += 1
        failure = self._take_script(before_checks=True)
        if failure == "hang":
            time.sleep(self.hang_seconds)
        elif failure == "unavailable":
            self._record_refusal(Refusal("ServiceUnavailable", 503))
            return _Answer(503, b"<html><body>503 Service Temporarily Unavailable</body></html>", "text/html")
        answer, outcome = self._answer(method, target, headers, body)
        with self._changed:
            if isinstance(outcome, AcceptedSms):
                self._received.append(outcome)
            elif outcome is not None:
                self._refused.append(outcome)
            self._changed.notify_all()
        return answer

    def _record_refusal(self, refusal: Refusal) -> None:
        with self._changed:
            self._refused.append(refusal)
            self._changed.notify_all()

    def _answer(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[_Answer, AcceptedSms | Refusal | None]:
        raise NotImplementedError


# --- Alibaba Cloud -----------------------------------------------------------------------

_ACS3_AUTHORIZATION = re.compile(
    r"ACS3-HMAC-SHA256 Credential=(?P<key_id>[^,\s]+),SignedHeaders=(?P<names>[a-z0-9;-]+),"
    r"Signature=(?P<signature>[0-9a-f]{64})"
)
_ALIBABA_MOBILE = re.compile(r"(?:\+86|0086|86)?1[3-9][0-9]{9}|[1-9][0-9]{7,14}")
_ALIBABA_DATE_SKEW = 15 * 60


class FakeAlibabaSms(_FakeSmsApi):
    """``with FakeAlibabaSms() as api:`` serves at ``api.url``. ``sign_names`` and
    ``templates``, when given, are the only ones it accepts (``isv.SMS_SIGNATURE_ILLEGAL``,
    ``isv.SMS_TEMPLATE_ILLEGAL`` otherwise)."""

    _thread_name = "fake-alibaba-sms"

    def __init__(
        self,
        access_key_id: str = ALIBABA_ACCESS_KEY_ID,
        access_key_secret: str = ALIBABA_ACCESS_KEY_SECRET,
        *,
        sign_names: Collection[str] | None = None,
        templates: Collection[str] | None = None,
        clock: Callable[[], float] = time.time,
        hang_seconds: float = 2.0,
    ) -> None:
        super().__init__(clock=clock, hang_seconds=hang_seconds)
        self._keys = {access_key_id: access_key_secret}
        self._sign_names = None if sign_names is None else frozenset(sign_names)
        self._templates = None if templates is None else frozenset(templates)
        self._nonces: set[str] = set()

    def _error(self, status: int, code: str, message: str) -> tuple[_Answer, Refusal]:
        document = {"RequestId": str(uuid.uuid4()).upper(), "Code": code, "Message": message}
        if status != 200:
            document["HostId"] = "dysmsapi.aliyuncs.com"
        return _json(status, document), Refusal(code, status)

    def _answer(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[_Answer, AcceptedSms | Refusal | None]:
        parts = urlsplit(target)
        auth = _ACS3_AUTHORIZATION.fullmatch(headers.get("authorization", ""))
        if auth is None:
            return self._error(
                400, "IncompleteSignature", "The request signature does not conform to Aliyun standards."
            )
        secret = self._keys.get(auth["key_id"])
        if secret is None:
            return self._error(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        if headers.get("x-acs-action") != "SendSms" or headers.get("x-acs-version") != "2017-05-25":
            return self._error(404, "InvalidAction.NotFound", "Specified api is not found, please check your url.")
        try:
            sent_at = datetime.strptime(headers.get("x-acs-date", ""), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except ValueError:
            return self._error(400, "InvalidTimeStamp.Format", "Specified time stamp is not well formatted.")
        if abs(sent_at.timestamp() - self._clock()) > _ALIBABA_DATE_SKEW:
            return self._error(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")
        names = auth["names"].split(";")
        must_sign = {name for name in headers if name.startswith("x-acs-") or name in ("host", "content-type")}
        if names != sorted(names) or not must_sign <= set(names):
            return self._error(400, "IncompleteSignature", "Every x-acs-*, host and content-type header is signed.")
        if headers.get("x-acs-content-sha256") != _sha256_hex(body):
            return self._error(400, "SignatureDoesNotMatch", "The body does not match x-acs-content-sha256.")
        expected = alibaba_v3_signature(secret, method, parts.path or "/", parts.query, headers, names, body)
        if not hmac.compare_digest(expected, auth["signature"]):
            return self._error(400, "SignatureDoesNotMatch", "Specified signature does not match our calculation.")
        nonce = headers.get("x-acs-signature-nonce", "")
        with self._changed:
            if not nonce or nonce in self._nonces:
                return self._error(400, "SignatureNonceUsed", "Specified signature nonce was used already.")
            self._nonces.add(nonce)
        return self._send_sms(parts.query, headers, body)

    def _send_sms(self, raw_query: str, headers: dict[str, str], body: bytes) -> tuple[_Answer, AcceptedSms | Refusal]:
        params = dict(parse_qsl(raw_query, keep_blank_values=True))
        if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            params |= dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        for required in ("PhoneNumbers", "SignName", "TemplateCode"):
            if not params.get(required):
                return self._error(400, f"Missing{required}", f"{required} is mandatory for this action.")
        failure = self._take_script(before_checks=False)
        if failure == "throttle":
            return self._error(200, "isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1")
        if failure == "reject":
            return self._error(200, "isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板")
        mobile = params["PhoneNumbers"]
        if not _ALIBABA_MOBILE.fullmatch(mobile):
            return self._error(200, "isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
        if self._sign_names is not None and params["SignName"] not in self._sign_names:
            return self._error(200, "isv.SMS_SIGNATURE_ILLEGAL", "该账号下找不到对应签名")
        if self._templates is not None and params["TemplateCode"] not in self._templates:
            return self._error(200, "isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板")
        values: tuple[tuple[str, str], ...] = ()
        if "TemplateParam" in params:
            try:
                decoded = json.loads(params["TemplateParam"])
            except ValueError:
                decoded = None
            if not isinstance(decoded, dict) or not all(isinstance(v, str) for v in decoded.values()):
                return self._error(200, "isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值")
            values = tuple(decoded.items())
        biz_id = f"{uuid.uuid4().int % 10**18:018d}^0"
        accepted = AcceptedSms(mobile, params["SignName"], params["TemplateCode"], values, params.get("OutId"), biz_id)
        document = {"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": str(uuid.uuid4()).upper()}
        return _json(200, document), accepted


# --- Tencent Cloud -----------------------------------------------------------------------

_TC3_AUTHORIZATION = re.compile(
    r"TC3-HMAC-SHA256 Credential=(?P<secret_id>[^/\s]+)/(?P<date>\d{4}-\d{2}-\d{2})/(?P<service>[a-z0-9]+)"
    r"/tc3_request, "
    r"SignedHeaders=(?P<names>[a-z0-9;-]+), Signature=(?P<signature>[0-9a-f]{64})"
)
_TENCENT_MOBILE = re.compile(r"(?:\+86)?1[3-9][0-9]{9}|\+[1-9][0-9]{6,14}")
_TENCENT_SKEW = 5 * 60


class FakeTencentSms(_FakeSmsApi):
    """``with FakeTencentSms() as api:`` serves at ``api.url``. ``sign_names`` and
    ``templates``, when given, are the only ones it accepts."""

    _thread_name = "fake-tencent-sms"

    def __init__(
        self,
        secret_id: str = TENCENT_SECRET_ID,
        secret_key: str = TENCENT_SECRET_KEY,
        sdk_app_id: str = TENCENT_SDK_APP_ID,
        *,
        sign_names: Collection[str] | None = None,
        templates: Collection[str] | None = None,
        clock: Callable[[], float] = time.time,
        hang_seconds: float = 2.0,
    ) -> None:
        super().__init__(clock=clock, hang_seconds=hang_seconds)
        self._keys = {secret_id: secret_key}
        self._sdk_app_id = sdk_app_id
        self._sign_names = None if sign_names is None else frozenset(sign_names)
        self._templates = None if templates is None else frozenset(templates)

    @staticmethod
    def _error(code: str, message: str) -> tuple[_Answer, Refusal]:
        document = {"Response": {"Error": {"Code": code, "Message": message}, "RequestId": str(uuid.uuid4())}}
        return _json(200, document), Refusal(code, 200)

    def _answer(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[_Answer, AcceptedSms | Refusal | None]:
        parts = urlsplit(target)
        if headers.get("x-tc-action") != "SendSms":
            return self._error("InvalidAction", "The requested action does not exist.")
        if headers.get("x-tc-version") != "2021-01-11":
            return self._error("InvalidParameter.Version", "The requested version is not supported.")
        if not headers.get("x-tc-region"):
            return self._error("MissingParameter", "The request is missing the X-TC-Region header.")
        auth = _TC3_AUTHORIZATION.fullmatch(headers.get("authorization", ""))
        if auth is None:
            return self._error("AuthFailure.InvalidAuthorization", "The Authorization header is malformed.")
        secret_key = self._keys.get(auth["secret_id"])
        if secret_key is None:
            return self._error("AuthFailure.SecretIdNotFound", "The SecretId is not found.")
        timestamp = headers.get("x-tc-timestamp", "")
        if not timestamp.isdigit() or abs(int(timestamp) - self._clock()) > _TENCENT_SKEW:
            return self._error("AuthFailure.SignatureExpire", "Signature expired.")
        names = auth["names"].split(";")
        date = datetime.fromtimestamp(int(timestamp), UTC).strftime("%Y-%m-%d")
        if auth["date"] != date or auth["service"] != "sms" or not {"content-type", "host"} <= set(names):
            return self._error("AuthFailure.SignatureFailure", "The credential scope or signed headers are wrong.")
        expected = tencent_tc3_signature(
            secret_key,
            method,
            parts.query,
            headers,
            names,
            body,
            timestamp=timestamp,
            date=auth["date"],
            service=auth["service"],
        )
        if not hmac.compare_digest(expected, auth["signature"]):
            return self._error(
                "AuthFailure.SignatureFailure",
                "The provided credentials could not be validated. Please check your signature is correct.",
            )
        return self._send_sms(headers, body)

    def _send_sms(self, headers: dict[str, str], body: bytes) -> tuple[_Answer, AcceptedSms | Refusal]:
        if not headers.get("content-type", "").startswith("application/json"):
            return self._error("InvalidParameter", "The body must be JSON.")
        try:
            request = json.loads(body)
        except ValueError:
            request = None
        if not isinstance(request, dict):
            return self._error("FailedOperation.JsonParseFail", "The body is not a JSON object.")
        numbers = request.get("PhoneNumberSet")
        values = request.get("TemplateParamSet", [])
        if not isinstance(numbers, list) or len(numbers) != 1 or not isinstance(numbers[0], str):
            return self._error("InvalidParameterValue.IncorrectPhoneNumber", "PhoneNumberSet holds one number here.")
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            return self._error("InvalidParameterFormat", "TemplateParamSet is a list of strings.")
        if request.get("SmsSdkAppId") != self._sdk_app_id:
            return self._error("InvalidParameterValue.SdkAppIdNotExist", "The SdkAppId does not exist.")
        sign_name, template_id = request.get("SignName"), request.get("TemplateId")
        if not isinstance(template_id, str) or (self._templates is not None and template_id not in self._templates):
            return self._error("FailedOperation.TemplateIncorrectOrUnapproved", "The template is not approved.")
        if not isinstance(sign_name, str) or (self._sign_names is not None and sign_name not in self._sign_names):
            return self._error("FailedOperation.SignatureIncorrectOrUnapproved", "The signature is not approved.")
        failure = self._take_script(before_checks=False)
        if failure == "reject":
            return self._error("FailedOperation.TemplateIncorrectOrUnapproved", "The template is not approved.")
        mobile = numbers[0]
        context = request.get("SessionContext")
        context = context if isinstance(context, str) else None
        status: dict[str, Any] = {"PhoneNumber": mobile, "SessionContext": context or "", "IsoCode": "CN"}
        refusal: Refusal | None = None
        if failure == "throttle":
            refusal = Refusal("LimitExceeded.PhoneNumberThirtySecondLimit", 200)
            status |= {"SerialNo": "", "Fee": 0, "Code": refusal.code, "Message": "30-second limit for the number"}
        elif not _TENCENT_MOBILE.fullmatch(mobile):
            refusal = Refusal("InvalidParameterValue.IncorrectPhoneNumber", 200)
            status |= {"SerialNo": "", "Fee": 0, "Code": refusal.code, "Message": "incorrect number format"}
        else:
            serial = f"{uuid.uuid4().int % 10**4}:{uuid.uuid4().int % 10**28:028d}"
            status |= {"SerialNo": serial, "Fee": 1, "Code": "Ok", "Message": "send success"}
        document = {"Response": {"SendStatusSet": [status], "RequestId": str(uuid.uuid4())}}
        if refusal is not None:
            return _json(200, document), refusal
        params = tuple((str(position), value) for position, value in enumerate(values, start=1))
        return _json(200, document), AcceptedSms(mobile, sign_name, template_id, params, context, status["SerialNo"])


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet about clients that hung up (one that timed out on ``hang``, a closed
        keep-alive connection); anything else is printed as usual."""
        if isinstance(sys.exception(), ConnectionError):
            return
        super().handle_error(request, client_address)


def _handler_for(api: _FakeSmsApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self._serve("POST")

        def do_GET(self) -> None:
            self._serve("GET")

        def _serve(self, method: str) -> None:
            try:
                length = int(self.headers.get("content-length") or 0)
            except ValueError:
                length = -1
            if not 0 <= length <= MAX_BODY:
                self._reply(_Answer(413 if length > MAX_BODY else 400, b"", "text/plain"))
                self.close_connection = True
                return
            body = self.rfile.read(length)
            headers = {name.lower(): value for name, value in self.headers.items()}
            self._reply(api._handle(method, self.path, headers, body))

        def _reply(self, answer: _Answer) -> None:
            self.send_response(answer.status)
            self.send_header("content-type", answer.content_type)
            self.send_header("content-length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: what a test needs is in ``received`` and ``refused``."""

    return Handler
