"""Filters never reach what the viewer cannot read (issue 14, finding 9).

A PARTNER reads ``compound.community`` as null; ``compounds(where: {community: {id:
{eq: …}}})`` must then answer as if the community were null too, at every depth and
inside ``and``/``or``/``not``. Expected answers come from the read matrix's own
classification (tests/test_permissions.py), not from hub.access.

CURATORs and READERs read everything but the hub's accounts and audit log, which no
domain filter can reach (resolvers.filters.INTERNAL_MODELS); the PARTNER is the role
whose row scope a relation filter can cross.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from tortoise.fields.relational import BackwardFKRelation, ManyToManyFieldInstance

from hub import models as m
from hub.enums import ActivityCategory, DeliveryMode, ServiceForce, UnitKind
from resolvers.filters import INTERNAL_MODELS
from schema.node import NODE_MODELS, TYPE_NAMES, encode_global_id
from tests.api_data import build_world, gid
from tests.test_permissions import (
    PARTNER_OWN,
    Fixture,
    _root_field,
    _run,
    expected,
    viewer,
)

pytestmark = pytest.mark.usefixtures("orm")


@pytest.fixture
async def world(unique_name: str) -> Fixture:
    """The read matrix's world: the partner's unit co-builds with one of two branches,
    another unit with the other."""
    w = await build_world(unique_name)
    other_unit = await m.CoBuildingUnit.create(name=f"{unique_name}他单位", kind=UnitKind.SCHOOL)
    await m.CoBuildingAgreement.create(
        unit=other_unit, branch=w.branches[1], signed_on=dt.date(2021, 1, 1)
    )
    other_activity = await m.ServiceActivity.create(
        title="巡逻",
        branch=w.branches[1],
        category=ActivityCategory.PATROL,
        delivery_mode=DeliveryMode.LIST,
        service_force=ServiceForce.VOLUNTEERS,
        held_at=dt.datetime(2020, 9, 1, tzinfo=dt.UTC),
    )
    await other_activity.co_building_units.add(other_unit)
    w.agreements.extend(await m.CoBuildingAgreement.filter(unit=other_unit))
    return Fixture(w, w.units[0], other_unit, other_activity)


COUNT = "query($w: {where}) {{ {field}(where: $w) {{ totalCount }} }}"


async def _count(settings: Any, who: Any, type_name: str, where: dict[str, Any]) -> int:
    field = _root_field(settings, type_name)
    query = COUNT.format(where=f"{type_name}Where", field=field)
    return (await _run(settings, who, query, w=where))[field]["totalCount"]


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part.capitalize() for part in rest)


async def _probes(f: Fixture) -> list[tuple[str, str, m.Record, str, m.Record, bool]]:
    """(type, relation, row the partner reads, kind, related row, partner reads it) for
    every relation of every row a partner reads."""
    found = []
    for type_name in PARTNER_OWN:
        model = NODE_MODELS[type_name]
        readable = await expected("partner", type_name, f)
        for row in f.rows(type_name):
            if row.pk not in readable:
                continue
            for name, field in model._meta.fields_map.items():
                related = getattr(field, "related_model", None)
                if related is None or related in INTERNAL_MODELS or related not in TYPE_NAMES:
                    continue
                if isinstance(field, BackwardFKRelation):  # also backward one-to-one
                    kind = "many"
                    targets = await related.filter(**{field.relation_field: row.pk})
                elif isinstance(field, ManyToManyFieldInstance):
                    kind = "many"
                    targets = await getattr(row, name).all()
                elif name in model._meta.fk_fields:
                    kind = "fk"
                    target_id = getattr(row, f"{name}_id")
                    targets = [await related.get(id=target_id)] if target_id else []
                else:
                    continue
                shown = await expected("partner", TYPE_NAMES[related], f)
                found += [(type_name, name, row, kind, t, t.pk in shown) for t in targets]
    return found


async def test_every_relation_filter_answers_as_the_partner_reads_it(
    settings: Any, world: Fixture
) -> None:
    fixture = world
    partner, admin = viewer("partner", fixture), viewer("admin", fixture)
    probes = await _probes(fixture)
    hidden = [p for p in probes if not p[5]]
    # The world has hidden targets behind both kinds of relation, and readable ones.
    assert {p[3] for p in hidden} == {"fk", "many"} and any(p[5] for p in probes)
    for type_name, name, row, kind, target, shown in probes:
        this = {"id": {"eq": gid(row)}}
        by_id = {"and": [this, {_camel(name): {"id": {"eq": gid(target)}}}]}
        by_in = {"and": [this, {_camel(name): {"id": {"in": [gid(target)]}}}]}
        assert await _count(settings, admin, type_name, by_id) == 1
        want = 1 if shown else 0
        for where in (by_id, by_in, {"and": [this, {"not": {"not": by_id}}]}):
            got = await _count(settings, partner, type_name, where)
            assert got == want, (type_name, name, target, where)
        # ``not`` stays the exact complement of what the partner sees.
        negated = {"and": [this, {"not": by_id}]}
        assert await _count(settings, partner, type_name, negated) == 1 - want
        if kind == "fk":
            # The relation reads as null for the partner: so do isNull and neq.
            relation = _camel(name)
            null = {"and": [this, {relation: {"id": {"isNull": True}}}]}
            has_one = {"and": [this, {relation: {}}]}
            other = {"and": [this, {relation: {"id": {"neq": gid(target)}}}]}
            assert await _count(settings, partner, type_name, null) == 1 - want
            assert await _count(settings, partner, type_name, has_one) == want
            assert await _count(settings, partner, type_name, other) == 1 - want


async def test_compound_community_probe_of_the_issue(settings: Any, world: Fixture) -> None:
    fixture = world
    partner, admin = viewer("partner", fixture), viewer("admin", fixture)
    community = gid(fixture.world.community)
    street = gid(fixture.world.street)
    readable = await expected("partner", "Compound", fixture)
    assert readable
    # compound.community reads as null for the partner
    query = "query($id: ID!) { node(id: $id) { ... on Compound { community { id } } } }"
    some = next(c for c in fixture.world.compounds if c.pk in readable)
    assert (await _run(settings, partner, query, id=gid(some)))["node"] == {"community": None}
    ours = {"id": {"in": [gid(c) for c in fixture.world.compounds]}}
    probes = [
        {"community": {"id": {"eq": community}}},
        {"community": {"id": {"in": [community]}}},
        {"community": {"street": {"id": {"eq": street}}}},
        {"or": [{"community": {"id": {"eq": community}}}, {"name": {"eq": "-"}}]},
        {"and": [{"community": {"id": {"eq": community}}}]},
        {"not": {"community": {"id": {"neq": community}}}},
        {"branches": {"community": {"id": {"eq": community}}}},
        {"branches": {"agreements": {"branch": {"community": {"id": {"eq": community}}}}}},
    ]
    for where in probes:
        assert await _count(settings, admin, "Compound", {"and": [ours, where]}) >= 1, where
        assert await _count(settings, partner, "Compound", {"and": [ours, where]}) == 0, where
    # A community id that does not exist answers exactly the same.
    missing = encode_global_id("Community", 2_000_000_000)
    for negative in ({"community": {"id": {"neq": community}}}, {"not": probes[0]}):
        for target in (community, missing):
            where = {"and": [ours, negative]}
            where = _replace(where, community, target)
            assert await _count(settings, partner, "Compound", where) == len(readable)


def _replace(value: Any, old: str, new: str) -> Any:
    if isinstance(value, dict):
        return {key: _replace(item, old, new) for key, item in value.items()}
    if isinstance(value, list):
        return [_replace(item, old, new) for item in value]
    return new if value == old else value


async def test_nested_connections_filter_the_same_way(settings: Any, world: Fixture) -> None:
    query = """
    query($unit: ID!, $community: ID!) {
      node(id: $unit) {
        ... on CoBuildingUnit {
          agreements(where: {branch: {community: {id: {eq: $community}}}}) { totalCount }
          activities(where: {branch: {community: {id: {eq: $community}}}}) { totalCount }
        }
      }
    }"""
    ids = {"unit": gid(world.unit), "community": gid(world.world.community)}
    admin = await _run(settings, viewer("admin", world), query, **ids)
    assert admin["node"]["agreements"]["totalCount"] >= 1
    assert admin["node"]["activities"]["totalCount"] >= 1
    partner = await _run(settings, viewer("partner", world), query, **ids)
    assert partner["node"] == {"agreements": {"totalCount": 0}, "activities": {"totalCount": 0}}
