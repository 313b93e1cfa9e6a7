"""``linju documents add | sync | list | retire | check`` against the session's database."""

from __future__ import annotations

import hashlib
from pathlib import Path

from hub.models import AuditLog, TrustedDocument
from hub.settings import Settings
from tests.test_cli import assert_one_line_error, linju

FRONTEND = Path(__file__).parent / "fixtures" / "frontend"
MANIFEST = FRONTEND / "persisted-documents.json"
SDL = Path(__file__).parent.parent / "schema" / "schema.graphql"
# The fixture's PublicFigures selects Statistics.membersTotal.
MEMBERS_TOTAL = "  membersTotal: Int!\n"
PUBLIC_FIGURES = "ca63c133d72ae5f2b74c8050d887a0444619e6ea809b698fd6afa65ce735444c"


async def test_sync_a_frontend_folder_then_list_and_retire(orm: Settings) -> None:
    url = orm.database_url
    done = linju(
        "documents", "sync", str(FRONTEND), "--client", "web", "--client-version", "2.0.0",
        database_url=url,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    branch_names = hashlib.sha256((FRONTEND / "BranchNames.graphql").read_bytes()).hexdigest()
    stored = await TrustedDocument.get(id=branch_names)
    assert stored.client_name == "web" and stored.operation_names == ["BranchNames"]
    assert await TrustedDocument.exists(id=PUBLIC_FIGURES, retired_at__isnull=True)
    assert await AuditLog.exists(entity="TrustedDocument", actor_name="linju documents")

    listed = linju("documents", "list", "--client", "web", database_url=url)
    assert listed.returncode == 0 and "BranchNames" in listed.stdout
    assert "StreetNames" in listed.stdout

    retired = linju("documents", "retire", f"sha256:{branch_names}", database_url=url)
    assert retired.returncode == 0, retired.stderr
    assert (await TrustedDocument.get(id=branch_names)).retired_at is not None
    assert "BranchNames" not in linju("documents", "list", database_url=url).stdout
    # Synced again (the manifest only, pruning): the .graphql file's document stays retired.
    again = linju(
        "documents", "sync", str(MANIFEST), "--client", "web", "--prune", database_url=url
    )
    assert again.returncode == 0, again.stderr
    assert (await TrustedDocument.get(id=branch_names)).retired_at is not None


def test_an_invalid_document_is_refused_with_its_errors(orm: Settings, tmp_path: Path) -> None:
    good = tmp_path / "Good.graphql"
    good.write_text("query GoodOne { districts(first: 1) { totalCount } }", encoding="utf-8")
    bad = tmp_path / "Bad.graphql"
    bad.write_text("query BadOne { districts { nope } }", encoding="utf-8")
    done = linju(
        "documents", "add", str(good), str(bad), "--client", "web", database_url=orm.database_url
    )
    assert done.returncode != 0
    assert "Cannot query field 'nope'" in done.stderr and "Bad.graphql" in done.stderr
    assert "nothing saved" in done.stderr
    listed = linju("documents", "list", "--all", database_url=orm.database_url)
    assert "GoodOne" not in listed.stdout


def test_unknown_files_and_ids_are_one_line(orm: Settings, tmp_path: Path) -> None:
    url = orm.database_url
    missing = linju(
        "documents", "add", str(tmp_path / "no.json"), "--client", "w", database_url=url
    )
    assert_one_line_error(missing, "no.json")
    assert_one_line_error(linju("documents", "retire", "sha256:12", database_url=url), "sha256")
    unknown = linju("documents", "retire", "sha256:" + "0" * 64, database_url=url)
    assert_one_line_error(unknown, "not found")


def test_check_catches_a_breaking_schema_change(orm: Settings, tmp_path: Path) -> None:
    url = orm.database_url
    assert (
        linju("documents", "sync", str(MANIFEST), "--client", "web", database_url=url).returncode
        == 0
    )
    same = linju("documents", "check", str(SDL), database_url=url)
    assert same.returncode == 0, same.stderr

    sdl = SDL.read_text(encoding="utf-8")
    assert MEMBERS_TOTAL in sdl
    removed = tmp_path / "removed.graphql"
    removed.write_text(sdl.replace(MEMBERS_TOTAL, "  membersCount: Int!\n"), encoding="utf-8")
    broken = linju("documents", "check", str(removed), database_url=url)
    assert broken.returncode != 0
    assert PUBLIC_FIGURES[:12] in broken.stderr and "PublicFigures" in broken.stderr
    assert "membersTotal" in broken.stderr

    retyped = tmp_path / "retyped.graphql"
    retyped.write_text(sdl.replace(MEMBERS_TOTAL, "  membersTotal: String!\n"), encoding="utf-8")
    changed = linju("documents", "check", str(retyped), database_url=url)
    assert changed.returncode != 0 and "from Int! to String!" in changed.stderr

    garbage = tmp_path / "garbage.graphql"
    garbage.write_text("type {", encoding="utf-8")
    assert_one_line_error(linju("documents", "check", str(garbage), database_url=url), "SDL")
