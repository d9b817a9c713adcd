from __future__ import annotations

from litestar import Controller, get, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from schemas.auth import LoginIn, MeOut, PasswordChangeIn, TokenOut, TotpConfirmIn, TotpEnrolmentOut
from service.api.access import PUBLIC
from service.api.access import signed_in as any_account
from service.api.deps import ClientAddr, Ctx, Db, Kit, Now
from service.api.documented_errors import PROBLEMS
from service.domain.access import SessionScope
from service.services import auth

RESTRICTED = (SessionScope.PASSWORD_CHANGE, SessionScope.MFA_ENROLMENT)


class AuthController(Controller):
    path = "/auth"
    tags = ["auth"]

    @post(
        "/login",
        summary="Sign in for an access token",
        status_code=HTTP_200_OK,
        opt={PUBLIC: True, PROBLEMS: (401, 429)},
        description=(
            "Wrong user names, wrong passwords and locked accounts all answer the same 401. "
            "Five wrong passwords in a row lock the account for 15 minutes; attempts are also "
            "limited per client address (429 with Retry-After)."
        ),
    )
    async def login(self, db: Db, kit: Kit, now: Now, client_addr: ClientAddr, data: JSONBody[LoginIn]) -> TokenOut:
        return await auth.login(db, kit, data, client_addr, now)

    @post("/logout", summary="End this session at once", status_code=HTTP_204_NO_CONTENT, opt=any_account(*RESTRICTED))
    async def logout(self, db: Db, ctx: Ctx) -> None:
        await auth.logout(db, ctx)

    @get("/me", summary="Who is signed in, and with what reach", opt=any_account(*RESTRICTED))
    async def me(self, db: Db, ctx: Ctx) -> MeOut:
        return await auth.me(db, ctx)

    @post(
        "/password",
        summary="Change my password (ends my other sessions)",
        status_code=HTTP_204_NO_CONTENT,
        opt=any_account(*RESTRICTED),
    )
    async def change_password(self, db: Db, ctx: Ctx, data: JSONBody[PasswordChangeIn]) -> None:
        await auth.change_password(db, ctx, data)

    @post(
        "/totp",
        summary="Start enrolling a one-time-code app (staff accounts)",
        status_code=HTTP_200_OK,
        opt=any_account(SessionScope.MFA_ENROLMENT),
    )
    async def begin_totp(self, db: Db, ctx: Ctx) -> TotpEnrolmentOut:
        return await auth.begin_totp(db, ctx)

    @post(
        "/totp/confirm",
        summary="Confirm enrolment with a current code",
        status_code=HTTP_204_NO_CONTENT,
        opt=any_account(SessionScope.MFA_ENROLMENT),
    )
    async def confirm_totp(self, db: Db, ctx: Ctx, data: JSONBody[TotpConfirmIn]) -> None:
        await auth.confirm_totp(db, ctx, data)
