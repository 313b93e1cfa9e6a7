"""The ``linju`` command line: help everywhere, one-line errors, createuser, export-schema, serve.

Commands that touch a database run in a process of their own, as a user runs them:
the test session already holds the process-wide ORM, and a subprocess also shows
what the user would see on exit (no stray thread tracebacks).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from hub.app.cli import main
from hub.models import AuditLog, District, Street, User
from hub.passwords import verify_password
from hub.settings import Settings

COMMANDS = sorted(main.commands)
SERVER_KEY = "linju-cli-test-secret-key-of-at-least-32-bytes"


def linju(
    *args: str, database_url: str | None = None, input: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run ``linju`` in a fresh process."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LINJU_")}
    if database_url:
        environ["LINJU_DATABASE_URL"] = database_url
        environ["LINJU_SECRET_KEY"] = SERVER_KEY  # PostgreSQL needs one to serve
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-m", "hub.app.cli", *args],
        env=environ,
        input=input,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def assert_one_line_error(done: subprocess.CompletedProcess[str], fragment: str) -> None:
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert "Traceback" not in output, output
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert lines[0].startswith("错误：")
    assert fragment in lines[0], lines[0]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def listening_port() -> Iterator[int]:
    """A local port some other program is already listening on."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield other.getsockname()[1]


# ---------------------------------------------------------------- help


def test_every_command_has_help() -> None:
    runner = CliRunner()
    top = runner.invoke(main, ["--help"])
    assert top.exit_code == 0
    for name in ("serve", "demo", "migrate", "makemigrations", "seed", "createuser"):
        assert name in top.output
    for name in COMMANDS:
        result = runner.invoke(main, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert result.output.startswith("Usage: ")


# ---------------------------------------------------------------- one-line errors


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("mysterydb://somewhere/linju", "数据库地址无效"),
        ("postgres://postgres@127.0.0.1:not-a-port/linju", "数据库地址无效"),
        ("sqlite://", "数据库地址无效"),
        ("sqlite:///no/such/folder/linju.db", "无法连接数据库"),
    ],
)
def test_bad_database_url_is_one_line(url: str, fragment: str) -> None:
    assert_one_line_error(linju("migrate", database_url=url), fragment)


def test_unreachable_database_server_is_one_line() -> None:
    url = f"postgres://postgres:secret@127.0.0.1:{_free_port()}/linju"
    done = linju("migrate", database_url=url)
    assert_one_line_error(done, "无法连接数据库")
    assert "secret" not in done.stderr  # the password is never printed


def test_schema_not_migrated_is_one_line(tmp_path: Path) -> None:
    empty = f"sqlite://{tmp_path / 'empty.db'}"
    assert_one_line_error(linju("serve", database_url=empty), "linju migrate")
    assert_one_line_error(linju("seed", database_url=empty), "尚未迁移")


def test_port_in_use_is_one_line(orm: Settings, listening_port: int) -> None:
    done = linju("serve", "--port", str(listening_port), database_url=orm.database_url)
    assert_one_line_error(done, "已被占用")


@pytest.mark.parametrize(
    ("setting", "fragment"),
    [
        ("LINJU_BROKER", "LINJU_BROKER unreachable"),
        ("LINJU_REDIS_URL", "LINJU_REDIS_URL unreachable"),
    ],
)
def test_unreachable_broker_or_redis_is_one_line(
    orm: Settings, setting: str, fragment: str
) -> None:
    nobody = f"redis://127.0.0.1:{_free_port()}/0"
    done = linju(
        "serve", "--port", str(_free_port()), database_url=orm.database_url, **{setting: nobody}
    )
    assert_one_line_error(done, fragment)


def test_bad_setting_is_one_line() -> None:
    assert_one_line_error(linju("serve", LINJU_PORT="eighty"), "LINJU_PORT")


