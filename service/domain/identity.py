"""Checks on a science worker's national ID number and mobile number."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

import phonenumbers

_ID_PATTERN = re.compile(r"[0-9]{17}[0-9X]", re.ASCII)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
# The first two digits name a province-level division (GB/T 2260).
_PROVINCES = frozenset(
    {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46}
    | {50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82}
)
_MOBILE_PATTERN = re.compile(r"1[3-9][0-9]{9}", re.ASCII)


def id_check_character(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def national_id_problem(value: str) -> str | None:
    """Why ``value`` is not a valid 18-character resident ID number, or None if it is."""
    if not _ID_PATTERN.fullmatch(value):
        return "must be 17 digits followed by a digit or X"
    if int(value[:2]) not in _PROVINCES:
        return "does not start with a known province code"
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return "does not contain a valid date of birth"
    if born.year < 1900 or born > date.today():
        return "does not contain a plausible date of birth"
    if id_check_character(value[:17]) != value[17]:
        return "check character does not match"
    return None


def normalise_national_id(value: str) -> str:
    """Full-width digits and X (from a Chinese input method) read as their ASCII forms."""
    return unicodedata.normalize("NFKC", value).strip().upper()


def mobile_problem(value: str) -> str | None:
    """Why a normalised ``value`` is not a mainland mobile number, or None if it is."""
    if not _MOBILE_PATTERN.fullmatch(value):
        return "must be an 11-digit mainland mobile number starting with 13 to 19"
    return None


def normalise_mobile(value: str) -> str:
    """The 11 digits of a mainland mobile number as people type it: with spaces or hyphens,
    with +86, 0086 or 86 before it, in full-width digits (China's numbering plan as the
    ``phonenumbers`` library knows it). Anything that is not a mobile number comes back as
    typed, for ``mobile_problem`` to refuse: a landline, a number of another country."""
    typed = unicodedata.normalize("NFKC", value).strip()
    try:
        number = phonenumbers.parse(typed, "CN")
    except phonenumbers.NumberParseException:
        return typed
    national = str(number.national_number)
    is_mobile = phonenumbers.number_type(number) in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )
    if number.country_code == 86 and is_mobile and _MOBILE_PATTERN.fullmatch(national):
        return national
    return typed
