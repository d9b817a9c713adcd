"""Query codes (查询码): issued with a case, printed on its receipt, reissued by a steward."""

from __future__ import annotations

import hmac
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncSession

from schemas.worker_side import QueryCodeOut
from service.adapters.limits import Counters, LimitsUnavailable
from service.domain.query_code import format_query_code, hash_purpose, new_query_code, normalise_query_code
from service.errors import Conflict, Invalid
from service.models import Case
from service.repositories import reference as reference_repo
from service.security.kit import SecurityKit
from service.services import audit
from service.services.context import Context
from service.services.reach import reached_case
from service.services.timeline import remark

API = "/api/v1"
log = logging.getLogger("banshi.query_codes")


def _hash(kit: SecurityKit, case_id: uuid.UUID, code: str) -> bytes:
    return kit.pii.index(normalise_query_code(code), hash_purpose(case_id))


def issue(kit: SecurityKit, case: Case) -> str:
    """A fresh code for ``case``; its hash replaces any earlier one."""
    code = new_query_code()
    case.query_code_hash = _hash(kit, case.id, code)
    return code


def matches(kit: SecurityKit, case: Case, code: str) -> bool:
    if case.query_code_hash is None:
        return False
    return hmac.compare_digest(case.query_code_hash, _hash(kit, case.id, code))


def receipt_url(case_path: str, code: str) -> str:
    return f"{API}{case_path}/receipt?code={quote(code)}"


def lockout_key(case_no: str) -> str:
    return f"lookup:wrong-code:{case_no}"


async def reissue(session: AsyncSession, ctx: Context, counters: Counters, case_id: uuid.UUID) -> QueryCodeOut:
    """A steward gives the worker a new code (the old one stops working) and lifts a
    lookup lockout on the case number."""
    async with session.begin():
        case = await reached_case(session, ctx, case_id, for_update=True)
        code = issue(ctx.kit, case)
        session.add(remark(ctx, case, "reissue_code"))
        await session.flush()
        await audit.record(ctx, session, "case.query_code", target_type="case", target_id=case.id)
    try:
        await counters.clear(lockout_key(case.case_no))
    except LimitsUnavailable:
        # The new code is committed and must reach the steward; a lock, if any, ends by itself.
        log.warning("could not lift the lookup lock of %s: the counter store does not answer", case.case_no)
    return QueryCodeOut(
        case_id=case.id, case_no=case.case_no, query_code=code, receipt_url=receipt_url(f"/cases/{case.id}", code)
    )


@dataclass(frozen=True, slots=True)
class Receipt:
    case_no: str
    item_code: str
    item_title: str
    title: str
    promised_working_days: int
    received_at: datetime
    query_code: str


async def receipt(session: AsyncSession, ctx: Context, case_id: uuid.UUID, code: str) -> Receipt:
    """The receipt's contents. The code is not stored, so the caller brings it (from the
    creation response) and it is checked against the case before it is printed."""
    async with session.begin():
        case = await reached_case(session, ctx, case_id)
        if case.query_code_hash is None:
            raise Conflict("the case has no query code yet; issue one first", field="code")
        if not matches(ctx.kit, case, code):
            raise Invalid("query.code", "is not this case's current query code")
        item = await reference_repo.get_item(session, case.item_id)
        assert item is not None  # the foreign key guarantees it
        return Receipt(
            case_no=case.case_no,
            item_code=item.code,
            item_title=item.title_zh,
            title=case.title,
            promised_working_days=case.promised_working_days or item.promised_working_days,
            received_at=case.created_at,
            query_code=format_query_code(code),
        )
