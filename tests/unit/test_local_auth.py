"""The emulated JWT authorizer accepts what API Gateway accepts and refuses what it refuses."""

from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest

from local.auth import (
    AuthError,
    Authorizer,
    TokenSigner,
    claims_as_api_gateway_passes_them,
    load_or_create_key,
)

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_LocalDevPool"


@pytest.fixture
def signer(tmp_path: Path) -> TokenSigner:
    return TokenSigner(load_or_create_key(tmp_path / "key.pem"), Authorizer("Jwt", ISSUER, ("client",)))


def test_issued_token_verifies_with_cognito_shaped_claims(signer: TokenSigner) -> None:
    claims = signer.verify("Bearer " + signer.issue("alice", groups=["admin"]))
    assert claims["sub"] == "alice"
    assert claims["iss"] == ISSUER and claims["aud"] == "client"
    assert claims["cognito:groups"] == ["admin"]
    assert signer.verify(signer.issue("bob"))["sub"] == "bob"  # the Bearer prefix is optional


def test_key_survives_restarts(tmp_path: Path) -> None:
    first = TokenSigner(load_or_create_key(tmp_path / "k.pem"), Authorizer("Jwt", ISSUER, ()))
    second = TokenSigner(load_or_create_key(tmp_path / "k.pem"), Authorizer("Jwt", ISSUER, ()))
    assert second.verify(first.issue("alice"))["sub"] == "alice"


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer not-a-jwt"],
)
def test_missing_or_garbage_tokens_are_refused(signer: TokenSigner, header: str | None) -> None:
    with pytest.raises(AuthError):
        signer.verify(header)


def test_expired_wrong_issuer_wrong_audience_and_foreign_key_are_refused(
    signer: TokenSigner, tmp_path: Path
) -> None:
    with pytest.raises(AuthError, match="expired"):
        signer.verify(signer.issue("alice", ttl=-10))
    other_issuer = TokenSigner(signer._key, Authorizer("Jwt", "https://evil.example", ("client",)))
    with pytest.raises(AuthError):
        signer.verify(other_issuer.issue("alice"))
    other_audience = TokenSigner(signer._key, Authorizer("Jwt", ISSUER, ("another-client",)))
    with pytest.raises(AuthError, match="audience"):
        signer.verify(other_audience.issue("alice"))
    forged = TokenSigner(load_or_create_key(tmp_path / "other.pem"), signer.authorizer)
    with pytest.raises(AuthError):
        signer.verify(forged.issue("alice"))
    unsigned = jwt.encode({"sub": "alice", "iss": ISSUER, "exp": time.time() + 60}, key="", algorithm="none")
    with pytest.raises(AuthError):
        signer.verify(unsigned)


def test_claims_reach_handlers_as_strings_like_api_gateway() -> None:
    assert claims_as_api_gateway_passes_them({"sub": "a", "exp": 5, "cognito:groups": ["admin", "ops"]}) == {
        "sub": "a",
        "exp": "5",
        "cognito:groups": "[admin ops]",
    }


def test_jwks_publishes_the_public_key(signer: TokenSigner) -> None:
    (key,) = signer.jwks()["keys"]
    public = jwt.algorithms.RSAAlgorithm.from_jwk(key)
    assert (
        jwt.decode(signer.issue("alice"), public, algorithms=["RS256"], audience="client")["sub"] == "alice"
    )
