#!/usr/bin/env python3
"""Verify an Auth-O-Tron token with PyJWT (docs/backends.md).

Usage: verify_pyjwt.py GATEWAY_URL ISSUER TOKEN
Prints the claims as JSON and exits 0, or prints the reason and exits 1.

Asymmetric tokens (EdDSA, ES256, RS256) are checked against the published
JWKS; set AUTHOTRON_JWT_SECRET to check an HS256 token with the shared
secret instead. Set AUTHOTRON_AUDIENCE when the gateway sets jwt.audience: PyJWT
rejects a token that carries `aud` when no audience is given.
Needs PyJWT >= 2.6 and cryptography (Debian: python3-jwt python3-cryptography).
"""

import json
import os
import sys

import jwt

ASYMMETRIC = ["EdDSA", "ES256", "RS256"]


def verify(gateway_url: str, issuer: str, token: str) -> dict:
    """Returns the verified claims; raises jwt.PyJWTError otherwise."""
    secret = os.environ.get("AUTHOTRON_JWT_SECRET")
    if secret:
        key, algorithms = secret, ["HS256"]
    else:
        # Create the client once per process: it caches the JWKS.
        client = jwt.PyJWKClient(gateway_url.rstrip("/") + "/.well-known/jwks.json")
        key, algorithms = client.get_signing_key_from_jwt(token).key, ASYMMETRIC
    return jwt.decode(
        token,
        key,
        algorithms=algorithms,  # pinned: never let the token choose
        issuer=issuer,
        audience=os.environ.get("AUTHOTRON_AUDIENCE"),
        leeway=5,
        options={"require": ["exp", "iat", "sub"]},
    )


def main() -> int:
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        claims = verify(*sys.argv[1:])
    except (jwt.PyJWTError, ValueError) as error:
        print(f"invalid token: {error}")
        return 1
    print(json.dumps(claims))
    return 0


if __name__ == "__main__":
    sys.exit(main())
