"""Trusted documents against a real uvicorn server: Apollo's APQ protocol driven by httpx
as Apollo Client's persisted-query link does it (hash by GET, then the text by POST on
``PersistedQueryNotFound``, then the hash alone), a frontend's codegen manifest synced
with ``linju documents sync`` and run by id in trusted mode, and WebSocket operations
gated the same way."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import orjson

from hub.settings import Settings
from tests.socket_clients import hub_server, socket
from tests.test_cli import linju

MANIFEST = Path(__file__).parent / "fixtures" / "frontend" / "persisted-documents.json"
PUBLIC_FIGURES = "ca63c133d72ae5f2b74c8050d887a0444619e6ea809b698fd6afa65ce735444c"


async def apq_fetch(client: httpx.AsyncClient, url: str, query: str) -> dict[str, Any]:
    """What Apollo Client's createPersistedQueryLink does (useGETForHashedQueries)."""
    extensions = {
        "persistedQuery": {"version": 1, "sha256Hash": hashlib.sha256(query.encode()).hexdigest()}
    }
    first = await client.get(url, params={"extensions": orjson.dumps(extensions).decode()})
    body: dict[str, Any] = first.json()
    codes = [e.get("extensions", {}).get("code") for e in body.get("errors", [])]
    if "PERSISTED_QUERY_NOT_FOUND" not in codes:
        return {"sent_text": False, **body}
    second = await client.post(url, json={"query": query, "extensions": extensions})
    return {"sent_text": True, **second.json()}


async def test_apq_round_trip_over_a_real_server(orm: Settings, unique_name: str) -> None:
    query = f"query Apq {{ __typename a: __typename }} # {unique_name}"
    async with hub_server(orm) as served, httpx.AsyncClient(timeout=10) as client:
        url = f"{served.http}/graphql"
        first = await apq_fetch(client, url, query)
        assert first["sent_text"] and first["data"] == {"__typename": "Query", "a": "Query"}
        again = await apq_fetch(client, url, query)
        assert not again["sent_text"] and again["data"] == first["data"]


async def test_synced_manifest_runs_by_id_in_trusted_mode(orm: Settings) -> None:
    synced = linju(
        "documents", "sync", str(MANIFEST), "--client", "web", database_url=orm.database_url
    )
    assert synced.returncode == 0, synced.stderr
    trusted = replace(orm, documents="trusted", public_statistics=True)
    async with hub_server(trusted) as served, httpx.AsyncClient(timeout=10) as client:
        url = f"{served.http}/graphql"
        got = await client.get(url, params={"documentId": f"sha256:{PUBLIC_FIGURES}"})
        assert got.status_code == 200 and "statistics" in got.json()["data"]
        assert got.headers["cache-control"].startswith("public")
        posted = await client.post(url, json={"documentId": f"sha256:{PUBLIC_FIGURES}"})
        assert posted.json() == got.json()
        adhoc = await client.post(url, json={"query": "{ __typename }"})
        assert adhoc.json()["errors"][0]["extensions"]["code"] == "TRUSTED_DOCUMENT_REQUIRED"

        async with socket(served) as ws:
            refused = await ws.run("1", "{ __typename }")
            assert refused["type"] == "error"
            assert refused["payload"][0]["extensions"]["code"] == "TRUSTED_DOCUMENT_REQUIRED"
            await ws.send(
                {
                    "id": "2",
                    "type": "subscribe",
                    "payload": {"documentId": f"sha256:{PUBLIC_FIGURES}"},
                }
            )
            answer = await ws.receive()
            assert answer["type"] == "next", answer
            assert "statistics" in answer["payload"]["data"]