def test_unknown_migration_target_is_one_line(orm: Settings) -> None:
    done = linju("migrate", "--target", "0999_nothing", database_url=orm.database_url)
    assert_one_line_error(done, "0999_nothing")


# ---------------------------------------------------------------- createuser


@pytest.fixture
async def account_name(orm: Settings, unique_name: str) -> AsyncIterator[str]:
    """A fresh username; the accounts made with it are removed afterwards."""
    yield unique_name
    await User.filter(username__startswith=unique_name).delete()


async def test_createuser_generates_a_password(orm: Settings, account_name: str) -> None:
    done = linju(
        "createuser", account_name, "--role", "READER", "--generate", database_url=orm.database_url
    )
    assert done.returncode == 0, done.stderr
    password = done.stdout.strip().splitlines()[-1].split(": ", 1)[1]

    user = await User.get(username=account_name)
    assert user.role == "READER"
    assert verify_password(user.password_hash, password)
    assert not verify_password(user.password_hash, password + "x")


async def test_createuser_goes_through_the_account_service_and_is_audited(
    orm: Settings, account_name: str
) -> None:
    # when an account is made on the command line
    done = linju(
        "createuser", account_name, "--role=READER", "--generate", database_url=orm.database_url
    )
    assert done.returncode == 0, done.stderr
    # then the audit log says who made it, and holds no password hash
    user = await User.get(username=account_name)
    entry = await AuditLog.get(entity="User", entity_id=str(user.id), action="CREATE")
    assert entry.actor_name == "linju createuser" and entry.user_id is None
    assert entry.after is not None and entry.after["username"] == account_name
    assert "password_hash" not in entry.after and user.password_hash not in str(entry.after)


async def test_createuser_prompts_twice_for_the_password(orm: Settings, account_name: str) -> None:
    password = "Linju2020abc"
    done = linju(
        "createuser",
        account_name,
        "--role=ADMIN",
        database_url=orm.database_url,
        input=f"{password}\n{password}\n",
    )
    assert done.returncode == 0, done.stderr
    assert password not in done.stdout
    user = await User.get(username=account_name)
    assert verify_password(user.password_hash, password)

    again = linju(
        "createuser", account_name, "--role=ADMIN", "--generate", database_url=orm.database_url
    )
    assert_one_line_error(again, "用户名已存在")


async def test_createuser_scopes_a_curator_to_a_street(orm: Settings, account_name: str) -> None:
    # Given a street of our own (removed afterwards: the demo figures stay exact)
    district = await District.create(name=f"{account_name}区")
    street = await Street.create(district=district, name=f"{account_name}街道")
    try:
        done = linju(
            "createuser",
            f"{account_name}-curator",
            "--role=CURATOR",
            f"--street={street.name}",
            "--generate",
            database_url=orm.database_url,
        )

        assert done.returncode == 0, done.stderr
        user = await User.get(username=f"{account_name}-curator")
        assert user.street_id == street.id
        missing = linju(
            "createuser",
            f"{account_name}-2",
            "--role=CURATOR",
            "--street=没有这个街道",
            "--generate",
            database_url=orm.database_url,
        )
        assert_one_line_error(missing, "没有这个街道")
    finally:
        await User.filter(username__startswith=account_name).delete()
        await street.delete()
        await district.delete()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--role=CURATOR"], "CURATOR"),
        (["--role=PARTNER"], "--unit"),
        (["--role=READER", "--street=泰山路街道"], "CURATOR"),
        (["--role=ADMIN", "--unit=某单位"], "PARTNER"),
    ],
)
def test_createuser_checks_role_and_scope(args: list[str], fragment: str) -> None:
    result = CliRunner().invoke(main, ["createuser", "someone", *args, "--generate"])
    assert result.exit_code == 1
    assert fragment in result.output
    assert "Traceback" not in result.output


# ---------------------------------------------------------------- export-schema


