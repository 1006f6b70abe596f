"""Assets and uploads in DynamoDB (the assets table). Keys: docs/data-model.md (Assets)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from imagestudio.errors import Conflict, InvalidInput, NotFound
from imagestudio.ids import id_bound
from imagestudio.models.records import Asset, Upload, from_item, iso, to_item, utcnow
from imagestudio.store.conditions import Attr, Key
from imagestudio.store.dynamo import resource, table, user_pk

UPLOAD_RECORD_DAYS = 30
_OPTIONAL_KEYS = ("gsi2pk", "gsi2sk", "gsi3pk", "gsi3sk")  # set only while in a collection / with a parent
USAGE_COUNTERS = {"download": "download_count", "share": "share_count", "access": "access_count"}


class AssetRepository:
    def __init__(self, table_name: str) -> None:
        self.table = table(table_name)

    def _item(self, asset: Asset) -> dict[str, Any]:
        pk = user_pk(asset.owner)
        created = f"{iso(asset.created_at)}#{asset.id}"
        item = {
            **to_item(asset),
            "pk": pk,
            "sk": f"ASSET#{asset.id}",
            "gsi1pk": f"{pk}#TYPE#{asset.type}",
            "gsi1sk": created,
        }
        if asset.collection_id:
            item["gsi2pk"] = f"{pk}#COLL#{asset.collection_id}"
            item["gsi2sk"] = created
        if asset.parent_id:
            item["gsi3pk"] = f"{pk}#PARENT#{asset.parent_id}"
            item["gsi3sk"] = created
        return item

    def create(self, asset: Asset) -> Asset:
        try:
            self.table.put_item(Item=self._item(asset), ConditionExpression=Attr("pk").not_exists())
        except self.table.meta.client.exceptions.ConditionalCheckFailedException:
            raise Conflict(f"Asset {asset.id} exists already.") from None
        return asset

    def get(self, owner: str, asset_id: str) -> Asset:
        item = self.table.get_item(Key={"pk": user_pk(owner), "sk": f"ASSET#{asset_id}"}).get("Item")
        if item is None:
            raise NotFound(f"No asset {asset_id}.")
        return from_item(Asset, item)

    def get_many(self, owner: str, asset_ids: list[str]) -> dict[str, Asset]:
        """The owner's assets among `asset_ids` (BatchGetItem, 100 keys a call); missing ones are left
        out (deleted since). Only the owner's partition is read: another user's id finds nothing."""
        wanted = list(dict.fromkeys(asset_ids))
        found: dict[str, Asset] = {}
        for start in range(0, len(wanted), 100):
            keys = [{"pk": user_pk(owner), "sk": f"ASSET#{a}"} for a in wanted[start : start + 100]]
            request: dict[str, Any] = {self.table.name: {"Keys": keys}}
            for _ in range(8):  # unprocessed keys come back under load: ask again for those
                answer = resource().batch_get_item(RequestItems=request)
                for item in answer.get("Responses", {}).get(self.table.name, []):
                    asset = from_item(Asset, item)
                    found[asset.id] = asset
                request = answer.get("UnprocessedKeys") or {}
                if not request:
                    break
        return found

    def delete(self, owner: str, asset_id: str) -> Asset:
        try:
            old = self.table.delete_item(
                Key={"pk": user_pk(owner), "sk": f"ASSET#{asset_id}"},
                ConditionExpression=Attr("pk").exists(),
                ReturnValues="ALL_OLD",
            )
        except self.table.meta.client.exceptions.ConditionalCheckFailedException:
            raise NotFound(f"No asset {asset_id}.") from None
        return from_item(Asset, old["Attributes"])

    def children(self, owner: str, parent_id: str, *, limit: int = 100) -> list[Asset]:
        """Assets made from `parent_id` (edits, upscales, ...), oldest first, from the ByParent index."""
        page = self.table.query(
            IndexName="ByParent",
            KeyConditionExpression=Key("gsi3pk").eq(f"{user_pk(owner)}#PARENT#{parent_id}"),
            Limit=limit,
        )
        return [from_item(Asset, i) for i in page.get("Items", [])]

    def update(self, asset: Asset) -> Asset:
        """Write an existing asset's fields (its index keys follow them). The usage counters are left
        as stored: they are only ever ADDed (record_usage), so an edit never loses a count."""
        updated = asset.model_copy(update={"updated_at": utcnow()})
        item = self._item(updated)
        kept = {"pk", "sk", "last_accessed", *USAGE_COUNTERS.values()}
        sets = {k: v for k, v in item.items() if k not in kept}
        removes = [k for k in (*Asset.model_fields, *_OPTIONAL_KEYS) if k not in item and k not in kept]
        names = {f"#a{i}": k for i, k in enumerate([*sets, *removes])}
        alias = {k: a for a, k in names.items()}
        expression = "SET " + ", ".join(f"{alias[k]} = :v{i}" for i, k in enumerate(sets))
        if removes:
            expression += " REMOVE " + ", ".join(alias[k] for k in removes)
        try:
            out = self.table.update_item(
                Key={"pk": item["pk"], "sk": item["sk"]},
                UpdateExpression=expression,
                ConditionExpression=Attr("pk").exists(),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={f":v{i}": v for i, v in enumerate(sets.values())},
                ReturnValues="ALL_NEW",
            )
        except self.table.meta.client.exceptions.ConditionalCheckFailedException:
            raise NotFound(f"No asset {asset.id}.") from None
        return from_item(Asset, out["Attributes"])

    def iter_assets(
        self,
        owner: str,
        *,
        asset_type: str | None = None,
        collection_id: str | None = None,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
        newest_first: bool = True,
        start_key: dict[str, Any] | None = None,
        filter_expression: Any = None,
        page_size: int = 200,
    ) -> Iterator[tuple[Asset, dict[str, Any]]]:
        """A user's assets in creation order, with the key to resume after each one. Never a Scan:
        the ByCollection index when `collection_id` is given, else ByType with `asset_type`, else the
        owner's partition; the creation-time range is a key condition on the sort key."""
        pk = user_pk(owner)
        kwargs: dict[str, Any] = {"ScanIndexForward": not newest_first, "Limit": page_size}
        if collection_id or asset_type:
            index, hash_name, range_name, suffix = (
                ("ByCollection", "gsi2pk", "gsi2sk", f"#COLL#{collection_id}")
                if collection_id
                else ("ByType", "gsi1pk", "gsi1sk", f"#TYPE#{asset_type}")
            )
            kwargs["IndexName"] = index
            cond = Key(hash_name).eq(pk + suffix)
            low = iso(created_from) if created_from else None
            high = f"{iso(created_to)}#~" if created_to else None
            key_names: tuple[str, ...] = ("pk", "sk", hash_name, range_name)
        else:
            hash_name, range_name = "pk", "sk"
            cond = Key("pk").eq(pk)
            low = (
                "ASSET#" + id_bound(int(created_from.timestamp() * 1000), high=False)
                if created_from
                else None
            )
            high = "ASSET#" + id_bound(int(created_to.timestamp() * 1000), high=True) if created_to else None
            key_names = ("pk", "sk")
        if created_from or created_to:
            floor, ceiling = ("ASSET#", "ASSET#~") if range_name == "sk" else ("0", "~")
            cond = cond & Key(range_name).between(low or floor, high or ceiling)
        elif range_name == "sk":
            cond = cond & Key("sk").begins_with("ASSET#")
        kwargs["KeyConditionExpression"] = cond
        if filter_expression is not None:
            kwargs["FilterExpression"] = filter_expression
        if start_key:
            if start_key.get("pk") != pk or set(start_key) != set(key_names):
                raise InvalidInput("The cursor is not valid: pass the 'next_cursor' of the previous page.")
            kwargs["ExclusiveStartKey"] = start_key
        while True:
            page = self.table.query(**kwargs)
            for item in page.get("Items", []):
                yield from_item(Asset, item), {k: item[k] for k in key_names}
            if not page.get("LastEvaluatedKey"):
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def in_collection(self, owner: str, collection_id: str, limit: int | None = None) -> list[Asset]:
        """A collection's assets, newest first."""
        out: list[Asset] = []
        for asset, _key in self.iter_assets(owner, collection_id=collection_id):
            out.append(asset)
            if limit is not None and len(out) >= limit:
                break
        return out

    def record_usage(self, owner: str, asset_id: str, action: str) -> Asset:
        """Count a download, share or access and stamp last_accessed (an atomic ADD: no lost counts)."""
        counter = USAGE_COUNTERS[action]
        try:
            out = self.table.update_item(
                Key={"pk": user_pk(owner), "sk": f"ASSET#{asset_id}"},
                UpdateExpression=f"ADD {counter} :one SET last_accessed = :now",
                ConditionExpression=Attr("pk").exists(),
                ExpressionAttributeValues={":one": 1, ":now": iso(utcnow())},
                ReturnValues="ALL_NEW",
            )
        except self.table.meta.client.exceptions.ConditionalCheckFailedException:
            raise NotFound(f"No asset {asset_id}.") from None
        return from_item(Asset, out["Attributes"])

    def toggle_favorite(self, owner: str, asset_id: str) -> Asset:
        """Flip an asset's favourite flag atomically (a concurrent flip is retried, not lost)."""
        for _ in range(5):
            asset = self.get(owner, asset_id)
            try:
                out = self.table.update_item(
                    Key={"pk": user_pk(owner), "sk": f"ASSET#{asset_id}"},
                    UpdateExpression="SET favorite = :new, updated_at = :now",
                    ConditionExpression=Attr("favorite").eq(asset.favorite),
                    ExpressionAttributeValues={":new": not asset.favorite, ":now": iso(utcnow())},
                    ReturnValues="ALL_NEW",
                )
            except self.table.meta.client.exceptions.ConditionalCheckFailedException:
                continue
            return from_item(Asset, out["Attributes"])
        raise Conflict(f"Asset {asset_id} is being changed concurrently; try again.")


