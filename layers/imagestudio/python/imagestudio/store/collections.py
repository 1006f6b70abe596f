"""Collections (and campaigns) in the assets table: pk USER#{owner}, sk COLL#{id}.

An asset is in at most one collection (as in the original): its `collection_id`, indexed by
ByCollection. Moving an asset and counting the collections' members is one transaction, so
`asset_count` never drifts from the index.
"""

from __future__ import annotations

import contextlib
from typing import Any

from botocore.exceptions import ClientError

from imagestudio.errors import Conflict, NotFound
from imagestudio.models.records import Asset, Collection, from_item, iso, to_item, utcnow
from imagestudio.store.conditions import Attr, Key
from imagestudio.store.dynamo import query_all, table, user_pk

EDITABLE = ("name", "description", "cover_asset_id", "starts_on", "ends_on", "platforms")
MAX_COLLECTIONS = 1000


def _key(owner: str, collection_id: str) -> dict[str, str]:
    return {"pk": user_pk(owner), "sk": f"COLL#{collection_id}"}


class CollectionRepository:
    def __init__(self, table_name: str) -> None:
        self.table = table(table_name)
        self.name = table_name

    def create(self, collection: Collection) -> Collection:
        item = {**to_item(collection), **_key(collection.owner, collection.id)}
        self.table.put_item(Item=item, ConditionExpression=Attr("pk").not_exists())
        return collection

    def get(self, owner: str, collection_id: str) -> Collection:
        item = self.table.get_item(Key=_key(owner, collection_id), ConsistentRead=True).get("Item")
        if item is None:
            raise NotFound(f"No collection {collection_id}.")
        return from_item(Collection, item)

    def list(self, owner: str) -> list[Collection]:
        """The owner's collections, oldest first (ids are time-ordered)."""
        condition = Key("pk").eq(user_pk(owner)) & Key("sk").begins_with("COLL#")
        items = query_all(self.table, max_items=MAX_COLLECTIONS, KeyConditionExpression=condition)
        return [from_item(Collection, i) for i in items]

    def update(self, collection: Collection) -> Collection:
        """Write the editable fields only: the member count belongs to the membership transactions."""
        fields = collection.model_dump(mode="json", include=set(EDITABLE))
        sets = {k: v for k, v in fields.items() if v not in (None, [])}
        removes = [k for k in fields if k not in sets]
        names = {f"#{k}": k for k in fields}
        values: dict[str, Any] = {f":{k}": v for k, v in sets.items()}
        values[":now"] = iso(utcnow())
        expression = "SET " + ", ".join([*(f"#{k} = :{k}" for k in sets), "updated_at = :now"])
        if removes:
            expression += " REMOVE " + ", ".join(f"#{k}" for k in removes)
        try:
            out = self.table.update_item(
                Key=_key(collection.owner, collection.id),
                UpdateExpression=expression,
                ConditionExpression=Attr("pk").exists(),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except self.table.meta.client.exceptions.ConditionalCheckFailedException:
            raise NotFound(f"No collection {collection.id}.") from None
        return from_item(Collection, out["Attributes"])

    def delete(self, owner: str, collection_id: str) -> None:
        self.table.delete_item(Key=_key(owner, collection_id))

    def clear_cover(self, owner: str, collection_id: str, asset_id: str) -> None:
        """Forget a deleted asset as the cover (only if it still is the cover)."""
        with contextlib.suppress(self.table.meta.client.exceptions.ConditionalCheckFailedException):
            self.table.update_item(
                Key=_key(owner, collection_id),
                UpdateExpression="REMOVE cover_asset_id SET updated_at = :now",
                ConditionExpression=Attr("cover_asset_id").eq(asset_id),
                ExpressionAttributeValues={":now": iso(utcnow())},
            )

    def move(self, asset: Asset, to: str | None) -> Asset:
        """Put an asset in collection `to` (None: in none), leaving the one it was in; counts follow.

        One transaction: the asset's membership (only if it is still where it was read), +1 on the new
        collection and -1 on the old one (each only if that collection exists)."""
        if asset.collection_id == to:
            return asset
        pk = user_pk(asset.owner)
        now = iso(utcnow())
        was = asset.collection_id
        values: dict[str, Any] = {":now": now}
        if to:
            update = "SET collection_id = :to, gsi2pk = :g2pk, gsi2sk = :g2sk, updated_at = :now"
            values |= {":to": to, ":g2pk": f"{pk}#COLL#{to}", ":g2sk": f"{iso(asset.created_at)}#{asset.id}"}
        else:
            update = "REMOVE collection_id, gsi2pk, gsi2sk SET updated_at = :now"
        if was:
            condition = "attribute_exists(pk) AND collection_id = :was"
            values[":was"] = was
        else:
            condition = "attribute_exists(pk) AND attribute_not_exists(collection_id)"
        ops: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": self.name,
                    "Key": {"pk": pk, "sk": f"ASSET#{asset.id}"},
                    "UpdateExpression": update,
                    "ConditionExpression": condition,
                    "ExpressionAttributeValues": values,
                }
            }
        ]
        for collection_id, delta in ((to, 1), (was, -1)):
            if collection_id:
                ops.append(
                    {
                        "Update": {
                            "TableName": self.name,
                            "Key": _key(asset.owner, collection_id),
                            "UpdateExpression": "ADD asset_count :d SET updated_at = :now",
                            "ConditionExpression": "attribute_exists(pk)",
                            "ExpressionAttributeValues": {":d": delta, ":now": now},
                        }
                    }
                )
        try:
            self.table.meta.client.transact_write_items(TransactItems=ops)
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            reasons = [r.get("Code") for r in err.response.get("CancellationReasons") or []]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                raise Conflict(
                    f"Asset {asset.id} was moved or deleted meanwhile; read it again and retry.",
                    details={"asset_id": asset.id},
                ) from None
            if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed" and to:
                raise NotFound(f"No collection {to}.") from None
            raise Conflict("The collection changed meanwhile; retry.") from None
        return asset.model_copy(update={"collection_id": to, "updated_at": utcnow()})
