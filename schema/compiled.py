"""The compiled read path: a validated query → one SQL statement per root field.

This is the thin layer between GraphQL and :mod:`resolvers.compiler`: it walks the
document (fragments, inline fragments, @include/@skip, variables, aliases) into a plain
selection tree, reads the schema's declarations (``to_one``/``related``/``personal``,
node types, enums) into a catalog, and settles every argument with the functions the
resolvers use (``make_listing``, ``page_request``, ``decode_global_id``), so a request
the resolvers would answer with an error is never compiled: it takes the resolver path
and gets exactly their error.

``settings.read_path``: ``compiled`` (compile where possible, else the resolvers),
``resolvers`` (never compile), ``differential`` (run both, answer with the resolvers,
log any difference on ``linju.read_path``).
"""

from __future__ import annotations

import logging
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from graphql import (
    BooleanValueNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    parse,
    specified_rules,
    validate,
)
from graphql.execution.values import get_argument_values, get_variable_values
from prometheus_client import Counter
from strawberry.types import ExecutionResult
from strawberry.types.arguments import convert_arguments
from tortoise.exceptions import OperationalError
from tortoise.expressions import Q
from tortoise.models import Model

from hub.access import Viewer, row_scope
from hub.access.personal import PERSONAL_FIELDS, hide, mask_name, mask_phone
from hub.enums import Role
from hub.observability.metrics import GRAPHQL_OPERATIONS, GRAPHQL_SECONDS, operation_label
from hub.settings import Settings
from resolvers.compiler.catalog import (
    Catalog,
    Column,
    EnumList,
    NodeType,
    RowList,
    ToMany,
    ToOne,
)
from resolvers.compiler.dialect import dialect_for
from resolvers.compiler.plan import Plan, PlanCache, Statement, ViewerValue
from resolvers.compiler.sql import Compiler, Unsupported
from resolvers.compiler.tree import Fragment, Page, Selection
from resolvers.connections import make_listing
from resolvers.pagination import ordering_tag, page_request
from resolvers.queries import Relation
from schema.extensions import CACHEABLE_QUERY_LENGTH, CostLimit, _shape_rule, cost_errors
from schema.fields import ENUM_LIST, PERSONAL, RELATED, REVERSE_ONE, ROW_LIST, TO_ONE
from schema.node import NODE_MODELS, TYPE_NAMES, decode_global_id

logger = logging.getLogger("linju.read_path")

READ_PATHS = ("compiled", "resolvers", "differential")

READ_FALLBACKS = Counter(
    "linju_read_fallback_total",
    "Read operations answered by the resolvers, not compiled, by the root field that "
    "could not be compiled",
    ["field"],
)
# A partner's unit in the SQL of a plan: replaced by the viewer's own at execution.
UNIT_SENTINEL = -2_000_000_017
_SENTINEL_TEXT = str(-UNIT_SENTINEL).encode()

Resolve = Callable[[], Awaitable[ExecutionResult]]


