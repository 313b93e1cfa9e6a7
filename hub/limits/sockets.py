"""Limits on WebSocket connections (graphql-transport-ws).

- **Rate limits:** every ``subscribe`` message (a subscription, or a query or mutation
  sent over the socket, ``login`` included) counts like an HTTP request against the
  per-address limit and, when the connection carries a token, the per-token limit, in
  the same windows as HTTP requests (the counter ``hub.limits.rate`` left in the
  ASGI scope; Redis when ``LINJU_REDIS_URL`` is set). A refused operation gets an
  ``error`` message with code ``RATE_LIMITED``; the connection stays open.
- **Caps:** open connections per account, and operations in flight per connection and
  per account. These are counted in this process: with several workers, each one
  enforces the caps on its own connections.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass

from graphql import GraphQLFormattedError
from starlette.types import Scope

from hub.limits.counters import SCOPE_KEY
from hub.limits.rate import MESSAGES, RATE_LIMITED_CODE, Windows, address_key
from hub.observability.metrics import RATE_LIMITED
from hub.settings import Settings

TOO_MANY_CODE = "TOO_MANY_SUBSCRIPTIONS"
TOO_MANY_ON_CONNECTION = (
    "此连接上的订阅过多（上限 {limit}） (too many operations on this connection: at most {limit})"
)
TOO_MANY_FOR_ACCOUNT = (
    "此账号的订阅过多（上限 {limit}） (too many operations for this account: at most {limit})"
)
TOO_MANY_CONNECTIONS = "连接过多 (too many connections for this account)"


@dataclass(frozen=True)
class Refusal:
    """Why an operation was not run: a message and ``extensions.code``."""

    message: str
    code: str
    retry_after: int | None = None

    def error(self) -> GraphQLFormattedError:
        """The GraphQL error of an ``error`` message."""
        extensions: dict[str, object] = {"code": self.code}
        if self.retry_after is not None:
            extensions["retryAfter"] = self.retry_after
        return {"message": self.message, "extensions": extensions}


def token_key(token: str) -> str:
    # The key hub.limits.rate counts a bearer token under: by its hash, never the token.
    return f"t:{hashlib.sha256(token.encode()).hexdigest()}"


class SocketRateLimit:
    """Count operations over WebSockets against the HTTP rate limits."""

    def __init__(self, settings: Settings) -> None:
        # Used when no RateLimit middleware runs in front (the GraphQL app served alone).
        self.own_windows = Windows(settings)

    async def check(self, scope: Scope, *, token: str | None) -> Refusal | None:
        """Count one operation; a Refusal when it is over a limit."""
        windows: Windows = scope.get(SCOPE_KEY) or self.own_windows
        keys: dict[str, str] = {}
        address = address_key(scope)
        if windows.limits["address"] > 0 and address:
            keys["address"] = address
        if windows.limits["token"] > 0 and token:
            keys["token"] = token_key(token)
        exceeded = await windows.exceeded(keys)
        if exceeded is None:
            return None
        limit, retry_after = exceeded
        RATE_LIMITED.labels(limit=limit).inc()
        message = MESSAGES[limit].format(seconds=retry_after)
        return Refusal(message, RATE_LIMITED_CODE, retry_after)


class AccountCaps:
    """Connections and operations in flight per account, in this process."""

    def __init__(self, settings: Settings) -> None:
        self.max_connections = settings.ws_max_connections_per_account
        self.max_per_connection = settings.ws_max_subscriptions_per_connection
        self.max_per_account = settings.ws_max_subscriptions_per_account
        self.connections: Counter[int] = Counter()
        self.operations: Counter[int] = Counter()

    def open_connection(self, account: int) -> bool:
        """Take a connection slot of ``account``; False when it has none left."""
        if 0 < self.max_connections <= self.connections[account]:
            return False
        self.connections[account] += 1
        return True

    def close_connection(self, account: int) -> None:
        self.connections[account] -= 1
        if self.connections[account] <= 0:
            del self.connections[account]

    def start_operation(self, account: int | None, *, on_connection: int) -> Refusal | None:
        """Take an operation slot; a Refusal when the connection or account is full."""
        if 0 < self.max_per_connection <= on_connection:
            message = TOO_MANY_ON_CONNECTION.format(limit=self.max_per_connection)
            return Refusal(message, TOO_MANY_CODE)
        if account is None:
            return None
        if 0 < self.max_per_account <= self.operations[account]:
            message = TOO_MANY_FOR_ACCOUNT.format(limit=self.max_per_account)
            return Refusal(message, TOO_MANY_CODE)
        self.operations[account] += 1
        return None

    def end_operation(self, account: int) -> None:
        self.operations[account] -= 1
        if self.operations[account] <= 0:
            del self.operations[account]
