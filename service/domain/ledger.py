"""Ledgers (台账) brought in from spreadsheets: their columns, and each cell read as the
value it stands for. Pure: the reference lists a row is checked against are handed in.

A ledger is kept by hand in Excel, so a cell may hold what Excel made of what was typed:
a date as a serial number or as text in one of the forms Excel writes, a mobile number as
a number, a district by its name with or without 区/县. The reasons a row is refused are
written in Chinese, for the clerk who reads the report beside the row.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import NamedTuple

from service.domain.identity import mobile_problem, national_id_problem, normalise_mobile, normalise_national_id
from service.domain.time_limit import CST, local_day
from service.domain.workflow import Status

MAX_ROWS = 200_000
"""Rows in one file at most; a larger ledger is split (the report says so)."""
EXAMPLE_MARK = "示例"
"""A row whose first cell starts with this is the template's example and is skipped."""
OFFICE_OPENS = time(9, 0)
"""When a ledger gives a day only, the case is taken as received at 09:00 that day."""
_EXCEL_EPOCH = date(1899, 12, 30)
_FIRST_DAY = date(2000, 1, 1)


class Kind(StrEnum):
    WORKERS = "workers"
    CASES = "cases"


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    title: str
    """The title the template prints."""
    aliases: tuple[str, ...] = ()
    """Other titles ledgers use for the same column."""
    required: bool = False
    note: str = ""
    """What may be written, for the template's notes."""
    example: str = ""


WORKER_COLUMNS: tuple[Column, ...] = (
    Column("name", "姓名", ("科技工作者姓名", "人才姓名", "名字"), True, "最多64字", "示例：张明"),
    Column(
        "national_id",
        "身份证号",
        ("身份证号码", "公民身份号码", "证件号码", "身份证"),
        True,
        "18位居民身份证号码；请将此列设为文本格式",
        "500107199003071234",
    ),
    Column("mobile", "手机号", ("手机号码", "手机", "联系电话", "联系方式"), True, "11位手机号码", "13800138000"),
    Column("district", "所在区县", ("区县", "所属区县", "区县名称"), True, "区县名称或编码，见「可选值」", "九龙坡区"),
    Column("employer", "工作单位", ("单位", "单位名称", "所在单位"), True, "最多128字", "重庆某某研究院"),
    Column("talent_card", "英才卡", ("英才卡类型", "重庆英才卡"), False, "A卡、B卡或无（空白为无）", "A卡"),
    Column("field", "专业领域", ("领域", "研究领域", "专业"), False, "最多64字", "新材料"),
    Column(
        "steward",
        "科技专员",
        ("人才管家", "专员", "科技专员姓名"),
        False,
        "科技专员的姓名或登录账号；空白为导入人本人（仅科技专员）",
        "王丽",
    ),
)

CASE_COLUMNS: tuple[Column, ...] = (
    Column(
        "national_id",
        "身份证号",
        ("身份证号码", "公民身份号码", "证件号码", "身份证"),
        True,
        "须已在系统中",
        "500107199003071234",
    ),
    Column("name", "姓名", ("科技工作者姓名", "人才姓名"), False, "填写时须与系统中一致", "示例：张明"),
    Column(
        "item", "服务事项", ("事项", "事项编号", "事项名称", "清单事项"), True, "事项编号或名称，见「可选值」", "WL-04"
    ),
    Column("title", "诉求标题", ("标题", "诉求", "诉求事项"), False, "最多200字；空白时用事项名称", "子女转学入学"),
    Column(
        "description",
        "诉求内容",
        ("备注", "情况说明", "诉求描述", "办理情况"),
        False,
        "最多4000字",
        "孩子今年秋季转入九龙坡区小学",
    ),
    Column(
        "received_on",
        "收件日期",
        ("受理日期", "登记日期", "收件时间", "日期"),
        True,
        "如 2026-03-05、2026/3/5、2026年3月5日，或 Excel 日期",
        "2026-03-05",
    ),
    Column("status", "办理状态", ("状态", "当前状态"), True, "待受理、已受理、办理中或待补件", "办理中"),
    Column("department", "承办部门", ("责任部门", "办理部门"), False, "部门名称或编码；空白为事项牵头部门", "市教委"),
    Column("steward", "科技专员", ("人才管家", "专员"), False, "姓名或登录账号；空白为该科技工作者的科技专员", ""),
    Column("channel", "受理渠道", ("渠道", "来源"), False, "电话、现场、微信、网站或服务平台（空白为现场）", "现场"),
    Column("ledger_no", "原台账编号", ("台账编号", "原编号"), False, "原台账中的编号，最多64字", "JLP-2026-031"),
)

