"""SMS through Alibaba Cloud and Tencent Cloud, against fakes that check signatures with
code of their own (tests/fakes/sms.py).

The signers are written by hand, so the first tests hold both them and the fakes'
verifiers to the worked examples printed in the providers' documents: Alibaba's "Request
syntax and signature method V3" (its fixed-parameter RunInstances example) and Tencent's
API 3.0 "Signature v3" (its CVM DescribeInstances example). The rest send real HTTP to the
fakes on 127.0.0.1 and check what a delivery needs: the message arrives with its id, a
wrong secret or a stale clock is refused for good, throttling, 5xx, a refused connection
and a timeout may pass later, and no reason or log line carries the number.
"""

from __future__ import annotations

import hashlib
import logging
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import httpx
import pytest

from service.adapters.channels import DeliveryFailed
from service.adapters.sms import (
    AlibabaSms,
    SmsMessage,
    SmsProvider,
    TencentSms,
    acs3_canonical_request,
    acs3_sign,
    tc3_authorization,
    tc3_canonical_request,
)
from tests.fakes.sms import (
    ALIBABA_ACCESS_KEY_ID,
    ALIBABA_ACCESS_KEY_SECRET,
    TENCENT_SDK_APP_ID,
    TENCENT_SECRET_ID,
    TENCENT_SECRET_KEY,
    AcceptedSms,
    FakeAlibabaSms,
    FakeTencentSms,
    alibaba_v3_signature,
    tencent_tc3_signature,
)

MOBILE = "13812345678"
SIGN_NAME = "重庆科技人才服务"
PARAMS = (("case", "CQ-2026-000123"), ("due", "12月5日 17:00"), ("note", "a&b=c+d *~%/?"))
MESSAGE = SmsMessage("notice-7f3a9c", MOBILE, "SMS_480120001", PARAMS)

Fake = FakeAlibabaSms | FakeTencentSms
Factory = Callable[..., SmsProvider]

# --- the documents' worked examples --------------------------------------------------------

# Alibaba Cloud, "Request syntax and signature method V3", section "Fixed parameter values".
ALIBABA_DOC_HEADERS = {
    "host": "ecs.cn-shanghai.aliyuncs.com",
    "x-acs-action": "RunInstances",
    "x-acs-version": "2014-05-26",
    "x-acs-date": "2023-10-26T10:22:32Z",
    "x-acs-signature-nonce": "3156853299f313e23d1673dc12e1703d",
}
ALIBABA_DOC_QUERY = [("ImageId", "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd"), ("RegionId", "cn-shanghai")]
ALIBABA_DOC_HASHED_CANONICAL_REQUEST = "7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259"
ALIBABA_DOC_AUTHORIZATION = (
    "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,"
    "SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,"
    "Signature=06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
)
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

# Tencent Cloud, API 3.0 "Signature v3": the CVM DescribeInstances POST, with the
# document's own masked key (the asterisks are part of the key the example signs with).
TENCENT_DOC_PAYLOAD = rb'{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}'
TENCENT_DOC_HEADERS = {"content-type": "application/json; charset=utf-8", "host": "cvm.tencentcloudapi.com"}
TENCENT_DOC_HASHED_PAYLOAD = "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
TENCENT_DOC_HASHED_CANONICAL_REQUEST = "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
TENCENT_DOC_SIGNATURE = "2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c"
TENCENT_DOC_AUTHORIZATION = (
    "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******/2019-02-25/cvm/tc3_request, "
    f"SignedHeaders=content-type;host, Signature={TENCENT_DOC_SIGNATURE}"
)


