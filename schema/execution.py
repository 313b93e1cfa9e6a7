"""graphql-core's executor with short paths for plain leaf fields and simple resolvers.

A roster page completes thousands of fields such as ``name`` or ``category``: a column
read from a row and coerced to a scalar or enum. For each, graphql-core builds a path
entry, a ``GraphQLResolveInfo``, calls strawberry's default resolver and walks
``complete_value`` — most of a request's time. Here such a field is read and coerced
in one step, with the very functions graphql-core would call (the field's default
resolver, the type's ``coerce_output_value``). Anything unusual — a null in a non-null
field, a coercion failure, an awaitable, middleware — goes back to graphql-core's own
``execute_field``, which computes the field again and reports it exactly as before.

A field with a resolver that takes no arguments (only its row and/or ``info``) and has
no field extensions is called directly with the same strawberry ``Info`` strawberry
would build, skipping strawberry's argument conversion and extension chain; its
result is completed by graphql-core as usual.
"""

from __future__ import annotations

from collections.abc import Callable
from types import CoroutineType
from typing import Any, TypeGuard

from graphql import (
    GraphQLField,
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    Undefined,
    is_leaf_type,
)
from graphql.pyutils import Path, gather_with_cancel, is_awaitable
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types import Info
from tortoise.models import Model

# Values the executor meets most: never awaitable, decided without attribute lookups.
_PLAIN = frozenset({str, int, float, bool, type(None), dict, list, tuple})
_FALLBACK: Any = object()


def _is_awaitable(value: Any) -> TypeGuard[Any]:
    # Tortoise rows define ``__await__`` (``await row`` gives the row back), so
    # graphql-core would schedule a task for every row it completes: a roster of
    # a thousand members paid a thousand tasks. A row is a value, not a promise.
    kind = type(value)
    if kind in _PLAIN:
        return False
    if kind is CoroutineType:
        return True
    return not isinstance(value, Model) and is_awaitable(value)


class LeafPlan:
    """How to complete one plain leaf field: read an attribute, coerce it."""

    __slots__ = ("coerce", "name", "non_null", "read")

    def __init__(self, read: Callable[[Any, str], Any], name: str, type_: Any) -> None:
        self.read = read
        self.name = name
        self.non_null = isinstance(type_, GraphQLNonNull)
        leaf: GraphQLLeafType = type_.of_type if self.non_null else type_
        self.coerce = leaf.coerce_output_value

    def complete(self, source: Any) -> Any:
        """The field's value, or ``_FALLBACK`` when graphql-core must decide."""
        try:
            value = self.read(source, self.name)
            if value is None:
                return _FALLBACK if self.non_null else None
            if type(value) not in _PLAIN and (isinstance(value, Exception) or _is_awaitable(value)):
                return _FALLBACK
            coerced = self.coerce(value)
        except Exception:
            return _FALLBACK
        if coerced is None or coerced is Undefined:
            return _FALLBACK
        return coerced


def _leaf_plan(field: GraphQLField) -> LeafPlan | None:
    """A plan for strawberry's basic fields (no resolver, no arguments) of leaf type."""
    resolve = field.resolve
    if field.args or resolve is None or getattr(resolve, "__name__", "") != "_get_basic_result":
        return None
    type_ = field.type
    named = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    if not is_leaf_type(named):
        return None
    definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    read = getattr(definition, "default_resolver", None)
    if definition is None or read is None:
        return None
    return LeafPlan(read, definition.python_name, type_)


# Leaf plans per object type and field name; ``None`` for fields graphql-core completes.
_PLANS: dict[GraphQLObjectType, dict[str, LeafPlan | None]] = {}


def leaf_plans(parent_type: GraphQLObjectType) -> dict[str, LeafPlan | None]:
    plans = _PLANS.get(parent_type)
    if plans is None:
        plans = {name: _leaf_plan(field) for name, field in parent_type.fields.items()}
        _PLANS[parent_type] = plans
    return plans


