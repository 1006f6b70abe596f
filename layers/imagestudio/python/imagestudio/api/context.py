"""Per-request context for routes: the verified caller and the ports of this function's settings."""

from __future__ import annotations

from typing import cast

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from imagestudio.api.identity import Caller, caller_from_event
from imagestudio.ports import Ports, current_ports


def ports() -> Ports:
    """Ports for the running function's settings (one set per warm container)."""
    return current_ports()


def caller(router: Router) -> Caller:
    # Every router here serves an HTTP API: its current event is a payload v2 event.
    return caller_from_event(cast(APIGatewayProxyEventV2, router.current_event))


def reset() -> None:
    """Forget cached ports and AWS clients (tests switch between moto instances)."""
    from imagestudio import ports as ports_module
    from imagestudio.api import idempotency
    from imagestudio.notify import batches as notify_batches
    from imagestudio.notify import jobs as notify_jobs
    from imagestudio.providers import keys, registry
    from imagestudio.store import blobs, dynamo, workflows

    ports_module._ports.cache_clear()
    dynamo.reset_clients()
    blobs.reset_clients()
    workflows.reset_clients()
    registry.reset()
    keys.reset()
    notify_jobs.reset_clients()
    notify_batches.reset_clients()
    idempotency.reset()
