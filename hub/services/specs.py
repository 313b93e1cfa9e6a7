"""One declarative spec per curated entity: what may be written and which rules hold.

``hub.services.records`` reads these and nothing else, so adding a field to the
console and the API is one line here. Lengths come from the model's own columns.
Cross-field rules that need the database are small async ``checks``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tortoise.models import Model

from hub import models as m
from hub.enums import (
    ActivityCategory,
    AgreementStatus,
    DeliveryMode,
    Duty,
    Gender,
    MemberCategory,
    MemberStatus,
    Representative,
    RoomKind,
    SeatBackground,
    SeatRole,
    ServiceForce,
    StreetKind,
    UnitKind,
)
from hub.search import fold
from hub.services.errors import UNIQUE, VALIDATION, ErrorBag
from hub.services.fields import (
    FieldSpec,
    Kind,
    boolean,
    choice,
    credit_code,
    date,
    datetime,
    enum_set,
    fk,
    integer,
    m2m,
    phone,
    text,
)

WRITE = "write"
READ = "read"

# What a record of each model is called in messages (also for dependents of a deletion).
MODEL_LABELS: dict[type[Model], str] = {
    m.District: "区",
    m.Street: "街道",
    m.Community: "社区",
    m.Compound: "小区",
    m.Building: "楼栋",
    m.Branch: "小区党支部",
    m.CommitteeSeat: "支委",
    m.PartyGroup: "楼栋党小组",
    m.Member: "党员",
    m.MemberDuty: "党员职责",
    m.PropertyCompany: "物业企业",
    m.OwnersCommittee: "业委会",
    m.CoBuildingUnit: "共建单位",
    m.CoBuildingAgreement: "共建协议",
    m.Venue: "阵地",
    m.VenueRoom: "功能室",
    m.ServiceActivity: "服务活动",
    m.WeChatGroup: "小区微信群",
    m.JointMeeting: "联席会议",
    m.ResidentRequest: "居民诉求",
    m.RequestEvent: "诉求流转记录",
    m.User: "账号",
}


class ArchivePolicy(StrEnum):
    DELETE = "DELETE"  # delete, refused while anything depends on the record
    STATUS = "STATUS"  # keep the row, set a status (members are never hard-deleted)


# (state after the write, keys this write changes, where to put errors)
Check = Callable[[dict[str, Any], set[str], ErrorBag], Awaitable[None]]


@dataclass(frozen=True)
class UniqueRule:
    """``key`` is unique within ``within`` (a parent FK key, or the whole table)."""

    key: str
    within: str | None = None
    folded: bool = True  # compare fold()ed values: 華晨御園 == 华晨御园
    message: str = ""


@dataclass(frozen=True)
class EntitySpec:
    name: str
    model: type[Model]
    fields: tuple[FieldSpec, ...]
    unique: tuple[UniqueRule, ...] = ()
    archive: ArchivePolicy = ArchivePolicy.DELETE
    archive_status: tuple[str, Any] | None = None
    # Backward relations that are part of the record and go with it (DB cascades them).
    owned: tuple[str, ...] = ()
    checks: tuple[Check, ...] = ()

    @property
    def label(self) -> str:
        return MODEL_LABELS[self.model]

    def field(self, key: str) -> FieldSpec:
        return next(spec for spec in self.fields if spec.key == key)


def spec(name: str, model: type[Model], *fields: FieldSpec, **options: Any) -> EntitySpec:
    """An EntitySpec whose text fields take their length and nullability from the model."""
    sized = tuple(_sized(model, f) for f in fields)
    return EntitySpec(name, model, sized, **options)


def _sized(model: type[Model], f: FieldSpec) -> FieldSpec:
    if f.kind is not Kind.TEXT:
        return f
    column = model._meta.fields_map[f.target]
    length = f.max_length or getattr(column, "max_length", None)
    return dataclasses.replace(f, max_length=length, null=column.null)


# --- cross-field checks --------------------------------------------------------------


def _this_year() -> int:
    return dt.date.today().year


async def _branch_covers_own_community(
    values: dict[str, Any], changed: set[str], errors: ErrorBag
) -> None:
    ids, community_id = values.get("compound_ids"), values.get("community_id")
    if not ids or community_id is None:
        return
    foreign = (
        await m.Compound.filter(id__in=ids)
        .exclude(community_id=community_id)
        .values_list("id", flat=True)
    )
    if foreign:
        errors.add(
            "compound_ids",
            f"所覆盖的小区须属于本支部所在社区：{_ids(foreign)} 不属于"
            " (compounds of another community)",
        )


async def _group_inside_branch(values: dict[str, Any], changed: set[str], errors: ErrorBag) -> None:
    branch_id = values.get("branch_id")
    if branch_id is None:
        return
    leader_id = values.get("leader_id")
    if leader_id and not await m.Member.exists(id=leader_id, branch_id=branch_id):
        errors.add("leader_id", "党小组组长须是本支部党员 (leader not in this branch)")
    building_ids = values.get("building_ids")
    if building_ids:
        covered = set(await m.Branch.filter(id=branch_id).values_list("compounds__id", flat=True))
        buildings = await m.Building.filter(id__in=building_ids).values_list("id", "compound_id")
        outside = [b for b, compound in buildings if compound not in covered]
        if outside:
            errors.add(
                "building_ids",
                f"楼栋须在本支部覆盖的小区内：{_ids(outside)} 不在 (building outside the branch)",
            )


async def _member_rules(values: dict[str, Any], changed: set[str], errors: ErrorBag) -> None:
    group_id, branch_id = values.get("party_group_id"), values.get("branch_id")
    if group_id and branch_id and not await m.PartyGroup.exists(id=group_id, branch_id=branch_id):
        errors.add("party_group_id", "党小组须属于所在支部 (party group of another branch)")
    for key, message in member_date_errors(values.get("birth_date"), values.get("joined_party_on")):
        errors.add(key, message)
    name, number = values.get("name"), values.get("phone")
    active = values.get("status") in (None, MemberStatus.ACTIVE)
    if name and number and active and changed & {"name", "phone", "status"}:
        twins = await duplicate_members([(name, number)], exclude_id=values.get("id"))
        if twins:
            errors.add(
                "phone",
                f"已有同名、同手机号的在册党员（编号 {_ids(twins.values())}）(duplicate member)",
                UNIQUE,
            )


def member_date_errors(born: dt.date | None, joined: dt.date | None) -> list[tuple[str, str]]:
    """(key, message) for dates of a member that cannot both be true."""
    found = []
    if born and born.year < _this_year() - 120:
        found.append(("birth_date", "出生日期不合理 (birth date too early)"))
    if born and joined and joined < born.replace(year=born.year + 18, day=min(born.day, 28)):
        found.append(("joined_party_on", "入党时应年满十八周岁 (joined before the age of 18)"))
    return found


async def duplicate_members(
    people: list[tuple[str, str]], *, exclude_id: int | None = None
) -> dict[tuple[str, str], int]:
    """ACTIVE members with the same folded name and phone: {(folded name, phone): id}."""
    wanted = {(fold(name), number) for name, number in people if name and number}
    found: dict[tuple[str, str], int] = {}
    phones = sorted({number for _, number in wanted})
    for start in range(0, len(phones), 500):
        query = m.Member.filter(status=MemberStatus.ACTIVE, phone__in=phones[start : start + 500])
        if exclude_id:
            query = query.exclude(id=exclude_id)
        for member_id, name, number in await query.values_list("id", "name", "phone"):
            key = (fold(name), number)
            if key in wanted:
                found.setdefault(key, member_id)
    return found


def _period(start: str, end: str, label: str) -> Check:
    async def check(values: dict[str, Any], changed: set[str], errors: ErrorBag) -> None:
        first, last = values.get(start), values.get(end)
        if first and last and last <= first:
            errors.add(end, f"{label}须晚于开始日期 (must end after it starts)", VALIDATION)

    return check


async def _venue_in_compound(values: dict[str, Any], changed: set[str], errors: ErrorBag) -> None:
    venue_id, compound_id = values.get("venue_id"), values.get("compound_id")
    if venue_id and compound_id and not await m.Venue.exists(id=venue_id, compound_id=compound_id):
        errors.add("venue_id", "阵地不在所选小区 (venue of another compound)")


def _ids(ids: Any) -> str:
    return "、".join(str(i) for i in sorted(ids))


# --- the specs -----------------------------------------------------------------------

NAME = UniqueRule("name")

SPECS: dict[str, EntitySpec] = {
    s.name: s
    for s in (
        spec(
            "Street",
            m.Street,
            fk("district_id", "所属区", m.District, required=True, scope=WRITE),
            text("name", "街道名称", required=True),
            choice("kind", "类型", StreetKind),
            text("committee_name", "党工委名称"),
            unique=(UniqueRule("name", "district_id"),),
        ),
        spec(
            "Community",
            m.Community,
            fk("street_id", "所属街道", m.Street, required=True, scope=WRITE),
            text("name", "社区名称", required=True),
            boolean("is_provincial_model", "全省基层党建示范点"),
            unique=(UniqueRule("name", "street_id"),),
        ),
        spec(
            "Compound",
            m.Compound,
            fk("community_id", "所属社区", m.Community, required=True, scope=WRITE),
            text("name", "小区名称", required=True),
            text("address", "地址"),
            integer("households", "户数", max_value=100_000),
            integer("built_year", "建成年份", min_value=1900, max_value=_this_year),
            boolean("is_old", "老旧小区"),
            fk("property_company_id", "物业企业", m.PropertyCompany),
            unique=(UniqueRule("name", "community_id"),),
        ),
        spec(
            "Building",
            m.Building,
            fk("compound_id", "所属小区", m.Compound, required=True, scope=WRITE),
            text("name", "楼栋名称", required=True),
            integer("floors", "层数", max_value=200),
            integer("households", "户数", max_value=10_000),
            text("head_name", "楼栋长"),
            fk("head_member_id", "楼栋长（党员）", m.Member),
            unique=(UniqueRule("name", "compound_id"),),
        ),
        spec(
            "Branch",
            m.Branch,
            fk("community_id", "所属社区", m.Community, required=True, scope=WRITE),
            text("name", "支部名称", required=True),
            m2m("compound_ids", "覆盖小区", m.Compound, attr="compounds"),
            text("instructor_name", "指导员"),
            integer("star_rating", "星级", min_value=0, max_value=5),
            boolean("is_demonstration", "示范点"),
            text("work_method", "工作法"),
            date("founded_on", "成立日期", not_future=True),
            unique=(UniqueRule("name", "community_id"),),
            owned=("committee_seats", "party_groups"),
            checks=(_branch_covers_own_community,),
        ),
        spec(
            "CommitteeSeat",
            m.CommitteeSeat,
            fk("branch_id", "所属支部", m.Branch, required=True, scope=WRITE),
            choice("role", "职务", SeatRole, required=True),
            choice("background", "来源", SeatBackground),
            text("person_name", "姓名", required=True),
            fk("member_id", "党员", m.Member),
            date("started_on", "任职日期"),
        ),
        spec(
            "PartyGroup",
            m.PartyGroup,
            fk("branch_id", "所属支部", m.Branch, required=True, scope=WRITE),
            text("name", "党小组名称", required=True),
            fk("leader_id", "组长", m.Member),
            m2m("building_ids", "楼栋", m.Building, attr="buildings"),
            unique=(UniqueRule("name", "branch_id"),),
            checks=(_group_inside_branch,),
        ),
        spec(
            "Member",
            m.Member,
            text("name", "姓名", required=True),
            choice("gender", "性别", Gender),
            date("birth_date", "出生日期", not_future=True),
            phone("phone", "手机号码"),
            choice("category", "党员类别", MemberCategory, required=True),
            choice("status", "状态", MemberStatus),
            fk("branch_id", "所属支部", m.Branch, required=True, scope=WRITE),
            fk("party_group_id", "党小组", m.PartyGroup),
            fk("home_compound_id", "居住小区", m.Compound),
            text("work_unit", "工作单位"),
            date("joined_party_on", "入党日期", not_future=True),
            boolean("is_demonstration_post", "党员示范岗"),
            choice("representative", "两代表一委员", Representative),
            date("registered_on", "报到日期", not_future=True),
            enum_set("duties", "亮身份职责", Duty),
            archive=ArchivePolicy.STATUS,
            archive_status=("status", MemberStatus.ARCHIVED),
            checks=(_member_rules,),
        ),
        spec(
            "PropertyCompany",
            m.PropertyCompany,
            text("name", "企业名称", required=True),
            credit_code("credit_code", "统一社会信用代码", required=True),
            text("contact_name", "联系人"),
            phone("contact_phone", "联系电话"),
            boolean("has_party_organisation", "建有党组织"),
            boolean("under_industry_committee", "物业行业党委领导"),
            unique=(NAME, UniqueRule("credit_code", folded=False)),
        ),
        spec(
            "OwnersCommittee",
            m.OwnersCommittee,
            fk("compound_id", "所属小区", m.Compound, required=True, scope=WRITE),
            text("director_name", "主任"),
            fk("director_member_id", "主任（党员）", m.Member),
            boolean("is_party_led", "党建主导型"),
            date("term_start", "任期开始"),
            date("term_end", "任期结束"),
            integer("seats", "委员人数", min_value=1, max_value=50),
            unique=(UniqueRule("compound_id", folded=False, message="该小区已有业委会"),),
            checks=(_period("term_start", "term_end", "任期结束"),),
        ),
        spec(
            "CoBuildingUnit",
            m.CoBuildingUnit,
            text("name", "单位名称", required=True),
            choice("kind", "单位类型", UnitKind, required=True),
            credit_code("credit_code", "统一社会信用代码"),
            text("address", "地址"),
            text("contact_name", "联系人"),
            phone("contact_phone", "联系电话"),
            unique=(NAME, UniqueRule("credit_code", folded=False)),
        ),
        spec(
            "CoBuildingAgreement",
            m.CoBuildingAgreement,
            fk("unit_id", "共建单位", m.CoBuildingUnit, required=True),
            fk("branch_id", "共建支部", m.Branch, required=True, scope=WRITE),
            text("title", "协议名称"),
            date("signed_on", "签订日期", required=True),
            date("ends_on", "到期日期"),
            text("commitments", "共建承诺"),
            text("resources", "资源清单"),
            choice("status", "状态", AgreementStatus),
            checks=(_period("signed_on", "ends_on", "到期日期"),),
        ),
        spec(
            "Venue",
            m.Venue,
            fk("compound_id", "所属小区", m.Compound, required=True, scope=WRITE),
            text("name", "阵地名称", required=True),
            fk("branch_id", "所属支部", m.Branch),
            text("address", "地址"),
            integer("area_sqm", "面积（平方米）", max_value=1_000_000),
            date("opened_on", "启用日期"),
            unique=(UniqueRule("name", "compound_id"),),
            owned=("rooms",),
        ),
        spec(
            "VenueRoom",
            m.VenueRoom,
            fk("venue_id", "所属阵地", m.Venue, required=True, scope=WRITE),
            choice("kind", "功能室类型", RoomKind, required=True),
            text("name", "名称"),
        ),
        spec(
            "WeChatGroup",
            m.WeChatGroup,
            fk("compound_id", "所属小区", m.Compound, required=True, scope=WRITE),
            text("name", "群名称", required=True),
            integer("size", "人数", max_value=500),
            text("admin_name", "群主"),
            date("created_on", "建群日期", not_future=True),
            unique=(UniqueRule("name", "compound_id"),),
        ),
        spec(
            "ServiceActivity",
            m.ServiceActivity,
            text("title", "活动名称", required=True),
            fk("branch_id", "所属支部", m.Branch, required=True, scope=WRITE),
            fk("compound_id", "小区", m.Compound, scope=WRITE),
            fk("venue_id", "阵地", m.Venue, scope=WRITE),
            choice("category", "活动类别", ActivityCategory, required=True),
            choice("delivery_mode", "服务方式", DeliveryMode, required=True),
            choice("service_force", "服务力量", ServiceForce, required=True),
            datetime("held_at", "活动时间", required=True),
            integer("residents_served", "服务居民人次", max_value=1_000_000),
            text("description", "活动内容"),
            m2m("participant_ids", "参与党员", m.Member, attr="participants", scope=WRITE),
            m2m(
                "co_building_unit_ids",
                "共建单位",
                m.CoBuildingUnit,
                attr="co_building_units",
                scope=READ,
            ),
            checks=(_venue_in_compound,),
        ),
    )
}

CURATED = tuple(name for name in SPECS if name != "ServiceActivity")


def get_spec(entity: str) -> EntitySpec:
    try:
        return SPECS[entity]
    except KeyError:
        raise LookupError(f"no write spec for entity {entity!r}") from None
