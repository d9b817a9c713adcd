"""The completion notice (办结通知书): printed by staff who read the case, by the worker for
their own case, and through the public lookup with the case number and query code. Only a
resolved or archived case has one; its figures are the current resolution's."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.config import Settings
from tests.conftest import Clock
from tests.factory import Api, case_in

ZH = {"Accept-Language": "zh-CN"}


def cst(day: int, month: int = 7, hour: int = 10) -> datetime:
    """A moment of 2026 in China Standard Time (July has no public holiday)."""
    return datetime(2026, month, day, hour - 8, tzinfo=UTC)


async def resolved_case(
    api: Api, clock: Clock, *, resolve_on: int = 6, outcome: str = "已分配青年人才公租房一套", **fields: Any
) -> dict[str, Any]:
    """Logged on Tuesday 30 June, accepted Wednesday 1 July at 10:00, resolved on ``resolve_on``
    July at 10:00 (the 6th is three working days later)."""
    clock.set(cst(30, month=6))
    case: dict[str, Any] = await api.case(**fields)
    code = case["query_code"]
    clock.set(cst(1))
    case = await api.move(case, "accept")
    case = await api.move(case, "start")
    clock.set(cst(resolve_on))
    case = await api.move(case, "resolve", outcome=outcome)
    return {**case, "query_code": code}


def text_of(page: str) -> str:
    """The page's words without markup, so a test reads what a person reads."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


async def notice(api: Api, path: str, **kwargs: Any) -> str:
    response = await api.send("GET", path, **kwargs)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    page: str = response.text
    assert "<script" not in page.lower()
    assert not re.search(r"""<[^>]*\b(src|href)\s*=|url\(|@import""", page), "the page fetches nothing"
    return page


async def test_staff_print_the_notice_of_a_resolved_case_with_its_figures(
    client: AsyncTestClient[Litestar], clock: Clock
) -> None:
    api = Api(client)
    steward = await api.steward("王管家")
    worker = await api.worker(steward["id"], name="张三明")
    case = await resolved_case(api, clock, worker_id=worker["id"], title="申请青年人才公租房")
    clock.set(cst(7))
    page = await notice(api, f"/cases/{case['id']}/completion-notice")
    words = text_of(page)
    assert "为科技工作者办实事 · 办结通知书" in words
    for expected in (
        f"受理编号 {case['case_no']}",
        "申请人 张三明",  # signed in: the name in full
        "服务事项 WL-01 人才住房保障",
        "申请内容 申请青年人才公租房",
        "提交日期 2026年6月30日",
        "受理日期 2026年7月1日",
        "办结日期 2026年7月6日",
        "办理结果 已分配青年人才公租房一套",
        "承办部门 市住房城乡建委",
        "科技专员 王管家",
        "承诺 14 个工作日，实际用时 3 个工作日（补正材料期间不计），按期办结",
        "非常满意、满意、基本满意、不满意、非常不满意",
        "科技工作者服务页面 http://testserver.local/",
        "15 个工作日内回访答复",
        # Ten working days after Monday 6 July, 10:00.
        "可在 2026年7月20日 10:00 前联系科技专员王管家，申请重新办理",
        "可在 http://testserver.local/#/lookup 查询办理记录",
        "本通知书生成于 2026年7月7日 10:00",
    ):
        assert expected in words, expected
    assert case["query_code"] not in page  # the code is not stored, and not printed here


async def test_a_late_resolution_says_so_with_the_working_days_used(
    client: AsyncTestClient[Litestar], clock: Clock
) -> None:
    api = Api(client)
    case = await resolved_case(api, clock, resolve_on=29)  # 20 working days after 1 July
    words = text_of(await notice(api, f"/cases/{case['id']}/completion-notice"))
    assert "承诺 14 个工作日，实际用时 20 个工作日（补正材料期间不计）， 超期办结" in words
    assert "办结日期 2026年7月29日" in words


async def test_a_deadline_at_midnight_reads_as_the_end_of_the_day_before(
    client: AsyncTestClient[Litestar], clock: Clock
) -> None:
    api = Api(client)
    case = await resolved_case(api, clock, resolve_on=4)  # a Saturday: the window opens on Monday
    words = text_of(await notice(api, f"/cases/{case['id']}/completion-notice"))
    assert "可在 2026年7月17日 24:00 前联系科技专员" in words
    assert "实际用时 3 个工作日" in words


