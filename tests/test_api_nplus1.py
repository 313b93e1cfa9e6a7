"""N+1-free: the statements a nested query sends do not grow with the page size."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from pypika_tortoise import Table
from tortoise import connections

from hub import models as m
from hub.enums import Duty, MemberCategory
from hub.settings import Settings
from tests.api_data import credit_code, data, gid
from tests.conftest import count_statements

pytestmark = pytest.mark.usefixtures("orm")

BRANCHES = 105

FIELDS = """
  totalCount
  pageInfo { hasNextPage endCursor }
  edges {
    cursor
    node {
      name
      community { name }
      compounds(first: 10) {
        totalCount
        nodes {
          name
          propertyCompany { name }
          ownersCommittee { directorName directorMember { name } }
        }
      }
      members(first: 20) {
        totalCount
        nodes { name category phone duties branch { name } }
      }
    }
  }
"""
NESTED = (
    "query($community: ID!, $n: Int!) { node(id: $community) { ... on Community {"
    f" branches(first: $n) {{ {FIELDS} }} }} }} }}"
)
ROOT = (
    "query($community: ID!, $n: Int!) {"
    f" branches(first: $n, where: {{community: {{id: {{eq: $community}}}}}}) {{ {FIELDS} }} }}"
)


@dataclass
class Roster:
    community: m.Community
    branches: int


async def _roster(name: str) -> Roster:
    """A community with 105 branches, each covering 2 compounds and having 3 members."""
    district = await m.District.create(name=f"{name}区")
    street = await m.Street.create(district=district, name=f"{name}街道")
    community = await m.Community.create(street=street, name=f"{name}社区")
    companies = [
        m.PropertyCompany(name=f"{name}物业{i}", credit_code=credit_code(f"{name}{i}"))
        for i in range(BRANCHES + 1)
    ]
    compounds = [
        m.Compound(community=community, name=f"{name}小区{i}") for i in range(BRANCHES + 1)
    ]
    branches = [m.Branch(community=community, name=f"{name}支部{i}") for i in range(BRANCHES)]
    for batch in (companies, compounds, branches):
        for row in batch:
            row.refresh_search_text()
    await m.PropertyCompany.bulk_create(companies)
    company_ids = (
        await m.PropertyCompany.filter(name__startswith=name)
        .order_by("id")
        .values_list("id", flat=True)
    )
    for compound, company_id in zip(compounds, company_ids, strict=True):
        compound.property_company_id = company_id
    await m.Compound.bulk_create(compounds)
    await m.Branch.bulk_create(branches)
    compound_ids = (
        await m.Compound.filter(community=community).order_by("id").values_list("id", flat=True)
    )
    branch_ids = (
        await m.Branch.filter(community=community).order_by("id").values_list("id", flat=True)
    )
    members = [
        m.Member(
            name=f"党员{b}-{k}",
            category=list(MemberCategory)[k],
            branch_id=branch_id,
            phone="13800000000" if k else None,
        )
        for b, branch_id in enumerate(branch_ids)
        for k in range(3)
    ]
    for member in members:
        member.refresh_search_text()
    await m.Member.bulk_create(members)
    member_ids = (
        await m.Member.filter(branch_id__in=branch_ids).order_by("id").values_list("id", flat=True)
    )
    await m.MemberDuty.bulk_create(
        [m.MemberDuty(member_id=i, duty=Duty.ORDERLY) for i in member_ids]
    )
    await m.OwnersCommittee.bulk_create(
        [
            m.OwnersCommittee(compound_id=cid, director_name="主任", director_member_id=mid)
            for cid, mid in zip(compound_ids, member_ids, strict=False)
        ]
    )
    db = connections.get("default")
    links = [(bid, compound_ids[i + j]) for i, bid in enumerate(branch_ids) for j in (0, 1)]
    insert = db.query_class.into(Table("branch_compound")).columns("branch_id", "compound_id")
    await db.execute_query(*insert.insert(*links).get_parameterized_sql())
    return Roster(community=community, branches=len(branch_ids))


@pytest.mark.parametrize("query", [NESTED, ROOT], ids=["relation", "root"])
async def test_nested_query_statements_do_not_grow_with_page_size(
    settings: Settings, unique_name: str, query: str
) -> None:
    roster = await _roster(unique_name)
    counts = {}
    for size in (5, 100):
        # When the same nested query asks for 5 and then 100 branches
        with count_statements() as counter:
            answer = await data(settings, query, community=gid(roster.community), n=size)
        counts[size] = counter.count
        page = answer["node"]["branches"] if "node" in answer else answer["branches"]
        # Then the pages really are that big, every level filled
        assert page["totalCount"] == roster.branches
        assert len(page["edges"]) == size
        for edge in page["edges"]:
            branch = edge["node"]
            assert branch["compounds"]["totalCount"] == len(branch["compounds"]["nodes"]) == 2
            assert branch["members"]["totalCount"] == len(branch["members"]["nodes"]) == 3
            for compound in branch["compounds"]["nodes"]:
                assert compound["propertyCompany"]["name"].startswith(unique_name)
                assert compound["ownersCommittee"]["directorMember"]["name"].startswith("党员")
            for member in branch["members"]["nodes"]:
                assert member["duties"] == ["ORDERLY"]
                assert member["branch"]["name"] == branch["name"]
    # And the statement count is the same, one per level and relation
    assert counts[5] == counts[100], counts
    assert counts[100] <= 14, counts