COLUMNS: dict[Kind, tuple[Column, ...]] = {Kind.WORKERS: WORKER_COLUMNS, Kind.CASES: CASE_COLUMNS}

TALENT_CARDS = {"a": "A", "a卡": "A", "b": "B", "b卡": "B", "": "none", "无": "none", "否": "none", "none": "none"}
IMPORTED_STATUSES: dict[str, Status] = {
    "待受理": Status.SUBMITTED,
    "已提交": Status.SUBMITTED,
    "submitted": Status.SUBMITTED,
    "已受理": Status.ACCEPTED,
    "accepted": Status.ACCEPTED,
    "办理中": Status.IN_PROGRESS,
    "正在办理": Status.IN_PROGRESS,
    "in_progress": Status.IN_PROGRESS,
    "待补件": Status.AWAITING_MATERIALS,
    "补正材料": Status.AWAITING_MATERIALS,
    "awaiting_materials": Status.AWAITING_MATERIALS,
}
FINISHED_WORDS = ("已办结", "办结", "已归档", "不予受理", "已撤回", "resolved", "closed", "rejected", "withdrawn")
CHANNELS = {
    "电话": "phone",
    "phone": "phone",
    "现场": "in_person",
    "窗口": "in_person",
    "来访": "in_person",
    "in_person": "in_person",
    "微信": "wechat",
    "wechat": "wechat",
    "网站": "website",
    "网上": "website",
    "website": "website",
    "服务平台": "platform",
    "平台": "platform",
    "platform": "platform",
    "": "in_person",
}


class Problem(NamedTuple):
    column: str
    """The column's title as the file has it ('' for the row as a whole)."""
    reason: str


# --- the header -------------------------------------------------------------------


def _title_key(text: object) -> str:
    return re.sub(r"[\s*＊（）()]", "", unicodedata.normalize("NFKC", str(text or ""))).lower()


@dataclass(frozen=True, slots=True)
class Header:
    positions: dict[str, int]
    """Column key → index in the row."""
    titles: dict[str, str]
    """Column key → the title as the file writes it."""


def read_header(cells: Sequence[object], columns: Sequence[Column]) -> Header | list[str]:
    """Which column of the file is which, or why the header cannot be read. Titles are
    matched whatever their spacing, width or a required-mark (*) beside them; a column
    the ledger has but the import does not use (序号, say) is left alone."""
    wanted: dict[str, Column] = {}
    for column in columns:
        for title in (column.title, *column.aliases):
            wanted[_title_key(title)] = column
    positions: dict[str, int] = {}
    titles: dict[str, str] = {}
    problems: list[str] = []
    for index, cell in enumerate(cells):
        found = wanted.get(_title_key(cell))
        if found is None:
            continue
        if found.key in positions:
            problems.append(f"「{titles[found.key]}」和「{cell}」是同一列，只能保留一个")
            continue
        positions[found.key] = index
        titles[found.key] = str(cell).strip()
    missing = [c.title for c in columns if c.required and c.key not in positions]
    if missing:
        problems.append("缺少必填列：" + "、".join(missing) + "（第一行须为列标题，可下载模板对照）")
    return problems or Header(positions, titles)


def cells_of(row: Sequence[object], header: Header) -> dict[str, object]:
    return {key: (row[index] if index < len(row) else None) for key, index in header.positions.items()}


def is_blank(row: Sequence[object]) -> bool:
    return all(_text(cell) == "" for cell in row)


