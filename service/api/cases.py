from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, patch, post
from litestar.datastructures import ResponseHeader
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from schemas.base import ONE_LINE
from schemas.cases import (
    CaseCreated,
    CaseIn,
    CaseOut,
    CasePage,
    CasePatch,
    CaseQueues,
    CategoryName,
    DueStateName,
    EventOut,
    EventPage,
    NoteIn,
    QueueName,
    StatusName,
    TransitionIn,
    Visibility,
)
from schemas.worker_side import QueryCodeOut
from service.api.access import needs
from service.api.deps import CodeFilter, Config, Ctx, Db, Limits, Page, ReadDb, context_of, sessions_of
from service.api.documented_errors import PROBLEMS
from service.api.params import INSTANT, instant
from service.api.plain_json import PlainJson
from service.api.worker_side import CodeParam, completion_notice_response, receipt_response
from service.domain.access import Permission
from service.domain.case_number import normalise_case_number
from service.domain.filters import CaseFilter, CaseOrder, CaseSortKey
from service.domain.queues import Queue
from service.domain.time_limit import DueState
from service.domain.workflow import Category, Status
from service.errors import Malformed
from service.services import cases, completion_notices, query_codes

IfMatch = Annotated[
    str | None,
    HeaderParameter(name="If-Match", required=False, description="The case's ETag; required for updates and moves."),
]
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        min_length=1,
        max_length=128,
        pattern=r"^[\x21-\x7e]+$",
        description="A retry with the same key returns the first response instead of creating a second case "
        "(1 to 128 visible ASCII characters, e.g. a UUID).",
    ),
]
ETAG = ResponseHeader(name="ETag", description="The case version, for If-Match", documentation_only=True)


def _case_number(typed: str | None) -> str | None:
    if typed is None:
        return None
    number = normalise_case_number(typed)
    if number is None:
        raise Malformed("query.case_no", "is not a case number such as BS-20260301-000001-7 (check its last digit)")
    return number


