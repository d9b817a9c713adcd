"""Who is told what when a case moves: the one table of notices, and their Chinese texts.

A notice is decided from the timeline line a change writes (its action, and who made
it), so every change that tells someone goes through the same place and is recorded in
the same transaction as the change. Each audience below is a person or a group of
people resolved when the line is written (the liaisons of a department are the liaisons
it has at that moment). Nobody is told of their own act: a steward who logs a case is
not told that a case was logged.

What a worker is told follows ``domain/visibility.py``: the case number, the item, where
the case stands, what is missing, the outcome and a reason for a refusal, never a
department's internal reasons or notes. No notice carries an ID number, a mobile
number or the query code (a worker who reads the inbox is signed in and needs none).
Pure: no I/O.
"""

from __future__ import annotations

import string
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from service.domain.access import Principal
from service.domain.satisfaction import FOLLOW_UP_WORKING_DAYS


class Audience(StrEnum):
    WORKER = "worker"
    """The science worker whose case it is (when they have an account to read it)."""
    STEWARD = "steward"
    """The case's steward."""
    DEPARTMENT = "department"
    """Every active liaison of the department now handling the case."""
    SUPERVISORS = "supervisors"
    """Who watches the supervision notice a line is about (``domain/supervision.supervisors_of``):
    the account that issued it, and every active city official (an official account with no
    district) once it is at city level."""


class Kind(StrEnum):
    """What happened, as a stable name receivers can act on."""

    CASE_LOGGED = "case.logged"
    REQUEST_SUBMITTED = "case.request_submitted"
    ROUTED_TO_DEPARTMENT = "case.routed_to_department"
    ACCEPTED = "case.accepted"
    REJECTED = "case.rejected"
    MATERIALS_REQUESTED = "case.materials_requested"
    MATERIALS_ANSWERED = "case.materials_answered"
    TRANSFERRED = "case.transferred"
    TRANSFERRED_IN = "case.transferred_in"
    RESOLVED = "case.resolved"
    REOPENED = "case.reopened"
    WITHDRAWN = "case.withdrawn"
    POOR_RATING = "case.poor_rating"
    FOLLOW_UP_ANSWERED = "case.follow_up_answered"
    DUE_SOON = "case.due_soon"
    """A reminder: the case's clock runs and it has entered due-soon (yellow)."""
    OVERDUE = "case.overdue"
    """A reminder: the case's clock runs and its time limit has run out (red)."""
    UNACCEPTED = "case.unaccepted"
    """A reminder: nobody has accepted (or refused) the case within a working day."""
    FOLLOW_UP_DUE_SOON = "case.follow_up_due_soon"
    """A reminder: the follow-up a poor rating opened runs out within a few working days."""
    SUPERVISED = "case.supervised"
    """督办: an official or administrator issued a supervision notice on the case."""
    SUPERVISION_REPLIED = "case.supervision_replied"
    """The handling side replied to a supervision notice."""
    SUPERVISION_ESCALATED = "case.supervision_escalated"
    """A supervision notice went unanswered past its reply deadline and rose one level."""
    OFFICIAL_DAILY_DIGEST = "official.daily_digest"
    """Each working morning, to every official: new overdue cases and items behind target in their scope."""
    OFFICIAL_WEEKLY_DIGEST = "official.weekly_digest"
    """The first working morning of a week, to every official: the past week in their scope."""
    DEPARTMENT_DIGEST = "department.digest"
    """Each working morning, to every liaison of a department with cases due soon or overdue:
    how many, and the first of them (one notice a day, not one per case)."""


DIGESTS: frozenset[Kind] = frozenset({Kind.DEPARTMENT_DIGEST, Kind.OFFICIAL_DAILY_DIGEST, Kind.OFFICIAL_WEEKLY_DIGEST})
"""Kinds about many cases at once: their texts are built by their own functions, not ``TEXTS``."""

REMINDERS: tuple[Kind, ...] = (Kind.DUE_SOON, Kind.OVERDUE, Kind.UNACCEPTED, Kind.FOLLOW_UP_DUE_SOON)
"""The kinds a reminder pass gives, each once per case, threshold instant and person: told
to the case's steward. They come from the clock, not from a timeline line."""

REMIND_FROM_HOUR = 8
"""Reminders are told on working days from this hour (China Standard Time): a time limit
that runs out at midnight is told in the morning, and the department digest is written by
the first pass from then."""
DIGEST_CASES_NAMED = 5
"""How many case numbers a digest names (the earliest due first)."""