def test_export_schema_writes_and_checks_the_sdl(tmp_path: Path) -> None:
    runner = CliRunner()
    target = tmp_path / "schema.graphql"

    missing = runner.invoke(main, ["export-schema", "--check", "--output", str(target)])
    assert missing.exit_code == 1

    written = runner.invoke(main, ["export-schema", "--output", str(target)])
    assert written.exit_code == 0, written.output
    assert "type Query" in target.read_text(encoding="utf-8")

    fresh = runner.invoke(main, ["export-schema", "--check", "--output", str(target)])
    assert fresh.exit_code == 0, fresh.output

    target.write_text(target.read_text(encoding="utf-8") + "\n# edited by hand\n")
    stale = runner.invoke(main, ["export-schema", "--check", "--output", str(target)])
    assert stale.exit_code == 1
    assert "linju export-schema" in stale.output


# ---------------------------------------------------------------- serve and demo


def _wait_for_health(process: subprocess.Popen[str], port: int, timeout: float) -> httpx.Response:
    """Poll /healthz until the server answers (failing if the process dies first)."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            pytest.fail(f"the server exited with {process.returncode}:\n{output}")
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
        except httpx.TransportError:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.3)


def test_serve_answers_health_checks(orm: Settings) -> None:
    port = _free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LINJU_")}
    environ["LINJU_DATABASE_URL"] = orm.database_url
    environ["LINJU_SECRET_KEY"] = SERVER_KEY
    server = subprocess.Popen(
        [sys.executable, "-m", "hub.app.cli", "serve", "--port", str(port)],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        response = _wait_for_health(server, port, timeout=60)
        assert response.status_code == 200
        assert response.json()["schema"]["upToDate"] is True
        graphql = httpx.post(
            f"http://127.0.0.1:{port}/graphql", json={"query": "{ __typename }"}, timeout=10
        )
        assert graphql.json() == {"data": {"__typename": "Query"}}
    finally:
        server.terminate()
        server.communicate(timeout=30)  # waits, and closes its output pipe


DEMO_LOGIN = 'mutation { login(username: "admin", password: "demo-Password-2020") { accessToken } }'


@pytest.mark.slow
def test_demo_migrates_seeds_and_serves(tmp_path: Path) -> None:
    # The README's first command, on a SQLite file of its own
    port = _free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LINJU_")}
    environ["LINJU_DEMO_PASSWORD"] = "demo-Password-2020"
    database = f"sqlite://{tmp_path / 'demo.db'}"
    demo = subprocess.Popen(
        [
            *(sys.executable, "-m", "hub.app.cli", "demo"),
            *("--port", str(port), "--database-url", database),
        ],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        response = _wait_for_health(demo, port, timeout=300)
        assert response.json()["schema"]["upToDate"] is True
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=10)
        assert page.status_code == 200
        # The demo's ADMIN account logs in and reads the district's figures
        graphql = f"http://127.0.0.1:{port}/graphql"
        login = httpx.post(graphql, json={"query": DEMO_LOGIN}, timeout=30).json()
        token = login["data"]["login"]["accessToken"]
        answer = httpx.post(
            graphql,
            json={"query": "{ statistics { coverage { branches compoundsTotal } } }"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        ).json()
        assert answer["data"]["statistics"]["coverage"] == {"branches": 117, "compoundsTotal": 339}
    finally:
        demo.terminate()
        output, _ = demo.communicate(timeout=30)
    assert "已载入" in output  # the seed report
    for role in ("ADMIN", "CURATOR", "READER", "PARTNER"):
        assert role in output  # one demo account per role, with its password
    assert "demo-Password-2020" in output
    for path in ("/graphql", "/admin/", "/healthz"):
        assert f"http://127.0.0.1:{port}{path}" in output
    assert "Traceback" not in output


def test_a_generated_password_is_always_strong_enough() -> None:
    # a password of letters only would be refused by the account service
    from hub.passwords import generate_password, password_problem

    assert all(password_problem(generate_password()) is None for _ in range(2_000))
