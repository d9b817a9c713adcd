"""The audit trail: what is recorded, who may read it, and that it cannot be quietly edited."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.factory import API, Api, case_in
from tests.postgres import asyncpg_dsn


async def sql(database_url: str, *statements: str) -> list[Any]:
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        return [await connection.fetch(s) for s in statements]
    finally:
        await connection.close()


async def test_case_writes_sign_ins_and_refusals_are_recorded(
    client: AsyncTestClient[Litestar], anonymous: AsyncTestClient[Litestar], database_url: str
) -> None:
    api = Api(client)
    as_steward, steward = await api.steward_account()
    worker = await as_steward.worker(steward["id"])
    case = await as_steward.case(worker_id=worker["id"])
    case = await as_steward.move(case, "accept")
    await as_steward.ok("POST", f"/cases/{case['id']}/notes", 201, json={"note": "已电话联系"})
    await as_steward.problem("POST", "/accounts", 403, json={"username": "x1x", "role": "official", "password": "p"})
    await anonymous.post(f"{API}/auth/login", json={"username": "ghost", "password": "Nope-Nope-2026"})
    (rows,) = await sql(
        database_url,
        "SELECT action, outcome, actor_role, actor_username, actor_account_id, client_addr, target_id, details "
        "FROM audit_event ORDER BY seq",
    )
    seen = [(r["action"], r["outcome"], r["actor_role"]) for r in rows]
    for expected in [
        ("auth.login", "success", "admin"),  # the account signing in is the one who acted
        ("auth.login", "success", "steward"),
        ("account.create", "success", "admin"),
        ("staff.create", "success", "admin"),
        ("worker.create", "success", "steward"),
        ("case.create", "success", "steward"),
        ("case.move", "success", "steward"),
        ("case.note", "success", "steward"),
        ("access.denied", "denied", "steward"),
        ("auth.login", "failure", ""),
    ]:
        assert expected in seen, expected
    move = next(r for r in rows if r["action"] == "case.move")
    assert move["target_id"] == case["id"]
    assert json.loads(move["details"]) == {"action": "accept", "from": "submitted", "to": "accepted"}
    assert move["client_addr"]
    failed = [r for r in rows if r["action"] == "auth.login" and r["outcome"] == "failure"][-1]
    assert failed["actor_username"] == "ghost"
    assert failed["actor_account_id"] is None
    signed_in = [r for r in rows if r["action"] == "auth.login" and r["outcome"] == "success"]
    assert all(r["actor_account_id"] is not None and str(r["actor_account_id"]) == r["target_id"] for r in signed_in)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET outcome = 'success' WHERE seq = 1",
        "DELETE FROM audit_event WHERE seq = 1",
        "TRUNCATE audit_event",
    ],
)
async def test_the_database_refuses_to_change_the_trail(
    client: AsyncTestClient[Litestar], database_url: str, statement: str
) -> None:
    with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError, match="append-only"):
        await sql(database_url, statement)
    (rows,) = await sql(database_url, "SELECT count(*) AS n FROM audit_event")
    assert rows[0]["n"] >= 2  # the bootstrap and the client's sign-in are still there


async def _auditor(api: Api) -> Api:
    return await api.account("auditor")


GUARD_OFF = "ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_update_or_delete"
GUARD_ON = "ALTER TABLE audit_event ENABLE TRIGGER audit_event_no_update_or_delete"


async def _busiest_chain(database_url: str) -> list[Any]:
    """The rows of the chain holding the most rows, in chain order (at least three)."""
    (rows,) = await sql(
        database_url,
        "SELECT seq, chain, chain_seq FROM audit_event WHERE chain = "
        "(SELECT chain FROM audit_event GROUP BY chain ORDER BY count(*) DESC, chain LIMIT 1) ORDER BY chain_seq",
    )
    assert len(rows) >= 3, rows
    return list(rows)


async def _written_in_many_chains(api: Api, database_url: str) -> None:
    """Audited writes until several chains hold rows and one of them at least three
    (a writer takes a free chain at random)."""
    for _ in range(20):
        await case_in(api, "in_progress")
        (found,) = await sql(
            database_url,
            "SELECT count(DISTINCT chain) AS chains, max(chain_seq) AS longest FROM audit_event WHERE chain <> 0",
        )
        if found[0]["chains"] >= 2 and found[0]["longest"] >= 3:
            return
    raise AssertionError("no chain reached three rows")


async def test_verification_passes_then_finds_a_hand_edited_row(
    client: AsyncTestClient[Litestar], database_url: str
) -> None:
    api = Api(client)
    auditor = await _auditor(api)
    await _written_in_many_chains(api, database_url)
    report = await auditor.ok("POST", "/audit/verify")
    assert report["intact"] is True and report["first_broken_seq"] is None and report["breaks"] == []
    # Every row there was when it ran: the verification's own row is written after it.
    (total,) = await sql(database_url, "SELECT count(*) AS n FROM audit_event WHERE action <> 'audit.verify'")
    assert report["rows_checked"] == total[0]["n"]
    assert report["chains_checked"] == 33  # the chain of the rows before migration 0012, and 32 new ones
    # Someone with the database's owner rights switches the guard off and edits a row.
    rows = await _busiest_chain(database_url)
    edited = rows[1]
    await sql(
        database_url,
        GUARD_OFF,
        f"UPDATE audit_event SET actor_username = 'someone-else' WHERE seq = {edited['seq']}",
        GUARD_ON,
    )
    report = await auditor.ok("POST", "/audit/verify")
    assert report["intact"] is False
    assert report["first_broken_seq"] == edited["seq"]
    assert "content" in report["problem"]
    assert [(b["chain"], b["chain_seq"], b["seq"]) for b in report["breaks"]] == [
        (edited["chain"], edited["chain_seq"], edited["seq"])
    ]
    # The administrator may verify too, but not read the trail.
    assert (await api.ok("POST", "/audit/verify"))["first_broken_seq"] == edited["seq"]
    await api.problem("GET", "/audit/events", 403)


async def test_a_removed_row_breaks_its_chain(client: AsyncTestClient[Litestar], database_url: str) -> None:
    api = Api(client)
    auditor = await _auditor(api)
    await _written_in_many_chains(api, database_url)
    rows = await _busiest_chain(database_url)
    removed, after = rows[1], rows[2]
    await sql(database_url, GUARD_OFF, f"DELETE FROM audit_event WHERE seq = {removed['seq']}", GUARD_ON)
    report = await auditor.ok("POST", "/audit/verify")
    assert (report["intact"], report["first_broken_seq"]) == (False, after["seq"])
    assert [(b["chain"], b["chain_seq"]) for b in report["breaks"]] == [(removed["chain"], removed["chain_seq"])]
    assert "missing" in report["problem"]


async def test_rows_cut_off_a_chains_end_are_missed(client: AsyncTestClient[Litestar], database_url: str) -> None:
    """The last rows of a chain have no row after them to point back at them: the
    chain's recorded end shows they are gone."""
    api = Api(client)
    auditor = await _auditor(api)
    await _written_in_many_chains(api, database_url)
    rows = await _busiest_chain(database_url)
    last = rows[-1]
    await sql(database_url, GUARD_OFF, f"DELETE FROM audit_event WHERE seq = {last['seq']}", GUARD_ON)
    report = await auditor.ok("POST", "/audit/verify")
    assert report["intact"] is False
    (broken,) = [b for b in report["breaks"] if b["chain"] == last["chain"]]
    assert (broken["chain_seq"], broken["seq"]) == (last["chain_seq"], None)
    assert "missing" in broken["problem"]


