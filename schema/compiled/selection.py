"""A validated document → the compiler's selection tree, with every argument settled by
the functions the resolvers use (so what they would refuse is never compiled)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    BooleanValueNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    Visitor,
    get_named_type,
    visit,
)
from graphql.execution.values import get_argument_values
from strawberry.types.arguments import convert_arguments
from tortoise.expressions import Q
from tortoise.models import Model

from hub import models as m
from hub.access import Viewer, row_scope
from hub.orm_sql import built_unordered
from hub.settings import Settings
from resolvers.compiler.catalog import (
    Catalog,
    NodeType,
)
from resolvers.compiler.plan import VariableValue, ViewerValue
from resolvers.compiler.sql import Unsupported
from resolvers.compiler.tree import Fragment, Key, Page, Selection
from resolvers.connections import make_listing
from resolvers.pagination import ordering_tag, page_request
from schema.node import NODE_MODELS, TYPE_NAMES, decode_global_id

# A partner's unit in the SQL of a plan: replaced by the viewer's own at execution.
UNIT_SENTINEL = -2_000_000_017
SENTINEL_TEXT = str(-UNIT_SENTINEL).encode()


class Fallback(Exception):
    """Answer this request with the resolvers (``field`` says why, for the counter)."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


@dataclass
class Walk:
    """One walk of an operation for one viewer: the schema, the variables, the scopes."""

    schema: GraphQLSchema
    settings: Settings
    catalog: Catalog
    fragments: dict[str, FragmentDefinitionNode]
    variables: Any  # graphql-core's coerced VariableValues
    viewer: Viewer  # with the partner's unit replaced by UNIT_SENTINEL
    strawberry_schema: Any = None
    node_id_variables: frozenset[str] = frozenset()
    scopes: dict[type[Model], Fragment | None] = field(default_factory=dict)

    def collect(
        self, runtime: GraphQLObjectType, nodes: list[FieldNode]
    ) -> dict[str, list[FieldNode]]:
        merged: dict[str, list[FieldNode]] = {}
        for node in nodes:
            if node.selection_set is None:
                continue
            fields = collect_fields(
                self.schema, self.fragments, self.variables.coerced, runtime, node.selection_set
            )
            for key, group in fields.items():
                merged.setdefault(key, []).extend(group)
        return merged

    def arguments(self, parent: GraphQLObjectType, node: FieldNode) -> dict[str, Any]:
        """The field's arguments as its resolver gets them (strawberry's inputs, Python
        names), converted by strawberry's own function."""
        definition = parent.fields[node.name.value]
        raw = get_argument_values(definition, node, self.variables)
        field_ = (definition.extensions or {}).get("strawberry-definition")
        if field_ is None:
            raise Unsupported(node.name.value)
        try:
            return convert_arguments(
                raw,
                field_.arguments,
                scalar_registry=self.strawberry_schema.schema_converter.scalar_registry,
                config=self.strawberry_schema.config,
            )
        except Exception:
            raise Fallback(node.name.value) from None

    def scope(self, model: type[Model]) -> Fragment | None:
        if model not in self.scopes:
            self.scopes[model] = render(model, row_scope(self.viewer, model))
        return self.scopes[model]

    # root fields

    def root(self, key: str, nodes: list[FieldNode]) -> Selection:
        query_type = self.schema.query_type
        assert query_type is not None
        name = nodes[0].name.value
        if name == "__typename":
            return Selection(key=key, name=name, literal=query_type.name)
        if name in ("node", "nodes"):
            return self.node(key, name, nodes, query_type)
        if name == ACCOUNT_FIELD:
            return self.account(key, nodes, query_type)
        type_name = listed_type(self.schema, query_type, name)
        if type_name is None:
            raise Unsupported(name)
        args = self.arguments(query_type, nodes[0])
        return self.connection(key, name, type_name, nodes, args, searchable="search" in args)

    def account(self, key: str, nodes: list[FieldNode], query_type: GraphQLObjectType) -> Selection:
        """``viewer``: the caller's own account by its id (null when anonymous), read
        whatever the row scopes say, as its resolver does; what is under it is scoped."""
        runtime = get_named_type(query_type.fields[ACCOUNT_FIELD].type)
        assert isinstance(runtime, GraphQLObjectType)
        return Selection(
            key=key,
            name=ACCOUNT_FIELD,
            node_ids=((runtime.name, ViewerValue("user_id")),),
            by_type={runtime.name: self.object(runtime.name, runtime, nodes)},
        )

    def node(
        self, key: str, name: str, nodes: list[FieldNode], query_type: GraphQLObjectType
    ) -> Selection:
        args = self.arguments(query_type, nodes[0])
        ids = [args["id"]] if name == "node" else list(args["ids"])
        if name == "nodes" and len(ids) > self.settings.page_size_max:
            raise Fallback(name)  # the resolvers' error
        targets: list[tuple[str, Key] | None] = []
        by_type: dict[str, tuple[Selection, ...]] = {}
        scopes: dict[str, Fragment] = {}
        variable = _id_variable(nodes[0]) if name == "node" else None
        for global_id in ids:
            decoded = decode_global_id(global_id)
            if decoded is None:
                targets.append(None)
                continue
            model, pk = decoded
            type_name = TYPE_NAMES[model]
            if variable is not None and variable in self.node_id_variables:
                # The plan serves every id of this type: the key holds the type only.
                targets.append((type_name, VariableValue(variable, node_pk)))
            else:
                targets.append((type_name, pk))
            if type_name not in by_type:
                runtime = self.schema.type_map[type_name]
                assert isinstance(runtime, GraphQLObjectType)
                by_type[type_name] = self.object(type_name, runtime, nodes)
                scope = self.scope(model)
                if scope is not None:
                    scopes[type_name] = scope
        return Selection(
            key=key,
            name=name,
            node_ids=tuple(targets),
            by_type=by_type,
            scopes=scopes,
            plural=name == "nodes",
        )

    # objects

    def object(
        self, type_name: str, runtime: GraphQLObjectType, nodes: list[FieldNode]
    ) -> tuple[Selection, ...]:
        node_type = self.catalog.get(type_name)
        if node_type is None:
            raise Unsupported(type_name)
        model = NODE_MODELS[type_name]
        out: list[Selection] = []
        for key, group in self.collect(runtime, nodes).items():
            name = group[0].name.value
            if name == "__typename":
                out.append(Selection(key=key, name=name, literal=type_name))
            elif name in ("id", "rowId") or _is_column(node_type, name):
                out.append(Selection(key=key, name=name))
            elif name in node_type.to_one:
                target = node_type.to_one[name].target
                target_type = self.schema.type_map[target]
                assert isinstance(target_type, GraphQLObjectType)
                children = self.object(target, target_type, group)
                out.append(
                    Selection(
                        key=key,
                        name=name,
                        children=children,
                        scope=self.scope(NODE_MODELS[target]),
                    )
                )
            elif name in node_type.row_lists:
                target = node_type.row_lists[name].target
                target_type = self.schema.type_map[target]
                assert isinstance(target_type, GraphQLObjectType)
                children = self.object(target, target_type, group)
                scope = self.scope(NODE_MODELS[target])
                out.append(Selection(key=key, name=name, children=children, scope=scope))
            elif name in node_type.enum_lists:
                scope_model = _model_named(node_type.enum_lists[name].scope_of)
                out.append(Selection(key=key, name=name, scope=self.scope(scope_model)))
            elif name in node_type.to_many:
                args = self.arguments(runtime, group[0])
                target = node_type.to_many[name].target
                out.append(self.connection(key, name, target, group, args, searchable=False))
            else:
                raise Unsupported(f"{type_name}.{name}")
        del model
        return tuple(out)

    def connection(
        self,
        key: str,
        name: str,
        type_name: str,
        nodes: list[FieldNode],
        args: Mapping[str, Any],
        *,
        searchable: bool,
    ) -> Selection:
        model = NODE_MODELS[type_name]
        try:
            listing = make_listing(
                model,
                viewer=self.viewer,
                where=args.get("where"),
                order_by=args.get("order_by"),
                search=args.get("search") if searchable else None,
            )
            request = page_request(
                self.settings,
                model,
                listing.order,
                first=args.get("first"),
                after=args.get("after"),
                last=args.get("last"),
                before=args.get("before"),
            )
        except GraphQLError:
            raise Fallback(name) from None  # the resolvers answer with this error
        page = Page(
            order=listing.order,
            condition=render(model, listing.q),
            limit=request.limit,
            backward=request.backward,
            after=request.after,
            before=request.before,
            tag=ordering_tag(model, listing.order),
        )
        connection_type = self.schema.type_map[f"{type_name}Connection"]
        assert isinstance(connection_type, GraphQLObjectType)
        children: list[Selection] = []
        for child_key, group in self.collect(connection_type, nodes).items():
            child = group[0].name.value
            if child == "__typename":
                children.append(Selection(key=child_key, name=child, literal=connection_type.name))
            elif child == "totalCount":
                children.append(Selection(key=child_key, name=child))
            elif child == "nodes":
                runtime = self.schema.type_map[type_name]
                assert isinstance(runtime, GraphQLObjectType)
                children.append(
                    Selection(
                        key=child_key, name=child, children=self.object(type_name, runtime, group)
                    )
                )
            elif child == "pageInfo":
                info_type = self.schema.type_map["PageInfo"]
                assert isinstance(info_type, GraphQLObjectType)
                info = tuple(
                    Selection(key=k, name=g[0].name.value, literal="PageInfo")
                    if g[0].name.value == "__typename"
                    else Selection(key=k, name=g[0].name.value)
                    for k, g in self.collect(info_type, group).items()
                )
                children.append(Selection(key=child_key, name=child, children=info))
            elif child == "edges":
                edge_type = self.schema.type_map[f"{type_name}Edge"]
                assert isinstance(edge_type, GraphQLObjectType)
                edge: list[Selection] = []
                for k, g in self.collect(edge_type, group).items():
                    edge_field = g[0].name.value
                    if edge_field == "__typename":
                        edge.append(Selection(key=k, name=edge_field, literal=edge_type.name))
                    elif edge_field == "node":
                        runtime = self.schema.type_map[type_name]
                        assert isinstance(runtime, GraphQLObjectType)
                        edge.append(
                            Selection(
                                key=k, name=edge_field, children=self.object(type_name, runtime, g)
                            )
                        )
                    else:
                        edge.append(Selection(key=k, name=edge_field))
                children.append(Selection(key=child_key, name=child, children=tuple(edge)))
            else:
                raise Unsupported(f"{connection_type.name}.{child}")
        return Selection(key=key, name=name, children=tuple(children), page=page)