def test_alibaba_signer_reproduces_the_documented_example() -> None:
    signed = acs3_sign(
        access_key_id="YourAccessKeyId",
        access_key_secret="YourAccessKeySecret",
        method="POST",
        query=ALIBABA_DOC_QUERY,
        headers=ALIBABA_DOC_HEADERS,
    )
    canonical = acs3_canonical_request("POST", "/", ALIBABA_DOC_QUERY, signed, b"")
    assert signed["x-acs-content-sha256"] == EMPTY_SHA256
    assert (
        canonical.splitlines()[2] == "ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai"
    )
    assert hashlib.sha256(canonical.encode()).hexdigest() == ALIBABA_DOC_HASHED_CANONICAL_REQUEST
    assert signed["authorization"] == ALIBABA_DOC_AUTHORIZATION


def test_tencent_signer_reproduces_the_documented_example() -> None:
    canonical = tc3_canonical_request("POST", "", TENCENT_DOC_HEADERS, TENCENT_DOC_PAYLOAD)
    assert canonical.endswith(f"\ncontent-type;host\n{TENCENT_DOC_HASHED_PAYLOAD}")
    assert hashlib.sha256(canonical.encode()).hexdigest() == TENCENT_DOC_HASHED_CANONICAL_REQUEST
    authorization = tc3_authorization(
        secret_id="AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******",
        secret_key="Gu5t9xGARNpq86cd98joQYCN3*******",
        service="cvm",
        timestamp=1551113065,
        method="POST",
        signed_headers=TENCENT_DOC_HEADERS,
        body=TENCENT_DOC_PAYLOAD,
    )
    assert authorization == TENCENT_DOC_AUTHORIZATION


def test_the_fakes_verifiers_reproduce_the_documented_examples() -> None:
    """The fakes would accept the documents' own requests, so a send they accept is signed
    the documented way, not merely the way the adapter happens to sign."""
    alibaba_headers = ALIBABA_DOC_HEADERS | {"x-acs-content-sha256": EMPTY_SHA256}
    assert (
        alibaba_v3_signature(
            "YourAccessKeySecret",
            "POST",
            "/",
            "RegionId=cn-shanghai&ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd",
            alibaba_headers,
            sorted(alibaba_headers),
            b"",
        )
        == ALIBABA_DOC_AUTHORIZATION.rsplit("=", 1)[1]
    )
    assert (
        tencent_tc3_signature(
            "Gu5t9xGARNpq86cd98joQYCN3*******",
            "POST",
            "",
            TENCENT_DOC_HEADERS,
            ["content-type", "host"],
            TENCENT_DOC_PAYLOAD,
            timestamp="1551113065",
            date="2019-02-25",
            service="cvm",
        )
        == TENCENT_DOC_SIGNATURE
    )


# --- sending to the fakes ------------------------------------------------------------------


def alibaba_sms(url: str, **overrides: Any) -> AlibabaSms:
    options: dict[str, Any] = {
        "access_key_id": ALIBABA_ACCESS_KEY_ID,
        "access_key_secret": ALIBABA_ACCESS_KEY_SECRET,
        "sign_name": SIGN_NAME,
        "endpoint": url,
        "timeout": 2.0,
    }
    return AlibabaSms(**(options | overrides))


def tencent_sms(url: str, **overrides: Any) -> TencentSms:
    options: dict[str, Any] = {
        "secret_id": TENCENT_SECRET_ID,
        "secret_key": TENCENT_SECRET_KEY,
        "sdk_app_id": TENCENT_SDK_APP_ID,
        "sign_name": SIGN_NAME,
        "endpoint": url,
        "timeout": 2.0,
    }
    return TencentSms(**(options | overrides))


SECRET_OPTION = {"alibaba": "access_key_secret", "tencent": "secret_key"}


@pytest.fixture(params=["alibaba", "tencent"])
def provider(request: pytest.FixtureRequest) -> Iterator[tuple[str, Fake, Factory]]:
    if request.param == "alibaba":
        with FakeAlibabaSms(hang_seconds=1.0) as alibaba:
            yield "alibaba", alibaba, partial(alibaba_sms, alibaba.url)
    else:
        with FakeTencentSms(hang_seconds=1.0) as tencent:
            yield "tencent", tencent, partial(tencent_sms, tencent.url)


