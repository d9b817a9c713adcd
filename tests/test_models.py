"""Table objects built from rows without validation are the objects pydantic would build."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import configure_mappers

from service.models import Case
from service.models.base import fresh, from_row


def _row() -> dict[str, Any]:
    values: dict[str, Any] = {column.name: None for column in Case.__table__.c}  # type: ignore[attr-defined]
    now = datetime(2026, 6, 2, 2, 0, tzinfo=UTC)
    values.update(
        id=uuid.uuid4(),
        case_no="BS-20260602-000001-7",
        worker_id=uuid.uuid4(),
        item_id=uuid.uuid4(),
        title="申请人才住房",
        description="",
        channel="phone",
        steward_id=uuid.uuid4(),
        department_code="housing",
        district_code="yubei",
        status="accepted",
        version=2,
        created_at=now,
        updated_at=now,
        accepted_at=now,
        resolutions=0,
    )
    return values


def test_from_row_builds_what_model_construct_builds() -> None:
    configure_mappers()  # as the session factory does at start-up
    row = _row()
    fast, slow = from_row(Case, dict(row)), Case.model_construct(**row)
    assert Case.__pydantic_post_init__ is None  # model_construct would run it; from_row does not
    assert Case.model_config.get("extra") != "allow"  # no extra values to keep
    for attribute in ("__pydantic_extra__", "__pydantic_private__"):
        assert getattr(fast, attribute) == getattr(slow, attribute)
    assert vars(fast) == vars(slow)
    assert fast.model_fields_set == slow.model_fields_set
    assert fast.status == "accepted" and fast.version == 2 and fast.due_at is None
    assert fast.model_dump() == slow.model_dump()


def test_fresh_builds_what_the_constructor_builds() -> None:
    """``fresh``: the same fields and defaults as ``Case(...)``, and attributes that can be
    set and read back as on a constructed case (the ORM's tracking is set up)."""
    now = datetime.now(UTC)
    given: dict[str, Any] = {
        "case_no": "",
        "worker_id": uuid.uuid4(),
        "item_id": uuid.uuid4(),
        "title": "申请",
        "description": "",
        "channel": "phone",
        "steward_id": uuid.uuid4(),
        "department_code": "housing",
        "district_code": "yubei",
        "created_by": None,
        "created_at": now,
        "updated_at": now,
    }
    fast, slow = fresh(Case, **given), Case(**given)

    def fields(case: Case) -> dict[str, object]:
        return {k: v for k, v in vars(case).items() if not k.startswith("_") and k != "id"}

    assert fields(fast) == fields(slow)
    assert isinstance(fast.id, uuid.UUID) and fast.id != slow.id  # each its own default
    assert fast.__pydantic_fields_set__ == slow.__pydantic_fields_set__
    for case in (fast, slow):
        case.version += 1
        case.query_code_hash = b"\x01"
        assert (case.version, case.query_code_hash, case.status) == (2, b"\x01", "submitted")
