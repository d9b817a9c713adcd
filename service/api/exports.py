"""Tables as CSV (UTF-8 with a byte-order mark, so that Excel reads Chinese) and XLSX.

Both stream: CSV goes out line by line, and XLSX is written with XlsxWriter's
constant-memory mode (each row is flushed to a temporary file as it is written) and
then sent in chunks, so memory does not grow with the number of rows.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import tempfile
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal
from urllib.parse import quote
from zoneinfo import ZoneInfo

import xlsxwriter

Kind = Literal["text", "int", "rate", "date", "datetime", "bool"]
CST = ZoneInfo("Asia/Shanghai")
CHUNK_ROWS = 1000
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPE = "text/csv"
"""Litestar adds ``; charset=utf-8`` to every text type; naming it here would send it twice."""


def attachment_disposition(filename: str) -> str:
    """``Content-Disposition`` for a file to save under ``filename`` (RFC 6266, UTF-8)."""
    return f"attachment; filename*=UTF-8''{quote(filename)}"


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    title_zh: str
    kind: Kind = "int"


def _cell_text(value: Any, kind: Kind) -> str:
    if value is None:
        return ""
    match kind:
        case "rate":
            return f"{value * 100:.2f}%"
        case "datetime":
            return value.astimezone(CST).strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime) else str(value)
        case "bool":
            return "是" if value else "否"
        case _:
            return value.isoformat() if isinstance(value, date) else str(value)


async def csv_chunks(columns: Sequence[Column], rows: AsyncIterable[Mapping[str, Any]]) -> AsyncIterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([c.title_zh for c in columns])
    yield b"\xef\xbb\xbf" + buffer.getvalue().encode()
    pending = 0
    buffer.seek(0)
    buffer.truncate()
    async for row in rows:
        writer.writerow([_cell_text(row.get(c.key), c.kind) for c in columns])
        pending += 1
        if pending >= CHUNK_ROWS:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if pending:
        yield buffer.getvalue().encode()


class _Sheet:
    """One worksheet written row by row; column widths follow the longest cell seen."""

    def __init__(self, path: str, columns: Sequence[Column], sheet_name: str) -> None:
        self.book = xlsxwriter.Workbook(path, {"constant_memory": True, "remove_timezone": True})
        self.sheet = self.book.add_worksheet(sheet_name[:31])
        self.columns = columns
        header = self.book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
        self.formats: dict[Kind, Any] = {
            "rate": self.book.add_format({"num_format": "0.00%"}),
            "date": self.book.add_format({"num_format": "yyyy-mm-dd"}),
            "datetime": self.book.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
            "int": self.book.add_format({"num_format": "0"}),
        }
        self.widths = [_display_width(c.title_zh) + 2 for c in columns]
        for index, column in enumerate(columns):
            self.sheet.write_string(0, index, column.title_zh, header)
        self.sheet.freeze_panes(1, 0)
        self.next_row = 1

    def write(self, rows: Iterable[Mapping[str, Any]]) -> None:
        for row in rows:
            for index, column in enumerate(self.columns):
                self._cell(self.next_row, index, row.get(column.key), column.kind)
            self.next_row += 1

    def _cell(self, r: int, c: int, value: Any, kind: Kind) -> None:
        if value is None:
            return
        match kind:
            case "int" | "rate":
                self.sheet.write_number(r, c, value, self.formats[kind])
                width = 8
            case "date":
                self.sheet.write_datetime(r, c, datetime.combine(value, datetime.min.time()), self.formats["date"])
                width = 11
            case "datetime":
                local = value.astimezone(CST).replace(tzinfo=None)
                self.sheet.write_datetime(r, c, local, self.formats["datetime"])
                width = 17
            case "bool":
                self.sheet.write_boolean(r, c, bool(value))
                width = 6
            case _:
                text = str(value)
                self.sheet.write_string(r, c, text)
                width = _display_width(text) + 1
        if width > self.widths[c]:
            self.widths[c] = min(width, 60)

    def close(self) -> None:
        # Widths are set at the end: XlsxWriter keeps column settings apart from the flushed rows.
        for index, width in enumerate(self.widths):
            self.sheet.set_column(index, index, width)
        self.book.close()


def _display_width(text: str) -> int:
    """Characters as wide as they look: a Chinese character takes two columns."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


async def xlsx_chunks(
    columns: Sequence[Column], rows: AsyncIterable[Mapping[str, Any]], sheet_name: str, chunk_size: int = 64 * 1024
) -> AsyncIterator[bytes]:
    """Write the rows to a temporary XLSX file (off the event loop, a chunk of rows at a
    time), then send the file and delete it."""
    handle, path = tempfile.mkstemp(suffix=".xlsx", prefix="banshi-export-")
    os.close(handle)
    try:
        sheet = await asyncio.to_thread(_Sheet, path, columns, sheet_name)
        batch: list[Mapping[str, Any]] = []
        async for row in rows:
            batch.append(row)
            if len(batch) >= CHUNK_ROWS:
                await asyncio.to_thread(sheet.write, batch)
                batch = []
        if batch:
            await asyncio.to_thread(sheet.write, batch)
        await asyncio.to_thread(sheet.close)
        with open(path, "rb") as stream:  # noqa: ASYNC230 (a local temporary file, read in chunks)
            while chunk := stream.read(chunk_size):
                yield chunk
    finally:
        os.unlink(path)
