"""What every way of reaching a person outside the service has in common: a send either
succeeds, or fails with a reason that says whether trying again can help.

The channels themselves are ``mail.py`` (SMTP), ``sms.py`` (Alibaba Cloud and Tencent
Cloud SMS) and ``webhooks.py`` (Standard Webhooks). Each send carries the message's
stable id (the notice's id), so a receiver that is sent one message twice, after a
delivery process died between sending and recording it, can drop the second.
A failure's ``reason`` is written to the delivery log an administrator reads: it names
the provider's code or the HTTP status, never an address, a mobile number or the text.
"""

from __future__ import annotations


class DeliveryFailed(Exception):
    """A send that did not go through. ``retryable`` is False when the same send can never
    succeed (a template the provider refuses, an address that does not exist), so it is
    parked at once instead of being retried."""

    def __init__(self, reason: str, *, retryable: bool) -> None:
        super().__init__(reason)
        self.reason = reason[:500]
        self.retryable = retryable
