"""The offline stack's durable state: DynamoDB items and S3 objects kept on disk under the state dir.

moto 5.2.5 keeps everything in memory. What it offers towards persistence is its request recorder
(`MOTO_ENABLE_RECORDING`, `/moto-api/recorder/*`): it appends every request to a file and replays
them all on demand. Replaying our traffic would run the side effects again (S3 notifications invoke
on_upload, `StartExecution` starts provider jobs, reservations are written twice) and the file grows
without bound, so it cannot serve as a store. This module snapshots the data instead:

- DynamoDB: every item of every table of the plan, read from moto's backend under the lock that makes
  each DynamoDB request atomic (local/moto_atomic.py), so a snapshot never holds half a transaction.
  One JSON file per table (DynamoDB's own attribute-value JSON), written to a temporary file and renamed.
- SQS: the bodies of the messages waiting in the plan's queues (the dead letters still to re-drive).
- S3: the current version of every object (bytes, content type, user metadata) of every bucket, one
  file per object named by its key's hash and ETag, plus an index written last: an object changed
  between two snapshots is written once, and a crash mid-snapshot leaves the previous index valid.

`restore` runs after the tables and buckets exist and before S3 notifications are configured, so
putting the objects back does not trigger on_upload again.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local import moto_atomic
from local.periodic import Periodic
from local.provision import StackPlan

log = logging.getLogger("local.persistence")

SNAPSHOT_SECONDS = 2.0  # the periodic snapshot: a crash (kill -9, power) loses at most this much
FORMAT = 1


@dataclass
class SaveReport:
    items: int
    objects: int
    objects_written: int
    messages: int
    seconds: float


_BYTES = "__local_b64__"  # moto keeps binary attribute values as bytes: JSON holds them as base64


def _encode(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return {_BYTES: base64.b64encode(value).decode()}
    raise TypeError(f"cannot save {type(value).__name__}")


def _decode(obj: dict[str, Any]) -> Any:
    return base64.b64decode(obj[_BYTES]) if list(obj) == [_BYTES] else obj


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)


class StateStore:
    """Saves and restores the data of a plan's tables and buckets under `root`."""

    def __init__(self, root: Path, plan: StackPlan, session: Any) -> None:
        self.root = Path(root)
        self.plan = plan
        self.session = session
        self._save_lock = threading.Lock()
        self._periodic = Periodic("local-state-snapshot", self.save)
        self.last_save: SaveReport | None = None
        self._clients: dict[str, Any] = {}
        self._clients_lock = threading.Lock()

    def _client(self, service: str) -> Any:
        """One client per service, made once: boto3's Session.client is not safe across threads."""
        with self._clients_lock:
            if service not in self._clients:
                self._clients[service] = self.session.client(service)
            return self._clients[service]

    @property
    def tables_dir(self) -> Path:
        return self.root / "dynamodb"

    @property
    def buckets_dir(self) -> Path:
        return self.root / "s3"

    @property
    def queues_file(self) -> Path:
        return self.root / "sqs.json"

    def _tables(self) -> dict[str, str]:
        return {logical: self.plan.physical[logical] for logical in self.plan.tables}

    def _buckets(self) -> dict[str, str]:
        return {logical: self.plan.physical[logical] for logical in self.plan.buckets}

    def _backend(self) -> Any:
        from moto.dynamodb.models import dynamodb_backends

        return dynamodb_backends[self.plan.account_id][self.plan.region]

    # -------------------------------------------------------------------------------- save

    def save(self) -> SaveReport:
        """One snapshot of every table and bucket; returns what it kept."""
        started = time.monotonic()
        with self._save_lock:
            items = self._save_tables()
            objects, written = self._save_buckets()
            messages = self._save_queues()
        report = SaveReport(items, objects, written, messages, time.monotonic() - started)
        self.last_save = report
        return report

    def _save_tables(self) -> int:
        backend = self._backend()
        dumps: dict[str, bytes] = {}
        count = 0
        with moto_atomic.LOCK:  # no DynamoDB request runs while the tables are read: one consistent cut
            for name in self._tables().values():
                table = backend.get_table(name)
                rows = [item.to_json()["Attributes"] for item in table.all_items()]
                count += len(rows)
                dumps[name] = json.dumps(
                    {"format": FORMAT, "table": name, "items": rows}, default=_encode
                ).encode()
        for name, data in dumps.items():
            path = self.tables_dir / f"{name}.json"
            if not path.exists() or path.read_bytes() != data:
                _write_atomic(path, data)
        return count

    def _save_buckets(self) -> tuple[int, int]:
        s3 = self._client("s3")
        total = written = 0
        for name in self._buckets().values():
            folder = self.buckets_dir / name
            index_path = folder / "index.json"
            old: dict[str, Any] = json.loads(index_path.read_text()) if index_path.exists() else {}
            new: dict[str, Any] = {}
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
                for obj in page.get("Contents", []):
                    key, etag = obj["Key"], obj["ETag"].strip('"')
                    kept = old.get(key)
                    if kept and kept["etag"] == etag and (folder / "objects" / kept["file"]).exists():
                        new[key] = kept
                        continue
                    try:
                        got = s3.get_object(Bucket=name, Key=key)
                    except s3.exceptions.NoSuchKey:
                        continue  # deleted since it was listed
                    body = got["Body"].read()
                    file = hashlib.sha256(f"{key}\0{etag}".encode()).hexdigest()
                    _write_atomic(folder / "objects" / file, body)
                    new[key] = {
                        "etag": etag,
                        "file": file,
                        "content_type": got.get("ContentType") or "binary/octet-stream",
                        "metadata": got.get("Metadata") or {},
                    }
                    written += 1
            total += len(new)
            if new != old:
                _write_atomic(index_path, json.dumps(new, sort_keys=True).encode())
                keep = {entry["file"] for entry in new.values()}
                for path in (folder / "objects").glob("*") if (folder / "objects").is_dir() else []:
                    if path.name not in keep and not path.name.startswith("."):
                        path.unlink(missing_ok=True)
        return total, written

    def _save_queues(self) -> int:
        from moto.sqs.models import sqs_backends

        backend = sqs_backends[self.plan.account_id][self.plan.region]
        saved: dict[str, list[str]] = {}
        for logical in self.plan.queues:
            name = self.plan.queue_name(logical)
            queue = backend.queues.get(name)
            saved[name] = [m.body for m in list(queue._messages)] if queue is not None else []
        data = json.dumps({"format": FORMAT, "queues": saved}, sort_keys=True).encode()
        if not self.queues_file.exists() or self.queues_file.read_bytes() != data:
            _write_atomic(self.queues_file, data)
        return sum(len(bodies) for bodies in saved.values())

    # ----------------------------------------------------------------------------- restore

    def restore(self) -> tuple[int, int]:
        """Put the saved items and objects back (tables and buckets must exist); (items, objects)."""
        backend = self._backend()
        items = objects = 0
        for name in self._tables().values():
            path = self.tables_dir / f"{name}.json"
            if not path.exists():
                continue
            saved = json.loads(path.read_text(), object_hook=_decode)
            try:
                for row in saved["items"]:
                    backend.put_item(name, row)
                    items += 1
            except Exception as exc:  # a key schema changed in the template since the save
                raise SystemExit(
                    f"the saved items of table {name} ({path}) do not fit the template any more: {exc}. "
                    f"Move {self.root} aside to keep it, or run `make reset` to start empty."
                ) from exc
        s3 = self._client("s3")
        for name in self._buckets().values():
            folder = self.buckets_dir / name
            index_path = folder / "index.json"
            if not index_path.exists():
                continue
            for key, entry in json.loads(index_path.read_text()).items():
                path = folder / "objects" / entry["file"]
                if not path.exists():
                    log.warning("state: object %s/%s has no saved bytes; skipped", name, key)
                    continue
                s3.put_object(
                    Bucket=name,
                    Key=key,
                    Body=path.read_bytes(),
                    ContentType=entry["content_type"],
                    Metadata=entry["metadata"],
                )
                objects += 1
        if self.queues_file.exists():
            sqs = self._client("sqs")
            for name, bodies in json.loads(self.queues_file.read_text())["queues"].items():
                if bodies and name in {self.plan.queue_name(q) for q in self.plan.queues}:
                    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
                    for body in bodies:
                        sqs.send_message(QueueUrl=url, MessageBody=body)
        return items, objects

    # ---------------------------------------------------------------------------- periodic

    def start(self, interval: float = SNAPSHOT_SECONDS) -> None:
        self._periodic.start(interval)

    def stop(self) -> None:
        """Stop the periodic snapshots (waiting for one in progress); the caller saves last."""
        self._periodic.stop(wait=30)
