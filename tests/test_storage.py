"""Attachment stores: a folder in tmp_path, and S3 as served by moto on 127.0.0.1."""

from __future__ import annotations

import base64
import hashlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import pytest
from botocore.exceptions import ClientError, FlexibleChecksumError
from moto.server import ThreadedMotoServer

from service.adapters.storage import (
    LocalFolderStore,
    S3Store,
    StoredObjectMissing,
    StoreUnavailable,
    store_from_environment,
)

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client

PDF_BYTES = b"%PDF-1.4\n...\n%%EOF\n"
BAD_KEYS = [
    "",
    "../secret",
    "a/../b",
    "/etc/passwd",
    "a//b",
    "a/",
    "ABCDEF",
    "report.pdf",
    "a\\b",
    "a b",
    "申请",
    "0" * 201,
]
CREDENTIALS = {"access_key_id": "testing", "secret_access_key": "testing"}


def new_key() -> str:
    key = str(uuid.uuid4())
    return f"{key[:2]}/{key}"


# --- local folder -------------------------------------------------------------


async def test_local_round_trip_writes_under_the_key(tmp_path: Path) -> None:
    store = LocalFolderStore(tmp_path / "attachments")
    key = new_key()
    await store.put(key, PDF_BYTES, "application/pdf")
    assert await store.get(key) == PDF_BYTES
    assert (tmp_path / "attachments" / key).read_bytes() == PDF_BYTES
    assert store.describe() == f"local folder {tmp_path / 'attachments'}"


async def test_local_put_replaces_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    store = LocalFolderStore(tmp_path)
    key = new_key()
    await store.put(key, b"first", "application/pdf")
    await store.put(key, b"second", "application/pdf")
    assert await store.get(key) == b"second"
    assert [p.name for p in (tmp_path / key).parent.iterdir()] == [key.split("/")[1]]


