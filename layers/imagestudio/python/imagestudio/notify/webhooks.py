"""Webhooks both ways: signed deliveries to users' endpoints, and a replay guard for incoming ones.

Outgoing (`deliver`): a JSON POST signed as Standard Webhooks specify (`imagestudio.notify.signing`:
`v1,<base64>`, secrets shown as `whsec_<base64>`), with the headers `webhook-id` (the same on every
retry, so receivers can deduplicate), `webhook-timestamp` and `webhook-signature` (both renewed on
every attempt, so a late retry still passes the receiver's timestamp tolerance). The URL must be https
and resolve to globally routable addresses only (`providers.http.check_output_url`), checked when the
request gives it and again before each delivery; redirects are not followed (a redirect could point
anywhere). Connection errors, timeouts, 429 and 5xx are retried with full
jitter backoff; 2xx is delivered; any other status fails at once. `deliver` never raises for a
failed delivery: it answers a `DeliveryResult`. The address check resolves the name before httpx
resolves it again, so DNS rebinding between the two is not excluded: run deliveries from a function
outside the VPC (nothing private to reach) as the stack does.

Each user's signing secret is derived from one master secret (`user_webhook_secret`); in deployment
the master is an SSM Parameter Store SecureString read once per container, never an env variable.

Incoming (`ReplayGuard`): providers retry their callbacks, so each message id is recorded once with a
conditional put into the idempotency table (key `id`, TTL attribute `expiration`); a second delivery
of the same id finds the record and is reported as a duplicate.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, Literal
from urllib.parse import urlsplit

from botocore.exceptions import ClientError

from imagestudio.errors import InvalidInput
from imagestudio.notify.signing import signature_header
from imagestudio.providers.base import ProviderUnavailable
from imagestudio.providers.http import RETRY_STATUSES, backoff, check_output_url, client
from imagestudio.store.dynamo import table

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

TIMEOUT: Final = 10.0  # seconds, each of connect, read, write and pool
DEFAULT_ATTEMPTS: Final = 4
USER_AGENT: Final = "image-studio-serverless-webhooks/1"
REPLAY_TTL_SECONDS: Final = 86400
_MAX_MESSAGE_ID: Final = 512


@dataclass(frozen=True)
class DeliveryResult:
    status: Literal["delivered", "failed"]
    attempts: int
    last_status: int | None
    error: str | None


def user_webhook_secret(user_id: str, master: bytes) -> bytes:
    """The user's webhook signing secret: HMAC-SHA256(master, user_id).

    `master` is the deployment's webhook master secret, kept in SSM Parameter Store as a SecureString
    and read once per container; rotating it changes every user's secret.
    """
    if not master:
        raise ValueError("the webhook master secret is empty: configure its SSM SecureString parameter")
    if not user_id:
        raise ValueError("a webhook secret needs a user id")
    return hmac.new(master, user_id.encode(), hashlib.sha256).digest()


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):  # numbers read back from DynamoDB
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def check_webhook_url(url: str) -> None:
    """Refuse, with a 422 the user can act on, a webhook URL we would never deliver to."""
    from imagestudio.errors import InvalidInput
    from imagestudio.providers.base import ProviderUnavailable
    from imagestudio.providers.http import check_output_url

    try:
        check_output_url(url)
    except ProviderUnavailable as exc:
        raise InvalidInput(
            f"webhook_url must be an https URL on a public address: {exc.message}",
            details={"field": "webhook_url"},
        ) from None


def _refusal(url: str) -> str:
    if urlsplit(url).scheme != "https":
        return "The webhook URL is refused: it must use https."
    return "The webhook URL is refused: its host is not a globally routable address."


def deliver(
    url: str,
    payload: dict[str, Any],
    *,
    secret: bytes | Sequence[bytes],
    message_id: str,
    http: httpx.Client | None = None,
    attempts: int = DEFAULT_ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
    resolve: Callable[[str], bool] | None = None,
    clock: Callable[[], float] = time.time,
) -> DeliveryResult:
    """POST `payload` to `url`, signed (with each secret given: the current one first, then those
    being rotated out); retried on connection errors, timeouts, 429 and 5xx. The address is checked
    again here, at delivery: a name that resolved to a public address at request time may not now."""
    secrets = [secret] if isinstance(secret, bytes | bytearray) else list(secret)
    try:
        if resolve is None:
            check_output_url(url)
        else:
            check_output_url(url, resolve=resolve)
    except ProviderUnavailable:
        refusal = _refusal(url)
        log.warning("webhook %s not sent: %s", message_id, refusal)
        return DeliveryResult(status="failed", attempts=0, last_status=None, error=refusal)
    import httpx  # at the first delivery, not at cold start

    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False, default=_json_default).encode()
    http = http or client("webhooks")
    last_status: int | None = None
    error: str | None = None
    tries = max(1, attempts)
    for attempt in range(tries):
        timestamp = int(clock())
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature_header(secrets, message_id, timestamp, body),
        }
        try:
            # streamed and never read: the receiver's answer body is of no use and could be huge
            with http.stream("POST", url, content=body, headers=headers, timeout=TIMEOUT) as response:
                last_status = response.status_code
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            last_status, error = None, f"{type(exc).__name__}: {exc}"
        else:
            if 200 <= last_status < 300:
                return DeliveryResult(
                    status="delivered", attempts=attempt + 1, last_status=last_status, error=None
                )
            error = f"HTTP {last_status}"
            if last_status not in RETRY_STATUSES:
                log.warning("webhook %s refused by the receiver (%s): not retried", message_id, error)
                return DeliveryResult(
                    status="failed", attempts=attempt + 1, last_status=last_status, error=error
                )
        if attempt < tries - 1:
            wait = backoff(attempt)
            log.info("webhook %s failed (%s); retry %d in %.2fs", message_id, error, attempt + 1, wait)
            sleep(wait)
    log.warning("webhook %s failed after %d attempts (%s)", message_id, tries, error)
    return DeliveryResult(status="failed", attempts=tries, last_status=last_status, error=error)


class ReplayGuard:
    """Remembers incoming webhook message ids in the idempotency table, for `ttl_seconds`."""

    def __init__(self, table_name: str, *, clock: Callable[[], float] = time.time) -> None:
        self.table_name = table_name
        self._clock = clock

    def first_delivery(
        self, provider: str, message_id: str, *, ttl_seconds: int = REPLAY_TTL_SECONDS
    ) -> bool:
        """True the first time (provider, message_id) is seen; False for a repeated delivery.

        A record whose `expiration` has passed counts as absent: DynamoDB deletes expired items only
        eventually (within days), and the guard promises `ttl_seconds`, no more.
        """
        if not provider or not message_id:
            raise InvalidInput("A webhook without a provider or a message id cannot be deduplicated.")
        if len(message_id) > _MAX_MESSAGE_ID:
            raise InvalidInput(
                f"The webhook message id is {len(message_id)} characters;"
                f" at most {_MAX_MESSAGE_ID} are accepted."
            )
        now = int(self._clock())
        try:
            table(self.table_name).put_item(
                Item={"id": f"webhook#{provider}#{message_id}", "expiration": now + ttl_seconds},
                ConditionExpression="attribute_not_exists(#id) OR #expiration <= :now",
                ExpressionAttributeNames={"#id": "id", "#expiration": "expiration"},
                ExpressionAttributeValues={":now": now},
            )
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                log.info("duplicate %s webhook %s ignored", provider, message_id)
                return False
            raise
        return True
