"""Access tokens: JWTs signed with HMAC-SHA256 (PyJWT), naming a server-side session.

The signature stops forged and edited tokens before any database work; the session
row decides revocation and idle expiry. A process trusts a session it has checked
for a few seconds (``signed_in.py``), so a logout reaches the other processes within
those seconds. Only HS256 is accepted: ``alg=none`` and algorithm swaps fail to decode.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import jwt

ALGORITHM = "HS256"
ISSUER = "banshi"


class BadToken(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class TokenClaims:
    account_id: uuid.UUID
    session_id: uuid.UUID
    expires_at: datetime


def issue(key: bytes, account_id: uuid.UUID, session_id: uuid.UUID, issued_at: datetime, expires_at: datetime) -> str:
    claims = {
        "iss": ISSUER,
        "sub": str(account_id),
        "sid": str(session_id),
        "iat": int(issued_at.timestamp()),
        "exp": int(expires_at.timestamp()),
    }
    return jwt.encode(claims, key, algorithm=ALGORITHM)


def decode(key: bytes, token: str, now: datetime) -> TokenClaims:
    """The token's claims if its signature holds and it has not passed its absolute
    expiry by ``now`` (the service's clock, not the token library's)."""
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["iss", "sub", "sid", "iat", "exp"], "verify_exp": False, "verify_iat": False},
        )
        account_id = uuid.UUID(str(claims["sub"]))
        session_id = uuid.UUID(str(claims["sid"]))
        expires = int(claims["exp"])
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise BadToken("the token is not valid") from exc
    if expires <= now.timestamp():
        raise BadToken("the token has expired")
    return TokenClaims(account_id, session_id, datetime.fromtimestamp(expires, tz=now.tzinfo))
