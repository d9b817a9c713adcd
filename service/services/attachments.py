"""Attachments on a case: upload, list, download.

The type is found from the content (``domain/file_types.py``), never taken from the
client; the name is cleaned; a SHA-256 of the bytes is kept with the row. Bytes go to
the attachment store first and the row is written after, in one transaction with the
timeline line and the audit record; if that transaction fails, the stored bytes are
deleted again, so no row points at nothing and no file is left without a row (short
of a crash between the two steps, which leaves an orphan file and no row).
A worker reaches only their own cases and only public files; their uploads are public.
"""

from __future__ import annotations

import hashlib
import logging
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from schemas.worker_side import AttachmentOut
from service.adapters.storage import AttachmentStore, StoredObjectMissing, StoreUnavailable
from service.domain.access import Role
from service.domain.file_types import ALLOWED, MAX_ATTACHMENT_BYTES, detect, sanitise_filename
from service.domain.visibility import WORKER_UPLOAD_VISIBILITY, sees_everything
from service.domain.workflow import Category, Status, category_of
from service.errors import Conflict, Invalid, NotFound, TooLarge
from service.models import Attachment
from service.repositories import attachments as attachment_repo
from service.repositories.reach import cases_reached
from service.services import audit
from service.services.context import Context
from service.services.presenters.worker_side import attachment_out
from service.services.reach import reached_case
from service.services.timeline import remark

log = logging.getLogger("banshi.attachments")

ACCEPTED = ", ".join(t.extension.lstrip(".") for t in ALLOWED)


async def upload(
    session: AsyncSession,
    ctx: Context,
    store: AttachmentStore,
    case_id: uuid.UUID,
    *,
    filename: str,
    data: bytes,
    visibility: str,
) -> AttachmentOut:
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise TooLarge("file", f"is larger than {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB")
    if not data:
        raise Invalid("file", "is empty")
    file_type = detect(data)
    if file_type is None:
        raise Invalid("file", f"is not an accepted type (its content must be one of: {ACCEPTED})")
    by_worker = ctx.caller.role is Role.WORKER
    if by_worker:
        visibility = WORKER_UPLOAD_VISIBILITY
    attachment = Attachment(
        id=uuid.uuid4(),
        case_id=case_id,
        filename=sanitise_filename(filename, file_type),
        media_type=file_type.media_type,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        storage_key="",
        visibility=visibility,
        uploaded_by=ctx.caller.account_id,
        uploaded_by_worker=by_worker,
        uploaded_at=ctx.now,
    )
    attachment.storage_key = f"{case_id}/{attachment.id}"
    stored = False
    try:
        async with session.begin():
            case = await reached_case(session, ctx, case_id)
            if category_of(Status(case.status)) is Category.TERMINATED or case.status == Status.CLOSED.value:
                raise Conflict(f"a case that is {case.status} takes no more files", field="case_id")
            await store.put(attachment.storage_key, data, file_type.media_type)
            stored = True
            session.add(attachment)
            session.add(
                remark(
                    ctx,
                    case,
                    "attach",
                    visibility=visibility,
                    details={"attachment_id": str(attachment.id), "filename": attachment.filename},
                )
            )
            await session.flush()
            await audit.record(
                ctx,
                session,
                "attachment.upload",
                target_type="attachment",
                target_id=attachment.id,
                details={"case_id": str(case_id), "media_type": file_type.media_type, "size": len(data)},
            )
    except BaseException:
        if stored:
            try:
                await store.delete(attachment.storage_key)
            except StoreUnavailable as error:  # the first failure is the one to answer
                log.warning("stored file %s left behind: %s", attachment.storage_key, error)
        raise
    return attachment_out(attachment)


async def list_for_case(session: AsyncSession, ctx: Context, case_id: uuid.UUID) -> list[AttachmentOut]:
    async with session.begin():
        await reached_case(session, ctx, case_id)
        worker_view = not sees_everything(ctx.caller.role)
        return [
            attachment_out(a) for a in await attachment_repo.attachments_of(session, case_id, worker_view=worker_view)
        ]


async def download(
    session: AsyncSession, ctx: Context, store: AttachmentStore, attachment_id: uuid.UUID
) -> tuple[AttachmentOut, bytes]:
    """The file's bytes, once the download is on the audit trail. The row is read in one
    transaction, the bytes fetched outside any, and the audit record written in another."""
    async with session.begin():
        found = await attachment_repo.reached_attachment(
            session, attachment_id, cases_reached(ctx.caller), worker_view=not sees_everything(ctx.caller.role)
        )
    if found is None:
        raise NotFound("attachment", attachment_id)
    attachment, case = found
    try:
        data = await store.get(attachment.storage_key)
    except StoredObjectMissing:
        log.error("attachment %s has a row but no stored file (%s)", attachment.id, store.describe())
        raise NotFound("attachment", attachment_id) from None
    async with session.begin():
        await audit.record(
            ctx,
            session,
            "attachment.download",
            target_type="attachment",
            target_id=attachment.id,
            details={"case_id": str(case.id), "sha256": attachment.sha256},
        )
    return attachment_out(attachment), data
