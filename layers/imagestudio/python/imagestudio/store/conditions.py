"""DynamoDB condition builders (`Key`, `Attr`), loaded on first use.

`boto3.dynamodb.conditions` imports the whole of boto3 and botocore: as long as the rest of an API
function's cold start. The repositories build conditions only inside requests, so the import waits
for the first request that needs one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from boto3.dynamodb import conditions


def Key(name: str) -> conditions.Key:
    from boto3.dynamodb.conditions import Key as key

    return key(name)


def Attr(name: str) -> conditions.Attr:
    from boto3.dynamodb.conditions import Attr as attr

    return attr(name)
