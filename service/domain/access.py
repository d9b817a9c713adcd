"""Who may do what: roles, permissions and the caller of a request. Pure rules, no I/O.

Deny by default: a role has exactly the permissions listed here, and an API handler
names the one permission it needs. Which *records* a role reaches (its own workers'
cases, its department's cases) is decided in the queries, see
``service/repositories/reach.py``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from service.domain.workflow import Action


class Role(StrEnum):
    ADMIN = "admin"
    """System administrator: accounts, staff, workers, cases, the work list, the calendar."""
    SECURITY = "security"
    """Security officer (安全管理员): security settings, unlocking accounts, second factors."""
    AUDITOR = "auditor"
    """Audit officer (审计管理员): reads and verifies the audit trail, nothing else."""
    STEWARD = "steward"
    LIAISON = "liaison"
    WORKER = "worker"
    OFFICIAL = "official"


PRIVILEGED_ROLES = frozenset({Role.ADMIN, Role.SECURITY, Role.AUDITOR})
STAFF_ROLES = frozenset({Role.STEWARD, Role.LIAISON})


class Permission(StrEnum):
    REFERENCE_READ = "reference.read"
    REFERENCE_WRITE = "reference.write"
    CALENDAR_READ = "calendar.read"
    CALENDAR_WRITE = "calendar.write"
    STAFF_READ = "staff.read"
    STAFF_WRITE = "staff.write"
    WORKERS_READ = "workers.read"
    WORKERS_WRITE = "workers.write"
    WORKERS_ASSIGN = "workers.assign"
    WORKERS_REVEAL = "workers.reveal"
    CASES_READ = "cases.read"
    CASES_CREATE = "cases.create"
    CASES_UPDATE = "cases.update"
    CASES_MOVE = "cases.move"
    CASES_NOTE = "cases.note"
    CASES_RATE = "cases.rate"
    FOLLOW_UPS = "cases.follow_up"
    ACCOUNTS_READ = "accounts.read"
    ACCOUNTS_WRITE = "accounts.write"
    ACCOUNTS_UNLOCK = "accounts.unlock"
    SECURITY_SETTINGS = "security.settings"
    AUDIT_READ = "audit.read"
    AUDIT_VERIFY = "audit.verify"
    METRICS_READ = "metrics.read"
    """The metrics tables and their exports. They name the stewards beside their ids (the
    name only, never a phone number or e-mail address: ``repositories/metrics.STEWARD_NAME``),
    since officials supervise the stewards' work; listing staff remains ``staff.read``."""
    OWN_CASES = "own_cases"
    """A worker's own cases: read them, submit a request, answer for materials, withdraw."""
    ATTACHMENTS_READ = "attachments.read"
    ATTACHMENTS_WRITE = "attachments.write"
    NOTIFICATIONS = "notifications"
    """One's own notices (every role: each person reads only their own)."""
    SUPERVISE = "supervision.issue"
    """Issue a supervision notice (督办) on a late case within one's scope."""
    REPLY_SUPERVISION = "supervision.reply"
    """Answer a supervision notice on a case one handles (``domain/supervision.may_reply``)."""
    SUPERVISION_READ = "supervision.read"
    """Read the supervision notices within reach: those one issues in one's scope, or answers."""
    NOTICES_MANAGE = "notices.manage"
    """What goes out beyond the inbox: channels offered, texts, the delivery log, webhooks."""
    IMPORTS = "imports"
    """Bring ledgers in: workers and open cases from a spreadsheet. A steward brings in
    only their own workers and their cases (``services/imports.py``)."""


