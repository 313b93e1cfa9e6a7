"""The import contracts (``lint-imports``, [tool.importlinter] in pyproject.toml) cover
every module: a new module of ``hub`` is in the domain layer's list, or the contracts
would not see it."""

from __future__ import annotations

import pkgutil
import tomllib
from pathlib import Path

import hub

ROOT = Path(__file__).resolve().parent.parent


def _contracts() -> dict[str, dict[str, object]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return {c["id"]: c for c in config["tool"]["importlinter"]["contracts"]}


def _domain_modules() -> set[str]:
    """Every module and package directly in ``hub`` except the app shell."""
    return {f"hub.{info.name}" for info in pkgutil.iter_modules(hub.__path__)} - {"hub.app"}


def test_the_domain_layer_names_every_module_of_hub_but_the_shell() -> None:
    contracts = _contracts()
    layers = contracts["layers"]["layers"]
    assert isinstance(layers, list)
    assert layers[:3] == ["hub.app", "admin | schema", "resolvers"]
    in_layer = {name.strip() for name in layers[3].split(":")}
    assert in_layer == _domain_modules()
    assert set(contracts["domain"]["source_modules"]) == _domain_modules()  # type: ignore[arg-type]


def test_the_contracts_are_enforced_in_ci() -> None:
    run = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "lint-imports" in run
