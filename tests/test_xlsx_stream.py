"""The streamed XLSX writer: what Excel's readers make of its file, and what happens when
the rows fail half-way.

The files are read back with python-calamine (the Rust reader behind pandas' calamine
engine) and openpyxl, two readers that share no code with the writer."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import zipfile
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime
from typing import Any

import openpyxl
import pytest
from python_calamine import CalamineError, CalamineWorkbook

from service.adapters.xlsx_stream import SHEET_ROWS, SheetColumn, SheetFull, SheetXml, excel_serial, xlsx_stream
from service.api.exports import Column, csv_chunks, reported, xlsx_chunks

COLUMNS = [
    SheetColumn("受理编号", "text", 22),
    SheetColumn("区县", "text", 10),
    SheetColumn("收件日期", "date", 11),
    SheetColumn("受理时间", "datetime", 17),
    SheetColumn("是否按时办结", "bool", 8),
    SheetColumn("办结用时（工作日）", "int", 8),
    SheetColumn("按时办结率", "rate", 8),
]
ACCEPTED = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)  # 09:30 in Chongqing


def case_row(i: int) -> list[Any]:
    return [f"BS-20260302-{i:06d}-1", "渝北区", date(2026, 3, 2), ACCEPTED, i % 2 == 0, i % 15, 0.5]


async def each(rows: Sequence[Sequence[Any]]) -> AsyncIterator[Sequence[Any]]:
    for row in rows:
        yield row


async def collect(chunks: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in chunks])


async def test_a_streamed_sheet_reads_back_cell_by_cell_in_calamine_and_openpyxl() -> None:
    odd = [
        '=HYPERLINK("http://evil.example","点我")',
        "+1",
        "-2",
        "@SUM(A1)",
        "a\x00b\x07c\x1fd",  # XML 1.0 forbids these controls: dropped
        "_x0041_",  # Excel would read this as "A" were it not protected
        "  spaced  ",
        "<&>\"'",
        "重庆市 两江新区",
    ]
    rows: list[list[Any]] = [case_row(i) for i in range(3000)]
    rows += [[text, None, None, None, None, None, None] for text in odd]
    content = await collect(xlsx_stream(COLUMNS, each(rows), "cases-received"))

    assert zipfile.ZipFile(io.BytesIO(content)).testzip() is None
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0).to_python()
    assert sheet[0] == [c.title for c in COLUMNS]
    assert len(sheet) == 1 + len(rows)
    assert sheet[1] == ["BS-20260302-000000-1", "渝北区", date(2026, 3, 2), datetime(2026, 3, 2, 9, 30), True, 0.0, 0.5]
    assert [r[0] for r in sheet[-len(odd) :]] == [
        *odd[:4],
        "abcd",
        "_x0041_",
        "  spaced  ",
        "<&>\"'",
        "重庆市 两江新区",
    ]

    book = openpyxl.load_workbook(io.BytesIO(content))
    ws = book.active
    assert ws.title == "cases-received"
    assert ws.freeze_panes == "A2"
    assert ws["A1"].font.b and ws["A1"].fill.fgColor.rgb == "FFDDEBF7"
    assert ws.column_dimensions["A"].width == 22
    assert (ws["C2"].value, ws["C2"].number_format) == (datetime(2026, 3, 2), "yyyy-mm-dd")
    assert (ws["D2"].value, ws["D2"].number_format) == (datetime(2026, 3, 2, 9, 30), "yyyy-mm-dd hh:mm")
    assert (ws["F3"].value, ws["F3"].number_format) == (1, "0")
    assert ws["G2"].number_format == "0.00%"
    first_odd = 2 + 3000
    formula_like = ws.cell(row=first_odd, column=1)
    assert (formula_like.value, formula_like.data_type) == (odd[0], "s")  # text, never a formula
    assert ws.cell(row=first_odd, column=2).value is None  # None leaves the cell empty


async def test_the_first_bytes_leave_before_the_rows_are_all_read() -> None:
    """The point of streaming: the download starts while the database is still reading."""
    more = asyncio.Event()

    async def rows() -> AsyncIterator[Sequence[Any]]:
        for i in range(20_000):
            yield case_row(i)
        await more.wait()  # the rest of the rows are not there yet
        yield case_row(20_000)

    chunks = xlsx_stream(COLUMNS, rows(), "cases")
    first = await asyncio.wait_for(anext(chunks), timeout=30)
    assert first.startswith(b"PK\x03\x04")
    more.set()
    content = first + await collect(chunks)
    assert len(CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0).to_python()) == 20_002


async def test_rows_that_fail_half_way_leave_a_file_no_reader_takes_for_whole(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def rows() -> AsyncIterator[Sequence[Any]]:
        for i in range(30_000):
            yield case_row(i)
        raise ConnectionResetError("the database went away")

    received = bytearray()

    async def download() -> None:
        async for chunk in reported(xlsx_stream(COLUMNS, rows(), "cases"), "cases-received.xlsx"):
            received.extend(chunk)

    caplog.set_level(logging.ERROR, logger="banshi.exports")
    with pytest.raises(ConnectionResetError):
        await download()
    assert len(received) > 0  # bytes had gone out before the failure
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(io.BytesIO(bytes(received)))
    with pytest.raises(CalamineError):
        CalamineWorkbook.from_filelike(io.BytesIO(bytes(received)))
    [record] = caplog.records
    assert "cases-received.xlsx" in record.getMessage() and f"{len(received)} bytes" in record.getMessage()


def test_a_sheet_refuses_a_row_past_the_last_excel_holds() -> None:
    xml = SheetXml(COLUMNS)
    xml.next_row = SHEET_ROWS
    assert xml.rows([case_row(1)]).startswith(f'<row r="{SHEET_ROWS}">'.encode())
    with pytest.raises(SheetFull):
        xml.rows([case_row(2)])


def test_dates_are_excel_serial_days_in_china_standard_time() -> None:
    assert excel_serial(date(1900, 3, 1)) == 61
    assert excel_serial(date(2026, 1, 1)) == 46023
    assert excel_serial(datetime(2025, 12, 31, 18, 0, tzinfo=UTC)) == 46023 + 2 / 24  # 02:00 on 1 January
    # China kept daylight saving time from 1986 to 1991: then the zone's own offset counts.
    assert excel_serial(datetime(1990, 7, 1, 0, 0, tzinfo=UTC)) == excel_serial(datetime(1990, 7, 1, 9, 0))


async def test_a_table_held_in_memory_gets_widths_that_fit_its_values() -> None:
    columns = [Column("code", "编号", "text"), Column("name", "名称", "text"), Column("n", "数")]
    rows = [{"code": "WL-01", "name": "住房公积金支持人才安居", "n": 3}]
    book = openpyxl.load_workbook(io.BytesIO(await collect(xlsx_chunks(columns, rows, "t"))))
    assert book.active.column_dimensions["B"].width == 2 * 11 + 1
    assert book.active.column_dimensions["A"].width == 8


async def test_a_csv_text_cell_that_would_be_a_formula_is_kept_as_text() -> None:
    columns = [Column("name", "科技专员", "text"), Column("n", "收件数")]
    rows = [{"name": "=1+1", "n": -3}, {"name": "@x", "n": 1}, {"name": "周文", "n": 2}]
    content = await collect(csv_chunks(columns, each(rows)))  # type: ignore[arg-type]
    assert content.decode("utf-8-sig").splitlines() == ["科技专员,收件数", "'=1+1,-3", "'@x,1", "周文,2"]


async def test_downloads_left_while_the_database_stalls_do_not_keep_the_export_threads() -> None:
    """A client that leaves while the export thread waits for rows the database has not
    sent yet: the thread must be let go, or a few such clients would leave no thread for
    the next export (the pool has four)."""
    stalled = asyncio.Event()

    async def stalling_rows() -> AsyncIterator[Sequence[Any]]:
        for i in range(1500):
            yield case_row(i)
        await stalled.wait()  # the database never answers again

    for _ in range(6):
        download = asyncio.create_task(collect(xlsx_stream(COLUMNS, stalling_rows(), "cases")))
        await asyncio.sleep(1)  # all before the stall has gone out; the thread waits for rows
        assert not download.done()
        download.cancel()  # the client leaves
        with contextlib.suppress(asyncio.CancelledError):
            await download
    content = await asyncio.wait_for(collect(xlsx_stream(COLUMNS, each([case_row(1)]), "cases")), timeout=30)
    assert len(CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0).to_python()) == 2
