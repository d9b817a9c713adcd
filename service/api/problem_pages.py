"""A page for each problem type, where the ``type`` of a problem+json answer points.

RFC 9457 lets ``type`` be a URI a person can open to read what the problem means. The
service names them relative to itself (``/problems/validation``), so they resolve on any
host it is deployed on, and serves each as a small page, in Chinese and English, with
nothing loaded from elsewhere.
"""

from __future__ import annotations

import html
from http import HTTPStatus

from litestar import Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

PROBLEMS: dict[str, tuple[str, str]] = {
    "bad_request": ("请求有误 · Bad request", "The request cannot be served as it is; the detail says why."),
    "validation": (
        "请求不符合接口定义 · Invalid request",
        "A field, query parameter or header is not of the type, length or form the OpenAPI document states. "
        "`errors` names each field and the reason. Nothing was changed.",
    ),
    "malformed": (
        "格式错误 · Malformed request",
        "A value is not of the form the API documents: a day is 2026-03-01, an instant carries its offset "
        "(2026-03-01T09:00:00+08:00), a case number looks like BS-20260301-000001-7. Nothing was changed.",
    ),
    "malformed_body": (
        "请求体无法读取 · Unreadable request body",
        "The body is not valid UTF-8 JSON, or nests arrays and objects more than 32 levels deep. Nothing was changed.",
    ),
    "invalid": (
        "不符合业务规则 · Invalid input",
        "Well-formed input that breaks a rule of the programme (an unknown work-list item, a steward who is not "
        "active, a day outside the year). `errors` names the field. Nothing was changed.",
    ),
    "not_found": (
        "不存在 · Not found",
        "The record does not exist, or it is outside what your account may see: the two are answered alike.",
    ),
    "conflict": ("冲突 · Conflict", "The change conflicts with the record as it stands now. Nothing was changed."),
    "illegal_transition": (
        "不允许的办理操作 · Move not allowed",
        "The workflow does not allow this move from the case's current status; `allowed_actions` lists the moves "
        "that are. Nothing was changed.",
    ),
    "precondition_required": (
        "缺少 If-Match · If-Match required",
        "Send the case's current ETag in If-Match, so that a change made meanwhile by someone else is not lost.",
    ),
    "precondition_failed": (
        "记录已被修改 · The record has changed",
        "The case changed since you read it (the answer carries its current ETag). Read it again and decide anew.",
    ),
    "idempotency_key_reused": (
        "幂等键已用于其他请求 · Idempotency-Key reused",
        "This Idempotency-Key was first sent with a different body. Use a new key for a new request.",
    ),
    "unauthenticated": (
        "未登录或登录已过期 · Sign in",
        "Send `Authorization: Bearer <access token>`; get one from POST /api/v1/auth/login.",
    ),
    "second_factor_required": (
        "需要动态口令 · One-time code required",
        "The account has a second factor: send the current one-time code in `otp`.",
    ),
    "forbidden": (
        "无权限 · Forbidden",
        "Your role may not do this. Refusals are recorded in the audit trail.",
    ),
    "too_many_requests": (
        "请求过于频繁 · Too many requests",
        "Wait the seconds Retry-After gives, then try again.",
    ),
    "too_large": ("内容过大 · Too large", "The body or file is larger than the API takes."),
    "header_too_large": (
        "请求头过大 · Request header fields too large",
        "The request line and headers together may take at most 32 KiB.",
    ),
    "unavailable": (
        "暂时无法服务 · Service unavailable",
        "Something the request needs (the database, the attachment store, the shared counters) is not available "
        "right now. Nothing was written; send the request again after the seconds Retry-After gives.",
    ),
    "contention": (
        "并发冲突，请重试 · Try again",
        "The change collided with another one made at the same moment and was rolled back. Nothing was written; "
        "send it again.",
    ),
    "timeout": (
        "处理超时 · Timed out",
        "The database did not finish in time and cancelled the request. Nothing was written; try again shortly.",
    ),
    "internal": (
        "内部错误 · Internal error",
        "An unexpected error occurred; it has been logged with the request id for the operators.",
    ),
}

POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"


def problem_type(code: str) -> str:
    """The ``type`` of a problem: a path on this service."""
    return f"/problems/{code}"


def _described(code: str) -> tuple[str, str] | None:
    if code in PROBLEMS:
        return PROBLEMS[code]
    if code.startswith("http_") and code[5:].isdigit():
        try:
            status = HTTPStatus(int(code[5:]))
        except ValueError:
            return None
        return (f"HTTP {status.value} · {status.phrase}", status.description or status.phrase)
    return None


@get("/problems/{code:str}", include_in_schema=False, media_type="text/html", cache_control=None)
async def problem_page(code: FromPath[str]) -> Response[str]:
    described = _described(code)
    if described is None:
        raise NotFoundException(f"no problem type {code}")
    title, text = (html.escape(part) for part in described)
    page = (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><style>body{{font:16px/1.6 system-ui,sans-serif;max-width:40em;margin:2em auto;"
        f"padding:0 1em}}code{{background:#f3f3f3}}</style></head><body><h1>{title}</h1><p>{text}</p>"
        f"<p><code>type: /problems/{html.escape(code)}</code></p></body></html>"
    )
    return Response(page, media_type="text/html", headers={"Content-Security-Policy": POLICY})
