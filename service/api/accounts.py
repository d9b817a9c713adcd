from __future__ import annotations

import uuid

from litestar import Controller, get, patch, post, put
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from schemas.accounts import (
    AccountIn,
    AccountOut,
    AccountPage,
    AccountPatch,
    PasswordResetIn,
    SecuritySettingsIn,
    SecuritySettingsOut,
)
from schemas.auth import RoleName
from service.api.access import needs
from service.api.deps import Ctx, Db, Page
from service.domain.access import Permission
from service.services import accounts


class AccountController(Controller):
    path = "/accounts"
    tags = ["accounts"]

    @post(
        "/",
        summary="Create an account (administrators)",
        status_code=HTTP_201_CREATED,
        opt=needs(Permission.ACCOUNTS_WRITE),
    )
    async def create(self, db: Db, ctx: Ctx, data: JSONBody[AccountIn]) -> AccountOut:
        return await accounts.create_account(db, ctx, data)

    @get("/", summary="List accounts", opt=needs(Permission.ACCOUNTS_READ))
    async def list_all(
        self,
        db: Db,
        paging: Page,
        role: FromQuery[RoleName | None] = None,
        active: FromQuery[bool | None] = None,
    ) -> AccountPage:
        return await accounts.list_accounts(db, role, active, paging.limit, paging.offset)

    @get("/{account_id:uuid}", summary="One account", opt=needs(Permission.ACCOUNTS_READ))
    async def read(self, db: Db, account_id: FromPath[uuid.UUID]) -> AccountOut:
        return await accounts.read_account(db, account_id)

    @patch(
        "/{account_id:uuid}",
        summary="Change an account's role, links or active flag (its sessions end)",
        opt=needs(Permission.ACCOUNTS_WRITE),
    )
    async def update(
        self, db: Db, ctx: Ctx, account_id: FromPath[uuid.UUID], data: JSONBody[AccountPatch]
    ) -> AccountOut:
        return await accounts.update_account(db, ctx, account_id, data)

    @post(
        "/{account_id:uuid}/password-reset",
        summary="Set a temporary password, to be changed at next sign-in",
        status_code=HTTP_200_OK,
        opt=needs(Permission.ACCOUNTS_WRITE),
    )
    async def reset_password(
        self, db: Db, ctx: Ctx, account_id: FromPath[uuid.UUID], data: JSONBody[PasswordResetIn]
    ) -> AccountOut:
        return await accounts.reset_password(db, ctx, account_id, data)

    @post(
        "/{account_id:uuid}/unlock",
        summary="Lift a lockout (security officers)",
        status_code=HTTP_200_OK,
        opt=needs(Permission.ACCOUNTS_UNLOCK),
    )
    async def unlock(self, db: Db, ctx: Ctx, account_id: FromPath[uuid.UUID]) -> AccountOut:
        return await accounts.unlock(db, ctx, account_id)

    @post(
        "/{account_id:uuid}/totp-reset",
        summary="Remove a lost second factor (security officers)",
        status_code=HTTP_200_OK,
        opt=needs(Permission.ACCOUNTS_UNLOCK),
    )
    async def reset_totp(self, db: Db, ctx: Ctx, account_id: FromPath[uuid.UUID]) -> AccountOut:
        return await accounts.reset_totp(db, ctx, account_id)


class SecurityController(Controller):
    path = "/security/settings"
    tags = ["accounts"]

    @get("/", summary="Security settings (security officers)", opt=needs(Permission.SECURITY_SETTINGS))
    async def read(self, db: Db) -> SecuritySettingsOut:
        return await accounts.read_security_settings(db)

    @put("/", summary="Change the security settings (security officers)", opt=needs(Permission.SECURITY_SETTINGS))
    async def update(self, db: Db, ctx: Ctx, data: JSONBody[SecuritySettingsIn]) -> SecuritySettingsOut:
        return await accounts.update_security_settings(db, ctx, data)
