"""Uploads: a presigned POST to a key under the caller's prefix, then the S3 trigger verifies the
bytes and turns them into an asset, or deletes them and records why."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from imagestudio import API_PREFIX
from imagestudio.csvtext import MAX_CSV_BYTES, decode_csv
from imagestudio.errors import Conflict, DomainError, InvalidInput, NotFound, unknown_choice
from imagestudio.ids import new_id
from imagestudio.imaging.audio import VerifiedAudio, verify_audio
from imagestudio.imaging.verify import verify_image
from imagestudio.models.records import Asset, Upload
from imagestudio.operations.asset_files import store_asset_files
from imagestudio.operations.tagging import tagged
from imagestudio.ports import Ports
from imagestudio.store.blobs import UPLOAD_URL_SECONDS, PresignedPost, asset_key, parse_upload_key, upload_key

log = logging.getLogger(__name__)

IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif", "image/tiff", "image/bmp")
AUDIO_TYPES = ("audio/wav", "audio/x-wav", "audio/mpeg")  # speech for talking avatars, soundtracks
CSV_TYPES = ("text/csv",)  # batch inputs: checked as UTF-8 text and kept for POST batches
ALLOWED_CONTENT_TYPES = IMAGE_TYPES + AUDIO_TYPES + CSV_TYPES
MAX_IMAGE_BYTES = 25 * 1024 * 1024
MAX_AUDIO_BYTES = 50 * 1024 * 1024
MAX_UPLOAD_BYTES = MAX_AUDIO_BYTES
MIN_UPLOAD_BYTES = 8
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/gif": "gif"}


@dataclass(frozen=True)
class UploadTicket:
    upload: Upload
    form: PresignedPost
    status_url: str


def _clean_filename(name: str | None) -> str | None:
    if not name:
        return None
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = re.sub(r"[^\w.\- ]", "_", base).strip()[:120]
    return cleaned or None


def start_upload(
    ports: Ports,
    owner: str,
    *,
    content_type: str,
    filename: str | None = None,
    max_bytes: int | None = None,
    recipe: dict[str, Any] | None = None,
) -> UploadTicket:
    if content_type not in ALLOWED_CONTENT_TYPES:
        raise unknown_choice("content_type", content_type, list(ALLOWED_CONTENT_TYPES), status=422)
    cap = (
        MAX_AUDIO_BYTES
        if content_type in AUDIO_TYPES
        else MAX_CSV_BYTES
        if content_type in CSV_TYPES
        else MAX_IMAGE_BYTES
    )
    limit = cap if max_bytes is None else max_bytes
    if not MIN_UPLOAD_BYTES <= limit <= cap:
        raise InvalidInput(
            f"max_bytes must be between {MIN_UPLOAD_BYTES} and {cap} bytes for {content_type}."
        )
    upload_id = new_id()
    key = upload_key(owner, upload_id)
    upload = Upload(
        id=upload_id,
        owner=owner,
        key=key,
        filename=_clean_filename(filename),
        content_type=content_type,
        max_bytes=limit,
        recipe=recipe,
    )
    if recipe and content_type not in IMAGE_TYPES:
        raise InvalidInput(
            "A social_export recipe needs an image upload.", details={"field": "social_export"}
        )
    ports.uploads.create(upload)
    form = ports.blobs.upload_form(
        key,
        content_types=(content_type,),
        min_bytes=MIN_UPLOAD_BYTES,
        max_bytes=limit,
        expires=UPLOAD_URL_SECONDS,
    )
    form.fields.setdefault("Content-Type", content_type)
    return UploadTicket(upload=upload, form=form, status_url=f"{API_PREFIX}/uploads/{upload_id}")


def process_upload(ports: Ports, key: str) -> str:
    """Handle one ObjectCreated event for `key`; returns what happened (for logs and tests)."""
    parsed = parse_upload_key(key)
    if parsed is None:
        if key.startswith("uploads/"):
            ports.blobs.delete(key)  # no presigned form makes such a key: nobody asked for it
            return "deleted: not an upload key"
        return "ignored: not an upload key"
    owner, upload_id = parsed
    try:
        upload = ports.uploads.get(owner, upload_id)
    except NotFound:
        ports.blobs.delete(key)  # nobody asked for this upload: do not keep unknown bytes
        return "deleted: no upload record"
    if upload.status != "pending":
        return f"ignored: upload already {upload.status}"

    size = ports.blobs.size(key)
    if size is None:
        # The bytes are deleted only after they became the asset: an event delivered again (a retry, a
        # re-drive from the dead-letter queue) after that finishes the upload instead of leaving it pending.
        try:
            made = ports.assets.get(owner, upload_id)
        except NotFound:
            return "ignored: object is gone"
        ports.uploads.settle(upload, status="ready", asset_id=made.id)
        return f"ready: asset {made.id} (made by an earlier delivery)"
    try:
        if size > upload.max_bytes:
            raise InvalidInput(
                f"The file is {size} bytes; this upload allows at most {upload.max_bytes} bytes."
            )
        if upload.content_type in CSV_TYPES:
            decode_csv(ports.blobs.get(key))  # the text is parsed and validated by POST batches
            ports.uploads.settle(upload, status="ready")
            return "ready: csv"
        if upload.content_type in AUDIO_TYPES:
            return _keep_audio(
                ports, owner, upload, verify_audio(ports.blobs.get(key), max_bytes=upload.max_bytes)
            )
        verified = verify_image(ports.blobs.get(key), max_bytes=upload.max_bytes)
    except InvalidInput as rejected:
        ports.blobs.delete(key)
        ports.uploads.settle(upload, status="rejected", reason=rejected.message)
        return f"rejected: {rejected.message}"

    asset_id = upload_id  # one upload makes exactly one asset, even if S3 delivers the event twice
    ext = EXTENSIONS.get(verified.mime, verified.format.lower())
    files = store_asset_files(
        ports, owner, asset_id, data=verified.data, mime=verified.mime, extension=ext, pixels=verified.data
    )
    asset = Asset(
        id=asset_id,
        owner=owner,
        type="image",
        key=files.key,
        thumbnail_key=files.thumbnail_key,
        mime=verified.mime,
        bytes=len(verified.data),
        width=verified.width,
        height=verified.height,
        filename=upload.filename,
        source="upload",
        operation="upload",
        metadata={
            "removed_metadata": list(verified.removed_metadata),
            "notes": list(verified.notes),
            "source_format": verified.source_format,
        },
    )
    asset = tagged(asset, files.thumbnail.image)
    try:
        ports.assets.create(asset)
    except Conflict:
        log.info("asset %s exists already: a repeated S3 event", asset_id)
    ports.blobs.delete(key)
    exported, export_error = _run_recipe(ports, owner, upload, verified.data, asset)
    ports.uploads.settle(
        upload, status="ready", asset_id=asset_id, exported=exported, export_error=export_error
    )
    return f"ready: asset {asset_id}" + (f", exported {len(exported)}" if exported else "")


def _run_recipe(
    ports: Ports, owner: str, upload: Upload, data: bytes, asset: Asset
) -> tuple[list[str], str | None]:
    """The hot folder: an upload that carries a social_export recipe exports itself into the library."""
    if not upload.recipe or "social_export" not in upload.recipe:
        return [], None
    from imagestudio.operations.social import SocialRecipe, export_image, targets_for

    try:
        recipe = SocialRecipe.model_validate(upload.recipe["social_export"])
        result = export_image(ports, owner, data, recipe, targets_for(recipe), parent=asset)
    except DomainError as exc:
        return [], exc.message
    return [o.asset.id for o in result.outputs], None


def _keep_audio(ports: Ports, owner: str, upload: Upload, audio: VerifiedAudio) -> str:
    asset_id = upload.id
    key = asset_key(owner, asset_id, "original.wav" if audio.mime == "audio/wav" else "original.mp3")
    ports.blobs.put(key, audio.data, audio.mime)
    asset = Asset(
        id=asset_id,
        owner=owner,
        type="audio",
        key=key,
        mime=audio.mime,
        bytes=audio.bytes,
        duration=audio.duration,
        filename=upload.filename,
        source="upload",
        operation="upload",
        metadata={"sample_rate": audio.sample_rate, "channels": audio.channels},
    )
    try:
        ports.assets.create(tagged(asset, None))
    except Conflict:
        log.info("asset %s exists already: a repeated S3 event", asset_id)
    ports.blobs.delete(upload.key)
    ports.uploads.settle(upload, status="ready", asset_id=asset_id)
    return f"ready: audio asset {asset_id}"
