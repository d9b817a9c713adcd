"""Queries on accounts, sessions, sign-in throttling and the security settings."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from service.adapters.freshness import KEEPS_CACHES
from service.models import Account, AuthSession, LoginThrottle, SecuritySetting, Staff
from service.repositories.filters import equal_to, page

THROTTLE_WINDOW = timedelta(minutes=5)


async def get_account(session: AsyncSession, account_id: uuid.UUID, *, for_update: bool = False) -> Account | None:
    return await session.get(Account, account_id, with_for_update=for_update, populate_existing=for_update)


async def account_by_username(session: AsyncSession, username: str, *, for_update: bool = False) -> Account | None:
    query = select(Account).where(col(Account.username) == username)
    if for_update:
        query = query.with_for_update()
    return (await session.scalars(query.execution_options(populate_existing=for_update))).first()


async def account_exists(session: AsyncSession) -> bool:
    return bool(await session.scalar(select(func.count()).select_from(Account)))


async def list_accounts(
    session: AsyncSession, role: str | None, active: bool | None, limit: int, offset: int
) -> tuple[Sequence[Account], int]:
    query = equal_to(select(Account), [(Account.role, role), (Account.active, active)])
    return await page(session, query, [col(Account.username)], limit, offset)


@dataclass(frozen=True, slots=True)
class LiveSession:
    session: AuthSession
    account: Account
    department_code: str | None


async def live_session(
    session: AsyncSession, session_id: uuid.UUID, account_id: uuid.UUID, now: datetime, idle: timedelta
) -> LiveSession | None:
    """The session and its account, if the session is neither revoked, idle too long,
    past its absolute end, nor held by an inactive account."""
    query = (
        select(AuthSession, Account, col(Staff.department_code))
        .join(Account, col(Account.id) == col(AuthSession.account_id))
        .outerjoin(Staff, col(Staff.id) == col(Account.staff_id))
        .where(
            col(AuthSession.id) == session_id,
            col(AuthSession.account_id) == account_id,
            col(AuthSession.revoked_at).is_(None),
            col(AuthSession.expires_at) > now,
            col(AuthSession.last_seen_at) > now - idle,
            col(Account.active).is_(True),
        )
    )
    row = (await session.execute(query)).first()
    if row is None:
        return None
    auth_session, account, department = row
    return LiveSession(auth_session, account, department)


async def touch_session(session: AsyncSession, session_id: uuid.UUID, now: datetime) -> None:
    """Mark the session used. Who the session belongs to is unchanged, so callers kept
    by ``security/signed_in.py`` stay valid."""
    statement = update(AuthSession).where(col(AuthSession.id) == session_id).values(last_seen_at=now)
    await session.execute(statement.execution_options(**KEEPS_CACHES))


async def revoke_sessions(
    session: AsyncSession, account_id: uuid.UUID, now: datetime, *, keep: uuid.UUID | None = None
) -> None:
    query = update(AuthSession).where(col(AuthSession.account_id) == account_id, col(AuthSession.revoked_at).is_(None))
    if keep is not None:
        query = query.where(col(AuthSession.id) != keep)
    await session.execute(query.values(revoked_at=now))


async def revoke_session(session: AsyncSession, session_id: uuid.UUID, now: datetime) -> None:
    await session.execute(
        update(AuthSession)
        .where(col(AuthSession.id) == session_id, col(AuthSession.revoked_at).is_(None))
        .values(revoked_at=now)
    )


async def count_login_attempt(session: AsyncSession, client_addr: str, now: datetime) -> int:
    """Count one sign-in attempt from ``client_addr``; the attempts in its window so far."""
    window = datetime.fromtimestamp(
        now.timestamp() // THROTTLE_WINDOW.total_seconds() * THROTTLE_WINDOW.total_seconds(), tz=now.tzinfo
    )
    # Past windows of this address, and anyone's windows older than a day, are done with.
    await session.execute(
        delete(LoginThrottle).where(
            or_(
                and_(col(LoginThrottle.client_addr) == client_addr, col(LoginThrottle.window_start) < window),
                col(LoginThrottle.window_start) < window - timedelta(days=1),
            )
        )
    )
    statement = (
        insert(LoginThrottle)
        .values(client_addr=client_addr, window_start=window, attempts=1)
        .on_conflict_do_update(
            index_elements=[col(LoginThrottle.client_addr), col(LoginThrottle.window_start)],
            set_={"attempts": col(LoginThrottle.attempts) + 1},
        )
        .returning(col(LoginThrottle.attempts))
    )
    return int((await session.execute(statement)).scalar_one())


def throttle_retry_after(now: datetime) -> int:
    window = THROTTLE_WINDOW.total_seconds()
    return int(window - now.timestamp() % window) + 1


async def security_settings(session: AsyncSession, *, for_update: bool = False) -> SecuritySetting:
    row = await session.get(SecuritySetting, 1, with_for_update=for_update, populate_existing=for_update)
    if row is None:  # the migration inserts it; this only guards a hand-emptied table
        row = SecuritySetting(id=1)
        session.add(row)
        await session.flush()
    return row
