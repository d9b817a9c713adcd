"""The channels a deployment is configured with, built from its environment:

- ``BANSHI_SMTP_HOST`` (and ``_PORT`` 587, ``_FROM``, ``_USER``, ``_PASSWORD``,
  ``_SECURITY``: ``starttls`` (default), ``tls`` or ``none``) for e-mail;
- ``BANSHI_SMS_PROVIDER`` (``alibaba`` or ``tencent``) with ``BANSHI_SMS_KEY_ID``,
  ``BANSHI_SMS_KEY_SECRET``, ``BANSHI_SMS_SIGN_NAME``, for Tencent ``BANSHI_SMS_APP_ID``
  (and ``BANSHI_SMS_REGION``), and ``BANSHI_SMS_ENDPOINT`` to point elsewhere (a test's fake);
- webhooks need nothing: each subscription names its own address and secret.

A channel with no configuration fails each send with a reason saying so, and the
delivery is parked where the administrator sees it: offering a channel (the
administrator's switch) without configuring it is a mistake to show, not to hide.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from service.adapters.channels import DeliveryFailed
from service.adapters.mail import SmtpServer, send_mail
from service.adapters.sms import ALIBABA_ENDPOINT, TENCENT_ENDPOINT, AlibabaSms, SmsMessage, SmsProvider, TencentSms


@dataclass
class Outbound:
    smtp: SmtpServer | None
    sms: SmsProvider | None
    http: httpx.AsyncClient
    """One client for webhooks (and the SMS provider), its connections kept alive."""

    async def mail(self, *, to: str, subject: str, body: str, message_id: str) -> str:
        if self.smtp is None:
            raise DeliveryFailed("no SMTP server is configured (BANSHI_SMTP_HOST)", retryable=False)
        return await send_mail(self.smtp, to=to, subject=subject, body=body, message_id=message_id)

    async def text(self, message: SmsMessage) -> str:
        if self.sms is None:
            raise DeliveryFailed("no SMS provider is configured (BANSHI_SMS_PROVIDER)", retryable=False)
        return await self.sms.send(message)

    async def close(self) -> None:
        await self.http.aclose()


def outbound_from_environment(env: Mapping[str, str]) -> Outbound:
    """Raises ValueError naming the setting that is wrong."""
    http = httpx.AsyncClient(follow_redirects=False, timeout=10.0)
    return Outbound(smtp=_smtp(env), sms=_sms(env, http), http=http)


def _smtp(env: Mapping[str, str]) -> SmtpServer | None:
    host = env.get("BANSHI_SMTP_HOST", "").strip()
    if not host:
        return None
    security = env.get("BANSHI_SMTP_SECURITY", "starttls").strip().lower()
    if security not in ("starttls", "tls", "none"):
        raise ValueError("BANSHI_SMTP_SECURITY must be starttls, tls or none")
    try:
        port = int(env.get("BANSHI_SMTP_PORT") or (465 if security == "tls" else 587))
    except ValueError:
        raise ValueError("BANSHI_SMTP_PORT must be a port number") from None
    return SmtpServer(
        host=host,
        port=port,
        sender=env.get("BANSHI_SMTP_FROM", "").strip() or "banshi@localhost",
        username=env.get("BANSHI_SMTP_USER") or None,
        password=env.get("BANSHI_SMTP_PASSWORD") or None,
        starttls=security == "starttls",
        use_tls=security == "tls",
    )


def _sms(env: Mapping[str, str], http: httpx.AsyncClient) -> SmsProvider | None:
    provider = env.get("BANSHI_SMS_PROVIDER", "").strip().lower()
    if not provider:
        return None
    sign_name = env.get("BANSHI_SMS_SIGN_NAME", "")
    endpoint = env.get("BANSHI_SMS_ENDPOINT", "").strip()
    if provider == "alibaba":
        return AlibabaSms(
            access_key_id=env.get("BANSHI_SMS_KEY_ID", ""),
            access_key_secret=env.get("BANSHI_SMS_KEY_SECRET", ""),
            sign_name=sign_name,
            endpoint=endpoint or ALIBABA_ENDPOINT,
            client=http,
        )
    if provider == "tencent":
        return TencentSms(
            secret_id=env.get("BANSHI_SMS_KEY_ID", ""),
            secret_key=env.get("BANSHI_SMS_KEY_SECRET", ""),
            sdk_app_id=env.get("BANSHI_SMS_APP_ID", ""),
            sign_name=sign_name,
            region=env.get("BANSHI_SMS_REGION", "") or "ap-guangzhou",
            endpoint=endpoint or TENCENT_ENDPOINT,
            client=http,
        )
    raise ValueError("BANSHI_SMS_PROVIDER must be alibaba or tencent")
