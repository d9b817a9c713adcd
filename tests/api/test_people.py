"""Staff, science workers and their stewards, through the API."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.domain.identity import id_check_character
from tests.factory import MOVE_FIELDS, PATH_TO, Api, national_id


def _id_ending_in_x() -> str:
    """A valid ID number whose check character is X (a prefix the factory never uses)."""
    for n in range(1000):
        first17 = f"50011219850612{n:03d}"
        if id_check_character(first17) == "X":
            return first17 + "X"
    raise AssertionError("no ID number with check character X")


def _with_wrong_check(valid: str) -> str:
    wrong = "0" if valid[17] != "0" else "1"
    return valid[:17] + wrong


def _field_errors(problem: dict[str, Any]) -> list[str]:
    return [e["field"] for e in problem.get("errors") or []]


def _worker_body(steward_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "name": "李华",
        "national_id": national_id(),
        "mobile": "13912345678",
        "employer": "西南大学",
        "district_code": "beibei",
        "steward_id": steward_id,
        **fields,
    }


async def _revealed(api: Api, worker_id: str) -> dict[str, Any]:
    body = {"fields": ["national_id", "mobile"], "reason": "核对身份信息"}
    revealed: dict[str, Any] = await api.ok("POST", f"/workers/{worker_id}/reveal", json=body)
    return revealed


def _masks(national_id: str, mobile: str) -> tuple[str, str]:
    return national_id[:3] + "*" * 11 + national_id[-4:], mobile[:3] + "****" + mobile[-4:]


async def _worker_total(api: Api) -> int:
    page = await api.ok("GET", "/workers")
    total: int = page["total"]
    return total


# Staff


async def test_staff_are_created_read_and_listed_by_role(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    steward = await api.ok(
        "POST",
        "/staff",
        201,
        json={"name": "王管家", "role": "steward", "district_code": "yubei", "email": "wang@example.cn"},
    )
    liaison = await api.ok(
        "POST", "/staff", 201, json={"name": "刘联络", "role": "liaison", "department_code": "housing"}
    )
    assert steward["role"] == "steward"
    assert steward["district_code"] == "yubei"
    assert steward["email"] == "wang@example.cn"
    assert steward["active"] is True
    assert liaison["department_code"] == "housing"

    read = await api.ok("GET", f"/staff/{steward['id']}")
    assert read == steward

    stewards = await api.ok("GET", "/staff?role=steward")
    assert [s["id"] for s in stewards["items"]] == [steward["id"]]
    assert stewards["total"] == 1
    liaisons = await api.ok("GET", "/staff?role=liaison")
    assert [s["id"] for s in liaisons["items"]] == [liaison["id"]]
    everyone = await api.ok("GET", "/staff")
    assert {s["id"] for s in everyone["items"]} == {steward["id"], liaison["id"]}
    assert everyone["total"] == 2


async def test_a_liaison_needs_a_department(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    problem = await api.problem("POST", "/staff", 422, json={"name": "刘联络", "role": "liaison"})
    assert _field_errors(problem) == ["department_code"]
    assert (await api.ok("GET", "/staff"))["total"] == 0


async def test_staff_with_an_unknown_department_is_refused(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    problem = await api.problem(
        "POST", "/staff", 422, json={"name": "刘联络", "role": "liaison", "department_code": "no-such-dept"}
    )
    assert _field_errors(problem) == ["department_code"]


async def test_unknown_staff_member_is_404(client: AsyncTestClient[Litestar]) -> None:
    await Api(client).problem("GET", f"/staff/{uuid.uuid4()}", 404)


# Workers: creation and validation


async def test_worker_is_created_with_valid_data(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    steward = await api.steward()
    body = _worker_body(steward["id"], talent_card="A", field="材料科学")
    worker = await api.ok("POST", "/workers", 201, json=body)
    for name in ("name", "employer", "district_code", "steward_id", "talent_card", "field"):
        assert worker[name] == body[name], name
    assert (worker["national_id_masked"], worker["mobile_masked"]) == _masks(body["national_id"], body["mobile"])
    assert "national_id" not in worker and "mobile" not in worker
    revealed = await _revealed(api, worker["id"])
    assert (revealed["national_id"], revealed["mobile"]) == (body["national_id"], body["mobile"])
    uuid.UUID(worker["id"])
    assert await api.ok("GET", f"/workers/{worker['id']}") == worker
    history = await api.ok("GET", f"/workers/{worker['id']}/stewards")
    assert len(history) == 1
    assert history[0]["steward_id"] == steward["id"]
    assert history[0]["previous_steward_id"] is None


async def test_national_id_is_normalised_to_upper_case_x(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    steward = await api.steward()
    valid = _id_ending_in_x()
    worker = await api.ok("POST", "/workers", 201, json=_worker_body(steward["id"], national_id=valid.lower()))
    assert (await _revealed(api, worker["id"]))["national_id"] == valid
    assert worker["national_id_masked"].endswith("X")
    # The same person typed with a capital X is the same person.
    problem = await api.problem("POST", "/workers", 409, json=_worker_body(steward["id"], national_id=valid))
    assert _field_errors(problem) == ["national_id"]


async def test_mobile_is_normalised(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    steward = await api.steward()
    worker = await api.ok("POST", "/workers", 201, json=_worker_body(steward["id"], mobile="+86 139-12345678"))
    assert (await _revealed(api, worker["id"]))["mobile"] == "13912345678"
    assert worker["mobile_masked"] == "139****5678"


async def test_bad_national_id_checksum_is_refused_and_nothing_is_written(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    steward = await api.steward()
    await api.worker(steward["id"])
    before = await _worker_total(api)
    bad = _with_wrong_check(national_id())
    problem = await api.problem("POST", "/workers", 422, json=_worker_body(steward["id"], national_id=bad))
    assert _field_errors(problem) == ["national_id"]
    assert await _worker_total(api) == before == 1


async def test_bad_mobile_is_refused(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    steward = await api.steward()
    problem = await api.problem("POST", "/workers", 422, json=_worker_body(steward["id"], mobile="12345678901"))
    assert _field_errors(problem) == ["mobile"]
    assert await _worker_total(api) == 0


async def test_unknown_district_is_refused(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    steward = await api.steward()
    problem = await api.problem("POST", "/workers", 422, json=_worker_body(steward["id"], district_code="atlantis"))
    assert _field_errors(problem) == ["district_code"]
    assert await _worker_total(api) == 0


async def test_unknown_steward_is_refused(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    problem = await api.problem("POST", "/workers", 422, json=_worker_body(str(uuid.uuid4())))
    assert _field_errors(problem) == ["steward_id"]
    assert await _worker_total(api) == 0


async def test_a_liaison_cannot_be_a_workers_steward(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    liaison = await api.ok("POST", "/staff", 201, json={"name": "刘联络", "role": "liaison", "department_code": "tax"})
    problem = await api.problem("POST", "/workers", 422, json=_worker_body(liaison["id"]))
    assert _field_errors(problem) == ["steward_id"]


async def test_duplicate_national_id_is_a_conflict(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    steward = await api.steward()
    first = await api.worker(steward["id"])
    taken = (await _revealed(api, first["id"]))["national_id"]
    problem = await api.problem("POST", "/workers", 409, json=_worker_body(steward["id"], national_id=taken))
    assert _field_errors(problem) == ["national_id"]
    assert await _worker_total(api) == 1


async def test_unknown_fields_in_a_body_are_refused(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    steward = await api.steward()
    for extra in ({"id": str(uuid.uuid4())}, {"created_at": "2026-01-01T00:00:00Z"}):
        problem = await api.problem("POST", "/workers", 400, json=_worker_body(steward["id"], **extra))
        assert problem["errors"], problem
        assert next(iter(extra)) in problem["detail"], problem
    assert await _worker_total(api) == 0
    worker = await api.worker(steward["id"])
    problem = await api.problem("PATCH", f"/workers/{worker['id']}", 400, json={"steward_id": steward["id"]})
    assert "steward_id" in problem["detail"]


async def test_unknown_worker_is_404_problem_json(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    missing = uuid.uuid4()
    problem = await api.problem("GET", f"/workers/{missing}", 404)
    assert str(missing) in problem["detail"]
    await api.problem("GET", f"/workers/{missing}/stewards", 404)
    await api.problem("PATCH", f"/workers/{missing}", 404, json={"name": "某人"})


# Workers: listing


async def test_workers_are_listed_with_filters_and_pages(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    one = await api.steward("一号管家")
    two = await api.steward("二号管家")
    zhang = await api.worker(one["id"], name="张伟", district_code="yubei")
    li = await api.worker(one["id"], name="李伟", district_code="beibei")
    wang = await api.worker(two["id"], name="王芳", district_code="yubei")

    async def ids(query: str) -> tuple[list[str], int]:
        page = await api.ok("GET", f"/workers?{query}")
        return [w["id"] for w in page["items"]], page["total"]

    everyone, total = await ids("")
    assert total == 3
    assert set(everyone) == {zhang["id"], li["id"], wang["id"]}

    by_district, total = await ids("district_code=yubei")
    assert (set(by_district), total) == ({zhang["id"], wang["id"]}, 2)
    by_steward, total = await ids(f"steward_id={two['id']}")
    assert (by_steward, total) == ([wang["id"]], 1)
    by_name, total = await ids("name=伟")
    assert (set(by_name), total) == ({zhang["id"], li["id"]}, 2)
    both, total = await ids(f"name=伟&district_code=beibei&steward_id={one['id']}")
    assert (both, total) == ([li["id"]], 1)
    nobody, total = await ids("name=%25")  # a literal % matches nothing, not everything
    assert (nobody, total) == ([], 0)

    first = await api.ok("GET", "/workers?limit=2")
    assert (len(first["items"]), first["total"], first["limit"], first["offset"]) == (2, 3, 2, 0)
    rest = await api.ok("GET", "/workers?limit=2&offset=2")
    assert (len(rest["items"]), rest["total"], rest["offset"]) == (1, 3, 2)
    paged = [w["id"] for w in first["items"] + rest["items"]]
    assert sorted(paged) == sorted(everyone)
    assert len(set(paged)) == 3


async def test_page_size_over_the_maximum_is_refused(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    problem = await api.problem("GET", "/workers?limit=201", 400)
    assert any("limit" in field for field in _field_errors(problem)), problem
    assert (await api.ok("GET", "/workers?limit=200"))["limit"] == 200
    problem = await api.problem("GET", "/workers?offset=-1", 400)
    assert any("offset" in field for field in _field_errors(problem)), problem


# Workers: corrections and stewards


async def test_worker_details_are_corrected(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    steward = await api.steward()
    worker = await api.worker(steward["id"])
    patched = await api.ok(
        "PATCH",
        f"/workers/{worker['id']}",
        json={"name": "张明明", "mobile": "139 1111 2222", "district_code": "jiangbei", "talent_card": "B"},
    )
    assert patched["name"] == "张明明"
    assert patched["mobile_masked"] == "139****2222"
    assert (await _revealed(api, worker["id"]))["mobile"] == "13911112222"
    assert patched["district_code"] == "jiangbei"
    assert patched["talent_card"] == "B"
    assert patched["national_id_masked"] == worker["national_id_masked"]
    assert patched["employer"] == worker["employer"]
    assert patched["updated_at"] >= worker["updated_at"]
    assert await api.ok("GET", f"/workers/{worker['id']}") == patched

    problem = await api.problem("PATCH", f"/workers/{worker['id']}", 422, json={"district_code": "atlantis"})
    assert _field_errors(problem) == ["district_code"]
    problem = await api.problem("PATCH", f"/workers/{worker['id']}", 422, json={"mobile": "10000000000"})
    assert _field_errors(problem) == ["mobile"]
    assert await api.ok("GET", f"/workers/{worker['id']}") == patched


async def test_steward_reassignment_is_recorded(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    old = await api.steward("旧管家")
    new = await api.steward("新管家")
    worker = await api.worker(old["id"])
    assignment = await api.ok(
        "POST", f"/workers/{worker['id']}/steward", 201, json={"steward_id": new["id"], "reason": "原管家调岗"}
    )
    assert assignment["steward_id"] == new["id"]
    assert assignment["previous_steward_id"] == old["id"]
    assert assignment["reason"] == "原管家调岗"

    assert (await api.ok("GET", f"/workers/{worker['id']}"))["steward_id"] == new["id"]
    history = await api.ok("GET", f"/workers/{worker['id']}/stewards")
    assert len(history) == 2
    assert (history[0]["steward_id"], history[0]["previous_steward_id"]) == (old["id"], None)
    assert history[1] == assignment
    assert history[1]["worker_id"] == worker["id"]

    listed = await api.ok("GET", f"/workers?steward_id={new['id']}")
    assert [w["id"] for w in listed["items"]] == [worker["id"]]


async def test_reassigning_to_the_same_steward_is_a_conflict(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    steward = await api.steward()
    worker = await api.worker(steward["id"])
    problem = await api.problem(
        "POST", f"/workers/{worker['id']}/steward", 409, json={"steward_id": steward["id"], "reason": "再次指派"}
    )
    assert _field_errors(problem) == ["steward_id"]
    assert len(await api.ok("GET", f"/workers/{worker['id']}/stewards")) == 1


async def test_reassigning_to_an_unknown_steward_is_refused(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    steward = await api.steward()
    worker = await api.worker(steward["id"])
    problem = await api.problem(
        "POST", f"/workers/{worker['id']}/steward", 422, json={"steward_id": str(uuid.uuid4()), "reason": "调岗"}
    )
    assert _field_errors(problem) == ["steward_id"]
    problem = await api.problem(
        "POST", f"/workers/{worker['id']}/steward", 400, json={"steward_id": steward["id"], "reason": ""}
    )
    assert len(await api.ok("GET", f"/workers/{worker['id']}/stewards")) == 1


async def _case_in(api: Api, worker_id: str, status: str) -> dict[str, Any]:
    case: dict[str, Any] = await api.case(worker_id=worker_id)
    for action in PATH_TO[status]:
        fields: dict[str, Any] = MOVE_FIELDS.get(action, {})
        case = await api.move(case, action, **fields)
    assert case["status"] == status
    return case


async def test_unfinished_cases_follow_the_worker_to_the_new_steward(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    old = await api.steward("旧管家")
    new = await api.steward("新管家")
    worker = await api.worker(old["id"])
    running = await _case_in(api, worker["id"], "in_progress")
    paused = await _case_in(api, worker["id"], "awaiting_materials")
    closed = await _case_in(api, worker["id"], "closed")
    assert {c["steward_id"] for c in (running, paused, closed)} == {old["id"]}

    await api.ok("POST", f"/workers/{worker['id']}/steward", 201, json={"steward_id": new["id"], "reason": "调岗"})

    for before in (running, paused):
        after = await api.ok("GET", f"/cases/{before['id']}")
        assert after["steward_id"] == new["id"]
        assert after["status"] == before["status"]
        assert after["version"] == before["version"] + 1
        assert len(after["timeline"]) == len(before["timeline"]) + 1
        last = after["timeline"][-1]
        assert last["action"] == "update"
        assert last["from_status"] == last["to_status"] == before["status"]
        assert last["details"] == {"changes": {"steward_id": new["id"]}}

    kept = await api.ok("GET", f"/cases/{closed['id']}")
    assert kept["steward_id"] == old["id"]
    assert kept["version"] == closed["version"]
    assert [e["action"] for e in kept["timeline"]] == [e["action"] for e in closed["timeline"]]

    moved = await api.ok("GET", f"/cases?steward_id={new['id']}")
    assert {c["id"] for c in moved["items"]} == {running["id"], paused["id"]}


async def test_a_mobile_number_is_taken_as_people_type_it(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    steward = await api.steward()
    for typed in ("+86 138-0013-8000", "008613800138000", "１３８００１３８０００"):
        worker = await api.worker(steward["id"], mobile=typed)
        assert worker["mobile_masked"] == "138****8000", typed
        reveal = {"fields": ["mobile"], "reason": "核对号码格式"}
        revealed = await api.ok("POST", f"/workers/{worker['id']}/reveal", json=reveal)
        assert revealed["mobile"] == "13800138000"
    for wrong in ("023-6700-0000", "+1 650 253 0000"):
        problem = await api.problem("POST", "/workers", 422, json={**_worker_body(steward["id"]), "mobile": wrong})
        assert problem["errors"][0]["field"] == "mobile"
