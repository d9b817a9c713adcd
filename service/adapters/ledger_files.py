"""Reading a ledger file, row by row: XLSX and XLS through calamine (the Rust reader
pandas and Polars use), CSV in UTF-8 with or without a byte-order mark, in GB18030 (what
Excel in Chinese writes as "CSV"), or UTF-16 (Excel's "Unicode text", tab-separated).

The format is read from the file's first bytes, never from its name. CSV is decoded as it
is read, so memory does not grow with the file; a workbook's sheet is held by calamine in
its compact form while its rows are turned into Python values one at a time.
"""

from __future__ import annotations

import codecs
import csv
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.etree.ElementTree import ParseError

import python_calamine
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from service.domain.ledger import MAX_ROWS

MAX_UNPACKED_BYTES = 256 * 1024 * 1024
"""A workbook whose parts unpack to more than this is refused before it is read (a
100,000-row ledger unpacks to about 60 MB)."""
MAX_COLUMNS = 200
"""Ledgers have a dozen columns or two. calamine holds a sheet as a dense grid as wide and
tall as its farthest cell, so a workbook with one cell at XFD1048576 would ask for billions
of cells: a sheet's extent is read from its XML, cheaply, before calamine is given it."""
_CHUNK = 1024 * 1024


class UnreadableLedger(ValueError):
    """The file is not a ledger this service can read; the reason is for the clerk."""


@dataclass(slots=True)
class LedgerFile:
    format: str
    """xlsx, xls or csv"""
    encoding: str | None
    """The text encoding of a CSV file."""
    estimated_rows: int
    """Rows after the header, counted before reading (blank rows included)."""
    rows: Iterator[Sequence[object]]
    """The header first, then every row."""


def open_ledger(path: Path) -> LedgerFile:
    with path.open("rb") as stream:
        start = stream.read(8)
    if not start:
        raise UnreadableLedger("文件是空的")
    if start.startswith(b"PK\x03\x04"):
        _check_unpacked_size(path)
        _check_extent(path)
        return _workbook(path, "xlsx")
    if start.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return _workbook(path, "xls")
    return _text(path, start)


