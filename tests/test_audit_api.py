"""ADMINs query the audit log through GraphQL, filtered by user, entity and time."""

from __future__ import annotations

import datetime as dt

import pytest

from hub.access import Viewer
from hub.enums import AuditAction, Role
from hub.models import AuditLog, User
from hub.passwords import hash_password
from hub.services import auth
from hub.settings import Settings
from tests.api_data import ADMIN, execute, gid

pytestmark = pytest.mark.usefixtures("orm")

AUDIT = """
query($user: ID!, $since: DateTime!) {
  auditLog(where: {user: {id: {eq: $user}}, entity: {eq: "User"}, at: {gte: $since}},
           orderBy: [{field: AT, direction: DESC}]) {
    totalCount edges { node { action actorName entityId user { username } before after } }
  }
}"""


async def test_admin_finds_a_users_logins_and_failures(
    settings: Settings, unique_name: str
) -> None:
    # Given a user who failed once and then logged in
    user = await User.create(
        username=f"a{unique_name}", password_hash=hash_password("Right-pass-1"), role=Role.READER
    )
    since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    with pytest.raises(auth.AuthError):
        await auth.login(settings=settings, username=user.username, password="Wrong-pass-1")
    await auth.login(settings=settings, username=user.username, password="Right-pass-1")
    # When an ADMIN asks for that user's entries since a minute ago
    variables = {"user": gid(user), "since": since.isoformat()}
    result = await execute(settings, AUDIT, viewer=ADMIN, **variables)
    # Then the successful login is listed (failures carry no user: they name who typed it)
    assert result.errors is None, result.errors
    entries = result.data["auditLog"]["edges"]
    assert [e["node"]["action"] for e in entries] == ["LOGIN"]
    assert entries[0]["node"]["user"]["username"] == user.username
    failures = await AuditLog.filter(actor_name=user.username, action=AuditAction.LOGIN_FAILED)
    assert len(failures) == 1 and "Wrong-pass-1" not in str(failures[0].after)


async def test_only_admins_read_the_audit_log(settings: Settings) -> None:
    for role in (Role.CURATOR, Role.READER, Role.PARTNER):
        result = await execute(
            settings, "{ auditLog { totalCount } }", viewer=Viewer(role=role, unit_id=1)
        )
        assert result.data == {"auditLog": {"totalCount": 0}}
