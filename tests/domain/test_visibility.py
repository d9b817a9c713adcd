"""What a worker may see is one rule, and the staff record of a case is for staff only."""

from __future__ import annotations

from service.domain.access import Permission, Role, can
from service.domain.visibility import (
    FILES_SHOWN_TO_WORKER,
    WORKER_UPLOAD_VISIBILITY,
    file_shown_to_worker,
    note_shown_to_worker,
    sees_everything,
    shown_to_worker,
)
from service.models.cases import VISIBILITIES


def test_every_role_that_reads_the_staff_record_sees_everything() -> None:
    readers = [role for role in Role if can(role, Permission.CASES_READ)]
    assert readers
    assert all(sees_everything(role) for role in readers)
    assert not sees_everything(Role.WORKER)


def test_a_worker_sees_public_files_and_what_they_upload_stays_visible_to_them() -> None:
    assert [v for v in VISIBILITIES if file_shown_to_worker(v)] == ["public"]
    assert set(FILES_SHOWN_TO_WORKER) <= set(VISIBILITIES)
    assert file_shown_to_worker(WORKER_UPLOAD_VISIBILITY)


def test_a_worker_sees_status_changes_but_only_public_notes() -> None:
    assert shown_to_worker("accept", "submitted", "accepted", "internal")
    assert not note_shown_to_worker("internal")
    assert not shown_to_worker("note", "accepted", "accepted", "internal")
    assert shown_to_worker("note", "accepted", "accepted", "public")
    assert shown_to_worker("create", None, "submitted", "internal")
