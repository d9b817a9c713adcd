"""Import jobs as the API shows them."""

from __future__ import annotations

from datetime import datetime

import msgspec

from schemas.imports import ImportJobOut, ImportProblem
from service.models import ImportJob

STALE_AFTER_SECONDS = 120
"""A queued or running job that has not reported for this long was stopped (its process ended)."""


def job_out(job: ImportJob, now: datetime) -> ImportJobOut:
    status = job.status
    stale = job.heartbeat_at or job.created_at
    if status in ("queued", "running") and (now - stale).total_seconds() > STALE_AFTER_SECONDS:
        status = "interrupted"
    return ImportJobOut(
        id=job.id,
        kind=job.kind,  # type: ignore[arg-type]
        status=status,  # type: ignore[arg-type]
        dry_run=job.dry_run,
        partial=job.partial,
        file_name=job.file_name,
        file_format=job.file_format,
        file_encoding=job.file_encoding,
        file_sha256=job.file_sha256,
        file_bytes=job.file_bytes,
        rows_total=job.rows_total,
        rows_read=job.rows_read,
        rows_valid=job.rows_valid,
        rows_invalid=job.rows_invalid,
        rows_existing=job.rows_existing,
        rows_imported=job.rows_imported,
        problems=[msgspec.convert(p, ImportProblem) for p in job.problems],
        failure=job.failure,
        report_url=f"/api/v1/imports/{job.id}/report" if job.report_key else None,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )
