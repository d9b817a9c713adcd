"""How a notice leaves the service: the channels, a delivery's states, the backoff between
attempts, and the quiet hours of text messages. Pure: no I/O.

Every notice is in the in-app inbox. Beyond it, a notice goes out by e-mail or text
message to the person it is for (when the deployment offers the channel and the person
has not turned it off), and to each webhook subscribed to its kind. One delivery is one
(notice, channel) or (event, subscription): the unit that is sent, retried, parked and
retried again by an administrator.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


QUEUE = "deliveries"
TASK = "deliver"
"""The job queue and task that send one delivery (``adapters/queue.py``)."""


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    WEBHOOK = "webhook"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    """Waiting to be sent, or between attempts (``not_before`` says when)."""
    SENT = "sent"
    """The receiver took it. Never sent again, except by an administrator's replay."""
    PARKED = "parked"
    """Failed for good (a refusal that cannot change, or too many attempts): shown to an
    administrator, who can send it again."""


MAX_ATTEMPTS = 8
"""Attempts before a delivery that keeps failing is parked."""
BACKOFF_BASE_SECONDS = 15
"""The wait after the first failed attempt; it doubles after each (15 s, 30 s, 1 min, …),
so eight attempts span about an hour."""
BACKOFF_CAP_SECONDS = 30 * 60


def backoff_seconds(attempts: int) -> int:
    """The wait before the next attempt, after ``attempts`` failed ones (1 or more)."""
    return int(min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_CAP_SECONDS))


QUIET_FROM = time(22, 0)
QUIET_UNTIL = time(8, 0)
"""No text message is sent between 22:00 and 08:00 China Standard Time: one that falls
due then is held until 08:00 (the rule of the provinces' government SMS platforms).
E-mail, the inbox and webhooks are not held."""


def sms_not_before(now: datetime) -> datetime:
    """The earliest instant a text message written at ``now`` may be sent."""
    local = now.astimezone(CHINA)
    if QUIET_UNTIL <= local.time() < QUIET_FROM:
        return now
    day = local.date() if local.time() < QUIET_UNTIL else local.date() + timedelta(days=1)
    return datetime.combine(day, QUIET_UNTIL, tzinfo=CHINA)


def default_choice(*, is_worker: bool) -> tuple[bool, bool]:
    """(e-mail, text message) for a person who never chose: a worker is sent text messages
    (their record has a mobile number, and a receipt by text is what the programme's
    counters hand out); staff and officials are sent e-mail where they have an address."""
    return (False, True) if is_worker else (True, False)


def channels_for(
    choice: tuple[bool, bool],
    *,
    has_email: bool,
    has_mobile: bool,
    email_offered: bool,
    sms_offered: bool,
    sms_template: bool,
) -> list[Channel]:
    """The channels one notice goes out on beyond the inbox: what the person chose, within
    what the administrator offers, where the person can be reached, and for a text message
    only where the notice's kind has a registered template."""
    wants_email, wants_sms = choice
    chosen: list[Channel] = []
    if wants_email and email_offered and has_email:
        chosen.append(Channel.EMAIL)
    if wants_sms and sms_offered and has_mobile and sms_template:
        chosen.append(Channel.SMS)
    return chosen