async def test_local_put_that_fails_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = LocalFolderStore(tmp_path)
    key = new_key()
    await store.put(key, b"old", "application/pdf")

    def fail(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(StoreUnavailable) as failed:
        await store.put(key, b"new", "application/pdf")
    assert isinstance(failed.value.__cause__, OSError)
    assert "disk full" in str(failed.value.__cause__)
    assert await store.get(key) == b"old"
    assert len(list((tmp_path / key).parent.iterdir())) == 1


async def test_local_missing_key(tmp_path: Path) -> None:
    store = LocalFolderStore(tmp_path)
    key = new_key()
    with pytest.raises(StoredObjectMissing) as missing:
        await store.get(key)
    assert missing.value.key == key


async def test_local_delete_is_idempotent(tmp_path: Path) -> None:
    store = LocalFolderStore(tmp_path)
    key = new_key()
    await store.put(key, PDF_BYTES, "application/pdf")
    await store.delete(key)
    await store.delete(key)
    assert not (tmp_path / key).exists()
    with pytest.raises(StoredObjectMissing):
        await store.get(key)


@pytest.mark.parametrize("key", BAD_KEYS)
async def test_local_refuses_bad_keys(tmp_path: Path, key: str) -> None:
    store = LocalFolderStore(tmp_path / "attachments")
    (tmp_path / "secret").write_bytes(b"not yours")
    with pytest.raises(ValueError, match="not a storage key"):
        await store.put(key, b"x", "application/pdf")
    with pytest.raises(ValueError, match="not a storage key"):
        await store.get(key)
    with pytest.raises(ValueError, match="not a storage key"):
        await store.delete(key)
    assert (tmp_path / "secret").read_bytes() == b"not yours"
    assert not (tmp_path / "attachments").exists()


# --- S3 (moto) ------------------------------------------------------------------


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def s3_admin(s3_endpoint: str) -> S3Client:
    """A plain boto3 client, to look at the bucket behind the store's back."""
    return boto3.session.Session().client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def bucket(s3_admin: S3Client) -> str:
    name = f"banshi-{uuid.uuid4().hex[:12]}"
    s3_admin.create_bucket(Bucket=name)
    return name


async def test_s3_round_trip_with_type_and_checksum(s3_endpoint: str, bucket: str, s3_admin: S3Client) -> None:
    store = S3Store(bucket, endpoint_url=s3_endpoint, region="us-east-1", prefix="/cases/attachments/", **CREDENTIALS)
    key = new_key()
    await store.put(key, PDF_BYTES, "application/pdf")
    assert await store.get(key) == PDF_BYTES

    head = s3_admin.head_object(Bucket=bucket, Key=f"cases/attachments/{key}", ChecksumMode="ENABLED")
    assert head["ContentType"] == "application/pdf"
    assert head["ContentLength"] == len(PDF_BYTES)
    assert head["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(PDF_BYTES).digest()).decode()
    assert store.describe() == f"s3 bucket {bucket} under cases/attachments/ at {s3_endpoint}"


async def test_s3_get_refuses_bytes_that_do_not_match_their_checksum(
    s3_endpoint: str, bucket: str, s3_admin: S3Client
) -> None:
    store = S3Store(bucket, endpoint_url=s3_endpoint, region="us-east-1", **CREDENTIALS)
    key = new_key()
    wrong = base64.b64encode(hashlib.sha256(b"other bytes").digest()).decode()
    s3_admin.put_object(Bucket=bucket, Key=key, Body=PDF_BYTES, ChecksumAlgorithm="SHA256", ChecksumSHA256=wrong)
    with pytest.raises(FlexibleChecksumError):
        await store.get(key)


async def test_s3_missing_key(s3_endpoint: str, bucket: str) -> None:
    store = S3Store(bucket, endpoint_url=s3_endpoint, region="us-east-1", **CREDENTIALS)
    key = new_key()
    with pytest.raises(StoredObjectMissing) as missing:
        await store.get(key)
    assert missing.value.key == key


async def test_s3_other_errors_are_not_taken_for_a_missing_object(s3_endpoint: str) -> None:
    store = S3Store("no-such-bucket", endpoint_url=s3_endpoint, region="us-east-1", **CREDENTIALS)
    with pytest.raises(StoreUnavailable) as error:
        await store.get(new_key())
    cause = error.value.__cause__
    assert isinstance(cause, ClientError)
    assert cause.response.get("Error", {}).get("Code") == "NoSuchBucket"


async def test_s3_delete_is_idempotent(s3_endpoint: str, bucket: str, s3_admin: S3Client) -> None:
    store = S3Store(bucket, endpoint_url=s3_endpoint, region="us-east-1", **CREDENTIALS)
    key = new_key()
    await store.put(key, b"x", "image/png")
    await store.delete(key)
    await store.delete(key)
    with pytest.raises(StoredObjectMissing):
        await store.get(key)
    assert s3_admin.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


@pytest.mark.parametrize("key", ["../escape", "/abs", "a/./b", "Report.PDF"])
async def test_s3_refuses_bad_keys(s3_endpoint: str, bucket: str, s3_admin: S3Client, key: str) -> None:
    store = S3Store(bucket, endpoint_url=s3_endpoint, region="us-east-1", **CREDENTIALS)
    with pytest.raises(ValueError, match="not a storage key"):
        await store.put(key, b"x", "application/pdf")
    with pytest.raises(ValueError, match="not a storage key"):
        await store.get(key)
    with pytest.raises(ValueError, match="not a storage key"):
        await store.delete(key)
    assert s3_admin.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


# --- choosing a store -----------------------------------------------------------


def test_environment_defaults_to_a_folder_under_the_data_dir(tmp_path: Path) -> None:
    store = store_from_environment({}, tmp_path)
    assert isinstance(store, LocalFolderStore)
    assert store.root == tmp_path / "attachments"


def test_environment_local_folder_can_be_named(tmp_path: Path) -> None:
    env = {"BANSHI_ATTACHMENTS": " Local ", "BANSHI_ATTACHMENTS_DIR": str(tmp_path / "files")}
    store = store_from_environment(env, tmp_path / "data")
    assert isinstance(store, LocalFolderStore)
    assert store.root == tmp_path / "files"


async def test_environment_s3_store_reaches_the_bucket(
    s3_endpoint: str, bucket: str, s3_admin: S3Client, tmp_path: Path
) -> None:
    env = {
        "BANSHI_ATTACHMENTS": "s3",
        "BANSHI_S3_BUCKET": bucket,
        "BANSHI_S3_ENDPOINT_URL": s3_endpoint,
        "BANSHI_S3_REGION": "cn-southwest-1",
        "BANSHI_S3_ACCESS_KEY_ID": "testing",
        "BANSHI_S3_SECRET_ACCESS_KEY": "very-secret",
        "BANSHI_S3_PREFIX": "banshi",
    }
    store = store_from_environment(env, tmp_path)
    assert isinstance(store, S3Store)
    assert store.describe() == f"s3 bucket {bucket} under banshi/ at {s3_endpoint}"
    assert "very-secret" not in store.describe()
    key = new_key()
    await store.put(key, PDF_BYTES, "application/pdf")
    assert await store.get(key) == PDF_BYTES
    listed = s3_admin.list_objects_v2(Bucket=bucket)
    assert [item.get("Key") for item in listed.get("Contents", [])] == [f"banshi/{key}"]


def test_environment_s3_needs_a_bucket(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="BANSHI_S3_BUCKET"):
        store_from_environment({"BANSHI_ATTACHMENTS": "s3", "BANSHI_S3_BUCKET": " "}, tmp_path)
    with pytest.raises(ValueError, match="BANSHI_S3_BUCKET"):
        store_from_environment({"BANSHI_ATTACHMENTS": "s3"}, tmp_path)


@pytest.mark.parametrize("kind", ["ftp", "minio", "gcs"])
def test_environment_refuses_unknown_stores(tmp_path: Path, kind: str) -> None:
    with pytest.raises(ValueError, match="BANSHI_ATTACHMENTS"):
        store_from_environment({"BANSHI_ATTACHMENTS": kind}, tmp_path)
