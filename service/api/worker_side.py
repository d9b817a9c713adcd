"""The science worker's side: the public lookup and the worker's own cases."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from schemas.worker_side import (
    SYMBOLS,
    CaseNo,
    CaseRequestIn,
    LookupOut,
    MaterialsAnswerIn,
    OwnCaseCreated,
    OwnCaseOut,
    OwnCasePage,
    QueryCode,
    WithdrawIn,
)
from service.api.access import PUBLIC, client_address, needs
from service.api.completion_notices import completion_notice_html
from service.api.deps import Config, Ctx, Db, Kit, Limits, Now, Page
from service.api.documented_errors import PROBLEMS
from service.api.receipts import receipt_html
from service.config import Settings
from service.domain.access import Permission
from service.services import completion_notices, own_cases, query_codes
from service.services import lookup as lookup_service
from service.services.cases import MoveRules

CodeParam = Annotated[
    QueryCode,
    QueryParameter(
        name="code", description="The query code printed on the receipt", min_length=4, max_length=16, pattern=SYMBOLS
    ),
]
NO_STORE = {"Cache-Control": "no-store"}


CaseNoParam = Annotated[
    CaseNo,
    QueryParameter(
        name="case_no", description="The case number (受理编号)", min_length=1, max_length=24, pattern=SYMBOLS
    ),
]


def portal_url(request: Request[Any, Any, Any]) -> str:
    """The worker's page, which the service serves at its root."""
    return f"{str(request.base_url).rstrip('/')}/"


def lookup_url(request: Request[Any, Any, Any]) -> str:
    return f"{portal_url(request)}#/lookup"


def receipt_response(request: Request[Any, Any, Any], receipt: query_codes.Receipt) -> Response[str]:
    return Response(receipt_html(receipt, lookup_url(request)), media_type="text/html", headers=NO_STORE)


def completion_notice_response(
    request: Request[Any, Any, Any], notice: completion_notices.CompletionNotice, now: datetime
) -> Response[str]:
    page = completion_notice_html(notice, portal_url(request), lookup_url(request), now)
    return Response(page, media_type="text/html", headers=NO_STORE)


def lookup_limits(settings: Settings) -> lookup_service.LookupLimits:
    return lookup_service.LookupLimits(
        per_address=settings.lookup_limit_per_address,
        address_window_seconds=600,
        lock_threshold=settings.lookup_lock_threshold,
        lock_seconds=settings.lookup_lock_minutes * 60,
    )


class LookupController(Controller):
    path = "/lookup"
    tags = ["lookup"]

    @get(
        "/",
        summary="Where a case stands, by case number and query code (no sign-in)",
        description=(
            "A wrong number and a wrong code answer alike (404). Limited per client address, and a case "
            "number locks for a while after repeated wrong codes (429 with Retry-After)."
        ),
        opt={PUBLIC: True, PROBLEMS: (404, 429)},
    )
    async def lookup(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        kit: Kit,
        now: Now,
        settings: Config,
        counters: Limits,
        case_no: CaseNoParam,
        code: CodeParam,
    ) -> Response[LookupOut]:
        found = await lookup_service.lookup(
            db,
            kit,
            counters,
            lookup_limits(settings),
            case_no=case_no,
            code=code,
            client_addr=client_address(request),
            now=now,
        )
        return Response(found, headers=NO_STORE)

    @get(
        "/completion-notice",
        summary="The printable completion notice of a resolved case, by case number and query code (no sign-in)",
        description=(
            "The worker's name is masked. Counted against the lookup's limits: a wrong number or code answers "
            "404 and counts as a wrong code for that case number; a case not resolved answers 409."
        ),
        media_type="text/html",
        opt={PUBLIC: True, PROBLEMS: (404, 409, 429)},
    )
    async def completion_notice(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        kit: Kit,
        now: Now,
        settings: Config,
        counters: Limits,
        case_no: CaseNoParam,
        code: CodeParam,
    ) -> Response[str]:
        notice = await lookup_service.completion_notice(
            db,
            kit,
            counters,
            lookup_limits(settings),
            case_no=case_no,
            code=code,
            client_addr=client_address(request),
            reopen_window_days=settings.reopen_window_days,
        )
        return completion_notice_response(request, notice, now)


class OwnCaseController(Controller):
    path = "/my/cases"
    tags = ["my cases"]

    @get("/", summary="My cases, the newest first", opt=needs(Permission.OWN_CASES))
    async def list_own(self, db: Db, ctx: Ctx, paging: Page) -> OwnCasePage:
        return await own_cases.list_own(db, ctx, paging.limit, paging.offset)

    @post(
        "/",
        summary="Submit a request for a work-list item; it lands as submitted with my steward",
        status_code=HTTP_201_CREATED,
        opt=needs(Permission.OWN_CASES),
    )
    async def submit(self, db: Db, ctx: Ctx, data: JSONBody[CaseRequestIn]) -> OwnCaseCreated:
        return await own_cases.submit(db, ctx, data)

    @get(
        "/{case_id:uuid}",
        summary="My case: public timeline, due date, steward, what is awaited",
        opt=needs(Permission.OWN_CASES),
    )
    async def read_own(self, db: Db, ctx: Ctx, case_id: FromPath[uuid.UUID]) -> OwnCaseOut:
        return await own_cases.read_own(db, ctx, case_id)

    @post(
        "/{case_id:uuid}/materials",
        summary="Answer a request for materials with a note and uploaded files",
        status_code=HTTP_200_OK,
        opt=needs(Permission.OWN_CASES),
    )
    async def answer_materials(
        self, db: Db, ctx: Ctx, case_id: FromPath[uuid.UUID], data: JSONBody[MaterialsAnswerIn]
    ) -> OwnCaseOut:
        return await own_cases.answer_materials(db, ctx, case_id, data)

    @post(
        "/{case_id:uuid}/withdraw",
        summary="Withdraw my open request, with a reason",
        status_code=HTTP_200_OK,
        opt=needs(Permission.OWN_CASES),
    )
    async def withdraw(
        self, db: Db, ctx: Ctx, settings: Config, case_id: FromPath[uuid.UUID], data: JSONBody[WithdrawIn]
    ) -> OwnCaseOut:
        rules = MoveRules(reopen_window_days=settings.reopen_window_days)
        return await own_cases.withdraw(db, ctx, case_id, data, rules)

    @get(
        "/{case_id:uuid}/receipt",
        summary="The printable receipt of my case (bring the query code from the submission)",
        media_type="text/html",
        opt=needs(Permission.OWN_CASES),
    )
    async def receipt(
        self, request: Request[Any, Any, Any], db: Db, ctx: Ctx, case_id: FromPath[uuid.UUID], code: CodeParam
    ) -> Response[str]:
        return receipt_response(request, await query_codes.receipt(db, ctx, case_id, code))

    @get(
        "/{case_id:uuid}/completion-notice",
        summary="The printable completion notice (办结通知书) of my resolved case",
        media_type="text/html",
        opt={**needs(Permission.OWN_CASES), PROBLEMS: (409,)},
    )
    async def completion_notice(
        self, request: Request[Any, Any, Any], db: Db, ctx: Ctx, settings: Config, case_id: FromPath[uuid.UUID]
    ) -> Response[str]:
        notice = await completion_notices.completion_notice(db, ctx, case_id, settings.reopen_window_days)
        return completion_notice_response(request, notice, ctx.now)