UNACCEPTED_AFTER_WORKING_DAYS = 1
"""A case still submitted this long (working time) after it was logged is reminded."""
FOLLOW_UP_WARNING_WORKING_DAYS = 3
"""An open follow-up is reminded this long (working time) before it runs out."""


@dataclass(frozen=True, slots=True)
class Recipient:
    """Whom a notice is for: a worker, a member of staff (steward, liaison), or an account
    that is neither (an official, an administrator). Exactly one is set."""

    worker_id: uuid.UUID | None = None
    staff_id: uuid.UUID | None = None
    account_id: uuid.UUID | None = None

    def __post_init__(self) -> None:
        if sum(x is not None for x in (self.worker_id, self.staff_id, self.account_id)) != 1:
            raise ValueError("a notice is for exactly one person")

    @property
    def key(self) -> str:
        """The recipient's part of a notice's ``dedupe_key``."""
        return str(self.worker_id or self.staff_id or self.account_id)


def recipient_of(caller: Principal) -> Recipient:
    """Whose notices a signed-in caller reads: their worker or staff record's, else their account's."""
    if caller.worker_id is not None:
        return Recipient(worker_id=caller.worker_id)
    if caller.staff_id is not None:
        return Recipient(staff_id=caller.staff_id)
    return Recipient(account_id=caller.account_id)


@dataclass(frozen=True, slots=True)
class Notice:
    kind: Kind
    audience: Audience


def notices_for(action: str, *, by_worker: bool, poor_rating: bool = False) -> tuple[Notice, ...]:
    """The notices one timeline line gives: ``action`` is the line's action,
    ``by_worker`` whether the worker made it (their own request, their answer),
    ``poor_rating`` whether a rating opened a follow-up."""
    match action:
        case "create" if by_worker:
            return (
                Notice(Kind.REQUEST_SUBMITTED, Audience.STEWARD),
                Notice(Kind.ROUTED_TO_DEPARTMENT, Audience.DEPARTMENT),
            )
        case "create":
            return (Notice(Kind.CASE_LOGGED, Audience.WORKER), Notice(Kind.ROUTED_TO_DEPARTMENT, Audience.DEPARTMENT))
        case "accept":
            return (Notice(Kind.ACCEPTED, Audience.WORKER),)
        case "reject":
            return (Notice(Kind.REJECTED, Audience.WORKER), Notice(Kind.REJECTED, Audience.STEWARD))
        case "request_materials":
            return (
                Notice(Kind.MATERIALS_REQUESTED, Audience.WORKER),
                Notice(Kind.MATERIALS_REQUESTED, Audience.STEWARD),
            )
        case "answer_materials":
            return (
                Notice(Kind.MATERIALS_ANSWERED, Audience.STEWARD),
                Notice(Kind.MATERIALS_ANSWERED, Audience.DEPARTMENT),
            )
        case "transfer":
            return (Notice(Kind.TRANSFERRED, Audience.WORKER), Notice(Kind.TRANSFERRED_IN, Audience.DEPARTMENT))
        case "resolve":
            return (Notice(Kind.RESOLVED, Audience.WORKER), Notice(Kind.RESOLVED, Audience.STEWARD))
        case "reopen":
            return (Notice(Kind.REOPENED, Audience.WORKER), Notice(Kind.REOPENED, Audience.DEPARTMENT))
        case "withdraw" if by_worker:
            return (Notice(Kind.WITHDRAWN, Audience.STEWARD), Notice(Kind.WITHDRAWN, Audience.DEPARTMENT))
        case "withdraw":
            return (Notice(Kind.WITHDRAWN, Audience.WORKER), Notice(Kind.WITHDRAWN, Audience.DEPARTMENT))
        case "rate" if poor_rating:
            return (Notice(Kind.POOR_RATING, Audience.STEWARD),)
        case "follow_up":
            return (Notice(Kind.FOLLOW_UP_ANSWERED, Audience.WORKER),)
        case "supervise":
            return (Notice(Kind.SUPERVISED, Audience.DEPARTMENT), Notice(Kind.SUPERVISED, Audience.STEWARD))
        case "reply_supervision":
            return (Notice(Kind.SUPERVISION_REPLIED, Audience.SUPERVISORS),)
        case "escalate_supervision":
            # The handling side too: a new deadline runs for them.
            return (
                Notice(Kind.SUPERVISION_ESCALATED, Audience.SUPERVISORS),
                Notice(Kind.SUPERVISION_ESCALATED, Audience.DEPARTMENT),
                Notice(Kind.SUPERVISION_ESCALATED, Audience.STEWARD),
            )
    return ()


