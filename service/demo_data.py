"""Generated demonstration data: staff, science workers and two years of cases.

Everything is drawn from one seeded random generator, so the same seed and options
give the same rows (the sealed personal data aside: the cipher takes a fresh nonce
for every value, as it must). Rows go in with COPY, in batches, in one transaction
with ``session_replication_role = replica``, which turns off the tally trigger and
the foreign-key checks for the load; the generator writes consistent rows only, and
the tallies are refilled afterwards by migration 0003's ``tally_rebuild()``.

Each case goes through the moves the workflow allows, and its stage times, due
times and clock are what ``services/cases.py`` and ``services/deadlines.py`` store
after the same moves. Working time comes from a per-day table built from the
database's calendar (``WorkingTime``), which gives the instants of
``domain/time_limit.py`` without walking day by day. Instants are whole Unix seconds
while a case lives, and microseconds since the Unix epoch in the rows sent to COPY.
"""

from __future__ import annotations

import asyncio
import gc
import json
import random
import secrets
import time
import uuid
from bisect import bisect
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import accumulate
from typing import Any

import asyncpg
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlmodel import col

from service.domain.access import Role
from service.domain.calendar import WorkingCalendar
from service.domain.case_number import format_case_number
from service.domain.identity import id_check_character
from service.domain.satisfaction import FOLLOW_UP_WORKING_DAYS, Level, needs_follow_up
from service.domain.time_limit import CST, DAY, due_soon_threshold
from service.domain.workflow import Status
from service.security.kit import SecurityKit

DEFAULT_NOW = datetime(2026, 11, 20, 12, 0, tzinfo=CST)
FIRST_DAY = date(2025, 1, 1)
"""Cases are received from this day up to the generator's "now"."""
SHIPPED_LIST_YEAR = 2026
"""The work list shipped with the service; the other years get copies of its items."""
ACCOUNT = "demo-data"
"""The account the ratings and follow-up answers are recorded under."""
REOPEN_WITHIN_DAYS = 8
"""Generated reopens come at most this many working days after the resolution (the
service allows ``BANSHI_REOPEN_WINDOW_DAYS``, 10 by default)."""

_US = 1_000_000
_MICROSECOND = timedelta(microseconds=1)
_PG_EPOCH_US = 946_684_800 * _US  # 2000-01-01 UTC, where PostgreSQL counts timestamps from
_LOCAL = 8 * 3600  # China Standard Time has no daylight saving: local = UTC + 8 hours
_OFFICE_OPEN, _OFFICE_HOURS = 8 * 3600 + 1800, 9 * 3600 + 1800
_LEDGER = (date(2024, 10, 8), date(2024, 12, 31))
"""Workers come from the districts' ledgers, entered in the last quarter of 2024."""
_STAFF_JOINED = (date(2024, 9, 2), date(2024, 9, 30))


class DemoDataRefused(Exception):
    """The database is not one demo data can go into."""


@dataclass(frozen=True, slots=True)
class DemoOptions:
    workers: int
    cases: int
    seed: int = 2026
    now: datetime = DEFAULT_NOW
    batch_size: int = 50_000


def _us(moment: int | None) -> int | None:
    return None if moment is None else moment * _US


def _local_midnight(day: date) -> int:
    return (day - date(1970, 1, 1)).days * 86_400 - _LOCAL


# --------------------------------------------------------------------------- working time


