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


def mask_name(value: str) -> str:
    """``张三明`` -> ``张*明``, ``张三`` -> ``张*``, ``欧阳小明`` -> ``欧**明``: first and last
    character only, so a worker recognises their case and a stranger learns nothing."""
    name = value.strip()
    if len(name) <= 1:
        return "*" if name else ""
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_email(value: str) -> str:
    """``wang.li@example.com`` -> ``w***@example.com``: the first character and the domain,
    so a person recognises their own address; the mask's length says nothing of the rest."""
    local, at, domain = value.rpartition("@")
    if not at:
        return "***"
    return (local[0] if len(local) > 1 else "") + "***@" + domain
