"""Case numbers BS-YYYYMMDD-NNNNNN-C with a Damm check digit (check digits worked out by hand)."""

from __future__ import annotations

from datetime import date

import pytest

from service.domain.case_number import damm_digit, format_case_number, normalise_case_number

# Hand-worked with the Damm table, row = interim, column = digit:
#   2 0 2 6 0 3 0 5 0 0 0 0 0 1  ->  interim 1 7 4 5 3 0 0 9 2 4 6 5 3 7  -> check 7
SAMPLE = "BS-20260305-000001-7"
#   2 0 2 6 1 2 3 1 0 0 0 0 4 2  ->  interim 1 7 4 5 6 6 9 5 3 1 7 8 6 6  -> check 6
OTHER = "BS-20261231-000042-6"


def digits_of(number: str) -> str:
    return number.replace("BS", "").replace("-", "")


def as_number(digits: str) -> str:
    return f"BS-{digits[:8]}-{digits[8:14]}-{digits[14]}"


def test_damm_reference_value() -> None:
    # The textbook example: the check digit of 572 is 4.
    assert damm_digit("572") == 4
    assert damm_digit("5724") == 0


@pytest.mark.parametrize(
    ("day", "sequence", "expected"),
    [
        (date(2026, 3, 5), 1, SAMPLE),
        (date(2026, 12, 31), 42, OTHER),
    ],
)
def test_format_case_number(day: date, sequence: int, expected: str) -> None:
    assert format_case_number(day, sequence) == expected


@pytest.mark.parametrize("sequence", [1, 7, 999_999])
def test_format_is_prefix_date_padded_sequence_check(sequence: int) -> None:
    number = format_case_number(date(2026, 1, 9), sequence)
    prefix, day, seq, check = number.split("-")
    assert prefix == "BS"
    assert day == "20260109"
    assert seq == f"{sequence:06d}"
    assert len(seq) == 6
    assert len(check) == 1
    assert check.isdigit()
    # A Damm check digit brings the whole string back to 0.
    assert damm_digit(day + seq + check) == 0


@pytest.mark.parametrize("sequence", [0, -1, 1_000_000])
def test_format_refuses_sequence_out_of_range(sequence: int) -> None:
    with pytest.raises(ValueError, match="sequence"):
        format_case_number(date(2026, 3, 5), sequence)


def test_numbers_sort_by_date_then_sequence() -> None:
    in_order = [
        (date(2025, 12, 31), 999_999),
        (date(2026, 1, 1), 1),
        (date(2026, 1, 1), 2),
        (date(2026, 1, 1), 10),
        (date(2026, 1, 1), 100),
        (date(2026, 1, 2), 1),
        (date(2026, 2, 1), 5),
        (date(2026, 10, 1), 3),
        (date(2026, 12, 31), 999_999),
    ]
    numbers = [format_case_number(day, seq) for day, seq in in_order]
    assert sorted(numbers) == numbers
    assert sorted(reversed(numbers)) == numbers


def test_every_single_digit_change_is_detected() -> None:
    digits = digits_of(SAMPLE)
    assert normalise_case_number(as_number(digits)) == SAMPLE
    tried = 0
    for position, original in enumerate(digits):
        for replacement in "0123456789":
            if replacement == original:
                continue
            changed = digits[:position] + replacement + digits[position + 1 :]
            assert normalise_case_number(as_number(changed)) is None, changed
            tried += 1
    assert tried == 15 * 9


def test_every_adjacent_transposition_is_detected() -> None:
    digits = digits_of(SAMPLE)
    tried = 0
    for position in range(len(digits) - 1):
        a, b = digits[position], digits[position + 1]
        if a == b:
            continue
        swapped = digits[:position] + b + a + digits[position + 2 :]
        assert normalise_case_number(as_number(swapped)) is None, swapped
        tried += 1
    # 202603050000017 has 10 neighbouring pairs with different digits (4 are 0-0).
    assert tried == 10


@pytest.mark.parametrize(
    "typed",
    [
        "BS-20260305-000001-7",
        "bs-20260305-000001-7",
        "BS202603050000017",
        "bs202603050000017",
        "  BS-20260305-000001-7  ",
        "BS 20260305 000001 7",
        "Bs-20260305000001-7",
    ],
)
def test_normalise_accepts_sloppy_typing(typed: str) -> None:
    assert normalise_case_number(typed) == SAMPLE


@pytest.mark.parametrize(
    "typed",
    [
        "BS-20260305-000001-0",  # wrong check digit
        "BS-20260305-000001-8",  # wrong check digit
        "BS-20260305-000001",  # check digit missing
        "BS-2026035-000001-7",  # 7-digit date
        "BS-20260305-00001-7",  # 5-digit sequence
        "XX-20260305-000001-7",  # wrong prefix
        "20260305-000001-7",  # no prefix
        "BS-20260305-000001-77",
        "",
    ],
)
def test_normalise_refuses_what_cannot_be_a_number(typed: str) -> None:
    assert normalise_case_number(typed) is None


@pytest.mark.parametrize(
    "typed",
    [
        pytest.param(
            # Full-width digits: the "canonical" form keeps them, so it never matches a stored number.
            "BS-２０２６0305-000001-7",
            id="full-width-digits",
        ),
        pytest.param(
            # 13th month, 99th day, with the right check digit for 20261399000001 (by hand:
            # interim 1 7 4 5 6 9 0 2 4 6 5 3 1 0 -> check 0).
            "BS-20261399-000001-0",
            id="impossible-date",
        ),
    ],
)
def test_normalise_refuses_digits_no_case_number_can_have(typed: str) -> None:
    assert normalise_case_number(typed) is None


def test_the_impossible_date_example_has_a_correct_check_digit() -> None:
    # Keeps the case above honest: only the date is wrong in BS-20261399-000001-0.
    assert damm_digit("20261399000001") == 0
