"""Delivery throughput per channel: N deliveries queued, one worker (the one `banshi
worker` runs, concurrency 4) sending them to a loopback receiver of each protocol: the
aiosmtpd SMTP server, the Tencent Cloud SMS fake (which checks every signature) and a
Standard Webhooks receiver (which verifies every signature). Prints messages per second
and the time to drain the queue. Run by hand:

    uv run --group dev python bench/deliveries.py [--count 2000] [--concurrency 4]

Each send holds its delivery's row for the round trip and writes one audit record, so
the figures include the audit chain's serialisation, as production does.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from harness import REPO, banshi_command, clean_environ, fresh_database, generate_keys, machine_line

sys.path.insert(0, str(REPO))

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
DATABASE = "banshi_bench_deliveries"


async def seed(sessions: Any, pii: Any, channel: str, count: int, subscription: uuid.UUID | None) -> None:
    """``count`` notices to one person, each with one delivery on ``channel``, queued."""
    import msgspec
    from sqlalchemy import text

    from service.repositories.deliveries import queue_jobs
    from service.services.deliveries import sealing_context

    now = datetime.now(UTC) - timedelta(minutes=1)
    async with sessions() as session, session.begin():
        steward = await session.scalar(text("SELECT id FROM staff WHERE name = '基准专员'"))
        worker = await session.scalar(text("SELECT id FROM worker LIMIT 1"))
        rows, deliveries = [], []
        for _ in range(count):
            notice, delivery = uuid.uuid4(), uuid.uuid4()
            to_worker = channel == "sms"
            rows.append(
                {
                    "id": notice,
                    "k": str(notice),
                    "w": worker if to_worker else None,
                    "s": None if to_worker else steward,
                }
            )
            if channel == "sms":
                message: dict[str, Any] = {"template_id": "2001001", "params": [["case_no", "BS-1"], ["x", "人才"]]}
            elif channel == "email":
                message = {"subject": "办件提醒：BS-1", "body": "“人才住房保障”办件即将超期，请抓紧办理。"}
            else:
                message = {"type": "case.overdue", "timestamp": now.isoformat(), "data": {"case_no": "BS-1"}}
            sealed = pii.seal(msgspec.json.encode(message).decode(), sealing_context(delivery))
            deliveries.append(
                {
                    "id": delivery,
                    "key": f"{notice}:{channel}",
                    "mid": str(delivery if channel == "webhook" else notice),
                    "ch": channel,
                    "n": notice,
                    "sub": subscription if channel == "webhook" else None,
                    "p": sealed,
                    "at": now,
                }
            )
        await session.execute(
            text(
                "INSERT INTO notification (id, dedupe_key, kind, worker_id, staff_id, title, body, created_at) "
                "VALUES (:id, :k, 'case.overdue', :w, :s, 't', 'b', now())"
            ),
            rows,
        )
        await session.execute(
            text(
                "INSERT INTO delivery (id, dedupe_key, message_id, channel, kind, notification_id, subscription_id, "
                "status, attempts, not_before, payload_sealed, created_at, updated_at) VALUES (:id, :key, :mid, :ch, "
                "'case.overdue', :n, :sub, 'pending', 0, :at, :p, :at, :at)"
            ),
            deliveries,
        )
        await queue_jobs(session, [(d["id"], d["at"]) for d in deliveries])


async def people(sessions: Any, pii: Any) -> uuid.UUID:
    from sqlalchemy import text

    from service.models.people import Worker

    steward = uuid.uuid4()
    async with sessions() as session, session.begin():
        await session.execute(
            text(
                "INSERT INTO staff (id, name, role, district_code, email, active, created_at, updated_at) "
                "VALUES (:id, '基准专员', 'steward', 'yubei', 'steward@example.gov.cn', true, now(), now())"
            ),
            {"id": steward},
        )
        worker_id = uuid.uuid4()
        session.add(
            Worker(
                id=worker_id,
                name="基准",
                national_id_sealed=b"x",
                national_id_index=uuid.uuid4().bytes,
                mobile_sealed=pii.seal("13812345678", f"worker:{worker_id}:mobile"),
                mobile_index=b"m",
                employer="重庆大学",
                district_code="yubei",
                steward_id=steward,
            )
        )
    return steward


async def drain(sessions: Any, channel: str, count: int, deadline: float) -> float:
    from sqlalchemy import text

    started = time.perf_counter()
    while time.perf_counter() - started < deadline:
        async with sessions() as session, session.begin():
            sent = await session.scalar(
                text("SELECT count(*) FROM delivery WHERE channel = :c AND status = 'sent'"), {"c": channel}
            )
        if sent >= count:
            return time.perf_counter() - started
        await asyncio.sleep(0.05)
    raise SystemExit(f"{channel}: {sent} of {count} sent within {deadline} s")


async def run(count: int, concurrency: int) -> None:
    import httpx
    from aiosmtpd.controller import Controller
    from sqlalchemy import text

    from service.adapters.mail import SmtpServer
    from service.adapters.outbound import Outbound
    from service.adapters.sms import TencentSms
    from service.adapters.webhooks import new_secret
    from service.config import security_kit
    from service.db import make_engine, make_session_factory
    from service.security.keys import keys_from
    from service.services.deliveries import secret_context
    from service.worker import deliver_forever
    from tests.fakes.sms import TENCENT_SDK_APP_ID, TENCENT_SECRET_ID, TENCENT_SECRET_KEY, FakeTencentSms
    from tests.fakes.webhook_receiver import WebhookReceiver
    from tests.live import free_port

    version = await fresh_database(ADMIN_DSN, DATABASE)
    url = f"postgresql://postgres@127.0.0.1:5432/{DATABASE}"
    keys_env = generate_keys()
    env = {**clean_environ(), **keys_env, "DATABASE_URL": url}
    banshi_command(env, "db", "upgrade")
    banshi_command(env, "load-reference")
    keys = keys_from(keys_env)
    assert keys is not None
    import dataclasses

    from service.config import read_settings

    kit = security_kit(dataclasses.replace(read_settings(), keys=keys))
    engine = make_engine(url, pool_size=concurrency + 2)
    sessions = make_session_factory(engine)
    await people(sessions, kit.pii)

    class Swallow:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            return "250 OK"

    smtp_port = free_port()
    smtp = Controller(Swallow(), hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    secret = new_secret()
    print(machine_line(version))
    print(f"{count} deliveries per channel, one worker, concurrency {concurrency}")
    try:
        with FakeTencentSms() as sms_api, WebhookReceiver(secret) as receiver:
            subscription = uuid.uuid4()
            async with sessions() as session, session.begin():
                await session.execute(
                    text(
                        "INSERT INTO webhook_subscription (id, name, url, event_types, secret_sealed, active, "
                        "created_at, updated_at) VALUES (:id, 'bench', :url, ARRAY['case.overdue']::varchar[], :s, "
                        "true, now(), now())"
                    ),
                    {"id": subscription, "url": receiver.url, "s": kit.pii.seal(secret, secret_context(subscription))},
                )
            http = httpx.AsyncClient(timeout=10, limits=httpx.Limits(max_connections=concurrency * 2))
            outbound = Outbound(
                smtp=SmtpServer(host="127.0.0.1", port=smtp_port, starttls=False),
                sms=TencentSms(
                    secret_id=TENCENT_SECRET_ID,
                    secret_key=TENCENT_SECRET_KEY,
                    sdk_app_id=TENCENT_SDK_APP_ID,
                    sign_name="重庆科协",
                    endpoint=sms_api.url,
                    client=http,
                ),
                http=http,
            )
            for channel in ("webhook", "sms", "email"):
                await seed(sessions, kit.pii, channel, count, subscription)
                worker = asyncio.create_task(deliver_forever(url, sessions, kit, outbound, concurrency=concurrency))
                seconds = await drain(sessions, channel, count, deadline=600)
                worker.cancel()
                await asyncio.gather(worker, return_exceptions=True)
                print(f"{channel:8} {count / seconds:8.1f} messages/s   drained in {seconds:6.2f} s")
            await outbound.close()
    finally:
        smtp.stop()
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    asyncio.run(run(args.count, args.concurrency))


if __name__ == "__main__":
    main()
