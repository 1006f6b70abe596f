"""GET assets/{id} (with short-lived download URLs) and DELETE assets/{id}."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import BaseModel

from imagestudio import API_PREFIX
from imagestudio.api.context import caller, ports
from imagestudio.api.views import AssetView

router = Router()


class Deleted(BaseModel):
    id: str
    deleted: bool


@router.get(f"{API_PREFIX}/assets/<asset_id>", summary="An asset with its download URL", tags=["Assets"])
def get_asset(asset_id: Annotated[str, Path(max_length=64)]) -> AssetView:
    p = ports()
    return AssetView.of(p.assets.get(caller(router).user_id, asset_id), p.blobs)


@router.delete(f"{API_PREFIX}/assets/<asset_id>", summary="Delete an asset and its files", tags=["Assets"])
def delete_asset(asset_id: Annotated[str, Path(max_length=64)]) -> Deleted:
    p = ports()
    asset = p.assets.delete(caller(router).user_id, asset_id)
    p.blobs.delete(*[k for k in (asset.key, asset.thumbnail_key) if k])
    return Deleted(id=asset_id, deleted=True)