async def test_alibaba_message_arrives_signed_with_its_id() -> None:
    with FakeAlibabaSms(sign_names=[SIGN_NAME], templates=["SMS_480120001"]) as fake:
        receipt = await alibaba_sms(fake.url).send(MESSAGE)
    assert fake.refused == ()
    assert fake.received == (AcceptedSms(MOBILE, SIGN_NAME, "SMS_480120001", PARAMS, "notice-7f3a9c", receipt),)
    assert receipt.endswith("^0")


async def test_tencent_message_arrives_signed_with_its_id() -> None:
    with FakeTencentSms(sign_names=[SIGN_NAME], templates=["2056789"]) as fake:
        message = SmsMessage("notice-7f3a9c", MOBILE, "2056789", PARAMS)
        receipt = await tencent_sms(fake.url).send(message)
    positional = tuple((str(n), value) for n, (_, value) in enumerate(PARAMS, start=1))
    assert fake.refused == ()
    assert fake.received == (AcceptedSms(f"+86{MOBILE}", SIGN_NAME, "2056789", positional, "notice-7f3a9c", receipt),)
    assert receipt


async def test_a_shared_client_and_an_international_number() -> None:
    message = SmsMessage("notice-8", "+85261234567", "SMS_1")
    async with httpx.AsyncClient() as client:
        with FakeAlibabaSms() as alibaba, FakeTencentSms() as tencent:
            providers: list[SmsProvider] = [
                alibaba_sms(alibaba.url, client=client),
                tencent_sms(tencent.url, client=client),
            ]
            for sms in providers:
                await sms.send(message)
                await sms.send(message)
    assert [m.mobile for m in alibaba.received] == ["85261234567"] * 2
    assert [m.mobile for m in tencent.received] == ["+85261234567"] * 2
    assert alibaba.received[0].params == tencent.received[0].params == ()


async def test_a_wrong_secret_is_refused_for_good(provider: tuple[str, Fake, Factory]) -> None:
    name, fake, make = provider
    with pytest.raises(DeliveryFailed) as caught:
        await make(**{SECRET_OPTION[name]: "not-the-secret"}).send(MESSAGE)
    expected = {"alibaba": "SignatureDoesNotMatch", "tencent": "AuthFailure.SignatureFailure"}[name]
    assert caught.value.retryable is False
    assert expected in caught.value.reason
    assert [r.code for r in fake.refused] == [expected]
    assert fake.received == ()


async def test_a_stale_clock_is_refused_for_good(provider: tuple[str, Fake, Factory]) -> None:
    """The fakes hold requests to the providers' time windows (15 and 5 minutes)."""
    name, fake, make = provider
    with pytest.raises(DeliveryFailed) as caught:
        await make(clock=lambda: datetime.now(UTC) - timedelta(hours=1)).send(MESSAGE)
    expected = {"alibaba": "InvalidTimeStamp.Expired", "tencent": "AuthFailure.SignatureExpire"}[name]
    assert caught.value.retryable is False
    assert expected in caught.value.reason
    assert fake.received == ()


async def test_throttling_may_pass_later(provider: tuple[str, Fake, Factory]) -> None:
    name, fake, make = provider
    sms = make()
    fake.fail_next(1, "throttle")
    with pytest.raises(DeliveryFailed) as caught:
        await sms.send(MESSAGE)
    expected = {"alibaba": "isv.BUSINESS_LIMIT_CONTROL", "tencent": "LimitExceeded.PhoneNumberThirtySecondLimit"}
    assert caught.value.retryable is True
    assert expected[name] in caught.value.reason
    await sms.send(MESSAGE)  # the retry
    assert [m.message_id for m in fake.received] == ["notice-7f3a9c"]


