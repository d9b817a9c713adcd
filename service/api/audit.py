from __future__ import annotations

import uuid
from typing import Annotated, Literal

from litestar import Controller, get, post
from litestar.params import FromQuery, QueryParameter
from litestar.status_codes import HTTP_200_OK

from schemas.audit import AuditPage, ChainReport
from schemas.base import ONE_LINE
from service.api.access import needs
from service.api.deps import Ctx, Db, Page
from service.api.params import INSTANT, instant
from service.domain.access import Permission
from service.domain.filters import AuditFilter
from service.services import audit


class AuditController(Controller):
    path = "/audit"
    tags = ["audit"]

    @get(
        "/events",
        summary="Read the audit trail (auditors; the reading is recorded too)",
        opt=needs(Permission.AUDIT_READ),
    )
    async def events(
        self,
        db: Db,
        ctx: Ctx,
        paging: Page,
        actor_account_id: FromQuery[uuid.UUID | None] = None,
        action: Annotated[str | None, QueryParameter(max_length=64, pattern=ONE_LINE)] = None,
        target_type: Annotated[str | None, QueryParameter(max_length=64, pattern=ONE_LINE)] = None,
        target_id: Annotated[str | None, QueryParameter(max_length=128, pattern=ONE_LINE)] = None,
        outcome: FromQuery[Literal["success", "failure", "denied"] | None] = None,
        at_from: Annotated[
            str | None, QueryParameter(max_length=40, schema_extra=INSTANT, description="At or after, with offset.")
        ] = None,
        at_to: Annotated[
            str | None, QueryParameter(max_length=40, schema_extra=INSTANT, description="Before, with offset.")
        ] = None,
    ) -> AuditPage:
        where = AuditFilter(
            actor_account_id,
            action,
            target_type,
            target_id,
            outcome,
            instant("at_from", at_from),
            instant("at_to", at_to),
        )
        return await audit.list_audit(db, ctx, where, paging.limit, paging.offset)

    @post(
        "/verify",
        summary="Check the hash chain and report the first broken link (auditors, administrators)",
        status_code=HTTP_200_OK,
        opt=needs(Permission.AUDIT_VERIFY),
    )
    async def verify(self, db: Db, ctx: Ctx) -> ChainReport:
        return await audit.verify_chain(db, ctx)