class Fallback(Exception):
    """Answer this request with the resolvers (``field`` says why, for the counter)."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


# --- catalog: the schema's declarations as plain data ---------------------------------

_SCALARS = {
    "Int": "int",
    "String": "str",
    "Boolean": "bool",
    "Date": "date",
    "DateTime": "datetime",
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
        definition = cls.__strawberry_definition__
        if definition.name == type_name:
            return definition
    return None


def _node_classes() -> list[type]:
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
        if hasattr(cls, "__strawberry_definition__"):
            found.append(cls)
        stack.extend(cls.__subclasses__())
    return found


def _graphql_name(gql: GraphQLObjectType, python_name: str) -> str | None:
    parts = python_name.split("_")
    camel = parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])
    return camel if camel in gql.fields else None


def _kind_of_python(kind: Any) -> str:
    if kind is int:
        return "int"
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


# --- walking the document -------------------------------------------------------------


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
        type_name = _listed_type(self.schema, query_type, name)
        if type_name is None:
            raise Unsupported(name)
        args = self.arguments(query_type, nodes[0])
        return self.connection(key, name, type_name, nodes, args, searchable="search" in args)

    def node(
        self, key: str, name: str, nodes: list[FieldNode], query_type: GraphQLObjectType
    ) -> Selection:
        args = self.arguments(query_type, nodes[0])
        ids = [args["id"]] if name == "node" else list(args["ids"])
        if name == "nodes" and len(ids) > self.settings.page_size_max:
            raise Fallback(name)  # the resolvers' error
        targets: list[tuple[str, int] | None] = []
        by_type: dict[str, tuple[Selection, ...]] = {}
        scopes: dict[str, Fragment] = {}
        for global_id in ids:
            decoded = decode_global_id(global_id)
            if decoded is None:
                targets.append(None)
                continue
            model, pk = decoded
            type_name = TYPE_NAMES[model]
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
            elif name in ("id", "rowId") or name in node_type.scalars:
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


def _model_named(name: str) -> type[Model]:
    from hub import models as m

    model = getattr(m, name)
    assert isinstance(model, type) and issubclass(model, Model)
    return model


def _listed_type(schema: GraphQLSchema, query_type: GraphQLObjectType, name: str) -> str | None:
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


def _matches_everything(q: Q) -> bool:
    """A Q without any condition (``Q()``, or Qs of those joined by AND)."""
    if q.filters or q._is_negated:  # no public accessor
        return False
    if q.join_type == Q.OR and len(q.children) > 1:
        return False  # an OR of empty Qs is still everything, but keep the rule simple
    return all(_matches_everything(child) for child in q.children)


def render(model: type[Model], q: Q) -> Fragment | None:
    """``SELECT id FROM model WHERE q`` as SQL with ``?`` placeholders; None for no filter.

    Tortoise builds the WHERE clause (joins, subqueries, escaping), exactly as for the
    resolvers; only the selected column and the ordering are replaced.
    """
    if _matches_everything(q):
        return None
    queryset = model.filter(q)
    # The pattern resolvers.queries uses: Tortoise's built query, its columns replaced.
    queryset._choose_db_if_not_chosen()
    queryset._make_query()
    query = queryset.query
    query._orderbys = []
    query._selects = []
    meta = model._meta
    query = query.select(meta.basetable[meta.db_pk_column])
    sql, params = query.get_parameterized_sql()
    sql = _PG_PARAMETER.sub("?", sql)
    return Fragment(
        sql=sql,
        params=tuple(ViewerValue("unit_id") if p == UNIT_SENTINEL else p for p in params),
    )


# --- the read path --------------------------------------------------------------------


@dataclass
class Prepared:
    """A parsed document that passed validation (the limits included)."""

    document: DocumentNode
    fragments: dict[str, FragmentDefinitionNode]
    operations: dict[str | None, OperationDefinitionNode]


class ReadPath:
    """Answers query operations from compiled SQL; everything else from the resolvers."""

    def __init__(self, schema: Any, settings: Settings) -> None:
        self.strawberry_schema = schema
        self.schema: GraphQLSchema = schema._schema
        self.settings = settings
        self.mode = settings.read_path
        self.plans = PlanCache()
        self._documents: OrderedDict[str, Prepared | None] = OrderedDict()
        self._catalog: Catalog | None = None
        self._logged: set[tuple[str, str]] = set()
        self._rules = [*specified_rules]
        if settings.max_depth > 0 or settings.max_aliases > 0:
            self._rules.append(
                _shape_rule(settings.max_depth or None, settings.max_aliases or None)
            )
        self._cost = (
            CostLimit(
                max_cost=settings.max_cost,
                default_page_size=settings.page_size_default,
                max_page_size=settings.page_size_max,
            )
            if settings.max_cost > 0
            else None
        )

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            self._catalog = build_catalog(self.schema)
        return self._catalog

    async def execute(
        self,
        resolve: Resolve,
        *,
        query: str | None,
        variables: Mapping[str, Any] | None,
        operation_name: str | None,
        viewer: Viewer,
    ) -> ExecutionResult:
        if self.mode == "resolvers" or not isinstance(query, str):
            return await resolve()
        try:
            plan = self.plan(query, variables, operation_name, viewer)
        except Exception:  # never let the compiler break a read: the resolvers answer
            logger.exception("read compiler failed; answered by the resolvers")
            plan = None
        if plan is None:
            return await resolve()
        if plan.fallback is not None:
            READ_FALLBACKS.labels(field=plan.fallback).inc()
            self._log_fallback(query, operation_name, f"{plan.fallback} ({plan.detail})")
            return await resolve()
        if self.mode == "differential":
            expected = await resolve()
            try:
                got = await self.run(plan, viewer)
            except TooDeep:
                return expected
            except Exception as exc:
                got = exc
            self.compare(query, operation_name, viewer, expected, got)
            return expected
        try:
            started = time.perf_counter()
            result = await self.run(plan, viewer)
            if self.settings.metrics:
                # What OperationMetrics records for operations strawberry executes.
                label = operation_label(plan.operation)
                GRAPHQL_OPERATIONS.labels(label, "query").inc()
                GRAPHQL_SECONDS.labels(label).observe(time.perf_counter() - started)
            return result
        except TooDeep as exc:
            key = self._key(query, variables, operation_name, viewer)
            self.plans.put(key, _too_deep(plan, str(exc)))
            READ_FALLBACKS.labels(field=str(exc)).inc()
            return await resolve()

    def _log_fallback(self, query: str, operation_name: str | None, fallback: str) -> None:
        key = (query, fallback)
        if key not in self._logged and len(self._logged) < 10_000:
            self._logged.add(key)
            logger.debug(
                "read query not compiled: %s (operation %s)", fallback, operation_name or "-"
            )

    # planning

    def prepare(self, query: str) -> Prepared | None:
        if query in self._documents:
            self._documents.move_to_end(query)
            return self._documents[query]
        prepared: Prepared | None = None
        try:
            max_tokens = self.settings.max_tokens if self.settings.max_tokens > 0 else None
            document = parse(query, max_tokens=max_tokens)
        except GraphQLError:
            document = None
        if document is not None and not validate(self.schema, document, self._rules):
            fragments = {
                d.name.value: d
                for d in document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }
            operations = {
                (d.name.value if d.name else None): d
                for d in document.definitions
                if isinstance(d, OperationDefinitionNode)
            }
            prepared = Prepared(document, fragments, operations)
        if len(query) <= CACHEABLE_QUERY_LENGTH:
            self._documents[query] = prepared
            while len(self._documents) > 512:
                self._documents.popitem(last=False)
        return prepared

    def plan(
        self,
        query: str,
        variables: Mapping[str, Any] | None,
        operation_name: str | None,
        viewer: Viewer,
    ) -> Plan | None:
        """The plan for this request, or None when the resolvers must answer it (an
        error of any kind, or not a query)."""
        prepared = self.prepare(query)
        if prepared is None:
            return None
        operation = _operation(prepared, operation_name)
        if operation is None or operation.operation is not OperationType.QUERY:
            return None
        if not self.settings.introspection and _has_introspection(operation):
            return None
        raw = dict(variables or {})
        key = self._key(query, variables, operation_name, viewer)
        if key is None or _SENTINEL_TEXT in key[3] or _SENTINEL_TEXT.decode() in query:
            return None  # a client's value equal to the placeholder: never confuse them
        plan = self.plans.get(key)
        if plan is not None:
            return plan
        if self._cost is not None and cost_errors(
            self._cost, self.schema, prepared.document, raw, operation_name
        ):
            return None
        coerced = get_variable_values(self.schema, operation.variable_definitions or (), raw)
        if isinstance(coerced, list):
            return None  # bad variables: the resolvers' error
        try:
            plan = self.compile(prepared, operation, coerced, viewer)
        except Fallback:
            return None  # an argument error: the resolvers report it, every time
        self.plans.put(key, plan)
        return plan

    @staticmethod
    def _key(
        query: str, variables: Mapping[str, Any] | None, operation_name: str | None, viewer: Viewer
    ) -> tuple[Any, ...] | None:
        """The plan cache key: the scope's shape (the role, whether a unit is set), not
        its ids; the variables' values (their structure can change the SQL)."""
        shape = (viewer.role, viewer.unit_id is not None)
        try:
            variables_key = orjson.dumps(dict(variables or {}), option=orjson.OPT_SORT_KEYS)
        except TypeError:
            return None
        return (query, operation_name, shape, variables_key)

    def compile(
        self,
        prepared: Prepared,
        operation: OperationDefinitionNode,
        variables: Any,
        viewer: Viewer,
    ) -> Plan:
        query_type = self.schema.query_type
        assert query_type is not None
        walk = Walk(
            schema=self.schema,
            settings=self.settings,
            catalog=self.catalog,
            fragments=prepared.fragments,
            variables=variables,
            viewer=_sql_viewer(viewer),
            strawberry_schema=self.strawberry_schema,
        )
        roots = collect_fields(
            self.schema, prepared.fragments, variables.coerced, query_type, operation.selection_set
        )
        dialect = dialect_for(_dialect_name())
        compiler = Compiler(self.catalog, dialect, sees_personal=viewer.sees_personal_data)
        statements: list[Statement] = []
        for key, nodes in roots.items():
            try:
                selection = walk.root(key, nodes)
                statements.append(
                    compiler.root(selection, lambda n: _listed_type(self.schema, query_type, n))
                )
            except Unsupported as exc:
                return Plan(fallback=nodes[0].name.value, detail=exc.field)
        name = operation.name.value if operation.name else None
        return Plan(statements=tuple(statements), operation=name)

    # running

    async def run(self, plan: Plan, viewer: Viewer) -> ExecutionResult:
        db = _read_connection()
        data: dict[str, Any] = {}
        for statement in plan.statements:
            try:
                _, rows = await db.execute_query(statement.sql, statement.bind(viewer))
            except OperationalError as exc:
                if "parser stack overflow" in str(exc):
                    raise TooDeep(statement.field) from exc
                raise
            value = rows[0][0] if rows else None
            data[statement.key] = orjson.Fragment(value if value is not None else "null")
        return ExecutionResult(data=data, errors=None)

    def compare(
        self,
        query: str,
        operation_name: str | None,
        viewer: Viewer,
        expected: ExecutionResult,
        got: ExecutionResult | Exception,
    ) -> None:
        if isinstance(got, Exception):
            difference = f"compiled path raised {type(got).__name__}: {got}"
        else:
            want = {"data": expected.data, "errors": _errors(expected)}
            have = orjson.loads(orjson.dumps({"data": got.data, "errors": None}))
            want = orjson.loads(orjson.dumps(want))
            if want == have:
                return
            difference = short_diff(want, have)
        logger.error(
            "read path mismatch: %s | operation %s | viewer %s | query %s",
            difference,
            operation_name or "-",
            viewer.scope_key,
            " ".join(query.split())[:500],
        )


