"""Answering query operations from compiled SQL, with the resolvers as the fallback."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    parse,
    specified_rules,
    validate,
)
from graphql.execution.values import get_variable_values
from prometheus_client import Counter
from strawberry.types import ExecutionResult
from tortoise.exceptions import OperationalError

from hub import models as m
from hub.access import Viewer
from hub.enums import Role
from hub.observability.metrics import (
    GRAPHQL_OPERATIONS,
    GRAPHQL_SECONDS,
    labelled,
    operation_label,
)
from hub.orm_sql import read_connection
from hub.settings import Settings
from resolvers.compiler.catalog import (
    Catalog,
)
from resolvers.compiler.dialect import dialect_for
from resolvers.compiler.plan import Plan, PlanCache, Statement
from resolvers.compiler.sql import Compiler, Unsupported
from schema.compiled.catalog import build_catalog
from schema.compiled.differential import formatted_errors, short_diff
from schema.compiled.selection import (
    SENTINEL_TEXT,
    UNIT_SENTINEL,
    Fallback,
    Walk,
    collect_fields,
    listed_type,
    node_id_variables,
    node_type_of,
)
from schema.compiled.statistics import FIELD as STATISTICS
from schema.compiled.statistics import statistics_statement
from schema.extensions import CACHEABLE_QUERY_LENGTH, CostLimit, _shape_rule, cost_errors
from schema.internals import graphql_schema

logger = logging.getLogger("linju.read_path")

READ_FALLBACKS = Counter(
    "linju_read_fallback_total",
    "Read operations answered by the resolvers, not compiled, by the root field that "
    "could not be compiled",
    ["field"],
)
# A partner's unit in the SQL of a plan: replaced by the viewer's own at execution.
Resolve = Callable[[], Awaitable[ExecutionResult]]


@dataclass
class Prepared:
    """A parsed document that passed validation (the limits included)."""

    document: DocumentNode
    fragments: dict[str, FragmentDefinitionNode]
    operations: dict[str | None, OperationDefinitionNode]
    # per operation: variables that are only ever a root ``node(id:)`` (plans per type)
    node_ids: dict[str | None, frozenset[str]]


class ReadPath:
    """Answers query operations from compiled SQL; everything else from the resolvers."""

    def __init__(self, schema: Any, settings: Settings) -> None:
        self.strawberry_schema = schema
        self.schema: GraphQLSchema = graphql_schema(schema)
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
            got: ExecutionResult | Exception
            try:
                got = await self.run(plan, viewer, variables)
            except (TooDeep, ResolversAnswer):
                return expected
            except Exception as exc:
                got = exc
            self.compare(query, operation_name, viewer, expected, got)
            return expected
        result = await self.answer(
            plan, query=query, variables=variables, operation_name=operation_name, viewer=viewer
        )
        return result if result is not None else await resolve()

    def ready(
        self,
        query: str,
        variables: Mapping[str, Any] | None,
        operation_name: str | None,
        viewer: Viewer,
    ) -> Plan | None:
        """The plan when this request is answered by compiled SQL alone (hub.app.fast_lane);
        None for anything else — another mode, any error, not a query, a fallback — and
        nothing logged or counted: :meth:`execute` does that when it gets the request."""
        if self.mode != "compiled":
            return None
        try:
            plan = self.plan(query, variables, operation_name, viewer)
        except Exception:
            return None
        return plan if plan is not None and plan.fallback is None else None

    async def answer(
        self,
        plan: Plan,
        *,
        query: str,
        variables: Mapping[str, Any] | None,
        operation_name: str | None,
        viewer: Viewer,
    ) -> ExecutionResult | None:
        """A compiled plan's result, with the operation's metrics; None when the
        resolvers must answer instead (already logged and counted)."""
        try:
            started = time.perf_counter()
            result = await self.run(plan, viewer, variables)
            if self.settings.metrics:
                # What OperationMetrics records for operations strawberry executes.
                label = operation_label(plan.operation)
                labelled(GRAPHQL_OPERATIONS, label, "query").inc()
                labelled(GRAPHQL_SECONDS, label).observe(time.perf_counter() - started)
            return result
        except ResolversAnswer:
            return None  # the resolvers give their error (a statistics scope not found)
        except TooDeep as exc:
            key = self._key_of(query, variables, operation_name, viewer)
            if key is not None:
                self.plans.put(key, _too_deep(plan, str(exc)))
            READ_FALLBACKS.labels(field=str(exc)).inc()
            return None
        except Exception:
            # A failing statement (a timeout, a lost connection): the resolvers answer,
            # with the error the hub's error policy gives clients.
            logger.exception("compiled read failed; answered by the resolvers")
            return None

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
            node_ids = {name: node_id_variables(op) for name, op in operations.items()}
            prepared = Prepared(document, fragments, operations, node_ids)
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
        key = self._key(query, raw, operation_name, viewer, _node_ids(prepared, operation))
        if key is None or SENTINEL_TEXT in key[3] or SENTINEL_TEXT.decode() in query:
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
        query: str,
        variables: dict[str, Any],
        operation_name: str | None,
        viewer: Viewer,
        node_ids: frozenset[str],
    ) -> tuple[Any, ...] | None:
        """The plan cache key: the scope's shape (the role, whether a unit is set), not
        its ids; the variables' values (their structure can change the SQL), except a
        ``node(id: $id)``'s, of which only the type named counts (its key is a parameter).
        """
        shape = (viewer.role, viewer.unit_id is not None)
        keyed = {
            name: node_type_of(value) if name in node_ids and isinstance(value, str) else value
            for name, value in variables.items()
        }
        try:
            variables_key = orjson.dumps(keyed, option=orjson.OPT_SORT_KEYS)
        except TypeError:
            return None
        return (query, operation_name, shape, variables_key)

    def _key_of(
        self,
        query: str,
        variables: Mapping[str, Any] | None,
        operation_name: str | None,
        viewer: Viewer,
    ) -> tuple[Any, ...] | None:
        prepared = self.prepare(query)
        operation = _operation(prepared, operation_name) if prepared else None
        if prepared is None or operation is None:
            return None
        node_ids = _node_ids(prepared, operation)
        return self._key(query, dict(variables or {}), operation_name, viewer, node_ids)

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
            node_id_variables=_node_ids(prepared, operation),
        )
        roots = collect_fields(
            self.schema, prepared.fragments, variables.coerced, query_type, operation.selection_set
        )
        dialect = dialect_for(_dialect_name())
        compiler = Compiler(self.catalog, dialect, sees_personal=viewer.sees_personal_data)
        statements: list[Statement] = []
        for key, nodes in roots.items():
            try:
                if nodes[0].name.value == STATISTICS:
                    statements.append(statistics_statement(walk, compiler, key, nodes))
                    continue
                selection = walk.root(key, nodes)
                statements.append(
                    compiler.root(selection, lambda n: listed_type(self.schema, query_type, n))
                )
            except Unsupported as exc:
                return Plan(fallback=nodes[0].name.value, detail=exc.field)
        name = operation.name.value if operation.name else None
        return Plan(statements=tuple(statements), operation=name)

    # running

    async def run(
        self, plan: Plan, viewer: Viewer, variables: Mapping[str, Any] | None = None
    ) -> ExecutionResult:
        db: Any = None
        data: dict[str, Any] = {}
        now = dt.datetime.now(dt.UTC)  # one clock reading per request, as the resolvers
        for statement in plan.statements:
            if statement.constant is not None:
                data[statement.key] = orjson.Fragment(statement.constant)
                continue
            if db is None:  # chosen only when asked (a router's choice costs a QuerySet)
                db = _read_connection()
            try:
                values = statement.bind(viewer, variables, now)
                _, rows = await db.execute_query(statement.sql, values)
            except OperationalError as exc:
                if "parser stack overflow" in str(exc):
                    raise TooDeep(statement.field) from exc
                raise
            value = rows[0][0] if rows else None
            if value is None and statement.required:
                raise ResolversAnswer(statement.field)
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
            want = {"data": expected.data, "errors": formatted_errors(expected)}
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


class ResolversAnswer(Exception):
    """A statement answered NULL where only the resolvers know the answer (an error)."""


class TooDeep(Exception):
    """SQLite's parser refused a statement nested too deeply: the resolvers answer."""


def _too_deep(plan: Plan, field: str) -> Plan:
    return Plan(fallback=field, detail="nested too deeply for SQLite's parser")


def _node_ids(prepared: Prepared, operation: OperationDefinitionNode) -> frozenset[str]:
    return prepared.node_ids.get(operation.name.value if operation.name else None, frozenset())


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
    """The connection a read of the models would use now (the replica router's choice),
    as ``Member.all()`` chooses it, without building a QuerySet per statement."""
    return read_connection(m.Member)


def _dialect_name() -> str:
    return _read_connection().capabilities.dialect
