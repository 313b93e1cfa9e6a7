"""The strawberry range the hub declares is the one it checks, and the check refuses
releases outside it; the one strawberry internal left (``Schema._schema``) is reached
through ``schema.internals`` only."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
from graphql import GraphQLSchema

from hub.settings import Settings
from schema.build import build_schema
from schema.internals import STRAWBERRY_RANGE, check_strawberry, graphql_schema, release

ROOT = Path(__file__).resolve().parent.parent


def declared(package: str) -> str:
    """The version specifier pyproject.toml gives ``package``."""
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for line in dependencies:
        if re.match(rf"{re.escape(package)}\s*[<>=!~]", line):
            return line[len(package) :].strip()
    raise AssertionError(f"{package} is not a dependency")


def test_pyproject_declares_the_range_the_hub_checks() -> None:
    # Given the range schema.internals checks
    low, high = STRAWBERRY_RANGE
    # When pyproject.toml's dependency on strawberry is read
    spec = declared("strawberry-graphql")
    # Then it is the same range
    assert spec == f">={'.'.join(map(str, low))},<{'.'.join(map(str, high))}"


def test_the_installed_strawberry_is_accepted() -> None:
    # Given the strawberry this suite runs with; when it is checked, then nothing is raised
    check_strawberry(version("strawberry-graphql"))


@pytest.mark.parametrize("text", ["0.338.0", "0.340.9", "0.400.0", "1.0.0", "0.3"])
def test_a_release_outside_the_range_is_refused_with_the_range(text: str) -> None:
    # Given a release outside the range; when it is checked
    with pytest.raises(RuntimeError) as refused:
        check_strawberry(text)
    # Then the message names it and the range
    assert text in str(refused.value) and ">=0.341,<0.400" in str(refused.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0.341.2", (0, 341, 2)), ("0.338.0rc1", (0, 338, 0)), ("0.400.0.dev3", (0, 400, 0))],
)
def test_release_reads_the_numeric_part(text: str, expected: tuple[int, ...]) -> None:
    # Given a version string; when read; then its leading numbers
    assert release(text) == expected


def test_the_graphql_core_schema_is_strawberrys_own() -> None:
    # Given the hub's schema
    schema = build_schema(Settings())
    # When its graphql-core schema is asked for
    built = graphql_schema(schema)
    # Then it is the graphql-core schema that answers for the Query type
    assert isinstance(built, GraphQLSchema)
    assert built.query_type is not None and built.query_type.name == "Query"
