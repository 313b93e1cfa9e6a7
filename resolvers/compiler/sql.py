"""Selection tree → one SQL statement per root field, whose value is the field's JSON.

Every connection is a scalar subquery over its page (``row_number()`` gives each row its
place; one row past the page says whether more follow), every to-one relation a scalar
subquery keyed by the foreign key, and each level carries its row scope as
``id IN (…)``, so what the statement can reach is exactly what the resolvers would.
Values are bind parameters; the only text spliced in is the hub's own (table, column
and type names, cursor tags).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from enum import Enum
from typing import Any

import orjson

from resolvers.compiler.catalog import Catalog, Column, EnumList, NodeType, RowList, ToMany
from resolvers.compiler.dialect import Dialect, literal
from resolvers.compiler.plan import CLOCK, Statement
from resolvers.compiler.tree import Fragment, Key, Page, Selection

# Parameters are marked while the text is assembled (pieces are built inside out) and
# numbered in order of appearance at the end.
_MARK = re.compile("\x00(\\d+)\x00")
# The longest text of a 64-bit integer ("null" is shorter).
INTEGER_TEXT = 20
JSON_ARGUMENTS_MAX = 100  # PostgreSQL's limit on json_build_object's arguments


def text_prefix(tag: str) -> str:
    """The start of a cursor's JSON payload (resolvers.pagination.encode_cursor)."""
    return '{"o":"' + tag + '","v":['


