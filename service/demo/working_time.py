"""Working time for the demo data, from a per-day table built from the database's calendar.

``WorkingTime`` gives the instants of ``domain/time_limit.py`` without walking day by
day. Instants are whole Unix seconds while a case lives, and microseconds since the
Unix epoch (``US`` to a second) in the rows sent to COPY.
"""

from __future__ import annotations

from datetime import date, timedelta
from itertools import accumulate

from service.domain.calendar import WorkingCalendar

US = 1_000_000
_MICROSECOND = timedelta(microseconds=1)
_LOCAL = 8 * 3600  # China Standard Time has no daylight saving: local = UTC + 8 hours
OFFICE_OPEN, OFFICE_HOURS = 8 * 3600 + 1800, 9 * 3600 + 1800


def local_midnight(day: date) -> int:
    return (day - date(1970, 1, 1)).days * 86_400 - _LOCAL


class WorkingTime:
    """Working-time arithmetic over a fixed range of days, from a ``WorkingCalendar``.

    ``seconds`` is ``time_limit.working_seconds`` and ``add`` is
    ``time_limit.add_working_seconds`` (to the microsecond, with the same float
    arithmetic on fractional amounts), for instants in whole Unix seconds.
    """

    def __init__(self, calendar: WorkingCalendar, first: date, last: date) -> None:
        self.first, self.last = first, last
        self._base = local_midnight(first)
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
            return start * US
        index, into = self._day(start)
        if amount > 0:
            if self._working[index]:
                if amount <= 86_400 - into:
                    return start * US + timedelta(seconds=amount) // _MICROSECOND
                amount -= 86_400 - into
            # Whole working days on from the next one; a remainder of 0 ends at a midnight.
            whole, rest = divmod(amount, 86_400.0)
            days, rest = (int(whole), rest) if rest > 0 else (int(whole) - 1, 86_400.0)
            anchor = self._nth_start(self._before[index + 1] + days)
            return anchor * US + timedelta(seconds=rest) // _MICROSECOND
        amount = -amount
        if into == 0:  # going back, a midnight ends the day before
            index, into = index - 1, 86_400
        if self._working[index]:
            if amount <= into:
                return start * US - timedelta(seconds=amount) // _MICROSECOND
            amount -= into
        whole, rest = divmod(amount, 86_400.0)
        days, rest = (int(whole), rest) if rest > 0 else (int(whole) - 1, 86_400.0)
        anchor = self._nth_start(self._before[index] - 1 - days) + 86_400
        return anchor * US - timedelta(seconds=rest) // _MICROSECOND

    def working_day(self, moment: int, days: int) -> int:
        """The midnight starting the working day ``days`` working days after the day of
        ``moment`` (after the next working day, when that day is off)."""
        index, _ = self._day(moment)
        return self._nth_start(self._before[index] + days)

    def reached(self, start: int, amount: int) -> int:
        """The midnight starting the working day on which ``amount`` working seconds from ``start`` run out."""
        return self._nth_start((self.elapsed(start) + amount) // 86_400)
