"""Settings, read once from the environment."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from service.security.keys import Keys, keys_from
from service.security.kit import SecurityKit, SecurityPolicy, build_kit


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str | None
    """``DATABASE_URL``; unset means an embedded PostgreSQL under ``data_dir``."""
    data_dir: Path
    """``BANSHI_DATA_DIR``: where the embedded PostgreSQL keeps its files."""
    pool_size: int
    """``BANSHI_DB_POOL_SIZE``: database connections per process, kept open; a request
    that finds all of them busy waits up to ``BANSHI_DB_POOL_TIMEOUT``."""
    reopen_window_days: int
    """``BANSHI_REOPEN_WINDOW_DAYS``: working days after resolution in which a case can be reopened."""
    docs_enabled: bool
    """``BANSHI_DOCS``: serve the OpenAPI docs at /docs (on by default)."""
    keys: Keys | None = None
    """``BANSHI_TOKEN_KEY``, ``BANSHI_AUDIT_KEY``, ``BANSHI_PII_KEYS``, ``BANSHI_PII_INDEX_KEY``."""
    pool_timeout_seconds: float = 10
    """``BANSHI_DB_POOL_TIMEOUT``: seconds a request waits for a free connection, then 503."""
    body_timeout_seconds: float = 30
    """``BANSHI_BODY_TIMEOUT``: the longest wait for the next part of a request body before answering 408."""
    sign_in_cache_seconds: float = 5
    """``BANSHI_SIGN_IN_CACHE_SECONDS``: how long a process trusts a session it checked
    (``security/signed_in.py``); a revocation made by another process takes this long to
    reach this one. 0 checks the database on every request."""
    session_idle_minutes: int = 30
    """``BANSHI_SESSION_IDLE_MINUTES``: a session unused this long is over."""
    session_max_hours: int = 12
    """``BANSHI_SESSION_MAX_HOURS``: a session ends this long after sign-in, used or not."""
    lockout_threshold: int = 5
    """``BANSHI_LOCKOUT_THRESHOLD``: wrong passwords in a row that lock an account."""
    lockout_minutes: int = 15
    """``BANSHI_LOCKOUT_MINUTES``: how long a locked account stays locked."""
    login_limit_per_address: int = 30
    """``BANSHI_LOGIN_LIMIT_PER_ADDRESS``: sign-in attempts per client address per 5 minutes."""
    argon2_time_cost: int = 3
    """``BANSHI_ARGON2_TIME_COST``: argon2id passes (RFC 9106 second recommendation: 3)."""
    argon2_memory_kib: int = 65536
    """``BANSHI_ARGON2_MEMORY_KIB``: argon2id memory per hash (64 MiB)."""
    redis_url: str | None = None
    """``BANSHI_REDIS_URL``: where rate limits and lockouts are counted across processes;
    unset means in this process only (fine for one process, wrong for several)."""
    redis_prefix: str = "banshi:"
    """``BANSHI_REDIS_PREFIX``: key prefix, so several deployments can share one Redis."""
    metrics_keep_seconds: float = 5
    """``BANSHI_METRICS_KEEP_SECONDS``: how long a process answers the same metrics question
    (20-item table, city summary) with the figures it counted (0: count every time)."""
    metrics_live_per_minute: int = 10
    """``BANSHI_METRICS_LIVE_PER_MINUTE``: live metrics (``fresh=true``) one account may ask for per minute."""
    lookup_limit_per_address: int = 30
    """``BANSHI_LOOKUP_LIMIT_PER_ADDRESS``: public lookups per client address per 10 minutes."""
    lookup_lock_threshold: int = 5
    """``BANSHI_LOOKUP_LOCK_THRESHOLD``: wrong codes for one case number that lock it."""
    lookup_lock_minutes: int = 30
    """``BANSHI_LOOKUP_LOCK_MINUTES``: how long a case number stays locked for lookups."""
    attachments_env: tuple[tuple[str, str], ...] = ()
    """``BANSHI_ATTACHMENTS`` and friends: where attachment files are kept (``service/adapters/storage.py``)."""
    metrics_token: str | None = None
    """``BANSHI_METRICS_TOKEN``: when set, ``/metrics`` needs it as a bearer token."""
    log_format: str = "json"
    """``BANSHI_LOG_FORMAT``: ``json`` (one object per line, with the request id) or ``text``;
    unset, text when standard error is a terminal (a person reading) and JSON otherwise."""
    access_log: bool = True
    """``BANSHI_ACCESS_LOG``: one line per answered request (``0`` turns it off)."""
    reminder_seconds: float = 60.0
    """``BANSHI_REMINDER_SECONDS``: how often each process runs a reminder pass (0: never;
    ``banshi reminders`` runs one by hand)."""
    delivery_worker: str = "in-process"
    """``BANSHI_DELIVERY_WORKER``: ``in-process`` (the default: ``banshi serve`` sends the
    e-mails, text messages and webhooks itself) or ``separate`` (``banshi worker`` does,
    as many as wanted; compose runs it that way)."""
    outbound_env: tuple[tuple[str, str], ...] = ()
    """The ``BANSHI_SMTP_*`` and ``BANSHI_SMS_*`` settings (``adapters/outbound.py``)."""
    cors_origins: tuple[str, ...] = ()
    """``BANSHI_CORS_ORIGINS``: comma-separated origins allowed to call the API from a browser
    (none by default; the web front end is served from the same origin)."""
    web_dir: Path | None = None
    """``BANSHI_WEB_DIR``: the built front end served at ``/`` (default: ``web/dist`` of the checkout)."""
    database_owner_url: str | None = None
    """``BANSHI_DATABASE_OWNER_URL``: the role that owns the tables, used only by the commands
    that change them (``banshi db upgrade``, ``downgrade``, ``reset``, ``grant``,
    ``load-reference``, ``demo-data``); unset, ``DATABASE_URL`` (one role for everything)."""
    db_pooler: str = "none"
    """``BANSHI_DB_POOLER``: ``none`` (connections straight to PostgreSQL) or ``pgbouncer``
    (``DATABASE_URL`` names a PgBouncer in transaction pool mode: no prepared statement
    outlives its transaction, and the queue worker polls instead of LISTEN)."""
    read_urls: tuple[str, ...] = ()
    """``BANSHI_DATABASE_READ_URL``: streaming replicas of ``DATABASE_URL``, comma-separated,
    that the officials' figures, reports, exports and the case and worker lists read from
    (``adapters/read_replicas.py``); none means every read goes to the primary."""
    read_max_lag_seconds: float = 5.0
    """``BANSHI_READ_MAX_LAG_SECONDS``: a replica further behind the primary than this is not read from."""
    read_check_seconds: float = 1.0
    """``BANSHI_READ_CHECK_SECONDS``: how often each process measures every replica's lag."""
    read_fallback: str = "primary"
    """``BANSHI_READ_FALLBACK``: with no replica fit to read from, ``primary`` (the default)
    reads from the primary; ``refuse`` answers those requests 503 instead, to spare it."""


