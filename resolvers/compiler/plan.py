"""The plan cache: compiled statements by (document, operation, scope shape, variables).

A hit costs a dictionary lookup; the least recently used plans are dropped beyond the
size. Values bound to the viewer (a partner's unit) are placeholders in the plan,
filled per request (see :class:`ViewerValue`).
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ViewerValue:
    """A parameter taken from the viewer at execution (e.g. ``unit_id``)."""

    attribute: str


@dataclass(frozen=True)
class VariableValue:
    """A parameter taken from the request's variables at execution, through ``read``
    (e.g. the primary key in the global id ``$id``): the plan serves every value."""

    name: str
    read: Callable[[Any], Any]


@dataclass(frozen=True)
class ClockValue:
    """The request's clock (an aware UTC datetime), one reading per request."""


CLOCK = ClockValue()


@dataclass(frozen=True)
class Statement:
    """One root field's SQL: its response key, the text and the parameters."""

    key: str
    sql: str
    params: tuple[Any, ...]
    field: str = ""  # the root field's name (a bounded metrics label; the key is an alias)
    # The answer's JSON when it needs no database (a root ``__typename``): not sent.
    constant: str | None = None
    # A NULL answer means the resolvers must answer (a statistics scope not found or not
    # readable: their error, with its message and code).
    required: bool = False

    def bind(
        self,
        viewer: Any,
        variables: Mapping[str, Any] | None = None,
        now: dt.datetime | None = None,
    ) -> list[Any]:
        values: list[Any] = []
        for p in self.params:
            if isinstance(p, ClockValue):
                values.append(now or dt.datetime.now(dt.UTC))
            elif isinstance(p, ViewerValue):
                values.append(getattr(viewer, p.attribute))
            elif isinstance(p, VariableValue):
                values.append(p.read((variables or {}).get(p.name)))
            else:
                values.append(p)
        return values


@dataclass(frozen=True)
class Plan:
    """What a query operation compiles to: one statement per root field, in order.

    ``fallback`` names the first root field that cannot be compiled (then the whole
    operation takes the resolver path) and is None for a compiled plan.
    """

    statements: tuple[Statement, ...] = ()
    fallback: str | None = None
    detail: str = ""  # the field inside it that the compiler cannot express
    operation: str | None = None  # the operation's name, for metrics


def _weight(plan: Plan) -> int:
    return sum(len(s.sql) for s in plan.statements) + 200


class PlanCache:
    """Least recently used plans, at most ``size`` of them and ``budget`` characters of
    SQL (a plan for a wide query on SQLite can be a few hundred kilobytes)."""

    def __init__(self, size: int = 2048, budget: int = 16_000_000) -> None:
        self.size = size
        self.budget = budget
        self._plans: OrderedDict[Hashable, Plan] = OrderedDict()
        self._weight = 0

    def get(self, key: Hashable) -> Plan | None:
        plan = self._plans.get(key)
        if plan is not None:
            self._plans.move_to_end(key)
        return plan

    def put(self, key: Hashable, plan: Plan) -> None:
        old = self._plans.pop(key, None)
        if old is not None:
            self._weight -= _weight(old)
        self._plans[key] = plan
        self._weight += _weight(plan)
        while self._plans and (len(self._plans) > self.size or self._weight > self.budget):
            _, dropped = self._plans.popitem(last=False)
            self._weight -= _weight(dropped)

    def __len__(self) -> int:
        return len(self._plans)
