"""The webhook channel against a receiver that checks requests with the Standard Webhooks
library: a signed message verifies, a secret can be replaced without a message being
refused, and each way a send can fail says whether trying again can help."""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest
from standardwebhooks import Webhook

from service.adapters.channels import DeliveryFailed
from service.adapters.webhooks import USER_AGENT, EndpointGone, WebhookTarget, new_secret, payload_for, post_webhook
from tests.fakes.webhook_receiver import WebhookReceiver

OCCURRED = datetime(2026, 3, 2, 9, 30, 15, 250000, tzinfo=UTC)
PAYLOAD = payload_for("notice.created", OCCURRED, {"notice": "7d0f3c9e", "count": 2})


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as http:
        yield http


async def send(client: httpx.AsyncClient, target: WebhookTarget, message_id: str = "msg_1", within: float = 2.0) -> int:
    """One attempt made now, as the delivery job makes it."""
    return await post_webhook(
        client, target, message_id=message_id, sent_at=datetime.now(UTC), payload=PAYLOAD, timeout=within
    )


@contextmanager
def closed_port() -> Iterator[int]:
    """A port on 127.0.0.1 that nothing listens on (held bound, so nothing else takes it)."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


async def test_a_signed_message_verifies_on_the_receiver(client: httpx.AsyncClient) -> None:
    secret = new_secret()
    async with WebhookReceiver(secret) as receiver:
        status = await send(client, WebhookTarget(receiver.url, (secret,)), "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W")

    assert status == 204
    [message] = receiver.received
    assert message.message_id == "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"
    assert message.payload == {
        "type": "notice.created",
        "timestamp": "2026-03-02T09:30:15.250000Z",
        "data": {"notice": "7d0f3c9e", "count": 2},
    }
    assert message.headers["content-type"] == "application/json"
    assert message.headers["user-agent"] == USER_AGENT
    assert receiver.refused == ()


def test_the_payload_is_compact_json_in_the_recommended_envelope() -> None:
    assert PAYLOAD == (
        b'{"type":"notice.created","timestamp":"2026-03-02T09:30:15.250000Z","data":{"notice":"7d0f3c9e","count":2}}'
    )
    in_beijing = OCCURRED.astimezone(timezone(timedelta(hours=8)))
    assert json.loads(payload_for("a.b", in_beijing, {}))["timestamp"] == "2026-03-02T09:30:15.250000Z"
    with pytest.raises(ValueError, match="time zone"):
        payload_for("a.b", OCCURRED.replace(tzinfo=None), {})
    with pytest.raises(ValueError, match="event type"):
        payload_for("notice created", OCCURRED, {})


@pytest.mark.parametrize("receiver_knows", ["old", "new"])
async def test_during_a_rotation_a_receiver_knowing_either_secret_accepts(
    client: httpx.AsyncClient, receiver_knows: str
) -> None:
    old, new = new_secret(), new_secret()
    async with WebhookReceiver(old if receiver_knows == "old" else new) as receiver:
        await send(client, WebhookTarget(receiver.url, (old, new)))
        [message] = await receiver.await_received(1)

    assert message.message_id == "msg_1"
    assert len(message.headers["webhook-signature"].split(" ")) == 2
    assert all(s.startswith("v1,") for s in message.headers["webhook-signature"].split(" "))


async def test_a_receiver_with_another_secret_refuses_and_the_send_is_not_retried(
    client: httpx.AsyncClient,
) -> None:
    async with WebhookReceiver(new_secret()) as receiver:
        with pytest.raises(DeliveryFailed) as failed:
            await send(client, WebhookTarget(receiver.url, (new_secret(),)))

    assert failed.value.retryable is False
    assert failed.value.reason == "HTTP 401 Unauthorized"
    assert receiver.received == ()
    [refused] = receiver.refused
    assert refused.message_id == "msg_1"
    assert "signature" in refused.reason


async def test_a_503_is_worth_retrying_and_the_retry_keeps_the_message_id(client: httpx.AsyncClient) -> None:
    secret = new_secret()
    async with WebhookReceiver(secret) as receiver:
        target = WebhookTarget(receiver.url, (secret,))
        receiver.respond_next(503)
        with pytest.raises(DeliveryFailed) as failed:
            await send(client, target, "msg_stable")
        assert await send(client, target, "msg_stable") == 204

    assert failed.value.retryable is True
    assert failed.value.reason == "HTTP 503 Service Unavailable"
    assert [(a.message_id, a.status) for a in receiver.attempts] == [("msg_stable", 503), ("msg_stable", 204)]


async def test_the_same_message_sent_twice_carries_the_same_id(client: httpx.AsyncClient) -> None:
    secret = new_secret()
    async with WebhookReceiver(secret) as receiver:
        target = WebhookTarget(receiver.url, (secret,))
        await send(client, target, "01JN5Q0Z4B6V3XK9E2M7T8R1WD")
        await send(client, target, "01JN5Q0Z4B6V3XK9E2M7T8R1WD")

    assert [m.message_id for m in receiver.received] == ["01JN5Q0Z4B6V3XK9E2M7T8R1WD"] * 2
    assert [m.headers["webhook-id"] for m in receiver.received] == ["01JN5Q0Z4B6V3XK9E2M7T8R1WD"] * 2


@pytest.mark.parametrize(("status", "retryable"), [(408, True), (429, True), (500, True), (502, True), (404, False)])
async def test_which_statuses_are_worth_retrying(client: httpx.AsyncClient, status: int, retryable: bool) -> None:
    secret = new_secret()
    async with WebhookReceiver(secret) as receiver:
        receiver.respond_next(status)
        with pytest.raises(DeliveryFailed) as failed:
            await send(client, WebhookTarget(receiver.url, (secret,)))

    assert failed.value.retryable is retryable
    assert failed.value.reason.startswith(f"HTTP {status} ")
    assert not isinstance(failed.value, EndpointGone)


async def test_a_closed_port_is_worth_retrying(client: httpx.AsyncClient) -> None:
    with closed_port() as port, pytest.raises(DeliveryFailed) as failed:
        await send(client, WebhookTarget(f"http://127.0.0.1:{port}/hooks", (new_secret(),)))

    assert failed.value.retryable is True
    assert failed.value.reason == "connection failed (ConnectError: ConnectionRefusedError)"


async def test_a_receiver_that_never_answers_times_out_and_is_worth_retrying(client: httpx.AsyncClient) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)  # the connection is made by the kernel; nobody ever reads or answers
        target = WebhookTarget(f"http://127.0.0.1:{silent.getsockname()[1]}/hooks", (new_secret(),))
        with pytest.raises(DeliveryFailed) as failed:
            await send(client, target, within=0.2)

    assert failed.value.retryable is True
    assert failed.value.reason.startswith("timed out (")


async def test_410_means_the_endpoint_is_gone(client: httpx.AsyncClient) -> None:
    secret = new_secret()
    async with WebhookReceiver(secret) as receiver:
        receiver.respond_next(410)
        with pytest.raises(EndpointGone) as failed:
            await send(client, WebhookTarget(receiver.url, (secret,)))

    assert failed.value.retryable is False
    assert failed.value.reason.startswith("HTTP 410 Gone")
    assert isinstance(failed.value, DeliveryFailed)


@pytest.mark.parametrize("status", [301, 302, 307, 308])
async def test_a_redirect_is_not_followed(client: httpx.AsyncClient, status: int) -> None:
    secret = new_secret()
    async with WebhookReceiver(secret) as receiver:
        receiver.respond_next(status)  # pointing back at the receiver: a follow would be a second attempt
        with pytest.raises(DeliveryFailed) as failed:
            await send(client, WebhookTarget(receiver.url, (secret,)))

    assert failed.value.retryable is False
    assert failed.value.reason.startswith(f"HTTP {status} ")
    assert len(receiver.attempts) == 1
    assert receiver.received == ()


async def test_a_client_that_follows_redirects_by_default_still_does_not() -> None:
    secret = new_secret()
    async with WebhookReceiver(secret) as receiver, httpx.AsyncClient(follow_redirects=True) as following:
        receiver.respond_next(307)
        with pytest.raises(DeliveryFailed):
            await send(following, WebhookTarget(receiver.url, (secret,)))

    assert len(receiver.attempts) == 1


async def test_a_failure_reason_names_neither_payload_nor_url(client: httpx.AsyncClient) -> None:
    secret = new_secret()
    async with WebhookReceiver(secret) as receiver:
        url = receiver.url
        receiver.respond_next(500)
        with pytest.raises(DeliveryFailed) as failed:
            await send(client, WebhookTarget(url, (secret,)))

    assert "7d0f3c9e" not in failed.value.reason  # from the payload
    assert url not in failed.value.reason
    assert "127.0.0.1" not in failed.value.reason


def test_a_receiver_works_from_synchronous_code_too() -> None:
    secret = new_secret()
    with WebhookReceiver(secret) as receiver:
        target = WebhookTarget(receiver.url, (secret,))
        now = datetime.now(UTC)
        signature = Webhook(secret).sign("msg_sync", now, PAYLOAD)
        headers = {
            "webhook-id": "msg_sync",
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signature,
        }
        assert httpx.post(target.url, content=PAYLOAD, headers=headers).status_code == 204
        assert httpx.post(target.url, content=PAYLOAD, headers={**headers, "webhook-id": "msg_x"}).status_code == 401
        assert [m.message_id for m in receiver.wait_for(1)] == ["msg_sync"]


async def test_a_stale_attempt_timestamp_is_refused_by_the_receiver(client: httpx.AsyncClient) -> None:
    """Why each attempt passes its own ``sent_at``: receivers refuse old timestamps."""
    secret = new_secret()
    async with WebhookReceiver(secret) as receiver:
        with pytest.raises(DeliveryFailed):
            await post_webhook(
                client,
                WebhookTarget(receiver.url, (secret,)),
                message_id="msg_1",
                sent_at=datetime.now(UTC) - timedelta(hours=1),
                payload=PAYLOAD,
            )

    [refused] = receiver.refused
    assert "too old" in refused.reason


def test_new_secrets_are_32_random_bytes_in_the_whsec_form() -> None:
    one, two = new_secret(), new_secret()
    assert one.startswith("whsec_")
    assert len(base64.b64decode(one.removeprefix("whsec_"), validate=True)) == 32
    assert one != two


@pytest.mark.parametrize(
    "url", ["ftp://example.com/hooks", "file:///etc/passwd", "javascript:alert(1)", "example.com/hooks", "http:///x"]
)
def test_a_target_refuses_anything_but_http_and_https(url: str) -> None:
    with pytest.raises(ValueError, match="http"):
        WebhookTarget(url, (new_secret(),))


@pytest.mark.parametrize(
    "secrets",
    [(), ("not-a-secret",), ("whsec_!!!",), ("whsec_" + "QUJD",)],  # the last is 3 bytes: too short
)
def test_a_target_refuses_missing_or_malformed_secrets(secrets: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="secret"):
        WebhookTarget("https://example.com/hooks", secrets)


def test_a_secret_without_base64_padding_is_accepted_as_the_library_accepts_it() -> None:
    unpadded = "whsec_" + base64.b64encode(bytes(range(25))).decode().rstrip("=")
    WebhookTarget("https://example.com/hooks", (unpadded,))
    Webhook(unpadded)


def test_a_target_keeps_its_secrets_out_of_its_repr() -> None:
    secret = new_secret()
    target = WebhookTarget("https://example.com/hooks", (secret,))
    assert secret not in repr(target)
    assert "https://example.com/hooks" in repr(target)


@pytest.mark.parametrize("message_id", ["", "msg.1", "msg 1", "msg\n1"])
async def test_a_message_id_that_could_confuse_the_signature_is_refused(
    client: httpx.AsyncClient, message_id: str
) -> None:
    with pytest.raises(ValueError, match="message id"):
        await send(client, WebhookTarget("https://example.com/hooks", (new_secret(),)), message_id)
