"""SQLModel tables. Importing this package registers every table on ``metadata``."""

from service.models.accounts import Account, AuthSession, LoginThrottle, SecuritySetting
from service.models.attachments import Attachment
from service.models.audit import AuditChain, AuditEvent
from service.models.base import metadata
from service.models.calendar import CalendarDay, CalendarYear
from service.models.cases import Case, CaseEvent, CaseNumberCounter, CaseView, IdempotencyRecord
from service.models.deliveries import Delivery, NoticePreference, NoticeSetting, NoticeTemplate, WebhookSubscription
from service.models.imports import ImportJob
from service.models.notifications import Notification
from service.models.people import Staff, StewardAssignment, Worker
from service.models.reference import Department, District, WorkListItem
from service.models.satisfaction import SatisfactionRating
from service.models.supervision import Supervision
from service.models.tally import (
    CaseTally,
    DepartmentDurationTally,
    DurationTally,
    FlowTally,
    StewardDurationTally,
    StewardTally,
)

__all__ = [
    "Account",
    "Attachment",
    "AuditChain",
    "AuditEvent",
    "AuthSession",
    "CalendarDay",
    "CalendarYear",
    "Case",
    "CaseEvent",
    "CaseNumberCounter",
    "CaseTally",
    "CaseView",
    "Delivery",
    "Department",
    "DepartmentDurationTally",
    "District",
    "DurationTally",
    "FlowTally",
    "IdempotencyRecord",
    "ImportJob",
    "LoginThrottle",
    "NoticePreference",
    "NoticeSetting",
    "NoticeTemplate",
    "Notification",
    "SatisfactionRating",
    "SecuritySetting",
    "Staff",
    "StewardAssignment",
    "StewardDurationTally",
    "StewardTally",
    "Supervision",
    "WebhookSubscription",
    "WorkListItem",
    "Worker",
    "metadata",
]
