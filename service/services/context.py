"""What every use case is given about the request it serves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from service.domain.access import Principal
from service.security.kit import SecurityKit


@dataclass(frozen=True, slots=True)
class Context:
    caller: Principal
    now: datetime
    kit: SecurityKit
