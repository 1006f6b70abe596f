"""DynamoDB requests in moto, one at a time: each request is atomic and isolated, as on DynamoDB.

moto 5.2's transact_write_items checks conditions item by item and restores a deepcopy snapshot on
cancellation, over other threads' writes. Under concurrency (the server's request threads, Step
Functions tasks running beside API calls) that can apply a guarded ledger movement twice. One lock
around each DynamoDB request gives moto DynamoDB's per-request guarantee; requests still interleave
freely between a caller's reads and its conditional writes, as they do on AWS.
"""

from __future__ import annotations

import threading
from typing import Any

LOCK = threading.RLock()  # also held by local/persistence.py for a consistent snapshot
_ORIGINAL: Any = None


def install() -> None:
    global _ORIGINAL
    from moto.dynamodb.responses import DynamoHandler

    if _ORIGINAL is not None:
        return
    _ORIGINAL = DynamoHandler.call_action

    def call_action(self: Any) -> Any:
        with LOCK:
            return _ORIGINAL(self)

    DynamoHandler.call_action = call_action  # type: ignore[method-assign]


def uninstall() -> None:
    global _ORIGINAL
    from moto.dynamodb.responses import DynamoHandler

    if _ORIGINAL is not None:
        DynamoHandler.call_action = _ORIGINAL  # type: ignore[method-assign]
        _ORIGINAL = None