async def test_an_unresolved_case_has_no_notice(client: AsyncTestClient[Litestar], clock: Clock) -> None:
    api = Api(client)
    case = await api.case()
    problem = await api.problem("GET", f"/cases/{case['id']}/completion-notice", 409)
    assert problem["errors"][0]["field"] == "status"
    assert "not resolved" in problem["detail"]
    in_chinese = await api.problem("GET", f"/cases/{case['id']}/completion-notice", 409, headers=ZH)
    assert in_chinese["detail"] == "该案件尚未办结"
    for status in ("accepted", "in_progress", "awaiting_materials", "rejected", "withdrawn"):
        other = await case_in(api, status)
        await api.problem("GET", f"/cases/{other['id']}/completion-notice", 409)


async def test_after_a_reopen_the_notice_waits_for_the_next_resolution_and_shows_it(
    client: AsyncTestClient[Litestar], clock: Clock
) -> None:
    api = Api(client)
    case = await resolved_case(api, clock, outcome="第一次办理结果")
    clock.set(cst(7))
    case = await api.move(case, "reopen", reason="房源未落实")
    await api.problem("GET", f"/cases/{case['id']}/completion-notice", 409)
    clock.set(cst(8))
    case = await api.move(case, "resolve", outcome="第二次办理结果")
    words = text_of(await notice(api, f"/cases/{case['id']}/completion-notice"))
    assert "第一次办理结果" not in words
    assert "办理结果 第二次办理结果" in words
    assert "已办结（重新办理后第 2 次办结）" in words
    assert "办结日期 2026年7月8日" in words
    # Three working days to the first resolution and one after the reopen; the day resolved is not counted.
    assert "实际用时 4 个工作日" in words
    assert "2026年7月22日 10:00 前" in words
    # Archived: still printed, without the offer of a reopen that can no longer happen.
    case = await api.move(case, "close")
    words = text_of(await notice(api, f"/cases/{case['id']}/completion-notice"))
    assert "办理结果 第二次办理结果" in words
    assert "重新办理。" not in words


async def test_hostile_text_is_printed_as_text(client: AsyncTestClient[Litestar], clock: Clock) -> None:
    api = Api(client)
    steward = await api.steward("<b>王</b>管家")
    worker = await api.worker(steward["id"], name="张<i>明")
    hostile = '</dd><script>alert("x")</script><img src=x onerror=alert(1)>&amp;'
    case = await resolved_case(api, clock, worker_id=worker["id"], title=hostile, outcome=hostile + "\n第二行")
    page = await notice(api, f"/cases/{case['id']}/completion-notice")
    escaped = "&lt;/dd&gt;&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;&amp;amp;"
    assert page.count(escaped) == 3  # the title in the opening line and the table, and the outcome
    assert "&lt;b&gt;王&lt;/b&gt;管家" in page
    assert "张&lt;i&gt;明" in page
    assert "<img" not in page and "<b>" not in page and "<i>" not in page


async def test_staff_out_of_reach_and_roles_without_the_case_record_are_refused(
    client: AsyncTestClient[Litestar], clock: Clock
) -> None:
    admin = Api(client)
    steward, staff = await admin.steward_account("李专员")
    mine = await admin.worker(staff["id"])
    case = await resolved_case(steward, clock, worker_id=mine["id"])
    await notice(steward, f"/cases/{case['id']}/completion-notice")
    other_steward, _ = await admin.steward_account("周专员")
    await other_steward.problem("GET", f"/cases/{case['id']}/completion-notice", 404)
    liaison, _ = await admin.liaison_account("education")  # the case is with housing
    await liaison.problem("GET", f"/cases/{case['id']}/completion-notice", 404)
    housing, _ = await admin.liaison_account("housing")
    await notice(housing, f"/cases/{case['id']}/completion-notice")
    official = await admin.account("official")
    await official.problem("GET", f"/cases/{case['id']}/completion-notice", 403)
    worker = await admin.account("worker", worker_id=mine["id"])
    await worker.problem("GET", f"/cases/{case['id']}/completion-notice", 403)  # theirs is under /my/cases


