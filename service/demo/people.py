"""The people: stewards and department liaisons, and the science workers with their
first steward assignments."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from service.demo.vocabulary import (
    EMPLOYERS,
    FIELDS,
    GIVEN,
    MOBILE_PREFIXES,
    REGIONS,
    SURNAMES,
    TALENT_CARDS,
    TOWNS,
    URBAN,
)
from service.demo.working_time import OFFICE_HOURS, OFFICE_OPEN, US, local_midnight
from service.domain.identity import id_check_character
from service.security.kit import SecurityKit

_LEDGER = (date(2024, 10, 8), date(2024, 12, 31))
"""Workers come from the districts' ledgers, entered in the last quarter of 2024."""
_STAFF_JOINED = (date(2024, 9, 2), date(2024, 9, 30))


@dataclass(slots=True)
class People:
    stewards: list[tuple[uuid.UUID, str]] = field(default_factory=list)
    """(id, district) of every steward."""
    liaisons: dict[str, uuid.UUID] = field(default_factory=dict)
    """The liaison of each department."""
    workers: list[tuple[uuid.UUID, str, uuid.UUID]] = field(default_factory=list)
    """(id, district, steward) of every worker."""


def random_uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")


def _office_time(rng: random.Random, between: tuple[date, date]) -> int:
    day = between[0] + timedelta(days=rng.randrange((between[1] - between[0]).days + 1))
    return (local_midnight(day) + OFFICE_OPEN + rng.randrange(OFFICE_HOURS)) * US


def _national_id(rng: random.Random, taken: set[str]) -> str:
    while True:
        born = date(1958, 1, 1) + timedelta(days=rng.randrange(15_700))
        first17 = f"{rng.choice(REGIONS)}{born:%Y%m%d}{rng.randrange(1000):03d}"
        value = first17 + id_check_character(first17)
        if value not in taken:
            taken.add(value)
            return value


def _mobile(rng: random.Random, taken: set[str]) -> str:
    while True:
        value = f"{rng.choice(MOBILE_PREFIXES)}{rng.randrange(100_000_000):08d}"
        if value not in taken:
            taken.add(value)
            return value


def worker_homes(rng: random.Random, districts: list[str], count: int) -> list[str]:
    """Workers' districts: one in each district first (when there are enough), then
    more where more people live."""
    weights = [3.0 if d in URBAN else 2.0 if d in TOWNS else 1.0 for d in districts]
    homes = districts[:count] + rng.choices(districts, weights=weights, k=max(count - len(districts), 0))
    rng.shuffle(homes)
    return homes


def staff_rows(
    rng: random.Random, homes: list[str], districts: list[str], departments: list[str]
) -> tuple[People, list[tuple[Any, ...]]]:
    """About one steward per hundred workers and at least one per district; a liaison per department."""
    people = People()
    rows: list[tuple[Any, ...]] = []
    workers = Counter(homes)
    for district in districts:
        for _ in range(max(1, round(workers[district] / 100))):
            staff_id, at = random_uuid(rng), _office_time(rng, _STAFF_JOINED)
            email = f"steward{len(rows) + 1:05d}@{district}.banshi.example"
            rows.append((staff_id, _name(rng), "steward", None, district, _phone(rng), email, True, at, at))
            people.stewards.append((staff_id, district))
    for department in departments:
        staff_id, at = random_uuid(rng), _office_time(rng, _STAFF_JOINED)
        email = f"liaison@{department}.banshi.example"
        rows.append((staff_id, _name(rng), "liaison", department, None, _phone(rng), email, True, at, at))
        people.liaisons[department] = staff_id
    return people, rows


def _phone(rng: random.Random) -> str:
    return f"023-6{rng.randrange(10_000_000):07d}"


def worker_rows(
    rng: random.Random, kit: SecurityKit, people: People, homes: list[str]
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
        worker_id, steward_id = random_uuid(rng), rng.choice(stewards_of[district])
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
            rng.choice(EMPLOYERS),
            district,
            TALENT_CARDS.pick(rng),
            rng.choice(FIELDS),
            steward_id,
            at,
            at,
        )
        yield worker, (worker_id, steward_id, None, at, steward_id, "first assignment")
