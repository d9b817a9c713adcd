from __future__ import annotations

import uuid
from typing import Literal

from litestar import Controller, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody

from schemas.people import (
    StaffIn,
    StaffOut,
    StaffPage,
    StaffPatch,
    StewardAssignmentIn,
    StewardAssignmentOut,
    TalentCard,
    WorkerIn,
    WorkerOut,
    WorkerPage,
    WorkerPatch,
)
from service.api.deps import Actor, Db, Now, Page
from service.repositories.people import WorkerFilter
from service.services import staff, workers


class StaffController(Controller):
    path = "/staff"
    tags = ["staff"]

    @post("/", summary="Add a steward or a department liaison")
    async def create(self, db: Db, data: JSONBody[StaffIn]) -> StaffOut:
        return await staff.create_staff(db, data)

    @get("/", summary="List staff")
    async def list_all(
        self,
        db: Db,
        paging: Page,
        role: FromQuery[Literal["steward", "liaison"] | None] = None,
        department_code: FromQuery[str | None] = None,
    ) -> StaffPage:
        return await staff.list_staff(db, role, department_code, paging.limit, paging.offset)

    @get("/{staff_id:uuid}", summary="One staff member")
    async def read(self, db: Db, staff_id: FromPath[uuid.UUID]) -> StaffOut:
        return await staff.read_staff(db, staff_id)

    @patch("/{staff_id:uuid}", summary="Update a staff member")
    async def update(self, db: Db, staff_id: FromPath[uuid.UUID], data: JSONBody[StaffPatch]) -> StaffOut:
        return await staff.update_staff(db, staff_id, data)


class WorkerController(Controller):
    path = "/workers"
    tags = ["workers"]

    @post("/", summary="Register a science worker with their steward")
    async def create(self, db: Db, data: JSONBody[WorkerIn], actor: Actor) -> WorkerOut:
        return await workers.create_worker(db, data, actor)

    @get("/", summary="List science workers")
    async def list_all(
        self,
        db: Db,
        paging: Page,
        district_code: FromQuery[str | None] = None,
        steward_id: FromQuery[uuid.UUID | None] = None,
        talent_card: FromQuery[TalentCard | None] = None,
        name: FromQuery[str | None] = None,
    ) -> WorkerPage:
        where = WorkerFilter(district_code, steward_id, talent_card, name)
        return await workers.list_workers(db, where, paging.limit, paging.offset)

    @get("/{worker_id:uuid}", summary="One science worker")
    async def read(self, db: Db, worker_id: FromPath[uuid.UUID]) -> WorkerOut:
        return await workers.read_worker(db, worker_id)

    @patch("/{worker_id:uuid}", summary="Correct a worker's details")
    async def update(
        self, db: Db, worker_id: FromPath[uuid.UUID], data: JSONBody[WorkerPatch], actor: Actor
    ) -> WorkerOut:
        return await workers.update_worker(db, worker_id, data, actor)

    @post("/{worker_id:uuid}/steward", summary="Give the worker a new steward (history kept)")
    async def assign(
        self, db: Db, now: Now, worker_id: FromPath[uuid.UUID], data: JSONBody[StewardAssignmentIn], actor: Actor
    ) -> StewardAssignmentOut:
        return await workers.assign_steward(db, worker_id, data, actor, now)

    @get("/{worker_id:uuid}/stewards", summary="Who has been the worker's steward, when and why")
    async def stewards(self, db: Db, worker_id: FromPath[uuid.UUID]) -> list[StewardAssignmentOut]:
        return await workers.steward_history(db, worker_id)
