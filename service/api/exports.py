"""Tables as CSV (UTF-8 with a byte-order mark, so that Excel reads Chinese) and XLSX.

Both stream: CSV goes out a thousand lines at a time, and XLSX is written and zipped as
it goes out (``service/adapters/xlsx_stream.py``), so the first bytes leave at once and
memory does not grow with the number of rows.

Neither ever holds a formula. An XLSX text cell is a string whatever it reads; a CSV has
no types, so a text that a spreadsheet would take for a formula (it starts with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return) goes out behind an apostrophe, as
OWASP advises for CSV injection; Excel shows the text and does not evaluate it.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from service.adapters.xlsx_stream import CST, Kind, SheetColumn, xlsx_stream

CHUNK_ROWS = 1000
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPE = "text/csv"
"""Litestar adds ``; charset=utf-8`` to every text type; naming it here would send it twice."""


log = logging.getLogger("banshi.exports")


async def reported(chunks: AsyncIterator[bytes], filename: str) -> AsyncIterator[bytes]:
    """A download's bytes, with a failure after the first of them logged.

    By then the status line (200) has gone, so no problem document can follow. The error
    goes on up: the server drops the connection without ending the chunked body, so
    browsers and HTTP clients report the download as failed, and an XLSX is left without
    its zip directory, so no spreadsheet opens it. A CSV has no such marker: a client
    that ignores a broken transfer keeps the lines that arrived."""
    sent = 0
    try:
        async for chunk in chunks:
            sent += len(chunk)
            yield chunk
    except Exception:
        log.exception("download %s broke off after %d bytes; the client holds an incomplete file", filename, sent)
        raise


def attachment_disposition(filename: str) -> str:
    """``Content-Disposition`` for a file to save under ``filename`` (RFC 6266, UTF-8)."""
    return f"attachment; filename*=UTF-8''{quote(filename)}"


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    title_zh: str
    kind: Kind = "int"
    width: int | None = None
    """Columns wide enough for this many Latin characters, when the title is narrower than
    the values (a streamed sheet cannot measure its values first)."""


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


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
        case "text":
            text = str(value)
            return "'" + text if text.startswith(FORMULA_STARTS) else text
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


def _display_width(text: str) -> int:
    """Characters as wide as they look: a Chinese character takes two columns."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


_KIND_WIDTH: dict[Kind, int] = {"int": 8, "rate": 8, "date": 11, "datetime": 17, "bool": 6, "text": 8}
_MAX_WIDTH = 60


def _widths(columns: Sequence[Column], rows: Sequence[Mapping[str, Any]] | None) -> list[float]:
    """Each column as wide as its title, its kind or its stated width; and, for a table
    held in memory, as its longest text."""
    widths = [max(_display_width(c.title_zh) + 2, _KIND_WIDTH[c.kind], c.width or 0) for c in columns]
    for row in rows or ():
        for index, column in enumerate(columns):
            value = row.get(column.key)
            if column.kind == "text" and value is not None:
                widths[index] = max(widths[index], _display_width(str(value)) + 1)
    return [min(w, _MAX_WIDTH) for w in widths]


async def _values(
    columns: Sequence[Column], rows: AsyncIterable[Mapping[str, Any]] | Iterable[Mapping[str, Any]]
) -> AsyncIterator[list[Any]]:
    if isinstance(rows, AsyncIterable):
        async for row in rows:
            yield [row.get(c.key) for c in columns]
    else:
        for row in rows:
            yield [row.get(c.key) for c in columns]


def xlsx_chunks(
    columns: Sequence[Column],
    rows: AsyncIterable[Mapping[str, Any]] | Sequence[Mapping[str, Any]],
    sheet_name: str,
) -> AsyncIterator[bytes]:
    """One worksheet, sent while it is written (``service/adapters/xlsx_stream.py``).

    A table held in memory gets widths that fit its values; rows that stream get the
    widths their columns state, since the widths precede the rows in the file."""
    fitted = rows if isinstance(rows, Sequence) else None
    sheet = [SheetColumn(c.title_zh, c.kind, w) for c, w in zip(columns, _widths(columns, fitted), strict=True)]
    return xlsx_stream(sheet, _values(columns, rows), sheet_name)
