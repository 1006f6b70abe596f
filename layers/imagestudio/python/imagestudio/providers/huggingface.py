"""Hugging Face Inference (hf-inference): text-to-image on the free tier.

``POST {base}/{model}`` (base ``https://router.huggingface.co/hf-inference/models``; the older
``https://api-inference.huggingface.co/models`` takes the same request) with
``Authorization: Bearer <token>`` and the text-to-image task body
``{"inputs": prompt, "parameters": {width, height, num_inference_steps, guidance_scale,
negative_prompt, seed}}`` (huggingface.co/docs/inference-providers/tasks/text-to-image). The answer
is the image bytes.

While a cold model loads, the API answers ``503 {"error": "... is currently loading",
"estimated_time": <seconds>}``: the adapter waits that long (capped per wait) and tries again
within ``load_budget_seconds``; an estimate that does not fit the budget fails fast with
`ProviderUnavailable`. 429 (honouring Retry-After), other 5xx and connection errors are retried
with backoff like every provider call; 401/403 (a bad token, or a gated model whose licence the
token's account has not accepted) and 404 (a model hf-inference does not serve) are ours to fix.

Sizes: width and height are sent as the nearest size of the same aspect ratio within the model's
catalog limit, in multiples of 16 (FLUX's latent grid). When that differs from the request,
``Output.extra`` carries ``requested_width`` / ``requested_height`` and ``sent_width`` /
``sent_height`` so the caller crops and resamples to the exact size.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Final

import httpx

from imagestudio.providers.base import (
    CallResult,
    GenerateRequest,
    Output,
    ProviderUnavailable,
    Succeeded,
)
from imagestudio.providers.http import (
    HttpProvider,
    _retry_after,
    backoff,
    client,
    may_retry_error,
    may_retry_response,
    raise_for_status,
    sniff_mime,
)
from imagestudio.providers.sizing import nearest_accepted_size

log = logging.getLogger(__name__)

PROVIDER: Final = "huggingface"
BASE_URL: Final = "https://router.huggingface.co/hf-inference/models"
ACCEPT: Final = "image/*"  # the caller converts to the requested format; any image type will do
IMAGE_MIMES: Final = frozenset({"image/png", "image/jpeg", "image/webp", "image/gif"})


class HuggingFaceProvider(HttpProvider):
    """The Hugging Face adapter; `api_key` (an access token) may be a callable, read when first needed."""

    name = PROVIDER
    default_base_url = BASE_URL

    def __init__(
        self,
        api_key: Callable[[], str] | str,
        *,
        http: httpx.Client | None = None,
        base_url: str = BASE_URL,
        load_budget_seconds: float = 60.0,
        max_wait_seconds: float = 20.0,
        attempts: int = 6,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(api_key, http=http, base_url=base_url, sleep=sleep)
        self._budget = load_budget_seconds
        self._max_wait = max_wait_seconds
        self._attempts = attempts
        self._clock = clock

    def generate(self, request: GenerateRequest) -> CallResult:
        spec = self._spec(request.model, "text-to-image")
        width, height = nearest_accepted_size(
            request.width, request.height, max_side=spec.max_side, min_side=256, multiple=16
        )
        parameters: dict[str, Any] = {"width": width, "height": height}
        for key, value in (
            ("num_inference_steps", request.steps),
            ("guidance_scale", request.guidance_scale),
            ("negative_prompt", request.negative_prompt),
            ("seed", request.seed),
        ):
            if value is not None:
                parameters[key] = value
        response = self._post(
            f"{self._base}/{spec.endpoint.strip('/')}",
            {"inputs": request.prompt, "parameters": parameters},
            accept=ACCEPT,
        )
        data = response.content
        mime = sniff_mime(data, response.headers.get("content-type", "").split(";")[0])
        if mime not in IMAGE_MIMES:
            raise ProviderUnavailable(
                "Hugging Face answered something that is not an image.",
                details={"provider": PROVIDER, "content_type": response.headers.get("content-type")},
            )
        extra: dict[str, object] = {}
        if (width, height) != (request.width, request.height):
            extra = {
                "requested_width": request.width,
                "requested_height": request.height,
                "sent_width": width,
                "sent_height": height,
            }
        return Succeeded(outputs=[Output(mime=mime, data=data, seed=request.seed, extra=extra)])

    # ------------------------------------------------------------------------- HTTP

    def _post(self, url: str, body: dict[str, Any], *, accept: str) -> httpx.Response:
        """POST with retries; a 503 that says the model is loading waits its estimated_time."""
        http = self._http or client(PROVIDER)
        deadline = self._clock() + self._budget
        last = "no attempt"
        for attempt in range(self._attempts):
            try:
                response = http.post(url, json=body, headers=self._headers(accept))
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                last, wait = f"{type(exc).__name__}: {exc}", backoff(attempt)
                if not may_retry_error(exc, safe=False):  # it may have run (and been billed): not again
                    raise ProviderUnavailable(
                        f"Hugging Face did not answer ({last}); the request is not sent again.",
                        details={"provider": PROVIDER, "last": last, "may_have_started": True},
                    ) from None
            else:
                loading = _loading_estimate(response)
                if loading is not None:
                    last = f"model loading (estimated {loading:.0f} s)"
                    if self._clock() + loading > deadline:
                        raise ProviderUnavailable(
                            f"Hugging Face is still loading the model (about {loading:.0f} s); try later.",
                            details={"provider": PROVIDER, "estimated_time": loading},
                        )
                    wait = min(max(loading, 1.0), self._max_wait)
                elif may_retry_response(response, safe=False):
                    hinted = _retry_after(response)
                    last = f"HTTP {response.status_code}"
                    wait = hinted if hinted is not None else backoff(attempt)
                else:
                    if response.status_code >= 500:  # it may have run (and been billed): not again
                        raise ProviderUnavailable(
                            f"Hugging Face failed (HTTP {response.status_code}): not sent again.",
                            details={
                                "provider": PROVIDER,
                                "last": f"HTTP {response.status_code}",
                                "may_have_started": True,
                            },
                        )
                    self._raise_for(response)
                    return response
            if attempt == self._attempts - 1 or self._clock() + wait > deadline:
                break
            log.info("huggingface %s: %s; retry %d in %.1fs", url, last, attempt + 1, wait)
            self._sleep(wait)
        raise ProviderUnavailable(
            f"Hugging Face is not answering ({last}); try again shortly.",
            details={"provider": PROVIDER, "last": last},
        )

    @staticmethod
    def _raise_for(response: httpx.Response) -> None:
        status = response.status_code
        if status in (401, 403, 404):
            what = "does not serve this model" if status == 404 else "refused our token (or a gated model)"
            raise ProviderUnavailable(
                f"Hugging Face {what}: a configuration problem on our side.",
                details={"provider": PROVIDER, "status": status, "provider_message": response.text[:300]},
            )
        raise_for_status(PROVIDER, response)

    def _headers(self, accept: str) -> dict[str, str]:
        return {"authorization": f"Bearer {self._key()}", "accept": accept}


def _loading_estimate(response: httpx.Response) -> float | None:
    """The estimated_time of a 503 'model is loading' answer, else None."""
    if response.status_code != 503:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    estimate = body.get("estimated_time")
    if isinstance(estimate, int | float):
        return float(estimate)
    if "loading" in str(body.get("error", "")).lower():
        return 10.0
    return None