def is_example(cells: Mapping[str, object]) -> bool:
    """The template's example row (its 姓名 starts with 示例)."""
    return _text(cells.get("name")).startswith(EXAMPLE_MARK)


# --- cells ------------------------------------------------------------------------


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip()


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def text_problem(text: str, limit: int, *, multiline: bool = False) -> str | None:
    if len(text) > limit:
        return f"超过{limit}字"
    if _CONTROL.search(text) or (not multiline and ("\n" in text or "\r" in text)):
        return "含有换行或不可见的控制字符" if not multiline else "含有不可见的控制字符"
    return None


def read_day(value: object, today: date) -> datetime | str:
    """When a case was received, from an Excel date, an Excel serial number or text in the
    forms Excel writes (2026-03-05, 2026/3/5, 2026.3.5, 2026年3月5日, 20260305, with a time
    or without). A day without a time is taken at 09:00 China Standard Time."""
    moment: datetime | None = None
    if isinstance(value, datetime):
        moment = value.replace(tzinfo=None)
    elif isinstance(value, date):
        moment = datetime.combine(value, OFFICE_OPENS)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if not 1 <= value < 2_958_466:
            return "不是有效的日期"
        whole = int(value)
        day = _EXCEL_EPOCH + timedelta(days=whole)
        fraction = value - whole
        moment = (
            datetime.combine(day, OFFICE_OPENS)
            if fraction == 0
            else datetime.combine(day, time()) + timedelta(seconds=round(fraction * 86400))
        )
    else:
        text = _text(value)
        if not text:
            return "不能为空"
        parsed = _parse_text_day(text)
        if parsed is None:
            return f"「{text[:20]}」不是可识别的日期，请写成 2026-03-05"
        if isinstance(parsed, str):
            return parsed
        moment = parsed
    if moment.date() < _FIRST_DAY:
        return "早于2000年"
    if moment.date() > today:
        return "晚于今天"
    return moment.replace(tzinfo=CST)


_DAY_TEXT = re.compile(
    r"(?P<y>\d{4})\s*(?:[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?|(?P<m2>\d{2})(?P<d2>\d{2}))"
    r"(?:[\sT]+(?P<H>\d{1,2})[:：时](?P<M>\d{1,2})(?:[:：分](?P<S>\d{1,2})秒?)?分?)?"
)


def _parse_text_day(text: str) -> datetime | str | None:
    match = _DAY_TEXT.fullmatch(text)
    if match is None:
        return None
    year = int(match["y"])
    month = int(match["m"] or match["m2"])
    day_of_month = int(match["d"] or match["d2"])
    try:
        day = date(year, month, day_of_month)
    except ValueError:
        return f"{year}年{month}月{day_of_month}日不存在"
    if match["H"] is None:
        return datetime.combine(day, OFFICE_OPENS)
    hour, minute, second = int(match["H"]), int(match["M"]), int(match["S"] or 0)
    if hour > 23 or minute > 59 or second > 59:
        return f"时间 {hour}:{minute:02d} 不存在"
    return datetime.combine(day, time(hour, minute, second))


def read_national_id(value: object) -> tuple[str, str | None]:
    """The ID number as text, and why it is refused. Excel turns a long number typed
    without a leading quote into a number and keeps 15 digits: such a cell is refused,
    not guessed."""
    if isinstance(value, float | int) and not isinstance(value, bool):
        return "", "被 Excel 存成了数字，末几位已丢失；请把该列设为文本后重新填写"
    national_id = normalise_national_id(_text(value))
    if not national_id:
        return "", "不能为空"
    if problem := national_id_problem(national_id):
        return national_id, _ID_REASONS.get(problem, "不是有效的身份证号码")
    return national_id, None


_ID_REASONS = {
    "must be 17 digits followed by a digit or X": "应为17位数字加1位数字或X",
    "does not start with a known province code": "开头不是有效的省级行政区代码",
    "does not contain a valid date of birth": "出生日期无效",
    "does not contain a plausible date of birth": "出生日期不合理",
    "check character does not match": "校验码不正确",
}


def read_mobile(value: object) -> str:
    return normalise_mobile(_text(value))


