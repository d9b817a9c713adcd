"""Engine and sessions. Made at start-up by the app factory; nothing connects at import."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from service.config import async_url


def make_engine(url: str, pool_size: int = 10, pool_timeout: float = 10) -> AsyncEngine:
    """``pool_timeout``: how long a request waits for a free connection before it is
    answered 503 (``api/problems.py``), so that an exhausted pool never hangs a caller."""
    return create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=pool_timeout,
        pool_pre_ping=True,
    )


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def session_scope(factory: async_sessionmaker[AsyncSession]) -> AsyncGenerator[AsyncSession, None]:
    """One session per request. Services commit their own transaction; anything left
    uncommitted when the request ends (a read, or a failed write) is rolled back."""
    async with factory() as session:
        yield session