@pytest.mark.parametrize("swap", ["content", "positions", "chains"])
async def test_reordered_rows_break_the_chain(client: AsyncTestClient[Litestar], database_url: str, swap: str) -> None:
    """Two rows change places: their contents swapped, their positions in the chain
    swapped, or a row moved to another chain."""
    api = Api(client)
    auditor = await _auditor(api)
    await _written_in_many_chains(api, database_url)
    rows = await _busiest_chain(database_url)
    first, second = rows[0], rows[1]
    a, b = first["seq"], second["seq"]
    match swap:
        case "content":  # the rows stay, what they say changes places
            statements = [
                "UPDATE audit_event AS e SET action = o.action, target_id = o.target_id, details = o.details "
                f"FROM audit_event AS o WHERE (e.seq, o.seq) IN (({a}, {b}), ({b}, {a}))"
            ]
        case "positions":  # the rows take each other's places in the chain and in the trail
            statements = [
                f"UPDATE audit_event SET chain_seq = -chain_seq, seq = -seq WHERE seq IN ({a}, {b})",
                "UPDATE audit_event AS e SET chain_seq = o.chain_seq, seq = o.seq FROM ("
                f"VALUES ({-a}, {second['chain_seq']}, {b}), ({-b}, {first['chain_seq']}, {a})"
                ") AS o(old, chain_seq, seq) WHERE e.seq = o.old",
            ]
        case _:  # the first row is put at the end of another chain
            statements = [
                "UPDATE audit_event AS e SET chain = c.id, chain_seq = c.last_seq + 1 FROM audit_chain AS c "
                f"WHERE e.seq = {a} AND c.id = (e.chain % 32) + 1"
            ]
    await sql(database_url, GUARD_OFF, *statements, GUARD_ON)
    report = await auditor.ok("POST", "/audit/verify")
    assert report["intact"] is False
    broken = [b["chain"] for b in report["breaks"]]
    assert first["chain"] in broken
    if swap == "chains":
        assert first["chain"] % 32 + 1 in broken


