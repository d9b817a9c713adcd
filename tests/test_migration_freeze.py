"""Migration 0002 seals workers' personal data with its own frozen copy of the crypto,
not the service's code: it must import nothing from the service, and what it writes
the service must still read (and the other way round, for the downgrade)."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from service.security.keys import ENV_NAMES, generate_env, keys_from
from service.security.pii import PiiCipher

MIGRATION = Path(__file__).resolve().parent.parent / "migrations" / "versions" / "20261123_0002_accounts_and_audit.py"
VALUES = [("50010319900101123X", "national_id"), ("13812345678", "mobile"), ("", "mobile"), ("张三 重庆", "name")]


@pytest.fixture(scope="module")
def migration() -> ModuleType:
    spec = importlib.util.spec_from_file_location("banshi_migration_0002", MIGRATION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A fresh set of keys, the way `banshi keys generate` makes them, in the environment."""
    values = generate_env()
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def service_cipher(env: dict[str, str]) -> PiiCipher:
    keys = keys_from(env)
    assert keys is not None
    return PiiCipher(keys)


def test_the_migration_imports_nothing_from_the_service() -> None:
    source = MIGRATION.read_text(encoding="utf-8")
    for text in ("import service", "from service", "import schemas", "from schemas"):
        assert text not in source, text
    imported: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").partition(".")[0])
    assert imported <= {
        "alembic",
        "base64",
        "binascii",
        "collections",
        "cryptography",
        "hashlib",
        "hmac",
        "os",
        "sqlalchemy",
        "sqlmodel",
        "typing",
    }, imported


def test_the_service_opens_what_the_migration_sealed(migration: ModuleType, env: dict[str, str]) -> None:
    keys = migration._required_pii_keys()
    cipher = service_cipher(env)
    for value, column in VALUES:
        context = f"worker:42:{column}"
        sealed = migration._seal(keys, value, context)
        assert isinstance(sealed, bytes)
        assert sealed[2 : 2 + sealed[1]].decode() == cipher.current_key_id == "k1"
        assert cipher.open(sealed, context) == value
        # The context is bound as associated data: another row does not open it.
        with pytest.raises(ValueError, match="authenticate"):
            cipher.open(sealed, f"worker:43:{column}")


def test_the_migration_opens_what_the_service_sealed(migration: ModuleType, env: dict[str, str]) -> None:
    keys = migration._required_pii_keys()
    cipher = service_cipher(env)
    for value, column in VALUES:
        context = f"worker:42:{column}"
        assert migration._open(keys, cipher.seal(value, context), context) == value
        with pytest.raises(ValueError, match="authenticate"):
            migration._open(keys, cipher.seal(value, context), f"worker:43:{column}")


def test_an_older_key_still_opens_after_a_rotation(
    migration: ModuleType, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    old = service_cipher(env)
    rotated = {**env, "BANSHI_PII_KEYS": f"{generate_env('k2')['BANSHI_PII_KEYS']},{env['BANSHI_PII_KEYS']}"}
    monkeypatch.setenv("BANSHI_PII_KEYS", rotated["BANSHI_PII_KEYS"])
    keys = migration._required_pii_keys()
    new = service_cipher(rotated)

    # The first key seals, as in the service; every listed key opens.
    sealed_by_migration = migration._seal(keys, "13812345678", "worker:1:mobile")
    assert sealed_by_migration[2 : 2 + sealed_by_migration[1]] == new.current_key_id.encode() == b"k2"
    assert new.open(sealed_by_migration, "worker:1:mobile") == "13812345678"
    assert migration._open(keys, old.seal("13812345678", "worker:1:mobile"), "worker:1:mobile") == "13812345678"


def test_the_look_up_hash_is_the_services(migration: ModuleType, env: dict[str, str]) -> None:
    keys = migration._required_pii_keys()
    cipher = service_cipher(env)
    for value, purpose in VALUES:
        index = migration._index(keys, value, purpose)
        assert isinstance(index, bytes)
        assert index == cipher.index(value, purpose)
    # The purpose keeps fields apart, as in the service.
    assert migration._index(keys, "13812345678", "mobile") != migration._index(keys, "13812345678", "national_id")


def test_without_the_personal_data_keys_the_migration_refuses(
    migration: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(RuntimeError, match="set BANSHI_PII_KEYS and the other keys"):
        migration._required_pii_keys()

    # The token and audit keys alone do not help: the personal data keys are what it needs.
    others = generate_env()
    monkeypatch.setenv("BANSHI_TOKEN_KEY", others["BANSHI_TOKEN_KEY"])
    monkeypatch.setenv("BANSHI_AUDIT_KEY", others["BANSHI_AUDIT_KEY"])
    with pytest.raises(RuntimeError, match="set BANSHI_PII_KEYS and the other keys"):
        migration._required_pii_keys()

    # Half of them is an error naming the other half, as the service reports it.
    monkeypatch.setenv("BANSHI_PII_KEYS", others["BANSHI_PII_KEYS"])
    with pytest.raises(ValueError, match="missing BANSHI_PII_INDEX_KEY"):
        migration._required_pii_keys()
