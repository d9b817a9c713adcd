"""Ledger imports: a file in, a job out, its progress, its report, and the blank templates."""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from pathlib import Path
from typing import IO, Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter
from litestar.status_codes import HTTP_202_ACCEPTED

from schemas.imports import ImportJobOut, ImportJobPage, ImportKind
from service.api.access import needs
from service.api.deps import Ctx, Db, Page, Store
from service.api.documented_errors import DOWNLOADS, PROBLEMS
from service.api.exports import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE, attachment_disposition
from service.domain.access import Permission
from service.domain.ledger import Kind
from service.services import imports
from service.services.imports import Upload

IMPORT_BODY_LIMIT = 64 * 1024 * 1024
"""A ledger of 200,000 rows (the most one file may hold) is about 20 MB as XLSX and 40 MB as CSV."""
_CHUNK = 1024 * 1024
IMPORTS = needs(Permission.IMPORTS)


Flag = Literal["true", "false"]
"""A yes or no in a form: the words only (a form carries text, and ``1`` or ``yes`` are refused)."""


class ImportForm(msgspec.Struct, kw_only=True):
    """A ledger file and what to do with it. It names Litestar's ``UploadFile``, so it
    lives with the controller rather than among the API's Structs."""

    kind: ImportKind
    """workers (科技工作者台账) or cases (办件台账)."""
    file: UploadFile
    """XLSX, XLS or CSV (UTF-8 with or without BOM, GB18030, UTF-16); the first row holds the column titles."""
    dry_run: Flag = "true"
    """Check every row and report, writing nothing (the default). Send false to import."""
    partial: Flag = "false"
    """Import the good rows and leave the bad ones. By default one bad row stops them all."""


async def _save(upload: UploadFile) -> Path:
    """The upload in a temporary file, copied a chunk at a time (removed if that fails)."""
    handle = await asyncio.to_thread(_temporary)
    path = Path(handle.name)
    try:
        try:
            while chunk := await upload.read(_CHUNK):
                await asyncio.to_thread(_write, handle, chunk)
        finally:
            await asyncio.to_thread(handle.close)
    except BaseException:
        await asyncio.to_thread(path.unlink, missing_ok=True)
        raise
    return path


def _temporary() -> IO[bytes]:
    return tempfile.NamedTemporaryFile(prefix="banshi-ledger-", delete=False)


def _write(handle: IO[bytes], chunk: bytes) -> None:
    handle.write(chunk)


def _attachment(name: str, content: bytes, media_type: str) -> Response[bytes]:
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": attachment_disposition(name),
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


class ImportController(Controller):
    path = "/imports"
    tags = ["imports"]

    @post(
        "/",
        summary="Give a ledger file: it is checked row by row (dry run) or imported, as a job in the background",
        status_code=HTTP_202_ACCEPTED,
        request_max_body_size=IMPORT_BODY_LIMIT,
        opt={**IMPORTS, PROBLEMS: (429,)},
    )
    async def start(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        ctx: Ctx,
        store: Store,
        data: Annotated[ImportForm, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Response[ImportJobOut]:
        path = await _save(data.file)
        state = request.app.state
        upload = Upload(Kind(data.kind), path, data.file.filename or "", data.dry_run == "true", data.partial == "true")
        job = await imports.give(db, state.session_factory, ctx, store, upload, state.clock, state.imports.start)
        return Response(job, status_code=HTTP_202_ACCEPTED, headers={"Location": f"/api/v1/imports/{job.id}"})

    @get("/", summary="Imports: an administrator's list has everyone's, anyone else's their own", opt=IMPORTS)
    async def list_jobs(self, db: Db, ctx: Ctx, paging: Page) -> ImportJobPage:
        return await imports.list_jobs(db, ctx, paging.limit, paging.offset)

    @get("/{job_id:uuid}", summary="An import's progress and outcome", opt=IMPORTS)
    async def read(self, db: Db, ctx: Ctx, job_id: FromPath[uuid.UUID]) -> ImportJobOut:
        return await imports.read_job(db, ctx, job_id)

    @get(
        "/{job_id:uuid}/report",
        summary="The report: the file's rows as given, with a column saying what became of each (XLSX)",
        opt={**IMPORTS, DOWNLOADS: (XLSX_MEDIA_TYPE,), PROBLEMS: (409,)},
    )
    async def report(self, db: Db, ctx: Ctx, store: Store, job_id: FromPath[uuid.UUID]) -> Response[bytes]:
        name, content = await imports.report(db, ctx, store, job_id)
        return _attachment(name, content, XLSX_MEDIA_TYPE)

    @get(
        "/templates/{kind:str}",
        summary="A blank ledger with the Chinese column titles, an example row and the allowed values",
        opt={**IMPORTS, DOWNLOADS: (XLSX_MEDIA_TYPE, CSV_MEDIA_TYPE)},
    )
    async def template(
        self,
        db: Db,
        ctx: Ctx,
        kind: FromPath[ImportKind],
        fmt: Annotated[
            Literal["xlsx", "csv"], QueryParameter(name="format", description="xlsx (with lists and notes) or csv.")
        ] = "xlsx",
    ) -> Response[bytes]:
        name, content = await imports.template(db, ctx, Kind(kind), fmt)
        return _attachment(name, content, XLSX_MEDIA_TYPE if fmt == "xlsx" else CSV_MEDIA_TYPE)
