"""``Query.statistics`` → one SQL statement whose value is the field's JSON.

The record queries are the statistics service's own (``hub.services.statistics``,
rendered to SQL by ``schema.compiled.statistics``): each becomes a common table
expression, referenced only when a selected field needs it, and the figures are shaped
here as the service and its GraphQL types shape them — every enum value listed in
declaration order with its label and zero where no record has it, sums of the grouped
counts, the coverage rate and the median rounded the way Python's ``round`` rounds
floats (half to even on the float's exact value, see :func:`python_round`) and written
the way the hub's JSON encoder writes floats.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from hub.enums import (
    ActivityCategory,
    DeliveryMode,
    LabeledEnum,
    MemberCategory,
    RequestCategory,
    RequestStatus,
    ServiceForce,
)
from hub.services.statistics import HOURS_DIGITS, RATE_DIGITS, STAR_RATINGS
from resolvers.compiler.dialect import literal
from resolvers.compiler.plan import Statement
from resolvers.compiler.sql import JSON_ARGUMENTS_MAX, Compiler, Unsupported, q
from resolvers.compiler.tree import Fragment, Selection

# Veltkamp's splitter for doubles (2**27 + 1): x = hi + lo, each of at most 26 bits.
SPLITTER = 134217729


@dataclass(frozen=True)
class Sources:
    """The service's record queries for one scope, year and viewer, as SQL.

    Column names are the service's: ``branches`` (star_rating, is_demonstration, n),
    ``compounds`` (total, covered, companies), ``members`` (category, n, registered),
    ``activities`` (category, delivery_mode, service_force, n, served), ``requests``
    (status, category, n), ``resolved`` (hours), ``overdue`` (id), ``committees``
    (total, party_led, cross), ``wechat`` (groups, members). ``scope`` is the scope's
    row (name), None for the whole hub.
    """

    scope: Fragment | None
    branches: Fragment
    compounds: Fragment
    members: Fragment
    activities: Fragment
    requests: Fragment
    resolved: Fragment
    overdue: Fragment
    committees: Fragment
    wechat: Fragment


@dataclass(frozen=True)
class StatisticsRequest:
    """What ``statistics(scope:, year:)`` asks for, its arguments settled."""

    sources: Sources
    level: str | None = None  # the scope level's GraphQL name; None: the whole hub
    global_id: str | None = None  # the scope's global id (a bind parameter)
    year: int | None = None


# (parent path, list field) → (enum, source, grouping column)
_ENUM_LISTS: dict[tuple[str, str], tuple[type[LabeledEnum], str, str]] = {
    ("", "members"): (MemberCategory, "members", "category"),
    ("activities", "byCategory"): (ActivityCategory, "activities", "category"),
    ("activities", "byDeliveryMode"): (DeliveryMode, "activities", "delivery_mode"),
    ("activities", "byServiceForce"): (ServiceForce, "activities", "service_force"),
    ("requests", "byStatus"): (RequestStatus, "requests", "status"),
    ("requests", "byCategory"): (RequestCategory, "requests", "category"),
}


class StatisticsCompiler:
    """Writes one ``statistics`` root field with a :class:`Compiler`'s parameters and
    dialect."""

    def __init__(self, compiler: Compiler, request: StatisticsRequest) -> None:
        self.compiler = compiler
        self.dialect = compiler.dialect
        self.request = request
        self._used: dict[str, str] = {}  # CTE name → its SQL, in order of first use

    def root(self, selection: Selection) -> Statement:
        body = self._object(selection.children, "")
        sources = self.request.sources
        source = ""
        if sources.scope is not None:
            # No scope row (not found, or not readable by the viewer): no row, NULL.
            source = f" FROM ({self.compiler.fragment(sources.scope)}) AS s"
        ctes = ", ".join(f"{name} AS ({sql})" for name, sql in self._used.items())
        expression = f"({'WITH ' + ctes + ' ' if ctes else ''}SELECT {body}{source})"
        statement = self.compiler.statement(selection.key, expression, selection.name)
        return replace(statement, required=sources.scope is not None)

    # --- shapes -------------------------------------------------------------------

    def _object(self, children: tuple[Selection, ...], path: str) -> str:
        pairs = [(child.key, self._field(child, path)) for child in children]
        if len(pairs) * 2 > JSON_ARGUMENTS_MAX:
            raise Unsupported("statistics")
        return self.dialect.object(pairs)

    def _field(self, child: Selection, path: str) -> str:
        if child.literal is not None:
            return literal(child.literal)
        name = child.name
        if (path, name) in _ENUM_LISTS:
            return self._enum_list(child, *_ENUM_LISTS[(path, name)])
        if path == "":
            return self._root_field(child)
        if path == "scope":
            return self._scope_field(name)
        if path == "coverage":
            return self._coverage_field(name)
        if path == "activities":
            if name == "count":
                return self._sum("activities", q("n"))
            if name == "residentsServed":
                return self._sum("activities", f"coalesce({q('served')}, 0)")
        if path == "requests":
            if name == "resolved":
                return f"(SELECT count(*) FROM {self._cte('resolved')})"
            if name == "overdue":
                return f"(SELECT count(*) FROM {self._cte('overdue')})"
            if name == "medianHoursToResolve":
                return self._median()
        raise Unsupported(f"statistics.{path}.{name}".replace("..", "."))

    def _root_field(self, child: Selection) -> str:
        name = child.name
        if name == "scope":
            if self.request.level is None:
                return "NULL"
            return self._object(child.children, "scope")
        if name == "year":
            if self.request.year is None:
                return "NULL"
            return self.dialect.integer(self.compiler.param(self.request.year))
        if name in ("coverage", "activities", "requests"):
            return self._object(child.children, name)
        if name == "starDistribution":
            return self._stars(child)
        sums = {
            "membersTotal": ("members", q("n")),
            "inServiceRegistered": ("members", q("registered")),
            "demonstrationBranches": (
                "branches",
                f"CASE WHEN {q('is_demonstration')} THEN {q('n')} ELSE 0 END",
            ),
        }
        if name in sums:
            return self._sum(*sums[name])
        ones = {
            "propertyCompanies": ("compounds", q("companies")),
            "ownersCommittees": ("committees", q("total")),
            "partyLedOwnersCommittees": ("committees", q("party_led")),
            "crossAppointments": ("committees", q("cross")),
            "wechatGroups": ("wechat", q("groups")),
            "wechatGroupMembers": ("wechat", f"coalesce({q('members')}, 0)"),
        }
        if name in ones:
            cte, column = ones[name]
            return f"(SELECT {column} FROM {self._cte(cte)})"
        raise Unsupported(f"statistics.{name}")

    def _scope_field(self, name: str) -> str:
        if name == "level":
            assert self.request.level is not None
            return literal(self.request.level)
        if name == "id":
            return f"CAST({self.compiler.param(self.request.global_id)} AS TEXT)"
        if name == "name":
            return f"s.{q('name')}"
        raise Unsupported(f"statistics.scope.{name}")

    def _coverage_field(self, name: str) -> str:
        if name == "branches":
            return self._sum("branches", q("n"))
        columns = {"compoundsCovered": "covered", "compoundsTotal": "total"}
        if name in columns:
            return f"(SELECT {q(columns[name])} FROM {self._cte('compounds')})"
        if name == "coverageRate":
            covered, total = q("covered"), q("total")
            ratio = f"{self._float(covered)} / nullif({total}, 0)"
            rounded = python_round(
                self.dialect.name, ratio, RATE_DIGITS, source=self._cte("compounds")
            )
            zero = self._float("0")
            return self._json_float(
                f"(SELECT CASE WHEN {total} = 0 THEN {zero} ELSE {rounded} END "
                f"FROM {self._cte('compounds')})"
            )
        raise Unsupported(f"statistics.coverage.{name}")

    def _median(self) -> str:
        """The middle one or two durations of the sorted resolved set, averaged in
        floating point (as Python sums and divides them), rounded."""
        hours = q("hours")
        middle = (
            f"SELECT {self._float(hours)} AS h, "
            f"row_number() OVER (ORDER BY {hours}) AS rn, count(*) OVER () AS c "
            f"FROM {self._cte('resolved')}"
        )
        mean = (
            f"(SELECT (min(m.h) + max(m.h)) / {self._float('2')} AS v FROM ({middle}) AS m "
            f"WHERE m.rn BETWEEN (m.c + 1) / 2 AND (m.c + 2) / 2)"
        )
        rounded = python_round(self.dialect.name, "v", HOURS_DIGITS, source=f"{mean} AS mean")
        return self._json_float(rounded)

    def _sum(self, cte: str, expression: str) -> str:
        return f"(SELECT coalesce(sum({expression}), 0) FROM {self._cte(cte)})"

    def _enum_list(self, child: Selection, enum: type[LabeledEnum], cte: str, column: str) -> str:
        values = list(enum)
        rows = " UNION ALL ".join(
            f"SELECT {i} AS o, {literal(v.value)} AS v, {literal(v.name)} AS nm, "
            f"{literal(v.label)} AS lb"
            for i, v in enumerate(values)
        )
        grouped = (
            f"SELECT {q(column)} AS k, sum({q('n')}) AS n"
            + (f", sum(coalesce({q('served')}, 0)) AS s" if cte == "activities" else "")
            + f" FROM {self._cte(cte)} GROUP BY {q(column)}"
        )
        fields = {
            "value": "e.nm",
            "label": "e.lb",
            "count": "coalesce(g.n, 0)",
            "residentsServed": "coalesce(g.s, 0)",
        }
        return self._list(child, f"({rows}) AS e LEFT JOIN ({grouped}) AS g ON g.k = e.v", fields)

    def _stars(self, child: Selection) -> str:
        rows = " UNION ALL ".join(f"SELECT {i} AS o, {s} AS v" for i, s in enumerate(STAR_RATINGS))
        grouped = (
            f"SELECT {q('star_rating')} AS k, sum({q('n')}) AS n "
            f"FROM {self._cte('branches')} GROUP BY {q('star_rating')}"
        )
        fields = {"stars": "e.v", "count": "coalesce(g.n, 0)"}
        return self._list(child, f"({rows}) AS e LEFT JOIN ({grouped}) AS g ON g.k = e.v", fields)

    def _list(self, child: Selection, source: str, fields: dict[str, str]) -> str:
        pairs: list[tuple[str, str]] = []
        for item in child.children:
            if item.literal is not None:
                pairs.append((item.key, literal(item.literal)))
            elif item.name in fields:
                pairs.append((item.key, fields[item.name]))
            else:
                raise Unsupported(f"statistics.{child.name}.{item.name}")
        if len(pairs) * 2 > JSON_ARGUMENTS_MAX:
            raise Unsupported("statistics")
        element = self.dialect.object(pairs)
        array = self.dialect.array("a.x", order="a.o", where=None)
        rows = f"SELECT e.o AS o, {element} AS x FROM {source} ORDER BY e.o"
        return self.dialect.embed(f"(SELECT {array} FROM ({rows}) AS a)")

    # --- pieces -------------------------------------------------------------------

    def _cte(self, name: str) -> str:
        alias = f"st_{name}"  # never a table's name
        if alias not in self._used:
            fragment: Fragment = getattr(self.request.sources, name)
            self._used[alias] = self.compiler.fragment(fragment)
        return alias

    def _float(self, expression: str) -> str:
        kind = "double precision" if self.dialect.name == "postgres" else "REAL"
        return f"CAST({expression} AS {kind})"

    def _json_float(self, expression: str) -> str:
        """A double as the hub's JSON encoder writes it (orjson: shortest round-trip
        digits, ``1.0`` for a whole number). SQLite's JSON writes a REAL with 15
        significant digits and a ``.0``, which is the same for the few digits these
        figures have; PostgreSQL's text of a double is the shortest one, without it."""
        if self.dialect.name != "postgres":
            return expression
        return (
            f"(SELECT CASE WHEN f.t IS NULL THEN NULL WHEN f.t ~ '[.eEnN]' THEN f.t::json "
            f"ELSE (f.t || '.0')::json END "
            # OFFSET 0 keeps the planner from copying the expression into each use of t.
            f"FROM (SELECT CAST({expression} AS text) AS t OFFSET 0) AS f)"
        )


