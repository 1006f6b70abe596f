"""The offline stack (server mode, in this process so the upload check can be broken on purpose): an
on_upload that fails every attempt lands in its dead-letter queue, `/_local` shows it waiting, and
`POST /_local/redrive/on_upload` (what `make redrive` calls) takes it back into one asset."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from imagestudio.api import context
from imagestudio.operations import uploads
from local.stack import LocalStack, free_port
from tests.flows.test_local_stack_http import Client
from tests.integration.test_uploads import photo_with_gps

P = "/api/image-studio"
pytestmark = pytest.mark.flow


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[LocalStack]:
    """The stack in this process: its environment and AWS clients are this test's only, before and
    after (clients cached by earlier tests point elsewhere; the stack's variables must not leak)."""
    saved = dict(os.environ)
    running = LocalStack(port=free_port(), state_dir=tmp_path, persist=False)
    started = False
    try:
        running.start()
        started = True
        yield running
    finally:
        if started:
            running.stop()
        os.environ.clear()
        os.environ.update(saved)
        context.reset()


def test_a_failed_upload_waits_in_the_dead_letter_queue_until_redriven(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = Client(stack.base_url, stack.token("ivy"))
    local = Client(stack.base_url)
    status, ticket = user.post(f"{P}/uploads", {"content_type": "image/jpeg", "filename": "shop.jpg"})
    assert status == 200, ticket
    upload_id = ticket["upload"]["id"]
    s3 = boto3.client("s3", endpoint_url=stack.moto_url, region_name=stack.plan.region)

    def broken(data: bytes, **kwargs: Any) -> Any:
        raise OSError("No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(uploads, "verify_image", broken)
        s3.put_object(
            Bucket=stack.plan.physical["MediaBucket"],
            Key=ticket["form"]["fields"]["key"],
            Body=photo_with_gps(),
        )
        _, info = local.get("/_local")
        queue = info["dead_letter_queues"]["OnUploadDeadLetterQueue"]
        assert queue["messages"] == 1, info["dead_letter_queues"]
        assert queue["failed_functions"] == [stack.plan.function("OnUploadFunction").name]
        [failure] = queue["first"]
        assert failure["error"] == "No space left on device" and failure["attempts"] == 3, failure
        assert user.get(f"{P}/uploads/{upload_id}")[1]["upload"]["status"] == "pending"

    status, redriven = local.post("/_local/redrive/on_upload", None)
    assert status == 200, redriven
    assert [(q["queue"], q["redriven"], q["failed"]) for q in redriven["queues"]] == [("on_upload", 1, 0)]
    _, info = local.get("/_local")
    assert info["dead_letter_queues"]["OnUploadDeadLetterQueue"]["messages"] == 0
    _, body = user.get(f"{P}/uploads/{upload_id}")
    assert body["upload"]["status"] == "ready" and body["asset"]["id"] == upload_id
    status, answer = local.post("/_local/redrive/nope", None)
    assert status == 422 and "on_upload" in answer["message"]
