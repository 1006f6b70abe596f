"""Jobs in DynamoDB. Access patterns and keys: docs/data-model.md (Jobs)."""

from __future__ import annotations

import zlib
from datetime import datetime
from typing import Any

from imagestudio.errors import Conflict, NotFound
from imagestudio.models.records import OPEN_STATUSES, Job, from_item, iso, to_item, utcnow
from imagestudio.store.conditions import Attr, Key
from imagestudio.store.dynamo import decode_cursor, encode_cursor, table, user_pk

OPEN_SHARDS = 10


def _sk(job_id: str) -> str:
    return f"JOB#{job_id}"


def open_shard(job_id: str) -> str:
    return f"OPEN#{zlib.crc32(job_id.encode()) % OPEN_SHARDS}"


TRANSITION_ATTEMPTS = 5


class JobRepository:
    def __init__(self, table_name: str) -> None:
        self.table = table(table_name)

    def _item(self, job: Job) -> dict[str, Any]:
        created = iso(job.created_at)
        item = {
            **to_item(job),
            "pk": user_pk(job.owner),
            "sk": _sk(job.id),
            "gsi1pk": f"{user_pk(job.owner)}#STATUS#{job.status}",
            "gsi1sk": f"{created}#{job.id}",
            "gsi2pk": f"{user_pk(job.owner)}#OP#{job.operation}",
            "gsi2sk": f"{created}#{job.id}",
        }
        if job.is_open and job.deadline is not None:
            item["open_shard"] = open_shard(job.id)
            item["deadline"] = iso(job.deadline)
        return item

    def create(self, job: Job) -> Job:
        self.table.put_item(Item=self._item(job), ConditionExpression=Attr("pk").not_exists())
        return job

    def _raw(self, owner: str, job_id: str) -> dict[str, Any]:
        item: dict[str, Any] | None = self.table.get_item(
            Key={"pk": user_pk(owner), "sk": _sk(job_id)}, ConsistentRead=True
        ).get("Item")
        if item is None:
            raise NotFound(f"No job {job_id}.")
        return item

    def get(self, owner: str, job_id: str) -> Job:
        return from_item(Job, self._raw(owner, job_id))

    def find(
        self,
        owner: str,
        *,
        status: str | None = None,
        operation: str | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> tuple[list[Job], str | None]:
        """Newest first. Status or operation use their index; with both, the status index filtered."""
        pk = user_pk(owner)
        kwargs: dict[str, Any] = {"ScanIndexForward": False, "Limit": limit}
        if status is not None:
            kwargs["IndexName"] = "ByStatus"
            kwargs["KeyConditionExpression"] = Key("gsi1pk").eq(f"{pk}#STATUS#{status}")
            if operation is not None:
                kwargs["FilterExpression"] = Attr("operation").eq(operation)
        elif operation is not None:
            kwargs["IndexName"] = "ByOperation"
            kwargs["KeyConditionExpression"] = Key("gsi2pk").eq(f"{pk}#OP#{operation}")
        else:
            kwargs["KeyConditionExpression"] = Key("pk").eq(pk) & Key("sk").begins_with("JOB#")
        start = decode_cursor(cursor, owner_pk=pk)
        if start:
            kwargs["ExclusiveStartKey"] = start
        page = self.table.query(**kwargs)
        jobs = [from_item(Job, item) for item in page.get("Items", [])]
        return jobs, encode_cursor(page.get("LastEvaluatedKey"))

    def transition(
        self, owner: str, job_id: str, *, from_statuses: set[str] | frozenset[str], to: str, **fields: Any
    ) -> Job:
        """Move a job between statuses only if it is in one of `from_statuses` (a conditional write).
        A concurrent change that leaves it in an allowed status (a progress update) is read again and
        the move retried; one that takes it out of them is a 409."""
        for _attempt in range(TRANSITION_ATTEMPTS):
            raw = self._raw(owner, job_id)
            job = from_item(Job, raw)
            if job.status not in from_statuses:
                raise Conflict(
                    f"Job {job_id} is {job.status}; it can only become {to} "
                    f"from {', '.join(sorted(from_statuses))}."
                )
            now = utcnow()
            updated = job.model_copy(update={**fields, "status": to, "updated_at": now})
            if to not in OPEN_STATUSES and updated.finished_at is None:
                updated = updated.model_copy(update={"finished_at": now})
            try:
                self.table.put_item(
                    Item=self._item(updated),
                    ConditionExpression=Attr("status").eq(raw["status"])
                    & Attr("updated_at").eq(raw["updated_at"]),
                )
            except self.table.meta.client.exceptions.ConditionalCheckFailedException:
                continue
            return updated
        raise Conflict(f"Job {job_id} changed while it was being updated; retry.")

    def map_provider_job(self, provider: str, provider_job_id: str, owner: str, job_id: str) -> None:
        """Where a provider's webhook about `provider_job_id` belongs (written at submit)."""
        self.table.put_item(
            Item={
                "pk": f"PJOB#{provider}#{provider_job_id}",
                "sk": "MAP",
                "owner": owner,
                "job_id": job_id,
                "expires_at": int(utcnow().timestamp()) + 30 * 86400,
            }
        )

    def provider_job_owner(self, provider: str, provider_job_id: str) -> tuple[str, str]:
        item = self.table.get_item(Key={"pk": f"PJOB#{provider}#{provider_job_id}", "sk": "MAP"}).get("Item")
        if item is None:
            raise NotFound(f"No job for {provider} job {provider_job_id}.")
        return str(item["owner"]), str(item["job_id"])

    def overdue(self, now: datetime, *, limit: int = 100) -> list[tuple[str, str]]:
        """(owner, job id) of open jobs whose deadline passed, from the sparse OpenByDeadline index."""
        return self.open_jobs(before=now, limit=limit)

    def open_jobs(self, *, before: datetime | None = None, limit: int = 1000) -> list[tuple[str, str]]:
        """(owner, job id) of every open job (with `before`, only those whose deadline is earlier)."""
        found: list[tuple[str, str]] = []
        for shard in range(OPEN_SHARDS):
            condition = Key("open_shard").eq(f"OPEN#{shard}")
            if before is not None:
                condition = condition & Key("deadline").lt(iso(before))
            kwargs: dict[str, Any] = {"IndexName": "OpenByDeadline", "KeyConditionExpression": condition}
            while True:
                page = self.table.query(**kwargs)
                for item in page.get("Items", []):
                    found.append(
                        (str(item["pk"]).removeprefix("USER#"), str(item["sk"]).removeprefix("JOB#"))
                    )
                if "LastEvaluatedKey" not in page or len(found) >= limit:
                    break
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return found[:limit]