def _check_unpacked_size(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as error:
        raise UnreadableLedger("文件已损坏，不是有效的 Excel 文件") from error
    if unpacked > MAX_UNPACKED_BYTES:
        raise UnreadableLedger("文件解压后过大，请拆分成几个文件")


def _check_extent(path: Path) -> None:
    """Refuse a workbook whose sheets reach past the rows and columns a ledger may have.
    Every part of the archive whose root is a worksheet is parsed as a stream, wherever it
    lies and whatever its name (calamine finds sheets through the workbook's relations),
    counting rows and cells with or without their ``r`` references (with defusedxml, which
    refuses entity expansions and external references). An OpenDocument file is
    refused: its repeated rows and columns expand the same way, and Excel and WPS save XLSX."""
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        if "content.xml" in names and "xl/workbook.xml" not in names:
            raise UnreadableLedger("不支持 OpenDocument 表格，请另存为 Excel 工作簿（.xlsx）")
        for name in names:
            with archive.open(name) as stream:
                looks_like_xml = stream.read(64).lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")
            if looks_like_xml:
                rows, columns = _extent(archive, name)
                if rows > MAX_ROWS + 1 or columns > MAX_COLUMNS:
                    raise UnreadableLedger(
                        f"工作表有{rows}行、{columns}列，超出台账的范围（最多{MAX_ROWS}行、{MAX_COLUMNS}列），"
                        "请删去多余的行列或拆分文件"
                    )


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _extent(archive: zipfile.ZipFile, name: str) -> tuple[int, int]:
    """The rows and columns a worksheet part spans; (0, 0) for a part that is not one."""
    rows = columns = row = column = 0
    try:
        with archive.open(name) as stream:
            events = iterparse(stream, events=("start", "end"))
            _, root = next(events)
            if _local(root.tag) not in ("worksheet", "dialogsheet"):
                return 0, 0
            for event, element in events:
                tag = _local(element.tag)
                if event == "start" and tag == "row":
                    reference = element.get("r")
                    row = int(reference) if reference and reference.isdigit() else row + 1
                    column = 0
                    rows = max(rows, row)
                elif event == "start" and tag == "c":
                    reference = element.get("r") or ""
                    letters = reference.rstrip("0123456789")
                    column = _column_number(letters) if letters.isalpha() and letters.isupper() else column + 1
                    columns = max(columns, column)
                    digits = reference[len(letters) :]
                    if digits.isdigit():
                        rows = max(rows, int(digits))
                elif event == "end" and tag == "row":
                    element.clear()
                if rows > MAX_ROWS + 1 or columns > MAX_COLUMNS:
                    break
    except (ParseError, DefusedXmlException, StopIteration, zipfile.BadZipFile, EOFError, ValueError) as error:
        raise UnreadableLedger("文件已损坏，不是有效的 Excel 文件") from error
    return rows, columns


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters[:4]:
        number = number * 26 + ord(letter) - 64
    return number


def _workbook(path: Path, kind: str) -> LedgerFile:
    try:
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        visible = [m.name for m in book.sheets_metadata if m.visible == python_calamine.SheetVisibleEnum.Visible]
        if not visible:
            raise UnreadableLedger("工作簿中没有可见的工作表")
        sheet = book.get_sheet_by_name(visible[0])
    except python_calamine.PasswordError as error:
        raise UnreadableLedger("文件设有密码，请另存为无密码的文件") from error
    except (python_calamine.CalamineError, python_calamine.ZipError, python_calamine.XmlError, ValueError) as error:
        if isinstance(error, UnreadableLedger):
            raise
        raise UnreadableLedger("文件已损坏，或不是 Excel 工作簿") from error
    return LedgerFile(kind, None, max(sheet.height - 1, 0), _sheet_rows(sheet))


def _sheet_rows(sheet: python_calamine.CalamineSheet) -> Iterator[Sequence[object]]:
    try:
        yield from sheet.iter_rows()
    except (python_calamine.CalamineError, ValueError) as error:
        raise UnreadableLedger("工作表中有无法读取的单元格") from error


def _text(path: Path, start: bytes) -> LedgerFile:
    encoding = _encoding(path, start)
    delimiter = _delimiter(path, encoding)
    lines = 0
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            lines += chunk.count(b"\n") if not encoding.startswith("utf-16") else chunk.count(b"\n\x00")
    return LedgerFile("csv", _name(encoding), max(lines - 1, 0), _csv_rows(path, encoding, delimiter))


def _name(encoding: str) -> str:
    return {"utf-8-sig": "UTF-8 (BOM)", "utf-8": "UTF-8", "gb18030": "GB18030", "utf-16": "UTF-16"}[encoding]


def _encoding(path: Path, start: bytes) -> str:
    if start.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for encoding in ("utf-8", "gb18030"):
        if _decodes(path, encoding):
            return encoding
    raise UnreadableLedger("文件既不是 Excel 工作簿，也不是 UTF-8 或 GB18030 编码的 CSV 文本")


def _decodes(path: Path, encoding: str) -> bool:
    """Whether the whole file decodes, read a chunk at a time."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        with path.open("rb") as stream:
            while chunk := stream.read(_CHUNK):
                if b"\x00" in chunk:
                    return False
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _delimiter(path: Path, encoding: str) -> str:
    with path.open(encoding=encoding, newline="") as stream:
        first = stream.readline(64 * 1024)
    counts = {d: first.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _csv_rows(path: Path, encoding: str, delimiter: str) -> Iterator[Sequence[object]]:
    with path.open(encoding=encoding, newline="") as stream:
        reader = csv.reader(stream, delimiter=delimiter)
        try:
            for row in reader:
                yield list(row)
        except (csv.Error, UnicodeDecodeError) as error:
            raise UnreadableLedger(f"第{reader.line_num}行无法读取：CSV 格式有误") from error
