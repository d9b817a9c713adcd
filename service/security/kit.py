"""Everything the security use cases need, built once at start-up from the keys and the
policy (``config.security_kit`` reads both from the settings; nothing here reads the settings)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from service.security.keys import Keys
from service.security.passwords import Passwords
from service.security.pii import PiiCipher


@dataclass(frozen=True, slots=True)
class SecurityKit:
    keys: Keys
    pii: PiiCipher
    passwords: Passwords
    session_idle: timedelta
    session_max: timedelta
    lockout_threshold: int
    lockout_duration: timedelta
    login_limit_per_address: int


@dataclass(frozen=True, slots=True)
class SecurityPolicy:
    """The numbers of the security rules, as the operator configured them."""

    argon2_time_cost: int
    argon2_memory_kib: int
    session_idle_minutes: int
    session_max_hours: int
    lockout_threshold: int
    lockout_minutes: int
    login_limit_per_address: int


def build_kit(keys: Keys | None, policy: SecurityPolicy) -> SecurityKit:
    if keys is None:
        raise RuntimeError(
            "no keys configured: set BANSHI_TOKEN_KEY, BANSHI_AUDIT_KEY, BANSHI_PII_KEYS and "
            "BANSHI_PII_INDEX_KEY (`banshi keys generate` prints a fresh set)"
        )
    return SecurityKit(
        keys=keys,
        pii=PiiCipher(keys),
        passwords=Passwords(policy.argon2_time_cost, policy.argon2_memory_kib),
        session_idle=timedelta(minutes=policy.session_idle_minutes),
        session_max=timedelta(hours=policy.session_max_hours),
        lockout_threshold=policy.lockout_threshold,
        lockout_duration=timedelta(minutes=policy.lockout_minutes),
        login_limit_per_address=policy.login_limit_per_address,
    )
