"""The query code (查询码) that lets a worker look a case up without an account.

Eight symbols from an alphabet without look-alikes (no 0/O, 1/I/L), printed as two
groups of four so it can be read out over the phone: ``K7MX-4QPA``. About 38 bits;
guessing is stopped by the per-case lockout, not by the length alone. Only a keyed
hash is stored, bound to the case, so a copied hash opens no other case and a leaked
table cannot be searched offline without the key.
"""

from __future__ import annotations

import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 8


def new_query_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


def normalise_query_code(value: str) -> str:
    """What the worker typed, as stored: upper case, separators and spaces dropped."""
    return "".join(ch for ch in value.upper() if ch not in " -_\t")


def format_query_code(value: str) -> str:
    """As printed: two groups of four."""
    code = normalise_query_code(value)
    return f"{code[:4]}-{code[4:]}" if len(code) == LENGTH else code


def hash_purpose(case_id: object) -> str:
    """The purpose string of the keyed hash: the code is valid for this case only."""
    return f"query_code:{case_id}"
