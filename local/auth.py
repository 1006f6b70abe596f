"""The HTTP API's JWT authorizer, emulated with a local signing key.

Tokens are signed RS256 like Cognito's, carry the issuer and audience that template.yaml
configures for the authorizer, and reach handlers as API Gateway passes them: every claim
value a string, arrays flattened to "[a b]".
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

KEY_ID = "image-studio-local-dev"


class AuthError(Exception):
    pass


@dataclass(frozen=True)
class Authorizer:
    """What the template's JwtConfiguration says, resolved for the local stack."""

    name: str
    issuer: str
    audience: tuple[str, ...]
    identity_source: str = "$request.header.Authorization"


def load_or_create_key(path: Path) -> rsa.RSAPrivateKey:
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if isinstance(key, rsa.RSAPrivateKey):
            return key
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    path.chmod(0o600)
    return key


class TokenSigner:
    def __init__(self, key: rsa.RSAPrivateKey, authorizer: Authorizer) -> None:
        self._key = key
        self.authorizer = authorizer

    def issue(
        self,
        user: str,
        *,
        groups: list[str] | None = None,
        ttl: int = 12 * 3600,
        email: str | None = None,
        client: str | None = None,
    ) -> str:
        """A dev token; `client` is the app client it is issued to (the `azp` claim, as OIDC providers
        such as Clerk or Auth0 put it), for deployments that answer some clients differently."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": user,
            "iss": self.authorizer.issuer,
            "aud": self.authorizer.audience[0] if self.authorizer.audience else "local",
            "token_use": "id",
            "cognito:username": user,
            "email": email or f"{user}@example.com",
            "auth_time": now,
            "iat": now,
            "exp": now + ttl,
            "jti": str(uuid.uuid4()),
        }
        if groups:
            claims["cognito:groups"] = groups
        if client:
            claims["azp"] = client
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": KEY_ID})

    def verify(self, header_value: str | None) -> dict[str, Any]:
        """Validate like API Gateway: signature, exp, nbf, iss, aud (or client_id)."""
        if not header_value:
            raise AuthError("missing Authorization header")
        token = header_value.split(" ", 1)[1] if header_value.lower().startswith("bearer ") else header_value
        try:
            claims: dict[str, Any] = jwt.decode(
                token.strip(),
                self._key.public_key(),
                algorithms=["RS256"],
                issuer=self.authorizer.issuer,
                options={"verify_aud": False, "require": ["exp", "iss"]},
            )
        except jwt.PyJWTError as exc:
            raise AuthError(str(exc)) from exc
        audience = claims.get("aud") or claims.get("client_id")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.authorizer.audience and not set(audiences) & set(self.authorizer.audience):
            raise AuthError("token audience does not match the authorizer's")
        return claims

    def jwks(self) -> dict[str, Any]:
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        return {"keys": [{**jwk, "kid": KEY_ID, "use": "sig", "alg": "RS256"}]}


def claims_as_api_gateway_passes_them(claims: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in claims.items():
        if isinstance(value, list):
            out[name] = "[" + " ".join(str(v) for v in value) + "]"
        elif isinstance(value, bool):
            out[name] = "true" if value else "false"
        else:
            out[name] = str(value)
    return out
