"""The password rule (MLPS 2.0 level 3 asks for complexity and periodic change)."""

from __future__ import annotations

MIN_LENGTH = 12
MAX_LENGTH = 128
REQUIRED_CLASSES = 3


def character_classes(password: str) -> int:
    lower = any(c.islower() for c in password)
    upper = any(c.isupper() for c in password)
    digit = any(c.isdigit() for c in password)
    other = any(not c.isalnum() for c in password)
    return sum((lower, upper, digit, other))


def password_problem(password: str, username: str) -> str | None:
    """Why ``password`` may not be used by ``username``, or None."""
    if len(password) < MIN_LENGTH:
        return f"must be at least {MIN_LENGTH} characters long"
    if len(password) > MAX_LENGTH:
        return f"must be at most {MAX_LENGTH} characters long"
    if character_classes(password) < REQUIRED_CLASSES:
        return f"must mix at least {REQUIRED_CLASSES} of: lower case, upper case, digits, other characters"
    folded = password.casefold()
    name = username.casefold()
    if folded == name or (len(name) >= 4 and name in folded):
        return "must not contain the user name"
    return None
