from __future__ import annotations

import uuid
from typing import Annotated, Literal

from litestar import Controller, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK

from schemas.base import ONE_LINE
from schemas.people import (
    RevealIn,
    RevealOut,
    StaffIn,
    StaffOut,
    StaffPage,
    StaffPatch,
    StewardAssignmentIn,
    StewardAssignmentOut,
    TalentCard,
    WorkerIn,
    WorkerLookupIn,
    WorkerMobileIn,
    WorkerOut,
    WorkerPage,
    WorkerPatch,
)
from service.api.access import needs
from service.api.deps import CodeFilter, Ctx, Db, Page, ReadDb
from service.api.documented_errors import PROBLEMS
from service.domain.access import Permission
from service.domain.filters import WorkerFilter
from service.services import staff, workers


class StaffController(Controller):
    path = "/staff"
    tags = ["staff"]

    @post("/", summary="Add a steward or a department liaison", opt=needs(Permission.STAFF_WRITE))
    async def create(self, db: Db, ctx: Ctx, data: JSONBody[StaffIn]) -> StaffOut:
        return await staff.create_staff(db, ctx, data)

    @get("/", summary="List staff", opt=needs(Permission.STAFF_READ))
    async def list_all(
        self,
        db: Db,
        paging: Page,
        role: FromQuery[Literal["steward", "liaison"] | None] = None,
        department_code: CodeFilter = None,
    ) -> StaffPage:
        return await staff.list_staff(db, role, department_code, paging.limit, paging.offset)

    @get("/{staff_id:uuid}", summary="One staff member", opt=needs(Permission.STAFF_READ))
    async def read(self, db: Db, staff_id: FromPath[uuid.UUID]) -> StaffOut:
        return await staff.read_staff(db, staff_id)

    @patch("/{staff_id:uuid}", summary="Update a staff member", opt=needs(Permission.STAFF_WRITE))
    async def update(self, db: Db, ctx: Ctx, staff_id: FromPath[uuid.UUID], data: JSONBody[StaffPatch]) -> StaffOut:
        return await staff.update_staff(db, ctx, staff_id, data)


class WorkerController(Controller):
    path = "/workers"
    tags = ["workers"]

    @post("/", summary="Register a science worker with their steward", opt=needs(Permission.WORKERS_WRITE))
    async def create(self, db: Db, ctx: Ctx, data: JSONBody[WorkerIn]) -> WorkerOut:
        return await workers.create_worker(db, ctx, data)

    @get("/", summary="List the science workers within reach", opt=needs(Permission.WORKERS_READ))
    async def list_all(
        self,
        reads: ReadDb,
        ctx: Ctx,
        paging: Page,
        district_code: CodeFilter = None,
        steward_id: FromQuery[uuid.UUID | None] = None,
        talent_card: FromQuery[TalentCard | None] = None,
        name: Annotated[str | None, QueryParameter(max_length=64, pattern=ONE_LINE)] = None,
    ) -> WorkerPage:
        where = WorkerFilter(district_code, steward_id, talent_card, name)
        return await workers.list_workers(reads, ctx, where, paging.limit, paging.offset)

    @post(
        "/lookup",
        summary="Find a worker by national ID number (sent in the body)",
        status_code=HTTP_200_OK,
        opt={**needs(Permission.WORKERS_READ), PROBLEMS: (404,)},
    )
    async def lookup(self, db: Db, ctx: Ctx, data: JSONBody[WorkerLookupIn]) -> WorkerOut:
        return await workers.lookup_worker(db, ctx, data)

    @post(
        "/by-mobile",
        summary="Find the workers within reach with a mobile number (sent in the body)",
        description="Several workers may share a number; none within reach answers an empty list.",
        status_code=HTTP_200_OK,
        opt=needs(Permission.WORKERS_READ),
    )
    async def by_mobile(self, db: Db, ctx: Ctx, data: JSONBody[WorkerMobileIn]) -> list[WorkerOut]:
        return await workers.workers_by_mobile(db, ctx, data)

    @get(
        "/{worker_id:uuid}", summary="One science worker (personal numbers masked)", opt=needs(Permission.WORKERS_READ)
    )
    async def read(self, db: Db, ctx: Ctx, worker_id: FromPath[uuid.UUID]) -> WorkerOut:
        return await workers.read_worker(db, ctx, worker_id)

    @patch("/{worker_id:uuid}", summary="Correct a worker's details", opt=needs(Permission.WORKERS_WRITE))
    async def update(self, db: Db, ctx: Ctx, worker_id: FromPath[uuid.UUID], data: JSONBody[WorkerPatch]) -> WorkerOut:
        return await workers.update_worker(db, ctx, worker_id, data)

    @post(
        "/{worker_id:uuid}/reveal",
        summary="Show the full national ID or mobile number, with a reason (audited)",
        status_code=HTTP_200_OK,
        opt=needs(Permission.WORKERS_REVEAL),
    )
    async def reveal(self, db: Db, ctx: Ctx, worker_id: FromPath[uuid.UUID], data: JSONBody[RevealIn]) -> RevealOut:
        return await workers.reveal(db, ctx, worker_id, data)

    @post(
        "/{worker_id:uuid}/steward",
        summary="Give the worker a new steward (administrators; history kept)",
        opt=needs(Permission.WORKERS_ASSIGN),
    )
    async def assign(
        self, db: Db, ctx: Ctx, worker_id: FromPath[uuid.UUID], data: JSONBody[StewardAssignmentIn]
    ) -> StewardAssignmentOut:
        return await workers.assign_steward(db, ctx, worker_id, data)

    @get(
        "/{worker_id:uuid}/stewards",
        summary="Who has been the worker's steward, when and why",
        opt=needs(Permission.WORKERS_READ),
    )
    async def stewards(self, db: Db, ctx: Ctx, worker_id: FromPath[uuid.UUID]) -> list[StewardAssignmentOut]:
        return await workers.steward_history(db, ctx, worker_id)