async def test_a_chains_recorded_end_only_moves_forward(client: AsyncTestClient[Litestar], database_url: str) -> None:
    """Back, nowhere, to another chain's id, away or emptied: refused. Forward by several
    rows is allowed (new cases logged together move their chain's end to the last of
    their rows, migration 0016), and an end beyond the chain's last row is a break."""
    api = Api(client)
    await api.case()
    for statement in (
        "UPDATE audit_chain SET last_seq = last_seq - 1 WHERE id = 1",
        "UPDATE audit_chain SET last_seq = last_seq WHERE id = 1",
        "UPDATE audit_chain SET id = 99, last_seq = last_seq + 1 WHERE id = 1",
        "DELETE FROM audit_chain WHERE id = 1",
        "TRUNCATE audit_chain",
    ):
        with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError, match="only moves forward"):
            await sql(database_url, statement)
    await sql(database_url, "UPDATE audit_chain SET last_seq = last_seq + 2 WHERE id = 1")
    report = await api.ok("POST", "/audit/verify")
    assert report["intact"] is False
    assert [b["chain"] for b in report["breaks"]] == [1]


async def test_reading_the_trail_is_paged_filtered_and_itself_recorded(client: AsyncTestClient[Litestar]) -> None:
    api = Api(client)
    auditor = await _auditor(api)
    case = await case_in(api, "in_progress")
    page = await auditor.ok("GET", f"/audit/events?target_type=case&target_id={case['id']}")
    assert [e["action"] for e in page["items"]] == ["case.move", "case.move", "case.create"]  # newest first
    assert page["total"] == 3
    first = await auditor.ok("GET", "/audit/events?limit=2")
    assert len(first["items"]) == 2 and first["total"] > 2
    assert first["items"][0]["seq"] > first["items"][1]["seq"]
    reads = await auditor.ok("GET", "/audit/events?action=audit.read")
    # The two reads above; this one is recorded in the same transaction, after its query.
    assert reads["total"] == 2
    assert reads["items"][0]["details"] == {"filters": {}, "limit": 2, "offset": 0}
    assert reads["items"][1]["details"]["filters"] == {"target_type": "case", "target_id": case["id"]}
    again = await auditor.ok("GET", "/audit/events?action=audit.read")
    assert again["total"] == 3
    assert again["items"][0]["details"]["filters"] == {"action": "audit.read"}
    for bad in ("2026-01-01T00:00:00", "0.5"):  # no offset; a bare number is not an instant
        problem = await auditor.problem("GET", f"/audit/events?at_from={bad}", 400)
        assert problem["errors"][0]["field"] == "query.at_from"
    # The auditor reads the trail and nothing else.
    await auditor.problem("GET", "/cases", 403)
    await auditor.problem("GET", "/districts", 403)
