"""Officials' metrics: the 20-item table, breakdowns, trend, city summary and the cases behind a number.

Names stand beside codes (district, department, item, steward). A steward's name is the
only personal datum here, shown because officials supervise stewards' work; no shape
carries a worker, an ID number, a phone number or an e-mail address.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from schemas.base import Output

FigureName = Literal[
    "received",
    "accepted",
    "submitted",
    "in_progress",
    "awaiting_materials",
    "resolved",
    "closed",
    "rejected",
    "withdrawn",
    "open",
    "overdue",
    "due_soon",
    "resolved_on_time",
    "resolved_late",
    "rated",
    "very_satisfied",
    "satisfied",
    "basically_satisfied",
    "dissatisfied",
    "very_dissatisfied",
    "follow_ups_open",
    "follow_ups_overdue",
    # Supervision notices (督办) issued in the period: the cases behind ``SupervisionFigures``.
    "supervised",
    "supervision_replied_on_time",
    "supervision_replied_late",
    "supervision_escalated",
    "supervision_open",
    "supervision_unanswered",
]
ExportFormat = Literal["csv", "xlsx"]
Interval = Literal["week", "month"]


class Figures(Output, kw_only=True):
    """The cases received in the period, as they stand now (see the README, "Metrics")."""

    received: int
    accepted: int
    """Accepted at some point (受理), whatever happened next."""
    submitted: int
    """Waiting for acceptance now."""
    in_progress: int
    """Accepted or in progress now: the clock runs."""
    awaiting_materials: int
    """Waiting for the worker's materials now: the clock is stopped."""
    resolved: int
    """Resolved (办结) now, archived or not."""
    closed: int
    """Archived (归档) now; these are counted in resolved too."""
    rejected: int
    withdrawn: int
    open: int
    """Not finished: submitted + in_progress + awaiting_materials."""
    overdue: int
    """Not finished, and the promised time limit has run out (paused ones included)."""
    due_soon: int
    """Running, within the last fifth (at least two working days) of the time limit."""
    resolved_on_time: int
    resolved_late: int
    on_time_rate: float | None
    """resolved_on_time / resolved, four places; null when nothing is resolved."""
    median_working_days: int | None
    """Working days from acceptance to resolution, pauses excluded, part of a day counting as a day."""
    p90_working_days: int | None
    rated: int
    very_satisfied: int
    satisfied: int
    basically_satisfied: int
    dissatisfied: int
    very_dissatisfied: int
    satisfaction_rate: float | None
    """(非常满意 + 满意 + 基本满意) / rated."""
    follow_ups_open: int
    """Poor ratings the steward has not answered yet."""
    follow_ups_overdue: int
    """Of those, past their 15-working-day answer time."""


class PeriodOut(Output, kw_only=True):
    label: str
    first_day: date
    last_day: date


class ScopeOut(Output, kw_only=True):
    """The filters the figures were counted under, including those the caller's account imposes."""

    item_code: str | None = None
    district_code: str | None = None
    department_code: str | None = None
    steward_id: uuid.UUID | None = None


class ItemRow(Figures, kw_only=True):
    code: str
    title_zh: str
    category: str
    lead_department_code: str
    lead_department_name_zh: str
    annual_target: int | None
    """The item's target for the year, when it has one and the period lies within one year."""
    target_unit: str | None
    """The unit the target counts, in Chinese (套, 家, 个, 项, 人); null without a target."""
    target_rate: float | None
    """resolved / annual_target."""


class ItemTable(Output, kw_only=True):
    period: PeriodOut
    scope: ScopeOut
    generated_at: datetime
    """When this answer was made."""
    as_of: datetime
    """The moment the figures describe (when they were counted): at most a few seconds
    before ``generated_at`` (``BANSHI_METRICS_KEEP_SECONDS``); for ``fresh=true``, not
    before the request arrived."""
    rows: list[ItemRow]
    total: Figures


class BreakdownRow(Figures, kw_only=True):
    key: str
    """District code, department code or steward id."""
    name_zh: str
    """District or department name, or the steward's name."""


class Breakdown(Output, kw_only=True):
    by: Literal["district", "department", "steward"]
    period: PeriodOut
    scope: ScopeOut
    generated_at: datetime
    """When this answer was made."""
    as_of: datetime
    """The moment the figures describe, as for ``ItemTable``."""
    rows: list[BreakdownRow]
    total: Figures


class TrendPoint(Output, kw_only=True):
    first_day: date
    last_day: date
    received: int
    """Cases received in this week or month."""
    resolved: int
    """Cases resolved in this week or month (and still resolved now)."""
    overdue_backlog: int | None
    """Unfinished overdue cases at the end of the week or month (now, for the current one; null ahead)."""


class Trend(Output, kw_only=True):
    interval: Interval
    period: PeriodOut
    scope: ScopeOut
    generated_at: datetime
    points: list[TrendPoint]


class ItemOverdue(Output, kw_only=True):
    code: str
    title_zh: str
    overdue: int
    open: int


class DistrictOnTime(Output, kw_only=True):
    code: str
    name_zh: str
    on_time_rate: float
    resolved: int


class CitySummary(Output, kw_only=True):
    period: PeriodOut
    scope: ScopeOut
    generated_at: datetime
    """When this answer was made."""
    as_of: datetime
    """The moment the figures describe (when they were counted): at most a few seconds
    before ``generated_at`` (``BANSHI_METRICS_KEEP_SECONDS``); for ``fresh=true``, not
    before the request arrived."""
    total: Figures
    items_most_overdue: list[ItemOverdue]
    """Up to five items with the most overdue cases (only items with any)."""
    districts_lowest_on_time: list[DistrictOnTime]
    """Up to five districts with the lowest on-time rate (only districts with resolved cases)."""


class SupervisionFigures(Output, kw_only=True):
    """Supervision notices (督办) *issued* in the period (by the day, Asia/Shanghai), on the
    cases of the scope, as they stand now. Unlike the case figures, the period is that of
    the notice, not of the case's receipt: a late case is supervised long after it came in.
    issued = replied_on_time + replied_late + open. The cases behind each number:
    ``/metrics/cases?figure=supervised`` (issued) or ``supervision_<name>``, each case once."""

    period: PeriodOut
    scope: ScopeOut
    generated_at: datetime
    issued: int
    replied_on_time: int
    """Replied by the first deadline, before any escalation."""
    replied_late: int
    """Replied after the first deadline (escalated or not)."""
    on_time_rate: float | None
    """replied_on_time / replied, four places; null when none is replied."""
    escalated: int
    """Raised from district to city level for want of a reply, replied since or not."""
    open: int
    """Waiting for a reply now (the unanswered ones included)."""
    unanswered: int
    """Of those, city-level notices whose deadline passed unanswered (not escalated further)."""


class FigureCase(Output, kw_only=True):
    """A case behind a figure: no worker, title or description, only what the figure is about,
    with the names of its item, district, department and steward beside their codes."""

    case_no: str
    item_code: str
    item_title_zh: str
    status: str
    status_zh: str
    district_code: str
    district_name_zh: str
    department_code: str
    department_name_zh: str
    steward_id: uuid.UUID
    steward_name: str
    received_on: date
    accepted_at: datetime | None
    due_at: datetime | None
    resolved_at: datetime | None
    resolved_on_time: bool | None
    working_days_used: int | None
    rating: str | None
    follow_up_due_at: datetime | None


class FigureCasePage(Output, kw_only=True):
    figure: FigureName
    period: PeriodOut
    scope: ScopeOut
    items: list[FigureCase]
    total: int
    limit: int
    offset: int