POOLERS = ("none", "pgbouncer")
"""What may stand between the service and PostgreSQL (``BANSHI_DB_POOLER``)."""


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return default if raw in (None, "") else int(raw)


def _on(name: str) -> bool:
    """A switch that is on unless set to ``0``, ``false`` or ``no``."""
    return os.environ.get(name, "1") not in ("0", "false", "no")


def _choice(name: str, allowed: tuple[str, ...]) -> str:
    value = os.environ.get(name, "").strip().lower() or allowed[0]
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}")
    return value


def read_settings() -> Settings:
    return Settings(
        database_url=os.environ.get("DATABASE_URL") or None,
        data_dir=Path(os.environ.get("BANSHI_DATA_DIR", ".banshi")).resolve(),
        pool_size=_int("BANSHI_DB_POOL_SIZE", 10),
        reopen_window_days=_int("BANSHI_REOPEN_WINDOW_DAYS", 10),
        pool_timeout_seconds=float(os.environ.get("BANSHI_DB_POOL_TIMEOUT") or 10),
        body_timeout_seconds=float(os.environ.get("BANSHI_BODY_TIMEOUT") or 30),
        sign_in_cache_seconds=float(os.environ.get("BANSHI_SIGN_IN_CACHE_SECONDS") or 5),
        docs_enabled=_on("BANSHI_DOCS"),
        keys=keys_from(os.environ),
        session_idle_minutes=_int("BANSHI_SESSION_IDLE_MINUTES", 30),
        session_max_hours=_int("BANSHI_SESSION_MAX_HOURS", 12),
        lockout_threshold=_int("BANSHI_LOCKOUT_THRESHOLD", 5),
        lockout_minutes=_int("BANSHI_LOCKOUT_MINUTES", 15),
        login_limit_per_address=_int("BANSHI_LOGIN_LIMIT_PER_ADDRESS", 30),
        argon2_time_cost=_int("BANSHI_ARGON2_TIME_COST", 3),
        argon2_memory_kib=_int("BANSHI_ARGON2_MEMORY_KIB", 65536),
        redis_url=os.environ.get("BANSHI_REDIS_URL") or None,
        redis_prefix=os.environ.get("BANSHI_REDIS_PREFIX", "banshi:"),
        metrics_keep_seconds=float(os.environ.get("BANSHI_METRICS_KEEP_SECONDS") or 5),
        metrics_live_per_minute=_int("BANSHI_METRICS_LIVE_PER_MINUTE", 10),
        lookup_limit_per_address=_int("BANSHI_LOOKUP_LIMIT_PER_ADDRESS", 30),
        lookup_lock_threshold=_int("BANSHI_LOOKUP_LOCK_THRESHOLD", 5),
        lookup_lock_minutes=_int("BANSHI_LOOKUP_LOCK_MINUTES", 30),
        attachments_env=tuple(
            sorted((k, v) for k, v in os.environ.items() if k.startswith(("BANSHI_ATTACHMENTS", "BANSHI_S3_")))
        ),
        metrics_token=os.environ.get("BANSHI_METRICS_TOKEN") or None,
        log_format=os.environ.get("BANSHI_LOG_FORMAT") or ("text" if sys.stderr.isatty() else "json"),
        access_log=_on("BANSHI_ACCESS_LOG"),
        reminder_seconds=float(os.environ.get("BANSHI_REMINDER_SECONDS", "60")),
        delivery_worker=_choice("BANSHI_DELIVERY_WORKER", ("in-process", "separate")),
        outbound_env=tuple(
            sorted((k, v) for k, v in os.environ.items() if k.startswith(("BANSHI_SMTP_", "BANSHI_SMS_")))
        ),
        cors_origins=tuple(o.strip() for o in os.environ.get("BANSHI_CORS_ORIGINS", "").split(",") if o.strip()),
        web_dir=Path(os.environ["BANSHI_WEB_DIR"]).resolve() if os.environ.get("BANSHI_WEB_DIR") else None,
        database_owner_url=os.environ.get("BANSHI_DATABASE_OWNER_URL") or None,
        db_pooler=_choice("BANSHI_DB_POOLER", POOLERS),
        read_urls=tuple(u.strip() for u in os.environ.get("BANSHI_DATABASE_READ_URL", "").split(",") if u.strip()),
        read_max_lag_seconds=float(os.environ.get("BANSHI_READ_MAX_LAG_SECONDS") or 5),
        read_check_seconds=float(os.environ.get("BANSHI_READ_CHECK_SECONDS") or 1),
        read_fallback=_choice("BANSHI_READ_FALLBACK", ("primary", "refuse")),
    )


def security_kit(settings: Settings) -> SecurityKit:
    """The keys and the security policy of ``settings``, made into what the use cases need."""
    policy = SecurityPolicy(
        argon2_time_cost=settings.argon2_time_cost,
        argon2_memory_kib=settings.argon2_memory_kib,
        session_idle_minutes=settings.session_idle_minutes,
        session_max_hours=settings.session_max_hours,
        lockout_threshold=settings.lockout_threshold,
        lockout_minutes=settings.lockout_minutes,
        login_limit_per_address=settings.login_limit_per_address,
    )
    return build_kit(settings.keys, policy)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return read_settings()


def async_url(url: str) -> str:
    """Accept the usual ``postgresql://`` spelling and use the asyncpg driver."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError("DATABASE_URL must be a postgresql:// URL")