@dataclass(frozen=True, slots=True)
class Facts:
    """What a notice may say. Only what its audience may see is filled in by the caller;
    ``reason`` and ``materials`` reach a worker only as the worker's view shows them."""

    case_no: str
    item_title: str
    promised_working_days: int | None = None
    materials: str | None = None
    outcome: str | None = None
    reason: str | None = None
    department_name: str | None = None
    due: str | None = None
    """The due time, as the pages show it (China Standard Time)."""


TEXTS: dict[Kind, tuple[str, str]] = {
    Kind.CASE_LOGGED: (
        "办件已受理登记：{case_no}",
        "您的“{item_title}”申请已登记，受理编号 {case_no}，承诺办理时限 {promised_working_days} 个工作日。",
    ),
    Kind.REQUEST_SUBMITTED: (
        "新的服务申请：{case_no}",
        "您负责的科技工作者提交了“{item_title}”申请（{case_no}），请及时跟进。",
    ),
    Kind.ROUTED_TO_DEPARTMENT: (
        "新办件待受理：{case_no}",
        "“{item_title}”办件（{case_no}）已转至{department_name}，请及时受理。",
    ),
    Kind.ACCEPTED: ("办件已受理：{case_no}", "您的“{item_title}”申请（{case_no}）已受理，正在办理中。"),
    Kind.REJECTED: ("办件不予受理：{case_no}", "“{item_title}”申请（{case_no}）不予受理。原因：{reason}"),
    Kind.MATERIALS_REQUESTED: (
        "需补正材料：{case_no}",
        "“{item_title}”办件（{case_no}）需补正材料：{materials}。补正前办理时限暂停计算。",
    ),
    Kind.MATERIALS_ANSWERED: (
        "补正材料已提交：{case_no}",
        "“{item_title}”办件（{case_no}）的补正材料已提交，请核收。",
    ),
    Kind.TRANSFERRED: (
        "办件已转交承办部门：{case_no}",
        "您的“{item_title}”申请（{case_no}）已转交其他部门继续办理。",
    ),
    Kind.TRANSFERRED_IN: (
        "转办件待受理：{case_no}",
        "“{item_title}”办件（{case_no}）已转至{department_name}，请及时办理。",
    ),
    Kind.RESOLVED: (
        "办件已办结：{case_no}",
        "“{item_title}”办件（{case_no}）已办结。办理结果：{outcome}。欢迎对本次服务进行评价。",
    ),
    Kind.REOPENED: ("办件重新办理：{case_no}", "“{item_title}”办件（{case_no}）已重新办理。"),
    Kind.WITHDRAWN: ("办件已撤回：{case_no}", "“{item_title}”申请（{case_no}）已撤回。"),
    Kind.POOR_RATING: (
        "差评待回访：{case_no}",
        f"“{{item_title}}”办件（{{case_no}}）收到不满意评价，请在 {FOLLOW_UP_WORKING_DAYS} 个工作日内回访。",
    ),
    Kind.FOLLOW_UP_ANSWERED: (
        "评价已回访：{case_no}",
        "您对“{item_title}”办件（{case_no}）的评价已有回访，可在办件详情中查看。",
    ),
    # A notice of a timeline line is told the reason the line records, not its deadline
    # (``services/notices.tell``): the reply deadline is on the notice's record.
    Kind.SUPERVISED: (
        "督办通知：{case_no}",
        "“{item_title}”办件（{case_no}）被督办，督办事由：{reason}。请于 {due} 前回复办理情况。",
    ),
    Kind.SUPERVISION_REPLIED: (
        "督办已回复：{case_no}",
        "“{item_title}”办件（{case_no}）的督办已回复：{reason}",
    ),
    Kind.SUPERVISION_ESCALATED: (
        "督办升级：{case_no}",
        "“{item_title}”办件（{case_no}）的督办逾期未回复，已升级为市级督办，督办事由：{reason}。请于 {due} 前回复。",
    ),
    Kind.DUE_SOON: (
        "办件即将超期：{case_no}",
        "“{item_title}”办件（{case_no}）将于 {due} 到期，请抓紧办理。",
    ),
    Kind.OVERDUE: (
        "办件已超期：{case_no}",
        "“{item_title}”办件（{case_no}）已超过承诺办理时限（{due} 到期），请尽快办结。",
    ),
    Kind.UNACCEPTED: (
        "办件尚未受理：{case_no}",
        f"“{{item_title}}”办件（{{case_no}}）提交已超过 {UNACCEPTED_AFTER_WORKING_DAYS} 个工作日仍未受理，"
        "请督促承办部门及时受理。",
    ),
    Kind.FOLLOW_UP_DUE_SOON: (
        "回访即将到期：{case_no}",
        "“{item_title}”办件（{case_no}）的差评回访将于 {due} 到期，请及时回访。",
    ),
}
"""Title and body of each kind about one case, in Chinese, with the words the pages use
(the department digest has ``DIGEST_TEXT``)."""