class ResolverPlan:
    """How to call a strawberry resolver that takes no GraphQL arguments."""

    __slots__ = ("definition", "field", "info_class", "info_name", "resolver", "source_names")

    def __init__(self, field: GraphQLField, definition: Any, info_class: type[Info]) -> None:
        resolver = definition.base_resolver
        self.field = field
        self.definition = definition
        self.resolver = resolver
        self.info_class = info_class
        names = [p.name for p in (resolver.root_parameter, resolver.parent_parameter) if p]
        self.source_names = tuple(names)
        self.info_name = resolver.info_parameter.name if resolver.info_parameter else None

    def call(self, source: Any, raw_info: Any) -> Any:
        # What strawberry's get_arguments and field.get_result amount to without arguments.
        kwargs = dict.fromkeys(self.source_names, source)
        if self.info_name is not None:
            kwargs[self.info_name] = self.info_class(_raw_info=raw_info, _field=self.definition)
        if self.resolver.self_parameter:
            return self.resolver(source, **kwargs)
        return self.resolver(**kwargs)


def _resolver_plan(field: GraphQLField, strawberry_schema: Any) -> ResolverPlan | None:
    definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    resolver = getattr(definition, "base_resolver", None)
    if resolver is None or field.args or definition.arguments or definition.extensions:
        return None
    converter = getattr(strawberry_schema, "schema_converter", None)
    if converter is None or getattr(converter, "_exception_handler_specs", True):
        return None  # exception handlers reshape results: strawberry's own wrapper
    return ResolverPlan(field, definition, strawberry_schema.config.info_class)


_RESOLVERS: dict[GraphQLObjectType, dict[str, ResolverPlan | None]] = {}


def resolver_plans(
    parent_type: GraphQLObjectType, strawberry_schema: Any
) -> dict[str, ResolverPlan | None]:
    plans = _RESOLVERS.get(parent_type)
    if plans is None:
        plans = {
            name: _resolver_plan(field, strawberry_schema)
            for name, field in parent_type.fields.items()
        }
        _RESOLVERS[parent_type] = plans
    return plans


class ExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context: rows are values, plain leaves take a short path."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.is_awaitable = _is_awaitable
        manager = self.middleware_manager
        self._plain = manager is None or getattr(manager, "_middleware_resolvers", 1) is None
        self._strawberry_schema = getattr(self.schema, "_strawberry_schema", None)

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Path,
        position_context: Any,
    ) -> Any:
        plan = (
            resolver_plans(parent_type, self._strawberry_schema).get(
                field_details_list[0].node.name.value
            )
            if self._plain
            else None
        )
        if plan is None:
            return super().execute_field(
                parent_type, source, field_details_list, path, position_context
            )
        # graphql-core's execute_field for a field without arguments or middleware.
        return_type = plan.field.type
        nodes = [details.node for details in field_details_list]
        info = self.build_resolve_info(plan.field, nodes, parent_type, path)
        try:
            result = plan.call(source, info)
            if self.is_awaitable(result):
                return self.complete_awaitable_value(
                    return_type, field_details_list, info, path, result, position_context
                )
            completed = self.complete_value(
                return_type, field_details_list, info, path, result, position_context
            )
            if self.is_awaitable(completed):
                return self._await_completed(completed, return_type, field_details_list, path)
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None
        return completed

    async def _await_completed(
        self,
        completed: Any,
        return_type: GraphQLOutputType,
        field_details_list: Any,
        path: Path,
    ) -> Any:
        try:
            return await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        if not self._plain:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        # graphql-core's execute_fields, with plain leaves completed inline.
        plans = leaf_plans(parent_type)
        results: dict[str, Any] = {}
        is_awaitable_ = self.is_awaitable
        awaitable_fields: list[str] = []
        try:
            for response_name, field_details_list in grouped_field_set.items():
                plan = plans.get(field_details_list[0].node.name.value)
                if plan is not None:
                    value = plan.complete(source_value)
                    if value is not _FALLBACK:
                        results[response_name] = value
                        continue
                result = self.execute_field(
                    parent_type,
                    source_value,
                    field_details_list,
                    Path(path, response_name, parent_type.name),
                    position_context,
                )
                if result is not Undefined:
                    results[response_name] = result
                    if is_awaitable_(result):
                        awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise
        if not awaitable_fields:
            return results
        return self._await_fields(results, awaitable_fields)

    async def _await_fields(
        self, results: dict[str, Any], awaitable_fields: list[str]
    ) -> dict[str, Any]:
        if len(awaitable_fields) == 1:
            field = awaitable_fields[0]
            results[field] = await results[field]
        else:
            awaited = await gather_with_cancel(*(results[f] for f in awaitable_fields))
            results.update(zip(awaitable_fields, awaited, strict=True))
        return results
