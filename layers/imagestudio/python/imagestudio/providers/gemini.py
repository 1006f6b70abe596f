"""Google Imagen through the Gemini API (ai.google.dev/gemini-api/docs/imagen).

``POST {base}/models/{model}:predict`` (base ``https://generativelanguage.googleapis.com/v1beta``)
with ``x-goog-api-key: <key>`` and::

    {"instances": [{"prompt": "..."}],
     "parameters": {"sampleCount": 1, "aspectRatio": "16:9", "personGeneration": "allow_adult",
                    "includeRaiReason": true}}

answers ``{"predictions": [{"bytesBase64Encoded": "...", "mimeType": "image/png"}]}``. Imagen takes
an aspect ratio, not a size: the nearest of the model's ratios (catalog ``aspect_ratios``: 1:1, 3:4,
4:3, 9:16, 16:9) is sent and ``Output.extra`` carries ``requested_width`` / ``requested_height`` and
``sent_aspect_ratio`` for the caller to crop and resample to the exact size. The Gemini API takes no
seed and, for Imagen 4, no negative prompt: given ones are listed in ``extra["ignored_fields"]``.

Safety: images removed by the Responsible-AI filter come back as predictions carrying only
``raiFilteredReason`` (or no predictions at all); when nothing is left the call raises
`ContentRejected`. A 400 whose message names a safety or policy reason is `ContentRejected` too.
Errors are Google's ``{"error": {"code", "message", "status"}}``: ``INVALID_ARGUMENT`` is the user's
to fix, while ``PERMISSION_DENIED``, ``UNAUTHENTICATED``, ``FAILED_PRECONDITION`` (for example a
project without billing) and ``NOT_FOUND`` (a wrong model name) are ours.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable
from typing import Any, Final

import httpx

from imagestudio.catalog import ModelSpec
from imagestudio.errors import ContentRejected
from imagestudio.providers.base import (
    CallResult,
    GenerateRequest,
    Output,
    ProviderRejected,
    ProviderUnavailable,
    Succeeded,
)
from imagestudio.providers.http import HttpProvider, raise_for_status, send, sniff_mime
from imagestudio.providers.sizing import nearest_aspect_ratio

PROVIDER: Final = "gemini"
BASE_URL: Final = "https://generativelanguage.googleapis.com/v1beta"
DEFAULT_RATIOS: Final = ("1:1", "3:4", "4:3", "9:16", "16:9")
OURS_TO_FIX: Final = frozenset({"PERMISSION_DENIED", "UNAUTHENTICATED", "FAILED_PRECONDITION", "NOT_FOUND"})
_SAFETY_WORDS: Final = ("safety", "responsible ai", "sensitive", "policy", "blocked")


class GeminiProvider(HttpProvider):
    """The Imagen adapter; `api_key` may be a callable so the secret is read when first needed."""

    name = PROVIDER
    default_base_url = BASE_URL

    def __init__(
        self,
        api_key: Callable[[], str] | str,
        *,
        http: httpx.Client | None = None,
        base_url: str = BASE_URL,
        person_generation: str | None = "allow_adult",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(api_key, http=http, base_url=base_url, sleep=sleep)
        self._person_generation = person_generation

    def generate(self, request: GenerateRequest) -> CallResult:
        spec = self._spec(request.model, "text-to-image")
        ratio = nearest_aspect_ratio(request.width, request.height, spec.aspect_ratios or DEFAULT_RATIOS)
        sample_count = spec.defaults.get("sampleCount", 1)
        parameters: dict[str, Any] = {
            "sampleCount": sample_count if isinstance(sample_count, int) else 1,
            "aspectRatio": ratio,
            "includeRaiReason": True,
        }
        if self._person_generation:
            parameters["personGeneration"] = self._person_generation
        response = send(
            PROVIDER,
            "POST",
            self._url(spec),
            json={"instances": [{"prompt": request.prompt}], "parameters": parameters},
            headers=self._headers(),
            sleep=self._sleep,
            http=self._http,
        )
        self._raise_for(response)
        try:
            body = response.json()
        except ValueError as exc:
            raise ProviderUnavailable("Gemini answered something that is not JSON.") from exc
        predictions = body.get("predictions") if isinstance(body, dict) else None
        extra: dict[str, object] = {
            "requested_width": request.width,
            "requested_height": request.height,
            "sent_aspect_ratio": ratio,
        }
        unsupported = ("seed", "negative_prompt", "steps", "guidance_scale")
        ignored = [f for f in unsupported if getattr(request, f) is not None]
        if ignored:
            extra["ignored_fields"] = ignored
        images: list[tuple[str, bytes]] = []
        reasons: list[str] = []
        for prediction in predictions if isinstance(predictions, list) else []:
            if not isinstance(prediction, dict):
                continue
            encoded = prediction.get("bytesBase64Encoded")
            if not encoded:
                if prediction.get("raiFilteredReason"):
                    reasons.append(str(prediction["raiFilteredReason"]))
                continue
            try:
                data = base64.b64decode(str(encoded), validate=True)
            except (binascii.Error, ValueError) as exc:
                raise ProviderUnavailable("Gemini answered image bytes that do not decode.") from exc
            images.append((sniff_mime(data, str(prediction.get("mimeType") or "image/png")), data))
        if not images:
            reason = "; ".join(reasons) or "no image was returned"
            raise ContentRejected(
                f"Imagen's safety filter removed the image ({reason}). Change the prompt.",
                details={"provider": PROVIDER, "provider_message": reason},
            )
        if reasons:  # some of several samples were filtered
            extra["filtered_reasons"] = reasons
        return Succeeded(outputs=[Output(mime=mime, data=data, extra=dict(extra)) for mime, data in images])

    # ------------------------------------------------------------------------- helpers

    def _url(self, spec: ModelSpec) -> str:
        path = spec.endpoint.strip("/")
        if not path.startswith("models/"):
            path = f"models/{path}"
        if ":" not in path:
            path += ":predict"
        return f"{self._base}/{path}"

    def _headers(self) -> dict[str, str]:
        return {"x-goog-api-key": self._key()}

    @staticmethod
    def _raise_for(response: httpx.Response) -> None:
        if response.status_code < 400:
            return
        status, message = _google_error(response)
        details = {"provider": PROVIDER, "status": response.status_code, "provider_message": message}
        if status in OURS_TO_FIX or response.status_code in (401, 403, 404):
            raise ProviderUnavailable(
                f"Gemini refused our configuration ({status or response.status_code}): {message}",
                details=details,
            )
        if response.status_code == 400:
            lowered = message.lower()
            if any(word in lowered for word in _SAFETY_WORDS):
                raise ContentRejected(
                    f"Gemini refused the prompt under its safety policy: {message}. Change the prompt.",
                    details=details,
                )
            raise ProviderRejected(f"Gemini did not accept the input: {message}", details=details)
        raise_for_status(PROVIDER, response, message=message)


def _google_error(response: httpx.Response) -> tuple[str, str]:
    """(status, message) from Google's error body, tolerant of anything else."""
    try:
        body = response.json()
    except ValueError:
        return "", response.text[:300] or response.reason_phrase
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("status") or ""), str(error.get("message") or "")[:300]
    return "", str(body)[:300]
