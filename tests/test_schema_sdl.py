"""schema/schema.graphql is the committed SDL: it must match the schema the code builds."""

from __future__ import annotations

from pathlib import Path

from hub.settings import Settings
from schema.build import export_sdl

SDL_FILE = Path(__file__).resolve().parent.parent / "schema" / "schema.graphql"


def test_committed_sdl_is_current() -> None:
    current = export_sdl(Settings())
    committed = SDL_FILE.read_text(encoding="utf-8") if SDL_FILE.exists() else ""
    assert committed == current, (
        "schema/schema.graphql is stale: run `linju export-schema` and commit the file"
    )


def test_sdl_does_not_depend_on_limits_in_settings() -> None:
    # The file is exported once for every deployment, whatever its page sizes.
    tuned = Settings(page_size_default=10, page_size_max=20, max_depth=5, introspection=False)
    assert export_sdl(tuned) == export_sdl(Settings())
