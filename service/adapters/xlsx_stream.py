"""One worksheet as an XLSX file sent while it is written.

An XLSX file is a zip of XML parts. Here every part but the worksheet is a constant, the
worksheet's XML is written a batch of rows at a time (off the event loop), and the zip
is made as the bytes go out by ``stream-zip``, so the first bytes leave after the first
batch and memory does not grow with the rows. The small parts come first, the
worksheet last.

What a streamed sheet gives up against XlsxWriter: column widths come from the column
definitions, not from the longest value (the widths must precede the rows); and there
is no shared-string table (each string is written in its cell, ``t="inlineStr"``, which
the standard allows and which LibreOffice, openpyxl and calamine read: the tests, and a
conversion by hand in LibreOffice Calc 7.4). Strings are always strings:
no cell is ever a formula, so ``=HYPERLINK(…)`` in a name comes back as that text. XML
1.0 forbids most control characters; they are dropped. Dates and times are numbers
with a date format (Excel's 1900 system), as XlsxWriter writes them.

If the rows fail after the first bytes have gone, the exception goes on up and the zip
is never finished (no central directory): a client holds a file that no spreadsheet
opens, never one that looks whole and is not.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
import zlib
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from stream_zip import ZIP_32, MemberFile, stream_zip

Kind = Literal["text", "int", "rate", "date", "datetime", "bool"]
CST = ZoneInfo("Asia/Shanghai")
SHEET_ROWS = 1_048_576
"""Rows an Excel worksheet holds, the header row included."""
CELL_CHARS = 32_767
"""Characters an Excel cell holds; a longer text is cut there."""
BATCH_ROWS = 1000
COMPRESSION_LEVEL = 6
"""zlib's default. On 50,000 case rows (48 MB of XML): level 6 took 0.53 s for 4.2 MB, level 9
(stream-zip's default) 2.76 s for 4.0 MB, level 1 0.20 s for 4.9 MB."""

_EPOCH = datetime(1899, 12, 30)
_EPOCH_DAY = _EPOCH.date()
_UNIX_EPOCH_SERIAL = 25569
_CST_SECONDS = 8 * 3600
_FIXED_OFFSET_SINCE = 1992
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ESCAPE_LIKE = re.compile("_(x[0-9A-Fa-f]{4}_)")
"""Excel reads ``_x0041_`` in a string as the character it names; such text is protected
the way Excel itself writes it, with ``_x005F_`` for its underscore."""
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

_STYLE = {"header": 1, "int": 2, "rate": 3, "date": 4, "datetime": 5}
_STYLES = (
    f'{_HEAD}<styleSheet xmlns="{_MAIN}">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
    '<fill><patternFill patternType="solid"><fgColor rgb="FFDDEBF7"/><bgColor indexed="64"/></patternFill></fill>'
    "</fills>"
    '<borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border>'
    '<border><left style="thin"><color auto="1"/></left><right style="thin"><color auto="1"/></right>'
    '<top style="thin"><color auto="1"/></top><bottom style="thin"><color auto="1"/></bottom><diagonal/></border>'
    "</borders>"
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="6"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="2" borderId="1" xfId="0" applyFont="1" applyFill="1" applyBorder="1" '
    'applyAlignment="1"><alignment vertical="center" wrapText="1"/></xf>'
    '<xf numFmtId="1" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="10" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
_CONTENT_TYPES = (
    f'{_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    f'{_HEAD}<Relationships xmlns="{_PKG_REL}">'
    f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK_RELS = (
    f'{_HEAD}<Relationships xmlns="{_PKG_REL}">'
    f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_REL}/styles" Target="styles.xml"/></Relationships>'
)


class DownloadLeft(Exception):
    """Handed to an export thread whose download ended early, to end its work."""


class SheetFull(Exception):
    """More rows than a worksheet holds. Callers check the count first; this guards the rest."""


@dataclass(frozen=True, slots=True)
class SheetColumn:
    title: str
    kind: Kind
    width: float


def sheet_text(value: object) -> str:
    """A cell's text as XML 1.0 may carry it: forbidden characters dropped, cut to what a
    cell holds, Excel's own ``_xHHHH_`` escapes protected, then XML-escaped."""
    return _sheet_text(value if isinstance(value, str) else str(value))


def _sheet_text(text: str) -> str:
    if len(text) > CELL_CHARS:
        text = text[:CELL_CHARS]
    if not text.isprintable():
        text = _FORBIDDEN.sub("", text)
    if "_x" in text:
        text = _ESCAPE_LIKE.sub(r"_x005F_\1", text)
    return escape(text)


def excel_serial(value: date | datetime) -> float | int:
    """Days since 1899-12-30 (Excel's 1900 date system); a time of day in China Standard Time."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return (value - _EPOCH).total_seconds() / 86400
        if value.year >= _FIXED_OFFSET_SINCE:
            # China has kept UTC+8 all year since 1992: no time zone lookup per cell.
            return (value.timestamp() + _CST_SECONDS + _UNIX_EPOCH_SERIAL * 86400) / 86400
        return (value.astimezone(CST).replace(tzinfo=None) - _EPOCH).total_seconds() / 86400
    return (value - _EPOCH_DAY).days


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _number(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    return repr(float(value))


def _text_cell(ref: str, value: Any) -> str:
    return '<c r="' + ref + _text_cell_rest(value if isinstance(value, str) else str(value))


@functools.lru_cache(maxsize=4096)
def _text_cell_rest(text: str) -> str:
    # Cached whole: most columns repeat a few values (items, districts, statuses, stewards).
    escaped = _sheet_text(text)
    space = ' xml:space="preserve"' if escaped[:1].isspace() or escaped[-1:].isspace() else ""
    return f'" t="inlineStr"><is><t{space}>{escaped}</t></is></c>'


def _cell_writer(kind: Kind) -> Callable[[str, Any], str]:
    match kind:
        case "int" | "rate":
            style = _STYLE[kind]
            return lambda ref, v: f'<c r="{ref}" s="{style}"><v>{_number(v)}</v></c>'
        case "date" | "datetime":
            style = _STYLE[kind]
            return lambda ref, v: f'<c r="{ref}" s="{style}"><v>{excel_serial(v)!r}</v></c>'
        case "bool":
            return lambda ref, v: f'<c r="{ref}" t="b"><v>{1 if v else 0}</v></c>'
        case "text":
            return _text_cell


class SheetXml:
    """The worksheet's XML: its start (widths, frozen header row, titles), the rows a batch
    at a time, and its end. Values come in column order; None leaves a cell empty."""

    def __init__(self, columns: Sequence[SheetColumn]) -> None:
        self.columns = columns
        self.letters = [_column_letter(i) for i in range(len(columns))]
        self.writers = [_cell_writer(c.kind) for c in columns]
        self.next_row = 2

    def start(self) -> bytes:
        widths = "".join(
            f'<col min="{i}" max="{i}" width="{c.width:g}" customWidth="1"/>' for i, c in enumerate(self.columns, 1)
        )
        header = "".join(
            f'<c r="{letter}1" s="{_STYLE["header"]}" t="inlineStr"><is><t>{sheet_text(c.title)}</t></is></c>'
            for letter, c in zip(self.letters, self.columns, strict=True)
        )
        return (
            f'{_HEAD}<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}">'
            '<sheetViews><sheetView tabSelected="1" workbookViewId="0">'
            '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
            '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
            '<sheetFormatPr defaultRowHeight="15"/>'
            f"<cols>{widths}</cols><sheetData>"
            f'<row r="1">{header}</row>'
        ).encode()

    def rows(self, batch: Iterable[Sequence[Any]]) -> bytes:
        out: list[str] = []
        pairs = list(zip(self.letters, self.writers, strict=True))
        number = self.next_row
        for values in batch:
            if number > SHEET_ROWS:
                raise SheetFull(f"a worksheet holds {SHEET_ROWS - 1} rows below its header")
            r = str(number)
            out.append(f'<row r="{r}">')
            for (letter, write), value in zip(pairs, values, strict=True):
                if value is not None:
                    out.append(write(letter + r, value))
            out.append("</row>")
            number += 1
        self.next_row = number
        return "".join(out).encode()

    @staticmethod
    def end() -> bytes:
        return b"</sheetData></worksheet>"


def _workbook(sheet_name: str) -> bytes:
    name = _SHEET_NAME_FORBIDDEN.sub("_", sheet_name)[:31].strip("'") or "Sheet1"
    return (
        f'{_HEAD}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}">'
        '<bookViews><workbookView activeTab="0"/></bookViews>'
        f'<sheets><sheet name="{sheet_text(name).replace(chr(34), "&quot;")}" sheetId="1" r:id="rId1"/></sheets>'
        "</workbook>"
    ).encode()


_THREADS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="xlsx-export")
"""Where sheets are written and deflated: a pool of its own, so that exports never take
the threads other work (password hashing, files) runs on, and a fifth export at once
waits for a thread instead of slowing the first four."""


Batch = list[Sequence[Any]]


async def _read_ahead(rows: AsyncIterable[Sequence[Any]], ready: asyncio.Queue[Batch | Exception | None]) -> None:
    """Fill ``ready`` with batches of rows while the thread writes the last one, so the
    database and the writer work at the same time; the queue's bound keeps memory flat."""
    batch: Batch = []
    try:
        async for row in rows:
            batch.append(row)
            if len(batch) >= BATCH_ROWS:
                await ready.put(batch)
                batch = []
        if batch:
            await ready.put(batch)
        await ready.put(None)
    except Exception as error:  # handed to the thread, which raises it where the file is written
        await ready.put(error)
    finally:
        # Cancelled between two rows, the source is suspended, not ended: end it here.
        close = getattr(rows, "aclose", None)
        if close is not None:
            await close()


async def xlsx_stream(
    columns: Sequence[SheetColumn], rows: AsyncIterable[Sequence[Any]], sheet_name: str
) -> AsyncIterator[bytes]:
    """The workbook's bytes as they are made.

    The rows are read on the event loop, two batches ahead at most; the XML is written
    and deflated in an export thread, which takes each batch from the loop when it needs it."""
    loop = asyncio.get_running_loop()
    ready: asyncio.Queue[Batch | Exception | None] = asyncio.Queue(maxsize=2)
    reader = loop.create_task(_read_ahead(rows, ready))
    now = datetime.now(UTC).replace(tzinfo=None)

    def sheet() -> Iterator[bytes]:
        xml = SheetXml(columns)
        yield xml.start()
        while (batch := asyncio.run_coroutine_threadsafe(ready.get(), loop).result()) is not None:
            if isinstance(batch, Exception):
                raise batch
            yield xml.rows(batch)
        yield SheetXml.end()

    parts: list[MemberFile] = [
        (name, now, 0o600, ZIP_32, (part,))
        for name, part in (
            ("[Content_Types].xml", _CONTENT_TYPES.encode()),
            ("_rels/.rels", _ROOT_RELS.encode()),
            ("xl/workbook.xml", _workbook(sheet_name)),
            ("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS.encode()),
            ("xl/styles.xml", _STYLES.encode()),
        )
    ]
    parts.append(("xl/worksheets/sheet1.xml", now, 0o600, ZIP_32, sheet()))
    chunks = iter(
        stream_zip(parts, get_compressobj=lambda: zlib.compressobj(level=COMPRESSION_LEVEL, wbits=-zlib.MAX_WBITS))
    )
    try:
        while (chunk := await loop.run_in_executor(_THREADS, next, chunks, None)) is not None:
            yield chunk
    finally:
        # A client that left mid-file: the read ends now (its transaction rolls back and
        # its connection goes back to the pool), not when the collector gets to it; and
        # the export thread, which may be waiting for a batch that will never come, is
        # handed an error instead so that it goes back to the pool too.
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
        while not ready.empty():
            ready.get_nowait()
        ready.put_nowait(DownloadLeft("the client left before the file was complete"))
