"""What ``banshi demo-data`` is asked for, and its refusal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from service.domain.time_limit import CST

DEFAULT_NOW = datetime(2026, 11, 20, 12, 0, tzinfo=CST)
FIRST_DAY = date(2025, 1, 1)
"""Cases are received from this day up to the generator's "now"."""


class DemoDataRefused(Exception):
    """The database is not one demo data can go into."""


@dataclass(frozen=True, slots=True)
class DemoOptions:
    workers: int
    cases: int
    seed: int = 2026
    now: datetime = DEFAULT_NOW
    batch_size: int = 50_000