def collect_fields(
    schema: GraphQLSchema,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
    runtime: GraphQLObjectType,
    selection_set: SelectionSetNode,
    out: dict[str, list[FieldNode]] | None = None,
    seen: set[str] | None = None,
) -> dict[str, list[FieldNode]]:
    """The fields of ``selection_set`` for an object of type ``runtime``, by response key:
    fragments expanded where their type applies, @skip/@include applied (the GraphQL
    spec's CollectFields; graphql-core's own is internal API)."""
    out = {} if out is None else out
    seen = set() if seen is None else seen
    for selection in selection_set.selections:
        if not _included(selection, variables):
            continue
        if isinstance(selection, FieldNode):
            key = selection.alias.value if selection.alias else selection.name.value
            out.setdefault(key, []).append(selection)
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition
            if condition is None or _applies(schema, condition.name.value, runtime):
                collect_fields(
                    schema, fragments, variables, runtime, selection.selection_set, out, seen
                )
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if name in seen or fragment is None:
                continue
            seen.add(name)
            if _applies(schema, fragment.type_condition.name.value, runtime):
                collect_fields(
                    schema, fragments, variables, runtime, fragment.selection_set, out, seen
                )
    return out


def _included(selection: Any, variables: Mapping[str, Any]) -> bool:
    for directive in selection.directives or ():
        name = directive.name.value
        if name not in ("skip", "include"):
            if name != "deprecated":
                raise Unsupported(f"@{name}")
            continue
        value: Any = None
        for argument in directive.arguments or ():
            if argument.name.value == "if":
                node = argument.value
                if isinstance(node, BooleanValueNode):
                    value = node.value
                elif isinstance(node, VariableNode):
                    value = variables.get(node.name.value)
        if name == "skip" and value is True:
            return False
        if name == "include" and value is not True:
            return False
    return True