class UploadRepository:
    def __init__(self, table_name: str) -> None:
        self.table = table(table_name)

    def _item(self, upload: Upload) -> dict[str, Any]:
        expires = int(upload.created_at.timestamp()) + UPLOAD_RECORD_DAYS * 86400
        return {
            **to_item(upload),
            "pk": user_pk(upload.owner),
            "sk": f"UPLOAD#{upload.id}",
            "expires_at": expires,
        }

    def create(self, upload: Upload) -> Upload:
        self.table.put_item(Item=self._item(upload), ConditionExpression=Attr("pk").not_exists())
        return upload

    def get(self, owner: str, upload_id: str) -> Upload:
        item = self.table.get_item(
            Key={"pk": user_pk(owner), "sk": f"UPLOAD#{upload_id}"}, ConsistentRead=True
        ).get("Item")
        if item is None:
            raise NotFound(f"No upload {upload_id}.")
        return from_item(Upload, item)

    def settle(
        self,
        upload: Upload,
        *,
        status: str,
        asset_id: str | None = None,
        reason: str | None = None,
        exported: list[str] | None = None,
        export_error: str | None = None,
    ) -> bool:
        """pending -> ready or rejected, once: a repeated S3 event finds it settled and changes nothing."""
        updated = upload.model_copy(
            update={
                "status": status,
                "asset_id": asset_id,
                "reason": reason,
                "exported": exported or [],
                "export_error": export_error,
                "updated_at": utcnow(),
            }
        )
        try:
            self.table.put_item(Item=self._item(updated), ConditionExpression=Attr("status").eq("pending"))
        except self.table.meta.client.exceptions.ConditionalCheckFailedException:
            return False
        return True
