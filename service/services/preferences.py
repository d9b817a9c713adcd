"""Each person's choice of the channels their notices go out on beyond the inbox, within
what the administrator offers.

A person who never chose gets the defaults of ``domain/deliveries.default_choice``; the
first choice writes their row. A text message goes to the mobile number on a worker's
record, so only a worker may choose it. An e-mail address of one's own is kept sealed
and shown back masked: it is the person's, and the page that shows it need not hold it.
"""

from __future__ import annotations

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from schemas.deliveries import Offered, PreferencesIn, PreferencesOut
from service.domain.access import Principal
from service.domain.deliveries import default_choice
from service.domain.masking import mask_email
from service.domain.notices import recipient_of
from service.errors import Conflict, Invalid
from service.models.deliveries import NoticePreference, NoticeSetting
from service.repositories import delivery_admin as repo
from service.security.kit import SecurityKit
from service.services import audit
from service.services.context import Context
from service.services.deliveries import email_context


def _is_worker(caller: Principal) -> bool:
    """The same test deciding deliveries applies: notices to a worker record."""
    return recipient_of(caller).worker_id is not None


def _out(kit: SecurityKit, caller: Principal, row: NoticePreference | None, setting: NoticeSetting) -> PreferencesOut:
    offered = Offered(email=setting.email_offered, sms=setting.sms_offered)
    if row is None:
        email, sms = default_choice(is_worker=_is_worker(caller))
        return PreferencesOut(email=email, sms=sms, email_address=None, chosen=False, offered=offered, updated_at=None)
    address = None
    if row.email_address_sealed is not None:
        address = mask_email(kit.pii.open(row.email_address_sealed, email_context(row.account_id)))
    return PreferencesOut(
        email=row.email, sms=row.sms, email_address=address, chosen=True, offered=offered, updated_at=row.updated_at
    )


async def read_mine(session: AsyncSession, ctx: Context) -> PreferencesOut:
    async with session.begin():
        setting = await repo.setting(session)
        row = await repo.preference(session, ctx.caller.account_id)
        return _out(ctx.kit, ctx.caller, row, setting)


async def choose(session: AsyncSession, ctx: Context, data: PreferencesIn) -> PreferencesOut:
    caller = ctx.caller
    address = data.email_address
    if isinstance(address, str) and "*" in address:
        # The masked form a read gave back, sent again as it came: it must not replace the address.
        raise Invalid("email_address", "this is the masked address; leave the field out to keep the one on record")
    async with session.begin():
        setting = await repo.setting(session)
        if data.email and not setting.email_offered:
            raise Conflict(
                "e-mail is not offered; only the inbox and the channels offered can be chosen", field="email"
            )
        if data.sms and not setting.sms_offered:
            raise Conflict("text messages are not offered; only the channels offered can be chosen", field="sms")
        if data.sms and not _is_worker(caller):
            raise Conflict("text messages go to the mobile number on a worker's record; you have none", field="sms")
        row = await repo.preference(session, caller.account_id, for_update=True)
        before = None if row is None else {"email": row.email, "sms": row.sms}
        if row is None:
            row = NoticePreference(account_id=caller.account_id)
            session.add(row)
        kept = "unchanged"
        if address is not msgspec.UNSET:
            row.email_address_sealed = (
                None if address is None else ctx.kit.pii.seal(address, email_context(caller.account_id))
            )
            kept = "removed" if address is None else "set"
        if data.email and row.email_address_sealed is None and not await _staff_email(session, caller):
            raise Invalid("email_address", "no e-mail address is on record for you; give one to choose e-mail")
        row.email, row.sms, row.updated_at = data.email, data.sms, ctx.now
        await audit.record(
            ctx,
            session,
            "notice_preference.update",
            target_type="account",
            target_id=caller.account_id,
            # Never the address itself: only whether it changed.
            details={"from": before, "to": {"email": data.email, "sms": data.sms}, "email_address": kept},
        )
        await session.flush()
        return _out(ctx.kit, caller, row, setting)


async def _staff_email(session: AsyncSession, caller: Principal) -> bool:
    """A steward's or liaison's record may carry a work address notices go to."""
    return caller.staff_id is not None and await repo.staff_has_email(session, caller.staff_id)
