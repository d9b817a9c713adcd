"""How personal data is shown: enough to recognise, not enough to use."""

from __future__ import annotations


def mask_national_id(value: str) -> str:
    """``500103199001011234`` -> ``500***********1234`` (region prefix and last four)."""
    if len(value) < 8:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_mobile(value: str) -> str:
    """``13812345678`` -> ``138****5678``."""
    if len(value) < 8:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]
