"""The signing key never comes from the source (issue 14, finding 1).

Without ``LINJU_SECRET_KEY`` the hub once signed with a constant published in its
source: anyone could forge an ADMIN access token or console cookie. Now the key is
configured, or generated on first start and kept (mode 0600) beside the SQLite file.
"""

from __future__ import annotations

import datetime as dt
import os
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import jwt
import pytest
from click.testing import CliRunner
from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from hub.access import tokens
from hub.app import create_app
from hub.app.cli import main
from hub.app.serving import serve_refusal
from hub.enums import Role
from hub.models import User
from hub.secret_key import KEY_FILE_SUFFIX, MIN_KEY_BYTES
from hub.settings import Settings, SettingsError, load_settings
from tests.admin_support import make_account, serve

# The constant the hub used to sign with: what an attacker reads in the source.
PUBLISHED_DEMO_KEY = "linju-demo-secret-change-me-before-production"
ACCOUNTS = "{ accounts(first: 5) { totalCount } auditLog(first: 1) { totalCount } }"


@pytest.fixture
def no_key(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """An environment that configures no key at all."""
    for name in [n for n in os.environ if n.startswith("LINJU_")]:
        monkeypatch.delenv(name)
    return monkeypatch


def _forged_access_token(user: User, key: str) -> str:
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=30)
    claims = {
        "iss": "linju-hub",
        "sub": str(user.id),
        "ver": user.token_version,
        "typ": "access",
        "exp": int(expires.timestamp()),
    }
    return jwt.encode(claims, key, algorithm="HS256")


def _forged_console_cookie(user: User, key: str) -> str:
    forger = Flask("forger")
    forger.secret_key = key
    serializer = SecureCookieSessionInterface().get_signing_serializer(forger)
    assert serializer is not None
    return str(serializer.dumps({"uid": user.id, "tv": user.token_version}))


@pytest.fixture
def default_settings(no_key: pytest.MonkeyPatch, orm: Settings) -> Settings:
    """The hub's settings for the session's database when no key is configured."""
    no_key.setenv("LINJU_DATABASE_URL", orm.database_url)
    return load_settings()


