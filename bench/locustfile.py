"""The load test's users: each acts, request by request, as an ADMIN at the district
dashboards, a CURATOR working one street, or a PARTNER reading its agreements.
Run by ``python -m bench.load_test``.

Each request is named ``<kind>: <what>`` (kind: read, search, stats, write) so the
report can group them. A request fails when the status is not 200, when the body has
GraphQL ``errors``, or when a mutation's payload has ``errors``.

The ids and tokens come from the JSON file named by ``LOAD_TEST_FIXTURE`` (written by
the load test after seeding); by hand, with a kept database (``--keep-db``):

    LOAD_TEST_FIXTURE=fixture.json locust -f bench/locustfile.py --host http://127.0.0.1:8000
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
from typing import Any

from locust import FastHttpUser, constant, events, task

from bench.load_report import graphql_problem

ROSTER = """query Roster($id: ID!) { node(id: $id) { ... on Branch {
  name starRating isDemonstration workMethod community { name street { name } }
  compounds(first: 10) { nodes { name households isOld } }
  members(first: 50) { totalCount nodes { name category status duties isDemonstrationPost } }
} } }"""

COMPOUND = """query Compound($id: ID!) { node(id: $id) { ... on Compound {
  name address households builtYear isOld community { name street { name } }
  propertyCompany { name creditCode hasPartyOrganisation }
  ownersCommittee { directorName isPartyLed seats }
  branches(first: 5) { nodes { name starRating instructorName } }
} } }"""

SEARCH_MEMBERS = """query SearchMembers($q: String!) {
  members(search: $q, first: 20) { totalCount nodes { name category branch { name } } }
}"""

SEARCH_COMPOUNDS = """query SearchCompounds($q: String!) {
  compounds(search: $q, first: 20) { totalCount nodes { name households community { name } } }
}"""

DASHBOARD = """query Dashboard($scope: StatisticsScopeInput, $year: Int) {
  statistics(scope: $scope, year: $year) {
    scope { level name }
    coverage { branches compoundsCovered compoundsTotal coverageRate }
    members { value label count } membersTotal demonstrationBranches
    starDistribution { stars count }
    activities { count residentsServed byCategory { value count residentsServed } }
    requests { resolved overdue medianHoursToResolve byStatus { value count } }
    propertyCompanies ownersCommittees partyLedOwnersCommittees crossAppointments
    wechatGroups wechatGroupMembers inServiceRegistered
  }
}"""

AGREEMENTS = """query Agreements { coBuildingAgreements(first: 20) { totalCount nodes {
  title status signedOn endsOn unit { name } branch { name compounds(first: 5) { nodes { name } } }
} } }"""

REPORT = """mutation Report($input: ReportRequestInput!) {
  reportRequest(input: $input) { request { id status } errors { field code message } }
}"""

RECORD = """mutation Record($input: RecordActivityInput!) {
  recordActivity(input: $input) { activity { id } errors { field code message } }
}"""

REQUEST_CATEGORIES = ("ENVIRONMENT", "PARKING", "SURVEILLANCE", "PROPERTY_SERVICE", "FACILITIES")
ACTIVITY_CATEGORIES = ("ENVIRONMENT", "CLINIC", "PATROL", "LEGAL_ADVICE", "AFTER_SCHOOL")
SERVICE_FORCES = ("PARTY_MEMBERS", "GRID_WORKERS", "VOLUNTEERS", "PROPERTY_COMPANY")


def _fixture() -> dict[str, Any]:
    path = os.environ.get("LOAD_TEST_FIXTURE")
    if not path:
        raise SystemExit("LOAD_TEST_FIXTURE must name the fixture JSON (python -m bench.load_test)")
    with open(path, encoding="utf-8") as file:
        return dict(json.load(file))


FIXTURE = _fixture()


class ReadingUser(FastHttpUser):
    """One client of /graphql, closed loop (no think time), reading as the three roles:
    6/19 dashboards, 10/19 reads, 3/19 searches (``python -m bench.load_test --no-writes``).
    """

    wait_time = constant(0)

    def on_start(self) -> None:
        self.tokens = {
            role: {"Authorization": f"Bearer {FIXTURE[f'{role}_token']}"}
            for role in ("admin", "curator", "partner")
        }

    def graphql(
        self, role: str, name: str, query: str, variables: dict[str, Any] | None = None
    ) -> None:
        body = {"query": query, "variables": variables or {}}
        headers = self.tokens[role]
        with self.client.post(
            "/graphql", json=body, headers=headers, name=name, catch_response=True
        ) as response:
            problem = graphql_problem(response.status_code, response.text)
            if problem:
                response.failure(problem)
            else:
                response.success()

    # ADMIN: the district dashboards (the same few, again and again), rosters, search.

    @task(4)
    def district_dashboard(self) -> None:
        scope = {"level": "DISTRICT", "id": random.choice(FIXTURE["district_ids"])}
        variables = {"scope": scope, "year": 2020}
        self.graphql("admin", "stats: district dashboard", DASHBOARD, variables)

    @task(3)
    def roster(self) -> None:
        branch = random.choice(FIXTURE["branch_ids"])
        self.graphql("admin", "read: branch roster", ROSTER, {"id": branch})

    @task(3)
    def compound(self) -> None:
        compound = random.choice(FIXTURE["compound_ids"])
        self.graphql("admin", "read: compound", COMPOUND, {"id": compound})

    @task(1)
    def search_members(self) -> None:
        term = random.choice(FIXTURE["member_terms"])
        self.graphql("admin", "search: members (汉字)", SEARCH_MEMBERS, {"q": term})

    @task(1)
    def search_compounds(self) -> None:
        term = random.choice(FIXTURE["compound_initials"])
        self.graphql("admin", "search: compounds (拼音首字母)", SEARCH_COMPOUNDS, {"q": term})

    # CURATOR of one street: its dashboard and rosters.

    @task(2)
    def street_dashboard(self) -> None:
        scope = {"level": "STREET", "id": FIXTURE["curator_street_id"]}
        variables = {"scope": scope, "year": 2020}
        self.graphql("curator", "stats: street dashboard", DASHBOARD, variables)

    @task(3)
    def street_roster(self) -> None:
        branch = random.choice(FIXTURE["curator_branch_ids"])
        self.graphql("curator", "read: branch roster (street)", ROSTER, {"id": branch})

    @task(1)
    def street_search(self) -> None:
        term = random.choice(FIXTURE["curator_compound_initials"])
        self.graphql("curator", "search: compounds (拼音首字母)", SEARCH_COMPOUNDS, {"q": term})

    # PARTNER: a co-building unit reading its own agreements.

    @task(1)
    def agreements(self) -> None:
        self.graphql("partner", "read: partner agreements", AGREEMENTS)


class HubUser(ReadingUser):
    """The full mix: a CURATOR also reports requests and records activities:
    6/21 dashboards, 10/21 reads, 3/21 searches, 2/21 writes."""

    @task(1)
    def report_request(self) -> None:
        request = {
            "compoundId": random.choice(FIXTURE["curator_compound_ids"]),
            "category": random.choice(REQUEST_CATEGORIES),
            "channel": "WECHAT_GROUP",
            "description": "压测：楼道堆放杂物，请物业清理 (load test)",
        }
        self.graphql("curator", "write: reportRequest", REPORT, {"input": request})

    @task(1)
    def record_activity(self) -> None:
        activity = {
            "title": "压测：周末环境整治 (load test)",
            "branchId": random.choice(FIXTURE["curator_branch_ids"]),
            "category": random.choice(ACTIVITY_CATEGORIES),
            "deliveryMode": "LIST",
            "serviceForce": random.choice(SERVICE_FORCES),
            "heldAt": dt.datetime.now(dt.UTC).isoformat(),
            "residentsServed": random.randint(5, 60),
        }
        self.graphql("curator", "write: recordActivity", RECORD, {"input": activity})


@events.test_stop.add_listener
def _write_errors(environment: Any, **_: Any) -> None:
    """The distinct failures and their counts, for the report (LOAD_TEST_ERRORS)."""
    path = os.environ.get("LOAD_TEST_ERRORS")
    if path and environment.runner is not None:
        with open(path, "w", encoding="utf-8") as file:
            json.dump(list(environment.runner.stats.serialize_errors().values()), file)
