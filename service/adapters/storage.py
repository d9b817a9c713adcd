"""Where the bytes of case attachments live: a local folder or an S3 bucket.

The case record keeps the attachment's name, type and size; a store only keeps
bytes under a key the service made (a UUID, optionally with ``/`` folders).
Both stores do their blocking work in a worker thread.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import tempfile
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import anyio.to_thread
import boto3
from botocore.exceptions import BotoCoreError, ClientError, FlexibleChecksumError

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client

_KEY = re.compile(r"[0-9a-f-]+(/[0-9a-f-]+)*")
_MAX_KEY_LENGTH = 200


class StoredObjectMissing(LookupError):
    """The store has nothing under ``key``."""

    def __init__(self, key: str) -> None:
        super().__init__(f"no stored object under {key!r}")
        self.key = key


class StoreUnavailable(RuntimeError):
    """The store could not be read or written (a full or read-only disk, a refused or
    unreachable S3 endpoint). The API answers 503: the request was not wrong."""

    def __init__(self, operation: str, error: BaseException) -> None:
        super().__init__(f"{operation} failed: {type(error).__name__}")
        self.operation = operation


@runtime_checkable
class AttachmentStore(Protocol):
    async def put(self, key: str, data: bytes, media_type: str) -> None:
        """Keep ``data`` under ``key``, replacing what was there."""

    async def get(self, key: str) -> bytes:
        """The bytes under ``key``; ``StoredObjectMissing`` when there are none."""

    async def delete(self, key: str) -> None:
        """Forget ``key``; nothing happens when it is already gone."""

    def describe(self) -> str:
        """Where the bytes are, for start-up logs; never a secret."""


def _check_key(key: str) -> str:
    """``key`` when it is lowercase hex digits and dashes in ``/``-separated parts, else ``ValueError``."""
    if len(key) > _MAX_KEY_LENGTH or not _KEY.fullmatch(key):
        raise ValueError(f"not a storage key: {key!r}")
    return key


class LocalFolderStore:
    """Attachments as files under ``root``, one file per key."""

    def __init__(self, root: Path) -> None:
        self.root = root

    async def put(self, key: str, data: bytes, media_type: str) -> None:
        # The media type lives in the case record; a file needs none.
        try:
            await anyio.to_thread.run_sync(_write_atomically, self._path(key), data)
        except OSError as error:
            raise StoreUnavailable("put", error) from error

    async def get(self, key: str) -> bytes:
        try:
            return await anyio.to_thread.run_sync(self._path(key).read_bytes)
        except FileNotFoundError:
            raise StoredObjectMissing(key) from None
        except OSError as error:
            raise StoreUnavailable("get", error) from error

    async def delete(self, key: str) -> None:
        try:
            await anyio.to_thread.run_sync(partial(self._path(key).unlink, missing_ok=True))
        except OSError as error:
            raise StoreUnavailable("delete", error) from error

    def describe(self) -> str:
        return f"local folder {self.root}"

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*_check_key(key).split("/"))


def _write_atomically(path: Path, data: bytes) -> None:
    """A reader sees the old file or the new one, never half of the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as temp:
            temp.write(data)
            temp.flush()
            os.fsync(temp.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


class S3Store:
    """Attachments as objects in an S3 bucket (AWS or any S3-compatible service)."""

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        prefix: str = "",
    ) -> None:
        self.bucket = bucket
        self.endpoint_url = endpoint_url
        self.prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        # One client for the store's life, shared by the worker threads (boto3 clients are
        # thread-safe); made from a session of its own, as boto3's default session is not.
        self._client: S3Client = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
        )

    async def put(self, key: str, data: bytes, media_type: str) -> None:
        # A SHA-256 sent with the bytes lets S3 refuse a copy damaged on the way and
        # keeps it with the object, so reads can be checked too. Giving the value, not
        # only the algorithm, sends it as a plain header rather than a chunked trailer.
        checksum = base64.b64encode(hashlib.sha256(data).digest()).decode()
        call = partial(
            self._client.put_object,
            Bucket=self.bucket,
            Key=self._object_key(key),
            Body=data,
            ContentType=media_type,
            ChecksumAlgorithm="SHA256",
            ChecksumSHA256=checksum,
        )
        try:
            await anyio.to_thread.run_sync(call)
        except (BotoCoreError, ClientError) as error:
            raise StoreUnavailable("put", error) from error

    async def get(self, key: str) -> bytes:
        try:
            return await anyio.to_thread.run_sync(self._read, key)
        except FlexibleChecksumError:
            raise  # stored bytes that do not match their checksum: damage, not an outage (500, logged)
        except (BotoCoreError, ClientError) as error:
            raise StoreUnavailable("get", error) from error

    async def delete(self, key: str) -> None:
        call = partial(self._client.delete_object, Bucket=self.bucket, Key=self._object_key(key))
        try:
            await anyio.to_thread.run_sync(call)
        except (BotoCoreError, ClientError) as error:
            raise StoreUnavailable("delete", error) from error

    def describe(self) -> str:
        where = f" under {self.prefix}" if self.prefix else ""
        return f"s3 bucket {self.bucket}{where} at {self.endpoint_url or 'the AWS default endpoint'}"

    def _read(self, key: str) -> bytes:
        try:
            # With ChecksumMode botocore checks the stored SHA-256 against the bytes it reads.
            answer = self._client.get_object(Bucket=self.bucket, Key=self._object_key(key), ChecksumMode="ENABLED")
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise StoredObjectMissing(key) from None
            raise
        return answer["Body"].read()

    def _object_key(self, key: str) -> str:
        return self.prefix + _check_key(key)


def store_from_environment(env: Mapping[str, str], data_dir: Path) -> AttachmentStore:
    """The store ``BANSHI_ATTACHMENTS`` names: ``local`` (the default) or ``s3``."""
    kind = env.get("BANSHI_ATTACHMENTS", "").strip().lower() or "local"
    if kind == "local":
        folder = env.get("BANSHI_ATTACHMENTS_DIR", "").strip()
        return LocalFolderStore(Path(folder) if folder else data_dir / "attachments")
    if kind == "s3":
        bucket = env.get("BANSHI_S3_BUCKET", "").strip()
        if not bucket:
            raise ValueError("BANSHI_S3_BUCKET must name the bucket when BANSHI_ATTACHMENTS=s3")

        def optional(name: str) -> str | None:
            return env.get(name, "").strip() or None

        return S3Store(
            bucket,
            endpoint_url=optional("BANSHI_S3_ENDPOINT_URL"),
            region=optional("BANSHI_S3_REGION"),
            access_key_id=optional("BANSHI_S3_ACCESS_KEY_ID"),
            secret_access_key=optional("BANSHI_S3_SECRET_ACCESS_KEY"),
            prefix=env.get("BANSHI_S3_PREFIX", ""),
        )
    raise ValueError(f"BANSHI_ATTACHMENTS must be 'local' or 's3', not {kind!r}")