async def test_a_token_forged_with_the_published_key_is_refused(
    default_settings: Settings, unique_name: str
) -> None:
    admin = await make_account(unique_name, Role.ADMIN)
    transport = httpx.ASGITransport(app=create_app(default_settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:

        async def ask(token: str) -> httpx.Response:
            headers = {"Authorization": f"Bearer {token}"}
            return await client.post("/graphql", json={"query": ACCOUNTS}, headers=headers)

        forged = await ask(_forged_access_token(admin, PUBLISHED_DEMO_KEY))
        assert forged.status_code == 401
        assert "accounts" not in (forged.json().get("data") or {})
        # The same claims signed with the hub's own key do work: only the key was wrong.
        genuine = await ask(_forged_access_token(admin, default_settings.secret_key))
        assert genuine.status_code == 200
        assert genuine.json()["data"]["accounts"]["totalCount"] >= 1


async def test_a_console_cookie_forged_with_the_published_key_signs_nobody_in(
    default_settings: Settings, unique_name: str
) -> None:
    admin = await make_account(unique_name, Role.ADMIN)
    cookie = _forged_console_cookie(admin, PUBLISHED_DEMO_KEY)
    async for server in serve(default_settings):
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
            client.cookies.set("linju_console", cookie)
            answer = await client.get("/admin/auditlog/")
        assert answer.status_code == 302
        assert "/admin/login/" in answer.headers["location"]


def test_the_published_key_is_nowhere_in_the_source() -> None:
    root = Path(__file__).resolve().parent.parent
    for folder in ("hub", "admin", "schema", "resolvers", "seeds", "bench"):
        for path in (root / folder).rglob("*.py"):
            assert PUBLISHED_DEMO_KEY not in path.read_text(encoding="utf-8"), path


def test_a_generated_key_is_kept_beside_the_database_with_mode_0600(
    no_key: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    no_key.setenv("LINJU_DATABASE_URL", f"sqlite://{tmp_path / 'hub.db'}")
    first = load_settings()
    key_file = tmp_path / f"hub.db{KEY_FILE_SUFFIX}"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_text().strip() == first.secret_key
    assert len(first.secret_key.encode()) >= MIN_KEY_BYTES
    assert str(key_file) in first.secret_key_source
    # A second start (another worker, another command) reads the same key.
    second = load_settings()
    assert second.secret_key == first.secret_key
    assert [p.name for p in tmp_path.iterdir()] == [key_file.name]  # nothing left aside


def test_concurrent_first_starts_agree_on_one_key(
    no_key: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINJU_")}
    env["LINJU_DATABASE_URL"] = f"sqlite://{tmp_path / 'hub.db'}"
    script = "from hub.settings import load_settings; print(load_settings().secret_key)"
    processes = [
        subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    keys = {process.communicate(timeout=120)[0].strip() for process in processes}
    assert all(process.returncode == 0 for process in processes)
    assert keys == {(tmp_path / f"hub.db{KEY_FILE_SUFFIX}").read_text().strip()}


def test_a_key_file_setting_is_made_there_and_reused(
    no_key: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "keys" / "linju.key"
    path.parent.mkdir()
    no_key.setenv("LINJU_DATABASE_URL", "postgres://postgres@db.invalid/linju")
    no_key.setenv("LINJU_SECRET_KEY_FILE", str(path))
    settings = load_settings()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert settings.secret_key == path.read_text().strip() == load_settings().secret_key
    assert serve_refusal(settings, workers=4, reload=False) is None


@pytest.mark.parametrize(
    ("value", "reason"),
    [("short-key", "too short"), (PUBLISHED_DEMO_KEY, "published demo key")],
)
def test_a_weak_key_is_refused_in_one_line(
    no_key: pytest.MonkeyPatch, tmp_path: Path, value: str, reason: str
) -> None:
    no_key.setenv("LINJU_DATABASE_URL", f"sqlite://{tmp_path / 'hub.db'}")
    no_key.setenv("LINJU_SECRET_KEY", value)
    with pytest.raises(SettingsError, match=reason):
        load_settings()
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("错误：") and reason in lines[0], result.output
    assert value not in result.output  # the key itself is never printed


def test_a_weak_key_file_is_refused(no_key: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "weak.key"
    path.write_text("0123456789\n")
    no_key.setenv("LINJU_SECRET_KEY_FILE", str(path))
    with pytest.raises(SettingsError, match="too short"):
        load_settings()


def test_postgresql_without_a_key_does_not_serve(no_key: pytest.MonkeyPatch) -> None:
    no_key.setenv("LINJU_DATABASE_URL", "postgres://postgres@db.invalid/linju")
    settings = load_settings()  # commands that sign nothing (migrate, backup) still run
    refusal = serve_refusal(settings, workers=1, reload=False)
    assert refusal is not None and "LINJU_SECRET_KEY" in refusal
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code == 1 and "LINJU_SECRET_KEY" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_settings_built_in_code_get_a_random_key() -> None:
    assert Settings().secret_key != Settings().secret_key
    settings = Settings()
    token, _ = tokens.issue(settings, user_id=1, token_version=1, kind="access")
    assert tokens.read(settings, token, kind="access").user_id == 1
    with pytest.raises(tokens.TokenError):
        tokens.read(Settings(), token, kind="access")


def test_serve_says_where_the_key_comes_from(
    no_key: pytest.MonkeyPatch, orm: Settings, tmp_path: Path
) -> None:
    import hub.app.cli

    no_key.setenv("LINJU_DATABASE_URL", orm.database_url)
    no_key.setenv("LINJU_PORT", "0")
    if not orm.database_url.startswith("sqlite"):
        no_key.setenv("LINJU_SECRET_KEY_FILE", str(tmp_path / "hub.key"))
    no_key.setattr(hub.app.cli, "run_server", lambda *args, **kwargs: None)
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code == 0, result.output
    said = [line for line in result.output.splitlines() if "secret key" in line]
    assert len(said) == 1 and "密钥文件 (key file)" in said[0], result.output
    settings = load_settings()
    assert settings.secret_key not in result.output  # where it is, never what it is
