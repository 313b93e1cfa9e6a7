"""Trusted documents, the service (hub.services.documents): manifests, validation,
registering all or nothing, audit, retiring, and which fields a document selects."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import pytest
from graphql import GraphQLSchema, build_schema

from hub.access import Viewer
from hub.enums import Role
from hub.models import AuditLog, TrustedDocument
from hub.services import documents
from hub.services.errors import FORBIDDEN, NOT_FOUND, ServiceError
from hub.settings import Settings
from schema.build import build_schema as build_hub_schema
from schema.documents import registration_limits
from schema.internals import graphql_schema

pytestmark = pytest.mark.usefixtures("orm")

FIXTURES = Path(__file__).parent / "fixtures" / "frontend"
MANIFEST = FIXTURES / "persisted-documents.json"
ADMIN = Viewer(user_id=None, username="doc-admin", role=Role.ADMIN)


@pytest.fixture(scope="module")
def api_schema() -> GraphQLSchema:
    return graphql_schema(build_hub_schema(Settings()))


def _name(unique: str) -> str:
    """An operation name of the test's own (names are ASCII; the unique name is not)."""
    return f"Q_{hashlib.sha1(unique.encode()).hexdigest()[:10]}"


def _doc(unique: str, body: str = "districts(first: 2) { totalCount }") -> str:
    return f"query {_name(unique)} {{ {body} }}"


def test_a_codegen_manifest_is_read_with_its_hashes() -> None:
    entries = documents.parse_manifest(data=MANIFEST.read_bytes(), name=MANIFEST.name)
    assert len(entries) == 3
    for entry in entries:
        assert entry.claimed == hashlib.sha256(entry.text.encode()).hexdigest()


def test_relay_apollo_and_graphql_files_are_read() -> None:
    text = "query A { __typename }"
    hex_id = documents.document_hash(text)
    relay = documents.parse_manifest(data=json.dumps({hex_id: text}), name="relay.json")
    apollo = documents.parse_manifest(
        data=json.dumps(
            {
                "format": "apollo-persisted-query-manifest",
                "version": 1,
                "operations": [{"id": hex_id, "name": "A", "type": "query", "body": text}],
            }
        ),
        name="apollo.json",
    )
    plain = documents.parse_manifest(data=text.encode(), name="A.graphql")
    assert relay[0].text == apollo[0].text == plain[0].text == text
    assert plain[0].claimed is None


@pytest.mark.parametrize(
    ("data", "name", "says"),
    [
        (b"[1, 2]", "m.json", "manifest"),
        (b"{not json", "m.json", "JSON"),
        (b"{}", "m.json", "no document"),
        (b'{"k": 1}', "m.json", "manifest"),
        (b"\xff\xfe", "m.graphql", "UTF-8"),
        (b"   ", "m.graphql", "empty"),
    ],
)
def test_a_bad_manifest_says_why(data: bytes, name: str, says: str) -> None:
    with pytest.raises(documents.ManifestError, match=says):
        documents.parse_manifest(data=data, name=name)


def test_document_ids() -> None:
    hex_id = "a" * 64
    assert documents.parse_document_id(f"sha256:{hex_id}") == hex_id
    assert documents.parse_document_id(hex_id.upper()) == hex_id
    assert documents.parse_document_id("sha256:abc") is None
    assert documents.parse_document_id("md5:" + hex_id) is None


async def test_register_a_manifest_audited(api_schema: GraphQLSchema, unique_name: str) -> None:
    entries = documents.parse_manifest(data=MANIFEST.read_bytes(), name=MANIFEST.name)
    extra = documents.Submitted(text=_doc(unique_name), source="extra")
    report = await documents.register(
        documents=[*entries, extra],
        client_name="web",
        client_version="1.0.0",
        schema=api_schema,
        actor=ADMIN,
    )
    assert report.ok, report.problems
    stored = await TrustedDocument.get(id=documents.document_hash(extra.text))
    assert stored.operation_names == [_name(unique_name)]
    assert (stored.client_name, stored.client_version, stored.registered_by) == (
        "web",
        "1.0.0",
        "doc-admin",
    )
    entry = await AuditLog.get(entity="TrustedDocument", entity_id=stored.id[:50])
    assert entry.actor_name == "doc-admin" and entry.after is not None
    assert "text" not in entry.after and entry.after["client_name"] == "web"
    # Again: nothing new, the version brought up to date.
    again = await documents.register(
        documents=[extra], client_name="web", client_version="1.1.0", schema=api_schema, actor=None
    )
    assert again.ok and not again.registered and len(again.unchanged) == 1
    assert (await TrustedDocument.get(id=stored.id)).client_version == "1.1.0"


async def test_one_invalid_document_saves_nothing(
    api_schema: GraphQLSchema, unique_name: str
) -> None:
    good = documents.Submitted(text=_doc(unique_name), source="good.graphql")
    bad = documents.Submitted(text=_doc(unique_name, "districts { noSuchField }"), source="b")
    broken = documents.Submitted(text="query {", source="broken.graphql")
    report = await documents.register(
        documents=[good, bad, broken], client_name="web", schema=api_schema, actor=None
    )
    assert not report.ok and not report.registered
    by_source = {p.source: p.messages for p in report.problems}
    assert "noSuchField" in by_source["b"][0]
    assert "syntax error" in by_source["broken.graphql"][0]
    assert not await TrustedDocument.exists(id=documents.document_hash(good.text))


