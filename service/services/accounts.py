"""Accounts: created and changed by the administrator, unlocked and stripped of a lost
second factor by the security officer, bootstrapped from the command line."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from schemas.accounts import (
    AccountIn,
    AccountOut,
    AccountPage,
    AccountPatch,
    PasswordResetIn,
    SecuritySettingsIn,
    SecuritySettingsOut,
)
from service.domain.access import STAFF_ROLES, Principal, Role
from service.errors import Conflict, Invalid, NotFound
from service.models import Account
from service.repositories import accounts as account_repo
from service.repositories import people as people_repo
from service.repositories import reference as reference_repo
from service.security.kit import SecurityKit
from service.services import audit
from service.services.auth import check_new_password, normalise_username
from service.services.context import Context


def account_out(row: Account) -> AccountOut:
    return AccountOut(
        id=row.id,
        username=row.username,
        role=row.role,  # type: ignore[arg-type]
        staff_id=row.staff_id,
        worker_id=row.worker_id,
        district_code=row.district_code,
        active=row.active,
        must_change_password=row.must_change_password,
        totp_enabled=row.totp_enabled,
        locked_until=row.locked_until,
        last_login_at=row.last_login_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def _check_links(
    session: AsyncSession,
    role: Role,
    staff_id: uuid.UUID | None,
    worker_id: uuid.UUID | None,
    district_code: str | None,
) -> None:
    """The record an account stands for must exist and match its role."""
    if role in STAFF_ROLES:
        if staff_id is None:
            raise Invalid("staff_id", f"a {role.value} account needs its staff record")
        staff = await people_repo.get_staff(session, staff_id)
        if staff is None or not staff.active or staff.role != role.value:
            raise Invalid("staff_id", f"no such active {role.value}")
    elif staff_id is not None:
        raise Invalid("staff_id", f"a {role.value} account has no staff record")
    if role is Role.WORKER:
        if worker_id is None:
            raise Invalid("worker_id", "a worker account needs its worker record")
        if await people_repo.get_worker(session, worker_id) is None:
            raise Invalid("worker_id", "no such worker")
    elif worker_id is not None:
        raise Invalid("worker_id", f"a {role.value} account has no worker record")
    if district_code is not None:
        if role is not Role.OFFICIAL:
            raise Invalid("district_code", "only an official's account is limited to a district")
        if await reference_repo.get_district(session, district_code) is None:
            raise Invalid("district_code", "no such district")


async def _insert(session: AsyncSession, account: Account) -> None:
    if await account_repo.account_by_username(session, account.username) is not None:
        raise Conflict("this user name is taken", field="username")
    session.add(account)
    await session.flush()


async def create_account(session: AsyncSession, ctx: Context, data: AccountIn) -> AccountOut:
    """An account made by an administrator: its holder must change the password first."""
    return await _create(
        session,
        ctx.kit,
        ctx.caller,
        Role(data.role),
        data.username,
        data.password,
        ctx.now,
        must_change_password=True,
        staff_id=data.staff_id,
        worker_id=data.worker_id,
        district_code=data.district_code,
    )


async def bootstrap_account(
    session: AsyncSession,
    kit: SecurityKit,
    role: Role,
    username: str,
    password: str,
    now: datetime,
    *,
    must_change_password: bool = False,
    staff_id: uuid.UUID | None = None,
    worker_id: uuid.UUID | None = None,
    district_code: str | None = None,
) -> AccountOut:
    """An account made from the command line by the operator of the installation."""
    return await _create(
        session,
        kit,
        None,
        role,
        username,
        password,
        now,
        must_change_password=must_change_password,
        staff_id=staff_id,
        worker_id=worker_id,
        district_code=district_code,
    )


async def _create(
    session: AsyncSession,
    kit: SecurityKit,
    creator: Principal | None,
    role: Role,
    username: str,
    password: str,
    now: datetime,
    *,
    must_change_password: bool,
    staff_id: uuid.UUID | None,
    worker_id: uuid.UUID | None,
    district_code: str | None,
) -> AccountOut:
    username = normalise_username(username)
    check_new_password(password, username, "password")
    async with session.begin():
        await _check_links(session, role, staff_id, worker_id, district_code)
        account = Account(
            username=username,
            password_hash=await kit.passwords.hash_async(password),
            role=role.value,
            staff_id=staff_id,
            worker_id=worker_id,
            district_code=district_code,
            must_change_password=must_change_password,
            password_changed_at=now,
            created_at=now,
            updated_at=now,
        )
        await _insert(session, account)
        details = {"role": role.value} if creator else {"role": role.value, "via": "command line"}
        await audit.append(
            session, kit, creator, "account.create", now, target_type="account", target_id=account.id, details=details
        )
        return account_out(account)


async def read_account(session: AsyncSession, account_id: uuid.UUID) -> AccountOut:
    async with session.begin():
        account = await account_repo.get_account(session, account_id)
        if account is None:
            raise NotFound("account", account_id)
        return account_out(account)


async def list_accounts(
    session: AsyncSession, role: str | None, active: bool | None, limit: int, offset: int
) -> AccountPage:
    async with session.begin():
        rows, total = await account_repo.list_accounts(session, role, active, limit, offset)
        return AccountPage(items=[account_out(r) for r in rows], total=total, limit=limit, offset=offset)


async def _locked_account(session: AsyncSession, account_id: uuid.UUID) -> Account:
    account = await account_repo.get_account(session, account_id, for_update=True)
    if account is None:
        raise NotFound("account", account_id)
    return account


async def update_account(session: AsyncSession, ctx: Context, account_id: uuid.UUID, data: AccountPatch) -> AccountOut:
    changes: dict[str, Any] = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
    if account_id == ctx.caller.account_id and ({"role", "active"} & changes.keys()):
        raise Conflict("you cannot change your own role or disable your own account", field="role")
    async with session.begin():
        account = await _locked_account(session, account_id)
        merged = {name: changes.get(name, getattr(account, name)) for name in ("role", "staff_id", "worker_id")}
        district = changes.get("district_code", account.district_code)
        role = Role(merged["role"])
        await _check_links(session, role, merged["staff_id"], merged["worker_id"], district)
        recorded = {
            k: {"from": _plain(getattr(account, k)), "to": _plain(v)}
            for k, v in changes.items()
            if getattr(account, k) != v
        }
        for name, value in changes.items():
            setattr(account, name, value)
        if recorded:
            account.updated_at = ctx.now
            if {"role", "active", "staff_id", "worker_id", "district_code"} & recorded.keys():
                # What the account may reach has changed: its sessions end now.
                await account_repo.revoke_sessions(session, account.id, ctx.now)
            await audit.record(
                ctx,
                session,
                "account.update",
                target_type="account",
                target_id=account.id,
                details={"changes": recorded},
            )
        await session.flush()
        return account_out(account)


def _plain(value: object) -> object:
    return str(value) if isinstance(value, uuid.UUID) else value


async def reset_password(
    session: AsyncSession, ctx: Context, account_id: uuid.UUID, data: PasswordResetIn
) -> AccountOut:
    async with session.begin():
        account = await _locked_account(session, account_id)
        check_new_password(data.password, account.username, "password")
        account.password_hash = await ctx.kit.passwords.hash_async(data.password)
        account.must_change_password = True
        account.password_changed_at = ctx.now
        account.failed_logins = 0
        account.locked_until = None
        account.updated_at = ctx.now
        await account_repo.revoke_sessions(session, account.id, ctx.now)
        await audit.record(ctx, session, "account.password_reset", target_type="account", target_id=account.id)
        return account_out(account)


async def unlock(session: AsyncSession, ctx: Context, account_id: uuid.UUID) -> AccountOut:
    async with session.begin():
        account = await _locked_account(session, account_id)
        account.failed_logins = 0
        account.locked_until = None
        account.updated_at = ctx.now
        await audit.record(ctx, session, "account.unlock", target_type="account", target_id=account.id)
        return account_out(account)


async def reset_totp(session: AsyncSession, ctx: Context, account_id: uuid.UUID) -> AccountOut:
    async with session.begin():
        account = await _locked_account(session, account_id)
        account.totp_secret = None
        account.totp_enabled = False
        account.totp_last_step = None
        account.updated_at = ctx.now
        await account_repo.revoke_sessions(session, account.id, ctx.now)
        await audit.record(ctx, session, "account.totp_reset", target_type="account", target_id=account.id)
        return account_out(account)


async def read_security_settings(session: AsyncSession) -> SecuritySettingsOut:
    async with session.begin():
        row = await account_repo.security_settings(session)
        return SecuritySettingsOut(
            privileged_mfa_required=row.privileged_mfa_required, updated_at=row.updated_at, updated_by=row.updated_by
        )


async def update_security_settings(
    session: AsyncSession, ctx: Context, data: SecuritySettingsIn
) -> SecuritySettingsOut:
    async with session.begin():
        row = await account_repo.security_settings(session, for_update=True)
        before = row.privileged_mfa_required
        row.privileged_mfa_required = data.privileged_mfa_required
        row.updated_at = ctx.now
        row.updated_by = ctx.caller.account_id
        await audit.record(
            ctx,
            session,
            "security.settings",
            details={"privileged_mfa_required": {"from": before, "to": data.privileged_mfa_required}},
        )
        await session.flush()
        return SecuritySettingsOut(
            privileged_mfa_required=row.privileged_mfa_required, updated_at=row.updated_at, updated_by=row.updated_by
        )
