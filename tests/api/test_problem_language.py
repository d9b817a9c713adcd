"""Problem+json in the caller's language: Simplified Chinese when Accept-Language prefers
it, English otherwise; type, status, field names and allowed actions never change.

The last tests hold the table complete: every problem title, and every reason and detail
the service writes, has its Chinese (``service/api/problem_language.py``)."""

from __future__ import annotations

import ast
import dataclasses
import itertools
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

import service.app
from service.api import problem_language
from service.api.problem_language import (
    CHINESE,
    ENGLISH,
    TEXTS_ZH,
    TITLES_ZH,
    in_chinese,
    preferred_language,
    title_zh,
    translate,
)
from service.app import create_app
from service.config import Settings
from service.errors import DomainError
from tests.conftest import Clock
from tests.factory import API, Api

ROOT = Path(__file__).resolve().parents[2]
HAN = re.compile(r"[\u4e00-\u9fff]")
ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}
EN = {"Accept-Language": "en-US,en;q=0.9"}
UUID0 = "00000000-0000-0000-0000-000000000000"


def chinese(text: str) -> bool:
    return bool(HAN.search(text))


async def both(api: Api, method: str, path: str, status: int, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The same refusal asked for in English and in Chinese; checks the headers and that
    only the words differ."""
    bodies = []
    for language, tag in ((EN, ENGLISH), (ZH, CHINESE)):
        headers = {**kwargs.pop("headers", {}), **language}
        response = await api.send(method, path, headers=headers, **kwargs)
        kwargs["headers"] = {k: v for k, v in headers.items() if k != "Accept-Language"}
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.headers["content-language"] == tag
        assert "accept-language" in response.headers["vary"].lower()
        bodies.append(response.json())
    en, zh = bodies
    assert {k: v for k, v in en.items() if k not in ("title", "detail", "errors")} == {
        k: v for k, v in zh.items() if k not in ("title", "detail", "errors")
    }
    assert [e["field"] for e in en.get("errors") or []] == [e["field"] for e in zh.get("errors") or []]
    assert not chinese(en["title"]) and not chinese(en["detail"])
    assert chinese(zh["title"]) and chinese(zh["detail"]), zh
    assert all(chinese(e["reason"]) for e in zh.get("errors") or []), zh
    return en, zh


# ------------------------------------------------------------------ through the API


async def test_a_body_field_too_long_wrongly_typed_or_missing_reads_in_chinese(
    client: AsyncTestClient[Litestar],
) -> None:
    api = Api(client)
    case = {"worker_id": UUID0, "item_id": UUID0, "title": "申请人才住房", "channel": "phone"}
    en, zh = await both(api, "POST", "/cases", 400, json={**case, "title": "长" * 201})
    assert en["errors"][0]["reason"].startswith("Expected `str` of length <= 200")
    assert zh["title"] == "请求参数有误"
    assert zh["errors"] == [{"field": "title", "reason": "长度不能超过 200 个字符"}]
    assert zh["detail"] == zh["errors"][0]["reason"]

    _, zh = await both(api, "POST", "/cases", 400, json={**case, "title": 7})
    assert zh["errors"][0]["reason"] == "类型错误：应为字符串，实际为整数"

    _, zh = await both(api, "POST", "/cases", 400, json={k: v for k, v in case.items() if k != "channel"})
    assert zh["errors"] == [{"field": "channel", "reason": "缺少必填字段 channel"}]

    _, zh = await both(api, "POST", "/cases", 400, json={**case, "title": ""})
    assert zh["errors"][0]["reason"].startswith("必填")

    # A pattern the field does not match: said plainly, without the regular expression, so
    # that a page can show it beside the field as it is.
    staff = {"name": "王专员", "role": "steward", "district_code": "yubei", "email": "wang at example"}
    en, zh = await both(api, "POST", "/staff", 400, json=staff)
    assert "matching regex" in en["errors"][0]["reason"]
    assert zh["errors"] == [{"field": "email", "reason": "格式不正确"}]

    _, zh = await both(api, "POST", "/cases", 400, json={**case, "title": "两行\n标题"})
    assert zh["errors"][0]["reason"].startswith("不能包含换行符等控制字符")


async def test_query_and_rule_refusals_read_in_chinese(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    _, zh = await both(api, "GET", "/cases?limit=500", 400)
    assert zh["errors"] == [{"field": "query.limit", "reason": "不能大于 200"}]
    _, zh = await both(api, "GET", "/cases?limit=20.0", 400)
    assert zh["title"] == "请求格式错误"
    assert zh["detail"] == "query.limit：必须是整数，如 20"
    _, zh = await both(api, "GET", "/cases?item_id=nope", 400)
    assert zh["errors"][0]["reason"] == "不是有效的 UUID"
    _, zh = await both(api, "GET", "/cases?status=nope", 400)
    assert zh["errors"][0]["reason"] == "'nope' 不是有效的取值"
    _, zh = await both(api, "PUT", "/calendar/2026", 400, json={"published": True, "days": [{"date": "2026-02-30"}]})
    assert zh["errors"][0]["reason"].startswith("不是有效的日期")
    # Well-formed but against a rule: 422, with the field named the same in both.
    _, zh = await both(
        api, "POST", "/cases", 422, json={"worker_id": UUID0, "item_id": UUID0, "title": "t", "channel": "phone"}
    )
    assert zh["title"] == "不符合业务规则"
    assert zh["errors"] == [{"field": "worker_id", "reason": "该科技工作者不存在"}]
    assert zh["detail"] == "worker_id：该科技工作者不存在"


async def test_not_found_reads_in_chinese(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    en, zh = await both(api, "GET", f"/cases/{UUID0}", 404)
    assert en == {
        "type": "/problems/not_found",
        "title": "Not found",
        "status": 404,
        "detail": f"case {UUID0} does not exist",
    }
    assert (zh["title"], zh["detail"]) == ("未找到", f"案件 {UUID0} 不存在")
    # The framework's own 404 and 405.
    _, zh = await both(api, "GET", "/no-such-thing", 404)
    assert (zh["type"], zh["detail"]) == ("/problems/http_404", "请求的资源不存在")
    _, zh = await both(api, "DELETE", "/cases", 405)
    assert zh["title"] == "请求方法不被允许"


async def test_conflicts_and_a_stale_version_read_in_chinese(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    case = await api.case()
    etag = f'"{case["id"]}.{case["version"]}"'
    path = f"/cases/{case['id']}/transitions"
    # A move the workflow does not allow: 409, with the same allowed actions in both.
    en, zh = await both(api, "POST", path, 409, json={"action": "resolve", "outcome": "x"}, headers={"If-Match": etag})
    assert zh["allowed_actions"] == en["allowed_actions"] == ["accept", "reject", "withdraw"]
    assert (zh["title"], zh["detail"]) == ("不允许的办理操作", "案件当前状态为“已提交”，不能办结")
    await api.move(case, "accept")
    # The version the caller read is gone: 412, still with the current ETag.
    response = await api.send("POST", path, json={"action": "start"}, headers={"If-Match": etag, **ZH})
    assert response.status_code == 412 and response.headers["etag"] != etag
    assert response.json()["title"] == "记录已被修改"
    assert response.json()["detail"] == "案件在您读取后已被修改，请重新获取后再操作"
    # A duplicate: 409.
    account = {"username": "dup-user", "role": "auditor", "password": "Initial-Pass-2026"}
    await api.ok("POST", "/accounts", 201, json=account)
    _, zh = await both(api, "POST", "/accounts", 409, json=account)
    assert (zh["title"], zh["errors"]) == ("操作冲突", [{"field": "username", "reason": "该用户名已被使用"}])


async def test_sign_in_and_permission_refusals_read_in_chinese(
    client: AsyncTestClient[Litestar], anonymous: AsyncTestClient[Litestar]
) -> None:
    public = Api(anonymous)
    en, zh = await both(public, "GET", "/cases", 401)
    assert en["title"] == "Sign-in required" and zh["title"] == "身份认证未通过"
    assert zh["detail"].startswith("请在请求头中携带 `Authorization: Bearer")
    _, zh = await both(public, "POST", "/auth/login", 401, json={"username": "nobody", "password": "Wrong-Pass-2026!"})
    assert zh["detail"] == "用户名或密码错误，或账号已被暂时锁定"
    auditor = await Api(client).account("auditor")
    _, zh = await both(auditor, "GET", "/cases", 403)
    assert (zh["title"], zh["detail"]) == ("无权限", "“审计管理员”角色无权执行此操作")


@pytest.fixture
async def locking_lookup(settings: Settings, clock: Clock) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """An anonymous client on an app that locks a case number after one wrong code."""
    tight = dataclasses.replace(settings, lookup_lock_threshold=1)
    async with AsyncTestClient(app=create_app(tight, clock=clock), base_url="http://testserver.local") as c:
        yield c


async def test_too_many_requests_reads_in_chinese(
    client: AsyncTestClient[Litestar], locking_lookup: AsyncTestClient[Litestar]
) -> None:
    created = await Api(client).case()
    public = Api(locking_lookup)
    wrong = f"/lookup?case_no={created['case_no']}&code=2222-2222"
    zh = await _one(public, wrong, 404)  # the one wrong code the lock allows
    assert zh["detail"] == "没有与该受理编号和查询码相符的案件"
    response = await public.send("GET", wrong, headers=ZH)
    assert response.status_code == 429 and int(response.headers["retry-after"]) > 0
    assert response.json()["title"] == "请求过于频繁"
    assert response.json()["detail"] == "该受理编号的查询码输入错误次数过多，请稍后再试"


async def _one(api: Api, path: str, status: int) -> dict[str, Any]:
    response = await api.send("GET", path, headers=ZH)
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize(
    ("accept_language", "language"),
    [
        (None, ENGLISH),
        ("en", ENGLISH),
        ("zh", CHINESE),
        ("zh-CN", CHINESE),
        ("zh-Hans", CHINESE),
        ("en;q=0.9, zh-CN;q=0.8", ENGLISH),
        ("zh-CN, en;q=0.5", CHINESE),
        ("fr, de;q=0.5", ENGLISH),
        ("zh;q=0, en", ENGLISH),
        ("*", ENGLISH),
        ("q=;;,,zh-???", ENGLISH),
    ],
)
async def test_the_language_follows_accept_language(
    client: AsyncTestClient[Litestar], accept_language: str | None, language: str
) -> None:
    headers = {"Accept-Language": accept_language} if accept_language is not None else {}
    response = await client.get(f"{API}/cases/{UUID0}", headers=headers)
    assert response.status_code == 404
    assert response.headers["content-language"] == language
    assert response.headers["vary"] == "Accept-Language"
    assert chinese(response.json()["title"]) == (language == CHINESE)
    # A successful answer is not a problem: no Content-Language is added to it.
    assert "content-language" not in (await client.get(f"{API}/cases", headers=headers)).headers


async def test_a_cross_origin_problem_varies_on_origin_and_language(settings: Settings, clock: Clock) -> None:
    """The CORS layer sets ``Vary: Origin`` after the handler; Accept-Language stays."""
    allowed = dataclasses.replace(settings, cors_origins=("https://console.example",))
    async with AsyncTestClient(app=create_app(allowed, clock=clock), base_url="http://testserver.local") as c:
        response = await c.get(f"{API}/cases", headers={"Origin": "https://console.example", **ZH})
    assert response.status_code == 401
    assert {v.strip().lower() for v in response.headers["vary"].split(",")} == {"origin", "accept-language"}
    assert response.headers["content-language"] == CHINESE


# ---------------------------------------------------------------------- negotiation


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("", ENGLISH),
        ("zh-cn", CHINESE),
        ("ZH-CN;Q=0.8, en;q=0.7", CHINESE),
        ("en, zh", ENGLISH),  # equal q: the first named wins
        ("zh, en", CHINESE),
        ("en-US,en;q=0.9,zh-CN;q=0.8,zh;q=0.7", ENGLISH),
        ("zh-TW,zh;q=0.9,en-US;q=0.8,en;q=0.7", CHINESE),
        ("zh-Hant", CHINESE),  # the service's only Chinese is nearer than English
        ("zh-CN;q=0, zh", ENGLISH),  # Simplified itself refused
        ("fr, zh;q=0.5", CHINESE),
        ("zh;q=0.5, *;q=0.6", ENGLISH),
        ("*;q=0.5, zh;q=0.6", CHINESE),
        ("zh;q=2", ENGLISH),  # a q out of range is ignored
        ("zh;q=abc, en;q=0.1", ENGLISH),
        ("en;q=0, zh;q=0", ENGLISH),
        ("x" * 5000, ENGLISH),
        ("," * 5000 + "zh", ENGLISH),  # only the first ranges are read
    ],
)
def test_preferred_language(header: str, language: str) -> None:
    assert preferred_language(header) == language


def test_a_problem_keeps_its_machine_parts_and_an_unknown_text_stays_english() -> None:
    from schemas.problem import FieldError, Problem

    problem = Problem(
        type="/problems/invalid",
        title="Invalid input",
        status=422,
        detail="something the table has never seen",
        errors=[FieldError(field="steward_id", reason="no such active steward"), FieldError(field="x", reason="??")],
        allowed_actions=["accept"],
    )
    zh = in_chinese(problem)
    assert (zh.type, zh.status, zh.allowed_actions) == (problem.type, 422, ["accept"])
    assert zh.title == "不符合业务规则" and zh.detail == problem.detail
    assert zh.errors == [
        FieldError(field="steward_id", reason="该科技专员不存在或已不在岗"),
        FieldError(field="x", reason="??"),
    ]


# ------------------------------------------------------------- the table is complete


def _domain_errors() -> Iterator[type[DomainError]]:
    assert service.app  # imports every controller, service and its errors
    seen: list[type[DomainError]] = [DomainError]
    while seen:
        kind = seen.pop()
        yield kind
        seen.extend(kind.__subclasses__())


def test_every_domain_error_has_a_chinese_title() -> None:
    kinds = list(_domain_errors())
    assert len(kinds) >= 16  # errors.py and services/lookup.py
    missing = [f"{k.__module__}.{k.__qualname__}: {k.title!r}" for k in kinds if k.title not in TITLES_ZH]
    assert not missing, "add the Chinese of these titles to service/api/problem_language.py:\n" + "\n".join(missing)
    assert all(chinese(TITLES_ZH[k.title]) for k in kinds)


def test_every_title_the_handlers_give_has_chinese() -> None:
    tree = ast.parse((ROOT / "service/api/problems.py").read_text(encoding="utf-8"))
    titles = {
        node.value.value
        for node in ast.walk(tree)
        if isinstance(node, ast.keyword) and node.arg == "title" and isinstance(node.value, ast.Constant)
    }
    titles |= {
        default.value
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef)
        for arg, default in zip(node.args.args[::-1], node.args.defaults[::-1], strict=False)
        if arg.arg == "title" and isinstance(default, ast.Constant)
    }
    titles |= {
        value.value
        for node in ast.walk(tree)
        if isinstance(node, ast.IfExp)
        for value in (node.body, node.orelse)
        if isinstance(value, ast.Constant) and isinstance(value.value, str) and value.value[:1].isupper()
    }
    assert {"Invalid request", "Request refused", "Service unavailable", "Try again", "Internal error"} <= titles
    assert not [t for t in titles if t not in TITLES_ZH]
    for status in (400, 401, 403, 404, 405, 408, 413, 415, 429, 500, 503):
        assert chinese(title_zh("Request refused", status) or "")


SAMPLES = ("1", "district", "accept", "Input data was truncated")
"""What an f-string's placeholders are tried with: a number or id, a record's name, an
action (roles and statuses fall back to their code), a sentence the table knows."""

MESSAGE_ARGUMENT = {"Malformed": 1, "Invalid": 1, "TooLarge": 1}
"""Which positional argument is the reason (else the first, the detail)."""


def _texts(node: ast.expr, constants: dict[str, str]) -> list[str] | None:
    """The texts an argument can read as: a literal, a module constant, or an f-string
    with each placeholder tried with each sample. None: computed, checked elsewhere."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Name) and node.id in constants:
        return [constants[node.id]]
    if isinstance(node, ast.JoinedStr):
        slots = sum(isinstance(v, ast.FormattedValue) for v in node.values)
        texts = []
        for filling in itertools.product(SAMPLES, repeat=slots):
            values = iter(filling)
            texts.append(
                "".join(
                    str(v.value) if isinstance(v, ast.Constant) else next(values)
                    for v in node.values
                    if isinstance(v, ast.Constant | ast.FormattedValue)
                )
            )
        return texts
    return None


def _written_texts() -> Iterator[tuple[str, list[str]]]:
    """(where, the texts it can read as) for every reason and detail written in service/:
    the arguments of each DomainError and HTTP exception raised, and the texts the
    problem handlers write themselves."""
    errors = {k.__name__ for k in _domain_errors()} | {"ClientException", "NotFoundException"}
    for path in sorted((ROOT / "service").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = {
            target.id: node.value.value
            for node in tree.body
            if isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            arguments: list[ast.expr] = []
            if name == "NotFound" and len(node.args) == 2 and isinstance(node.args[0], ast.Constant):
                key = node.args[1]
                shown = str(key.value) if isinstance(key, ast.Constant) else "1"
                yield where, [f"{node.args[0].value!s} {shown} does not exist"]
                continue
            if name in errors and node.args:
                index = MESSAGE_ARGUMENT.get(name, 0)
                arguments = node.args[index : index + 1]
            elif name in ("Problem", "FieldError"):
                arguments = [k.value for k in node.keywords if k.arg in ("detail", "reason")]
            elif name == "_try_again_later":
                arguments = node.args[1:2]
            for argument in arguments:
                texts = _texts(argument, constants)
                if texts is not None:
                    yield where, texts


DOMAIN_REASONS = {
    "service/domain/identity.py": ("national_id_problem", "mobile_problem"),
    "service/domain/password_policy.py": ("password_problem",),
    "service/domain/supervision.py": ("reply_days_problem", "not_supervisable"),
    "service/domain/metrics.py": ("parse_period", "_year", "_checked"),
    "service/domain/notices.py": ("placeholders", "check_text"),
}
"""Functions whose returned or raised texts the services hand on as reasons."""


def _domain_texts() -> Iterator[tuple[str, list[str]]]:
    for name, functions in DOMAIN_REASONS.items():
        tree = ast.parse((ROOT / name).read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not (isinstance(function, ast.FunctionDef) and function.name in functions):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.Return) and node.value is not None:
                    candidates = [node.value]
                elif isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("PeriodError", "ValueError"):
                    candidates = node.args[-1:]
                else:
                    continue
                for candidate in candidates:
                    texts = _texts(candidate, {})
                    if texts is not None:
                        yield f"{name}:{node.lineno}", texts


def test_every_reason_and_detail_the_service_writes_has_chinese() -> None:
    found = [*_written_texts(), *_domain_texts()]
    assert len(found) > 120
    missing = [
        f"{where}: {texts[0]!r}"
        for where, texts in found
        if not any((zh := translate(text)) is not None and chinese(zh) for text in texts)
    ]
    assert not missing, "add the Chinese of these texts to service/api/problem_language.py:\n" + "\n".join(missing)


def test_texts_handed_on_from_elsewhere_have_chinese() -> None:
    """Reasons that reach a problem from outside the scanned calls."""
    from service.adapters.webhooks import WebhookTarget, new_secret
    from service.services.lookup import NoMatch

    with pytest.raises(ValueError, match="webhook URL") as wrong_url:
        WebhookTarget(url="ftp://x", secrets=(new_secret(),))
    for text in (
        str(wrong_url.value),
        NoMatch().detail,
        "Not Found",
        "Method Not Allowed",
        "Request Entity Too Large",
        "is not valid JSON (JSON is malformed: trailing characters (byte 12))",
        "is not valid JSON (Input data was truncated)",
        "Expected `int | null`, got `str` - at `$.limit`",
        "Expected `array` of length <= 8",
        "Expected `datetime` with a timezone component - at `$.at`",
        "Invalid RFC3339 encoded datetime",
        "Object contains unknown field `role`",
        "Validation failed for POST /api/v1/cases",
        "Single '}' encountered in format string",
    ):
        assert chinese(translate(text) or ""), text


def test_the_table_says_every_text_in_chinese() -> None:
    assert all(chinese(zh) for zh in TEXTS_ZH.values())
    assert all(chinese(zh) for zh in TITLES_ZH.values())
    assert all(chinese(zh) for zh in problem_language.STATUS_ZH.values())