class WorkingTime:
    """Working-time arithmetic over a fixed range of days, from a ``WorkingCalendar``.

    ``seconds`` is ``time_limit.working_seconds`` and ``add`` is
    ``time_limit.add_working_seconds`` (to the microsecond, with the same float
    arithmetic on fractional amounts), for instants in whole Unix seconds.
    """

    def __init__(self, calendar: WorkingCalendar, first: date, last: date) -> None:
        self.first, self.last = first, last
        self._base = _local_midnight(first)
        self._working = [calendar.is_working_day(first + timedelta(days=i)) for i in range((last - first).days + 1)]
        self._before = [0, *accumulate(self._working)]
        """Working days before each day: the number, counted from 0, of the day itself
        when it is a working day, else of the next working day."""
        self._nth = [i for i, working in enumerate(self._working) if working]

    def _day(self, moment: int) -> tuple[int, int]:
        index, into = divmod(moment - self._base, 86_400)
        if not 0 <= index < len(self._working):
            raise ValueError(f"{moment} lies outside the working-time table ({self.first} to {self.last})")
        return index, into

    def _nth_start(self, k: int) -> int:
        """The midnight starting working day number ``k``."""
        if not 0 <= k < len(self._nth):
            raise ValueError(f"working time runs outside the table ({self.first} to {self.last})")
        return self._base + self._nth[k] * 86_400

    def is_working(self, day: date) -> bool:
        return self._working[(day - self.first).days]

    def elapsed(self, moment: int) -> int:
        """Working seconds from the start of the table to ``moment``."""
        index, into = self._day(moment)
        return self._before[index] * 86_400 + (into if self._working[index] else 0)

    def seconds(self, start: int, end: int) -> int:
        return self.elapsed(end) - self.elapsed(start) if end > start else 0

    def add(self, start: int, amount: float) -> int:
        """``add_working_seconds(start, amount)`` in microseconds since the Unix epoch."""
        if amount == 0:
            return start * _US
        index, into = self._day(start)
        if amount > 0:
            if self._working[index]:
                if amount <= 86_400 - into:
                    return start * _US + timedelta(seconds=amount) // _MICROSECOND
                amount -= 86_400 - into
            # Whole working days on from the next one; a remainder of 0 ends at a midnight.
            whole, rest = divmod(amount, 86_400.0)
            days, rest = (int(whole), rest) if rest > 0 else (int(whole) - 1, 86_400.0)
            anchor = self._nth_start(self._before[index + 1] + days)
            return anchor * _US + timedelta(seconds=rest) // _MICROSECOND
        amount = -amount
        if into == 0:  # going back, a midnight ends the day before
            index, into = index - 1, 86_400
        if self._working[index]:
            if amount <= into:
                return start * _US - timedelta(seconds=amount) // _MICROSECOND
            amount -= into
        whole, rest = divmod(amount, 86_400.0)
        days, rest = (int(whole), rest) if rest > 0 else (int(whole) - 1, 86_400.0)
        anchor = self._nth_start(self._before[index] - 1 - days) + 86_400
        return anchor * _US - timedelta(seconds=rest) // _MICROSECOND

    def working_day(self, moment: int, days: int) -> int:
        """The midnight starting the working day ``days`` working days after the day of
        ``moment`` (after the next working day, when that day is off)."""
        index, _ = self._day(moment)
        return self._nth_start(self._before[index] + days)

    def reached(self, start: int, amount: int) -> int:
        """The midnight starting the working day on which ``amount`` working seconds from ``start`` run out."""
        return self._nth_start((self.elapsed(start) + amount) // 86_400)


# --------------------------------------------------------------------------- vocabulary


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
_GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂英华玉兰萍红鹏飞宇浩然晨曦轩涵诺欣怡远志建国海燕文博雨桐俊嘉川渝睿琳"
)
_EMPLOYERS = _words(
    "重庆大学 西南大学 重庆医科大学 重庆邮电大学 重庆交通大学 重庆理工大学 重庆师范大学 重庆工商大学 重庆科技大学 "
    "长江师范学院 重庆三峡学院 中国科学院重庆绿色智能技术研究院 重庆市农业科学院 重庆市畜牧科学院 重庆市中医院 "
    "重庆医科大学附属第一医院 重庆市人民医院 长安汽车股份有限公司 赛力斯集团股份有限公司 重庆京东方光电科技有限公司 "
    "华润微电子（重庆）有限公司 重庆川仪自动化股份有限公司 中冶赛迪集团有限公司 招商局重庆交通科研设计院有限公司 "
    "重庆市生态环境科学研究院 重庆市计量质量检测研究院"
)
_FIELDS = _words(
    "机械工程 材料科学 电子信息 生物医药 计算机科学 人工智能 集成电路 新能源汽车 农业科学 化学工程 临床医学 中医药 "
    "土木工程 环境科学 数学 物理学"
)
_REGIONS = _words(
    "500101 500102 500103 500104 500105 500106 500107 500108 500109 500110 500112 500113 500114 500115 500116 "
    "500117 500118 500119 500120 500151 500152 500153 500154 500155 500156 500229 500230 500231 500233 500235 "
    "500236 500237 500238 500240 500241 500242 500243 510104 510107 110108 420111 430104 610113 320106 520102"
)
"""Where the national ID numbers were issued: mostly Chongqing (50), some elsewhere."""
_MOBILE_PREFIXES = _words(
    "130 131 132 133 135 136 137 138 139 150 151 152 155 157 158 159 166 173 176 177 178 180 181 182 183 185 186 "
    "187 188 189 191 198 199"
)
_CHANNELS = _words("phone website wechat platform in_person")
_CHANNEL_WEIGHTS = list(accumulate((24, 14, 30, 20, 12)))
_URBAN = set(_words("yuzhong jiangbei shapingba jiulongpo nanan beibei yubei banan liangjiang gaoxin"))
_TOWNS = set(_words("wanzhou fuling yongchuan hechuan jiangjin changshou bishan dadukou qijiang"))
_CATEGORY_WEIGHTS = {"housing": 3.0, "schooling": 2.5, "household_registration": 2.0, "medical": 2.0}
_TITLE_ENDINGS = _words("申请 咨询 办理 协调 服务")
_DESCRIPTIONS = (
    "",
    *_words("已电话沟通，需协调相关部门办理。 申请人已提交基本材料，请予以受理。 专员代为提交，申请人工作繁忙。"),
)
_REJECT_REASONS = _words("不属于本清单服务范围 申请人不符合政策条件 重复提交的申请 已由其他渠道办理")
_WITHDRAW_REASONS = _words("申请人已自行办理 申请人工作调动，不再需要 申请人主动撤回 需求已变化")
_MATERIALS = _words("身份证复印件 工作单位证明 人才认定证书 劳动合同及社保缴费证明 学历学位证书扫描件")
_TRANSFER_REASONS = _words("该事项由本部门以外的单位承办 涉及多部门，移交主办部门 属地管理，转相关部门办理")
_OUTCOMES = _words("已按政策办结 已协调办理完成 已告知办理结果并送达 已为申请人开通绿色通道 已落实相关待遇")
_REOPEN_REASONS = _words("申请人反映问题未解决 办理结果需补充完善 复核发现遗漏事项")
_RATING_COMMENTS = (None, None, None, *_words("办理及时，非常感谢 专员很耐心 流程还可以更快 等待时间较长"))
_FOLLOW_UP_ANSWERS = _words("已电话回访并说明情况 已协调部门加快办理并致歉 已约见申请人当面沟通")

