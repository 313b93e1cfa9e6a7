"""How each database writes the JSON the compiler asks for.

PostgreSQL builds ``json`` values (``json_build_object``, ``json_agg``); SQLite builds
JSON text (``json_object``, ``json_group_array``) and needs ``json(…)`` around a value
that is JSON already when it comes out of a subquery. Base64 (global ids, cursors) is
``encode`` on PostgreSQL and an unrolled expression on SQLite, which has none.
"""

from __future__ import annotations

import sys

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
B64_URL = B64[:-2] + "-_"

# What Python's str.strip() strips: the personal-data masks strip before masking.
WHITESPACE = "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())


def literal(text: str) -> str:
    """A SQL string literal of a constant the hub itself wrote (never client input)."""
    return "'" + text.replace("'", "''") + "'"


class Dialect:
    name = "base"

    def object(self, pairs: list[tuple[str, str]]) -> str:
        raise NotImplementedError

    def embed(self, subquery: str) -> str:
        """A subquery's JSON value inside an object or an aggregate."""
        raise NotImplementedError

    def array(self, element: str, *, order: str, where: str | None) -> str:
        """The JSON array of ``element`` over the rows where ``where``, in ``order``."""
        raise NotImplementedError

    def boolean(self, expression: str) -> str:
        raise NotImplementedError

    def datetime(self, column: str) -> str:
        raise NotImplementedError

    def json(self, column: str) -> str:
        """A JSON column's value as JSON (not as a string holding JSON)."""
        raise NotImplementedError

    def base64(self, text: str, *, max_length: int, urlsafe: bool) -> str:
        raise NotImplementedError

    def text_of_int(self, column: str) -> str:
        return f"coalesce(CAST({column} AS TEXT), 'null')"

    # Kinds of ordered columns whose cursors this dialect writes (see cursor_value).
    cursor_kinds = frozenset({"int", "bool"})

    def cursor_value(self, column: str, kind: str) -> str:
        """A cursor value's JSON text, as resolvers.pagination.encode_cursor writes it."""
        if kind == "int":
            return self.text_of_int(column)
        if kind == "bool":
            return (
                f"CASE WHEN {column} IS NULL THEN 'null' "
                f"WHEN {column} THEN 'true' ELSE 'false' END"
            )
        raise LookupError(kind)

    def integer(self, placeholder: str) -> str:
        return f"CAST({placeholder} AS INTEGER)"

    def first_of(self, array: str) -> str:
        raise NotImplementedError

    def last_of(self, array: str) -> str:
        raise NotImplementedError

    def text_array(self, element: str, *, order: str, where: str | None) -> str:
        raise NotImplementedError

    def repeat_star(self, count: str) -> str:
        raise NotImplementedError

    def strip(self, column: str) -> str:
        raise NotImplementedError

    def left(self, text: str, n: int) -> str:
        return f"substr({text}, 1, {n})"

    def right(self, text: str, n: int) -> str:
        raise NotImplementedError

    def finish(self, expression: str) -> str:
        """The statement's one value, as text."""
        raise NotImplementedError


class Postgres(Dialect):
    name = "postgres"

    def object(self, pairs: list[tuple[str, str]]) -> str:
        return "json_build_object(" + ", ".join(f"{literal(k)}, {v}" for k, v in pairs) + ")"

    def embed(self, subquery: str) -> str:
        return subquery

    def array(self, element: str, *, order: str, where: str | None) -> str:
        return f"coalesce(json_agg({element} ORDER BY {order}){_filter(where)}, '[]')"

    def text_array(self, element: str, *, order: str, where: str | None) -> str:
        return f"(array_agg({element} ORDER BY {order}){_filter(where)})"

    def first_of(self, array: str) -> str:
        return f"{array}[1]"

    def last_of(self, array: str) -> str:
        return f"{array}[array_upper({array}, 1)]"

    def boolean(self, expression: str) -> str:
        return f"({expression})"

    # Text takes to_json, which escapes exactly as Python's json.dumps(ensure_ascii=False);
    # SQLite's unrolled base64 reads characters, not UTF-8 bytes, so it keeps to int/bool.
    cursor_kinds = frozenset({"int", "bool", "str", "date", "datetime"})

    def cursor_value(self, column: str, kind: str) -> str:
        if kind in ("str", "date"):
            return f"coalesce(to_json({column})::text, 'null')"
        if kind == "datetime":
            return f"coalesce('\"' || {self.datetime(column)} || '\"', 'null')"
        return super().cursor_value(column, kind)

    def json(self, column: str) -> str:
        return column  # jsonb: json_build_object and json_agg embed it as it is

    def datetime(self, column: str) -> str:
        # Python's isoformat: microseconds only when not zero, the offset as +00:00.
        utc = f"({column} AT TIME ZONE 'UTC')"
        return (
            f"CASE WHEN {column} IS NULL THEN NULL ELSE "
            f"to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || "
            f"CASE WHEN to_char({utc}, 'US') = '000000' THEN '' "
            f"ELSE '.' || to_char({utc}, 'US') END || '+00:00' END"
        )

    def base64(self, text: str, *, max_length: int, urlsafe: bool) -> str:
        encoded = f"encode(convert_to({text}, 'UTF8'), 'base64')"
        if urlsafe:
            return f"translate({encoded}, '+/' || chr(10), '-_')"
        return f"replace({encoded}, chr(10), '')"

    def repeat_star(self, count: str) -> str:
        return f"repeat('*', greatest({count}, 0))"

    def strip(self, column: str) -> str:
        return f"btrim({column}, {literal(WHITESPACE)})"

    def right(self, text: str, n: int) -> str:
        return f"right({text}, {n})"

    def integer(self, placeholder: str) -> str:
        return f"{placeholder}::int"

    def finish(self, expression: str) -> str:
        return f"({expression})::text"


