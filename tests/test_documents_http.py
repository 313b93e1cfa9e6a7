"""Trusted documents over HTTP (hub.documents_gate in hub.app.graphql_app): ``documentId``
over POST and GET, trusted mode refusing ad-hoc documents, GET caching headers (public
for anonymous answers, never for a signed-in viewer), Apollo APQ, the fast lane giving
the same answers, and usage counted per document and client."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from prometheus_client import REGISTRY
from starlette.routing import Route

from hub.app import create_app
from hub.app.graphql_app import GRAPHQL_RESPONSE_JSON, HubGraphQL
from hub.documents_gate import ADHOC
from hub.enums import Role
from hub.models import TrustedDocument, User
from hub.services import auth, documents
from hub.settings import Settings
from schema.build import build_schema
from schema.internals import graphql_schema
from tests.test_fast_lane import shape

MANIFEST = Path(__file__).parent / "fixtures" / "frontend" / "persisted-documents.json"
ENTRIES = {
    e.text.split()[1].split("(")[0]: e
    for e in documents.parse_manifest(data=MANIFEST.read_bytes(), name=MANIFEST.name)
}
PUBLIC_FIGURES = ENTRIES["PublicFigures"]
DISTRICT_LIST = ENTRIES["DistrictList"]
PUBLIC_ID = f"sha256:{PUBLIC_FIGURES.claimed}"
DISTRICTS_ID = f"sha256:{DISTRICT_LIST.claimed}"
ADHOC_QUERY = "{ districts(first: 1) { totalCount } }"


@dataclass
class Hub:
    client: httpx.AsyncClient
    graphql: HubGraphQL
    tokens: dict[str, str]

    async def post(
        self, payload: Any, role: str | None = None, *, fast: bool = True, **headers: str
    ) -> httpx.Response:
        lane = self.graphql.fast_lane
        if not fast:
            self.graphql.fast_lane = None
        try:
            return await self.client.post(
                "/graphql", content=orjson.dumps(payload), headers=self._headers(role, headers)
            )
        finally:
            self.graphql.fast_lane = lane

    async def get(
        self, params: dict[str, Any], role: str | None = None, *, fast: bool = True, **headers: str
    ) -> httpx.Response:
        lane = self.graphql.fast_lane
        if not fast:
            self.graphql.fast_lane = None
        query = {
            k: orjson.dumps(v).decode() if isinstance(v, dict) else v for k, v in params.items()
        }
        try:
            return await self.client.get(
                "/graphql", params=query, headers=self._headers(role, headers)
            )
        finally:
            self.graphql.fast_lane = lane

    def _headers(self, role: str | None, extra: dict[str, str]) -> dict[str, str]:
        headers = {
            "content-type": "application/json",
            **{k.replace("_", "-"): v for k, v in extra.items()},
        }
        if role is not None:
            headers["authorization"] = f"Bearer {self.tokens[role]}"
        return headers


def code(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["extensions"]["code"])


@pytest.fixture(scope="module")
async def registered(orm: Settings) -> list[TrustedDocument]:
    report = await documents.register(
        documents=list(ENTRIES.values()),
        client_name="web",
        client_version="3.1.0",
        schema=graphql_schema(build_schema(orm)),
        actor=None,
        actor_name="test",
    )
    assert report.ok, report.problems
    return report.documents


async def _tokens(unique_name: str) -> dict[str, str]:
    tokens = {}
    for role in (Role.ADMIN, Role.READER, Role.CURATOR):
        user = await User.create(
            username=f"{unique_name}-{uuid.uuid4().hex[:6]}-{role.value.lower()}",
            password_hash="-",
            role=role,
        )
        tokens[role.value.lower()], _ = await auth.create_api_token(user=user, name="docs")
    return tokens


async def _hub(settings: Settings, unique_name: str) -> AsyncIterator[Hub]:
    app = create_app(replace(settings, public_statistics=True))
    (graphql,) = [
        r.app for r in app.routes if isinstance(r, Route) and isinstance(r.app, HubGraphQL)
    ]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hub"
    ) as client:
        yield Hub(client, graphql, await _tokens(unique_name))


@pytest.fixture
async def trusted(
    orm: Settings, registered: list[TrustedDocument], unique_name: str
) -> AsyncIterator[Hub]:
    async for hub in _hub(replace(orm, documents="trusted"), unique_name):
        yield hub


@pytest.fixture
async def open_hub(
    orm: Settings, registered: list[TrustedDocument], unique_name: str
) -> AsyncIterator[Hub]:
    async for hub in _hub(orm, unique_name):
        yield hub


async def test_trusted_mode_answers_by_id_over_post_and_get(trusted: Hub) -> None:
    posted = await trusted.post({"documentId": PUBLIC_ID})
    assert posted.status_code == 200, posted.text
    figures = posted.json()["data"]["statistics"]
    assert set(figures) == {"coverage", "membersTotal"}
    got = await trusted.get({"documentId": PUBLIC_ID})
    assert got.status_code == 200 and got.json() == posted.json()
    with_variables = await trusted.get(
        {"documentId": DISTRICTS_ID, "variables": {"first": 1}}, "reader"
    )
    assert len(with_variables.json()["data"]["districts"]["edges"]) <= 1
    # The registered text itself, sent in full, is a registered document too.
    assert (await trusted.post({"query": PUBLIC_FIGURES.text})).json() == posted.json()


async def test_trusted_mode_refuses_everything_else(trusted: Hub) -> None:
    for response in (
        await trusted.post({"query": ADHOC_QUERY}),
        await trusted.post({"query": ADHOC_QUERY}, "admin"),
        await trusted.get({"query": ADHOC_QUERY}, "reader"),
        await trusted.post(
            {
                "query": ADHOC_QUERY,
                "extensions": {
                    "persistedQuery": {
                        "version": 1,
                        "sha256Hash": documents.document_hash(ADHOC_QUERY),
                    }
                },
            }
        ),
    ):
        assert response.status_code == 200
        assert code(response) == "TRUSTED_DOCUMENT_REQUIRED", response.text
        assert "data" not in response.json() or response.json()["data"] is None
    strict = await trusted.post({"query": ADHOC_QUERY}, accept=GRAPHQL_RESPONSE_JSON)
    assert strict.status_code == 400 and "data" not in strict.json()
    unknown = await trusted.post({"documentId": "sha256:" + "0" * 64})
    assert code(unknown) == "PERSISTED_DOCUMENT_NOT_FOUND"
    for bad in ("0" * 64, "sha256:xyz", "md5:" + "0" * 32):
        assert code(await trusted.post({"documentId": bad})) == "BAD_USER_INPUT"
    both = await trusted.post({"documentId": PUBLIC_ID, "query": PUBLIC_FIGURES.text})
    assert code(both) == "BAD_USER_INPUT"
    not_text = await trusted.post({"documentId": 12})
    assert not_text.status_code == 400 and "documentId" in not_text.text


async def test_admin_adhoc_when_allowed(
    orm: Settings, registered: list[TrustedDocument], unique_name: str
) -> None:
    settings = replace(orm, documents="trusted", documents_admin_adhoc=True)
    async for hub in _hub(settings, unique_name):
        assert "errors" not in (await hub.post({"query": ADHOC_QUERY}, "admin")).json()
        assert code(await hub.post({"query": ADHOC_QUERY}, "reader")) == (
            "TRUSTED_DOCUMENT_REQUIRED"
        )


async def test_a_retired_document_stops_running(
    trusted: Hub, unique_name: str, orm: Settings
) -> None:
    text = f"query Retiring{abs(hash(unique_name))} {{ __typename }}"
    report = await documents.register(
        documents=[documents.Submitted(text=text, source="t")],
        client_name="web",
        schema=graphql_schema(build_schema(orm)),
        actor=None,
    )
    hex_id = report.registered[0].id
    assert (await trusted.post({"documentId": f"sha256:{hex_id}"})).json()["data"]
    await documents.retire(document_id=hex_id, actor=None)
    trusted.graphql.documents.forget(hex_id)  # another process: within KNOWN_SECONDS
    gone = await trusted.post({"documentId": f"sha256:{hex_id}"})
    assert code(gone) == "PERSISTED_DOCUMENT_NOT_FOUND"


async def test_get_caching_public_for_anonymous_private_for_a_viewer(trusted: Hub) -> None:
    public = await trusted.get({"documentId": PUBLIC_ID})
    assert public.headers["cache-control"] == "public, max-age=60"
    etag = public.headers["etag"]
    assert etag.startswith('W/"')
    assert "Accept" in public.headers["vary"] and "Authorization" in public.headers["vary"]
    again = await trusted.get({"documentId": PUBLIC_ID}, if_none_match=etag)
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    strong = await trusted.get({"documentId": PUBLIC_ID}, if_none_match=etag.removeprefix("W/"))
    assert strong.status_code == 304  # If-None-Match compares weakly
    other = await trusted.get({"documentId": PUBLIC_ID}, if_none_match='"nope"')
    assert other.status_code == 200 and other.content == public.content

    private = await trusted.get({"documentId": PUBLIC_ID}, "reader")
    assert private.status_code == 200 and "data" in private.json()
    assert private.headers["cache-control"] == "private, no-store"
    assert "etag" not in private.headers
    unmatched = await trusted.get({"documentId": PUBLIC_ID}, "reader", if_none_match=etag)
    assert unmatched.status_code == 200  # never a 304 for a signed-in viewer

    # An answer with errors (here a bad variable) is not kept either.
    refused = await trusted.get({"documentId": DISTRICTS_ID, "variables": {"first": "many"}})
    assert refused.json()["errors"] and refused.headers["cache-control"] == "no-store"
    # POST answers and ad-hoc GETs carry none of this.
    assert "cache-control" not in (await trusted.post({"documentId": PUBLIC_ID})).headers


async def test_the_fast_lane_gives_the_same_answers(open_hub: Hub, trusted: Hub) -> None:
    for hub in (open_hub, trusted):
        for role in (None, "reader"):
            for payload in (
                {"documentId": PUBLIC_ID},
                {"documentId": DISTRICTS_ID, "variables": {"first": 2}},
                {"query": ADHOC_QUERY},
                {"query": ADHOC_QUERY, "documentId": PUBLIC_ID},
            ):
                await hub.post(payload, role)  # the response cache: a hit from now on
                await hub.get(payload, role)
                fast = shape(await hub.post(payload, role))
                assert fast == shape(await hub.post(payload, role, fast=False)), payload
                fast_get = shape(await hub.get(payload, role))
                assert fast_get == shape(await hub.get(payload, role, fast=False)), payload


async def test_apq_round_trip_in_open_mode(open_hub: Hub, unique_name: str) -> None:
    text = f"query Apq{abs(hash(unique_name))} {{ districts(first: 1) {{ totalCount }} }}"
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": documents.document_hash(text)}}
    first = await open_hub.get({"extensions": extensions}, "reader")
    assert first.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    assert code(first) == "PERSISTED_QUERY_NOT_FOUND"
    sent = await open_hub.post({"query": text, "extensions": extensions}, "reader")
    assert "errors" not in sent.json(), sent.text
    by_hash = await open_hub.get({"extensions": extensions}, "reader")
    assert by_hash.json() == sent.json()
    assert by_hash.headers["cache-control"] == "private, no-store"
    mismatch = await open_hub.post({"query": ADHOC_QUERY, "extensions": extensions}, "reader")
    assert code(mismatch) == "BAD_USER_INPUT"
    old = {"persistedQuery": {"version": 2, "sha256Hash": documents.document_hash(text)}}
    assert code(await open_hub.post({"extensions": old})) == "PERSISTED_QUERY_NOT_SUPPORTED"
    # A registered document answers by its hash without being sent first.
    registered = {"persistedQuery": {"version": 1, "sha256Hash": PUBLIC_FIGURES.claimed}}
    assert "errors" not in (await open_hub.post({"extensions": registered})).json()


async def test_open_mode_runs_documents_by_id_and_ad_hoc(open_hub: Hub) -> None:
    assert "errors" not in (await open_hub.post({"query": ADHOC_QUERY}, "reader")).json()
    by_id = await open_hub.post({"documentId": PUBLIC_ID, "operationName": "PublicFigures"})
    assert list(by_id.json()["data"]) == ["statistics"]
    wrong_name = await open_hub.post({"documentId": PUBLIC_ID, "operationName": "Other"})
    assert wrong_name.json()["errors"]


async def test_usage_is_counted_per_document_and_client(trusted: Hub) -> None:
    hex_id = PUBLIC_FIGURES.claimed
    assert hex_id is not None
    labels = {"document": hex_id[:12], "client": "web"}
    before = REGISTRY.get_sample_value("linju_document_requests_total", labels) or 0.0
    errors_before = REGISTRY.get_sample_value("linju_document_errors_total", labels) or 0.0
    adhoc = {"document": ADHOC, "client": ADHOC}
    adhoc_before = REGISTRY.get_sample_value("linju_document_requests_total", adhoc) or 0.0
    stored = await TrustedDocument.get(id=hex_id)
    await trusted.graphql.documents.flush()
    stored = await TrustedDocument.get(id=hex_id)

    for _ in range(3):
        await trusted.post({"documentId": PUBLIC_ID})
    await trusted.post({"query": ADHOC_QUERY})
    await trusted.graphql.documents.flush()

    assert REGISTRY.get_sample_value("linju_document_requests_total", labels) == before + 3
    assert REGISTRY.get_sample_value("linju_document_errors_total", labels) in (
        None,
        errors_before,
    )
    assert REGISTRY.get_sample_value("linju_document_requests_total", adhoc) == adhoc_before + 1
    assert REGISTRY.get_sample_value("linju_document_last_used_timestamp_seconds", labels)
    counted = await TrustedDocument.get(id=hex_id)
    assert counted.request_count == stored.request_count + 3
    assert counted.last_used_at is not None
    scrape = (await trusted.client.get("/metrics")).text
    assert f'linju_document_requests_total{{client="web",document="{hex_id[:12]}"}}' in scrape


REGISTER = """mutation Register($input: RegisterDocumentsInput!) {
  registerDocuments(input: $input) {
    ok registered problems { source documentId messages } errors { code }
    documents { documentId clientName clientVersion operationNames retiredAt }
  }
}"""
RETIRE = """mutation Retire($id: String!) {
  retireDocument(documentId: $id) { document { documentId retiredAt } errors { code message } }
}"""


async def test_an_admin_registers_and_retires_over_graphql(
    orm: Settings, registered: list[TrustedDocument], unique_name: str
) -> None:
    # Open mode to send the mutations ad hoc; a trusted hub would need them registered.
    async for hub in _hub(orm, unique_name):
        text = f"query ByMutation{abs(hash(unique_name))} {{ __typename }}"
        variables = {"input": {"clientName": "ios", "clientVersion": "7", "documents": [text]}}
        refused = await hub.post({"query": REGISTER, "variables": variables}, "reader")
        answer = refused.json()["data"]["registerDocuments"]
        assert not answer["ok"] and answer["errors"] == [{"code": "FORBIDDEN"}]
        assert not await TrustedDocument.exists(id=documents.document_hash(text))

        bad = {"input": {"clientName": "ios", "documents": [text, "{ nope }"]}}
        problems = (await hub.post({"query": REGISTER, "variables": bad}, "admin")).json()
        payload = problems["data"]["registerDocuments"]
        assert not payload["ok"] and payload["problems"][0]["source"] == "documents[1]"
        assert "nope" in payload["problems"][0]["messages"][0]

        done = (await hub.post({"query": REGISTER, "variables": variables}, "admin")).json()
        payload = done["data"]["registerDocuments"]
        assert payload["ok"] and payload["registered"] == 1, payload
        (document,) = payload["documents"]
        assert document["clientName"] == "ios" and document["retiredAt"] is None
        by_id = await hub.post({"documentId": document["documentId"]})
        assert by_id.json()["data"] == {"__typename": "Query"}

        retired = await hub.post(
            {"query": RETIRE, "variables": {"id": document["documentId"]}}, "admin"
        )
        assert retired.json()["data"]["retireDocument"]["document"]["retiredAt"]
        gone = await hub.post({"documentId": document["documentId"]})
        assert code(gone) == "PERSISTED_DOCUMENT_NOT_FOUND"  # at once in this process

        manifest = {"input": {"clientName": "web", "manifest": MANIFEST.read_text()}}
        synced = (await hub.post({"query": REGISTER, "variables": manifest}, "admin")).json()
        assert synced["data"]["registerDocuments"]["ok"]
        assert len(synced["data"]["registerDocuments"]["documents"]) == 3


async def test_registered_documents_are_prepared_before_their_first_request(
    trusted: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hub.access import Viewer

    assert await trusted.graphql.documents.warm() >= len(ENTRIES)
    read_path = trusted.graphql.read_path

    def no_more(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("compiled on first use")

    monkeypatch.setattr(read_path, "compile", no_more)
    for viewer in (Viewer(), Viewer(role=Role.READER), Viewer(role=Role.ADMIN)):
        for name in ("PublicFigures", None):
            assert read_path.ready(PUBLIC_FIGURES.text, None, name, viewer) is not None
    answered = await trusted.post({"documentId": PUBLIC_ID}, "reader")
    assert "errors" not in answered.json()


# --- the fast lane in trusted mode: the full path's answers and counts ---------------

LANE_ROLES = (None, "reader", "curator", "admin")  # None: anonymous


def _usage(*hex_ids: str) -> tuple[float, ...]:
    """The Prometheus counts of registered documents (client web) and of ad hoc."""
    values = []
    every = [{"document": hex_id[:12], "client": "web"} for hex_id in hex_ids]
    for labels in [*every, {"document": ADHOC, "client": ADHOC}]:
        for name in ("linju_document_requests_total", "linju_document_errors_total"):
            values.append(REGISTRY.get_sample_value(name, labels) or 0.0)
    return tuple(values)


async def _stored(*hex_ids: str) -> tuple[int, ...]:
    counts: list[int] = []
    for hex_id in hex_ids:
        row = await TrustedDocument.get(id=hex_id)
        counts += [row.request_count, row.error_count]
    return tuple(counts)


@dataclass
class Parsed:
    calls: int = 0


@pytest.fixture(params=["cache on", "cache off"])
async def lanes(
    request: pytest.FixtureRequest,
    orm: Settings,
    registered: list[TrustedDocument],
    unique_name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[tuple[Hub, Parsed]]:
    """A trusted hub, its response cache on or off, and the calls of strawberry's body
    parsing (none when the fast lane answers)."""
    parsed = Parsed()
    parse = HubGraphQL.parse_http_body

    async def counted(self: HubGraphQL, request: Any) -> Any:
        parsed.calls += 1
        return await parse(self, request)

    monkeypatch.setattr(HubGraphQL, "parse_http_body", counted)
    settings = replace(orm, documents="trusted", response_cache=request.param == "cache on")
    async for hub in _hub(settings, unique_name):
        yield hub, parsed


async def _retired(orm: Settings, hub: Hub, unique_name: str) -> str:
    text = f"query Gone{abs(hash(unique_name))} {{ districts(first: 1) {{ totalCount }} }}"
    report = await documents.register(
        documents=[documents.Submitted(text=text, source="t")],
        client_name="web",
        schema=graphql_schema(build_schema(orm)),
        actor=None,
    )
    hex_id = report.registered[0].id
    await documents.retire(document_id=hex_id, actor=None)
    hub.graphql.documents.forget(hex_id)  # as another process would, after KNOWN_SECONDS
    return f"sha256:{hex_id}"


@pytest.mark.parametrize("role", LANE_ROLES)
async def test_the_lane_answers_trusted_mode_as_the_full_path(
    lanes: tuple[Hub, Parsed], orm: Settings, unique_name: str, role: str | None
) -> None:
    hub, parsed = lanes
    assert hub.graphql.fast_lane is not None
    hex_ids = (str(PUBLIC_FIGURES.claimed), str(DISTRICT_LIST.claimed))
    etag = (await hub.get({"documentId": PUBLIC_ID}, fast=False)).headers["etag"]
    retired = await _retired(orm, hub, unique_name)
    cached = hub.graphql.settings.response_cache
    compiled = hub.graphql.read_path.mode == "compiled"
    unknown = "sha256:" + "0" * 64
    # (name, method, payload, extra headers, whether the lane answers it itself)
    cases: list[tuple[str, str, dict[str, Any], dict[str, str], bool]] = [
        ("by id", "POST", {"documentId": PUBLIC_ID}, {}, True),
        (
            "by id, variables",
            "POST",
            {"documentId": DISTRICTS_ID, "variables": {"first": 2}},
            {},
            True,
        ),
        ("by id", "GET", {"documentId": PUBLIC_ID}, {}, True),
        (
            "by id, variables",
            "GET",
            {"documentId": DISTRICTS_ID, "variables": {"first": 2}},
            {},
            True,
        ),
        ("If-None-Match", "GET", {"documentId": PUBLIC_ID}, {"if_none_match": etag}, True),
        (
            "other If-None-Match",
            "GET",
            {"documentId": PUBLIC_ID},
            {"if_none_match": '"x", W/"y"'},
            True,
        ),
        ("ad hoc", "POST", {"query": ADHOC_QUERY}, {}, True),
        ("ad hoc", "GET", {"query": ADHOC_QUERY}, {}, True),
        ("registered text", "POST", {"query": PUBLIC_FIGURES.text}, {}, True),
        ("unknown id", "POST", {"documentId": unknown}, {}, True),
        ("unknown id", "GET", {"documentId": unknown}, {}, True),
        ("retired id", "POST", {"documentId": retired}, {}, True),
        ("retired id", "GET", {"documentId": retired}, {}, True),
        # the full path's own refusals: handed over
        ("malformed id", "POST", {"documentId": "sha256:xyz"}, {}, False),
        ("id and query", "GET", {"documentId": PUBLIC_ID, "query": ADHOC_QUERY}, {}, False),
        ("id not a string", "POST", {"documentId": 12}, {}, False),
        ("id null", "POST", {"documentId": None, "query": ADHOC_QUERY}, {}, False),
    ]
    for name, method, payload, extra, answered in cases:
        for accept in (None, GRAPHQL_RESPONSE_JSON):
            headers = {**extra, "accept": accept} if accept else extra
            send = hub.get if method == "GET" else hub.post
            for _ in range(2):  # stored, then a hit from now on
                await send(payload, role, fast=False, **headers)
            await hub.graphql.documents.flush()
            counts, stored = _usage(*hex_ids), await _stored(*hex_ids)
            full = await send(payload, role, fast=False, **headers)
            await hub.graphql.documents.flush()
            full_counts = _usage(*hex_ids)
            full_stored = await _stored(*hex_ids)
            calls = parsed.calls

            lane = await send(payload, role, **headers)

            case = (name, method, accept)
            assert shape(lane) == shape(full), case
            assert full.status_code != 500
            await hub.graphql.documents.flush()
            lane_counts = _usage(*hex_ids)
            lane_stored = await _stored(*hex_ids)
            # each answer counted alike, whoever gave it
            assert [b - a for a, b in zip(counts, full_counts, strict=True)] == [
                b - a for a, b in zip(full_counts, lane_counts, strict=True)
            ], case
            assert [b - a for a, b in zip(stored, full_stored, strict=True)] == [
                b - a for a, b in zip(full_stored, lane_stored, strict=True)
            ], case
            if answered:  # counted once more (a refusal as ad hoc, with an error)
                assert lane_counts != full_counts, case
            # by the lane: every refusal, every hit, every compiled read
            if answered and (cached or compiled or "errors" in full.text):
                assert parsed.calls == calls, case


async def test_the_lane_keeps_the_admin_ad_hoc_rule(
    orm: Settings, registered: list[TrustedDocument], unique_name: str
) -> None:
    settings = replace(orm, documents="trusted", documents_admin_adhoc=True)
    async for hub in _hub(settings, unique_name):
        for role in ("admin", "reader", None):
            for accept in ("application/json", GRAPHQL_RESPONSE_JSON):
                for _ in range(2):
                    await hub.post({"query": ADHOC_QUERY}, role, fast=False, accept=accept)
                full = shape(
                    await hub.post({"query": ADHOC_QUERY}, role, fast=False, accept=accept)
                )
                lane = shape(await hub.post({"query": ADHOC_QUERY}, role, accept=accept))
                assert lane == full, (role, accept)
                refused = b"TRUSTED_DOCUMENT_REQUIRED" in lane[1]
                assert refused == (role != "admin"), (role, lane)


@pytest.mark.parametrize("role", [None, "reader"])
async def test_the_lane_counts_ad_hoc_requests_in_open_mode(
    open_hub: Hub, role: str | None
) -> None:
    labels = {"document": ADHOC, "client": ADHOC}

    def adhoc() -> float:
        return REGISTRY.get_sample_value("linju_document_requests_total", labels) or 0.0

    counted = []
    for fast in (False, True, True):
        before = adhoc()
        response = await open_hub.post({"query": ADHOC_QUERY}, role, fast=fast)
        assert "errors" not in response.json()
        counted.append(adhoc() - before)
    assert counted == [1.0, 1.0, 1.0]
