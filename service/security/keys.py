"""The service's secret keys, read from the environment (or a generated file for the
embedded development server). Each key has one job, so each can be replaced alone."""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

MIN_KEY_BYTES = 32
ENV_NAMES = ("BANSHI_TOKEN_KEY", "BANSHI_AUDIT_KEY", "BANSHI_PII_KEYS", "BANSHI_PII_INDEX_KEY")


class KeyProblem(ValueError):
    """A key is missing or malformed."""


@dataclass(frozen=True, slots=True)
class Keys:
    token_key: bytes = field(repr=False)
    """Signs access tokens (HMAC-SHA256). Replacing it signs everyone out."""
    audit_key: bytes = field(repr=False)
    """Keys the audit trail's hash chain; without it a chain cannot be forged or checked."""
    pii_keys: Mapping[str, bytes] = field(repr=False)
    """AES-256-GCM keys for personal data by key id; ``pii_current`` encrypts new values."""
    pii_current: str
    pii_index_key: bytes = field(repr=False)
    """Keys the look-up hashes beside encrypted values. It cannot be rotated without
    rebuilding every look-up hash, so it is kept apart from the encryption keys."""


def _decode(name: str, raw: str) -> bytes:
    try:
        value = base64.urlsafe_b64decode(raw.strip() + "=" * (-len(raw.strip()) % 4))
    except (binascii.Error, ValueError) as exc:
        raise KeyProblem(f"{name} is not base64") from exc
    if len(value) < MIN_KEY_BYTES:
        raise KeyProblem(f"{name} must hold at least {MIN_KEY_BYTES} bytes")
    return value


def parse_pii_keys(raw: str) -> tuple[dict[str, bytes], str]:
    """``current-id:base64,older-id:base64``; the first key encrypts, all decrypt."""
    keys: dict[str, bytes] = {}
    current = ""
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        key_id, sep, encoded = part.partition(":")
        if not sep or not key_id or len(key_id) > 16 or not key_id.isalnum():
            raise KeyProblem("BANSHI_PII_KEYS entries are id:base64 with a short alphanumeric id")
        value = _decode(f"BANSHI_PII_KEYS[{key_id}]", encoded)
        if len(value) != 32:
            raise KeyProblem("BANSHI_PII_KEYS keys are 32 bytes (AES-256)")
        keys[key_id] = value
        current = current or key_id
    if not keys:
        raise KeyProblem("BANSHI_PII_KEYS is empty")
    return keys, current


def keys_from(env: Mapping[str, str]) -> Keys | None:
    """The keys named in ``env``; None when none is set, an error when only some are."""
    present = [n for n in ENV_NAMES if env.get(n)]
    if not present:
        return None
    missing = [n for n in ENV_NAMES if not env.get(n)]
    if missing:
        raise KeyProblem(f"missing {', '.join(missing)} (run `banshi keys generate`)")
    pii_keys, current = parse_pii_keys(env["BANSHI_PII_KEYS"])
    return Keys(
        token_key=_decode("BANSHI_TOKEN_KEY", env["BANSHI_TOKEN_KEY"]),
        audit_key=_decode("BANSHI_AUDIT_KEY", env["BANSHI_AUDIT_KEY"]),
        pii_keys=pii_keys,
        pii_current=current,
        pii_index_key=_decode("BANSHI_PII_INDEX_KEY", env["BANSHI_PII_INDEX_KEY"]),
    )


def _new() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def generate_env(pii_key_id: str = "k1") -> dict[str, str]:
    """A fresh set of keys as environment variables."""
    return {
        "BANSHI_TOKEN_KEY": _new(),
        "BANSHI_AUDIT_KEY": _new(),
        "BANSHI_PII_KEYS": f"{pii_key_id}:{_new()}",
        "BANSHI_PII_INDEX_KEY": _new(),
    }


def read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        name, sep, value = line.partition("=")
        if sep and not name.startswith("#"):
            values[name.strip()] = value.strip()
    return values


def development_keys(data_dir: Path) -> dict[str, str]:
    """Keys for the embedded development server, made once and kept in the data folder
    (readable by the owner only) so that restarts can still read what they encrypted."""
    path = data_dir / "keys.env"
    if path.exists():
        return read_env_file(path)
    data_dir.mkdir(parents=True, exist_ok=True)
    values = generate_env()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write("# Development keys for the embedded server. Never use them in production.\n")
        handle.writelines(f"{name}={value}\n" for name, value in values.items())
    return values
