"""Three read queries (roster, point, statistics), each as GraphQL and as one hand-written
PostgreSQL statement: an oracle for tests/test_read_path.py.

Each SQL statement builds, inside PostgreSQL, exactly the JSON document the hub answers
(``{"data": ...}``, same keys, same order of rows). They were the old ``bench.read``'s
queries; the read benchmark is now ``python -m bench.peer`` (bench-peer's own q1–q3).
"""

from __future__ import annotations

import base64
import json
import random
from dataclasses import dataclass
from typing import Any

# The first 50 branches, each with the compounds it covers (their property company's
# name and their owners' committee's director) and its first 20 members.
ROSTER_GRAPHQL = """\
query Roster {
  branches(first: 50) {
    nodes {
      name
      compounds {
        nodes {
          name
          propertyCompany { name }
          ownersCommittee { directorName }
        }
      }
      members(first: 20) {
        nodes { name category phone }
      }
    }
  }
}"""

ROSTER_SQL = """\
SELECT json_build_object('data', json_build_object('branches', json_build_object('nodes',
  coalesce(json_agg(json_build_object(
    'name', b.name,
    'compounds', json_build_object('nodes', (
      SELECT coalesce(json_agg(json_build_object(
        'name', c.name,
        'propertyCompany',
          CASE WHEN pc.id IS NULL THEN NULL ELSE json_build_object('name', pc.name) END,
        'ownersCommittee',
          CASE WHEN oc.id IS NULL THEN NULL
               ELSE json_build_object('directorName', oc.director_name) END
      ) ORDER BY c.id), '[]'::json)
      FROM (SELECT c.* FROM branch_compound bc JOIN compound c ON c.id = bc.compound_id
            WHERE bc.branch_id = b.id ORDER BY c.id LIMIT 50) c
      LEFT JOIN property_company pc ON pc.id = c.property_company_id
      LEFT JOIN owners_committee oc ON oc.compound_id = c.id
    )),
    'members', json_build_object('nodes', (
      SELECT coalesce(json_agg(json_build_object(
        'name', m.name, 'category', m.category, 'phone', m.phone) ORDER BY m.id), '[]'::json)
      FROM (SELECT m.id, m.name, m.category, m.phone FROM member m
            WHERE m.branch_id = b.id ORDER BY m.id LIMIT 20) m
    ))
  ) ORDER BY b.id), '[]'::json)
)))::text
FROM (SELECT id, name FROM branch ORDER BY id LIMIT 50) b"""

# One member, by global id, with its branch, community and street.
POINT_GRAPHQL = """\
query Point($id: ID!) {
  node(id: $id) {
    ... on Member {
      name
      category
      phone
      branch { name community { name street { name } } }
    }
  }
}"""

POINT_SQL = """\
SELECT json_build_object('data', json_build_object('node', json_build_object(
  'name', m.name, 'category', m.category, 'phone', m.phone,
  'branch', json_build_object('name', b.name,
    'community', json_build_object('name', c.name,
      'street', json_build_object('name', s.name))))))::text
FROM member m
JOIN branch b ON b.id = m.branch_id
JOIN community c ON c.id = b.community_id
JOIN street s ON s.id = c.street_id
WHERE m.id = $1"""

# Members per category (ACTIVE members, every category listed) and compound coverage.
STATISTICS_GRAPHQL = """\
query Statistics {
  statistics {
    members { value label count }
    coverage { branches compoundsCovered compoundsTotal coverageRate }
  }
}"""

STATISTICS_SQL = """\
SELECT json_build_object('data', json_build_object('statistics', json_build_object(
  'members', (
    SELECT json_agg(json_build_object(
      'value', k.value, 'label', k.label, 'count', coalesce(n.count, 0)) ORDER BY k.ord)
    FROM (VALUES ('DIRECT', '直管党员', 1), ('IN_SERVICE', '在职党员', 2),
                 ('RETIRED', '退休党员', 3), ('FLOATING', '流动党员', 4)) AS k(value, label, ord)
    LEFT JOIN (SELECT category, count(*) AS count FROM member WHERE status = 'ACTIVE'
               GROUP BY category) n ON n.category = k.value),
  'coverage', (
    SELECT json_build_object(
      'branches', (SELECT count(*) FROM branch),
      'compoundsCovered', covered.n,
      'compoundsTotal', total.n,
      'coverageRate', CASE WHEN total.n = 0 THEN 0.0
                      ELSE round(covered.n::numeric / total.n, 4) END)
    FROM (SELECT count(DISTINCT compound_id) AS n FROM branch_compound) covered,
         (SELECT count(*) AS n FROM compound) total)
)))::text"""

# How many different members the point query cycles through.
POINT_SAMPLE = 1000


@dataclass(frozen=True)
class Case:
    """One query: the HTTP bodies the hub gets, the SQL arguments PostgreSQL gets.

    Request ``i`` of either side reads the same record: ``bodies[i % n]`` and
    ``sql_args[i % n]``.
    """

    name: str
    graphql: str
    sql: str
    bodies: tuple[bytes, ...]
    sql_args: tuple[tuple[Any, ...], ...]


def _body(query: str, operation: str, variables: dict[str, Any] | None = None) -> bytes:
    payload: dict[str, Any] = {"query": query, "operationName": operation}
    if variables:
        payload["variables"] = variables
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def global_id(type_name: str, pk: int) -> str:
    """The hub's global id (schema.node.encode_global_id), without importing the schema."""
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def cases(member_ids: tuple[int, ...], *, seed: int = 7) -> list[Case]:
    """The three cases; the point query visits a fixed random sample of members."""
    sample = random.Random(seed).sample(list(member_ids), min(POINT_SAMPLE, len(member_ids)))
    return [
        Case(
            name="roster",
            graphql=ROSTER_GRAPHQL,
            sql=ROSTER_SQL,
            bodies=(_body(ROSTER_GRAPHQL, "Roster"),),
            sql_args=((),),
        ),
        Case(
            name="point",
            graphql=POINT_GRAPHQL,
            sql=POINT_SQL,
            bodies=tuple(
                _body(POINT_GRAPHQL, "Point", {"id": global_id("Member", pk)}) for pk in sample
            ),
            sql_args=tuple((pk,) for pk in sample),
        ),
        Case(
            name="statistics",
            graphql=STATISTICS_GRAPHQL,
            sql=STATISTICS_SQL,
            bodies=(_body(STATISTICS_GRAPHQL, "Statistics"),),
            sql_args=((),),
        ),
    ]
