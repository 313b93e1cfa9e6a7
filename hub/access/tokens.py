"""Signed access/refresh tokens for people, hashed API tokens for service clients.

Access and refresh tokens name their login session (``sid``, see
``hub.models.LoginSession``); a refresh token also carries its number in the session's
rotation (``gen``): only the current one is good.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from typing import Literal

import jwt

from hub.settings import Settings

TokenKind = Literal["access", "refresh"]
API_TOKEN_MARK = "lj_"
_ALGORITHM = "HS256"
_ISSUER = "linju-hub"


class TokenError(Exception):
    """A bearer token that is malformed, tampered with, expired or of the wrong kind."""


@dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: int
    token_version: int
    kind: TokenKind
    expires_at: dt.datetime
    session_id: int | None = None
    generation: int | None = None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def issue(
    settings: Settings,
    *,
    user_id: int,
    token_version: int,
    kind: TokenKind,
    now: dt.datetime | None = None,
    session_id: int | None = None,
    generation: int | None = None,
) -> tuple[str, dt.datetime]:
    """A signed token and its expiry."""
    issued = now or _now()
    ttl = (
        dt.timedelta(minutes=settings.access_token_minutes)
        if kind == "access"
        else dt.timedelta(days=settings.refresh_token_days)
    )
    expires = issued + ttl
    payload = {
        "iss": _ISSUER,
        "sub": str(user_id),
        "ver": token_version,
        "typ": kind,
        "iat": int(issued.timestamp()),
        "exp": int(expires.timestamp()),
        "jti": uuid.uuid4().hex,
    }
    if session_id is not None:
        payload["sid"] = session_id
    if generation is not None:
        payload["gen"] = generation
    return jwt.encode(payload, settings.secret_key, algorithm=_ALGORITHM), expires


def read(settings: Settings, token: str, *, kind: TokenKind) -> TokenClaims:
    """The claims of a valid token of this kind, or TokenError."""
    try:
        payload = jwt.decode(
            token,
            settings.secret_key,
            algorithms=[_ALGORITHM],
            issuer=_ISSUER,
            options={"require": ["exp", "sub", "typ", "ver"]},
        )
    except jwt.ExpiredSignatureError:
        raise TokenError("令牌已过期 (token expired)") from None
    except jwt.PyJWTError:
        raise TokenError("令牌无效 (invalid token)") from None
    if payload.get("typ") != kind:
        raise TokenError("令牌类型不符 (wrong kind of token)")
    try:
        return TokenClaims(
            user_id=int(payload["sub"]),
            token_version=int(payload["ver"]),
            kind=kind,
            expires_at=dt.datetime.fromtimestamp(payload["exp"], dt.UTC),
            session_id=_optional_int(payload.get("sid")),
            generation=_optional_int(payload.get("gen")),
        )
    except (TypeError, ValueError):
        raise TokenError("令牌无效 (invalid token)") from None


def _optional_int(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("not an integer claim")
    return value


# --- API tokens -------------------------------------------------------------------


def new_api_token() -> tuple[str, str, str]:
    """(the token to show once, its display prefix, its hash to store)."""
    prefix = secrets.token_hex(4)
    token = f"{API_TOKEN_MARK}{prefix}_{secrets.token_urlsafe(32)}"
    return token, prefix, hash_api_token(token)


def hash_api_token(token: str) -> str:
    # API tokens carry 256 random bits: a fast hash is enough, and lets us look them up.
    return hashlib.sha256(token.encode()).hexdigest()


def is_api_token(token: str) -> bool:
    return token.startswith(API_TOKEN_MARK)
