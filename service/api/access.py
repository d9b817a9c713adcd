"""Sign-in on every API request, and the permission check on every handler.

Deny by default: the bearer middleware lets through only handlers marked public, and
refuses any other handler that does not name the permission it needs. The check runs
in the middleware rather than as a Litestar guard, which would copy the route handler
on every request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import Scope

from service.domain.access import Permission, Principal, SessionScope
from service.errors import Forbidden, Unauthenticated
from service.security.kit import SecurityKit
from service.services import audit
from service.services.auth import authenticate

PUBLIC = "public"
PERMISSION = "permission"
SCOPES = "session_scopes"
BEARER = "bearer"


def needs(permission: Permission) -> dict[str, Any]:
    """``opt`` for a handler that needs ``permission`` and a fully signed-in session."""
    return {PERMISSION: permission}


def signed_in(*scopes: SessionScope) -> dict[str, Any]:
    """``opt`` for a handler any signed-in account may use, also with a restricted session."""
    return {SCOPES: frozenset({SessionScope.FULL, *scopes})}


def client_address(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    return connection.client.host if connection.client else "unknown"


def _authorization(scope: Scope) -> str:
    """The Authorization header, read from the raw list (building Litestar's Headers
    for one value costs more on every request)."""
    for name, value in scope["headers"]:
        if name.lower() == b"authorization":
            return str(value.decode("latin-1"))
    return ""


class BearerAuth(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        header = _authorization(connection.scope)
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("send `Authorization: Bearer <access token>`; get one from POST /api/v1/auth/login")
        state = connection.app.state
        principal = await authenticate(
            state.session_factory, state.kit, state.signed_in, token.strip(), client_address(connection), state.clock()
        )
        # Who the caller is must be known to the audit of a refusal.
        connection.scope["user"] = principal
        check_permission(principal, connection.scope["route_handler"].opt)
        return AuthenticationResult(user=principal, auth=principal.session_id)


def check_permission(caller: Principal, opt: Mapping[str, Any]) -> None:
    """Whether ``caller`` may use the handler whose ``opt`` this is; raises if not."""
    scopes = opt.get(SCOPES, frozenset({SessionScope.FULL}))
    if caller.scope not in scopes:
        if caller.scope is SessionScope.PASSWORD_CHANGE:
            raise Forbidden("change your password first (POST /api/v1/auth/password)", reason="password_change")
        raise Forbidden("enrol a second factor first (POST /api/v1/auth/totp)", reason="mfa_enrolment")
    if SCOPES in opt:
        return
    permission = opt.get(PERMISSION)
    if permission is None or not caller.can(permission):
        raise Forbidden(f"the {caller.role.value} role may not do this", permission=str(permission))


async def audit_refusal(exc: Exception, scope: Scope) -> None:
    """Every 403 leaves a row in the audit trail, whichever layer refused."""
    if not isinstance(exc, Forbidden):
        return
    app = scope["app"]
    caller = scope.get("user")
    kit: SecurityKit = app.state.kit
    details = {"method": scope.get("method", ""), "path": scope.get("path", ""), "detail": exc.detail}
    details.update({k: str(v) for k, v in exc.extra.items()})
    async with app.state.session_factory() as session:
        await audit.record_alone(
            session,
            kit,
            caller if isinstance(caller, Principal) else None,
            "access.denied",
            app.state.clock(),
            outcome="denied",
            details=details,
        )
