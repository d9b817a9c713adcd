from __future__ import annotations

import msgspec
from litestar import get


class Health(msgspec.Struct):
    status: str


@get("/health", tags=["operations"], summary="The process is up and taking requests")
async def health() -> Health:
    return Health(status="ok")
