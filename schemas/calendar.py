from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec

from schemas.base import ONE_LINE, Input, Output, ShortText

DayName = Annotated[str, msgspec.Meta(max_length=64, pattern=ONE_LINE)]

DayKind = Literal["holiday", "workday"]


class CalendarDayIn(Input, kw_only=True):
    date: dt.date
    kind: DayKind
    name: DayName = ""


class CalendarYearIn(Input, kw_only=True):
    """Replaces the administrator's overrides for the year. ``published`` says the
    year's official schedule has been entered in full, so its dates are no longer
    provisional."""

    published: bool
    days: list[CalendarDayIn]
    note: ShortText = ""


class CalendarDayOut(Output, kw_only=True):
    date: dt.date
    kind: DayKind
    name: str
    source: Literal["library", "override"]


class CalendarYearOut(Output, kw_only=True):
    year: int
    provisional: bool
    published_by_admin: bool
    note: str
    working_days: int
    days: list[CalendarDayOut]
    """Every day that differs from Monday-to-Friday: weekday days off and weekend workdays."""
