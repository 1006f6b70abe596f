"""Incoming webhooks: each provider message id is let through once (conditional put, with a TTL)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from imagestudio.notify import ReplayGuard
from imagestudio.store import dynamo

TABLE = "idempotency-test"


@pytest.fixture
def idempotency_table(aws_env: None) -> Iterator[Any]:
    with mock_aws():
        dynamo.reset_clients()
        client = boto3.client("dynamodb")
        client.create_table(
            TableName=TABLE,
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield boto3.resource("dynamodb").Table(TABLE)
        dynamo.reset_clients()


def test_first_delivery_then_duplicate(idempotency_table: Any) -> None:
    guard = ReplayGuard(TABLE, clock=lambda: 1_000)
    assert guard.first_delivery("wavespeed", "evt_1") is True
    assert guard.first_delivery("wavespeed", "evt_1") is False
    assert guard.first_delivery("wavespeed", "evt_2") is True
    assert guard.first_delivery("stability", "evt_1") is True  # ids are per provider
    item = idempotency_table.get_item(Key={"id": "webhook#wavespeed#evt_1"})["Item"]
    assert item["expiration"] == 1_000 + 86_400


def test_an_expired_record_not_yet_swept_by_ttl_counts_as_absent(idempotency_table: Any) -> None:
    assert ReplayGuard(TABLE, clock=lambda: 1_000).first_delivery("p", "m", ttl_seconds=60) is True
    assert ReplayGuard(TABLE, clock=lambda: 1_059).first_delivery("p", "m") is False
    assert ReplayGuard(TABLE, clock=lambda: 1_060).first_delivery("p", "m") is True
