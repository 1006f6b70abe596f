"""A fake HTTP server for httpx clients: queued answers, every request kept (unit and contract tests)."""

from __future__ import annotations

import json
from typing import Any

import httpx


class Recorder:
    """A MockTransport handler: queued responses answered in turn (exceptions raised), every request kept."""

    def __init__(self, *responses: httpx.Response | Exception) -> None:
        self.queue = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        item = self.queue.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self))

    def json(self, index: int) -> Any:
        return json.loads(self.requests[index].content)


def transport(*responses: httpx.Response | Exception) -> tuple[httpx.Client, list[httpx.Request]]:
    """An httpx client answering `responses` in turn, and the list of the requests it sent."""
    recorder = Recorder(*responses)
    return recorder.client(), recorder.requests
