"""Share links in the assets table.

pk SHARE#{token}, sk SHARE: the public lookup needs only the token. The owner's list is the ByType
index under gsi1pk USER#{owner}#SHARES, gsi1sk {target_type}#{target_id}#{created_at} (so the shares
of one asset or collection are a begins_with). TTL removes an item 30 days after it expired.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from imagestudio.errors import NotFound
from imagestudio.models.records import Share, ShareTarget, from_item, iso, to_item, utcnow
from imagestudio.store.conditions import Attr, Key
from imagestudio.store.dynamo import query_all, table, user_pk

KEEP_AFTER_EXPIRY_SECONDS = 30 * 86400
MAX_LISTED = 1000


def _key(token: str) -> dict[str, str]:
    return {"pk": f"SHARE#{token}", "sk": "SHARE"}


class ShareRepository:
    def __init__(self, table_name: str) -> None:
        self.table = table(table_name)

    def create(self, share: Share) -> Share:
        item = {
            **to_item(share),
            **_key(share.token),
            "gsi1pk": f"{user_pk(share.owner)}#SHARES",
            "gsi1sk": f"{share.target_type}#{share.target_id}#{iso(share.created_at)}",
            "expires_at": int(share.expires_at.timestamp()) + KEEP_AFTER_EXPIRY_SECONDS,
        }
        # the record's own expiry is `expires_at` in the model; the TTL attribute shares its name
        item["expires_at_iso"] = iso(share.expires_at)
        self.table.put_item(Item=item, ConditionExpression=Attr("pk").not_exists())
        return share

    @staticmethod
    def _share(item: dict[str, Any]) -> Share:
        data = {**item, "expires_at": item["expires_at_iso"]}
        return from_item(Share, data)

    def find(self, token: str) -> Share | None:
        item = self.table.get_item(Key=_key(token)).get("Item")
        return self._share(item) if item else None

    def list(
        self, owner: str, target_type: ShareTarget | None = None, target_id: str | None = None
    ) -> list[Share]:
        condition = Key("gsi1pk").eq(f"{user_pk(owner)}#SHARES")
        if target_type and target_id:
            condition = condition & Key("gsi1sk").begins_with(f"{target_type}#{target_id}#")
        items = query_all(
            self.table,
            max_items=MAX_LISTED,
            IndexName="ByType",
            KeyConditionExpression=condition,
            ScanIndexForward=False,
        )
        return [self._share(i) for i in items]

    def revoke(self, owner: str, token: str, now: datetime | None = None) -> Share:
        try:
            out = self.table.update_item(
                Key=_key(token),
                UpdateExpression="SET revoked_at = if_not_exists(revoked_at, :now)",
                ConditionExpression=Attr("owner").eq(owner),
                ExpressionAttributeValues={":now": iso(now or utcnow())},
                ReturnValues="ALL_NEW",
            )
        except self.table.meta.client.exceptions.ConditionalCheckFailedException:
            raise NotFound("No such share link.") from None
        return self._share(out["Attributes"])

    def count_view(self, token: str, now: datetime | None = None) -> None:
        self.table.update_item(
            Key=_key(token),
            UpdateExpression="ADD #views :one SET last_viewed_at = :now",
            ConditionExpression=Attr("pk").exists(),
            ExpressionAttributeNames={"#views": "views"},
            ExpressionAttributeValues={":one": 1, ":now": iso(now or utcnow())},
        )
