"""Batches and their rows in the jobs table. Keys: docs/data-model.md (Batches).

A batch: pk USER#{owner}, sk BATCH#{id}; while it waits for its time it carries `due_shard` and
`next_run_at`, which the sparse DueBatches index serves to the dispatcher. Its rows: pk BATCH#{id},
sk ROW#{n:06d}. Progress counters are ADDed by the row that finishes, so they are exact under the Map's
concurrency; every status change is conditional on the status it was read in.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from imagestudio.errors import Conflict, NotFound
from imagestudio.models.batches import Batch, BatchRowRecord, RowStatus
from imagestudio.models.records import from_item, iso, to_item, utcnow
from imagestudio.store.conditions import Attr, Key
from imagestudio.store.dynamo import decode_cursor, encode_cursor, table, user_pk

DUE_SHARD = "DUE"
COUNTERS = ("succeeded", "failed", "canceled", "skipped")  # rows that ended, by outcome
ADDED = (*COUNTERS, "credits_charged", "credits_refunded")  # only ever ADDed, by the rows


def _batch_key(owner: str, batch_id: str) -> dict[str, str]:
    return {"pk": user_pk(owner), "sk": f"BATCH#{batch_id}"}


def _row_key(batch_id: str, row: int) -> dict[str, str]:
    return {"pk": f"BATCH#{batch_id}", "sk": f"ROW#{row:06d}"}


class BatchRepository:
    def __init__(self, table_name: str) -> None:
        self.table = table(table_name)
        self.name = table_name

    # --- batches -------------------------------------------------------------------------------

    def _item(self, batch: Batch) -> dict[str, Any]:
        item = {**to_item(batch), **_batch_key(batch.owner, batch.id)}
        if batch.next_run_at is not None and batch.status == "scheduled":
            item["due_shard"] = DUE_SHARD
            item["next_run_at"] = iso(batch.next_run_at)
        return item

    def create(self, batch: Batch, rows: Iterable[BatchRowRecord] = ()) -> Batch:
        self.table.put_item(Item=self._item(batch), ConditionExpression=Attr("pk").not_exists())
        self.put_rows(rows)
        return batch

    def put_rows(self, rows: Iterable[BatchRowRecord]) -> None:
        with self.table.batch_writer() as writer:
            for row in rows:
                writer.put_item(Item={**to_item(row), **_row_key(row.batch_id, row.row)})

    def get(self, owner: str, batch_id: str) -> Batch:
        item = self.table.get_item(Key=_batch_key(owner, batch_id), ConsistentRead=True).get("Item")
        if item is None:
            raise NotFound(f"No batch {batch_id}.")
        return from_item(Batch, item)

    def page(
        self, owner: str, *, limit: int = 50, cursor: str | None = None
    ) -> tuple[list[Batch], str | None]:
        pk = user_pk(owner)
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": Key("pk").eq(pk) & Key("sk").begins_with("BATCH#"),
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if start := decode_cursor(cursor, owner_pk=pk):
            kwargs["ExclusiveStartKey"] = start
        page = self.table.query(**kwargs)
        return [from_item(Batch, i) for i in page.get("Items", [])], encode_cursor(
            page.get("LastEvaluatedKey")
        )

    def replace(self, batch: Batch, *, expected_status: Iterable[str]) -> Batch:
        """Write a changed batch only if its status is still one of `expected_status` (409 otherwise).
        The counters are kept from the stored item: rows ADD to them concurrently."""
        updated = batch.model_copy(update={"updated_at": utcnow()})
        fields = to_item(updated)
        for counter in ADDED:
            fields.pop(counter, None)
        sets = {k: v for k, v in fields.items() if k not in ("id", "owner")}
        removes = [k for k in Batch.model_fields if k not in fields and k not in (*ADDED, "id", "owner")]
        names = {f"#{k}": k for k in [*sets, *removes, "due_shard", "next_run_at", "status"]}
        values: dict[str, Any] = {f":{k}": v for k, v in sets.items()}
        expression = "SET " + ", ".join(f"#{k} = :{k}" for k in sets)
        due = self._item(updated)
        if "due_shard" in due:
            expression += ", #due_shard = :due_shard"
            values[":due_shard"] = due["due_shard"]
            values[":next_run_at"] = due["next_run_at"]  # the index's sort key, in one format
        else:
            removes = [*removes, "due_shard"]
        if removes:
            expression += " REMOVE " + ", ".join(f"#{k}" for k in dict.fromkeys(removes))
        expected = list(expected_status)
        values |= {f":was{i}": s for i, s in enumerate(expected)}
        condition = "#status IN (" + ", ".join(f":was{i}" for i in range(len(expected))) + ")"
        try:
            out = self.table.update_item(
                Key=_batch_key(batch.owner, batch.id),
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except self.table.meta.client.exceptions.ConditionalCheckFailedException:
            now = self.get(batch.owner, batch.id)
            raise Conflict(
                f"Batch {batch.id} is {now.status} now; it was expected to be {' or '.join(expected)}.",
                details={"status": now.status},
            ) from None
        return from_item(Batch, out["Attributes"])

    def count(self, owner: str, batch_id: str, outcome: str, *, charged: int = 0, refunded: int = 0) -> Batch:
        if outcome not in COUNTERS:
            raise ValueError(f"a row ends {' or '.join(COUNTERS)}, not {outcome}")
        out = self.table.update_item(
            Key=_batch_key(owner, batch_id),
            UpdateExpression="ADD #c :one, credits_charged :charged, credits_refunded :refunded "
            "SET updated_at = :now",
            ExpressionAttributeNames={"#c": outcome},
            ExpressionAttributeValues={
                ":one": 1,
                ":charged": charged,
                ":refunded": refunded,
                ":now": iso(utcnow()),
            },
            ReturnValues="ALL_NEW",
        )
        return from_item(Batch, out["Attributes"])

    def due(self, now: datetime, *, limit: int = 100) -> list[dict[str, Any]]:
        """Keys and times of batches whose time has come (DueBatches index, oldest first)."""
        page = self.table.query(
            IndexName="DueBatches",
            KeyConditionExpression=Key("due_shard").eq(DUE_SHARD) & Key("next_run_at").lte(iso(now)),
            Limit=limit,
        )
        return list(page.get("Items", []))

    def in_flight(self) -> list[Batch]:
        """Batches whose rows are running or about to (queued, running, canceling).

        Maintenance only (the offline stack's restart recovery), never a request path: a Scan of the
        jobs table, filtered on the batch items."""
        kwargs: dict[str, Any] = {
            "FilterExpression": Attr("sk").begins_with("BATCH#")
            & Attr("status").is_in(["queued", "running", "canceling"]),
        }
        found: list[Batch] = []
        while True:
            page = self.table.scan(**kwargs)
            found.extend(from_item(Batch, i) for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return found
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def claim_run(self, schedule: Batch, seen_next_run: str, run: Batch, following: datetime | None) -> bool:
        """Exactly once per due time: move the schedule on (a recurring one to `following`, a one-time one
        out of the index) and create its run, in one transaction conditional on the time the dispatcher
        saw. A second dispatcher (or a retry) finds the time moved and gets False."""
        key = _batch_key(schedule.owner, schedule.id)
        counted = "run_count = if_not_exists(run_count, :zero) + :one, updated_at = :now"
        values: dict[str, Any] = {":zero": 0, ":one": 1}
        if following is not None:
            update = f"SET next_run_at = :next, {counted}"
            values[":next"] = iso(following)
        elif run.id != schedule.id:
            update = f"REMOVE due_shard, next_run_at SET #s = :ended, {counted}"
            values[":ended"] = "succeeded"  # a recurring schedule that never fires again
        else:  # a one-time batch is its own run: it leaves the index queued
            update = f"REMOVE due_shard, next_run_at SET #s = :queued, {counted}"
            values[":queued"] = "queued"
        values |= {":seen": seen_next_run, ":scheduled": "scheduled", ":now": iso(utcnow())}
        ops: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": self.name,
                    "Key": key,
                    "UpdateExpression": update,
                    "ConditionExpression": "next_run_at = :seen AND #s = :scheduled",
                    "ExpressionAttributeNames": {"#s": "status"},
                    "ExpressionAttributeValues": values,
                }
            }
        ]
        if run.id != schedule.id:
            ops.append(
                {
                    "Put": {
                        "TableName": self.name,
                        "Item": self._item(run),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            )
        try:
            self.table.meta.client.transact_write_items(TransactItems=ops)
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") == "TransactionCanceledException":
                return False
            raise
        return True

    # --- rows ----------------------------------------------------------------------------------

    def row(self, batch_id: str, row: int) -> BatchRowRecord:
        item = self.table.get_item(Key=_row_key(batch_id, row), ConsistentRead=True).get("Item")
        if item is None:
            raise NotFound(f"No row {row} in batch {batch_id}.")
        return from_item(BatchRowRecord, item)

    def rows(
        self, batch_id: str, *, limit: int = 100, cursor: str | None = None, status: RowStatus | None = None
    ) -> tuple[list[BatchRowRecord], str | None]:
        pk = f"BATCH#{batch_id}"
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": Key("pk").eq(pk) & Key("sk").begins_with("ROW#"),
            "Limit": limit,
        }
        if status:
            kwargs["FilterExpression"] = Attr("status").eq(status)
        if start := decode_cursor(cursor, owner_pk=pk):
            kwargs["ExclusiveStartKey"] = start
        page = self.table.query(**kwargs)
        return [from_item(BatchRowRecord, i) for i in page.get("Items", [])], encode_cursor(
            page.get("LastEvaluatedKey")
        )

    def all_rows(self, batch_id: str) -> Iterator[BatchRowRecord]:
        cursor = None
        while True:
            page, cursor = self.rows(batch_id, limit=500, cursor=cursor)
            yield from page
            if not cursor:
                return

    def update_row(self, row: BatchRowRecord, *, expected: Iterable[str]) -> BatchRowRecord | None:
        """Write a row's new state if its status is still one of `expected`; None when it moved on."""
        expected = list(expected)
        values = {f":was{i}": s for i, s in enumerate(expected)}
        try:
            self.table.put_item(
                Item={
                    **to_item(row.model_copy(update={"updated_at": utcnow()})),
                    **_row_key(row.batch_id, row.row),
                },
                ConditionExpression="#s IN (" + ", ".join(values) + ")",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues=values,
            )
        except self.table.meta.client.exceptions.ConditionalCheckFailedException:
            return None
        return row
