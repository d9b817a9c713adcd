"""Resident ID numbers (ISO 7064 MOD 11-2 check character) and mainland mobile numbers.

Check characters worked out by hand. Weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2;
the sum mod 11 indexes "10X98765432".
"""

from __future__ import annotations

import pytest

from service.domain.identity import (
    id_check_character,
    mobile_problem,
    national_id_problem,
    normalise_mobile,
    normalise_national_id,
)

# 1 1 0 1 0 5 1 9 4 9 1 2 3 1 0 0 2 -> 7+9+0+5+0+20+2+9+24+27+7+18+30+5+0+0+4 = 167; 167 mod 11 = 2 -> X
BEIJING = "11010519491231002X"
# 5 0 0 1 0 3 1 9 9 0 0 1 0 1 1 2 3 -> 35+0+0+5+0+12+2+9+54+0+0+9+0+5+8+8+6 = 153; 153 mod 11 = 10 -> 2
CHONGQING = "500103199001011232"
# 4 4 0 3 0 8 1 9 8 5 0 2 2 8 3 0 1 -> 28+36+0+15+0+32+2+9+48+15+0+18+20+40+24+0+2 = 289; 289 mod 11 = 3 -> 9
SHENZHEN = "440308198502283019"
# Born on 29 February 2000: sum 130; 130 mod 11 = 9 -> 3
LEAP_DAY = "110105200002290013"


@pytest.mark.parametrize(("number", "check"), [(BEIJING, "X"), (CHONGQING, "2"), (SHENZHEN, "9"), (LEAP_DAY, "3")])
def test_check_character_by_hand(number: str, check: str) -> None:
    assert id_check_character(number[:17]) == check


@pytest.mark.parametrize("number", [BEIJING, CHONGQING, SHENZHEN, LEAP_DAY])
def test_valid_id_numbers(number: str) -> None:
    assert national_id_problem(number) is None


@pytest.mark.parametrize(
    "number",
    [
        "110105194912310021",  # should end in X
        "500103199001011233",  # should end in 2
        "440308198502283018",  # should end in 9
        "110105194912310020",
    ],
)
def test_wrong_check_character(number: str) -> None:
    problem = national_id_problem(number)
    assert problem is not None
    assert "check" in problem


def test_one_changed_digit_breaks_the_check() -> None:
    changed = "11010519491231003X"  # sequence 002 -> 003, same check character
    problem = national_id_problem(changed)
    assert problem is not None
    assert "check" in problem


@pytest.mark.parametrize(
    "number",
    [
        # 30 February 1949; the check character 0 is right (sum 155, 155 mod 11 = 1 -> 0).
        "110105194902300020",
        "110105194913010010",  # month 13
        "110105194900010010",  # month 0
        "110105194904310010",  # 31 April
        "110105190002290010",  # 1900 was not a leap year
        "110105189912310010",  # before 1900
        "110105209901010010",  # in the future
    ],
)
def test_bad_birth_date(number: str) -> None:
    problem = national_id_problem(number)
    assert problem is not None
    assert "date of birth" in problem


@pytest.mark.parametrize(
    "number",
    [
        # Province 99 does not exist; check character 3 is right (sum 295, 295 mod 11 = 9 -> 3).
        "990105194912310023",
        "000105194912310020",
        "100105194912310020",
        "200105194912310020",
        "390105194912310020",
    ],
)
def test_bad_province(number: str) -> None:
    problem = national_id_problem(number)
    assert problem is not None
    assert "province" in problem


@pytest.mark.parametrize(
    "number",
    [
        "",
        "11010519491231002",  # 17 characters
        "11010519491231002X0",  # 19 characters
        "110105491231002",  # old 15-digit form
        "11010519491231002x",  # lowercase x before normalising
        "1101051949123100X2",  # X not last
        "11010519491231 02X",
        "A1010519491231002X",
    ],
)
def test_wrong_shape(number: str) -> None:
    problem = national_id_problem(number)
    assert problem is not None
    assert "17 digits" in problem


def test_normalise_national_id_uppercases_and_trims() -> None:
    assert normalise_national_id("  11010519491231002x \n") == BEIJING
    assert national_id_problem(normalise_national_id("11010519491231002x")) is None


def test_full_width_digits_are_not_an_id_number() -> None:
    full_width = "１１０１０５１９４９１２３１００２X"
    assert national_id_problem(full_width) is not None


def test_trailing_newline_is_not_an_id_number() -> None:
    assert national_id_problem(BEIJING + "\n") is not None


# --- mobile numbers --------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    ["13800138000", "15912345678", "16612345678", "17012345678", "18623456789", "19912345678", "14700000000"],
)
def test_valid_mobiles(number: str) -> None:
    assert mobile_problem(number) is None


@pytest.mark.parametrize(
    "number",
    [
        "",
        "12345678901",  # second digit 2
        "10012345678",  # second digit 0
        "11012345678",  # second digit 1
        "23800138000",  # not starting with 1
        "1380013800",  # 10 digits
        "138001380000",  # 12 digits
        "+8613800138000",  # not normalised
        "138-0013-8000",  # not normalised
        "1380013800a",
        "02388888888",  # a Chongqing landline
    ],
)
def test_invalid_mobiles(number: str) -> None:
    assert mobile_problem(number) is not None


@pytest.mark.parametrize(
    ("typed", "normalised"),
    [
        ("13800138000", "13800138000"),
        (" 138 0013 8000 ", "13800138000"),
        ("138-0013-8000", "13800138000"),
        ("+86 138 0013 8000", "13800138000"),
        ("+86-13800138000", "13800138000"),
        ("008613800138000", "13800138000"),
        ("86 13800138000", "13800138000"),
        ("１３８００１３８０００", "13800138000"),  # full-width digits, as a Chinese input method types them
        ("+８６ 138 0013 8000", "13800138000"),
    ],
)
def test_normalise_mobile(typed: str, normalised: str) -> None:
    assert normalise_mobile(typed) == normalised
    assert mobile_problem(normalise_mobile(typed)) is None


def test_full_width_digits_are_normalised_but_not_taken_as_they_are() -> None:
    assert mobile_problem("13８00138000") is not None
    assert normalise_mobile("13８00138000") == "13800138000"


@pytest.mark.parametrize("typed", ["02388888888", "023-6700 0000", "+1 650 253 0000", "+44 7911 123456", "1380013800"])
def test_what_is_not_a_mainland_mobile_stays_refused_after_normalising(typed: str) -> None:
    assert mobile_problem(normalise_mobile(typed)) is not None


def test_trailing_newline_is_not_a_mobile() -> None:
    assert mobile_problem("13800138000\n") is not None
