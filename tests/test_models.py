"""Table objects built from rows without validation are the objects pydantic would build."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, get_type_hints

from sqlalchemy.orm import configure_mappers

from service.models import Case, CaseView
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


def test_the_case_view_names_columns_of_the_case_with_their_types() -> None:
    """``CaseView`` is built from the read's row by position and read by name where a
    ``Case`` is read: each of its fields must be a column of ``Case`` typed the same."""
    case_types = get_type_hints(Case)
    view_types = get_type_hints(CaseView)
    columns = {column.name for column in Case.__table__.c}  # type: ignore[attr-defined]
    assert list(view_types) == list(CaseView._fields)
    for name, kind in view_types.items():
        assert name in columns, name
        assert kind == case_types[name], name


def test_the_presenters_read_only_what_the_case_view_holds() -> None:
    """A field the rendering reads that the view lacks would fail only on the case read:
    rendering a view and the same case as a table object gives the same answer."""
    from service.domain.calendar import build_calendar
    from service.services.presenters.cases import case_out

    row = {
        **_row(),
        "promised_working_days": 14,
        "due_at": datetime(2026, 6, 19, 2, 0, tzinfo=UTC),
        "due_soon_at": datetime(2026, 6, 17, 2, 0, tzinfo=UTC),
    }
    view = CaseView(**{name: row[name] for name in CaseView._fields})
    now = datetime(2026, 6, 3, 2, 0, tzinfo=UTC)
    calendar = build_calendar([], [])
    as_view = case_out(view, "H01", [], calendar, now)
    assert as_view == case_out(from_row(Case, row), "H01", [], calendar, now)
    assert as_view.due.working_days_left is not None