# --- reference lists ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ItemRef:
    id: uuid.UUID
    code: str
    title: str
    year: int
    lead_department_code: str
    promised_working_days: int
    active: bool


@dataclass(frozen=True, slots=True)
class StewardRef:
    id: uuid.UUID
    name: str
    username: str | None


@dataclass(slots=True)
class Lists:
    """The names and codes a ledger may use, read once before the rows."""

    districts: dict[str, str] = field(default_factory=dict)
    """code, name, and name without its 区/县/自治县 → code"""
    departments: dict[str, str] = field(default_factory=dict)
    items: dict[tuple[int, str], ItemRef] = field(default_factory=dict)
    """(year, code or title) → item"""
    stewards: dict[str, list[StewardRef]] = field(default_factory=dict)
    """name or username → the stewards it may mean"""

    def add_district(self, code: str, name: str) -> None:
        for key in (code, name, re.sub(r"(自治县|区|县)$", "", name)):
            self.districts.setdefault(_key(key), code)

    def add_department(self, code: str, name: str) -> None:
        for key in (code, name):
            self.departments.setdefault(_key(key), code)

    def add_item(self, item: ItemRef) -> None:
        for key in (item.code, item.title, f"{item.code}{item.title}"):
            self.items.setdefault((item.year, _key(key)), item)

    def add_steward(self, steward: StewardRef) -> None:
        for key in {steward.name, steward.username or ""} - {""}:
            self.stewards.setdefault(_key(key), []).append(steward)


def _key(text: str) -> str:
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", text)).lower()


# --- rows ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WorkerRow:
    name: str
    national_id: str
    mobile: str
    district_code: str
    employer: str
    talent_card: str
    field: str
    steward_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class CaseRow:
    national_id: str
    name: str
    item: ItemRef
    title: str
    description: str
    received_at: datetime
    status: Status
    department_code: str
    steward_id: uuid.UUID | None
    """None: the worker's own steward."""
    channel: str
    ledger_no: str


class Checker:
    """Reads the cells of one row; collects every problem of the row, not only the first."""

    def __init__(self, cells: Mapping[str, object], header: Header) -> None:
        self.cells = cells
        self.header = header
        self.problems: list[Problem] = []

    def refuse(self, key: str, reason: str) -> None:
        self.problems.append(Problem(self.header.titles.get(key, ""), reason))

    def text(self, key: str, limit: int, *, required: bool = False, multiline: bool = False) -> str:
        text = _text(self.cells.get(key))
        if multiline:
            text = text.replace("\r\n", "\n")
        if required and not text:
            self.refuse(key, "不能为空")
        elif problem := text_problem(text, limit, multiline=multiline):
            self.refuse(key, problem)
        return text

    def national_id(self) -> str:
        national_id, problem = read_national_id(self.cells.get("national_id"))
        if problem is not None:
            self.refuse("national_id", problem)
        return national_id

    def steward(self, lists: Lists, own: uuid.UUID | None) -> uuid.UUID | None:
        """The steward a row names; None when it names none. ``own`` is the importing
        steward, who may name only themself."""
        text = _text(self.cells.get("steward"))
        if not text:
            return own
        found = lists.stewards.get(_key(text), [])
        if not found:
            self.refuse("steward", f"系统中没有科技专员「{text[:20]}」")
            return None
        if len({s.id for s in found}) > 1:
            self.refuse("steward", f"有多名科技专员叫「{text[:20]}」，请填写其登录账号")
            return None
        steward = found[0].id
        if own is not None and steward != own:
            self.refuse("steward", "科技专员只能导入由本人服务的科技工作者和办件")
            return None
        return steward