class TooDeep(Exception):
    """SQLite's parser refused a statement nested too deeply: the resolvers answer."""


def _too_deep(plan: Plan, field: str) -> Plan:
    return Plan(fallback=field, detail="nested too deeply for SQLite's parser")


def _errors(result: ExecutionResult) -> list[Any] | None:
    if not result.errors:
        return None
    return [e.formatted for e in result.errors]


def short_diff(want: Any, have: Any, path: str = "") -> str:
    """The first place two decoded responses differ."""
    if isinstance(want, dict) and isinstance(have, dict):
        for key in list(want) + [k for k in have if k not in want]:
            if key not in want or key not in have:
                return f"{path}.{key}: only in {'compiled' if key in have else 'resolvers'}"
            if want[key] != have[key]:
                return short_diff(want[key], have[key], f"{path}.{key}")
    if isinstance(want, list) and isinstance(have, list):
        if len(want) != len(have):
            return f"{path}: {len(want)} items (resolvers) vs {len(have)} (compiled)"
        for i, (a, b) in enumerate(zip(want, have, strict=True)):
            if a != b:
                return short_diff(a, b, f"{path}[{i}]")
    return f"{path}: resolvers {str(want)[:200]!r} vs compiled {str(have)[:200]!r}"


def _operation(prepared: Prepared, name: str | None) -> OperationDefinitionNode | None:
    if name is None:
        return next(iter(prepared.operations.values())) if len(prepared.operations) == 1 else None
    return prepared.operations.get(name)


def _has_introspection(operation: OperationDefinitionNode) -> bool:
    return any(
        isinstance(s, FieldNode) and s.name.value in ("__schema", "__type")
        for s in operation.selection_set.selections
    )


def _sql_viewer(viewer: Viewer) -> Viewer:
    """The viewer whose scopes go into a plan: its unit id a placeholder."""
    if viewer.role is Role.PARTNER and viewer.unit_id is not None:
        return Viewer(role=viewer.role, unit_id=UNIT_SENTINEL)
    return Viewer(role=viewer.role)


def _read_connection() -> Any:
    from hub import models as m

    queryset = m.Member.all()
    queryset._choose_db_if_not_chosen()
    return queryset._db


def _dialect_name() -> str:
    return _read_connection().capabilities.dialect