CASE_COLUMNS = _words(
    "id case_no worker_id item_id title description channel steward_id department_code district_code status "
    "version promised_working_days created_by created_at updated_at accepted_at started_at materials_requested_at "
    "resolved_at closed_at rejected_at withdrawn_at due_at due_soon_at clock_remaining_seconds resolved_on_time "
    "awaited_materials outcome reject_reason withdraw_reason resolutions rating follow_up_due_at"
)
EVENT_COLUMNS = _words("case_id at actor_id account_id action from_status to_status note visibility details")
RATING_COLUMNS = _words(
    "id case_id resolution level comment rated_at rated_by on_behalf follow_up_due_at follow_up_answer "
    "follow_up_answered_at follow_up_answered_by"
)
STAFF_COLUMNS = _words("id name role department_code district_code work_phone email active created_at updated_at")
WORKER_COLUMNS = _words(
    "id name national_id_sealed national_id_index mobile_sealed mobile_index employer district_code talent_card "
    "field steward_id created_at updated_at"
)
ASSIGNMENT_COLUMNS = _words("worker_id steward_id previous_steward_id assigned_at assigned_by reason")


class _Weighted:
    """``random.choices`` of one value, with the cumulative weights summed once."""

    def __init__(self, values: Sequence[Any], weights: Sequence[float]) -> None:
        self.values = tuple(values)
        self.cumulative = list(accumulate(weights))

    def pick(self, rng: random.Random) -> Any:
        return self.values[bisect(self.cumulative, rng.random() * self.cumulative[-1])]


_LEVELS_ON_TIME = _Weighted([level.value for level in Level], (55, 30, 10, 4, 1))
_LEVELS_LATE = _Weighted([level.value for level in Level], (22, 30, 26, 14, 8))
_PAUSES = _Weighted((0, 1, 2), (78, 17, 5))
_TALENT_CARDS = _Weighted(("A", "B", "none"), (2, 8, 90))
_HOURS = list(accumulate((1, 1, 1, 1, 1, 1, 2, 4, 10, 16, 16, 14, 8, 9, 15, 16, 14, 12, 6, 5, 5, 4, 3, 2)))
"""When cases arrive over the day (local hours)."""

_SUBMITTED, _ACCEPTED, _IN_PROGRESS = Status.SUBMITTED.value, Status.ACCEPTED.value, Status.IN_PROGRESS.value
_AWAITING, _RESOLVED, _CLOSED = Status.AWAITING_MATERIALS.value, Status.RESOLVED.value, Status.CLOSED.value
_REJECTED, _WITHDRAWN = Status.REJECTED.value, Status.WITHDRAWN.value
_RUNNING = frozenset({_ACCEPTED, _IN_PROGRESS})


@dataclass(frozen=True, slots=True)
class _Item:
    id: uuid.UUID
    code: str
    category: str
    title: str
    department: str
    promised: int


@dataclass(slots=True)
class _People:
    stewards: list[tuple[uuid.UUID, str]] = field(default_factory=list)
    """(id, district) of every steward."""
    liaisons: dict[str, uuid.UUID] = field(default_factory=dict)
    """The liaison of each department."""
    workers: list[tuple[uuid.UUID, str, uuid.UUID]] = field(default_factory=list)
    """(id, district, steward) of every worker."""


class _Details:
    """Event details as JSON text, made once per distinct value."""

    def __init__(self) -> None:
        self._made: dict[tuple[Any, ...], str] = {}

    def __call__(self, *pairs: Any) -> str:
        text = self._made.get(pairs)
        if text is None:
            text = self._made[pairs] = json.dumps(dict(zip(pairs[::2], pairs[1::2], strict=True)), ensure_ascii=False)
        return text


