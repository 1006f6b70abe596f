"""`Idempotency-Key` for POSTs that create something: Powertools idempotency on the idempotency table.

The same key and body replay the first answer without doing the work again (so nothing is charged
twice); the same key with another body is refused. Keys are scoped by user and route, so two users
cannot collide. Powertools' idempotency utility (and boto3 with it) is imported by the first request
that carries a key, not at cold start.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from imagestudio.config import Settings
from imagestudio.errors import Conflict, InvalidInput

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

HEADER = "idempotency-key"
KEY_PATTERN = re.compile(r"^[A-Za-z0-9_.:\-]{8,128}$")
REPLAY_SECONDS = 24 * 3600


@cache
def _store(table_name: str) -> DynamoDBPersistenceLayer:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    return DynamoDBPersistenceLayer(table_name=table_name)


def reset() -> None:
    _store.cache_clear()


def run_idempotent(
    key: str | None,
    *,
    user: str,
    scope: str,
    body: Any,
    run: Callable[[], dict[str, Any]],
    context: LambdaContext | None = None,
) -> dict[str, Any]:
    """Run `run` once per (user, scope, key); replay its JSON answer for the same body."""
    if key is None:
        return run()
    if not KEY_PATTERN.match(key):
        raise InvalidInput(
            "The Idempotency-Key header must be 8 to 128 characters of letters, digits, '-', '_', '.' or ':' "
            "(a UUID works)."
        )
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    config = IdempotencyConfig(
        event_key_jmespath="[user, scope, key]",
        payload_validation_jmespath="body",
        expires_after_seconds=REPLAY_SECONDS,
    )
    if context is not None:
        config.register_lambda_context(context)  # an in-progress record expires with the invocation

    @idempotent_function(
        data_keyword_argument="request",
        persistence_store=_store(Settings.from_env().idempotency_table),
        config=config,
        key_prefix=f"image-studio.{scope}",
    )
    def once(request: dict[str, Any]) -> dict[str, Any]:
        return run()

    try:
        result: dict[str, Any] = once(request={"user": user, "scope": scope, "key": key, "body": body})
    except IdempotencyValidationError:
        raise InvalidInput(
            "This Idempotency-Key was already used with a different request body. "
            "Send the original body to get the original answer, or use a new key for a new request.",
            details={"idempotency_key": key},
        ) from None
    except IdempotencyAlreadyInProgressError:
        raise Conflict(
            "A request with this Idempotency-Key is still being processed; retry in a moment.",
            details={"idempotency_key": key},
        ) from None
    return result