def _applies(schema: GraphQLSchema, condition: str, runtime: GraphQLObjectType) -> bool:
    if condition == runtime.name:
        return True
    abstract = schema.type_map.get(condition)
    if abstract is None or isinstance(abstract, GraphQLObjectType):
        return False
    return schema.is_sub_type(abstract, runtime)  # type: ignore[arg-type]


def _id_variable(node: FieldNode) -> str | None:
    for argument in node.arguments or ():
        if argument.name.value == "id" and isinstance(argument.value, VariableNode):
            return argument.value.name.value
    return None


def node_pk(global_id: Any) -> int | None:
    """The primary key in a global id (read at execution from the variables)."""
    decoded = decode_global_id(global_id) if isinstance(global_id, str) else None
    return decoded[1] if decoded is not None else None


def node_type_of(global_id: Any) -> Any:
    """What a plan depends on in a ``node(id: $id)`` variable: the type it names."""
    decoded = decode_global_id(global_id) if isinstance(global_id, str) else None
    return ["node", TYPE_NAMES[decoded[0]] if decoded is not None else None]


def node_id_variables(operation: OperationDefinitionNode) -> frozenset[str]:
    """Variables used only as the ``id`` of root ``node`` fields of this operation."""
    counts: dict[str, int] = {}

    class Count(Visitor):
        def enter_variable(self, node: VariableNode, *_: Any) -> None:
            counts[node.name.value] = counts.get(node.name.value, 0) + 1

    visit(operation.selection_set, Count())
    as_id: dict[str, int] = {}
    for selection in operation.selection_set.selections:
        if isinstance(selection, FieldNode) and selection.name.value == "node":
            name = _id_variable(selection)
            if name is not None and not selection.directives:
                as_id[name] = as_id.get(name, 0) + 1
    return frozenset(name for name, n in as_id.items() if counts.get(name) == n)


