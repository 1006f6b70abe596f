"""API views of records: what a client sees (download URLs instead of S3 keys, links to act on jobs)."""

from __future__ import annotations

from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema

from imagestudio import API_PREFIX
from imagestudio.errors import NotFound
from imagestudio.models.records import Asset, Collection, Job, Upload
from imagestudio.store.assets import AssetRepository
from imagestudio.store.blobs import BlobStore


class JobLinks(BaseModel):
    status_url: str
    cancel_url: str


# Views drop what a client must not see (the owner, S3 keys): overridden as optional and excluded.
Hidden = Field(None, exclude=True)


class JobView(Job):
    owner: SkipJsonSchema[str | None] = Hidden  # type: ignore[assignment]
    links: JobLinks

    @classmethod
    def of(cls, job: Job) -> JobView:
        url = f"{API_PREFIX}/jobs/{job.id}"
        return cls(**job.model_dump(), links=JobLinks(status_url=url, cancel_url=url))


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
