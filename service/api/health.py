"""Probes for the orchestrator: alive (``/health``) and ready to serve (``/ready``)."""

from __future__ import annotations

import asyncio
import hmac
import logging
import math
from typing import Annotated, Literal

import msgspec
from litestar import Response, get, head
from litestar.datastructures import State
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import HeaderParameter

from service.adapters import telemetry
from service.adapters.read_replicas import Fitness, Reads
from service.api.deps import Db
from service.api.documented_errors import PROBLEMS
from service.config import Settings
from service.errors import Unauthenticated
from service.services import operations

log = logging.getLogger("banshi.health")
READY_TIMEOUT_SECONDS = 2.0


class Health(msgspec.Struct):
    status: str


class ReadReplica(msgspec.Struct, kw_only=True):
    position: int
    """1 for the first URL of ``BANSHI_DATABASE_READ_URL``, and so on (no host is shown here)."""
    state: Fitness
    """``ok``: read from; ``lagging``: further behind than ``BANSHI_READ_MAX_LAG_SECONDS``;
    ``unreachable``; ``not_standby``: not replaying a primary; ``unchecked``: not measured yet."""
    lag_seconds: float | None
    """How far behind the primary it was at the last check (to the check interval); null
    when unreachable, not a standby, or behind a position older than the process's checks."""


class Readiness(msgspec.Struct, kw_only=True):
    status: Literal["ready", "not_ready"]
    database: Literal["ok", "unreachable"]
    migrations: Literal["at_head", "behind", "unknown"]
    revision: str | None
    """The database's Alembic revision."""
    expected: str | None
    """The revision this release's migrations end at."""
    read_replicas: list[ReadReplica] = msgspec.field(default_factory=list)
    """The read replicas as this process last found them. Informational: a replica set
    aside never makes the service not ready, since the primary can answer its reads."""


@get("/health", tags=["operations"], summary="The process is up and taking requests")
async def health() -> Health:
    return Health(status="ok")


_HEALTHY = msgspec.json.encode(Health(status="ok"))


@head("/health", tags=["operations"], summary="The process is up (the headers of GET /health, no body)")
async def health_head() -> Response[None]:
    return Response(None, media_type="application/json", headers={"Content-Length": str(len(_HEALTHY))})


@get(
    "/metrics",
    tags=["operations"],
    summary="Prometheus metrics: requests by route and status, latency, pool use, open and overdue cases",
    description="Needs `Authorization: Bearer <BANSHI_METRICS_TOKEN>` when that setting is given.",
    media_type=telemetry.CONTENT_TYPE,
    opt={PROBLEMS: (401,)},
)
async def metrics(
    state: State, db: Db, authorization: Annotated[str | None, HeaderParameter(name="Authorization")] = None
) -> bytes:
    settings: Settings = state.settings
    if settings.metrics_token and not hmac.compare_digest(
        (authorization or "").encode(), f"Bearer {settings.metrics_token}".encode()
    ):
        raise Unauthenticated("send `Authorization: Bearer <BANSHI_METRICS_TOKEN>`")
    return telemetry.exposition(state.engine, await operations.case_gauges(db, state.clock()))


@get(
    "/ready",
    tags=["operations"],
    summary="Ready to serve: the database answers and its schema is at this release's migration head",
    description="200 when ready, 503 with the same body when not (for load balancers and orchestrators).",
    responses={503: ResponseSpec(data_container=Readiness, description="Not ready: the same body, with Retry-After.")},
)
async def ready(state: State) -> Response[Readiness]:
    expected: str | None = state.migration_head
    replicas = _replicas(state.reads)
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS):
            revision = await operations.schema_revision(state.engine)
    except Exception as exc:  # any failure to reach or read the database means "not ready"
        log.warning("not ready: %s", type(exc).__name__)
        body = Readiness(
            status="not_ready",
            database="unreachable",
            migrations="unknown",
            revision=None,
            expected=expected,
            read_replicas=replicas,
        )
        return Response(body, status_code=503, headers={"Retry-After": "5"})
    at_head = revision is not None and revision == expected
    body = Readiness(
        status="ready" if at_head else "not_ready",
        database="ok",
        migrations="at_head" if at_head else "behind",
        revision=revision,
        expected=expected,
        read_replicas=replicas,
    )
    return Response(body, status_code=200 if at_head else 503, headers=None if at_head else {"Retry-After": "5"})


def _replicas(reads: Reads) -> list[ReadReplica]:
    return [
        ReadReplica(position=n, state=r.fitness, lag_seconds=_seconds(r.lag_seconds))
        for n, r in enumerate(reads.replicas, start=1)
    ]


def _seconds(lag: float | None) -> float | None:
    """JSON has no infinity: a replica behind by more than the checks can tell shows null."""
    return None if lag is None or not math.isfinite(lag) else round(lag, 3)
