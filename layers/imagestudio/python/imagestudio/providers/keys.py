"""Provider API keys, read from AWS Secrets Manager or SSM Parameter Store through Powertools Parameters.

Each provider's key is named by one environment variable, ``<PROVIDER>_API_KEY_PARAMETER``
(``STABILITY_API_KEY_PARAMETER``, ``WAVESPEED_API_KEY_PARAMETER``, ``HUGGINGFACE_API_KEY_PARAMETER``,
``GEMINI_API_KEY_PARAMETER``). Its value says where the key lives:

======================================  ==========================================================
``ssm:/image-studio/prod/stability``    SSM parameter (SecureString decrypted; String works too)
``/image-studio/prod/stability``        SSM parameter (a name starting with ``/``)
``arn:aws:ssm:...:parameter/...``       SSM parameter by ARN (shared parameters)
``secretsmanager:image-studio/stab``    Secrets Manager secret, by name or ARN
``arn:aws:secretsmanager:...``          Secrets Manager secret by ARN
``image-studio/stability``              anything else: a Secrets Manager secret name
======================================  ==========================================================

A secret or parameter holds the key itself, or a JSON object with an ``api_key`` field (what the
Secrets Manager console writes for "key/value" secrets). Values are cached per container for
``MAX_AGE_SECONDS`` (so a rotated key is picked up within five minutes without a redeploy).

The key never reaches a log line, an error message or an error's details: errors name the provider
and where we looked, nothing more.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from imagestudio import tracing
from imagestudio.config import KeySettings
from imagestudio.providers.base import ProviderUnavailable

if TYPE_CHECKING:  # Powertools' parameters import boto3: at the first key read, not at cold start
    from aws_lambda_powertools.utilities.parameters import SecretsProvider, SSMProvider

log = logging.getLogger(__name__)

MAX_AGE_SECONDS = 300
JSON_KEY_FIELD = "api_key"
Store = Literal["ssm", "secretsmanager"]


def env_var(provider: str) -> str:
    """The environment variable naming `provider`'s key, e.g. STABILITY_API_KEY_PARAMETER."""
    return f"{provider.upper().replace('-', '_')}_API_KEY_PARAMETER"


def locate(reference: str) -> tuple[Store, str]:
    """Where a reference points: ('ssm' | 'secretsmanager', name or ARN). See the module docstring."""
    ref = reference.strip()
    if ref.startswith("ssm:"):
        return "ssm", ref.removeprefix("ssm:")
    if ref.startswith("secretsmanager:"):
        return "secretsmanager", ref.removeprefix("secretsmanager:")
    if ref.startswith("/") or ref.startswith("arn:aws:ssm:"):
        return "ssm", ref
    return "secretsmanager", ref


@cache
def _ssm() -> SSMProvider:
    import boto3
    from aws_lambda_powertools.utilities.parameters import SSMProvider

    return SSMProvider(boto3_client=tracing.instrument(boto3.client("ssm")))


@cache
def _secrets() -> SecretsProvider:
    import boto3
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    return SecretsProvider(boto3_client=tracing.instrument(boto3.client("secretsmanager")))


def reset() -> None:
    """Forget the cached providers and values (tests; a new AWS session)."""
    for factory in (_ssm, _secrets):
        if factory.cache_info().currsize:
            factory().clear_cache()
        factory.cache_clear()
    _ssm_client.cache_clear()


def _fetch(store: Store, name: str) -> str | bytes | dict[str, object] | None:
    if store == "ssm":
        return _ssm().get(name, max_age=MAX_AGE_SECONDS, decrypt=True)
    return _secrets().get(name, max_age=MAX_AGE_SECONDS)


def _extract(value: str | bytes | dict[str, object] | None) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{"):
            try:
                value = json.loads(text)
            except ValueError:
                return text
        else:
            return text
    if isinstance(value, dict):
        found = value.get(JSON_KEY_FIELD)
        return found.strip() if isinstance(found, str) else ""
    return ""


def api_key(provider: str) -> str:
    """`provider`'s API key. ProviderUnavailable (ours to fix, never the user's) when it is not
    configured, cannot be read, or is empty."""
    variable = env_var(provider)
    reference = KeySettings.from_env().api_key_parameter(variable)
    if not reference:
        raise ProviderUnavailable(
            f"{provider} is not configured: set {variable} to the SSM parameter or secret holding its "
            "API key.",
            details={"provider": provider, "setting": variable},
        )
    store, name = locate(reference)
    where = {"provider": provider, "setting": variable, "store": store, "name": name}
    from aws_lambda_powertools.utilities.parameters import GetParameterError

    try:
        value = _fetch(store, name)
    except GetParameterError as exc:
        # The SDK error names the parameter and the failure (not found, access denied), never the value.
        log.warning("%s API key could not be read from %s %s: %s", provider, store, name, exc)
        raise ProviderUnavailable(
            f"{provider} is not configured: its API key could not be read from {store} '{name}'.",
            details=where,
        ) from None
    key = _extract(value)
    if not key:
        raise ProviderUnavailable(
            f"{provider} is not configured: {store} '{name}' holds no API key "
            f"(a plain key or JSON with an '{JSON_KEY_FIELD}' field).",
            details=where,
        )
    return key


GENERATED_SECRET_BYTES = 32


@cache
def _ssm_client() -> Any:
    import boto3  # at the first generated secret, not at cold start

    return tracing.instrument(boto3.client("ssm"))


def _ssm_missing(name: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        _ssm_client().get_parameter(Name=name, WithDecryption=True)
    except ClientError as err:
        return err.response.get("Error", {}).get("Code") == "ParameterNotFound"
    return False


def generated_secret(name: str) -> str:
    """A secret of this stack's own (a webhook signing key), read like `api_key(name)`; when its SSM
    parameter does not exist yet, 32 random bytes are generated into it (SecureString, never
    overwritten: if two containers race, both read back the one that was written first). So every
    stack has its own secret and none is a constant in the code."""
    try:
        return api_key(name)
    except ProviderUnavailable:
        reference = KeySettings.from_env().api_key_parameter(env_var(name)).strip()
        if not reference:
            raise
        store, parameter = locate(reference)
        if store != "ssm" or not _ssm_missing(parameter):
            raise
    from botocore.exceptions import ClientError

    value = base64.b64encode(secrets.token_bytes(GENERATED_SECRET_BYTES)).decode()
    try:
        _ssm_client().put_parameter(
            Name=parameter,
            Value=value,
            Type="SecureString",
            Overwrite=False,
            Description="Generated by Image Studio at first use: a webhook signing secret of this stack.",
        )
        log.info("generated the %s secret into SSM %s", name, parameter)
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") != "ParameterAlreadyExists":
            raise
    reset()  # drop a cached "not found" and read what SSM now holds (ours, or the racer's)
    return api_key(name)
