"""Domain errors. Each carries the HTTP status the API answers with and a message saying what to fix.

Operations raise these; `imagestudio.api.resolver` maps them to HTTP in one place.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status: int = 400
    code: str = "bad_request"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}

    def to_body(self) -> dict[str, Any]:
        return error_body(self.code, self.message, self.details)


class InvalidInput(DomainError):
    status = 422
    code = "invalid_input"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class TooLarge(DomainError):
    status = 413
    code = "too_large"


class InsufficientCredits(DomainError):
    status = 402
    code = "insufficient_credits"


class PlanLimitExceeded(DomainError):
    status = 429
    code = "plan_limit_exceeded"


class ProviderError(DomainError):
    """A provider failed for reasons that are ours to handle (quota, timeout, 5xx)."""

    status = 502
    code = "provider_error"


class AnswerTooLarge(DomainError):
    """An inline answer (images as base64) that could not fit in Lambda's 6 MB response: refused before
    any credit is reserved, with what to change."""

    status = 413
    code = "answer_too_large"


class ContentRejected(DomainError):
    """A provider's content moderation refused the input: the user's to fix."""

    status = 422
    code = "content_rejected"


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    """Every HTTP error body: our `error` object, and `detail` (the same message) beside it.

    `detail` is what the original Image Studio front end shows (`err.response.data.detail`), so a
    person using that client reads the message that says what to fix instead of a generic one.
    """
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return {"error": error, "detail": message}


def unknown_choice(kind: str, value: object, choices: list[str], *, status: int = 404) -> DomainError:
    """An error for an unknown id or name, naming the valid choices."""
    err_cls = NotFound if status == 404 else InvalidInput
    shown = ", ".join(sorted(choices))
    return err_cls(
        f"Unknown {kind} '{value}'. Valid {kind} values: {shown}.",
        details={"field": kind, "value": value, "valid_choices": sorted(choices)},
    )
