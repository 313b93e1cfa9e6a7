"""The Relay ``Node`` interface, global ids, and ``node(id)`` / ``nodes(ids)``.

A global id is base64 of ``"TypeName:pk"`` (the format strawberry.relay uses).
Types are strawberry types over the Tortoise models: resolvers return model rows
and each node type recognises the rows of its model (``is_type_of``), so no
record is copied into a second object.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Callable
from typing import Any, TypeVar

import strawberry
from graphql import GraphQLAbstractType, GraphQLResolveInfo
from tortoise.models import Model

from resolvers.errors import user_error
from resolvers.pagination import in_range
from schema.info import Info

T = TypeVar("T", bound=type)

# GraphQL type name ↔ model, filled by @node_type.
NODE_MODELS: dict[str, type[Model]] = {}
TYPE_NAMES: dict[type[Model], str] = {}


def encode_global_id(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def decode_global_id(global_id: str) -> tuple[type[Model], int] | None:
    """The model and primary key a global id names, or None if it names nothing."""
    try:
        text = base64.b64decode(global_id.encode("ascii"), validate=True).decode()
    except (UnicodeError, binascii.Error, ValueError):
        return None
    type_name, sep, raw_pk = text.partition(":")
    model = NODE_MODELS.get(type_name)
    if not sep or model is None or not raw_pk.isascii() or not raw_pk.isdigit():
        return None
    pk = int(raw_pk)
    if not in_range(model._meta.pk, pk):
        return None  # no such row, and PostgreSQL would refuse the parameter
    return model, pk


@strawberry.interface(description="可按全局ID获取的对象 An object with a global id (Relay Node)")
class Node:
    @strawberry.field(description="全局ID Global id: opaque, stable, usable with node(id)")
    def id(self) -> strawberry.ID:
        row: Any = self  # resolvers return model rows: ``self`` is one
        return strawberry.ID(encode_global_id(TYPE_NAMES[type(row)], row.pk))

    @classmethod
    def resolve_type(
        cls, obj: Any, info: GraphQLResolveInfo, abstract_type: GraphQLAbstractType
    ) -> str | None:
        return TYPE_NAMES.get(type(obj))


def node_type(model: type[Model], *, description: str) -> Callable[[T], T]:
    """``@strawberry.type`` for a Node type over ``model``: its rows resolve as this type."""

    def wrap(cls: T) -> T:
        def is_type_of(obj: Any, info: GraphQLResolveInfo) -> bool:
            return isinstance(obj, model)

        cls.is_type_of = staticmethod(is_type_of)  # type: ignore[attr-defined]
        decorated = strawberry.type(cls, description=description)
        NODE_MODELS[decorated.__name__] = model
        TYPE_NAMES[model] = decorated.__name__
        return decorated

    return wrap


async def resolve_node(info: Info, global_id: str) -> Model | None:
    """The record a global id names; None for a malformed, foreign or missing id."""
    target = decode_global_id(global_id)
    if target is None:
        return None
    model, pk = target
    return await info.context.loaders.by_id(model).load(pk)


async def resolve_nodes(info: Info, global_ids: list[str]) -> list[Model | None]:
    maximum = info.context.settings.page_size_max
    if len(global_ids) > maximum:
        raise user_error(f"nodes takes at most {maximum} ids (got {len(global_ids)})", field="ids")
    # Gathered, so the by-id loaders see every id at once: one query per model.
    return list(await asyncio.gather(*(resolve_node(info, gid) for gid in global_ids)))
