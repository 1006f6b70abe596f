"""local/persistence.py: what one emulator saved, a fresh one (provisioned from the same template) gets
back exactly, without firing the S3 trigger again; an unchanged object is not written twice."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3

from local.persistence import StateStore
from local.provision import plan_stack
from local.stack import LOCAL_PARAMETERS
from tests.conftest import TEMPLATE, deploy

PARAMETERS = {**LOCAL_PARAMETERS, "PollWaitScale": "0"}


def everything(deployed: Any) -> dict[str, Any]:
    """Every item of every table, object of every bucket and message of every queue, comparable."""
    dynamodb = deployed.session.client("dynamodb")
    s3 = deployed.session.client("s3")
    sqs = deployed.session.client("sqs")
    plan = deployed.plan
    out: dict[str, Any] = {}
    for logical in plan.tables:
        items = dynamodb.scan(TableName=plan.physical[logical])["Items"]
        out[logical] = sorted(items, key=repr)
    for logical in plan.buckets:
        bucket = plan.physical[logical]
        for obj in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
            got = s3.get_object(Bucket=bucket, Key=obj["Key"])
            out[f"{logical}/{obj['Key']}"] = (got["Body"].read(), got["ContentType"], got["Metadata"])
    for logical in plan.queues:
        url = sqs.get_queue_url(QueueName=plan.queue_name(logical))["QueueUrl"]
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
        out[logical] = sorted(m["Body"] for m in messages.get("Messages", []))
    return out


def test_a_saved_stack_comes_back_whole_and_quietly(aws_env: None, tmp_path: Path) -> None:
    first = deploy(TEMPLATE, PARAMETERS)
    deployed = next(first)
    try:
        plan = deployed.plan
        jobs, bucket = plan.physical["JobsTable"], plan.physical["MediaBucket"]
        dynamodb, s3 = deployed.session.client("dynamodb"), deployed.session.client("s3")
        dynamodb.put_item(
            TableName=jobs,
            Item={
                "pk": {"S": "USER#ada"},
                "sk": {"S": "JOB#01J"},
                "credits": {"N": "12.5"},
                "thumb": {"B": b"\x00\xffbinary"},
                "tags": {"SS": ["a", "b"]},
                "inputs": {"M": {"n": {"L": [{"N": "1"}, {"NULL": True}, {"BOOL": False}]}}},
            },
        )
        s3.put_object(
            Bucket=bucket, Key="assets/ada/a1/original.png", Body=b"\x89PNG...", ContentType="image/png"
        )
        s3.put_object(Bucket=bucket, Key="tmp/note.txt", Body=b"hi", Metadata={"owner": "ada"})
        sqs = deployed.session.client("sqs")
        dead = sqs.get_queue_url(QueueName=plan.queue_name("OnUploadDeadLetterQueue"))["QueueUrl"]
        sqs.send_message(QueueUrl=dead, MessageBody='{"requestPayload": {"Records": []}}')
        before = everything(deployed)

        store = StateStore(tmp_path, plan, deployed.session)
        saved = store.save()
        assert (saved.items, saved.objects, saved.objects_written, saved.messages) == (1, 2, 2, 1)
        again = store.save()
        assert again.objects_written == 0  # nothing changed: no object is written again
    finally:
        first.close()

    fresh = StateStore(
        tmp_path, plan_stack(TEMPLATE, parameters=PARAMETERS), boto3.Session(region_name="us-east-1")
    )
    second = deploy(TEMPLATE, PARAMETERS, before_triggers=lambda: restore(fresh))
    try:
        assert everything(next(second)) == before
    finally:
        second.close()


def restore(store: StateStore) -> None:
    store.restore()


def test_an_empty_state_dir_restores_nothing(aws_env: None, tmp_path: Path) -> None:
    gen = deploy(TEMPLATE, PARAMETERS)
    deployed = next(gen)
    try:
        assert StateStore(tmp_path / "none", deployed.plan, deployed.session).restore() == (0, 0)
    finally:
        gen.close()


def test_a_saved_upload_comes_back_without_running_on_upload_again(aws_env: None, tmp_path: Path) -> None:
    """The snapshot holds an upload's bytes (saved between the PUT and its verification): restoring
    them must not deliver the ObjectCreated event a second time."""
    plan = plan_stack(TEMPLATE, parameters=PARAMETERS)
    bucket, key = plan.physical["MediaBucket"], "uploads/ada/01J/original"
    (tmp_path / "s3" / bucket / "objects").mkdir(parents=True)
    (tmp_path / "s3" / bucket / "objects" / "f").write_bytes(b"raw upload")
    index = {key: {"etag": "x", "file": "f", "content_type": "image/png", "metadata": {}}}
    (tmp_path / "s3" / bucket / "index.json").write_text(json.dumps(index))
    store = StateStore(tmp_path, plan, boto3.Session(region_name=plan.region))
    gen = deploy(TEMPLATE, PARAMETERS, before_triggers=lambda: restore(store))
    deployed = next(gen)
    try:
        s3 = deployed.session.client("s3")
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"raw upload"
        assert deployed.runtime.invocations == []
    finally:
        gen.close()