class CaseController(Controller):
    path = "/cases"
    tags = ["cases"]

    @post(
        "/",
        summary="Log a case",
        status_code=HTTP_201_CREATED,
        response_headers=[ETAG],
        opt=needs(Permission.CASES_CREATE),
    )
    async def create(
        self, db: Db, ctx: Ctx, data: JSONBody[CaseIn], idempotency_key: IdempotencyKey = None
    ) -> Response[CaseCreated]:
        created = await cases.create_case(db, ctx, data, idempotency_key)
        headers = {
            "ETag": created.etag,
            "Location": f"/api/v1/cases/{created.case.id}",
        }
        if created.replayed:
            headers["Idempotent-Replayed"] = "true"
        return Response(created.case, status_code=HTTP_201_CREATED, headers=headers)

    @get(
        "/",
        summary="List the cases within reach, with filters",
        description=(
            "A `worker_id` out of reach answers 404, as reading that worker would; an item, department, "
            "district or steward that matches none of the cases within reach gives an empty page."
        ),
        opt={**needs(Permission.CASES_READ), PROBLEMS: (404,)},
    )
    async def list_all(
        self,
        reads: ReadDb,
        ctx: Ctx,
        paging: Page,
        status: Annotated[
            list[StatusName] | None,
            QueryParameter(description="One or more statuses (at most one of each)", max_items=len(Status)),
        ] = None,
        category: FromQuery[CategoryName | None] = None,
        item_id: FromQuery[uuid.UUID | None] = None,
        department_code: CodeFilter = None,
        district_code: CodeFilter = None,
        steward_id: FromQuery[uuid.UUID | None] = None,
        worker_id: FromQuery[uuid.UUID | None] = None,
        due_state: FromQuery[DueStateName | None] = None,
        queue: Annotated[
            QueueName | None,
            QueryParameter(
                description="The cases of one work queue; its total is that queue's count in GET /cases/queues. "
                "overdue, due_soon, on_track and paused are the due states; new: submitted, not yet accepted; "
                "materials_answered: waiting for materials the worker has sent; open: not finished (paused "
                "included)."
            ),
        ] = None,
        created_from: Annotated[
            str | None,
            QueryParameter(max_length=40, schema_extra=INSTANT, description="Received at or after, with offset."),
        ] = None,
        created_to: Annotated[
            str | None, QueryParameter(max_length=40, schema_extra=INSTANT, description="Received before, with offset.")
        ] = None,
        case_no: Annotated[
            str | None,
            QueryParameter(
                max_length=32,
                pattern=r"^[A-Za-z0-9 -]+$",
                description="A case number, with or without its hyphens (BS-20260301-000001-7, BS202603010000017).",
            ),
        ] = None,
        q: Annotated[
            str | None,
            QueryParameter(
                min_length=1,
                max_length=100,
                pattern=ONE_LINE,
                description="Text the title, the description or the worker's name holds (case-insensitive, "
                "taken literally).",
            ),
        ] = None,
        sort: FromQuery[CaseSortKey] = "created_at",
        order: FromQuery[Literal["asc", "desc"]] = "desc",
    ) -> CasePage:
        where = CaseFilter(
            statuses=tuple(Status(s) for s in status or ()),
            category=Category(category) if category else None,
            item_id=item_id,
            department_code=department_code,
            district_code=district_code,
            steward_id=steward_id,
            worker_id=worker_id,
            due_state=DueState(due_state) if due_state else None,
            queue=Queue(queue) if queue else None,
            created_from=instant("created_from", created_from),
            created_to=instant("created_to", created_to),
            case_no=_case_number(case_no),
            text=(q.strip() or None) if q is not None else None,
        )
        return await cases.list_cases(
            reads, ctx, where, CaseOrder(by=sort, descending=order == "desc"), paging.limit, paging.offset
        )

    @get(
        "/queues",
        summary="How many of the cases within reach wait in each work queue",
        description="Each case count is the total of GET /cases?queue= with its name; follow-ups and "
        "supervision notices have their own lists.",
        opt=needs(Permission.CASES_READ),
    )
    async def queues(self, reads: ReadDb, ctx: Ctx) -> CaseQueues:
        return await cases.count_queues(reads, ctx)

    @get(
        "/{case_id:uuid}",
        summary="A case with its timeline",
        response_headers=[ETAG],
        opt=needs(Permission.CASES_READ),
    )
    async def read(self, request: Request[Any, Any, Any], case_id: FromPath[uuid.UUID]) -> Response[CaseOut]:
        # No dependencies to resolve: the sessions and the context come from the request
        # (``deps.context_of`` says why).
        case, etag = await cases.read_case(sessions_of(request), context_of(request), case_id)
        return PlainJson(case, headers={"ETag": etag})

    @patch(
        "/{case_id:uuid}",
        summary="Edit title, description or channel",
        response_headers=[ETAG],
        opt=needs(Permission.CASES_UPDATE),
    )
    async def update(
        self,
        db: Db,
        ctx: Ctx,
        case_id: FromPath[uuid.UUID],
        data: JSONBody[CasePatch],
        if_match: IfMatch = None,
    ) -> Response[CaseOut]:
        case, etag = await cases.update_case(db, ctx, case_id, data, if_match)
        return Response(case, headers={"ETag": etag})

    @post(
        "/{case_id:uuid}/transitions",
        summary="Move a case through the workflow",
        status_code=HTTP_200_OK,
        response_headers=[ETAG],
        opt=needs(Permission.CASES_MOVE),
    )
    async def move(
        self,
        db: Db,
        ctx: Ctx,
        settings: Config,
        case_id: FromPath[uuid.UUID],
        data: JSONBody[TransitionIn],
        if_match: IfMatch = None,
    ) -> Response[CaseOut]:
        rules = cases.MoveRules(reopen_window_days=settings.reopen_window_days)
        case, etag = await cases.move_case(db, ctx, case_id, data, if_match, rules)
        return Response(case, headers={"ETag": etag})

    @post(
        "/{case_id:uuid}/notes",
        summary="Add a note to the timeline",
        status_code=HTTP_201_CREATED,
        opt=needs(Permission.CASES_NOTE),
    )
    async def note(self, db: Db, ctx: Ctx, case_id: FromPath[uuid.UUID], data: JSONBody[NoteIn]) -> EventOut:
        return await cases.add_note(db, ctx, case_id, data)

    @get(
        "/{case_id:uuid}/receipt",
        summary="The printable receipt with the query code (bring the code from the creation response)",
        media_type="text/html",
        opt={**needs(Permission.CASES_READ), PROBLEMS: (409,)},
    )
    async def receipt(
        self, request: Request[Any, Any, Any], db: Db, ctx: Ctx, case_id: FromPath[uuid.UUID], code: CodeParam
    ) -> Response[str]:
        return receipt_response(request, await query_codes.receipt(db, ctx, case_id, code))

    @get(
        "/{case_id:uuid}/completion-notice",
        summary="The printable completion notice (办结通知书) of a resolved or archived case",
        media_type="text/html",
        opt={**needs(Permission.CASES_READ), PROBLEMS: (409,)},
    )
    async def completion_notice(
        self, request: Request[Any, Any, Any], db: Db, ctx: Ctx, settings: Config, case_id: FromPath[uuid.UUID]
    ) -> Response[str]:
        notice = await completion_notices.completion_notice(db, ctx, case_id, settings.reopen_window_days)
        return completion_notice_response(request, notice, ctx.now)

    @post(
        "/{case_id:uuid}/query-code",
        summary="Issue a new query code (the old one stops working, a lookup lockout is lifted)",
        status_code=HTTP_201_CREATED,
        opt=needs(Permission.CASES_UPDATE),
    )
    async def reissue_code(self, db: Db, ctx: Ctx, counters: Limits, case_id: FromPath[uuid.UUID]) -> QueryCodeOut:
        return await query_codes.reissue(db, ctx, counters, case_id)

    @get("/{case_id:uuid}/events", summary="The case's timeline", opt=needs(Permission.CASES_READ))
    async def events(
        self, db: Db, ctx: Ctx, case_id: FromPath[uuid.UUID], visibility: FromQuery[Visibility | None] = None
    ) -> EventPage:
        return await cases.list_events(db, ctx, case_id, visibility)
