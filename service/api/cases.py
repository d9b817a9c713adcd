from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from litestar import Controller, Response, get, patch, post
from litestar.datastructures import ResponseHeader
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from schemas.cases import (
    CaseIn,
    CaseOut,
    CasePage,
    CasePatch,
    CategoryName,
    DueStateName,
    EventOut,
    EventPage,
    NoteIn,
    StatusName,
    TransitionIn,
    Visibility,
)
from service.api.deps import Actor, Config, Db, Now, Page
from service.domain.time_limit import DueState
from service.domain.workflow import Category, Status
from service.errors import Invalid
from service.presenters import case_summary
from service.repositories import cases as case_repo
from service.services import cases
from service.services.calendar import load_calendar

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
        description="A retry with the same key returns the first response instead of creating a second case.",
    ),
]
ETAG = ResponseHeader(name="ETag", description="The case version, for If-Match", documentation_only=True)


class CaseController(Controller):
    path = "/cases"
    tags = ["cases"]

    @post("/", summary="Log a case", status_code=HTTP_201_CREATED, response_headers=[ETAG])
    async def create(
        self,
        db: Db,
        now: Now,
        data: JSONBody[CaseIn],
        actor: Actor,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[CaseOut]:
        created = await cases.create_case(db, data, actor, idempotency_key, now)
        headers = {
            "ETag": created.etag,
            "Location": f"/api/v1/cases/{created.case.id}",
        }
        if created.replayed:
            headers["Idempotent-Replayed"] = "true"
        return Response(created.case, status_code=HTTP_201_CREATED, headers=headers)

    @get("/", summary="List cases with filters")
    async def list_all(
        self,
        db: Db,
        now: Now,
        paging: Page,
        status: Annotated[list[StatusName] | None, QueryParameter(description="One or more statuses")] = None,
        category: FromQuery[CategoryName | None] = None,
        item_id: FromQuery[uuid.UUID | None] = None,
        department_code: FromQuery[str | None] = None,
        district_code: FromQuery[str | None] = None,
        steward_id: FromQuery[uuid.UUID | None] = None,
        worker_id: FromQuery[uuid.UUID | None] = None,
        due_state: FromQuery[DueStateName | None] = None,
        created_from: FromQuery[datetime | None] = None,
        created_to: FromQuery[datetime | None] = None,
        sort: FromQuery[Literal["created_at", "updated_at", "due_at", "case_no"]] = "created_at",
        order: FromQuery[Literal["asc", "desc"]] = "desc",
    ) -> CasePage:
        for name, value in (("created_from", created_from), ("created_to", created_to)):
            if value is not None and value.tzinfo is None:
                raise Invalid(f"query.{name}", "must carry a time zone offset")
        where = case_repo.CaseFilter(
            statuses=tuple(Status(s) for s in status or ()),
            category=Category(category) if category else None,
            item_id=item_id,
            department_code=department_code,
            district_code=district_code,
            steward_id=steward_id,
            worker_id=worker_id,
            due_state=DueState(due_state) if due_state else None,
            created_from=created_from,
            created_to=created_to,
        )
        rows, total = await case_repo.list_cases(
            db, where, now=now, sort=sort, descending=order == "desc", limit=paging.limit, offset=paging.offset
        )
        calendar = await load_calendar(db)
        return CasePage(
            items=[case_summary(case, code, calendar, now) for case, code in rows],
            total=total,
            limit=paging.limit,
            offset=paging.offset,
        )

    @get("/{case_id:uuid}", summary="A case with its timeline", response_headers=[ETAG])
    async def read(self, db: Db, now: Now, case_id: FromPath[uuid.UUID]) -> Response[CaseOut]:
        case, etag = await cases.read_case(db, case_id, now)
        return Response(case, headers={"ETag": etag})

    @patch("/{case_id:uuid}", summary="Edit title, description or channel", response_headers=[ETAG])
    async def update(
        self,
        db: Db,
        now: Now,
        case_id: FromPath[uuid.UUID],
        data: JSONBody[CasePatch],
        actor: Actor,
        if_match: IfMatch = None,
    ) -> Response[CaseOut]:
        case, etag = await cases.update_case(db, case_id, data, actor, if_match, now)
        return Response(case, headers={"ETag": etag})

    @post(
        "/{case_id:uuid}/transitions",
        summary="Move a case through the workflow",
        status_code=HTTP_200_OK,
        response_headers=[ETAG],
    )
    async def move(
        self,
        db: Db,
        now: Now,
        settings: Config,
        case_id: FromPath[uuid.UUID],
        data: JSONBody[TransitionIn],
        actor: Actor,
        if_match: IfMatch = None,
    ) -> Response[CaseOut]:
        rules = cases.MoveRules(reopen_window_days=settings.reopen_window_days)
        case, etag = await cases.move_case(db, case_id, data, actor, if_match, rules, now)
        return Response(case, headers={"ETag": etag})

    @post("/{case_id:uuid}/notes", summary="Add a note to the timeline", status_code=HTTP_201_CREATED)
    async def note(
        self, db: Db, now: Now, case_id: FromPath[uuid.UUID], data: JSONBody[NoteIn], actor: Actor
    ) -> EventOut:
        return await cases.add_note(db, case_id, data, actor, now)

    @get("/{case_id:uuid}/events", summary="The case's timeline")
    async def events(
        self, db: Db, case_id: FromPath[uuid.UUID], visibility: FromQuery[Visibility | None] = None
    ) -> EventPage:
        return await cases.list_events(db, case_id, visibility)