async def test_the_worker_prints_the_notice_of_their_own_case_only(
    client: AsyncTestClient[Litestar], clock: Clock
) -> None:
    admin = Api(client)
    steward = await admin.steward("王管家")
    record = await admin.worker(steward["id"], name="欧阳小明")
    worker = await admin.account("worker", worker_id=record["id"])
    case = await resolved_case(admin, clock, worker_id=record["id"])
    words = text_of(await notice(worker, f"/my/cases/{case['id']}/completion-notice"))
    assert "申请人 欧阳小明" in words
    assert "办理结果 已分配青年人才公租房一套" in words
    someone = await admin.worker(steward["id"], name="李四")
    theirs = await resolved_case(admin, clock, worker_id=someone["id"])
    await worker.problem("GET", f"/my/cases/{theirs['id']}/completion-notice", 404)
    open_case = await admin.case(worker_id=record["id"])
    await worker.problem("GET", f"/my/cases/{open_case['id']}/completion-notice", 409)


async def test_the_lookup_prints_the_notice_with_the_name_masked(
    client: AsyncTestClient[Litestar], anonymous: AsyncTestClient[Litestar], clock: Clock
) -> None:
    admin = Api(client)
    steward = await admin.steward("王管家")
    record = await admin.worker(steward["id"], name="欧阳小明")
    case = await resolved_case(admin, clock, worker_id=record["id"])
    public = Api(anonymous)
    loose = case["query_code"].replace("-", "").lower()
    for code in (case["query_code"], loose):
        page = await notice(public, "/lookup/completion-notice", params={"case_no": case["case_no"], "code": code})
        words = text_of(page)
        assert "申请人 欧**明" in words
        assert "欧阳小明" not in page
        assert "办理结果 已分配青年人才公租房一套" in words
    # A wrong code and an unknown number answer alike; a right code on an open case answers 409.
    wrong = await public.problem(
        "GET", "/lookup/completion-notice", 404, params={"case_no": case["case_no"], "code": "2222-2222"}
    )
    unknown = await public.problem(
        "GET", "/lookup/completion-notice", 404, params={"case_no": "BS-20260101-999999-0", "code": "2222-2222"}
    )
    assert {k: wrong[k] for k in ("type", "title", "detail", "errors")} == {
        k: unknown[k] for k in ("type", "title", "detail", "errors")
    }
    open_case = await admin.case(worker_id=record["id"])
    await public.problem(
        "GET",
        "/lookup/completion-notice",
        409,
        params={"case_no": open_case["case_no"], "code": open_case["query_code"]},
    )


async def test_the_public_notice_counts_against_the_lookup_limits(
    client: AsyncTestClient[Litestar], settings: Settings, clock: Clock
) -> None:
    admin = Api(client)
    case = await resolved_case(admin, clock)
    open_case = await admin.case()
    tight = dataclasses.replace(settings, lookup_limit_per_address=9, lookup_lock_threshold=3)
    async with AsyncTestClient(app=create_app(tight, clock=clock), base_url="http://testserver.local") as anonymous:
        public = Api(anonymous)
        right = {"case_no": case["case_no"], "code": case["query_code"]}
        # A right code on a case not yet resolved is not a wrong code: it does not lock the number.
        opened = {"case_no": open_case["case_no"], "code": open_case["query_code"]}
        for _ in range(3):
            await public.problem("GET", "/lookup/completion-notice", 409, params=opened)
        await public.ok("GET", "/lookup", params=opened)
        # Wrong codes on the notice and on the lookup lock the case number for both.
        wrong = {**right, "code": "2222-2222"}
        await public.problem("GET", "/lookup/completion-notice", 404, params=wrong)
        await public.problem("GET", "/lookup", 404, params=wrong)
        await public.problem("GET", "/lookup/completion-notice", 404, params=wrong)
        locked = await anonymous.get("/api/v1/lookup/completion-notice", params=right)
        assert locked.status_code == 429, locked.text
        assert int(locked.headers["retry-after"]) > 0
        await public.problem("GET", "/lookup", 429, params=right)
        # Nine requests from this address so far: the tenth is over the address's limit.
        over = await public.problem("GET", "/lookup/completion-notice", 429, params=opened)
        assert "address" in over["detail"]
