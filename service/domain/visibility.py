"""What a worker (and the public lookup) may see of a case: the one rule for lines and files.

Staff who reach a case see all of it: every line of its timeline with its notes and
details, and every file. Only staff roles read the staff record of a case (a test holds
every role with ``cases.read`` to ``sees_everything``); a worker reads their own cases
through the worker's view, which applies the rules below.

A worker sees every change of status, with its date, because where a case stands is
theirs to know; the note of a line is shown only when staff marked it public. Lines
that do not change the status (notes, edits, uploads, ratings) are shown only when
public. Nothing in a line's internal details (departments, reasons for a transfer,
who acted) leaves through this view. Of the files, a worker sees the public ones, and
what a worker uploads is public.
"""

from __future__ import annotations

from typing import Final

from service.domain.access import Role

PUBLIC: Final = "public"
INTERNAL: Final = "internal"
FILES_SHOWN_TO_WORKER = frozenset({PUBLIC})
"""The file visibilities a worker sees; queries filter with this set."""
WORKER_UPLOAD_VISIBILITY = PUBLIC


def sees_everything(role: Role) -> bool:
    """Whether a role sees every line, note and file of the cases it reaches."""
    return role is not Role.WORKER


def file_shown_to_worker(visibility: str) -> bool:
    return visibility in FILES_SHOWN_TO_WORKER


EVENT_LABELS_ZH: dict[str, str] = {
    "create": "提交申请",
    "accept": "受理",
    "reject": "不予受理",
    "start": "开始办理",
    "request_materials": "需补正材料",
    "receive_materials": "补正材料已收到",
    "transfer": "转交承办部门",
    "resolve": "办结",
    "reopen": "重新办理",
    "close": "归档",
    "withdraw": "撤回申请",
    "note": "办理说明",
    "update": "信息更新",
    "rate": "满意度评价",
    "follow_up": "回访",
    "answer_materials": "已提交补正材料",
    "attach": "上传附件",
    "reissue_code": "重新发放查询码",
    "import": "由台账导入",
    # Supervision lines are internal and keep the status, so a worker's view never shows
    # them (``domain/supervision.py``); the labels serve the staff's pages.
    "supervise": "督办",
    "reply_supervision": "督办回复",
    "escalate_supervision": "督办升级",
    "supervision_unanswered": "督办逾期未回复",
}


def shown_to_worker(action: str, from_status: str | None, to_status: str, visibility: str) -> bool:
    if visibility == PUBLIC:
        return True
    return action == "create" or (from_status is not None and from_status != to_status)


def note_shown_to_worker(visibility: str) -> bool:
    return visibility == PUBLIC
