"""Schema extensions: refuse abusive queries before any SQL runs, and mask the unexpected.

``extensions_for(settings)`` is what ``strawberry.Schema(extensions=...)`` gets: factories,
so that every operation has fresh extension instances.

- Token, depth and alias limits (errors coded ``QUERY_TOO_COMPLEX``) and a cost limit:
  the records a query may return, estimated as the product of the page sizes
  (``first``/``last``, else the default page size) of the connections and lists down
  each path. All run while parsing or validating, before any resolver.
- Errors: a GraphQL error a client can act on keeps its message and gets an
  ``extensions.code``; anything else becomes "Internal server error (error id …)" and
  the original exception is logged with that id.
- Introspection off when ``settings.introspection`` is false.
- Parsed documents that passed validation are kept (by query text, per schema): a
  client repeating a query skips parsing and the variable-free validation rules; the
  cost limit, which reads the request's variables, still runs on every request.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from functools import cache, partial
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValidationContext,
    ValidationRule,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_composite_type,
    is_list_type,
)
from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaskErrors,
    MaxTokensLimiter,
    SchemaExtension,
)
from tortoise.exceptions import ValidationError

from hub.observability import OperationMetrics, current_request_id
from hub.settings import Settings
from resolvers.errors import ErrorCode, error_code, is_statement_timeout, user_error, with_code
from resolvers.input_values import Measure, text_problem
from schema.internals import graphql_schema

logger = logging.getLogger("linju.graphql")

INTERNAL_MESSAGE = "Internal server error (error id {error_id})"
# Pagination arguments whose value sets how many records a connection returns.
PAGE_ARGUMENTS = ("first", "last")


def extensions_for(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    """The schema extensions for these settings (a limit of 0 or less is off)."""
    documents = DocumentCache()
    extensions: list[Callable[[], SchemaExtension]] = [
        # First: its code after the operation runs last, on the errors clients get.
        *([OperationMetrics] if settings.metrics else []),
        partial(ErrorPolicy, statement_timeout_ms=settings.statement_timeout_ms),
        # Before CachedDocuments: a refused request is neither validated nor kept.
        OperationInputs,
        partial(CachedDocuments, documents, settings),
        partial(AddValidationRules, [TextLiteralRule]),
    ]
    if settings.max_tokens > 0:
        extensions.append(partial(TokenLimit, max_token_count=settings.max_tokens))
    if settings.max_depth > 0:
        extensions.append(partial(DepthLimit, max_depth=settings.max_depth))
    if settings.max_aliases > 0:
        extensions.append(partial(AliasLimit, max_alias_count=settings.max_aliases))
    if settings.max_cost > 0:
        extensions.append(
            partial(
                CostLimit,
                max_cost=settings.max_cost,
                default_page_size=settings.page_size_default,
                max_page_size=settings.page_size_max,
            )
        )
    if not settings.introspection:
        extensions.append(DisableIntrospection)
    return extensions


# --- errors ---------------------------------------------------------------------


def should_mask_error(error: GraphQLError) -> bool:
    """Mask errors that come from a Python exception rather than from the request."""
    original = error.original_error
    if original is None:
        return False  # raised by graphql-core about the request (syntax, validation)
    if not isinstance(original, GraphQLError):
        return True  # a bug or an outage: its message is not for clients
    if error_code(error) or isinstance(original, StrawberryInputCoercionError):
        return False
    # Without a code, a GraphQLError from a resolver was not written for clients;
    # one without a path is about the request's variables.
    return error.path is not None


def mask_or_code(error: GraphQLError) -> bool:
    """MaskErrors' public hook, asked once per error: mask it, or keep it with a code.

    What is kept without a code is about the input (variables that do not fit).
    """
    if should_mask_error(error):
        return True
    with_code(error, ErrorCode.BAD_USER_INPUT)
    return False


class ErrorPolicy(MaskErrors):
    """Mask unexpected errors (logged with an id) and give every error a code."""

    def __init__(self, *, statement_timeout_ms: int = 0) -> None:
        super().__init__(should_mask_error=mask_or_code)
        self.statement_timeout_ms = statement_timeout_ms

    def on_parse(self) -> Iterator[None]:
        yield
        self._code_pre_execution_errors(ErrorCode.GRAPHQL_PARSE_FAILED)

    def on_validate(self) -> Iterator[None]:
        yield
        self._code_pre_execution_errors(ErrorCode.GRAPHQL_VALIDATION_FAILED)

    def _code_pre_execution_errors(self, code: ErrorCode) -> None:
        for error in self.execution_context.pre_execution_errors or ():
            with_code(error, code)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if is_statement_timeout(original):
            return self._timeout_error(error)
        detail = unfit_value(original)
        if detail is not None:
            return self._unfit_value_error(error, detail)
        error_id = uuid.uuid4().hex[:12]
        request_id = current_request_id()
        logger.error(
            "GraphQL error %s (request %s) at %s: %s",
            error_id,
            request_id or "-",
            ".".join(str(key) for key in error.path or ()) or "-",
            error.message,
            exc_info=original if isinstance(original, BaseException) else None,
        )
        return GraphQLError(
            INTERNAL_MESSAGE.format(error_id=error_id),
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={
                "code": ErrorCode.INTERNAL.value,
                "errorId": error_id,
                **({"requestId": request_id} if request_id else {}),
            },
        )

    def _timeout_error(self, error: GraphQLError) -> GraphQLError:
        """The database cancelled a statement: the client may narrow the query or retry."""
        ms = self.statement_timeout_ms
        english = f"query took longer than {ms} ms" if ms > 0 else "query timed out"
        logger.warning(
            "GraphQL statement timeout at %s",
            ".".join(str(key) for key in error.path or ()) or "-",
        )
        return GraphQLError(
            f"查询超时，请缩小查询范围或稍后再试 ({english})",
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": ErrorCode.QUERY_TIMEOUT.value},
        )

    def _unfit_value_error(self, error: GraphQLError, detail: str) -> GraphQLError:
        """A value reached the ORM or the database that its column cannot take: the
        client's input, whichever resolver let it through; said without echoing it."""
        logger.info(
            "GraphQL value refused by the database layer at %s: %s",
            ".".join(str(key) for key in error.path or ()) or "-",
            detail,
        )
        return GraphQLError(
            f"值不符合字段的要求 (a value does not fit its column: {detail})",
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": ErrorCode.BAD_USER_INPUT.value},
        )


