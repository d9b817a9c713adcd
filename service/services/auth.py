"""Sign-in, sessions, password changes and second factors."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from schemas.auth import LoginIn, MeOut, PasswordChangeIn, TokenOut, TotpConfirmIn, TotpEnrolmentOut
from service.domain.access import PRIVILEGED_ROLES, ROLE_PERMISSIONS, Anonymous, Principal, Role, SessionScope
from service.domain.password_policy import password_problem
from service.errors import Conflict, DomainError, Invalid, SecondFactorRequired, TooManyRequests, Unauthenticated
from service.models import Account, AuthSession
from service.repositories import accounts as account_repo
from service.security import tokens, totp
from service.security.kit import SecurityKit
from service.security.signed_in import SignedInCache
from service.services import audit
from service.services.context import Context

WRONG_CREDENTIALS = "the user name or password is wrong, or the account is locked for a while"
# How stale ``last_seen_at`` may get before a request writes it again: idle expiry is
# exact to within this, and a busy session costs one write a minute, not one a request.
TOUCH_EVERY = timedelta(seconds=60)


def normalise_username(username: str) -> str:
    return username.strip().lower()


def totp_context(account_id: uuid.UUID) -> str:
    return f"account:{account_id}:totp"


@dataclass(frozen=True, slots=True)
class _Refused:
    error: DomainError


async def login(session: AsyncSession, kit: SecurityKit, data: LoginIn, client_addr: str, now: datetime) -> TokenOut:
    """Every attempt is counted and recorded in the same transaction, which commits
    whether the attempt succeeds or not; a refusal is raised after the commit."""
    username = normalise_username(data.username)
    caller = Anonymous(client_addr=client_addr, username=username)
    # Counted in a transaction of its own, so that the address's counter row is not
    # held locked through the password check of a sign-in from the same address.
    async with session.begin():
        attempts = await account_repo.count_login_attempt(session, client_addr, now)
    async with session.begin():
        outcome = await _attempt(session, kit, data, username, caller, attempts, now)
    if isinstance(outcome, _Refused):
        raise outcome.error
    return outcome


async def _attempt(
    session: AsyncSession,
    kit: SecurityKit,
    data: LoginIn,
    username: str,
    caller: Anonymous,
    attempts: int,
    now: datetime,
) -> TokenOut | _Refused:
    if attempts > kit.login_limit_per_address:
        await _record_attempt(session, kit, caller, now, "rate_limited", None, outcome="denied")
        retry = account_repo.throttle_retry_after(now)
        return _Refused(TooManyRequests("too many sign-in attempts from this address; wait and try again", retry))
    account = await account_repo.account_by_username(session, username, for_update=True)
    if account is None or not account.active:
        await kit.passwords.verify_async(None, data.password)  # same cost as a real check
        reason = "unknown_user" if account is None else "inactive"
        await _record_attempt(session, kit, caller, now, reason, None)
        return _Refused(Unauthenticated(WRONG_CREDENTIALS))
    if account.locked_until is not None and account.locked_until > now:
        await kit.passwords.verify_async(None, data.password)
        await _record_attempt(session, kit, caller, now, "locked", account)
        return _Refused(Unauthenticated(WRONG_CREDENTIALS))
    if not await kit.passwords.verify_async(account.password_hash, data.password):
        await _count_failure(session, kit, account, caller, now, "bad_password")
        return _Refused(Unauthenticated(WRONG_CREDENTIALS))
    if account.totp_enabled:
        if data.otp is None:
            await _record_attempt(session, kit, caller, now, "otp_missing", account)
            return _Refused(SecondFactorRequired("send the current one-time code in `otp`", field="otp"))
        assert account.totp_secret is not None
        secret = kit.pii.open(account.totp_secret, totp_context(account.id))
        step = totp.matching_step(secret, data.otp, now, account.totp_last_step)
        if step is None:
            await _count_failure(session, kit, account, caller, now, "bad_otp")
            return _Refused(Unauthenticated(WRONG_CREDENTIALS))
        account.totp_last_step = step
    scope = await _scope_for(session, account)
    account.failed_logins = 0
    account.locked_until = None
    account.last_login_at = now
    if kit.passwords.needs_rehash(account.password_hash):
        account.password_hash = await kit.passwords.hash_async(data.password)
    auth_session = AuthSession(
        account_id=account.id,
        scope=scope.value,
        created_at=now,
        last_seen_at=now,
        expires_at=now + kit.session_max,
        client_addr=caller.client_addr[:64],
    )
    session.add(auth_session)
    await session.flush()
    # The one who acted is the account now signed in, recorded as the actor like any other.
    signed_in = Principal(
        account_id=account.id,
        username=account.username,
        role=Role(account.role),
        session_id=auth_session.id,
        scope=scope,
        client_addr=caller.client_addr,
        staff_id=account.staff_id,
        worker_id=account.worker_id,
        district_code=account.district_code,
    )
    await audit.append(
        session,
        kit,
        signed_in,
        "auth.login",
        now,
        details={"scope": scope.value, "session": str(auth_session.id)},
        target_type="account",
        target_id=account.id,
    )
    token = tokens.issue(kit.keys.token_key, account.id, auth_session.id, now, auth_session.expires_at)
    return TokenOut(
        access_token=token,
        expires_in=int(kit.session_idle.total_seconds()),
        expires_at=auth_session.expires_at,
        scope=scope.value,
    )


async def _record_attempt(
    session: AsyncSession,
    kit: SecurityKit,
    caller: Anonymous | Principal,
    now: datetime,
    reason: str,
    account: Account | None,
    *,
    outcome: str = "failure",
) -> None:
    await audit.append(
        session,
        kit,
        caller,
        "auth.login",
        now,
        outcome=outcome,
        details={"reason": reason},
        target_type="account" if account else "",
        target_id=account.id if account else "",
    )


async def _scope_for(session: AsyncSession, account: Account) -> SessionScope:
    if account.must_change_password:
        return SessionScope.PASSWORD_CHANGE
    if Role(account.role) in PRIVILEGED_ROLES and not account.totp_enabled:
        settings = await account_repo.security_settings(session)
        if settings.privileged_mfa_required:
            return SessionScope.MFA_ENROLMENT
    return SessionScope.FULL


async def _count_failure(
    session: AsyncSession, kit: SecurityKit, account: Account, caller: Anonymous | Principal, now: datetime, reason: str
) -> None:
    account.failed_logins += 1
    locked = account.failed_logins >= kit.lockout_threshold
    await _record_attempt(session, kit, caller, now, reason, account)
    if locked:
        account.locked_until = now + kit.lockout_duration
        account.failed_logins = 0
        await audit.append(
            session,
            kit,
            caller,
            "auth.lockout",
            now,
            outcome="denied",
            details={"until": account.locked_until.isoformat(), "after": reason},
            target_type="account",
            target_id=account.id,
        )


async def authenticate(
    sessions: async_sessionmaker[AsyncSession],
    kit: SecurityKit,
    signed_in: SignedInCache,
    token: str,
    client_addr: str,
    now: datetime,
) -> Principal:
    """The caller named by a bearer token, or Unauthenticated. The database is asked
    only when this process has not checked the session in the last few seconds
    (``security/signed_in.py``)."""
    known = signed_in.get(token, now, client_addr)
    if known is not None:
        return known
    try:
        claims = tokens.decode(kit.keys.token_key, token, now)
    except tokens.BadToken as exc:
        raise Unauthenticated("the access token is not valid or has expired; sign in again") from exc
    generation = signed_in.generation()
    async with sessions() as session, session.begin():
        live = await account_repo.live_session(session, claims.session_id, claims.account_id, now, kit.session_idle)
        if live is None:
            raise Unauthenticated("the access token is not valid or has expired; sign in again")
        account = live.account
        principal = Principal(
            account_id=account.id,
            username=account.username,
            role=Role(account.role),
            session_id=live.session.id,
            scope=SessionScope(live.session.scope),
            client_addr=client_addr,
            staff_id=account.staff_id,
            worker_id=account.worker_id,
            department_code=live.department_code,
            district_code=account.district_code,
        )
        last_seen = live.session.last_seen_at
        if now - last_seen >= TOUCH_EVERY:
            await account_repo.touch_session(session, live.session.id, now)
            last_seen = now
        ends = min(last_seen + TOUCH_EVERY, live.session.expires_at, claims.expires_at)
    signed_in.keep(token, principal, generation, now, ends)
    return principal


async def logout(session: AsyncSession, ctx: Context) -> None:
    async with session.begin():
        await account_repo.revoke_session(session, ctx.caller.session_id, ctx.now)
        await audit.record(ctx, session, "auth.logout", target_type="account", target_id=ctx.caller.account_id)


async def me(session: AsyncSession, ctx: Context) -> MeOut:
    async with session.begin():
        account = await account_repo.get_account(session, ctx.caller.account_id)
        assert account is not None  # the session join guarantees it
        caller = ctx.caller
        return MeOut(
            account_id=caller.account_id,
            username=caller.username,
            role=caller.role.value,
            scope=caller.scope.value,
            staff_id=caller.staff_id,
            worker_id=caller.worker_id,
            department_code=caller.department_code,
            district_code=caller.district_code,
            totp_enabled=account.totp_enabled,
            permissions=sorted(p.value for p in ROLE_PERMISSIONS[caller.role]),
        )


def check_new_password(password: str, username: str, field: str) -> None:
    if problem := password_problem(password, username):
        raise Invalid(field, problem)


async def change_password(session: AsyncSession, ctx: Context, data: PasswordChangeIn) -> None:
    """Other sessions of the account end; this one carries on with full scope (or the
    second-factor enrolment, where that is mandatory)."""
    check_new_password(data.new_password, ctx.caller.username, "new_password")
    refusal: DomainError | None = None
    async with session.begin():
        account = await account_repo.get_account(session, ctx.caller.account_id, for_update=True)
        assert account is not None
        if not await ctx.kit.passwords.verify_async(account.password_hash, data.current_password):
            await _count_failure(session, ctx.kit, account, ctx.caller, ctx.now, "bad_current_password")
            refusal = Invalid("current_password", "is wrong")
        elif data.new_password == data.current_password:
            refusal = Invalid("new_password", "must differ from the current password")
        else:
            account.password_hash = await ctx.kit.passwords.hash_async(data.new_password)
            account.must_change_password = False
            account.password_changed_at = ctx.now
            account.updated_at = ctx.now
            await account_repo.revoke_sessions(session, account.id, ctx.now, keep=ctx.caller.session_id)
            current = await session.get(AuthSession, ctx.caller.session_id, with_for_update=True)
            assert current is not None
            current.scope = (await _scope_for(session, account)).value
            await audit.record(ctx, session, "auth.password_change", target_type="account", target_id=account.id)
    if refusal is not None:
        raise refusal


async def begin_totp(session: AsyncSession, ctx: Context) -> TotpEnrolmentOut:
    if ctx.caller.role is Role.WORKER:
        raise Conflict("second factors are for staff accounts", field="role")
    async with session.begin():
        account = await account_repo.get_account(session, ctx.caller.account_id, for_update=True)
        assert account is not None
        if account.totp_enabled:
            raise Conflict("a second factor is already enrolled; a security officer can reset it")
        secret = totp.new_secret()
        account.totp_secret = ctx.kit.pii.seal(secret, totp_context(account.id))
        account.totp_last_step = None
        account.updated_at = ctx.now
        await audit.record(ctx, session, "auth.totp_begin", target_type="account", target_id=account.id)
    return TotpEnrolmentOut(secret=secret, otpauth_uri=totp.provisioning_uri(secret, account.username))


async def confirm_totp(session: AsyncSession, ctx: Context, data: TotpConfirmIn) -> None:
    refusal: DomainError | None = None
    async with session.begin():
        account = await account_repo.get_account(session, ctx.caller.account_id, for_update=True)
        assert account is not None
        if account.totp_enabled:
            raise Conflict("a second factor is already enrolled")
        if account.totp_secret is None:
            raise Conflict("start the enrolment first (POST /api/v1/auth/totp)")
        secret = ctx.kit.pii.open(account.totp_secret, totp_context(account.id))
        step = totp.matching_step(secret, data.code, ctx.now, account.totp_last_step)
        if step is None:
            await audit.record(
                ctx, session, "auth.totp_confirm", outcome="failure", target_type="account", target_id=account.id
            )
            refusal = Invalid("code", "does not match the current one-time code")
        else:
            account.totp_enabled = True
            account.totp_last_step = step
            account.updated_at = ctx.now
            current = await session.get(AuthSession, ctx.caller.session_id, with_for_update=True)
            assert current is not None
            current.scope = (await _scope_for(session, account)).value
            await audit.record(ctx, session, "auth.totp_confirm", target_type="account", target_id=account.id)
    if refusal is not None:
        raise refusal