P = Permission
_READ_REFERENCE = {P.REFERENCE_READ, P.CALENDAR_READ}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(
        {
            *_READ_REFERENCE,
            P.REFERENCE_WRITE,
            P.CALENDAR_WRITE,
            P.STAFF_READ,
            P.STAFF_WRITE,
            P.WORKERS_READ,
            P.WORKERS_WRITE,
            P.WORKERS_ASSIGN,
            P.WORKERS_REVEAL,
            P.CASES_READ,
            P.CASES_CREATE,
            P.CASES_UPDATE,
            P.CASES_MOVE,
            P.CASES_NOTE,
            P.CASES_RATE,
            P.FOLLOW_UPS,
            P.ACCOUNTS_READ,
            P.ACCOUNTS_WRITE,
            P.AUDIT_VERIFY,
            P.METRICS_READ,
            P.ATTACHMENTS_READ,
            P.ATTACHMENTS_WRITE,
            P.SUPERVISE,
            P.SUPERVISION_READ,
            P.NOTICES_MANAGE,
            P.IMPORTS,
        }
    ),
    Role.SECURITY: frozenset({P.ACCOUNTS_READ, P.ACCOUNTS_UNLOCK, P.SECURITY_SETTINGS}),
    Role.AUDITOR: frozenset({P.AUDIT_READ, P.AUDIT_VERIFY}),
    Role.STEWARD: frozenset(
        {
            *_READ_REFERENCE,
            P.STAFF_READ,
            P.WORKERS_READ,
            P.WORKERS_WRITE,
            P.WORKERS_REVEAL,
            P.CASES_READ,
            P.CASES_CREATE,
            P.CASES_UPDATE,
            P.CASES_MOVE,
            P.CASES_NOTE,
            P.CASES_RATE,
            P.FOLLOW_UPS,
            P.ATTACHMENTS_READ,
            P.ATTACHMENTS_WRITE,
            P.REPLY_SUPERVISION,
            P.SUPERVISION_READ,
            P.IMPORTS,
        }
    ),
    Role.LIAISON: frozenset(
        {
            *_READ_REFERENCE,
            P.STAFF_READ,
            P.WORKERS_READ,
            P.CASES_READ,
            P.CASES_MOVE,
            P.CASES_NOTE,
            P.METRICS_READ,
            P.ATTACHMENTS_READ,
            P.ATTACHMENTS_WRITE,
            P.REPLY_SUPERVISION,
            P.SUPERVISION_READ,
        }
    ),
    # A worker reads their cases through the worker's own view (``/my/cases``), which
    # carries the public timeline only, never the staff's case record.
    Role.WORKER: frozenset(
        {*_READ_REFERENCE, P.WORKERS_READ, P.OWN_CASES, P.CASES_RATE, P.ATTACHMENTS_READ, P.ATTACHMENTS_WRITE}
    ),
    Role.OFFICIAL: frozenset({*_READ_REFERENCE, P.METRICS_READ, P.SUPERVISE, P.SUPERVISION_READ}),
}
ROLE_PERMISSIONS = {role: granted | {P.NOTIFICATIONS} for role, granted in ROLE_PERMISSIONS.items()}

# A liaison handles the case inside the department; withdrawing, reopening and
# archiving belong to the steward who speaks for the worker.
_LIAISON_MOVES = frozenset(
    {
        Action.ACCEPT,
        Action.REJECT,
        Action.START,
        Action.REQUEST_MATERIALS,
        Action.RECEIVE_MATERIALS,
        Action.TRANSFER,
        Action.RESOLVE,
    }
)


def can(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]


def may_move(role: Role, action: Action) -> bool:
    if not can(role, Permission.CASES_MOVE):
        return False
    return role is not Role.LIAISON or action in _LIAISON_MOVES


class SessionScope(StrEnum):
    FULL = "full"
    PASSWORD_CHANGE = "password_change"  # noqa: S105 (a scope name)
    """Signed in with a password an administrator set: only changing it is allowed."""
    MFA_ENROLMENT = "mfa_enrolment"
    """A privileged account without a second factor where one is mandatory."""


@dataclass(frozen=True, slots=True)
class Principal:
    """The signed-in caller of one request."""

    account_id: uuid.UUID
    username: str
    role: Role
    session_id: uuid.UUID
    scope: SessionScope
    client_addr: str
    staff_id: uuid.UUID | None = None
    worker_id: uuid.UUID | None = None
    department_code: str | None = None
    district_code: str | None = None

    def can(self, permission: Permission) -> bool:
        return can(self.role, permission)


@dataclass(frozen=True, slots=True)
class Anonymous:
    """A caller with no valid session (login attempts, refusals before sign-in)."""

    client_addr: str
    username: str = ""


Caller = Principal | Anonymous