def python_round(dialect: str, value: str, digits: int, *, source: str) -> str:
    """``round(value, digits)`` as Python rounds a float: the float's exact value times
    10**digits rounded half to even, divided back (a correctly rounded division).

    ``value`` is a double read from ``source`` (a FROM item); a scalar subquery, NULL
    when ``value`` is NULL or ``source`` has no row. The exact product is Dekker's
    two-product of ``value * 2**digits`` (exact) and ``5**digits``: its rounded value
    and its error, both doubles, so no database needs more than IEEE arithmetic.
    """

    def f(text: str) -> str:
        return f"CAST({text} AS {'double precision' if dialect == 'postgres' else 'REAL'})"

    scale, five, ten = f(str(2**digits)), f(str(5**digits)), f(str(10**digits))
    split, half = f(str(SPLITTER)), f("0.5")
    if dialect == "postgres":
        floor = "floor(p)"
        odd = "(f - 2 * floor(f / 2)) <> 0"
    else:
        floor = "(CAST(p AS INTEGER) - (CASE WHEN p < CAST(p AS INTEGER) THEN 1 ELSE 0 END))"
        odd = "(CAST(f AS INTEGER) % 2) <> 0"
    y = f"SELECT ({value}) * {scale} AS y FROM {source}"
    c = f"SELECT y, {split} * y AS c FROM ({y}) AS l1"
    hi = f"SELECT y, c - (c - y) AS hi FROM ({c}) AS l2"
    product = f"SELECT y * {five} AS p, hi, y - hi AS lo FROM ({hi}) AS l3"
    error = f"SELECT p, (hi * {five} - p) + lo * {five} AS e FROM ({product}) AS l4"
    floored = f"SELECT p, e, {floor} AS f FROM ({error}) AS l5"
    delta = f"SELECT f, ((p - f) - {half}) + e AS d FROM ({floored}) AS l6"
    rounded = (
        f"SELECT CASE WHEN d > 0 OR (d = 0 AND {odd}) THEN f + 1 ELSE f END AS n "
        f"FROM ({delta}) AS l7"
    )
    return f"(SELECT n / {ten} FROM ({rounded}) AS l8)"
