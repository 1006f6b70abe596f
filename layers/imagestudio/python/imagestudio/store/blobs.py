"""The media bucket: every object under a per-user prefix, handed out through short-lived presigned URLs.

Key layout (docs/data-model.md): uploads/{user}/{upload_id}/original (raw, until verified),
assets/{user}/{asset_id}/{original.ext|thumb.webp}, inputs/{user}/{job_id}/..., tmp/... .
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import unquote

from imagestudio import tracing
from imagestudio.errors import NotFound


class RangeNotSatisfiable(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(f"the object has {size} bytes")
        self.size = size


DOWNLOAD_URL_SECONDS = 900
UPLOAD_URL_SECONDS = 900


@cache
def _client() -> Any:
    import boto3  # at the first request that needs it, not at cold start
    from botocore.config import Config

    config = Config(signature_version="s3v4", s3={"addressing_style": "path"})
    return tracing.instrument(boto3.client("s3", config=config))


def reset_clients() -> None:
    _client.cache_clear()


def owner_segment(user_id: str) -> str:
    """A user id as one key segment: '/' (which would split it) and '%' percent-encoded, nothing else,
    so the keys of ordinary ids are unchanged and `unquote` gives the id back."""
    return user_id.replace("%", "%25").replace("/", "%2F")


def upload_key(user_id: str, upload_id: str) -> str:
    return f"uploads/{owner_segment(user_id)}/{upload_id}/original"


def parse_upload_key(key: str) -> tuple[str, str] | None:
    """(user, upload id) of an upload key, or None for any other key."""
    parts = key.split("/")
    if len(parts) == 4 and parts[0] == "uploads" and parts[3] == "original" and parts[1] and parts[2]:
        return unquote(parts[1]), parts[2]
    return None


def asset_key(user_id: str, asset_id: str, name: str) -> str:
    return f"assets/{owner_segment(user_id)}/{asset_id}/{name}"


def input_key(user_id: str, job_id: str, name: str) -> str:
    """A job's input file (docs/data-model.md, S3 layout)."""
    return f"inputs/{owner_segment(user_id)}/{job_id}/{name}"


@dataclass(frozen=True)
class PresignedPost:
    url: str
    fields: dict[str, str]
    expires_in: int


class BlobStore:
    def __init__(self, bucket: str) -> None:
        if not bucket:
            raise RuntimeError("MEDIA_BUCKET is not configured for this function")
        self.bucket = bucket

    def put(self, key: str, data: bytes, content_type: str) -> None:
        _client().put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def get(self, key: str, *, max_bytes: int | None = None) -> bytes:
        try:
            obj = _client().get_object(Bucket=self.bucket, Key=key)
        except _client().exceptions.NoSuchKey:
            raise NotFound(f"No stored object {key}.") from None
        if max_bytes is not None and int(obj.get("ContentLength", 0)) > max_bytes:
            obj["Body"].close()
            raise ValueError(f"object is larger than {max_bytes} bytes")
        data: bytes = obj["Body"].read()
        return data

    def read_range(self, key: str, start: int, end: int | None) -> tuple[bytes, int]:
        """Bytes start..end (inclusive; None = to the end) of an object, and the object's whole size."""
        byte_range = f"bytes={start}-" + ("" if end is None else str(end))
        from botocore.exceptions import ClientError

        try:
            obj = _client().get_object(Bucket=self.bucket, Key=key, Range=byte_range)
        except _client().exceptions.NoSuchKey:
            raise NotFound(f"No stored object {key}.") from None
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") == "InvalidRange":
                raise RangeNotSatisfiable(self.size(key) or 0) from None
            raise
        total = int(str(obj.get("ContentRange", "")).rpartition("/")[2] or obj.get("ContentLength", 0))
        data: bytes = obj["Body"].read()
        return data, total

    def size(self, key: str) -> int | None:
        try:
            return int(_client().head_object(Bucket=self.bucket, Key=key)["ContentLength"])
        except Exception:
            return None

    def delete(self, *keys: str) -> None:
        if keys:
            _client().delete_objects(
                Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in keys], "Quiet": True}
            )

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object under `prefix` (an asset's folder: original, thumbnail, previews)."""
        deleted = 0
        for page in _client().get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            keys = [o["Key"] for o in page.get("Contents", [])]
            self.delete(*keys)
            deleted += len(keys)
        return deleted

    def download_url(
        self, key: str, *, filename: str | None = None, expires: int = DOWNLOAD_URL_SECONDS
    ) -> str:
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if filename:
            params["ResponseContentDisposition"] = f'attachment; filename="{filename}"'
        url: str = _client().generate_presigned_url("get_object", Params=params, ExpiresIn=expires)
        return url

    def upload_form(
        self, key: str, *, content_types: tuple[str, ...], min_bytes: int, max_bytes: int, expires: int
    ) -> PresignedPost:
        """A presigned POST that only accepts this exact key, a size range and an image content type."""
        conditions: list[Any] = [
            {"key": key},
            ["content-length-range", min_bytes, max_bytes],
            ["starts-with", "$Content-Type", "image/" if len(content_types) > 1 else content_types[0]],
        ]
        post = _client().generate_presigned_post(
            Bucket=self.bucket, Key=key, Conditions=conditions, ExpiresIn=expires
        )
        return PresignedPost(url=post["url"], fields=dict(post["fields"]), expires_in=expires)