def check_worker(
    cells: Mapping[str, object], header: Header, lists: Lists, own: uuid.UUID | None
) -> WorkerRow | list[Problem]:
    """One row of a workers ledger. ``own``: the importing steward (None for an administrator)."""
    row = Checker(cells, header)
    name = row.text("name", 64, required=True)
    national_id = row.national_id()
    mobile_text = _text(cells.get("mobile"))
    mobile = read_mobile(mobile_text)
    if not mobile_text:
        row.refuse("mobile", "不能为空")
    elif mobile_problem(mobile):
        row.refuse("mobile", "不是有效的11位手机号码")
    district_text = _text(cells.get("district"))
    district = lists.districts.get(_key(district_text))
    if not district_text:
        row.refuse("district", "不能为空")
    elif district is None:
        row.refuse("district", f"没有「{district_text[:20]}」这个区县")
    employer = row.text("employer", 128, required=True)
    card_text = _text(cells.get("talent_card"))
    card = TALENT_CARDS.get(card_text.lower().replace(" ", ""))
    if card is None:
        row.refuse("talent_card", "应为A卡、B卡或无")
    work_field = row.text("field", 64)
    steward = row.steward(lists, own)
    if steward is None and not row.problems and not _text(cells.get("steward")):
        row.refuse("steward", "不能为空：请填写科技专员的姓名或登录账号")
    if row.problems:
        return row.problems
    assert district is not None
    assert card is not None
    assert steward is not None
    return WorkerRow(name, national_id, mobile, district, employer, card, work_field, steward)


def check_case(
    cells: Mapping[str, object], header: Header, lists: Lists, own: uuid.UUID | None, now: datetime
) -> CaseRow | list[Problem]:
    """One row of a cases ledger; the worker it names is looked up afterwards."""
    row = Checker(cells, header)
    national_id = row.national_id()
    name = row.text("name", 64)
    received = read_day(cells.get("received_on"), local_day(now))
    if isinstance(received, str):
        row.refuse("received_on", received)
    elif received > now:  # today, at 09:00 or a time still to come: received now at the latest
        received = now
    item_text = _text(cells.get("item"))
    item: ItemRef | None = None
    if not item_text:
        row.refuse("item", "不能为空")
    elif not isinstance(received, str):
        item = lists.items.get((received.year, _key(item_text)))
        if item is None:
            known = any(key == _key(item_text) for _, key in lists.items)
            row.refuse(
                "item",
                f"{received.year}年的工作清单中没有该事项"
                if known
                else f"没有「{item_text[:30]}」这个事项，请填写事项编号（如 WL-04）或名称",
            )
        elif not item.active:
            row.refuse("item", "该事项已停用")
    title = row.text("title", 200)
    description = row.text("description", 4000, multiline=True)
    status_text = _text(cells.get("status"))
    status = IMPORTED_STATUSES.get(status_text.lower())
    if not status_text:
        row.refuse("status", "不能为空")
    elif status is None:
        finished = status_text.lower() in FINISHED_WORDS
        row.refuse(
            "status",
            "只导入在办的办件（已办结、已归档、不予受理、已撤回的不导入）"
            if finished
            else "应为待受理、已受理、办理中或待补件",
        )
    department_text = _text(cells.get("department"))
    department = lists.departments.get(_key(department_text)) if department_text else None
    if department_text and department is None:
        row.refuse("department", f"没有「{department_text[:20]}」这个部门")
    steward = row.steward(lists, own)
    channel = CHANNELS.get(_text(cells.get("channel")).lower())
    if channel is None:
        row.refuse("channel", "应为电话、现场、微信、网站或服务平台")
    ledger_no = row.text("ledger_no", 64)
    if row.problems:
        return row.problems
    assert item is not None
    assert status is not None
    assert channel is not None
    assert not isinstance(received, str)
    return CaseRow(
        national_id=national_id,
        name=name,
        item=item,
        title=title or item.title,
        description=description,
        received_at=received,
        status=status,
        department_code=department or item.lead_department_code,
        steward_id=steward,
        channel=channel,
        ledger_no=ledger_no,
    )


def case_key(worker_index: bytes, row: CaseRow) -> bytes:
    """The natural key of an imported case: its worker, item, day received and, from the
    ledger, its own number or else its title. The same row imported twice has the same key."""
    parts = [worker_index.hex(), row.item.code, row.received_at.date().isoformat(), row.ledger_no or row.title]
    return hashlib.sha256("\x1f".join(parts).encode()).digest()