# SQLSTATE class 22, "data exception": a value the column or operator cannot take
# (too long, out of range, bad encoding, bad date).
DATA_EXCEPTION = "22"
_QUOTED = re.compile(r"'.*'", re.DOTALL)


def unfit_value(exc: BaseException | None) -> str | None:
    """What is wrong, when ``exc`` (or one it wraps) is a value its column cannot take.

    Tortoise's field validation (a text longer than its column, in a lookup or a write),
    PostgreSQL's data exceptions and SQLite's integer overflow: whichever resolver let
    such a value through, it is the client's input, not a fault of the hub. The value
    itself is left out of the detail (it may be megabytes long).
    """
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, ValidationError):
            return _QUOTED.sub("…", str(exc))[:200]
        sqlstate = getattr(exc, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate.startswith(DATA_EXCEPTION):
            return f"the database cannot take this value (SQLSTATE {sqlstate})"
        if isinstance(exc, OverflowError):
            return "a number is too large for the database"
        exc = exc.__cause__ or exc.__context__
    return None


# --- inputs ---------------------------------------------------------------------

MANY_OPERATIONS = (
    "文档包含 {count} 个操作，请用 operationName 指明要执行的一个 "
    "(the document has {count} operations: name the one to run with operationName)"
)


class OperationInputs(SchemaExtension):
    """Refuse, before graphql-core coerces anything, what no resolver should meet.

    - A document with several operations and no ``operationName`` (the spec's
      GetOperation: strawberry would quietly run the first one).
    - Variables deeper, larger or with text other than :mod:`resolvers.input_values`
      allows: coercing them costs time in proportion to their size (2.5 MB of empty
      ``or`` objects once took 11.8 s), so they are measured first, and the walk itself
      stops at the limit.
    Every transport (HTTP, WebSocket) runs operations through here.
    """

    def __init__(self) -> None:
        self.requested_name: str | None = None

    def on_operation(self) -> Iterator[None]:
        # Nothing is parsed yet, so ``operation_name`` cannot fall back on the
        # document's first operation: it is exactly what the request named.
        self.requested_name = self.execution_context.operation_name
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.pre_execution_errors is None and context.graphql_document is not None:
            errors = self._operation_errors(context.graphql_document)
            errors += variable_errors(context.variables)
            if errors:
                # Set before validation: strawberry then neither validates nor runs it.
                context.pre_execution_errors = errors
        yield

    def _operation_errors(self, document: DocumentNode) -> list[GraphQLError]:
        count = sum(isinstance(d, OperationDefinitionNode) for d in document.definitions)
        if count > 1 and self.requested_name is None:
            return [user_error(MANY_OPERATIONS.format(count=count), field="operationName")]
        return []


def variable_errors(variables: Mapping[str, Any] | None) -> list[GraphQLError]:
    """A BAD_USER_INPUT error naming where the variables pass a limit, if they do."""
    if not variables:
        return []
    problem = Measure().check(dict(variables), "")
    if problem is None:
        return []
    return [
        user_error(
            f"变量超出限制 (variable {problem.path or 'values'} {problem.reason})",
            field=problem.path or "variables",
        )
    ]


class TextLiteralRule(ValidationRule):
    """Text written into the document itself meets the same test as text in variables."""

    def enter_string_value(self, node: StringValueNode, *_args: Any) -> None:
        problem = text_problem(node.value)
        if problem is not None:
            self.report_error(
                GraphQLError(
                    f"文本含有不允许的字符 (a string literal {problem})",
                    node,
                    extensions={"code": ErrorCode.BAD_USER_INPUT.value},
                )
            )


# --- limits ---------------------------------------------------------------------


class _Shape:
    """Depth and alias count of a document, each fragment walked once.

    strawberry's QueryDepthLimiter and MaxAliasesLimiter re-walk a fragment at every
    spread: fragments that each spread the previous one twice take 2^n steps (20
    fragments, a few hundred tokens, already take seconds). Here a fragment's depth
    and alias count are computed once and reused.
    """

    def __init__(self, fragments: Mapping[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self._memo: dict[str, tuple[int, int]] = {}
        self._visiting: set[str] = set()

    def measure(self, selection_set: SelectionSetNode | None) -> tuple[int, int]:
        """(levels below, aliases) of a selection set; introspection is not counted."""
        depth = aliases = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                if selection.name.value.startswith("__"):
                    continue
                below, inner = self.measure(selection.selection_set)
                if selection.selection_set:
                    depth = max(depth, 1 + below)
                aliases += inner + (1 if selection.alias else 0)
            elif isinstance(selection, InlineFragmentNode):
                below, inner = self.measure(selection.selection_set)
                depth, aliases = max(depth, below), aliases + inner
            elif isinstance(selection, FragmentSpreadNode):
                below, inner = self._fragment(selection.name.value)
                depth, aliases = max(depth, below), aliases + inner
        return depth, aliases

    def _fragment(self, name: str) -> tuple[int, int]:
        if name in self._memo:
            return self._memo[name]
        fragment = self.fragments.get(name)
        if fragment is None or name in self._visiting:
            return 0, 0  # unknown or cyclic: graphql-core's own rules report it
        self._visiting.add(name)
        self._memo[name] = self.measure(fragment.selection_set)
        self._visiting.discard(name)
        return self._memo[name]


@cache  # one class per limit, made once, not per request
def _shape_rule(max_depth: int | None, max_aliases: int | None) -> type[ValidationRule]:
    class ShapeRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            definitions = context.document.definitions
            shape = _Shape(
                {d.name.value: d for d in definitions if isinstance(d, FragmentDefinitionNode)}
            )
            total_aliases = 0
            for operation in definitions:
                if not isinstance(operation, OperationDefinitionNode):
                    continue
                depth, aliases = shape.measure(operation.selection_set)
                total_aliases += aliases
                if max_depth is not None and depth > max_depth:
                    name = operation.name.value if operation.name else "Query"
                    context.report_error(
                        _too_complex(
                            f"'{name}' is nested {depth} levels deep, more than the limit of "
                            f"{max_depth}.",
                            operation,
                        )
                    )
            if max_aliases is not None and total_aliases > max_aliases:
                context.report_error(
                    _too_complex(
                        f"The document uses {total_aliases} aliases, more than the limit of "
                        f"{max_aliases}.",
                        None,
                    )
                )

    return ShapeRule


def _too_complex(message: str, node: Any, **extensions: Any) -> GraphQLError:
    return GraphQLError(
        message, node, extensions={"code": ErrorCode.QUERY_TOO_COMPLEX.value, **extensions}
    )


class DepthLimit(AddValidationRules):
    """Refuse operations nested deeper than ``max_depth`` fields (introspection exempt)."""

    def __init__(self, max_depth: int) -> None:
        super().__init__([_shape_rule(max_depth, None)])


class AliasLimit(AddValidationRules):
    """Refuse documents using more than ``max_alias_count`` aliases, fragments expanded."""

    def __init__(self, max_alias_count: int) -> None:
        super().__init__([_shape_rule(None, max_alias_count)])


class TokenLimit(MaxTokensLimiter):
    """Stop parsing a document longer than ``max_token_count`` tokens."""

    def on_parse(self) -> Iterator[None]:
        yield
        for error in self.execution_context.pre_execution_errors or ():
            # graphql-core's wording for this limit; the parser gives no other mark.
            if f"more than {self.max_token_count} tokens" in error.message:
                error.extensions = {
                    **(error.extensions or {}),
                    "code": ErrorCode.QUERY_TOO_COMPLEX.value,
                }


class CostLimit(SchemaExtension):
    """Refuse operations that may return more than ``max_cost`` records."""

    def __init__(self, *, max_cost: int, default_page_size: int, max_page_size: int) -> None:
        self.max_cost = max_cost
        self.default_page_size = default_page_size
        self.max_page_size = max_page_size

    def on_validate(self) -> Iterator[None]:
        # Page sizes may come from this request's variables: costed per request, and
        # reported among the other validation errors. (A cached document has its
        # errors set already, cost included: see CachedDocuments.)
        context = self.execution_context
        if context.pre_execution_errors is None and context.graphql_document is not None:
            errors = cost_errors(
                self,
                graphql_schema(context.schema),
                context.graphql_document,
                dict(context.variables or {}),
                context.operation_name,
            )
            if errors:
                context.validation_rules = (*context.validation_rules, _reporting(errors))
        yield


def _reporting(errors: list[GraphQLError]) -> type[ValidationRule]:
    """A validation rule reporting errors found before validation began."""

    class CostRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            for error in errors:
                context.report_error(error)

    return CostRule


def cost_limit_for(settings: Settings) -> CostLimit | None:
    """The cost limit of ``settings`` as a checker of its own (None: off)."""
    if settings.max_cost <= 0:
        return None
    return CostLimit(
        max_cost=settings.max_cost,
        default_page_size=settings.page_size_default,
        max_page_size=settings.page_size_max,
    )


def cost_errors(
    limit: CostLimit,
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: Mapping[str, Any],
    operation_name: str | None,
) -> list[GraphQLError]:
    """A QUERY_TOO_COMPLEX error for each operation that may return too many records."""
    errors: list[GraphQLError] = []
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    for operation in document.definitions:
        if not isinstance(operation, OperationDefinitionNode):
            continue
        if operation_name and operation.name and operation.name.value != operation_name:
            continue
        root = schema.get_root_type(operation.operation)
        if root is None:
            continue
        estimator = CostEstimator(limit, schema, fragments, variables, operation)
        cost = estimator.cost(operation.selection_set, root)
        if cost > limit.max_cost:
            errors.append(
                _too_complex(
                    f"Query is too complex: it may return about {cost:,} records "
                    f"(estimated from page sizes), more than the limit of "
                    f"{limit.max_cost:,}. Ask for smaller pages with first/last "
                    "or nest fewer lists.",
                    operation,
                    estimatedCost=cost,
                    maxCost=limit.max_cost,
                )
            )
    return errors


class CostEstimator:
    """The records an operation may return: Σ over lists of the page sizes' product.

    A field with a ``first``/``last`` argument is a connection: it returns that many
    records (the default page size when absent); the lists inside it (``edges``,
    ``nodes``) are those same records. Any other list of objects counts as one default
    page. Cost is linear in the multiplier, so each fragment is costed once.
    """

    def __init__(
        self,
        limit: CostLimit,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
        operation: OperationDefinitionNode,
    ) -> None:
        self.limit = limit
        self.schema = schema
        self.fragments = fragments
        self.variables = dict(variables)
        for definition in operation.variable_definitions or ():
            name = definition.variable.name.value
            if name not in self.variables and isinstance(definition.default_value, IntValueNode):
                self.variables[name] = int(definition.default_value.value)
        self._fragment_costs: dict[tuple[str, bool], int] = {}
        self._visiting: set[str] = set()

    def cost(
        self, selection_set: SelectionSetNode, parent: GraphQLNamedType, in_connection: bool = False
    ) -> int:
        """Records under ``selection_set`` for one ``parent`` object."""
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self._field(selection, parent, in_connection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                if target is not None:
                    total += self.cost(selection.selection_set, target, in_connection)
            elif isinstance(selection, FragmentSpreadNode):
                total += self._fragment(selection.name.value, in_connection)
        return total

    def _fragment(self, name: str, in_connection: bool) -> int:
        key = (name, in_connection)
        if key in self._fragment_costs:
            return self._fragment_costs[key]
        fragment = self.fragments.get(name)
        if fragment is None or name in self._visiting:
            return 0  # unknown or cyclic: validation reports it
        target = self.schema.get_type(fragment.type_condition.name.value)
        self._visiting.add(name)
        cost = self.cost(fragment.selection_set, target, in_connection) if target else 0
        self._visiting.discard(name)
        self._fragment_costs[key] = cost
        return cost

    def _field(self, node: FieldNode, parent: GraphQLNamedType, in_connection: bool) -> int:
        if node.selection_set is None or node.name.value.startswith("__"):
            return 0  # a leaf, or introspection
        if not isinstance(parent, (GraphQLObjectType, GraphQLInterfaceType)):
            return 0
        definition = parent.fields.get(node.name.value)
        if definition is None:
            return 0  # unknown field: validation reports it
        target = get_named_type(definition.type)
        if not is_composite_type(target):
            return 0
        if any(name in definition.args for name in PAGE_ARGUMENTS):
            size = self._page_size(node)
            return size + size * self.cost(node.selection_set, target, in_connection=True)
        if is_list_type(get_nullable_type(definition.type)) and not in_connection:
            size = self.limit.default_page_size
            return size + size * self.cost(node.selection_set, target)
        return self.cost(node.selection_set, target)

    def _page_size(self, node: FieldNode) -> int:
        requested: Any = None
        for argument in node.arguments or ():
            if argument.name.value not in PAGE_ARGUMENTS:
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                requested = int(value.value)
            elif isinstance(value, VariableNode):
                requested = self.variables.get(value.name.value)
            if isinstance(requested, int) and not isinstance(requested, bool):
                break
            requested = None
        if requested is None:
            return self.limit.default_page_size
        return max(1, min(requested, self.limit.max_page_size))


# --- document cache ---------------------------------------------------------------

# Documents longer than this are parsed and validated every time (and not kept).
CACHEABLE_QUERY_LENGTH = 20_000


class DocumentCache:
    """Parsed documents that passed every variable-free validation rule, by query text.

    One per schema (so per settings): the rules a document passed are that schema's.
    Least recently used documents are dropped beyond ``size``.
    """

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._documents: OrderedDict[str, DocumentNode] = OrderedDict()

    def get(self, query: str) -> DocumentNode | None:
        document = self._documents.get(query)
        if document is not None:
            self._documents.move_to_end(query)
        return document

    def put(self, query: str, document: DocumentNode) -> None:
        if len(query) > CACHEABLE_QUERY_LENGTH:
            return
        self._documents[query] = document
        self._documents.move_to_end(query)
        while len(self._documents) > self.size:
            self._documents.popitem(last=False)


class CachedDocuments(SchemaExtension):
    """Skip parsing and static validation of a document this schema already accepted.

    On a hit, only the cost limit runs (it depends on the variables); on a miss,
    strawberry parses and validates as usual and a document without errors is kept.
    """

    def __init__(self, cache: DocumentCache, settings: Settings) -> None:
        self.cache = cache
        self.cost_limit = cost_limit_for(settings)
        self.hit = False

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is None and isinstance(context.query, str):
            document = self.cache.get(context.query)
            if document is not None:
                context.graphql_document = document
                self.hit = True
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if (
            self.hit
            and context.pre_execution_errors is None
            and context.graphql_document is not None
        ):
            # Strawberry validates only while no errors are set: the cost rule alone.
            context.pre_execution_errors = (
                cost_errors(
                    self.cost_limit,
                    graphql_schema(context.schema),
                    context.graphql_document,
                    dict(context.variables or {}),
                    context.operation_name,
                )
                if self.cost_limit is not None
                else []
            )
        yield
        if (
            not self.hit
            and not context.pre_execution_errors
            and isinstance(context.query, str)
            and context.graphql_document is not None
        ):
            self.cache.put(context.query, context.graphql_document)
