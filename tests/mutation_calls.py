"""Running mutations in tests: as a given viewer, answering the payload of the one root field."""

from __future__ import annotations

from typing import Any

from hub.access import Viewer
from hub.settings import Settings
from tests.api_data import execute


async def mutate(
    settings: Settings, query: str, viewer: Viewer, **variables: Any
) -> dict[str, Any]:
    """The payload of a mutation that must execute (its ``errors`` may still refuse it)."""
    result = await execute(settings, query, viewer=viewer, **variables)
    assert result.errors is None, result.errors
    assert result.data is not None
    (payload,) = result.data.values()
    return payload


def codes(payload: dict[str, Any]) -> dict[str | None, str]:
    """{field: code} of a payload's errors."""
    return {e["field"]: str(e["code"]) for e in payload["errors"]}


def ok(payload: dict[str, Any]) -> dict[str, Any]:
    """A payload that must have succeeded."""
    assert payload["errors"] == [], payload["errors"]
    return payload