async def test_a_hash_that_is_not_the_texts_is_refused(
    api_schema: GraphQLSchema, unique_name: str
) -> None:
    text = _doc(unique_name)
    relay_md5 = hashlib.md5(text.encode()).hexdigest()  # Relay's default; not accepted
    wrong = documents.Submitted(text=text, source="m.json#x", claimed=relay_md5)
    report = await documents.register(
        documents=[wrong], client_name="web", schema=api_schema, actor=None
    )
    assert not report.ok and "SHA-256" in report.problems[0].messages[0]


async def test_limits_are_a_registration_check(api_schema: GraphQLSchema, unique_name: str) -> None:
    limits = registration_limits(replace(Settings(), max_depth=3), api_schema)
    deep = documents.Submitted(
        text=_doc(unique_name, "districts { edges { node { streets { totalCount } } } }"),
        source="deep",
    )
    report = await documents.register(
        documents=[deep], client_name="web", schema=api_schema, limits=limits, actor=None
    )
    assert not report.ok and "levels deep" in report.problems[0].messages[0]


async def test_only_an_admin_registers_and_retires(
    api_schema: GraphQLSchema, unique_name: str
) -> None:
    curator = Viewer(user_id=None, username="c", role=Role.CURATOR, street_id=1)
    submitted = documents.Submitted(text=_doc(unique_name), source="x")
    with pytest.raises(ServiceError) as refused:
        await documents.register(
            documents=[submitted], client_name="web", schema=api_schema, actor=curator
        )
    assert refused.value.codes == {FORBIDDEN}
    report = await documents.register(
        documents=[submitted], client_name="web", schema=api_schema, actor=ADMIN
    )
    hex_id = report.registered[0].id
    with pytest.raises(ServiceError):
        await documents.retire(document_id=f"sha256:{hex_id}", actor=curator)
    retired = await documents.retire(document_id=f"sha256:{hex_id}", actor=ADMIN)
    assert retired.retired_at is not None
    assert hex_id not in {d.id for d in await documents.active_documents()}
    assert await AuditLog.exists(entity="TrustedDocument", entity_id=hex_id[:50], action="ARCHIVE")
    with pytest.raises(ServiceError) as missing:
        await documents.retire(document_id="sha256:" + "0" * 64, actor=ADMIN)
    assert missing.value.codes == {NOT_FOUND}
    # Registering it again brings it back.
    back = await documents.register(
        documents=[submitted], client_name="web", schema=api_schema, actor=ADMIN
    )
    assert back.registered and back.registered[0].retired_at is None


async def test_client_name_is_required(api_schema: GraphQLSchema) -> None:
    report = await documents.register(
        documents=[documents.Submitted(text="{ __typename }", source="x")],
        client_name=" ",
        schema=api_schema,
        actor=None,
    )
    assert not report.ok and "client name" in report.problems[0].messages[0]


SDL = """
type Query { districts: [District!]! old: String @deprecated(reason: "use districts") }
type District { name: String! code: String }
"""


def test_fields_used_and_deprecated_fields() -> None:
    schema = build_schema(SDL)
    doc = TrustedDocument(id="1" * 64, text="{ old districts { name } }", client_name="web")
    other = TrustedDocument(id="2" * 64, text="{ districts { code } }", client_name="app")
    usage = documents.field_usage(schema=schema, documents=[doc, other])
    assert [d.client_name for d in usage["Query.districts"]] == ["web", "app"]
    assert [d.client_name for d in usage["District.code"]] == ["app"]
    ((coordinate, reason, users),) = documents.deprecated_usage(
        schema=schema, documents=[doc, other]
    )
    assert (coordinate, reason, [d.client_name for d in users]) == (
        "Query.old",
        "use districts",
        ["web"],
    )


def test_breaking_changes_are_found() -> None:
    current = build_schema(SDL)
    doc = TrustedDocument(
        id="1" * 64, text="{ districts { name code } }", client_name="web", operation_names=[]
    )
    safe = TrustedDocument(id="2" * 64, text="{ districts { name } }", client_name="app")
    removed = build_schema(SDL.replace(" code: String", ""))
    ((problem,),) = [documents.breaking(schema=removed, documents=[doc, safe], current=current)]
    assert problem.document_id == "1" * 64 and "code" in problem.messages[0]
    retyped = build_schema(SDL.replace("code: String", "code: Int"))
    (problem,) = documents.breaking(schema=retyped, documents=[doc, safe], current=current)
    assert "changed type from String to Int" in problem.messages[0]
    required = build_schema(SDL.replace("districts:", "districts(year: Int!):"))
    assert len(documents.breaking(schema=required, documents=[doc, safe], current=current)) == 2


def test_the_documents_settings_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    from hub.settings import SettingsError, load_settings

    monkeypatch.setenv("LINJU_DOCUMENTS", "Trusted")
    monkeypatch.setenv("LINJU_DOCUMENTS_ADMIN_ADHOC", "TRUE")
    settings = load_settings()
    assert (settings.documents, settings.documents_admin_adhoc) == ("trusted", True)
    monkeypatch.setenv("LINJU_DOCUMENTS", "closed")
    with pytest.raises(SettingsError, match="LINJU_DOCUMENTS must be one of open, trusted"):
        load_settings()
    monkeypatch.setenv("LINJU_DOCUMENTS", "open")
    monkeypatch.setenv("LINJU_DOCUMENTS_ADMIN_ADHOC", "maybe")
    with pytest.raises(SettingsError, match="LINJU_DOCUMENTS_ADMIN_ADHOC"):
        load_settings()
