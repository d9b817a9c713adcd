"""The workbooks an import hands back: the check report (the rows as the file had them,
with a column saying what became of each) and the blank templates with their notes.

Both are written by XlsxWriter; the report in constant-memory mode, a row at a time, so
that a 100,000-row report costs no more memory than a short one. Cells are written as
strings, numbers or dates, never as formulas: a cell reading ``=HYPERLINK(…)`` in a
ledger comes back as that text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import xlsxwriter

from service.domain.ledger import EXAMPLE_MARK, Column

RESULT_TITLE = "导入检查结果"
_WIDTH = 60


class CheckReport:
    """The report workbook, written as the rows are checked."""

    def __init__(self, path: Path, header: Sequence[object]) -> None:
        self.book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "remove_timezone": True})
        self.sheet = self.book.add_worksheet("检查结果")
        bold = self.book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        self.refused = self.book.add_format({"font_color": "#C00000"})
        self.day = self.book.add_format({"num_format": "yyyy-mm-dd"})
        self.moment = self.book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        self.width = len(header)
        for index, title in enumerate(header):
            self.sheet.write_string(0, index, _as_text(title), bold)
        self.sheet.write_string(0, self.width, RESULT_TITLE, bold)
        self.sheet.freeze_panes(1, 0)
        self.next_row = 1

    def add(self, cells: Sequence[object], result: str, ok: bool) -> None:
        r = self.next_row
        for index, value in enumerate(cells[: max(self.width, len(cells))]):
            self._cell(r, index, value)
        self.sheet.write_string(r, max(self.width, len(cells)), result, None if ok else self.refused)
        self.next_row += 1

    def _cell(self, r: int, c: int, value: object) -> None:
        if value is None or value == "":
            return
        if isinstance(value, bool):
            self.sheet.write_boolean(r, c, value)
        elif isinstance(value, int | float):
            self.sheet.write_number(r, c, value)
        elif isinstance(value, datetime):
            self.sheet.write_datetime(r, c, value.replace(tzinfo=None), self.moment)
        elif isinstance(value, date):
            self.sheet.write_datetime(r, c, datetime.combine(value, time()), self.day)
        else:
            self.sheet.write_string(r, c, _as_text(value))

    def close(self) -> None:
        self.sheet.set_column(0, self.width - 1, 16)
        self.sheet.set_column(self.width, self.width, _WIDTH)
        self.book.close()


def _as_text(value: object) -> str:
    if isinstance(value, timedelta | time):
        return str(value)
    return str(value)[:32767]


@dataclass(frozen=True, slots=True)
class Choices:
    """The values a template lists on its 可选值 sheet, each as (code, name)."""

    districts: Sequence[tuple[str, str]]
    departments: Sequence[tuple[str, str]]
    items: Sequence[tuple[str, str]]
    year: int


_FIXED: dict[str, Sequence[tuple[str, str]]] = {
    "talent_card": [("A", "A卡"), ("B", "B卡"), ("none", "无")],
    "status": [("submitted", "待受理"), ("accepted", "已受理"), ("in_progress", "办理中"), ("awaiting_materials", "待补件")],
    "channel": [("in_person", "现场"), ("phone", "电话"), ("wechat", "微信"), ("website", "网站"), ("platform", "服务平台")],
}


def template_xlsx(title: str, columns: Sequence[Column], choices: Choices) -> bytes:
    """A blank ledger: the titles (required ones marked *), an example row the import
    skips, drop-down lists where a column takes fixed values, and a sheet of notes."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet(title)
    lists = book.add_worksheet("可选值")
    notes = book.add_worksheet("填写说明")
    header = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    required = book.add_format({"bold": True, "bg_color": "#FCE4D6", "border": 1})
    example = book.add_format({"italic": True, "font_color": "#7F7F7F", "num_format": "@"})
    as_text = book.add_format({"num_format": "@"})
    ranges = _write_lists(lists, header, choices)
    for index, column in enumerate(columns):
        sheet.write_string(0, index, column.title + (" *" if column.required else ""), required if column.required else header)
        sheet.write_string(1, index, column.example, example)
        sheet.set_column(index, index, max(14, len(column.title) * 2 + 4), as_text)
        if column.key in ranges:
            sheet.data_validation(
                2, index, 100_001, index, {"validate": "list", "source": ranges[column.key], "error_type": "warning"}
            )
    sheet.freeze_panes(1, 0)
    notes.write_string(0, 0, "列", header)
    notes.write_string(0, 1, "是否必填", header)
    notes.write_string(0, 2, "填写要求", header)
    for index, column in enumerate(columns, start=1):
        notes.write_string(index, 0, column.title)
        notes.write_string(index, 1, "必填" if column.required else "选填")
        notes.write_string(index, 2, column.note + ("；也可用列名：" + "、".join(column.aliases) if column.aliases else ""))
    tail = len(columns) + 2
    notes.write_string(tail, 0, f"第二行是示例，首格以「{EXAMPLE_MARK}」开头的行导入时跳过，可保留也可删除。")
    notes.write_string(tail + 1, 0, "同一文件重复导入不会重复登记：身份证号相同的科技工作者、同一人同一事项同一收件日期的办件只导入一次。")
    notes.write_string(tail + 2, 0, "先试导入（检查），按检查结果修改后再正式导入；有任何一行不通过时，默认整批不导入。")
    notes.set_column(0, 0, 16)
    notes.set_column(2, 2, 90)
    book.close()
    return buffer.getvalue()


def _write_lists(lists: Any, header: Any, choices: Choices) -> dict[str, str]:
    """The 可选值 sheet, a block of (code, name) pairs per list; returns the range each
    drop-down takes its values from (the names)."""
    blocks: list[tuple[str, str, Sequence[tuple[str, str]]]] = [
        ("district", "区县", choices.districts),
        ("department", "部门", choices.departments),
        ("item", f"{choices.year}年工作清单事项", choices.items),
        ("talent_card", "英才卡", _FIXED["talent_card"]),
        ("status", "办理状态", _FIXED["status"]),
        ("channel", "受理渠道", _FIXED["channel"]),
    ]
    ranges: dict[str, str] = {}
    for block, (key, title, values) in enumerate(blocks):
        code_col, name_col = block * 3, block * 3 + 1
        lists.write_string(0, code_col, f"{title}编码", header)
        lists.write_string(0, name_col, f"{title}名称", header)
        for row, (code, name) in enumerate(values, start=1):
            lists.write_string(row, code_col, code)
            lists.write_string(row, name_col, name)
        lists.set_column(code_col, code_col, 18)
        lists.set_column(name_col, name_col, 28)
        letter = xlsxwriter.utility.xl_col_to_name(name_col)
        ranges[key] = f"=可选值!${letter}$2:${letter}${len(values) + 1}"
    return ranges


def template_csv(columns: Sequence[Column]) -> bytes:
    """The same titles and example row as UTF-8 with a byte-order mark (Excel reads it)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([c.title for c in columns])
    writer.writerow([c.example for c in columns])
    return b"\xef\xbb\xbf" + buffer.getvalue().encode()