async def test_a_refused_template_is_final(provider: tuple[str, Fake, Factory]) -> None:
    name, fake, make = provider
    fake.fail_next(1, "reject")
    with pytest.raises(DeliveryFailed) as caught:
        await make().send(MESSAGE)
    expected = {"alibaba": "isv.SMS_TEMPLATE_ILLEGAL", "tencent": "FailedOperation.TemplateIncorrectOrUnapproved"}
    assert caught.value.retryable is False
    assert expected[name] in caught.value.reason


async def test_a_provider_outage_may_pass_later(provider: tuple[str, Fake, Factory]) -> None:
    _, fake, make = provider
    fake.fail_next(2, "unavailable")
    sms = make()
    for _ in range(2):
        with pytest.raises(DeliveryFailed) as caught:
            await sms.send(MESSAGE)
        assert caught.value.retryable is True
        assert "HTTP 503" in caught.value.reason
    await sms.send(MESSAGE)
    assert len(fake.received) == 1


async def test_a_timeout_may_pass_later(provider: tuple[str, Fake, Factory]) -> None:
    _, fake, make = provider
    fake.fail_next(1, "hang")
    with pytest.raises(DeliveryFailed) as caught:
        await make(timeout=0.2).send(MESSAGE)
    assert caught.value.retryable is True
    assert "timed out" in caught.value.reason


@pytest.mark.parametrize("make", [alibaba_sms, tencent_sms])
async def test_a_refused_connection_may_pass_later(make: Factory) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(DeliveryFailed) as caught:
        await make(f"http://127.0.0.1:{port}").send(MESSAGE)
    assert caught.value.retryable is True
    assert "connection failed (ConnectError)" in caught.value.reason


async def test_a_replayed_alibaba_nonce_is_refused() -> None:
    """The fake remembers nonces as the gateway does; a retry draws a new one, so the
    refusal is retryable."""
    with FakeAlibabaSms() as fake:
        sms = alibaba_sms(fake.url, nonce=lambda: "0" * 32)
        await sms.send(MESSAGE)
        with pytest.raises(DeliveryFailed) as caught:
            await sms.send(MESSAGE)
    assert caught.value.retryable is True
    assert "SignatureNonceUsed" in caught.value.reason
    assert len(fake.received) == 1


async def test_no_reason_and_no_log_line_of_ours_carries_the_number(
    provider: tuple[str, Fake, Factory], caplog: pytest.LogCaptureFixture
) -> None:
    name, fake, make = provider
    reasons = []
    caplog.set_level(logging.DEBUG)
    for failure in ("throttle", "reject", "unavailable"):
        fake.fail_next(1, failure)
        with pytest.raises(DeliveryFailed) as caught:
            await make().send(MESSAGE)
        reasons.append(caught.value.reason)
        assert caught.value.__cause__ is None
    with pytest.raises(DeliveryFailed) as caught:
        await make(**{SECRET_OPTION[name]: "wrong"}).send(MESSAGE)
    reasons.append(caught.value.reason)
    await make().send(MESSAGE)
    for text in reasons:
        assert MOBILE not in text
        assert all(value not in text for _, value in PARAMS)
    ours = [r.getMessage() for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    assert not any(MOBILE in line for line in ours)
    assert MOBILE not in repr(MESSAGE)


def test_a_message_is_checked_without_echoing_the_number() -> None:
    for mobile in ("1381234567", "23812345678", "+86 13812345678", "0086138123456789"):
        with pytest.raises(ValueError, match="mobile") as caught:
            SmsMessage("notice-1", mobile, "SMS_1")
        assert mobile not in str(caught.value)
    with pytest.raises(ValueError, match="distinct"):
        SmsMessage("notice-1", MOBILE, "SMS_1", (("a", "1"), ("a", "2")))
    with pytest.raises(ValueError, match="message id"):
        SmsMessage("notice 1", MOBILE, "SMS_1")
    with pytest.raises(ValueError, match="endpoint"):
        alibaba_sms("ftp://dysmsapi.aliyuncs.com")
    with pytest.raises(ValueError, match="SecretKey"):
        tencent_sms("https://sms.tencentcloudapi.com", secret_key="")
