"""accounts, sessions, sealed personal data and the audit trail

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 11:54:47

Workers' national ID and mobile numbers move from plain columns to sealed ones
(AES-256-GCM) with keyed look-up hashes. Existing rows are sealed here with the keys
from the environment (``BANSHI_PII_KEYS``, ``BANSHI_PII_INDEX_KEY``); with rows and
no keys the upgrade stops before changing anything. The downgrade opens them again.
The key parsing, sealing, opening and look-up hashing below are a frozen copy of the
service's format at the time (``service/security/keys.py`` and ``pii.py``), so that
later changes to the service cannot change what this revision does.
"""

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import sqlalchemy as sa
import sqlmodel
from alembic import op
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_AUDIT_GUARD = """
CREATE FUNCTION audit_event_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""


# Frozen copy of the personal-data crypto as the service had it when this revision was
# written. A sealed value is ``0x01 | len(key id) | key id | 12-byte nonce | AES-256-GCM
# ciphertext+tag`` with the context string as associated data; the look-up hash is
# HMAC-SHA256 of ``purpose \x00 value`` under the index key. Do not import the service here.
_PII_ENV_NAMES = ("BANSHI_PII_KEYS", "BANSHI_PII_INDEX_KEY")
_MIN_KEY_BYTES = 32
_SEALED_VERSION = 1
_NONCE_BYTES = 12


class _PiiKeys(NamedTuple):
    keys: dict[str, bytes]
    """AES-256-GCM keys by key id; ``current`` seals, all open."""
    current: str
    index_key: bytes


def _decode_key(name: str, raw: str) -> bytes:
    try:
        value = base64.urlsafe_b64decode(raw.strip() + "=" * (-len(raw.strip()) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"{name} is not base64") from exc
    if len(value) < _MIN_KEY_BYTES:
        raise ValueError(f"{name} must hold at least {_MIN_KEY_BYTES} bytes")
    return value


def _parse_pii_keys(raw: str) -> tuple[dict[str, bytes], str]:
    """``current-id:base64,older-id:base64``; the first key seals, all open."""
    keys: dict[str, bytes] = {}
    current = ""
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        key_id, sep, encoded = part.partition(":")
        if not sep or not key_id or len(key_id) > 16 or not key_id.isalnum():
            raise ValueError("BANSHI_PII_KEYS entries are id:base64 with a short alphanumeric id")
        value = _decode_key(f"BANSHI_PII_KEYS[{key_id}]", encoded)
        if len(value) != 32:
            raise ValueError("BANSHI_PII_KEYS keys are 32 bytes (AES-256)")
        keys[key_id] = value
        current = current or key_id
    if not keys:
        raise ValueError("BANSHI_PII_KEYS is empty")
    return keys, current


def _pii_keys_from(env: Mapping[str, str]) -> _PiiKeys | None:
    """The personal-data keys named in ``env``; None when neither is set, an error when
    only one is. The token and audit keys are not needed here and not read."""
    present = [n for n in _PII_ENV_NAMES if env.get(n)]
    if not present:
        return None
    missing = [n for n in _PII_ENV_NAMES if not env.get(n)]
    if missing:
        raise ValueError(f"missing {', '.join(missing)} (run `banshi keys generate`)")
    keys, current = _parse_pii_keys(env["BANSHI_PII_KEYS"])
    return _PiiKeys(keys, current, _decode_key("BANSHI_PII_INDEX_KEY", env["BANSHI_PII_INDEX_KEY"]))


def _required_pii_keys() -> _PiiKeys:
    keys = _pii_keys_from(os.environ)
    if keys is None:
        raise RuntimeError(
            "workers exist whose personal data must be encrypted: set BANSHI_PII_KEYS and the other "
            "keys (see `banshi keys generate`) and run the upgrade again"
        )
    return keys


def _seal(keys: _PiiKeys, plaintext: str, context: str) -> bytes:
    nonce = os.urandom(_NONCE_BYTES)
    key_id = keys.current.encode()
    body = AESGCM(keys.keys[keys.current]).encrypt(nonce, plaintext.encode(), context.encode())
    return bytes([_SEALED_VERSION, len(key_id)]) + key_id + nonce + body


def _open(keys: _PiiKeys, sealed: bytes, context: str) -> str:
    if len(sealed) < 2 or sealed[0] != _SEALED_VERSION:
        raise ValueError("not a sealed value")
    key_id = sealed[2 : 2 + sealed[1]].decode()
    key = keys.keys.get(key_id)
    if key is None:
        raise ValueError(f"no key {key_id!r} is configured")
    start = 2 + len(key_id)
    try:
        plain = AESGCM(key).decrypt(
            sealed[start : start + _NONCE_BYTES], sealed[start + _NONCE_BYTES :], context.encode()
        )
    except InvalidTag as exc:
        raise ValueError("the value does not authenticate") from exc
    return plain.decode()


def _index(keys: _PiiKeys, value: str, purpose: str) -> bytes:
    """The look-up hash of ``value``; ``purpose`` keeps hashes of different fields apart."""
    return hmac.new(keys.index_key, f"{purpose}\x00{value}".encode(), hashlib.sha256).digest()


def _seal_existing_workers() -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, national_id, mobile FROM worker")).all()
    if not rows:
        return
    keys = _required_pii_keys()
    for worker_id, national_id, mobile in rows:
        connection.execute(
            sa.text(
                "UPDATE worker SET national_id_sealed = :nid_s, national_id_index = :nid_i, "
                "mobile_sealed = :mob_s, mobile_index = :mob_i WHERE id = :id"
            ),
            {
                "id": worker_id,
                "nid_s": _seal(keys, national_id, f"worker:{worker_id}:national_id"),
                "nid_i": _index(keys, national_id, "national_id"),
                "mob_s": _seal(keys, mobile, f"worker:{worker_id}:mobile"),
                "mob_i": _index(keys, mobile, "mobile"),
            },
        )


def _open_existing_workers() -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, national_id_sealed, mobile_sealed FROM worker")).all()
    if not rows:
        return
    keys = _required_pii_keys()
    for worker_id, national_id, mobile in rows:
        connection.execute(
            sa.text("UPDATE worker SET national_id = :nid, mobile = :mob WHERE id = :id"),
            {
                "id": worker_id,
                "nid": _open(keys, national_id, f"worker:{worker_id}:national_id"),
                "mob": _open(keys, mobile, f"worker:{worker_id}:mobile"),
            },
        )


def upgrade() -> None:
    op.create_table(
        "audit_event",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_account_id", sa.Uuid(), nullable=True),
        sa.Column("actor_username", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("actor_role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("client_addr", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("target_type", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("target_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("prev_hash", sa.LargeBinary(), nullable=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sa.CheckConstraint("outcome IN ('success', 'failure', 'denied')", name=op.f("ck_audit_event_outcome")),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_event")),
    )
    op.create_index(op.f("ix_audit_event_action"), "audit_event", ["action"], unique=False)
    op.create_index(op.f("ix_audit_event_actor_account_id"), "audit_event", ["actor_account_id"], unique=False)
    op.create_index(op.f("ix_audit_event_at"), "audit_event", ["at"], unique=False)
    op.create_index("ix_audit_event_target", "audit_event", ["target_type", "target_id"], unique=False)
    # Append-only, enforced by the database whoever connects. In production the
    # service's role should also lack UPDATE/DELETE/TRUNCATE grants on the table.
    op.execute(_AUDIT_GUARD)
    op.execute(
        "CREATE TRIGGER audit_event_no_update_or_delete BEFORE UPDATE OR DELETE ON audit_event "
        "FOR EACH ROW EXECUTE FUNCTION audit_event_refuse_change()"
    )
    op.execute(
        "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_refuse_change()"
    )

    op.create_table(
        "login_throttle",
        sa.Column("client_addr", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("client_addr", "window_start", name=op.f("pk_login_throttle")),
    )
    op.create_index("ix_login_throttle_window_start", "login_throttle", ["window_start"], unique=False)
    op.create_table(
        "account",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("username", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("password_hash", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("staff_id", sa.Uuid(), nullable=True),
        sa.Column("worker_id", sa.Uuid(), nullable=True),
        sa.Column("district_code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("must_change_password", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("totp_secret", sa.LargeBinary(), nullable=True),
        sa.Column("totp_enabled", sa.Boolean(), nullable=False),
        sa.Column("totp_last_step", sa.BigInteger(), nullable=True),
        sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("(role = 'worker') = (worker_id IS NOT NULL)", name=op.f("ck_account_worker_link")),
        sa.CheckConstraint(
            "(role IN ('steward', 'liaison')) = (staff_id IS NOT NULL)", name=op.f("ck_account_staff_link")
        ),
        sa.CheckConstraint("role = 'official' OR district_code IS NULL", name=op.f("ck_account_official_district")),
        sa.CheckConstraint(
            "role IN ('admin', 'security', 'auditor', 'steward', 'liaison', 'worker', 'official')",
            name=op.f("ck_account_role"),
        ),
        sa.CheckConstraint("failed_logins >= 0", name=op.f("ck_account_failed_logins")),
        sa.ForeignKeyConstraint(["district_code"], ["district.code"], name=op.f("fk_account_district_code_district")),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_account_staff_id_staff")),
        sa.ForeignKeyConstraint(["worker_id"], ["worker.id"], name=op.f("fk_account_worker_id_worker")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account")),
        sa.UniqueConstraint("staff_id", name=op.f("uq_account_staff_id")),
        sa.UniqueConstraint("username", name=op.f("uq_account_username")),
        sa.UniqueConstraint("worker_id", name=op.f("uq_account_worker_id")),
    )
    op.create_table(
        "auth_session",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("scope", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("client_addr", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.CheckConstraint("scope IN ('full', 'password_change', 'mfa_enrolment')", name=op.f("ck_auth_session_scope")),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], name=op.f("fk_auth_session_account_id_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_session")),
    )
    op.create_index(op.f("ix_auth_session_account_id"), "auth_session", ["account_id"], unique=False)
    op.create_table(
        "security_setting",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("privileged_mfa_required", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.CheckConstraint("id = 1", name=op.f("ck_security_setting_single_row")),
        sa.ForeignKeyConstraint(["updated_by"], ["account.id"], name=op.f("fk_security_setting_updated_by_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_setting")),
    )
    op.execute("INSERT INTO security_setting (id, privileged_mfa_required, updated_at) VALUES (1, false, now())")

    op.add_column("case_event", sa.Column("account_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(op.f("fk_case_event_account_id_account"), "case_event", "account", ["account_id"], ["id"])

    # Calendar edits are made by (admin) accounts, not by staff members.
    op.drop_constraint(op.f("fk_calendar_year_updated_by_staff"), "calendar_year", type_="foreignkey")
    op.execute("UPDATE calendar_year SET updated_by = NULL")
    op.create_foreign_key(
        op.f("fk_calendar_year_updated_by_account"), "calendar_year", "account", ["updated_by"], ["id"]
    )

    # Idempotency keys now belong to an account. Stored replies are a retry cache,
    # not records: the old, unowned ones are dropped rather than guessed at.
    op.execute("DELETE FROM idempotency_record")
    op.drop_constraint(op.f("pk_idempotency_record"), "idempotency_record", type_="primary")
    op.add_column("idempotency_record", sa.Column("account_id", sa.Uuid(), nullable=False))
    op.create_primary_key(op.f("pk_idempotency_record"), "idempotency_record", ["account_id", "key"])
    op.create_foreign_key(
        op.f("fk_idempotency_record_account_id_account"), "idempotency_record", "account", ["account_id"], ["id"]
    )

    for column in ("national_id_sealed", "national_id_index", "mobile_sealed", "mobile_index"):
        op.add_column("worker", sa.Column(column, sa.LargeBinary(), nullable=True))
    _seal_existing_workers()
    for column in ("national_id_sealed", "national_id_index", "mobile_sealed", "mobile_index"):
        op.alter_column("worker", column, nullable=False)
    op.drop_constraint(op.f("uq_worker_national_id"), "worker", type_="unique")
    op.create_index(op.f("ix_worker_mobile_index"), "worker", ["mobile_index"], unique=False)
    op.create_unique_constraint(op.f("uq_worker_national_id_index"), "worker", ["national_id_index"])
    op.drop_column("worker", "mobile")
    op.drop_column("worker", "national_id")


def downgrade() -> None:
    op.add_column("worker", sa.Column("national_id", sa.VARCHAR(length=18), nullable=True))
    op.add_column("worker", sa.Column("mobile", sa.VARCHAR(length=11), nullable=True))
    _open_existing_workers()
    op.alter_column("worker", "national_id", nullable=False)
    op.alter_column("worker", "mobile", nullable=False)
    op.drop_constraint(op.f("uq_worker_national_id_index"), "worker", type_="unique")
    op.drop_index(op.f("ix_worker_mobile_index"), table_name="worker")
    op.create_unique_constraint(op.f("uq_worker_national_id"), "worker", ["national_id"])
    for column in ("mobile_index", "mobile_sealed", "national_id_index", "national_id_sealed"):
        op.drop_column("worker", column)

    op.execute("DELETE FROM idempotency_record")
    op.drop_constraint(op.f("fk_idempotency_record_account_id_account"), "idempotency_record", type_="foreignkey")
    op.drop_constraint(op.f("pk_idempotency_record"), "idempotency_record", type_="primary")
    op.drop_column("idempotency_record", "account_id")
    op.create_primary_key(op.f("pk_idempotency_record"), "idempotency_record", ["key"])
    op.drop_constraint(op.f("fk_calendar_year_updated_by_account"), "calendar_year", type_="foreignkey")
    op.execute("UPDATE calendar_year SET updated_by = NULL")
    op.create_foreign_key(op.f("fk_calendar_year_updated_by_staff"), "calendar_year", "staff", ["updated_by"], ["id"])
    op.drop_constraint(op.f("fk_case_event_account_id_account"), "case_event", type_="foreignkey")
    op.drop_column("case_event", "account_id")
    op.drop_table("security_setting")
    op.drop_index(op.f("ix_auth_session_account_id"), table_name="auth_session")
    op.drop_table("auth_session")
    op.drop_table("account")
    op.drop_index("ix_login_throttle_window_start", table_name="login_throttle")
    op.drop_table("login_throttle")
    op.execute("DROP TABLE audit_event")
    op.execute("DROP FUNCTION audit_event_refuse_change()")
