"""Notices leaving the service: real ``banshi worker`` processes take the queue's jobs and
send to a real SMTP server (aiosmtpd), a fake of Tencent Cloud's SMS API that checks the
signature, and a webhook receiver that verifies with the Standard Webhooks library, all
on loopback. Each delivery is sent once with two workers running, a change rolled back
queues nothing, a text message at night waits for the morning, and a worker killed
mid-send has its job taken up again with the same message id."""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from service.adapters.webhooks import new_secret
from service.config import Settings, async_url, security_kit
from service.domain.deliveries import CHINA, sms_not_before
from service.security.keys import Keys
from service.services.deliveries import secret_context
from tests.factory import Api
from tests.fakes.loopback import LoopbackServer
from tests.fakes.sms import TENCENT_SDK_APP_ID, TENCENT_SECRET_ID, TENCENT_SECRET_KEY, FakeTencentSms
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.live import ROOT, free_port, service_env

LIAISON_EMAIL = "housing-liaison@example.gov.cn"
SMS_TEMPLATES = {"case.logged": "2001001", "case.accepted": "2001002"}


class Inbox:
    """An SMTP server's handler that keeps what it is sent."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        with self._lock:
            content = envelope.content or b""
            self.messages.append((list(envelope.rcpt_tos), content.encode() if isinstance(content, str) else content))
        return "250 OK queued as test"

    def wait_for(self, count: int, timeout: float = 20.0) -> list[tuple[list[str], bytes]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.05)
        raise AssertionError(f"expected {count} e-mails, got {len(self.messages)}")


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    made = create_async_engine(async_url(settings.database_url or ""))
    try:
        yield made
    finally:
        await made.dispose()


async def offer_everything(engine: AsyncEngine, settings: Settings, receiver_url: str, secret: str) -> None:
    """What an administrator does: offer e-mail and text messages, register two text
    templates, subscribe a webhook to cases being logged."""
    pii = security_kit(settings).pii
    subscription = uuid.uuid4()
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE notice_setting SET email_offered = true, sms_offered = true, "
                "sms_templates = CAST(:t AS jsonb) WHERE id = 1"
            ),
            {"t": json.dumps(SMS_TEMPLATES)},
        )
        await conn.execute(
            text(
                "INSERT INTO webhook_subscription (id, name, url, event_types, secret_sealed, active, "
                "created_at, updated_at) VALUES (:id, '市政务服务平台', :url, CAST(:types AS varchar[]), :secret, "
                "true, now(), now())"
            ),
            {
                "id": subscription,
                "url": receiver_url,
                "types": ["case.logged"],
                "secret": pii.seal(secret, secret_context(subscription)),
            },
        )
        await conn.execute(text("UPDATE staff SET email = :e WHERE role = 'liaison'"), {"e": LIAISON_EMAIL})


@asynccontextmanager
async def workers(
    count: int, keys: Keys, settings: Settings, folder: Path, smtp_port: int, sms_url: str, stalled_after: float = 30
) -> AsyncIterator[list[asyncio.subprocess.Process]]:
    env = service_env(
        keys,
        settings.database_url or "",
        folder,
        BANSHI_SMTP_HOST="127.0.0.1",
        BANSHI_SMTP_PORT=str(smtp_port),
        BANSHI_SMTP_SECURITY="none",
        BANSHI_SMS_PROVIDER="tencent",
        BANSHI_SMS_KEY_ID=TENCENT_SECRET_ID,
        BANSHI_SMS_KEY_SECRET=TENCENT_SECRET_KEY,
        BANSHI_SMS_APP_ID=TENCENT_SDK_APP_ID,
        BANSHI_SMS_SIGN_NAME="重庆科协",
        BANSHI_SMS_ENDPOINT=sms_url,
        BANSHI_REMINDER_SECONDS="0",
        BANSHI_LOG_FORMAT="text",
    )
    started = []
    for n in range(count):
        log = (folder / f"worker-{n}.log").open("wb")
        started.append(
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                "from service.cli import main; main()",
                "worker",
                "--stalled-after",
                str(stalled_after),
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
            )
        )
    try:
        yield started
    finally:
        for process in started:
            if process.returncode is None:
                process.terminate()
        for process in started:
            try:
                await asyncio.wait_for(process.wait(), timeout=15)
            except TimeoutError:
                process.kill()


async def statuses(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT channel || ':' || status, count(*) FROM delivery GROUP BY 1"))).all()
    return {key: int(n) for key, n in rows}


async def settled(engine: AsyncEngine, expected: dict[str, int], within: float = 30) -> dict[str, int]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = await statuses(engine)
        if found == expected:
            return found
        await asyncio.sleep(0.2)
    return await statuses(engine)


async def people(client: AsyncTestClient[Litestar]) -> tuple[Api, Api, dict[str, Any], Api]:
    admin = Api(client)
    steward, staff = await admin.steward_account("李专员")
    worker = await admin.worker(staff["id"], name="张三明")
    housing, _ = await admin.liaison_account("housing")
    return steward, housing, worker, admin


async def log_case(steward: Api, worker: dict[str, Any]) -> dict[str, Any]:
    item = await steward.item()
    body = {"worker_id": worker["id"], "item_id": item["id"], "title": "申请人才公寓", "channel": "phone"}
    case: dict[str, Any] = await steward.ok("POST", "/cases", 201, json=body)
    return case


async def test_two_workers_send_each_delivery_once_on_every_channel(
    client: AsyncTestClient[Litestar],
    settings: Settings,
    test_keys: Keys,
    engine: AsyncEngine,
    smtp: tuple[Inbox, int],
    tmp_path: Path,
) -> None:
    inbox, smtp_port = smtp
    secret = new_secret()
    steward, housing, worker, _ = await people(client)
    with FakeTencentSms(templates=set(SMS_TEMPLATES.values())) as sms, WebhookReceiver(secret) as receiver:
        await offer_everything(engine, settings, receiver.url, secret)
        # The service's clock says 10:00 in Chongqing (a text message at night waits for 08:00).
        case = await log_case(steward, worker)
        queued = await statuses(engine)
        assert queued == {"sms:pending": 1, "email:pending": 1, "webhook:pending": 1}, queued
        async with workers(2, test_keys, settings, tmp_path, smtp_port, sms.url):
            found = await settled(engine, {"sms:sent": 1, "email:sent": 1, "webhook:sent": 1})
            assert found == {"sms:sent": 1, "email:sent": 1, "webhook:sent": 1}, (found, _logs(tmp_path))
            await housing.move(case, "accept")  # the worker is told by text again (a registered template)
            found = await settled(engine, {"sms:sent": 2, "email:sent": 1, "webhook:sent": 1})
            assert found == {"sms:sent": 2, "email:sent": 1, "webhook:sent": 1}, (found, _logs(tmp_path))
            await asyncio.sleep(1.0)  # time for a second send, were there one

        # The worker's receipt: the registered template's variables, with the query code shown once.
        texts = sms.received
        assert len(texts) == 2
        receipt = next(t for t in texts if t.template_id == SMS_TEMPLATES["case.logged"])
        assert receipt.mobile == "+8613812345678" and receipt.sign_name == "重庆科协"
        values = [value for _, value in receipt.params]
        assert case["case_no"] in values and case["query_code"] in values and "人才住房保障" in values
        notice_ids = await _notice_ids(engine, "case.logged")
        assert receipt.message_id in notice_ids  # the notice's own id, the same on every channel

        # The liaison's e-mail: the department was told, with the notice's id as Message-ID.
        mails = inbox.wait_for(1)
        assert len(mails) == 1 and mails[0][0] == [LIAISON_EMAIL]
        routed = await _notice_ids(engine, "case.routed_to_department")
        assert any(f"<{nid}@" in mails[0][1].decode() for nid in routed)
        assert case["query_code"] not in mails[0][1].decode()  # the code is the worker's alone

        # The webhook: once for the event (not once per person told), verified by the receiver.
        hooks = receiver.received
        assert len(hooks) == 1 and receiver.refused == ()
        assert hooks[0].payload["type"] == "case.logged" and hooks[0].payload["data"]["case_no"] == case["case_no"]
        assert "张三明" not in json.dumps(hooks[0].payload, ensure_ascii=False)

    async with engine.connect() as conn:
        sent = await conn.scalar(
            text("SELECT count(*) FROM audit_event WHERE action = 'delivery.sent' AND outcome = 'success'")
        )
        erased = await conn.scalar(
            text("SELECT count(*) FROM delivery WHERE channel <> 'webhook' AND payload_sealed IS NOT NULL")
        )
    assert sent == 4  # every external send is audited
    assert erased == 0  # a person's message is not kept once sent


async def test_a_refused_send_is_parked_and_a_failing_one_retried(
    client: AsyncTestClient[Litestar],
    settings: Settings,
    test_keys: Keys,
    engine: AsyncEngine,
    smtp: tuple[Inbox, int],
    tmp_path: Path,
) -> None:
    """The provider refuses the template for good: parked at once, with the provider's
    code and nothing personal. The webhook receiver is down once: sent at the retry."""
    _, smtp_port = smtp
    secret = new_secret()
    steward, _, worker, _ = await people(client)
    with FakeTencentSms(templates={"9999999"}) as sms, WebhookReceiver(secret) as receiver:
        await offer_everything(engine, settings, receiver.url, secret)
        receiver.respond_next(503)
        await log_case(steward, worker)
        async with workers(1, test_keys, settings, tmp_path, smtp_port, sms.url):
            expected = {"sms:parked": 1, "email:sent": 1, "webhook:sent": 1}
            found = await settled(engine, expected, within=60)
            assert found == expected, (found, _logs(tmp_path))
        assert len(receiver.received) == 1 and sms.received == ()
    async with engine.connect() as conn:
        parked = (await conn.execute(text("SELECT attempts, last_error FROM delivery WHERE channel = 'sms'"))).one()
        webhook = (await conn.execute(text("SELECT attempts FROM delivery WHERE channel = 'webhook'"))).one()
    assert parked.attempts == 1 and "13812345678" not in parked.last_error
    assert webhook.attempts == 2


async def test_a_change_rolled_back_queues_nothing(
    client: AsyncTestClient[Litestar], settings: Settings, engine: AsyncEngine
) -> None:
    secret = new_secret()
    steward, _, worker, _ = await people(client)
    await offer_everything(engine, settings, "http://127.0.0.1:9/hooks", secret)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "CREATE FUNCTION refuse_case() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "RAISE EXCEPTION 'refused' USING ERRCODE = 'serialization_failure'; END $$"
            )
        )
        await conn.execute(
            text(
                "CREATE TRIGGER refuse_case BEFORE INSERT ON audit_event FOR EACH ROW "
                "WHEN (NEW.action = 'case.create') EXECUTE FUNCTION refuse_case()"
            )
        )
    item = await steward.item()
    refused = await steward.send(
        "POST", "/cases", json={"worker_id": worker["id"], "item_id": item["id"], "title": "申请", "channel": "phone"}
    )
    assert refused.status_code in (409, 503), refused.text
    async with engine.connect() as conn:
        deliveries = await conn.scalar(text("SELECT count(*) FROM delivery"))
        jobs = await conn.scalar(text("SELECT count(*) FROM procrastinate_jobs"))
        notices = await conn.scalar(text("SELECT count(*) FROM notification"))
    assert (deliveries, jobs, notices) == (0, 0, 0)
    async with engine.begin() as conn:
        await conn.execute(text("DROP TRIGGER refuse_case ON audit_event"))
    await log_case(steward, worker)  # once the database takes it, its deliveries are queued with it
    async with engine.connect() as conn:
        jobs = await conn.scalar(text("SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo'"))
        deliveries = await conn.scalar(text("SELECT count(*) FROM delivery"))
    assert deliveries >= 2 and jobs == deliveries


def test_text_messages_wait_for_the_morning() -> None:
    at = datetime(2026, 10, 9, 23, 30, tzinfo=CHINA)
    assert sms_not_before(at) == datetime(2026, 10, 10, 8, 0, tzinfo=CHINA)
    assert sms_not_before(datetime(2026, 10, 10, 6, 0, tzinfo=CHINA)) == datetime(2026, 10, 10, 8, 0, tzinfo=CHINA)
    noon = datetime(2026, 10, 10, 12, 0, tzinfo=CHINA)
    assert sms_not_before(noon) == noon
    assert sms_not_before(datetime(2026, 10, 10, 21, 59, tzinfo=CHINA)) == datetime(2026, 10, 10, 21, 59, tzinfo=CHINA)
    assert sms_not_before(datetime(2026, 10, 10, 22, 0, tzinfo=CHINA)) == datetime(2026, 10, 11, 8, 0, tzinfo=CHINA)


class HangingReceiver(LoopbackServer):
    """A webhook receiver that takes the first request and never answers it (the sender
    is killed meanwhile), then answers every later one with 204; it keeps each request's
    ``webhook-id``."""

    _thread_name = "hanging-receiver"

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.first_arrived = threading.Event()
        self.release = threading.Event()

    @property
    def url(self) -> str:
        return f"{self.origin}/hooks"

    def _new_server(self) -> ThreadingHTTPServer:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", "0")))
                outer.ids.append(self.headers["webhook-id"])
                if len(outer.ids) == 1:
                    outer.first_arrived.set()
                    outer.release.wait(60)
                    return
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        return server

    def stop(self) -> None:
        self.release.set()  # the first request's thread returns, so the server can shut down
        super().stop()


async def test_a_worker_killed_mid_send_is_taken_up_again_with_the_same_message_id(
    client: AsyncTestClient[Litestar],
    settings: Settings,
    test_keys: Keys,
    engine: AsyncEngine,
    smtp: tuple[Inbox, int],
    tmp_path: Path,
) -> None:
    _, smtp_port = smtp
    steward, _, worker, _ = await people(client)
    with HangingReceiver() as receiver:
        await offer_everything(engine, settings, receiver.url, new_secret())
        async with engine.begin() as conn:  # only the webhook goes out in this test
            await conn.execute(text("UPDATE notice_setting SET email_offered = false, sms_offered = false"))
        await log_case(steward, worker)
        async with workers(1, test_keys, settings, tmp_path, smtp_port, "http://127.0.0.1:9", stalled_after=2) as (
            first,
        ):
            assert await asyncio.to_thread(receiver.first_arrived.wait, 30), _logs(tmp_path)
            first.kill()  # mid-send: the request is out, its answer never comes
            await first.wait()
        assert await statuses(engine) == {"webhook:pending": 1}
        async with workers(1, test_keys, settings, tmp_path, smtp_port, "http://127.0.0.1:9", stalled_after=2):
            found = await settled(engine, {"webhook:sent": 1}, within=40)
            assert found == {"webhook:sent": 1}, (found, _logs(tmp_path))
    assert len(receiver.ids) == 2 and receiver.ids[0] == receiver.ids[1]


async def _notice_ids(engine: AsyncEngine, kind: str) -> set[str]:
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT id FROM notification WHERE kind = :k"), {"k": kind})).scalars()
        return {str(r) for r in rows}


def _logs(folder: Path) -> str:
    return "\n".join(p.read_text(errors="replace")[-2000:] for p in sorted(folder.glob("worker-*.log")))
