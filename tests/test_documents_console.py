"""Trusted documents in the console (/admin/documents/): the list with stored usage,
registering a pasted or uploaded manifest (all or nothing), retiring, which registered
documents select each field, and the clients still using a ``@deprecated`` field."""

from __future__ import annotations

import html
from pathlib import Path

import pytest
from graphql import GraphQLSchema, build_schema

from admin.views.documents import DocumentsView
from hub.enums import Role
from hub.models import AuditLog, TrustedDocument
from hub.services import documents
from tests.admin_support import Server, console_server, make_account, signed_in

__all__ = ["console_server"]

ROOT = Path(__file__).parent.parent
MANIFEST = ROOT / "tests" / "fixtures" / "frontend" / "persisted-documents.json"
PAGE = "/admin/documents/"


def _deprecating_members_total() -> GraphQLSchema:
    """The served SDL with ``Statistics.membersTotal`` marked deprecated."""
    sdl = (ROOT / "schema" / "schema.graphql").read_text(encoding="utf-8")
    marked = sdl.replace(
        "  membersTotal: Int!\n", '  membersTotal: Int! @deprecated(reason: "use members")\n'
    )
    assert marked != sdl
    return build_schema(marked)


async def test_register_list_usage_and_retire_in_the_console(
    console_server: Server, unique_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = await make_account(f"{unique_name}-admin", Role.ADMIN)
    client = await signed_in(console_server, admin.username)
    try:
        bad_text = "query Broken { districts { nope } }"
        refused = await client.submit(
            PAGE,
            f"{PAGE}register/",
            {"client_name": "console-web", "manifest": bad_text},
        )
        assert refused.status_code == 400
        assert "document-problem" in refused.text and "nope" in html.unescape(refused.text)
        assert not await TrustedDocument.exists(id=documents.document_hash(bad_text))

        token = await client.token(PAGE)
        uploaded = await client.http.post(
            f"{PAGE}register/",
            data={"csrf_token": token, "client_name": "web", "client_version": "9"},
            files={"file": ("persisted-documents.json", MANIFEST.read_bytes(), "application/json")},
        )
        assert uploaded.status_code == 302, uploaded.text[:500]

        text = f"query Pasted{abs(hash(unique_name))} {{ __typename }}"
        pasted = await client.submit(
            PAGE, f"{PAGE}register/", {"client_name": "console-web", "manifest": text}
        )
        assert pasted.status_code == 302
        hex_id = documents.document_hash(text)
        stored = await TrustedDocument.get(id=hex_id)
        assert stored.client_name == "console-web" and stored.registered_by == admin.username
        await TrustedDocument.filter(id=hex_id).update(request_count=41, error_count=2)

        page = (await client.get(PAGE)).text
        assert f'data-id="{hex_id}"' in page
        row = page[page.index(f'data-id="{hex_id}"') :]
        assert '<td class="requests">41</td>' in row[:2000]
        assert '<td class="errors">2</td>' in row[:2000]
        # Which registered documents select a field: computed from their texts.
        usage = page[page.index('data-field="Statistics.membersTotal"') :][:1000]
        assert "PublicFigures" in usage
        assert 'id="deprecated-none"' in page  # the served schema deprecates nothing

        monkeypatch.setattr(DocumentsView, "api_schema", lambda self: _deprecating_members_total())
        deprecated = (await client.get(PAGE)).text
        found = deprecated[deprecated.index('data-field="Statistics.membersTotal"') :][:800]
        assert "use members" in found and "web" in found and "PublicFigures" in found
        monkeypatch.undo()

        retired = await client.submit(PAGE, f"{PAGE}retire/{hex_id}/", {})
        assert retired.status_code == 302
        assert (await TrustedDocument.get(id=hex_id)).retired_at is not None
        assert await AuditLog.exists(entity="TrustedDocument", entity_id=hex_id[:50])
    finally:
        await client.close()


async def test_only_admins_see_the_documents(console_server: Server, unique_name: str) -> None:
    curator = await make_account(f"{unique_name}-cur", Role.CURATOR)
    client = await signed_in(console_server, curator.username)
    try:
        response = await client.get(PAGE)
        assert (
            response.status_code == 302 and "/admin/documents" not in response.headers["location"]
        )
        token = await client.token("/admin/")
        posted = await client.post(
            f"{PAGE}register/", {"csrf_token": token, "client_name": "x", "manifest": "{ a }"}
        )
        assert posted.status_code == 302
    finally:
        await client.close()
