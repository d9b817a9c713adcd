"""``banshi demo-worker``: one science worker with an account and a case waiting for
their materials, so a newcomer can try the worker's side end to end (look the case up
with the query code from its receipt, sign in, answer with a PDF).

Everything is made through the same use cases the API runs, as the ``admin`` account,
so the timeline, the audit trail and the query code's hash are as in real use.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from schemas import cases as case_api
from schemas.people import StaffIn, WorkerIn
from service.domain.access import Principal, Role, SessionScope
from service.domain.identity import id_check_character
from service.models.base import utcnow
from service.repositories.accounts import account_by_username
from service.repositories.reference import list_items
from service.security.kit import SecurityKit
from service.services import cases
from service.services.accounts import bootstrap_account
from service.services.context import Context
from service.services.staff import create_staff
from service.services.workers import create_worker


@dataclass(frozen=True, slots=True)
class DemoWorker:
    username: str
    password: str
    case_id: uuid.UUID
    case_no: str
    query_code: str


def _national_id() -> str:
    """A valid-looking Chongqing resident ID number, random in its serial part."""
    first17 = f"50010319900101{secrets.randbelow(1000):03d}"
    return first17 + id_check_character(first17)


async def make_demo_worker(session: AsyncSession, kit: SecurityKit, reopen_window_days: int) -> DemoWorker:
    async with session.begin():
        admin = await account_by_username(session, "admin")
    if admin is None:
        raise LookupError("there is no account named admin; start the service once (`banshi serve`) first")
    admin_id = admin.id
    caller = Principal(
        account_id=admin_id,
        username="admin",
        role=Role.ADMIN,
        session_id=uuid.uuid4(),
        scope=SessionScope.FULL,
        client_addr="command line",
    )
    ctx = Context(caller=caller, now=utcnow(), kit=kit)
    steward = await create_staff(
        session,
        ctx,
        StaffIn(name="示范专员", role="steward", district_code="yubei", work_phone="023-67000000"),
    )
    worker = await create_worker(
        session,
        ctx,
        WorkerIn(
            name="张明远",
            national_id=_national_id(),
            mobile="13800000000",
            employer="重庆大学",
            district_code="yubei",
            steward_id=steward.id,
        ),
    )
    username = f"worker-{secrets.token_hex(3)}"
    password = "Demo-" + secrets.token_urlsafe(9)
    await bootstrap_account(session, kit, Role.WORKER, username, password, ctx.now, worker_id=worker.id)
    async with session.begin():
        listed = await list_items(session, None, True)
    items = [i.id for i in listed if i.code == "WL-01" and i.year <= ctx.now.year]
    if not items:
        raise LookupError("the work list has no active item WL-01; run `banshi load-reference`")
    created = await cases.create_case(
        session,
        ctx,
        case_api.CaseIn(worker_id=worker.id, item_id=items[-1], title="申请人才公寓", channel="website"),
        None,
    )
    rules = cases.MoveRules(reopen_window_days=reopen_window_days)
    case, etag = created.case, created.etag
    for move in (
        case_api.Accept(note="材料已收到，开始审核", visibility="public"),
        case_api.RequestMaterials(materials="请上传最高学历证明（PDF）", visibility="public"),
    ):
        moved, etag = await cases.move_case(session, ctx, case.id, move, etag, rules)
    assert created.case.query_code is not None  # a first creation always carries it
    return DemoWorker(username, password, moved.id, moved.case_no, created.case.query_code)
