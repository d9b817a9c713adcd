"""The officials' digests: what a district or city official is told each working morning
and each week, and the days they cover. Pure: no I/O.

- **Daily (办件日报)**, the first reminder pass of each working morning (from 08:00), to
  every active official: in their scope (their district, or the whole city), the cases
  overdue now and how many of them ran out of time since the start of the previous
  working day (the day the last digest was written), with the first of those named.
- **Weekly (办件周报)**, the first working morning of each week (Monday, or the first
  working day after a holiday): the previous Monday-to-Sunday week's cases received and
  resolved (and of those resolved, how many on time) and the cases overdue now.
- **Items behind target**: annual targets are set for the whole city, so only a city
  official's digests name the items whose cases resolved this year fall short of the
  target's share of the year gone by (day of the year over days in the year), the
  furthest behind first. Cases are counted against the target as the metrics count them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

ITEMS_NAMED = 5
CASES_NAMED = 5

DAILY_TEXT = (
    "{scope}办件日报（{day}）",
    "截至 {day} {time}，{scope}超期未办结 {overdue} 件，其中上一工作日以来新超期 {new_overdue} 件{cases}。{behind}",
)
WEEKLY_TEXT = (
    "{scope}办件周报（{start} 至 {end}）",
    "{start} 至 {end}，{scope}新受理 {received} 件，办结 {resolved} 件（其中按期办结 {on_time} 件）；"
    "截至 {day} {time}，超期未办结 {overdue} 件。{behind}",
)


def previous_working_day(today: date, is_working_day: Callable[[date], bool]) -> date:
    """The last working day before ``today`` (at most a month back: a calendar with no
    working day in a month is taken to have its last one a month ago)."""
    day = today - timedelta(days=1)
    for _ in range(31):
        if is_working_day(day):
            return day
        day -= timedelta(days=1)
    return day


def first_working_day_of_week(today: date, is_working_day: Callable[[date], bool]) -> bool:
    """Whether ``today`` is a working day with no working day before it since Monday."""
    monday = today - timedelta(days=today.weekday())
    earlier = (monday + timedelta(days=n) for n in range(today.weekday()))
    return is_working_day(today) and not any(is_working_day(day) for day in earlier)


def share_of_year(today: date) -> float:
    """The part of the year gone by at the start of ``today``."""
    start = date(today.year, 1, 1)
    days = (date(today.year + 1, 1, 1) - start).days
    return (today - start).days / days


def behind_text(items: list[tuple[str, int, int]]) -> str:
    """(title, resolved this year, annual target) of the items behind, as one sentence."""
    if not items:
        return ""
    named = "、".join(f"{title}（已办结 {resolved} 件，年度目标 {target}）" for title, resolved, target in items)
    return f"进度落后于年度目标的事项：{named}。"


def render_daily(
    *, scope: str, day: str, time: str, overdue: int, new_overdue: int, case_nos: list[str], behind: str
) -> tuple[str, str]:
    cases = "：" + "、".join(case_nos) if case_nos else ""
    values = {
        "scope": scope,
        "day": day,
        "time": time,
        "overdue": overdue,
        "new_overdue": new_overdue,
        "cases": cases,
        "behind": behind,
    }
    title, body = DAILY_TEXT
    return title.format(**values), body.format(**values).rstrip()


def render_weekly(
    *,
    scope: str,
    start: str,
    end: str,
    day: str,
    time: str,
    received: int,
    resolved: int,
    on_time: int,
    overdue: int,
    behind: str,
) -> tuple[str, str]:
    values = {
        "scope": scope,
        "start": start,
        "end": end,
        "day": day,
        "time": time,
        "received": received,
        "resolved": resolved,
        "on_time": on_time,
        "overdue": overdue,
        "behind": behind,
    }
    title, body = WEEKLY_TEXT
    return title.format(**values), body.format(**values).rstrip()