DIGEST_TEXT = (
    "本部门办件提醒（{day}）",
    "截至 {day} {time}，本部门超期办件 {overdue} 件、即将超期 {due_soon} 件，最早到期的是：{cases}。请及时办理。",
)


def render_digest(day: str, time: str, overdue: int, due_soon: int, case_nos: list[str]) -> tuple[str, str]:
    """The department digest's title and body."""
    title, body = DIGEST_TEXT
    values = {"day": day, "time": time, "overdue": overdue, "due_soon": due_soon, "cases": "、".join(case_nos)}
    return title.format(**values), body.format(**values)


FREE_TEXT_CHARS = 300
"""Free text staff typed (what is missing, the outcome, a reason) is quoted up to this
many characters, then "…": a notice points to the case, where the whole text is."""


def _quoted(value: object) -> object:
    if isinstance(value, str) and len(value) > FREE_TEXT_CHARS:
        return value[: FREE_TEXT_CHARS - 1] + "…"
    return value


def render(kind: Kind, facts: Facts, texts: Mapping[Kind, tuple[str, str]] | None = None) -> tuple[str, str]:
    """The notice's title and body, from ``texts`` (an administrator's version) when it has
    the kind, else from ``TEXTS``. A fact that is missing reads as ``—``."""
    values = fact_values(facts)
    title, body = (texts or {}).get(kind) or TEXTS[kind]
    return title.format(**values), body.format(**values)


def fact_values(facts: Facts) -> dict[str, str]:
    """Each fact as the texts show it: quoted, and ``—`` where it is missing."""
    return {name: ("—" if value is None else str(_quoted(value))) for name, value in _fields(facts).items()}


FACT_NAMES: frozenset[str] = frozenset(Facts.__slots__)
"""The placeholders a text may use."""


def placeholders(text: str) -> list[str]:
    """The ``{name}`` placeholders of a text, in order, each once. Raises ValueError for a
    text that is not a valid format string."""
    names: list[str] = []
    for _, name, spec, conversion in string.Formatter().parse(text):
        if name is None:
            continue
        if not name or spec or conversion or not name.isidentifier():
            raise ValueError(f"placeholder {{{name}}} must be a plain name such as {{case_no}}")
        if name not in names:
            names.append(name)
    return names


def check_text(kind: Kind, title: str, body: str) -> None:
    """Refuse a text an administrator wrote that names a fact notices do not have (the
    digests have their own facts and are not edited). Raises ValueError saying which."""
    if kind not in TEXTS:
        raise ValueError(f"{kind.value} has no editable text")
    for part, text in (("title", title), ("body", body)):
        unknown = [name for name in placeholders(text) if name not in FACT_NAMES]
        if unknown:
            raise ValueError(f"{part}: unknown placeholder {{{unknown[0]}}}; known: {', '.join(sorted(FACT_NAMES))}")


def sms_parameters(kind: Kind, facts: Facts, *, query_code: str | None = None) -> tuple[tuple[str, str], ...]:
    """The variables of the text-message template registered for ``kind``: the facts its
    default body names, in order, then the query code on a receipt. The template a
    deployment registers with its provider takes exactly these, in this order."""
    values = fact_values(facts)
    names = placeholders(TEXTS[kind][1])
    params = [(name, values[name]) for name in names]
    if kind is Kind.CASE_LOGGED:
        params.append(("query_code", query_code or "—"))
    return tuple(params)


def _fields(facts: Facts) -> dict[str, object]:
    return {name: getattr(facts, name) for name in facts.__slots__}
