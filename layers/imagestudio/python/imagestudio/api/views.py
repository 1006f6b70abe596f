"""API views of records: what a client sees (download URLs instead of S3 keys, links to act on jobs)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema

from imagestudio import API_PREFIX
from imagestudio.errors import NotFound
from imagestudio.models.records import Asset, Collection, Job, Upload
from imagestudio.ports import Ports
from imagestudio.store.assets import AssetRepository
from imagestudio.store.blobs import BlobStore

#: what a job records for our own use only: S3 keys, the state machine's token, how to finish it
INTERNAL_INPUTS = frozenset({"keys", "task_token", "finish", "polls", "provider_status"})


class JobLinks(BaseModel):
    status_url: str
    cancel_url: str


class OutputView(BaseModel):
    """One output, the same in an operation's answer and in GET jobs/{id}."""

    asset_id: str
    index: int
    type: str = "image"
    width: int | None
    height: int | None
    duration: float | None = None
    bytes: int
    mime: str
    url: str
    thumbnail_url: str | None = None
    b64_json: str | None = Field(None, description="Only with response_format=b64_json, under the size cap.")
    parent_asset_id: str | None = None

    @classmethod
    def of(cls, asset: Asset, blobs: BlobStore, index: int, b64_json: str | None = None) -> OutputView:
        return cls(
            asset_id=asset.id,
            index=index,
            type=asset.type,
            width=asset.width,
            height=asset.height,
            duration=asset.duration,
            bytes=asset.bytes,
            mime=asset.mime,
            url=blobs.download_url(asset.key),
            thumbnail_url=blobs.download_url(asset.thumbnail_key) if asset.thumbnail_key else None,
            b64_json=b64_json,
            parent_asset_id=asset.parent_id,
        )


# Views drop what a client must not see (the owner, S3 keys): overridden as optional and excluded.
Hidden = Field(None, exclude=True)


class JobView(Job):
    """A job as its owner sees it: finished outputs with download links (as the synchronous answer
    lists them), the request's parameters without our internal keys, and links to act on it."""

    owner: SkipJsonSchema[str | None] = Hidden  # type: ignore[assignment]
    outputs: list[OutputView] = Field(  # type: ignore[assignment]
        default_factory=list,
        description="Each output with a download URL (an asset since deleted is left out).",
    )
    links: JobLinks

    @classmethod
    def of(cls, job: Job, ports: Ports) -> JobView:
        return cls.many([job], ports)[0]

    @classmethod
    def many(cls, jobs: list[Job], ports: Ports) -> list[JobView]:
        """Views of one owner's jobs, their output assets read in one batch."""
        wanted = [a for job in jobs for a in job.outputs]
        assets = ports.assets.get_many(jobs[0].owner, wanted) if wanted else {}
        return [cls._of(job, assets, ports.blobs) for job in jobs]

    @classmethod
    def links_of(cls, job: Job) -> JobLinks:
        url = f"{API_PREFIX}/jobs/{job.id}"
        return JobLinks(status_url=url, cancel_url=url)

    @classmethod
    def _of(cls, job: Job, assets: dict[str, Asset], blobs: BlobStore) -> JobView:
        fields: dict[str, Any] = job.model_dump(exclude={"outputs", "inputs"})
        outputs = [OutputView.of(assets[a], blobs, i) for i, a in enumerate(job.outputs) if a in assets]
        inputs = {k: v for k, v in job.inputs.items() if k not in INTERNAL_INPUTS}
        return cls(**fields, inputs=inputs, outputs=outputs, links=cls.links_of(job))


class AssetView(Asset):
    owner: SkipJsonSchema[str | None] = Hidden  # type: ignore[assignment]
    key: SkipJsonSchema[str | None] = Hidden  # type: ignore[assignment]
    thumbnail_key: SkipJsonSchema[str | None] = Hidden
    download_url: str
    thumbnail_url: str | None = None
    url_expires_in: int

    @classmethod
    def of(cls, asset: Asset, blobs: BlobStore, *, expires: int = 900) -> AssetView:
        return cls(
            **asset.model_dump(),
            download_url=blobs.download_url(asset.key, filename=asset.filename, expires=expires),
            thumbnail_url=blobs.download_url(asset.thumbnail_key, expires=expires)
            if asset.thumbnail_key
            else None,
            url_expires_in=expires,
        )


class UploadView(Upload):
    owner: SkipJsonSchema[str | None] = Hidden  # type: ignore[assignment]
    key: SkipJsonSchema[str | None] = Hidden  # type: ignore[assignment]
    status_url: str

    @classmethod
    def of(cls, upload: Upload) -> UploadView:
        return cls(**upload.model_dump(), status_url=f"{API_PREFIX}/uploads/{upload.id}")


class CollectionView(Collection):
    owner: SkipJsonSchema[str | None] = Hidden  # type: ignore[assignment]
    cover_thumbnail_url: str | None = None
    url: str

    @classmethod
    def of(cls, collection: Collection, blobs: BlobStore, assets: AssetRepository) -> CollectionView:
        cover_url = None
        if collection.cover_asset_id:
            try:
                cover = assets.get(collection.owner, collection.cover_asset_id)
                cover_url = blobs.download_url(cover.thumbnail_key or cover.key)
            except NotFound:
                cover_url = None
        return cls(
            **collection.model_dump(),
            cover_thumbnail_url=cover_url,
            url=f"{API_PREFIX}/collections/{collection.id}",
        )
