"""Field factories shared by the types: relations, connections and personal data.

Every relation of every type is declared with one of these, so the rule "each
relation resolves through a per-request loader" holds by construction:

- :func:`to_one` — a foreign key, through the target model's by-id loader;
- :func:`related` — a to-many relation (foreign key or many-to-many) as a
  connection, through the relation page/count loaders;
- :func:`personal` — a plain column holding personal data, marked with the
  ``@personalData`` directive so that access control can find and mask it.

Resolver signatures are assembled here with real type objects (the filter and
ordering inputs are made per model at import time), hence the explicit
``__annotations__``.
"""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.schema_directive import Location
from tortoise.models import Model

from hub.access.personal import mask_for
from hub.db import ensure_relations
from resolvers.connections import Relation, resolve_relation, resolve_root
from resolvers.search import SEARCHABLE_MODELS
from schema.connection import Connection
from schema.filters import where_input
from schema.info import Info
from schema.ordering import order_input

PERSONAL = "personal"
# Field metadata the read compiler (schema.compiled) reads: the relation behind a field.
TO_ONE = "to_one"
REVERSE_ONE = "reverse_one"  # a one-to-one seen from the other side: (model, its key field)
# A plain list of related rows: (model, its key field, ordering fields) — e.g. a history.
ROW_LIST = "row_list"
# The distinct values of an enum column of related rows, in the enum's declaration order:
# (model, its key field, the enum field).
ENUM_LIST = "enum_list"
RELATED = "related"
# A boolean computed from the request's clock: a hub.services.requests.Deadline.
DEADLINE = "deadline"


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="personalData",
    description="个人信息：按权限脱敏 Personal data, masked for readers without the right",
)
class PersonalData:
    pass


def personal(model: type[Model], name: str, *, description: str, null: bool = True) -> Any:
    """The personal-data column ``model.name``, masked as hub.access.personal declares
    for viewers who may not see personal data."""
    mask = mask_for(model, name)

    def resolve(root: Any, info: Info) -> Any:
        value = getattr(root, name)
        return value if info.context.viewer.sees_personal_data else mask(value)

    python_type = model._meta.fields_map[name].field_type
    resolve.__annotations__ = {
        "root": Any,
        "info": Info,
        "return": python_type | None if null else python_type,
    }
    return strawberry.field(
        resolver=resolve,
        description=description,
        directives=[PersonalData()],
        metadata={PERSONAL: True},
    )


def personal_fields(node_type: type) -> frozenset[str]:
    """Python names of a type's fields marked with :func:`personal` (for masking)."""
    definition = node_type.__strawberry_definition__  # type: ignore[attr-defined]
    return frozenset(f.python_name for f in definition.fields if f.metadata.get(PERSONAL))


def lazy(type_name: str, module: str) -> Any:
    """A reference to a type defined in another module (types refer to each other)."""
    return Annotated[type_name, strawberry.lazy(f"schema.types.{module}")]


def to_one(model: type[Model], key: str, target: Any, *, description: str) -> Any:
    """A foreign key: ``key`` is the row's id column (e.g. ``branch_id``) of ``model``.

    Always nullable: besides an empty column, the target may lie outside what the
    viewer may read (a partner sees its branches, not their communities), and then
    it reads as null, exactly like a missing record.
    """

    def resolve(root: Any, info: Info) -> Any:
        pk = getattr(root, key)
        if pk is None:
            return None
        # The loader's future: graphql-core awaits it, batched with the other rows'.
        return info.context.loaders.by_id(model).load(pk)

    resolve.__annotations__ = {
        "root": Any,
        "info": Info,
        "return": target | None,
    }
    return strawberry.field(
        resolver=resolve, description=description, metadata={TO_ONE: (model, key)}
    )


PAGE_ARGUMENTS = {
    "first": Annotated[
        int | None, strawberry.argument(description="取前 N 条 Page forwards: the first N records")
    ],
    "after": Annotated[
        str | None, strawberry.argument(description="从此游标之后 Records after this cursor")
    ],
    "last": Annotated[
        int | None, strawberry.argument(description="取后 N 条 Page backwards: the last N records")
    ],
    "before": Annotated[
        str | None, strawberry.argument(description="在此游标之前 Records before this cursor")
    ],
}


def filter_arguments(model: type[Model]) -> dict[str, Any]:
    """``where`` and ``orderBy`` for a connection listing ``model``."""
    return {
        "where": Annotated[
            where_input(model) | None, strawberry.argument(description="筛选条件 Filter")
        ],
        "order_by": Annotated[
            list[order_input(model)] | None,  # type: ignore[misc]
            strawberry.argument(description="排序（按顺序）Sort order, first key first"),
        ],
    }


def related(parent: type[Model], name: str, target: Any, *, description: str) -> Any:
    """The to-many relation ``parent.name`` as a connection of ``target`` nodes."""
    ensure_relations(parent)  # reverse relations exist once the models are linked
    relation = Relation.of(parent, name)

    def resolve(
        root: Any,
        info: Info,
        where: Any = None,
        order_by: Any = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Any:
        page, count = resolve_relation(
            info,
            relation,
            root.pk,
            where=where,
            order_by=order_by,
            first=first,
            after=after,
            last=last,
            before=before,
        )
        return Connection.of(page, count)

    resolve.__annotations__ = {
        "root": Any,
        "info": Info,
        **filter_arguments(relation.target),
        **PAGE_ARGUMENTS,
        "return": Connection[target],
    }
    return strawberry.field(resolver=resolve, description=description, metadata={RELATED: relation})


def root_connection(model: type[Model], node: Any, *, description: str) -> Any:
    """A root connection over every ``model`` row: where, orderBy, (search,) paging."""
    searchable = model in SEARCHABLE_MODELS

    def resolve(
        info: Info,
        where: Any = None,
        order_by: Any = None,
        search: str | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Any:
        page, count = resolve_root(
            info,
            model,
            where=where,
            order_by=order_by,
            search=search,
            first=first,
            after=after,
            last=last,
            before=before,
        )
        return Connection.of(page, count)

    def resolve_unsearchable(
        info: Info,
        where: Any = None,
        order_by: Any = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Any:
        return resolve(info, where, order_by, None, first, after, last, before)

    search = {"search": SEARCH_ARGUMENT} if searchable else {}
    resolver = resolve if searchable else resolve_unsearchable
    resolver.__annotations__ = {
        "info": Info,
        **filter_arguments(model),
        **search,
        **PAGE_ARGUMENTS,
        "return": Connection[node],
    }
    return strawberry.field(resolver=resolver, description=description)


SEARCH_ARGUMENT = Annotated[
    str | None,
    strawberry.argument(
        description="按名称搜索：简体、繁体、拼音或首字母 Search by name in either script, "
        "by pinyin or by initials"
    ),
]
