"""The compiled read path answers exactly what the resolvers answer, as every role.

Each query runs through both paths (tests/compiled_support.py) and the decoded answers
must be equal; a query that does not compile fails the test.
"""

from __future__ import annotations

import json

import pytest

from hub import models as m
from schema.node import NODE_MODELS
from tests import test_permissions
from tests.api_data import gid, schema_for
from tests.compiled_support import both, full_selection
from tests.conftest import BACKEND
from tests.test_permissions import ROLES, Fixture, viewer

# The permission matrix's world: two branches, a partner unit and one it must not see.
fixture = test_permissions.fixture

pytestmark = pytest.mark.usefixtures("orm")

TYPES = sorted(NODE_MODELS)
# SQLite's parser refuses subqueries nested more than a few levels (those fall back).
DEPTH = 1 if BACKEND == "postgres" else 0


def _root(settings, type_name: str) -> str:
    query = schema_for(settings)._schema.query_type
    for name, field in query.fields.items():
        inner = getattr(field.type, "of_type", field.type)
        if getattr(inner, "name", "") == f"{type_name}Connection":
            return name
    raise AssertionError(type_name)


@pytest.mark.parametrize("role", ROLES)
async def test_every_node_type_by_node_id(settings, fixture: Fixture, role: str) -> None:
    who = viewer(role, fixture)
    for row in fixture.world.all_rows():
        type_name = type(row).__name__
        if type_name not in NODE_MODELS:
            continue
        query = (
            "query($id: ID!) { node(id: $id) { __typename id "
            f"... on {type_name} {{ {full_selection(settings, type_name, DEPTH)} }} }} }}"
        )
        want, have = await both(settings, query, who, id=gid(row))
        assert want == have, (type_name, role)


@pytest.mark.parametrize("role", ROLES)
async def test_every_root_connection(settings, fixture: Fixture, role: str) -> None:
    who = viewer(role, fixture)
    for type_name in TYPES:
        root = _root(settings, type_name)
        fields = full_selection(settings, type_name, DEPTH)
        query = (
            f"{{ {root}(first: 3) {{ totalCount __typename pageInfo {{ hasNextPage "
            "hasPreviousPage startCursor endCursor __typename } "
            f"edges {{ __typename cursor node {{ {fields} }} }} "
            f"nodes {{ id }} }} }}"
        )
        want, have = await both(settings, query, who)
        assert want == have, (type_name, role)


AUDIT_VALUES = """
{
  auditLog(where: {entity: {eq: "ParityTest"}}) {
    nodes { id at entity before after }
  }
}
"""


async def test_json_values_of_the_audit_log(settings, fixture: Fixture) -> None:
    # given entries whose before/after hold nested objects, arrays, unicode, numbers, nulls
    values = [
        ({"name": "甲社区", "phone": "13800000000"}, {"name": "乙社区", "n": [1, 2.5, None]}),
        (None, {"deep": {"list": [{"a": True}, {"b": "x\"y"}]}, "emoji": "🎉"}),
        ({"empty": {}, "none": []}, None),
    ]
    for before, after in values:
        await m.AuditLog.create(action="UPDATE", entity="ParityTest", before=before, after=after)
    # when both read paths answer, as the admin and as a reader (who reads none)
    for role in ("admin", "reader"):
        want, have = await both(settings, AUDIT_VALUES, viewer(role, fixture))
        # then they agree, and the admin reads back what was written
        assert want == have, role
    admin_want, _ = await both(settings, AUDIT_VALUES, viewer("admin", fixture))
    nodes = admin_want["data"]["auditLog"]["nodes"]
    read = sorted(json.dumps([n["before"], n["after"]], sort_keys=True) for n in nodes)
    assert read == sorted(json.dumps([b, a], sort_keys=True) for b, a in values)


OVERDUE = """query($ids: [ID!]!) {
  nodes(ids: $ids) { ... on ResidentRequest { status dueAt overdue } }
}"""


async def test_overdue_is_the_services_rule_at_the_requests_clock(settings, fixture: Fixture):
    # given requests with a deadline passed, to come or none, resolved or not
    import datetime as dt

    from hub.enums import RequestStatus

    template = fixture.world.requests[0]
    now = dt.datetime.now(dt.UTC)
    cases = [
        (RequestStatus.ASSIGNED, now - dt.timedelta(days=1), True),
        (RequestStatus.RESPONDED, now - dt.timedelta(seconds=5), True),
        (RequestStatus.ASSIGNED, now + dt.timedelta(days=1), False),
        (RequestStatus.RESOLVED, now - dt.timedelta(days=1), False),
        (RequestStatus.COLLECTED, None, False),
    ]
    ids = []
    for status, due, _ in cases:
        row = await m.ResidentRequest.create(
            compound_id=template.compound_id,  # type: ignore[attr-defined]
            category=template.category,
            channel=template.channel,
            status=status,
            description="路灯不亮",
            collected_at=now - dt.timedelta(days=3),
            due_at=due,
        )
        ids.append(gid(row))
    # when both read paths answer, as every role
    for role in ROLES:
        want, have = await both(settings, OVERDUE, viewer(role, fixture), ids=ids)
        # then they agree, and say what the rule says
        assert want == have, role
    admin, _ = await both(settings, OVERDUE, viewer("admin", fixture), ids=ids)
    assert [n["overdue"] for n in admin["data"]["nodes"]] == [c[2] for c in cases]


VIEWER = """{
  viewer { __typename id username displayName role street { name } community { name }
           partnerUnit { name } }
  me: viewer { username }
}"""


@pytest.mark.parametrize("role", ROLES)
async def test_the_viewers_own_account(settings, fixture: Fixture, role: str) -> None:
    # given a caller in each role, signed in with an account of its own (or anonymous)
    import dataclasses

    from hub.enums import Role

    who = viewer(role, fixture)
    if who.role is not None:
        account = await m.User.create(
            username=f"{fixture.world.street.name}-{role}",
            password_hash="-",
            role=who.role,
            street_id=who.street_id,
            partner_unit_id=who.unit_id if who.role is Role.PARTNER else None,
        )
        who = dataclasses.replace(who, user_id=account.id)
    # when both read paths answer `viewer`
    want, have = await both(settings, VIEWER, who)
    # then they agree: the account by the caller's id, null for anonymous
    assert want == have
    if who.role is None:
        assert want["data"] == {"viewer": None, "me": None}
    else:
        assert want["data"]["me"] == {"username": f"{fixture.world.street.name}-{role}"}
