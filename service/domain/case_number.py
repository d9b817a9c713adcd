"""Case numbers (受理编号): ``BS-YYYYMMDD-NNNNNN-C``.

Date first and a zero-padded daily sequence so that numbers sort in the order cases
were logged; digits only, so they read out cleanly over the phone; a Damm check
digit, which catches every single wrong digit and every swap of two neighbours.
"""

from __future__ import annotations

import re
from datetime import date

PREFIX = "BS"
_PATTERN = re.compile(r"BS-?([0-9]{8})-?([0-9]{6})-?([0-9])", re.ASCII)

_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)


def damm_digit(digits: str) -> int:
    interim = 0
    for ch in digits:
        interim = _DAMM[interim][int(ch)]
    return interim


def format_case_number(day: date, sequence: int) -> str:
    if not 1 <= sequence <= 999_999:
        raise ValueError("daily sequence out of range")
    body = f"{day:%Y%m%d}{sequence:06d}"
    return f"{PREFIX}-{body[:8]}-{body[8:]}-{damm_digit(body)}"


def normalise_case_number(text: str) -> str | None:
    """The canonical form of a typed case number, or None when it cannot be one."""
    match = _PATTERN.fullmatch(text.strip().upper().replace(" ", ""))
    if match is None:
        return None
    day, seq, check = match.groups()
    if damm_digit(day + seq) != int(check) or int(seq) == 0:
        return None
    try:
        date(int(day[:4]), int(day[4:6]), int(day[6:]))
    except ValueError:
        return None
    return f"{PREFIX}-{day}-{seq}-{check}"