class Unsupported(Exception):
    """The compiler cannot express this field: its root field falls back."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


def _stored_value(value: Any) -> Any:
    """A keyset value as the column stores it (an enum member by its value)."""
    return value.value if isinstance(value, Enum) else value


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Compiler:
    """Compiles the root fields of one operation for one viewer scope shape."""

    def __init__(self, catalog: Catalog, dialect: Dialect, *, sees_personal: bool) -> None:
        self.catalog = catalog
        self.dialect = dialect
        self.sees_personal = sees_personal
        self._params: list[Any] = []
        self._aliases = 0
        self._pages: dict[str, tuple[NodeType, bool]] = {}  # page alias → (node, lean)
        self._rows_read: set[str] = set()  # page aliases whose rows the output reads

    # --- text assembly -----------------------------------------------------------

    def param(self, value: Any) -> str:
        self._params.append(value)
        return f"\x00{len(self._params) - 1}\x00"

    def fragment(self, fragment: Fragment) -> str:
        parts = fragment.sql.split("?")
        if len(parts) != len(fragment.params) + 1:
            raise Unsupported("where")  # a literal "?" in the SQL: do not guess
        out = [parts[0]]
        for value, rest in zip(fragment.params, parts[1:], strict=True):
            out.append(self.param(value))
            out.append(rest)
        return "".join(out)

    def alias(self) -> str:
        self._aliases += 1
        return f"t{self._aliases}"

    def statement(self, key: str, expression: str, field: str = "") -> Statement:
        text = "SELECT " + self.dialect.finish(expression)
        params: list[Any] = []
        numbers: dict[int, int] = {}
        positional = self.dialect.name == "sqlite"

        def number(match: re.Match[str]) -> str:
            index = int(match.group(1))
            if positional:
                params.append(self._params[index])
                return "?"
            if index not in numbers:
                params.append(self._params[index])
                numbers[index] = len(params)
            return f"${numbers[index]}"

        sql = _MARK.sub(number, text)
        self._params = []
        return Statement(key=key, sql=sql, params=tuple(params), field=field)

    # --- root fields --------------------------------------------------------------

    def root(self, selection: Selection, connection_of: Callable[[str], str | None]) -> Statement:
        """``connection_of(field)``: the node type a root connection field lists."""
        if selection.literal is not None:
            statement = self.statement(selection.key, self._text(selection.literal), selection.name)
            # A root __typename is a constant: answered without a round trip (issue 12).
            return replace(statement, constant=orjson.dumps(selection.literal).decode())
        if selection.node_ids is not None:
            return self.statement(selection.key, self._nodes(selection), selection.name)
        type_name = connection_of(selection.name)
        if type_name is None or selection.page is None:
            raise Unsupported(selection.name)
        node = self.catalog[type_name]
        expression = self._connection(node, selection, None)
        return self.statement(selection.key, expression, selection.name)

    def _text(self, value: str) -> str:
        if self.dialect.name == "postgres":
            return f"to_json({literal(value)}::text)"
        return f"json_quote({literal(value)})"

    def _nodes(self, selection: Selection) -> str:
        ids = selection.node_ids or ()
        items = [self._node(selection, target) for target in ids]
        if not selection.plural:
            return items[0]
        if len(items) > JSON_ARGUMENTS_MAX:
            raise Unsupported(selection.name)
        if self.dialect.name == "postgres":
            return "json_build_array(" + ", ".join(items) + ")"
        return "json_array(" + ", ".join(self.dialect.embed(i) for i in items) + ")"

    def _node(self, selection: Selection, target: tuple[str, Key] | None) -> str:
        if target is None:
            return "NULL"
        type_name, pk = target
        node = self.catalog.get(type_name)
        if node is None:
            raise Unsupported(selection.name)
        children = selection.by_type.get(type_name, ())
        x = self.alias()
        where = [f"{x}.{q(node.pk)} = {self.param(pk)}"]
        scope = selection.scopes.get(type_name)
        if scope is not None:
            where.append(f"{x}.{q(node.pk)} IN ({self.fragment(scope)})")
        obj = self._object(node, children, x)
        return f"(SELECT {obj} FROM {q(node.table)} {x} WHERE {' AND '.join(where)})"

    # --- objects -----------------------------------------------------------------

    def _object(self, node: NodeType, children: tuple[Selection, ...], x: str) -> str:
        pairs: list[tuple[str, str]] = []
        for child in children:
            pairs.append((child.key, self._field(node, child, x)))
        if len(pairs) * 2 > JSON_ARGUMENTS_MAX:
            raise Unsupported(node.name)
        return self.dialect.object(pairs)

    def _field(self, node: NodeType, child: Selection, x: str) -> str:
        if child.literal is not None:
            return literal(child.literal)
        name = child.name
        if name == "id":
            return self._global_id(node, x)
        if name == "rowId":
            return f"{x}.{q(node.pk)}"
        column = node.scalars.get(name)
        if column is not None:
            return self._scalar(column, x)
        to_one = node.to_one.get(name)
        if to_one is not None:
            target = self.catalog[to_one.target]
            y = self.alias()
            key = to_one.target_column or target.pk
            where = [f"{y}.{q(key)} = {x}.{q(to_one.column)}"]
            if child.scope is not None:
                where.append(f"{y}.{q(target.pk)} IN ({self.fragment(child.scope)})")
            obj = self._object(target, child.children, y)
            sub = f"(SELECT {obj} FROM {q(target.table)} {y} WHERE {' AND '.join(where)})"
            return self.dialect.embed(sub)
        rows = node.row_lists.get(name)
        if rows is not None:
            return self._row_list(node, rows, child, x)
        values = node.enum_lists.get(name)
        if values is not None:
            return self._enum_list(node, values, child, x)
        deadline = node.deadlines.get(name)
        if deadline is not None:
            due = f"{x}.{q(deadline.due)}"
            return self.dialect.boolean(
                f"{due} IS NOT NULL AND {due} < {self.param(CLOCK)} "
                f"AND {x}.{q(deadline.status)} <> {self._stored(deadline.done)}"
            )
        relation = node.to_many.get(name)
        if relation is not None and child.page is not None:
            target = self.catalog[relation.target]
            return self.dialect.embed(self._connection(target, child, (node, relation, x)))
        raise Unsupported(f"{node.name}.{name}")

    def _scoped(self, where: list[str], ref: str, scope: Fragment | None) -> list[str]:
        if scope is not None:
            where.append(f"{ref} IN ({self.fragment(scope)})")
        return where

    def _row_list(self, node: NodeType, rows: RowList, child: Selection, x: str) -> str:
        """A plain list (not a connection): every row, in the declared order."""
        target = self.catalog[rows.target]
        e, y = self.alias(), self.alias()
        where = [f"{e}.{q(rows.column)} = {x}.{q(node.pk)}"]
        where = self._scoped(where, f"{e}.{q(target.pk)}", child.scope)
        inner_order = ", ".join(f"{e}.{q(c)}" for c in rows.order)
        outer_order = ", ".join(f"{y}.{q(c)}" for c in rows.order)
        obj = self._object(target, child.children, y)
        # On SQLite a LIMIT keeps the ordered subquery from being flattened into the
        # aggregate, which then takes the rows in this order.
        unflattened = " LIMIT -1" if self.dialect.name == "sqlite" else ""
        listed = (
            f"SELECT {e}.* FROM {q(target.table)} {e} WHERE {' AND '.join(where)} "
            f"ORDER BY {inner_order}{unflattened}"
        )
        array = self.dialect.array(obj, order=outer_order, where=None)
        return self.dialect.embed(f"(SELECT {array} FROM ({listed}) {y})")

    def _enum_list(self, node: NodeType, values: EnumList, child: Selection, x: str) -> str:
        """Distinct enum values of related rows, in the enum's declaration order."""
        e, y = self.alias(), self.alias()
        where = [f"{e}.{q(values.column)} = {x}.{q(node.pk)}"]
        if child.scope is not None:
            where.append(f"{e}.id IN ({self.fragment(child.scope)})")
        rank = " ".join(
            f"WHEN {self._stored(v)} THEN {i}" for i, (v, _) in enumerate(values.enum_names)
        )
        name = " ".join(f"WHEN {self._stored(v)} THEN {literal(n)}" for v, n in values.enum_names)
        listed = (
            f"SELECT DISTINCT {e}.{q(values.value)} AS v, CASE {e}.{q(values.value)} {rank} END "
            f"AS r FROM {q(values.table)} {e} WHERE {' AND '.join(where)} ORDER BY r"
        )
        array = self.dialect.array(f"CASE {y}.v {name} END", order=f"{y}.r", where=None)
        if self.dialect.name == "sqlite":
            array = f"json_group_array(CASE {y}.v {name} END)"
        return self.dialect.embed(f"(SELECT {array} FROM ({listed}) {y})")

    def _global_id(self, node: NodeType, x: str) -> str:
        text = f"{literal(node.name + ':')} || CAST({x}.{q(node.pk)} AS TEXT)"
        length = len(node.name) + 1 + INTEGER_TEXT
        return self.dialect.base64(text, max_length=length, urlsafe=False)

    def _scalar(self, column: Column, x: str) -> str:
        ref = f"{x}.{q(column.column)}"
        if column.mask is not None and not self.sees_personal:
            return self._mask(column.mask, ref)
        kind = column.kind
        if kind == "bool":
            return self.dialect.boolean(ref)
        if kind == "datetime":
            return self.dialect.datetime(ref)
        if kind == "json":
            return self.dialect.json(ref)
        if kind == "enum":
            cases = " ".join(
                f"WHEN {self._stored(value)} THEN {literal(name)}"
                for value, name in column.enum_names
            )
            return f"CASE {ref} {cases} END"
        if kind in ("int", "str", "date"):
            return ref
        raise Unsupported(column.column)

    def _stored(self, value: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise Unsupported("enum")
        return str(value) if isinstance(value, int) else literal(value)

    def _mask(self, mask: str, ref: str) -> str:
        d = self.dialect
        if mask == "hide":
            return "NULL"
        if mask == "name":
            stars = d.repeat_star(f"length({ref}) - 1")
            empty = f"{ref} IS NULL OR {ref} = ''"
            return f"CASE WHEN {empty} THEN {ref} ELSE {d.left(ref, 1)} || {stars} END"
        if mask == "phone":
            s = d.strip(ref)
            return (
                f"CASE WHEN {ref} IS NULL OR {ref} = '' THEN {ref} "
                f"WHEN length({s}) >= 7 THEN {d.left(s, 3)} || '****' || {d.right(s, 4)} "
                f"ELSE {d.repeat_star(f'length({s}) - 2')} || "
                f"CASE WHEN length({s}) = 0 THEN '' ELSE {d.right(s, 2)} END END"
            )
        raise Unsupported(mask)

    # --- connections --------------------------------------------------------------

    def _connection(
        self,
        node: NodeType,
        selection: Selection,
        parent: tuple[NodeType, ToMany, str] | None,
    ) -> str:
        page = selection.page
        assert page is not None

        def source(x: str) -> str:
            """The table (joined to the M2M table for such a relation)."""
            if parent is None or parent[1].through is None:
                return f"{q(node.table)} {x}"
            relation = parent[1]
            assert relation.through is not None and relation.through_target is not None
            return (
                f"{q(node.table)} {x} JOIN {q(relation.through)} {x}_r "
                f"ON {x}_r.{q(relation.through_target)} = {x}.{q(node.pk)}"
            )

        def conditions(x: str) -> list[str]:
            where: list[str] = []
            if parent is not None:
                owner, relation, p = parent
                if relation.fk is not None:
                    where.append(f"{x}.{q(relation.fk)} = {p}.{q(owner.pk)}")
                else:
                    assert relation.through_parent
                    where.append(f"{x}_r.{q(relation.through_parent)} = {p}.{q(owner.pk)}")
            if page.condition is not None:
                where.append(f"{x}.{q(node.pk)} IN ({self.fragment(page.condition)})")
            return where

        pairs: list[tuple[str, str]] = []
        page_needed = any(c.name in ("edges", "nodes", "pageInfo") for c in selection.children)
        p = self.alias() if page_needed else ""
        # Without pageInfo nobody asks whether more rows follow: the page is a plain
        # ORDER BY … LIMIT, with no row numbers and no extra row.
        lean = not any(c.name == "pageInfo" for c in selection.children)
        if page_needed:
            self._pages[p] = (node, lean)
        for child in selection.children:
            if child.literal is not None:
                pairs.append((child.key, literal(child.literal)))
            elif child.name == "totalCount":
                c = self.alias()
                where = conditions(c) or ["1 = 1"]
                pairs.append(
                    (
                        child.key,
                        f"(SELECT count(*) FROM {source(c)} WHERE {' AND '.join(where)})",
                    )
                )
            elif child.name in ("nodes", "edges", "pageInfo"):
                pairs.append((child.key, self._page_field(node, page, child, p)))
            else:
                raise Unsupported(f"{node.connection}.{child.name}")
        obj = self.dialect.object(pairs)
        if p not in self._rows_read:
            # Nothing selected reads the page's rows (say, only pageInfo.hasPreviousPage
            # going forwards): a plain SELECT over an empty page would give no row at all,
            # and the connection would read as null.
            return f"(SELECT {obj})"
        x = self.alias()
        where = conditions(x) + self._keyset(node, page, x)
        order = self._order(node, page, x)
        limit = self.dialect.integer(self.param(page.limit if lean else page.limit + 1))
        number = "" if lean else f", row_number() OVER (ORDER BY {order}) AS _rn"
        rows = (
            f"SELECT {x}.*{number} FROM {source(x)} WHERE {' AND '.join(where) or '1 = 1'} "
            f"ORDER BY {order} LIMIT {limit}"
        )
        if self.dialect.name == "sqlite" and page.backward:
            # json_group_array takes rows in the order they come: the page's own.
            forward = self._order(node, replace(page, backward=False), "o")
            rows = f"SELECT * FROM ({rows}) o ORDER BY {forward}"
        return f"(SELECT {obj} FROM ({rows}) {p})"

    def _in_page(self, page: Page, p: str) -> str | None:
        if self._pages[p][1]:
            return None  # a lean page holds no extra row
        return f"{p}._rn <= {self.dialect.integer(self.param(page.limit))}"

    def _out_order(self, page: Page, p: str) -> str:
        node, lean = self._pages[p]
        if lean:
            return self._order(node, replace(page, backward=False), p)
        return f"{p}._rn DESC" if page.backward else f"{p}._rn"

    def _page_field(self, node: NodeType, page: Page, child: Selection, p: str) -> str:
        d = self.dialect
        if child.name in ("nodes", "edges"):
            self._rows_read.add(p)
        if child.name == "nodes":
            obj = self._object(node, child.children, p)
            return d.array(obj, order=self._out_order(page, p), where=self._in_page(page, p))
        if child.name == "edges":
            pairs: list[tuple[str, str]] = []
            for edge_field in child.children:
                if edge_field.literal is not None:
                    pairs.append((edge_field.key, literal(edge_field.literal)))
                elif edge_field.name == "cursor":
                    pairs.append((edge_field.key, self._cursor(node, page, p)))
                elif edge_field.name == "node":
                    node_obj = self._object(node, edge_field.children, p)
                    pairs.append((edge_field.key, node_obj))
                else:
                    raise Unsupported(f"{node.edge}.{edge_field.name}")
            obj = d.object(pairs)
            return d.array(obj, order=self._out_order(page, p), where=self._in_page(page, p))
        # pageInfo

        def more() -> str:
            self._rows_read.add(p)
            return d.boolean(f"count(*) > {d.integer(self.param(page.limit))}")

        given = {True: d.boolean("1 = 1"), False: d.boolean("1 = 0")}
        info: list[tuple[str, str]] = []
        for f in child.children:
            if f.literal is not None:
                info.append((f.key, literal(f.literal)))
            elif f.name == "hasNextPage":
                info.append((f.key, given[page.before is not None] if page.backward else more()))
            elif f.name == "hasPreviousPage":
                info.append((f.key, more() if page.backward else given[page.after is not None]))
            elif f.name in ("startCursor", "endCursor"):
                self._rows_read.add(p)
                cursors = d.text_array(
                    self._cursor(node, page, p),
                    order=self._out_order(page, p),
                    where=self._in_page(page, p),
                )
                pick = d.first_of if f.name == "startCursor" else d.last_of
                info.append((f.key, pick(cursors)))
            else:
                raise Unsupported(f"PageInfo.{f.name}")
        return d.object(info)

    def _order_column(self, node: NodeType, name: str) -> tuple[str, bool, str]:
        try:
            return node.order_columns[name]
        except KeyError:
            raise Unsupported(f"{node.name}.orderBy") from None

    def _cursor(self, node: NodeType, page: Page, p: str) -> str:
        """resolvers.pagination.encode_cursor in SQL, for the kinds the dialect writes."""
        values = []
        for name, _ in page.order:
            column, _, kind = self._order_column(node, name)
            if kind not in self.dialect.cursor_kinds:
                raise Unsupported(f"{node.name}.cursor")
            values.append(self.dialect.cursor_value(f"{p}.{q(column)}", kind))
        text = literal(text_prefix(page.tag)) + " || " + " || ',' || ".join(values) + " || ']}'"
        # (only SQLite's base64 needs the length: its cursors hold integers and booleans)
        length = len(text_prefix(page.tag)) + len(values) * (INTEGER_TEXT + 1) + 2
        return self.dialect.base64(text, max_length=length, urlsafe=True)

    def _order(self, node: NodeType, page: Page, x: str) -> str:
        terms: list[str] = []
        for name, desc in page.order:
            column, nullable, _ = self._order_column(node, name)
            direction = "DESC" if desc != page.backward else "ASC"
            ref = f"{x}.{q(column)}"
            if nullable:
                terms.append(f"({ref} IS NOT NULL) {direction}")
            terms.append(f"{ref} {direction}")
        return ", ".join(terms)

    def _keyset(self, node: NodeType, page: Page, x: str) -> list[str]:
        """resolvers.pagination.keyset_q in SQL, for after and before."""
        where: list[str] = []
        for values, after in ((page.after, True), (page.before, False)):
            if values is None:
                continue
            clauses: list[str] = []
            for i, (name, desc) in enumerate(page.order):
                column, nullable, kind = self._order_column(node, name)
                if kind not in self.dialect.cursor_kinds:
                    raise Unsupported(f"{node.name}.cursor")
                ref = f"{x}.{q(column)}"
                value = _stored_value(values[i])
                greater = after != desc
                if greater:
                    compare = (
                        f"{ref} IS NOT NULL" if value is None else f"{ref} > {self.param(value)}"
                    )
                elif value is None:
                    continue
                else:
                    compare = f"{ref} < {self.param(value)}"
                    if nullable:
                        compare = f"({compare} OR {ref} IS NULL)"
                equal = []
                for (prior, _), prior_value in zip(page.order[:i], values[:i], strict=True):
                    prior_ref = f"{x}.{q(self._order_column(node, prior)[0])}"
                    equal.append(
                        f"{prior_ref} IS NULL"
                        if prior_value is None
                        else f"{prior_ref} = {self.param(_stored_value(prior_value))}"
                    )
                clauses.append("(" + " AND ".join([*equal, compare]) + ")")
            where.append("(" + " OR ".join(clauses) + ")" if clauses else "1 = 0")
        return where