class Sqlite(Dialect):
    name = "sqlite"

    def object(self, pairs: list[tuple[str, str]]) -> str:
        return "json_object(" + ", ".join(f"{literal(k)}, {v}" for k, v in pairs) + ")"

    def embed(self, subquery: str) -> str:
        return f"json({subquery})"

    def array(self, element: str, *, order: str, where: str | None) -> str:
        # Rows reach the aggregate in the order of the (ordered) page subquery.
        return f"json_group_array(json({element})){_filter(where)}"

    def text_array(self, element: str, *, order: str, where: str | None) -> str:
        return f"json_group_array({element}){_filter(where)}"

    def first_of(self, array: str) -> str:
        return f"json_extract({array}, '$[0]')"

    def last_of(self, array: str) -> str:
        return f"json_extract({array}, '$[#-1]')"

    def boolean(self, expression: str) -> str:
        return (
            f"json(CASE WHEN ({expression}) IS NULL THEN NULL "
            f"WHEN ({expression}) THEN 'true' ELSE 'false' END)"
        )

    def json(self, column: str) -> str:
        return f"json({column})"  # stored as text: json() makes it JSON again

    def datetime(self, column: str) -> str:
        # Stored by Tortoise as isoformat(" ") in UTC; read back as isoformat().
        return f"replace({column}, ' ', 'T')"

    def base64(self, text: str, *, max_length: int, urlsafe: bool) -> str:
        alphabet = literal(B64_URL if urlsafe else B64)

        def byte(i: int) -> str:
            return f"unicode(substr({text}, {i}, 1))"

        def char(index: str) -> str:
            return f"substr({alphabet}, ({index}) + 1, 1)"

        # printf keeps the expression flat (a long || chain overflows SQLite's parser).
        groups = []
        for start in range(1, max_length + 1, 3):
            b0, b1, b2 = byte(start), byte(start + 1), byte(start + 2)
            c0 = char(f"{b0} >> 2")
            c1 = char(f"(({b0} & 3) << 4) | (coalesce({b1}, 0) >> 4)")
            c2 = (
                f"CASE WHEN {b1} IS NULL THEN '=' "
                f"ELSE {char(f'(({b1} & 15) << 2) | (coalesce({b2}, 0) >> 6)')} END"
            )
            c3 = f"CASE WHEN {b2} IS NULL THEN '=' ELSE {char(f'{b2} & 63')} END"
            groups.append(
                f"CASE WHEN {b0} IS NULL THEN '' "
                f"ELSE printf('%s%s%s%s', {c0}, {c1}, {c2}, {c3}) END"
            )
        return f"printf('{'%s' * len(groups)}', {', '.join(groups)})"

    def repeat_star(self, count: str) -> str:
        return f"replace(hex(zeroblob(max({count}, 0))), '00', '*')"

    def strip(self, column: str) -> str:
        return f"trim({column}, {literal(WHITESPACE)})"

    def right(self, text: str, n: int) -> str:
        return f"substr({text}, -{n})"

    def finish(self, expression: str) -> str:
        return expression


def _filter(where: str | None) -> str:
    return f" FILTER (WHERE {where})" if where else ""


def dialect_for(name: str) -> Dialect:
    """``postgres`` or ``sqlite`` (a Tortoise client's ``capabilities.dialect``)."""
    if name == "postgres":
        return Postgres()
    if name == "sqlite":
        return Sqlite()
    raise LookupError(f"no SQL dialect for {name}")
