"""Everything the security use cases need, built once from the settings at start-up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from service.config import Settings
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


def build_kit(settings: Settings) -> SecurityKit:
    if settings.keys is None:
        raise RuntimeError(
            "no keys configured: set BANSHI_TOKEN_KEY, BANSHI_AUDIT_KEY, BANSHI_PII_KEYS and "
            "BANSHI_PII_INDEX_KEY (`banshi keys generate` prints a fresh set)"
        )
    return SecurityKit(
        keys=settings.keys,
        pii=PiiCipher(settings.keys),
        passwords=Passwords(settings.argon2_time_cost, settings.argon2_memory_kib),
        session_idle=timedelta(minutes=settings.session_idle_minutes),
        session_max=timedelta(hours=settings.session_max_hours),
        lockout_threshold=settings.lockout_threshold,
        lockout_duration=timedelta(minutes=settings.lockout_minutes),
        login_limit_per_address=settings.login_limit_per_address,
    )