def _model_named(name: str) -> type[Model]:
    model = getattr(m, name)
    assert isinstance(model, type) and issubclass(model, Model)
    return model


# The root field that reads the caller's own account (schema.auth).
ACCOUNT_FIELD = "viewer"


def listed_type(schema: GraphQLSchema, query_type: GraphQLObjectType, name: str) -> str | None:
    """The node type a root connection field lists, or None for any other root field."""
    definition = query_type.fields.get(name)
    if definition is None or "first" not in definition.args:
        return None
    connection = get_named_type(definition.type)
    if not connection.name.endswith("Connection"):
        return None
    type_name = connection.name[: -len("Connection")]
    return type_name if type_name in NODE_MODELS else None


_PG_PARAMETER = re.compile(r"\$\d+")


def render(model: type[Model], q: Q) -> Fragment | None:
    """``SELECT id FROM model WHERE q`` as SQL with ``?`` placeholders; None for no filter.

    Tortoise builds the WHERE clause (joins, subqueries, escaping), exactly as for the
    resolvers; only the selected column and the ordering are replaced.
    """
    key = model._meta.pk_attr
    sql, params = built_unordered(model.filter(q).values(key)).get_parameterized_sql()
    # A Q without any condition (Q(), ~Q(), Qs of those): Tortoise builds no WHERE.
    if sql == built_unordered(model.all().values(key)).get_parameterized_sql()[0]:
        return None
    sql = _PG_PARAMETER.sub("?", sql)
    return Fragment(
        sql=sql,
        params=tuple(ViewerValue("unit_id") if p == UNIT_SENTINEL else p for p in params),
    )


def _is_column(node_type: NodeType, name: str) -> bool:
    """A value of the row itself: a column, or a rule over columns (a deadline)."""
    return name in node_type.scalars or name in node_type.deadlines
