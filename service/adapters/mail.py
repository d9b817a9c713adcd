"""E-mail over SMTP (aiosmtplib): one message per delivery, its ``Message-ID`` built from
the notice's stable id so that a receiver sent it twice sees the same message.

Replies classify as the SMTP standard says: a 4xx reply is a temporary failure (try
again), a 5xx reply a permanent one (the address or the message is refused).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from service.adapters.channels import DeliveryFailed


@dataclass(frozen=True, slots=True)
class SmtpServer:
    host: str
    port: int = 587
    sender: str = "banshi@localhost"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = True
    """STARTTLS on a submission port (587); False for a relay on loopback."""
    use_tls: bool = False
    """Implicit TLS (port 465)."""
    timeout: float = 15.0
    domain: str = "banshi.local"
    """The right-hand side of each ``Message-ID``."""


async def send_mail(server: SmtpServer, *, to: str, subject: str, body: str, message_id: str) -> str:
    """Send one message; returns the server's reply to the data (its queue id, for most)."""
    message = EmailMessage()
    message["From"] = server.sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = f"<{message_id}@{server.domain}>"
    message.set_content(body, charset="utf-8")
    try:
        _, reply = await aiosmtplib.send(
            message,
            hostname=server.host,
            port=server.port,
            username=server.username,
            password=server.password,
            start_tls=server.starttls if not server.use_tls else False,
            use_tls=server.use_tls,
            timeout=server.timeout,
        )
    except aiosmtplib.SMTPRecipientsRefused as error:
        codes = sorted({str(r.code) for r in error.recipients})
        raise DeliveryFailed(f"SMTP recipient refused ({', '.join(codes)})", retryable=False) from None
    except aiosmtplib.SMTPResponseException as error:
        raise DeliveryFailed(f"SMTP {error.code}", retryable=400 <= error.code < 500) from None
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
        raise DeliveryFailed(f"SMTP unreachable ({type(error).__name__})", retryable=True) from None
    return reply[:100]
