"""``linju token create | list | revoke`` against the session's database."""

from __future__ import annotations

import pytest

from hub.enums import Role
from hub.models import ApiToken, User
from hub.passwords import hash_password
from hub.services import auth
from hub.settings import Settings
from tests.test_cli import assert_one_line_error, linju


@pytest.fixture
async def user(unique_name: str) -> User:
    return await User.create(
        username=f"t{unique_name}", password_hash=hash_password("x"), role=Role.READER
    )


async def test_token_create_list_revoke(orm: Settings, user: User) -> None:
    created = linju(
        "token", "create", user.username, "--name", "dashboard", database_url=orm.database_url
    )
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip().splitlines()[-1].split(": ", 1)[1]
    assert secret.startswith("lj_")
    viewer = await auth.resolve_bearer(settings=orm, authorization=f"Bearer {secret}")
    assert viewer.user_id == user.id

    listed = linju("token", "list", user.username, database_url=orm.database_url)
    assert "dashboard" in listed.stdout and "active" in listed.stdout
    assert secret not in listed.stdout  # shown once, never again

    record = await ApiToken.get(user=user)
    revoked = linju("token", "revoke", str(record.id), database_url=orm.database_url)
    assert revoked.returncode == 0, revoked.stderr
    with pytest.raises(auth.AuthError):
        await auth.resolve_bearer(settings=orm, authorization=f"Bearer {secret}")
    assert "revoked" in linju("token", "list", user.username, database_url=orm.database_url).stdout


def test_token_for_an_unknown_user_is_one_line(orm: Settings) -> None:
    done = linju("token", "create", "nobody-at-all", "--name", "x", database_url=orm.database_url)
    assert_one_line_error(done, "nobody-at-all")


def test_revoking_an_unknown_token_is_one_line(orm: Settings) -> None:
    done = linju("token", "revoke", "987654321", database_url=orm.database_url)
    assert_one_line_error(done, "987654321")