# --------------------------------------------------------------------------- people


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _name(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + rng.choice(_GIVEN) + (rng.choice(_GIVEN) if rng.random() < 0.7 else "")


def _office_time(rng: random.Random, between: tuple[date, date]) -> int:
    day = between[0] + timedelta(days=rng.randrange((between[1] - between[0]).days + 1))
    return (_local_midnight(day) + _OFFICE_OPEN + rng.randrange(_OFFICE_HOURS)) * _US


def _national_id(rng: random.Random, taken: set[str]) -> str:
    while True:
        born = date(1958, 1, 1) + timedelta(days=rng.randrange(15_700))
        first17 = f"{rng.choice(_REGIONS)}{born:%Y%m%d}{rng.randrange(1000):03d}"
        value = first17 + id_check_character(first17)
        if value not in taken:
            taken.add(value)
            return value


def _mobile(rng: random.Random, taken: set[str]) -> str:
    while True:
        value = f"{rng.choice(_MOBILE_PREFIXES)}{rng.randrange(100_000_000):08d}"
        if value not in taken:
            taken.add(value)
            return value


def _homes(rng: random.Random, districts: list[str], count: int) -> list[str]:
    """Workers' districts: one in each district first (when there are enough), then
    more where more people live."""
    weights = [3.0 if d in _URBAN else 2.0 if d in _TOWNS else 1.0 for d in districts]
    homes = districts[:count] + rng.choices(districts, weights=weights, k=max(count - len(districts), 0))
    rng.shuffle(homes)
    return homes


def _staff_rows(
    rng: random.Random, homes: list[str], districts: list[str], departments: list[str]
) -> tuple[_People, list[tuple[Any, ...]]]:
    """About one steward per hundred workers and at least one per district; a liaison per department."""
    people = _People()
    rows: list[tuple[Any, ...]] = []
    workers = Counter(homes)
    for district in districts:
        for _ in range(max(1, round(workers[district] / 100))):
            staff_id, at = _uuid(rng), _office_time(rng, _STAFF_JOINED)
            email = f"steward{len(rows) + 1:05d}@{district}.banshi.example"
            rows.append((staff_id, _name(rng), "steward", None, district, _phone(rng), email, True, at, at))
            people.stewards.append((staff_id, district))
    for department in departments:
        staff_id, at = _uuid(rng), _office_time(rng, _STAFF_JOINED)
        email = f"liaison@{department}.banshi.example"
        rows.append((staff_id, _name(rng), "liaison", department, None, _phone(rng), email, True, at, at))
        people.liaisons[department] = staff_id
    return people, rows


def _phone(rng: random.Random) -> str:
    return f"023-6{rng.randrange(10_000_000):07d}"


def _worker_rows(
    rng: random.Random, kit: SecurityKit, people: _People, homes: list[str]
) -> Iterator[tuple[tuple[Any, ...], tuple[Any, ...]]]:
    """(worker, steward assignment) rows, sealed as ``services/workers.py`` seals them;
    fills ``people.workers``."""
    from service.services.workers import sealed_mobile, sealed_national_id

    stewards_of: dict[str, list[uuid.UUID]] = {}
    for steward_id, district in people.stewards:
        stewards_of.setdefault(district, []).append(steward_id)
    national_ids: set[str] = set()
    mobiles: set[str] = set()
    for district in homes:
        worker_id, steward_id = _uuid(rng), rng.choice(stewards_of[district])
        sealed = sealed_national_id(kit.pii, worker_id, _national_id(rng, national_ids))
        sealed.update(sealed_mobile(kit.pii, worker_id, _mobile(rng, mobiles)))
        at = _office_time(rng, _LEDGER)
        people.workers.append((worker_id, district, steward_id))
        worker = (
            worker_id,
            _name(rng),
            sealed["national_id_sealed"],
            sealed["national_id_index"],
            sealed["mobile_sealed"],
            sealed["mobile_index"],
            rng.choice(_EMPLOYERS),
            district,
            _TALENT_CARDS.pick(rng),
            rng.choice(_FIELDS),
            steward_id,
            at,
            at,
        )
        yield worker, (worker_id, steward_id, None, at, steward_id, "first assignment")


# --------------------------------------------------------------------------- cases


@dataclass(slots=True, eq=False)
class _Case:
    """A case as the service holds it after each move (instants in Unix seconds, due
    times in microseconds), and its timeline."""

    id: uuid.UUID
    item: _Item
    department: str
    created_at: int
    updated_at: int
    status: str = _SUBMITTED
    version: int = 1
    promised: int | None = None
    accepted_at: int | None = None
    started_at: int | None = None
    materials_requested_at: int | None = None
    resolved_at: int | None = None
    closed_at: int | None = None
    rejected_at: int | None = None
    withdrawn_at: int | None = None
    due_at: int | None = None
    due_soon_at: int | None = None
    remaining: float | None = None
    resolved_on_time: bool | None = None
    awaited: str | None = None
    outcome: str | None = None
    reject_reason: str | None = None
    withdraw_reason: str | None = None
    resolutions: int = 0
    rating: str | None = None
    run_start: int | None = None
    """When the clock started running, while it runs."""
    used: int = 0
    """Working seconds the clock ran in its finished stretches."""
    events: list[tuple[int, str, str, uuid.UUID | None, str, str, str | None]] = field(default_factory=list)
    """(at, action, to_status, actor, visibility, details, note) of every move and rating."""
    ratings: list[tuple[Any, ...]] = field(default_factory=list)


class _CaseMaker:
    """Takes cases through the workflow up to ``now``, the way the service's moves do."""

    def __init__(
        self, rng: random.Random, wt: WorkingTime, now: int, people: _People, departments: list[str], rater: uuid.UUID
    ) -> None:
        self.rng, self.wt, self.now = rng, wt, now
        self.people, self.departments, self.rater = people, departments, rater
        self.details = _Details()
        self.next_rating_id = 1

    # -- when things happen (only the stored values must match the service, not these draws)

    def _after(self, moment: int, low: float, high: float) -> int:
        """Office hours on a working day some (``low`` to ``high``, rounded down) working days after ``moment``."""
        rng = self.rng
        days = int(low + (high - low) * rng.random())
        later = self.wt.working_day(moment, days) + _OFFICE_OPEN + rng.randrange(_OFFICE_HOURS)
        return later if later > moment else moment + 60 + rng.randrange(3600)

    def _when_used(self, case: _Case, goal: float) -> int:
        """Office hours on the working day the clock will have run ``goal`` seconds in all."""
        assert case.run_start is not None
        last = case.events[-1][0]
        ahead = int(goal) - case.used
        if ahead <= 0:
            return self._after(last, 0, 0)
        later = self.wt.reached(case.run_start, ahead) + _OFFICE_OPEN + self.rng.randrange(_OFFICE_HOURS)
        return later if later > last else last + 60 + self.rng.randrange(3600)

    # -- the moves, as ``cases._apply`` and ``deadlines.refresh`` store them

    def _move(self, case: _Case, action: str, to: str, at: int, actor: uuid.UUID | None, details: str) -> None:
        case.events.append((at, action, to, actor, "internal" if to == case.status else "public", details, None))
        was_running = case.status in _RUNNING
        case.status = to
        case.version += 1
        case.updated_at = at
        if case.promised is None:
            return
        runs = to in _RUNNING
        budget = case.promised * DAY
        if was_running and not runs:
            assert case.run_start is not None
            case.used += self.wt.seconds(case.run_start, at)
            case.run_start = None
        elif runs and not was_running:
            # A new running stretch moves the due times; a stopped clock keeps the last ones.
            case.run_start = at
            soon_budget = max(budget - due_soon_threshold(case.promised), 0.0)
            case.due_at = self.wt.add(at, budget - case.used)
            case.due_soon_at = self.wt.add(at, max(soon_budget - case.used, 0.0))
        case.remaining = budget - case.used

    def _liaison(self, case: _Case) -> uuid.UUID:
        return self.people.liaisons[case.department]

    def _accept(self, case: _Case, at: int) -> None:
        case.accepted_at, case.promised = at, case.item.promised
        self._move(
            case, "accept", _ACCEPTED, at, self._liaison(case), self.details("promised_working_days", case.promised)
        )

    def _reject(self, case: _Case, at: int) -> None:
        case.rejected_at, case.reject_reason = at, self.rng.choice(_REJECT_REASONS)
        self._move(case, "reject", _REJECTED, at, self._liaison(case), self.details("reason", case.reject_reason))

    def _withdraw(self, case: _Case, at: int, steward: uuid.UUID) -> None:
        case.withdrawn_at, case.withdraw_reason = at, self.rng.choice(_WITHDRAW_REASONS)
        self._move(case, "withdraw", _WITHDRAWN, at, steward, self.details("reason", case.withdraw_reason))

    def _start(self, case: _Case, at: int) -> None:
        case.started_at = at
        self._move(case, "start", _IN_PROGRESS, at, self._liaison(case), "{}")

    def _request_materials(self, case: _Case, at: int) -> None:
        case.materials_requested_at, case.awaited = at, self.rng.choice(_MATERIALS)
        details = self.details("materials", case.awaited)
        self._move(case, "request_materials", _AWAITING, at, self._liaison(case), details)

    def _receive_materials(self, case: _Case, at: int) -> None:
        if case.started_at is None:
            case.started_at = at
        details = self.details("materials", case.awaited)
        case.awaited = None
        self._move(case, "receive_materials", _IN_PROGRESS, at, self._liaison(case), details)

    def _transfer(self, case: _Case, at: int) -> None:
        actor, previous = self._liaison(case), case.department
        case.department = self.rng.choice([d for d in self.departments if d != previous])
        reason = self.rng.choice(_TRANSFER_REASONS)
        details = self.details("from_department", previous, "to_department", case.department, "reason", reason)
        self._move(case, "transfer", case.status, at, actor, details)

    def _resolve(self, case: _Case, at: int) -> None:
        case.resolved_at, case.outcome = at, self.rng.choice(_OUTCOMES)
        case.resolutions += 1
        case.resolved_on_time = case.due_at is None or at * _US <= case.due_at
        details = self.details("outcome", case.outcome, "on_time", case.resolved_on_time)
        self._move(case, "resolve", _RESOLVED, at, self._liaison(case), details)

    def _reopen(self, case: _Case, at: int, steward: uuid.UUID) -> None:
        case.resolved_on_time = case.outcome = case.rating = None
        self._move(case, "reopen", _IN_PROGRESS, at, steward, self.details("reason", self.rng.choice(_REOPEN_REASONS)))

    def _close(self, case: _Case, at: int, steward: uuid.UUID) -> None:
        case.closed_at = at
        self._move(case, "close", _CLOSED, at, steward, "{}")

    def _rate(self, case: _Case, at: int, steward: uuid.UUID) -> None:
        """``satisfaction.rate``, and the steward's answer to a poor rating, if one comes."""
        rng = self.rng
        level = (_LEVELS_ON_TIME if case.resolved_on_time else _LEVELS_LATE).pick(rng)
        on_behalf, comment = rng.random() < 0.6, rng.choice(_RATING_COMMENTS)
        due = answered = answer = None
        if needs_follow_up(Level(level)):
            due = self.wt.add(at, FOLLOW_UP_WORKING_DAYS * DAY)
            if rng.random() < 0.8:
                answered, answer = self._after(at, 0.3, 12.0), rng.choice(_FOLLOW_UP_ANSWERS)
        case.rating = level
        case.ratings.append(
            (self.next_rating_id, max(case.resolutions, 1), level, comment, at, on_behalf, due, answer, answered)
        )
        self.next_rating_id += 1
        details = self.details("level", level, "on_behalf", on_behalf)
        case.events.append((at, "rate", case.status, steward if on_behalf else None, "public", details, comment))

    # -- a case's life

    def live(self, case: _Case, steward: uuid.UUID) -> None:
        """Moves the case along a drawn path; nothing happens after ``now``."""
        rng, now = self.rng, self.now
        roll = rng.random()
        at = self._after(case.created_at, 40.0, 300.0) if roll < 0.004 else self._after(case.created_at, 0.0, 2.5)
        if at > now:
            return
        if roll < 0.045:
            self._reject(case, at)
            return
        if roll < 0.06:
            self._withdraw(case, at, steward)
            return
        self._accept(case, at)
        if rng.random() < 0.06:
            at = self._after(at, 0.0, 2.0)
            if at > now:
                return
            self._transfer(case, at)
        budget, shape = case.item.promised * DAY, rng.random()
        if shape < 0.012:  # stalled: nobody gets round to it
            goal = budget * rng.uniform(3.0, 8.0)
        elif shape < 0.13:  # late
            goal = budget * rng.uniform(1.02, 1.5)
        else:
            goal = budget * rng.triangular(0.08, 0.97, 0.35)
        marks = sorted(goal * rng.uniform(0.05, 0.7) for _ in range(_PAUSES.pick(rng)))
        if marks and rng.random() < 0.3:
            at = self._after(at, 0.0, 1.5)  # materials are asked for straight after acceptance
        else:
            at = self._after(at, 0.0, 2.5 if shape >= 0.012 else 60.0)
            if at > now:
                return
            self._start(case, at)
        for mark in marks:
            if case.status == _IN_PROGRESS:
                at = self._when_used(case, mark)
            if at > now:
                return
            self._request_materials(case, at)
            at = self._after(at, 40.0, 200.0) if rng.random() < 0.04 else self._after(at, 0.3, 8.0)
            if at > now:
                return
            if rng.random() < 0.06:
                self._withdraw(case, at, steward)
                return
            self._receive_materials(case, at)
        if rng.random() < 0.012:
            at = self._when_used(case, goal * rng.uniform(0.3, 0.9))
            if at <= now:
                self._withdraw(case, at, steward)
            return
        at = self._when_used(case, goal)
        if at <= now:
            self._resolve(case, at)
            self._after_resolution(case, at, steward)

    def _after_resolution(self, case: _Case, resolved: int, steward: uuid.UUID) -> None:
        """Ratings, a reopen within the window (more likely after a poor rating) and the close."""
        rng, now = self.rng, self.now
        last = resolved
        for round_ in (1, 2):
            if rng.random() < 0.5:
                rated = self._after(last, 0.0, 3.0)
                if rated > now:
                    return
                self._rate(case, rated, steward)
                last = rated
            poor = case.rating is not None and needs_follow_up(Level(case.rating))
            if round_ == 2 or rng.random() >= (0.35 if poor else 0.012):
                break
            at = self._after(last, 0.0, 4.0)
            if self.wt.seconds(resolved, at) > REOPEN_WITHIN_DAYS * DAY:
                break
            if at > now:
                return
            self._reopen(case, at, steward)
            last = self._when_used(case, case.used + rng.uniform(0.5, 5.0) * DAY)
            if last > now:
                return
            self._resolve(case, last)
        if rng.random() < 0.75:
            at = self._after(last, 2.0, 25.0)
            if at <= now:
                self._close(case, at, steward)

    # -- rows

    def rows(
        self, case: _Case, case_no: str, worker: tuple[uuid.UUID, str, uuid.UUID], channel: str
    ) -> tuple[tuple[Any, ...], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """The case, event and rating rows as they stand at ``now``."""
        worker_id, district, steward = worker
        case_id, rater = case.id, self.rater
        create = self.details("channel", channel)
        events: list[tuple[Any, ...]] = [
            (case_id, case.created_at * _US, steward, None, "create", None, _SUBMITTED, None, "public", create)
        ]
        timeline = case.events
        ratings: list[tuple[Any, ...]] = []
        open_follow_ups: list[int] = []
        for rating_id, resolution, level, comment, rated, on_behalf, due, answer, answered in case.ratings:
            if answered is not None and answered > self.now:
                answered = answer = None
            if answered is not None:
                details = json.dumps({"rating_id": rating_id, "on_time": answered * _US <= due})
                timeline = [*timeline, (answered, "follow_up", "", steward, "public", details, answer)]
            elif due is not None:
                open_follow_ups.append(due)
            answered_by = (None, None) if answered is None else (answered * _US, rater)
            rated_at = rated * _US
            ratings.append(
                (rating_id, case_id, resolution, level, comment, rated_at, rater, on_behalf, due, answer, *answered_by)
            )
        if timeline is not case.events:
            timeline.sort(key=lambda event: event[0])
        status = _SUBMITTED
        for at, action, to, actor, visibility, details, note in timeline:
            # A rating or an answer leaves the status as it found it.
            to, account = (status, rater) if action in ("rate", "follow_up") else (to, None)
            events.append((case_id, at * _US, actor, account, action, status, to, note, visibility, details))
            status = to
        item, rng = case.item, self.rng
        row = (
            case_id,
            case_no,
            worker_id,
            item.id,
            item.title + rng.choice(_TITLE_ENDINGS),
            rng.choice(_DESCRIPTIONS),
            channel,
            steward,
            case.department,
            district,
            case.status,
            case.version,
            case.promised,
            steward,
            case.created_at * _US,
            case.updated_at * _US,
            _us(case.accepted_at),
            _us(case.started_at),
            _us(case.materials_requested_at),
            _us(case.resolved_at),
            _us(case.closed_at),
            _us(case.rejected_at),
            _us(case.withdrawn_at),
            case.due_at,
            case.due_soon_at,
            case.remaining,
            case.resolved_on_time,
            case.awaited,
            case.outcome,
            case.reject_reason,
            case.withdraw_reason,
            case.resolutions,
            case.rating,
            min(open_follow_ups, default=None),
        )
        return row, events, ratings


# --------------------------------------------------------------------------- arrivals


def _daily_counts(rng: random.Random, wt: WorkingTime, now: int, total: int) -> list[tuple[date, int]]:
    """Cases received each day: more on working days and in spring and September, slowly more over time."""
    last = datetime.fromtimestamp(now, CST).date()
    days = [FIRST_DAY + timedelta(days=i) for i in range((last - FIRST_DAY).days + 1)]
    weights = [
        (1.0 if wt.is_working(day) else 0.15) * (1.25 if day.month in (3, 4, 9) else 1.0) * (0.8 + 0.5 * i / len(days))
        for i, day in enumerate(days)
    ]
    weights[-1] *= (now - _local_midnight(last)) / 86_400
    scale = total / sum(weights)
    counts = [int(w * scale) for w in weights]
    if missing := total - sum(counts):
        shortfall = [w * scale - c for w, c in zip(weights, counts, strict=True)]
        for index in rng.choices(range(len(days)), weights=shortfall, k=missing):
            counts[index] += 1
    if max(counts, default=0) > 999_999:
        raise DemoDataRefused("more than 999,999 cases on one day do not fit the case number")
    return list(zip(days, counts, strict=True))


def _arrivals(rng: random.Random, day: date, count: int, now: int) -> list[int]:
    midnight = _local_midnight(day)
    until = min(86_400, now - midnight)
    moments = [hour * 3600 + rng.randrange(3600) for hour in rng.choices(range(24), cum_weights=_HOURS, k=count)]
    return sorted(midnight + (into if into < until else rng.randrange(until)) for into in moments)


def _case_batches(
    rng: random.Random, maker: _CaseMaker, items: dict[int, list[_Item]], options: DemoOptions, counters: list[Any]
) -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
    """(cases, events, ratings) in batches of about ``batch_size`` cases, in the order
    they were received; ``counters`` gets the last case number of each day."""
    weights = {year: list(accumulate(_CATEGORY_WEIGHTS.get(i.category, 1.0) for i in items[year])) for year in items}
    workers = maker.people.workers
    cases: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    ratings: list[tuple[Any, ...]] = []
    for day, count in _daily_counts(rng, maker.wt, maker.now, options.cases):
        if not count:
            continue
        counters.append((day, count))
        arrivals = zip(
            _arrivals(rng, day, count, maker.now),
            rng.choices(items[day.year], cum_weights=weights[day.year], k=count),
            rng.choices(workers, k=count),
            rng.choices(_CHANNELS, cum_weights=_CHANNEL_WEIGHTS, k=count),
            strict=True,
        )
        for sequence, (created, item, worker, channel) in enumerate(arrivals, 1):
            case = _Case(_uuid(rng), item, item.department, created, created)
            maker.live(case, worker[2])
            row, case_events, case_ratings = maker.rows(case, format_case_number(day, sequence), worker, channel)
            cases.append(row)
            events += case_events
            ratings += case_ratings
        if len(cases) >= options.batch_size:
            yield cases, events, ratings
            cases, events, ratings = [], [], []
    if cases:
        yield cases, events, ratings


# --------------------------------------------------------------------------- the load


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _refuse_unless_empty(connection: Any) -> None:
    if await connection.fetchval("SELECT to_regprocedure('tally_rebuild()') IS NULL"):
        raise DemoDataRefused("the database is not migrated: run `banshi db upgrade` first")
    if not await connection.fetchval("SELECT EXISTS (SELECT 1 FROM district)"):
        raise DemoDataRefused("the reference data is missing: run `banshi load-reference` first")
    if await connection.fetchval('SELECT EXISTS (SELECT 1 FROM "case") OR EXISTS (SELECT 1 FROM worker)'):
        raise DemoDataRefused("the database already holds cases or workers: demo data goes into a fresh one")


async def _prepare(url: str, kit: SecurityKit) -> tuple[WorkingCalendar, uuid.UUID]:
    """The calendar, and the account ratings are recorded under (made once, by the
    accounts service, with a password nobody is told)."""
    from service.db import make_engine, make_session_factory
    from service.models import Account
    from service.models.base import utcnow
    from service.services.accounts import bootstrap_account
    from service.services.calendar import load_calendar

    engine = make_engine(url, pool_size=1)
    try:
        async with make_session_factory(engine)() as session:
            async with session.begin():
                calendar = await load_calendar(session)
                account_id = await session.scalar(select(col(Account.id)).where(col(Account.username) == ACCOUNT))
            if account_id is None:
                password = "Demo-" + secrets.token_urlsafe(24)
                created = await bootstrap_account(
                    session, kit, Role.ADMIN, ACCOUNT, password, utcnow(), must_change_password=True
                )
                account_id = created.id
            return calendar, account_id
    finally:
        await engine.dispose()


async def _items(connection: Any, years: Sequence[int]) -> dict[int, list[_Item]]:
    """Each year's work-list items; a year without any gets copies of the shipped list's,
    with ids made the way ``services/reference.py`` makes them."""
    shipped = await connection.fetch(
        "SELECT code, category, title_zh, title_en, lead_department_code, promised_working_days, annual_target, "
        "target_unit, active FROM work_list_item WHERE year = $1 ORDER BY code",
        SHIPPED_LIST_YEAR,
    )
    for year in years:
        await connection.executemany(
            "INSERT INTO work_list_item (id, year, code, category, title_zh, title_en, lead_department_code, "
            "promised_working_days, annual_target, target_unit, active, updated_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, now()) ON CONFLICT (year, code) DO NOTHING",
            [
                (uuid.uuid5(uuid.NAMESPACE_URL, f"banshi:work-list:{year}:{r['code']}"), year, *r.values())
                for r in shipped
            ],
        )
    items: dict[int, list[_Item]] = {}
    for r in await connection.fetch(
        "SELECT id, year, code, category, title_zh, lead_department_code, promised_working_days FROM work_list_item "
        "WHERE year = ANY($1::int[]) AND active ORDER BY year, code",
        list(years),
    ):
        item = _Item(
            r["id"], r["code"], r["category"], r["title_zh"], r["lead_department_code"], r["promised_working_days"]
        )
        items.setdefault(r["year"], []).append(item)
    if set(items) != set(years):
        raise DemoDataRefused(f"no active work-list items for {sorted(set(years) - set(items))}")
    return items


async def generate(
    url: str, kit: SecurityKit, options: DemoOptions, echo: Callable[[str], None] = lambda _: None
) -> dict[str, Any]:
    """Fill an empty, migrated database that holds the reference data; returns rows per table."""
    if options.workers < 1 or options.cases < 0 or options.batch_size < 1:
        raise DemoDataRefused("workers and the batch size must be positive, cases not negative")
    if options.now.tzinfo is None or options.now.astimezone(CST).date() <= FIRST_DAY:
        raise DemoDataRefused(f"now must be an instant after {FIRST_DAY}, with its offset")
    clock = time.perf_counter()
    rng = random.Random(options.seed)  # noqa: S311 (reproducible demo data, not secrets)
    collecting = gc.isenabled()
    # Millions of short-lived tuples without cycles: the collector would only scan them again and again.
    gc.disable()
    try:
        return await _generate(url, kit, options, echo, rng, clock)
    finally:
        if collecting:
            gc.enable()


async def _generate(
    url: str, kit: SecurityKit, options: DemoOptions, echo: Callable[[str], None], rng: random.Random, clock: float
) -> dict[str, Any]:
    now = int(options.now.timestamp())
    last_day = options.now.astimezone(CST).date()
    connection = await asyncpg.connect(_dsn(url))
    try:
        await _refuse_unless_empty(connection)
        calendar, rater = await _prepare(url, kit)
        wt = WorkingTime(calendar, date(FIRST_DAY.year - 1, 9, 1), last_day + timedelta(days=4 * 366))
        counts: dict[str, int] = {}
        async with connection.transaction():
            await connection.execute('LOCK TABLE "case", worker IN SHARE ROW EXCLUSIVE MODE')
            await _refuse_unless_empty(connection)
            try:
                await connection.execute("SET LOCAL session_replication_role = replica")
            except asyncpg.InsufficientPrivilegeError as exc:
                raise DemoDataRefused(f"loading needs a superuser connection ({exc})") from exc
            await connection.set_type_codec(
                "timestamptz",
                schema="pg_catalog",
                encoder=lambda us: (us - _PG_EPOCH_US,),
                decoder=lambda value: value[0] + _PG_EPOCH_US,
                format="tuple",
            )
            items = await _items(connection, range(FIRST_DAY.year, last_day.year + 1))
            districts = [r["code"] for r in await connection.fetch("SELECT code FROM district ORDER BY code")]
            departments = [
                r["code"] for r in await connection.fetch("SELECT code FROM department WHERE active ORDER BY code")
            ]
            people = await _load_people(connection, rng, kit, options, districts, departments, counts)
            echo(f"staff {counts['staff']:,}, workers {counts['worker']:,} ({time.perf_counter() - clock:.0f} s)")
            maker = _CaseMaker(rng, wt, now, people, departments, rater)
            await _load_cases(
                connection,
                rng,
                maker,
                items,
                options,
                counts,
                lambda text: echo(f"{text} ({time.perf_counter() - clock:.0f} s)"),
            )
            echo(f"rebuilding the tallies ({time.perf_counter() - clock:.0f} s)")
            # Migration 0003's own refill of every tally from the cases, for loads with the trigger off.
            await connection.execute("SELECT tally_rebuild()")
            await connection.execute(
                "SELECT setval(pg_get_serial_sequence('satisfaction_rating', 'id'), "
                "(SELECT coalesce(max(id), 0) + 1 FROM satisfaction_rating), false)"
            )
            for (table,) in await connection.fetch(
                "SELECT relname FROM pg_class WHERE relkind = 'r' AND relname LIKE '%\\_tally' "
                "AND relnamespace = 'public'::regnamespace ORDER BY relname"
            ):
                counts[table] = await connection.fetchval(f"SELECT count(*) FROM {table}")
        echo(f"analysing ({time.perf_counter() - clock:.0f} s)")
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
    return {"elapsed_seconds": round(time.perf_counter() - clock, 1), "rows": counts}


async def _load_people(
    connection: Any,
    rng: random.Random,
    kit: SecurityKit,
    options: DemoOptions,
    districts: list[str],
    departments: list[str],
    counts: dict[str, int],
) -> _People:
    homes = _homes(rng, districts, options.workers)
    people, staff = _staff_rows(rng, homes, districts, departments)
    await connection.copy_records_to_table("staff", records=staff, columns=STAFF_COLUMNS)
    rows = _worker_rows(rng, kit, people, homes)
    while batch := [row for _, row in zip(range(options.batch_size), rows, strict=False)]:
        await connection.copy_records_to_table("worker", records=[w for w, _ in batch], columns=WORKER_COLUMNS)
        assignments = [a for _, a in batch]
        await connection.copy_records_to_table("steward_assignment", records=assignments, columns=ASSIGNMENT_COLUMNS)
    counts.update(staff=len(staff), worker=len(people.workers), steward_assignment=len(people.workers))
    return people


async def _load_cases(
    connection: Any,
    rng: random.Random,
    maker: _CaseMaker,
    items: dict[int, list[_Item]],
    options: DemoOptions,
    counts: dict[str, int],
    echo: Callable[[str], None],
) -> None:
    """Generates the next batch in a thread while the last one is copied: the database
    works on one while Python works on the other."""
    counts.update(case=0, case_event=0, satisfaction_rating=0)
    counters: list[tuple[date, int]] = []
    batches = _case_batches(rng, maker, items, options, counters)
    copying: asyncio.Task[None] | None = None
    while True:
        batch = await asyncio.to_thread(next, batches, None)
        if copying is not None:
            await copying
            echo(f"cases {counts['case']:,}/{options.cases:,}")
        if batch is None:
            break
        copying = asyncio.create_task(_copy_cases(connection, *batch, counts))
    await connection.executemany(
        "INSERT INTO case_number_counter (day, last_value) VALUES ($1, $2) ON CONFLICT (day) "
        "DO UPDATE SET last_value = GREATEST(case_number_counter.last_value, EXCLUDED.last_value)",
        counters,
    )
    counts["case_number_counter"] = len(counters)


async def _copy_cases(
    connection: Any,
    cases: list[tuple[Any, ...]],
    events: list[tuple[Any, ...]],
    ratings: list[tuple[Any, ...]],
    counts: dict[str, int],
) -> None:
    await connection.copy_records_to_table("case", records=cases, columns=CASE_COLUMNS)
    await connection.copy_records_to_table("case_event", records=events, columns=EVENT_COLUMNS)
    await connection.copy_records_to_table("satisfaction_rating", records=ratings, columns=RATING_COLUMNS)
    counts["case"] += len(cases)
    counts["case_event"] += len(events)
    counts["satisfaction_rating"] += len(ratings)
