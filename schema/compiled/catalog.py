"""The schema's declarations as the compiler's catalog: tables, columns, relations, masks."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
)
from strawberry.types import get_object_definition, has_object_definition
from tortoise.models import Model

from hub.access.personal import PERSONAL_FIELDS, hide, mask_name, mask_phone
from resolvers.compiler.catalog import (
    Catalog,
    Column,
    Deadline,
    EnumList,
    NodeType,
    RowList,
    ToMany,
    ToOne,
)
from resolvers.queries import Relation
from schema.fields import DEADLINE, ENUM_LIST, PERSONAL, RELATED, REVERSE_ONE, ROW_LIST, TO_ONE
from schema.node import NODE_MODELS, TYPE_NAMES

_SCALARS = {
    "Int": "int",
    "String": "str",
    "Boolean": "bool",
    "Date": "date",
    "DateTime": "datetime",
    "JSON": "json",
}
_MASKS: dict[Any, str] = {mask_phone: "phone", mask_name: "name", hide: "hide"}


def build_catalog(schema: GraphQLSchema) -> Catalog:
    """Every node type's table, columns, relations and masks."""
    catalog: Catalog = {}
    for type_name, model in NODE_MODELS.items():
        gql = schema.type_map.get(type_name)
        if not isinstance(gql, GraphQLObjectType):
            continue
        definition = _strawberry_type(type_name, model)
        meta = model._meta
        projection = meta.fields_db_projection
        scalars: dict[str, Column] = {}
        to_one: dict[str, ToOne] = {}
        to_many: dict[str, ToMany] = {}
        row_lists: dict[str, RowList] = {}
        enum_lists: dict[str, EnumList] = {}
        deadlines: dict[str, Deadline] = {}
        for f in definition.fields if definition else ():
            name = _graphql_name(gql, f.python_name)
            if name is None:
                continue
            if TO_ONE in f.metadata:
                target_model, key = f.metadata[TO_ONE]
                to_one[name] = ToOne(column=projection[key], target=TYPE_NAMES[target_model])
                continue
            if REVERSE_ONE in f.metadata:
                target_model, key = f.metadata[REVERSE_ONE]
                to_one[name] = ToOne(
                    column=meta.db_pk_column,
                    target=TYPE_NAMES[target_model],
                    target_column=target_model._meta.fields_db_projection[key],
                )
                continue
            if RELATED in f.metadata:
                relation: Relation = f.metadata[RELATED]
                target = relation.target
                to_many[name] = ToMany(
                    target=TYPE_NAMES[target],
                    fk=target._meta.fields_db_projection[relation.fk] if relation.fk else None,
                    through=relation.through,
                    through_parent=relation.through_parent,
                    through_target=relation.through_target,
                )
                continue
            if ROW_LIST in f.metadata:
                target_model, key, order = f.metadata[ROW_LIST]
                target_projection = target_model._meta.fields_db_projection
                row_lists[name] = RowList(
                    target=TYPE_NAMES[target_model],
                    column=target_projection[key],
                    order=tuple(target_projection[o] for o in order),
                )
                continue
            if ENUM_LIST in f.metadata:
                table_model, key, value = f.metadata[ENUM_LIST]
                enum_list = _enum_list(table_model, key, value)
                if enum_list is not None:
                    enum_lists[name] = enum_list
                continue
            if DEADLINE in f.metadata:
                rule = f.metadata[DEADLINE]
                deadlines[name] = Deadline(
                    due=projection[rule.due], status=projection[rule.status], done=rule.done.value
                )
                continue
            if f.base_resolver is not None and not f.metadata.get(PERSONAL):
                continue  # computed in Python: not compiled
            column = _column(model, f.python_name, gql.fields[name].type)
            if column is not None:
                scalars[name] = column
        order_columns = {
            name: (projection[name], bool(field_.null), _kind_of_python(field_.field_type))
            for name, field_ in meta.fields_map.items()
            if name in projection
        }
        connection = _connection_names(schema, type_name)
        catalog[type_name] = NodeType(
            name=type_name,
            table=meta.db_table,
            pk=meta.db_pk_column,
            connection=connection[0],
            edge=connection[1],
            scalars=scalars,
            to_one=to_one,
            to_many=to_many,
            row_lists=row_lists,
            enum_lists=enum_lists,
            deadlines=deadlines,
            order_columns=order_columns,
        )
    return catalog


def _enum_list(model: type[Model], key: str, value: str) -> EnumList | None:
    projection = model._meta.fields_db_projection
    enum_type = getattr(model._meta.fields_map[value], "enum_type", None)
    definition = getattr(enum_type, "__strawberry_definition__", None)
    if definition is None:
        return None
    return EnumList(
        table=model._meta.db_table,
        column=projection[key],
        value=projection[value],
        enum_names=tuple((v.value, v.name) for v in definition.values),
        scope_of=model.__name__,
    )


def _strawberry_type(type_name: str, model: type[Model]) -> Any:
    from schema import query  # noqa: F401  (the types are defined by importing it)

    for cls in _node_classes():
        definition = get_object_definition(cls, strict=True)
        if definition.name == type_name:
            return definition
    return None


def _node_classes() -> list[type]:
    # Here, not at the top: schema.types imports this catalog (a circle otherwise).
    import schema.types as types_package  # noqa: F401
    from schema.node import Node

    found: list[type] = []
    seen: set[type] = set()
    stack = list(Node.__subclasses__())
    while stack:
        cls = stack.pop()
        if cls in seen:
            continue
        seen.add(cls)
        if has_object_definition(cls):
            found.append(cls)
        stack.extend(cls.__subclasses__())
    return found


def _graphql_name(gql: GraphQLObjectType, python_name: str) -> str | None:
    parts = python_name.split("_")
    camel = parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])
    return camel if camel in gql.fields else None


def _kind_of_python(kind: Any) -> str:
    """The kind of an ordered column, as the compiler writes its cursors and keysets."""
    if not isinstance(kind, type):
        return "other"
    if issubclass(kind, bool):
        return "bool"
    if issubclass(kind, Enum) and not issubclass(kind, int | str):
        return "other"
    if issubclass(kind, int):
        return "int"
    if issubclass(kind, str):
        return "str"
    if issubclass(kind, dt.datetime):
        return "datetime"
    if issubclass(kind, dt.date):
        return "date"
    return "other"


def _column(model: type[Model], python_name: str, gql_type: Any) -> Column | None:
    meta = model._meta
    if python_name not in meta.fields_db_projection:
        return None
    named = get_named_type(gql_type)
    mask_fn = PERSONAL_FIELDS.get(model, {}).get(python_name)
    mask = _MASKS.get(mask_fn) if mask_fn is not None else None
    if mask_fn is not None and mask is None:
        return None  # a mask the compiler cannot write in SQL
    column = meta.fields_db_projection[python_name]
    if isinstance(named, GraphQLEnumType):
        model_field = meta.fields_map[python_name]
        enum_type = getattr(model_field, "enum_type", None) or model_field.field_type
        definition = getattr(enum_type, "__strawberry_definition__", None)
        if definition is None:
            return None
        names = tuple((v.value, v.name) for v in definition.values)
        return Column(column=column, kind="enum", enum_names=names, mask=mask)
    kind = _SCALARS.get(named.name)
    if kind is None:
        return None
    return Column(column=column, kind=kind, mask=mask)


def _connection_names(schema: GraphQLSchema, type_name: str) -> tuple[str, str]:
    return f"{type_name}Connection", f"{type_name}Edge"
