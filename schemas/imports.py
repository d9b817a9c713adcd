"""Ledger imports: the job a file becomes, and what it found."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from schemas.base import Output

ImportKind = Literal["workers", "cases"]
ImportStatus = Literal["queued", "running", "checked", "imported", "refused", "failed", "interrupted"]


class ImportProblem(Output, kw_only=True):
    """One reason a row was refused, in Chinese, for the clerk who fixes the ledger."""

    row: int
    """The row's number in the file (the header is row 1), as Excel shows it."""
    column: str
    """The column's title as the file has it; empty for the row as a whole."""
    reason: str


class ImportJobOut(Output, kw_only=True):
    """A file given to the import. ``status``: queued and running while it works; checked
    (a dry run is done), imported, refused (a bad row or an unreadable file: nothing was
    written), failed (an error: nothing was written), interrupted (the service stopped
    while it ran: nothing was written)."""

    id: uuid.UUID
    kind: ImportKind
    status: ImportStatus
    dry_run: bool
    partial: bool
    """Import the good rows and leave the bad ones (otherwise a bad row stops them all)."""
    file_name: str
    file_format: str | None
    """xlsx, xls or csv, read from the file's content."""
    file_encoding: str | None
    """For CSV: UTF-8, UTF-8 (BOM), GB18030 or UTF-16."""
    file_sha256: str
    file_bytes: int
    rows_total: int | None
    """Rows after the header, counted before reading (blank rows included): for progress."""
    rows_read: int
    rows_valid: int
    """Rows that are new and good (imported, or that an import would bring in)."""
    rows_invalid: int
    rows_existing: int
    """Rows already in the system (the same worker's ID number, the same case), left as they are."""
    rows_imported: int
    problems: list[ImportProblem]
    """The first 200 problems; the report has every row."""
    failure: str | None
    """Why the file as a whole was refused or failed, in Chinese."""
    report_url: str | None
    """The report workbook: every row as given, with what became of it."""
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class ImportJobPage(Output, kw_only=True):
    items: list[ImportJobOut]
    total: int
    limit: int
    offset: int
