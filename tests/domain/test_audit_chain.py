"""The audit trail's chains, checked without a database."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime

from service.domain.audit_chain import GENESIS, ChainCheck, Entry, Head, canonical, link_hash

KEY = b"k" * 32
AT = datetime(2026, 12, 5, 3, 30, tzinfo=UTC)


def entry(seq: int, chain: int, chain_seq: int, action: str = "case.move") -> Entry:
    return Entry(
        seq=seq,
        chain=chain,
        chain_seq=chain_seq,
        at=AT,
        actor_account_id=uuid.UUID(int=7),
        actor_username="steward.li",
        actor_role="steward",
        client_addr="127.0.0.1",
        action=action,
        target_type="case",
        target_id="c1",
        outcome="success",
        details={"to": "accepted"},
    )


Row = tuple[Entry, bytes, bytes]


def written(entries: list[Entry]) -> tuple[list[Row], list[Head]]:
    """The rows as the service writes them, chain by chain, and each chain's end."""
    rows: list[Row] = []
    ends: dict[int, tuple[int, bytes]] = {}
    for e in sorted(entries, key=lambda e: (e.chain, e.chain_seq)):
        prev = ends.get(e.chain, (0, GENESIS))[1]
        hash_ = link_hash(KEY, prev, e)
        rows.append((e, prev, hash_))
        ends[e.chain] = (e.chain_seq, hash_)
    return rows, [Head(chain, seq, hash_) for chain, (seq, hash_) in ends.items()]


def check(rows: list[Row]) -> ChainCheck:
    checked = ChainCheck(KEY)
    for e, prev, hash_ in rows:
        checked.row(e, prev, hash_)
    return checked


TRAIL = [entry(1, 0, 1), entry(2, 0, 2), entry(3, 1, 1), entry(5, 2, 1), entry(4, 1, 2), entry(6, 1, 3)]


def test_a_row_of_the_single_chain_before_0012_hashes_as_it_did() -> None:
    """Chain 0's rows were hashed before rows had a chain: their content is unchanged."""
    assert canonical(entry(2, 0, 2)) == (
        b'{"action":"case.move","actor_account_id":"00000000-0000-0000-0000-000000000007",'
        b'"actor_role":"steward","actor_username":"steward.li","at":"2026-12-05T03:30:00.000000+00:00",'
        b'"client_addr":"127.0.0.1","details":{"to":"accepted"},"outcome":"success","seq":2,'
        b'"target_id":"c1","target_type":"case"}'
    )
    assert b'"chain":3,"chain_seq":2' in canonical(entry(9, 3, 2))


def test_an_untouched_trail_is_intact() -> None:
    rows, heads = written(TRAIL)
    checked = check(rows)
    assert checked.breaks(heads) == [] and checked.rows_checked == len(TRAIL)


def test_an_edited_row_breaks_only_its_chain() -> None:
    rows, heads = written(TRAIL)
    e, prev, hash_ = rows[3]  # chain 1, position 2
    rows[3] = (dataclasses.replace(e, action="case.note"), prev, hash_)
    (broken,) = check(rows).breaks(heads)
    assert (broken.chain, broken.chain_seq, broken.seq) == (1, 2, 4)
    assert "content" in broken.problem


def test_a_removed_row_and_a_cut_off_end_are_found() -> None:
    rows, heads = written(TRAIL)
    del rows[4]  # chain 1, position 3: its last row
    del rows[2]  # chain 1, position 1
    (broken,) = check(rows).breaks(heads)
    assert (broken.chain, broken.chain_seq, broken.seq) == (1, 1, 4)
    rows, heads = written(TRAIL)
    del rows[4]
    (broken,) = check(rows).breaks(heads)
    assert (broken.chain, broken.chain_seq, broken.seq) == (1, 3, None)
    assert "missing" in broken.problem


def test_rows_moved_between_positions_or_chains_are_found() -> None:
    rows, heads = written(TRAIL)
    (e2, p2, h2), (e3, p3, h3) = rows[3], rows[4]
    second, third = dataclasses.replace(e3, chain_seq=2), dataclasses.replace(e2, chain_seq=3)
    swapped = [*rows[:3], (second, p3, h3), (third, p2, h2)]
    assert [b.chain for b in check([*swapped, *rows[5:]]).breaks(heads)] == [1]
    e, prev, hash_ = rows[5]  # chain 2's only row, relabelled as chain 3's
    moved = [*rows[:5], (dataclasses.replace(e, chain=3), prev, hash_)]
    assert {b.chain for b in check(moved).breaks(heads)} == {2, 3}
