"""The application factory. Nothing connects at import time."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import json
import os
from collections.abc import AsyncGenerator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from litestar import Litestar, Router
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware.base import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.adapters import log_redaction, logs, telemetry
from service.adapters.limits import counters_for
from service.adapters.migrate import head_revision
from service.adapters.outbound import outbound_from_environment
from service.adapters.read_replicas import Reads, Replica, replica_name
from service.adapters.storage import store_from_environment
from service.api.access import BEARER, PUBLIC, BearerAuth, audit_refusal
from service.api.accounts import AccountController, SecurityController
from service.api.attachments import AttachmentController, CaseAttachmentController
from service.api.audit import AuditController
from service.api.auth import AuthController
from service.api.background import BackgroundJobs, keep_reminding
from service.api.bodies import ApiRequest
from service.api.calendar import CalendarController
from service.api.cases import CaseController
from service.api.deliveries import (
    DeliveryController,
    NoticeSettingController,
    NoticeTextController,
    PreferenceController,
    WebhookSubscriptionController,
)
from service.api.deps import (
    provide_caller,
    provide_client_addr,
    provide_context,
    provide_counters,
    provide_kit,
    provide_paging,
    provide_read_session,
    provide_read_sessions,
    provide_session,
    provide_sessions,
    provide_settings,
    provide_store,
)
from service.api.docs import docs_assets_router, scalar_page, swagger_page
from service.api.documented_errors import ClosedStructs, document_errors
from service.api.health import health, health_head, metrics, ready
from service.api.imports import ImportController
from service.api.metrics import MetricsController, keeping_for
from service.api.notifications import NotificationController
from service.api.params import integer_queries, whole_numbers_only
from service.api.people import StaffController, WorkerController
from service.api.problem_language import keep_language_vary
from service.api.problem_pages import problem_page
from service.api.problems import EXCEPTION_HANDLERS
from service.api.reference import ReferenceController
from service.api.reports import ReportController
from service.api.request_context import request_context, response_headers
from service.api.satisfaction import FollowUpController, RatingController
from service.api.supervision import SupervisionController
from service.api.web import console_router, web_router
from service.api.worker_side import LookupController, OwnCaseController
from service.config import Settings, get_settings, read_settings, security_kit
from service.db import make_engine, make_session_factory
from service.models.base import utcnow
from service.security.keys import generate_env, keys_from
from service.security.signed_in import SignedInCache
from service.worker import deliver_forever

API_PREFIX = "/api/v1"
MAX_BODY_BYTES = 1_000_000
"""Every JSON body is far smaller; larger ones are cut off with 413 before they are read
whole. The attachment upload route sets its own limit (20 MB and the multipart envelope)."""
Clock = Callable[[], datetime]


def create_app(settings: Settings | None = None, clock: Clock = utcnow) -> Litestar:
    """Build the app. ``clock`` is the source of "now" for every request; tests pass a
    controllable one to cross holidays without waiting for them."""
    settings = settings or get_settings()
    kit = security_kit(settings)
    log_redaction.install()
    logs.configure(settings.log_format)
    counters = counters_for(settings.redis_url, settings.redis_prefix)
    store = store_from_environment(dict(settings.attachments_env), settings.data_dir)

    def provide_now() -> datetime:
        return clock()

    @asynccontextmanager
    async def database(app: Litestar) -> AsyncGenerator[None, None]:
        if settings.database_url is None:
            raise RuntimeError("DATABASE_URL is not set; start the service with `banshi serve`")
        engine = make_engine(
            settings.database_url,
            settings.pool_size,
            settings.pool_timeout_seconds,
            overflow=0,
            pooler=settings.db_pooler,
        )
        app.state.engine = engine
        app.state.session_factory = make_session_factory(engine)
        reads = app.state.reads = read_replicas(settings, settings.database_url, app.state.session_factory)
        background: list[asyncio.Task[None]] = []
        if reads.replicas:
            await reads.check()  # read from the replicas from the first request on, if they are fit
            background.append(asyncio.create_task(reads.keep_checking()))
        if settings.reminder_seconds > 0:
            reminding = keep_reminding(app.state.session_factory, clock, kit.pii, settings.reminder_seconds)
            background.append(asyncio.create_task(reminding))
        outbound = None
        if settings.delivery_worker == "in-process":
            outbound = outbound_from_environment(dict(settings.outbound_env))
            delivering = deliver_forever(
                settings.database_url, app.state.session_factory, kit, outbound, clock, pooler=settings.db_pooler
            )
            background.append(asyncio.create_task(delivering))
        # What start-up made lives as long as the process: out of the collector's sight, so
        # that its full collections walk only what requests make (they stretched the tail
        # of the largest tables by tens of milliseconds).
        gc.freeze()
        try:
            yield
        finally:
            await app.state.imports.close()
            for task in background:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if outbound is not None:
                await outbound.close()
            await reads.dispose()
            await engine.dispose()
            await counters.close()
            telemetry.process_exited(os.getpid())

    api = Router(
        path=API_PREFIX,
        route_handlers=[
            AuthController,
            AccountController,
            SecurityController,
            AuditController,
            ReferenceController,
            StaffController,
            WorkerController,
            CaseController,
            CalendarController,
            MetricsController,
            ReportController,
            RatingController,
            FollowUpController,
            LookupController,
            OwnCaseController,
            CaseAttachmentController,
            AttachmentController,
            NotificationController,
            PreferenceController,
            NoticeSettingController,
            NoticeTextController,
            DeliveryController,
            WebhookSubscriptionController,
            SupervisionController,
            ImportController,
        ],
        middleware=[DefineMiddleware(BearerAuth, exclude_from_auth_key=PUBLIC)],
        security=[{BEARER: []}],
    )
    docs = [docs_assets_router()] if settings.docs_enabled else []
    app = Litestar(
        route_handlers=[
            health,
            health_head,
            ready,
            metrics,
            problem_page,
            api,
            *web_router(settings),
            *console_router(),
            *docs,
        ],
        dependencies={
            "db": Provide(provide_session, sync_to_thread=False),
            "sessions": Provide(provide_sessions, sync_to_thread=False),
            "reads": Provide(provide_read_session, sync_to_thread=False),
            "read_sessions": Provide(provide_read_sessions, sync_to_thread=False),
            "settings": Provide(provide_settings, sync_to_thread=False),
            "caller": Provide(provide_caller, sync_to_thread=False),
            "ctx": Provide(provide_context, sync_to_thread=False),
            "kit": Provide(provide_kit, sync_to_thread=False),
            "client_addr": Provide(provide_client_addr, sync_to_thread=False),
            "paging": Provide(provide_paging, sync_to_thread=False),
            "now": Provide(provide_now, sync_to_thread=False),
            "counters": Provide(provide_counters, sync_to_thread=False),
            "store": Provide(provide_store, sync_to_thread=False),
        },
        state=State(
            {
                "settings": settings,
                "kit": kit,
                "clock": clock,
                "counters": counters,
                "store": store,
                "imports": BackgroundJobs(),
                "migration_head": head_revision(),
                "signed_in": SignedInCache(timedelta(seconds=settings.sign_in_cache_seconds)),
                "keeping": keeping_for(settings),
            }
        ),
        middleware=[request_context],
        before_send=[response_headers, keep_language_vary],
        cors_config=cors(settings),
        lifespan=[database],
        plugins=[ClosedStructs()],
        exception_handlers=EXCEPTION_HANDLERS,
        after_exception=[audit_refusal],
        # With the docs off, no schema or docs page is served at all (an empty list of
        # render plugins would make Litestar fall back to its default pages).
        openapi_config=_openapi(settings) if settings.docs_enabled else None,
        debug=False,
        logging_config=None,  # ours: service/adapters/logs.py (JSON lines with the request id)
        request_max_body_size=MAX_BODY_BYTES,
        request_class=ApiRequest,
        before_request=whole_numbers_only,
    )
    app.state.integer_queries = integer_queries(app)
    if settings.docs_enabled:
        document_errors(app)
    return app


def read_replicas(settings: Settings, primary_url: str, primary_sessions: async_sessionmaker[AsyncSession]) -> Reads:
    """The replicas of ``BANSHI_DATABASE_READ_URL``, each with a pool as large as the
    primary's, and one more connection to each server for measuring the lag (nothing
    connects before the first check; with no replica, nothing ever does)."""
    replicas = []
    for url in settings.read_urls:
        engine = make_engine(
            url, settings.pool_size, settings.pool_timeout_seconds, overflow=0, pooler=settings.db_pooler
        )
        probe = make_engine(url, 1, settings.pool_timeout_seconds, overflow=0, pooler=settings.db_pooler)
        replicas.append(Replica(replica_name(url), engine, make_session_factory(engine), probe))
    return Reads(
        make_engine(primary_url, 1, settings.pool_timeout_seconds, overflow=0, pooler=settings.db_pooler),
        primary_sessions,
        replicas,
        max_lag_seconds=settings.read_max_lag_seconds,
        check_seconds=settings.read_check_seconds,
        fallback=settings.read_fallback,
    )


def cors(settings: Settings) -> CORSConfig | None:
    """Cross-origin calls only from the origins configured (none by default: the web
    front end is served from the same origin)."""
    if not settings.cors_origins:
        return None
    return CORSConfig(
        allow_origins=list(settings.cors_origins),
        allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE"],
        allow_headers=["Authorization", "Content-Type", "If-Match", "Idempotency-Key", "X-Request-ID"],
        expose_headers=["ETag", "Location", "Retry-After", "X-Request-ID", "Idempotent-Replayed"],
        allow_credentials=False,
        max_age=600,
    )


def _openapi(settings: Settings) -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Banshi",
        version="0.1.0",
        description=(
            "Case tracking for Chongqing's programme of practical services for science and "
            "technology workers (为科技工作者办实事). Errors are RFC 9457 problem+json."
        ),
        path="/docs",
        components=Components(
            security_schemes={
                BEARER: SecurityScheme(
                    type="http",
                    scheme="bearer",
                    bearer_format="JWT",
                    description="An access token from POST /api/v1/auth/login.",
                )
            }
        ),
        render_plugins=[swagger_page(), scalar_page()],
    )


def openapi_document() -> str:
    """The OpenAPI document as committed in ``openapi/openapi.json``, the same for the CLI
    and the drift test. No database is touched: the schema comes from the route handlers."""
    settings = dataclasses.replace(
        read_settings(), database_url="postgresql://unused/unused", docs_enabled=True, keys=keys_from(generate_env())
    )
    schema = create_app(settings).openapi_schema.to_schema()
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
