"""Callers whose bearer token was checked against the database a moment ago.

Every API request names its session in the token, and checking that session (not
revoked, not idle, not expired, account active, role and department) costs a
database round trip that was half of a case read's CPU. A process keeps the answer
for ``BANSHI_SIGN_IN_CACHE_SECONDS`` (5 s; 0 turns the cache off), and never past
the moment the database would have to be written (``TOUCH_EVERY`` after the session
was last marked used) or the token's and the session's absolute end. Entries are
found by the whole token, which was verified when the entry was made, so a hit skips
the signature check too.

What this costs: a session revoked, an account deactivated or a role changed by
*another* process is still honoured by this one for at most those seconds. Any such
change committed in this process takes effect at once (``freshness.py``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta

from service.adapters.freshness import watch
from service.domain.access import Principal

PRINCIPAL_TABLES = watch("account", "auth_session", "staff")


@dataclass(frozen=True, slots=True)
class _Entry:
    principal: Principal
    checked_at: datetime
    fresh_until: datetime
    generation: int


class SignedInCache:
    def __init__(self, ttl: timedelta, max_entries: int = 20_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[str, _Entry] = {}

    @property
    def enabled(self) -> bool:
        return self.ttl > timedelta(0)

    @staticmethod
    def generation() -> int:
        """Take this before reading the session from the database; hand it to ``keep``."""
        return PRINCIPAL_TABLES.generation

    def get(self, token: str, now: datetime, client_addr: str) -> Principal | None:
        entry = self._entries.get(token)
        if entry is None:
            return None
        if entry.generation != PRINCIPAL_TABLES.generation or not entry.checked_at <= now < entry.fresh_until:
            del self._entries[token]
            return None
        if entry.principal.client_addr == client_addr:
            return entry.principal
        return dataclasses.replace(entry.principal, client_addr=client_addr)

    def keep(self, token: str, principal: Principal, generation: int, now: datetime, must_recheck_at: datetime) -> None:
        """Remember that the verified ``token`` is ``principal``'s, as read from the
        database at ``now`` when the generation was ``generation``, until
        ``must_recheck_at`` or the TTL, whichever is sooner."""
        if not self.enabled or generation != PRINCIPAL_TABLES.generation:
            return
        fresh_until = min(now + self.ttl, must_recheck_at)
        if fresh_until <= now:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.pop(next(iter(self._entries)))
        self._entries[token] = _Entry(principal, now, fresh_until, generation)
