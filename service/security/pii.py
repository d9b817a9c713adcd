"""Personal data at rest: AES-256-GCM with the key id inside the stored value, and a
keyed look-up hash (HMAC-SHA256) beside it for uniqueness and exact search.

A sealed value is ``0x01 | len(key id) | key id | 12-byte nonce | ciphertext+tag``.
The associated data names the table, row and column, so a ciphertext copied into
another row or column does not decrypt.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from service.security.keys import Keys

_VERSION = 1
_NONCE = 12


class UnreadableValue(ValueError):
    """A sealed value that no configured key opens (wrong key, or tampered)."""


class PiiCipher:
    def __init__(self, keys: Keys) -> None:
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.pii_keys.items()}
        self._current = keys.pii_current
        self._index_key = keys.pii_index_key

    @property
    def current_key_id(self) -> str:
        return self._current

    def seal(self, plaintext: str, context: str) -> bytes:
        nonce = os.urandom(_NONCE)
        key_id = self._current.encode()
        body = self._ciphers[self._current].encrypt(nonce, plaintext.encode(), context.encode())
        return bytes([_VERSION, len(key_id)]) + key_id + nonce + body

    def open(self, sealed: bytes, context: str) -> str:
        key_id = key_id_of(sealed)
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise UnreadableValue(f"no key {key_id!r} is configured")
        start = 2 + len(key_id)
        try:
            plain = cipher.decrypt(sealed[start : start + _NONCE], sealed[start + _NONCE :], context.encode())
        except InvalidTag as exc:
            raise UnreadableValue("the value does not authenticate") from exc
        return plain.decode()

    def index(self, value: str, purpose: str) -> bytes:
        """The look-up hash of ``value``; ``purpose`` keeps hashes of different fields apart."""
        return hmac.new(self._index_key, f"{purpose}\x00{value}".encode(), hashlib.sha256).digest()


def key_id_of(sealed: bytes) -> str:
    if len(sealed) < 2 or sealed[0] != _VERSION:
        raise UnreadableValue("not a sealed value")
    return sealed[2 : 2 + sealed[1]].decode()
