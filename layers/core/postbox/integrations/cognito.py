"""Amazon Cognito access tokens, verified outside API Gateway (the IoT Core custom authorizer).

Signature (RS256 against the pool's JWKS, fetched once and cached), issuer, expiry and token_use are
checked; the function that uses this carries PyJWT[crypto] in its own package, not the shared layer.
"""

from functools import cache
from typing import Any

from postbox.settings import CognitoSettings


class InvalidToken(Exception):
    pass


@cache
def _jwks_client():
    import jwt  # only the IoT authorizer carries PyJWT (in its own package, not the layer)

    settings = CognitoSettings.get()
    url = settings.COGNITO_JWKS_URL or f"{settings.COGNITO_ISSUER}/.well-known/jwks.json"
    return jwt.PyJWKClient(url, cache_keys=True, lifespan=3600)


def verify_access_token(token: str) -> dict[str, Any]:
    import jwt  # only the IoT authorizer carries PyJWT (in its own package, not the layer)

    issuer = CognitoSettings.get().COGNITO_ISSUER
    if not issuer:
        raise InvalidToken("COGNITO_ISSUER is not configured")
    try:
        key = _jwks_client().get_signing_key_from_jwt(token)
        claims = jwt.decode(token, key.key, algorithms=["RS256"], issuer=issuer,
                            options={"require": ["exp", "iss", "token_use"], "verify_aud": False})
    except jwt.PyJWTError as error:
        raise InvalidToken(str(error)) from None
    if claims.get("token_use") != "access":
        raise InvalidToken("not an access token")
    return claims
