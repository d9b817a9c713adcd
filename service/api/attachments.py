"""Files on a case: upload, list, download (every download is on the audit trail)."""

from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import quote

import msgspec
from litestar import Controller, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.status_codes import HTTP_201_CREATED

from schemas.cases import Visibility
from schemas.worker_side import AttachmentOut
from service.api.access import needs
from service.api.deps import Ctx, Db, Store
from service.domain.access import Permission
from service.domain.file_types import MAX_ATTACHMENT_BYTES
from service.services import attachments

UPLOAD_BODY_LIMIT = MAX_ATTACHMENT_BYTES + 64 * 1024
"""The file plus room for the multipart envelope; larger bodies are cut off with 413."""


class UploadForm(msgspec.Struct, kw_only=True):
    """A multipart upload: the file and, for staff, who may see it. It names Litestar's
    ``UploadFile``, so it lives with the controller rather than among the API's Structs."""

    file: UploadFile
    visibility: Visibility = "internal"
    """A worker's upload is always public (the worker and the staff see it)."""


class CaseAttachmentController(Controller):
    path = "/cases/{case_id:uuid}/attachments"
    tags = ["attachments"]

    @post(
        "/",
        summary="Attach a file: PDF, JPEG, PNG or an office document, at most 20 MB, its type read from the content",
        status_code=HTTP_201_CREATED,
        request_max_body_size=UPLOAD_BODY_LIMIT,
        opt=needs(Permission.ATTACHMENTS_WRITE),
    )
    async def upload(
        self,
        db: Db,
        ctx: Ctx,
        store: Store,
        case_id: FromPath[uuid.UUID],
        data: Annotated[UploadForm, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> AttachmentOut:
        content = await data.file.read()
        return await attachments.upload(
            db,
            ctx,
            store,
            case_id,
            filename=data.file.filename or "",
            data=content,
            visibility=data.visibility,
        )

    @get("/", summary="The case's files (a worker sees the public ones)", opt=needs(Permission.ATTACHMENTS_READ))
    async def list_files(self, db: Db, ctx: Ctx, case_id: FromPath[uuid.UUID]) -> list[AttachmentOut]:
        return await attachments.list_for_case(db, ctx, case_id)


class AttachmentController(Controller):
    path = "/attachments"
    tags = ["attachments"]

    @get(
        "/{attachment_id:uuid}/content",
        summary="Download a file (recorded in the audit trail)",
        media_type="application/octet-stream",
        opt=needs(Permission.ATTACHMENTS_READ),
    )
    async def download(self, db: Db, ctx: Ctx, store: Store, attachment_id: FromPath[uuid.UUID]) -> Response[bytes]:
        meta, content = await attachments.download(db, ctx, store, attachment_id)
        return Response(
            content,
            media_type=meta.media_type,
            headers={
                "Content-Disposition": f'attachment; filename="{_ascii_name(meta.filename)}"; '
                f"filename*=UTF-8''{quote(meta.filename)}",
                "X-Content-Type-Options": "nosniff",
                "Cache-Control": "private, no-store",
                "ETag": f'"{meta.sha256}"',
            },
        )


def _ascii_name(name: str) -> str:
    """The fallback name for clients without RFC 6266 ``filename*``: ASCII, no quotes."""
    plain = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "_" for ch in name)
    return plain or "attachment"
