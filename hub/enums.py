"""Every enumeration of the domain, each value with its Simplified-Chinese label.

This is the one place the labels live: the GraphQL schema descriptions and the
admin console both read ``Enum.X.label``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self


class LabeledEnum(StrEnum):
    """A string enum whose members carry a Chinese label: ``X = ("X", "标签")``."""

    label: str

    def __new__(cls, value: str, label: str | None = None) -> Self:
        # ``Cls(value)`` looks a member up and never gets here (so mypy accepts it);
        # a member defined without its label is a mistake.
        if label is None:
            raise TypeError(f"{cls.__name__} member {value!r} needs a label")
        obj = str.__new__(cls, value)
        obj._value_ = value
        obj.label = label
        return obj

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        """(value, label) pairs, in declaration order, for forms and docs."""
        return [(m.value, m.label) for m in cls]


# --- geography ------------------------------------------------------------------


class StreetKind(LabeledEnum):
    STREET = ("STREET", "街道")
    TOWN = ("TOWN", "镇")


# --- party organisation ---------------------------------------------------------


class MemberCategory(LabeledEnum):
    DIRECT = ("DIRECT", "直管党员")
    IN_SERVICE = ("IN_SERVICE", "在职党员")
    RETIRED = ("RETIRED", "退休党员")
    FLOATING = ("FLOATING", "流动党员")


class MemberStatus(LabeledEnum):
    ACTIVE = ("ACTIVE", "正常")
    TRANSFERRED = ("TRANSFERRED", "已转出")
    DECEASED = ("DECEASED", "已故")
    ARCHIVED = ("ARCHIVED", "已归档")


class Gender(LabeledEnum):
    MALE = ("MALE", "男")
    FEMALE = ("FEMALE", "女")


class Duty(LabeledEnum):
    """Roles a member takes on when showing their identity (亮身份)."""

    PROPAGANDIST = ("PROPAGANDIST", "宣传员")
    ORDERLY = ("ORDERLY", "勤务兵")
    SUPERVISOR = ("SUPERVISOR", "监督员")
    PEACEMAKER = ("PEACEMAKER", "和事佬")


class Representative(LabeledEnum):
    """兩代表一委員."""

    NPC_DEPUTY = ("NPC_DEPUTY", "人大代表")
    PARTY_CONGRESS_DEPUTY = ("PARTY_CONGRESS_DEPUTY", "党代表")
    CPPCC_MEMBER = ("CPPCC_MEMBER", "政协委员")


class SeatRole(LabeledEnum):
    SECRETARY = ("SECRETARY", "书记")
    DEPUTY_SECRETARY = ("DEPUTY_SECRETARY", "副书记")
    COMMITTEE_MEMBER = ("COMMITTEE_MEMBER", "支委委员")
    PART_TIME_MEMBER = ("PART_TIME_MEMBER", "兼职委员")


class SeatBackground(LabeledEnum):
    """Where a committee seat holder comes from."""

    RESIDENT_MEMBER = ("RESIDENT_MEMBER", "小区居民党员")
    COMMUNITY_STAFF = ("COMMUNITY_STAFF", "社区工作人员")
    GRID_WORKER = ("GRID_WORKER", "网格员")
    DOCTOR = ("DOCTOR", "医生")
    NURSE = ("NURSE", "护士")
    POLICE = ("POLICE", "民警")
    IN_SERVICE_MEMBER = ("IN_SERVICE_MEMBER", "在职党员")


# --- governance partners --------------------------------------------------------


class UnitKind(LabeledEnum):
    ENTERPRISE = ("ENTERPRISE", "企业")
    PUBLIC_INSTITUTION = ("PUBLIC_INSTITUTION", "事业单位")
    AGENCY = ("AGENCY", "机关")
    SCHOOL = ("SCHOOL", "学校")
    HOSPITAL = ("HOSPITAL", "医院")
    SOCIAL_ORGANISATION = ("SOCIAL_ORGANISATION", "社会组织")


class AgreementStatus(LabeledEnum):
    DRAFT = ("DRAFT", "草拟")
    ACTIVE = ("ACTIVE", "履行中")
    EXPIRED = ("EXPIRED", "已到期")
    TERMINATED = ("TERMINATED", "已终止")


# --- service and governance work ------------------------------------------------


class RoomKind(LabeledEnum):
    BRANCH_OFFICE = ("BRANCH_OFFICE", "支部工作室")
    DELIBERATION_HALL = ("DELIBERATION_HALL", "议事厅")
    SERVICE_STATION = ("SERVICE_STATION", "便民服务站")
    BOOK_CORNER = ("BOOK_CORNER", "图书角")
    MEMBER_STATION = ("MEMBER_STATION", "党员驿站")


class ActivityCategory(LabeledEnum):
    ENVIRONMENT = ("ENVIRONMENT", "环境卫生整治")
    CLINIC = ("CLINIC", "巡诊义诊")
    PATROL = ("PATROL", "治安巡逻")
    LEGAL_ADVICE = ("LEGAL_ADVICE", "法律咨询")
    EARLY_EDUCATION = ("EARLY_EDUCATION", "亲子早教")
    TAILORING = ("TAILORING", "裁缝修补")
    DAY_CARE = ("DAY_CARE", "日间照料")
    AFTER_SCHOOL = ("AFTER_SCHOOL", "四点半课堂")
    POLICY_PROMOTION = ("POLICY_PROMOTION", "政策宣传")
    CULTURE = ("CULTURE", "文化生活")


class DeliveryMode(LabeledEnum):
    LIST = ("LIST", "清单式")
    ORDER = ("ORDER", "点单式")
    MENU = ("MENU", "菜单式")


class ServiceForce(LabeledEnum):
    """The five service forces of the 515 method."""

    PARTY_MEMBERS = ("PARTY_MEMBERS", "党员")
    GRID_WORKERS = ("GRID_WORKERS", "网格员")
    OWNERS_COMMITTEE = ("OWNERS_COMMITTEE", "业委会")
    PROPERTY_COMPANY = ("PROPERTY_COMPANY", "物业公司")
    VOLUNTEERS = ("VOLUNTEERS", "志愿者")


class RequestStatus(LabeledEnum):
    COLLECTED = ("COLLECTED", "已收集")
    ASSIGNED = ("ASSIGNED", "已交办")
    RESPONDED = ("RESPONDED", "已反应")
    RESOLVED = ("RESOLVED", "已解决")


class RequestCategory(LabeledEnum):
    ENVIRONMENT = ("ENVIRONMENT", "环境问题")
    PARKING = ("PARKING", "停车问题")
    SURVEILLANCE = ("SURVEILLANCE", "监控问题")
    SELF_GOVERNANCE = ("SELF_GOVERNANCE", "自治失效")
    PROPERTY_SERVICE = ("PROPERTY_SERVICE", "物业服务")
    NEIGHBOUR_DISPUTE = ("NEIGHBOUR_DISPUTE", "邻里纠纷")
    FACILITIES = ("FACILITIES", "设施维修")
    OTHER = ("OTHER", "其他")


class RequestChannel(LabeledEnum):
    WECHAT_GROUP = ("WECHAT_GROUP", "微信群")
    VISIT = ("VISIT", "上门走访")
    PHONE = ("PHONE", "电话")
    WALK_IN = ("WALK_IN", "来访")
    ONLINE = ("ONLINE", "线上平台")


class AssigneeKind(LabeledEnum):
    MEMBER = ("MEMBER", "党员")
    GRID_WORKER = ("GRID_WORKER", "网格员")
    PROPERTY_COMPANY = ("PROPERTY_COMPANY", "物业企业")
    OWNERS_COMMITTEE = ("OWNERS_COMMITTEE", "业委会")


class RequestAction(LabeledEnum):
    REPORT = ("REPORT", "收集")
    ASSIGN = ("ASSIGN", "交办")
    RESPOND = ("RESPOND", "反应")
    RESOLVE = ("RESOLVE", "解决")
    RATE = ("RATE", "评价")
    RETURN = ("RETURN", "退回")
    REOPEN = ("REOPEN", "重新打开")


class MeetingLevel(LabeledEnum):
    DISTRICT = ("DISTRICT", "区级")
    STREET = ("STREET", "街道级")
    COMMUNITY = ("COMMUNITY", "社区级")
    COMPOUND = ("COMPOUND", "小区级")


# --- the hub's own records ------------------------------------------------------


class Role(LabeledEnum):
    ADMIN = ("ADMIN", "管理员")
    CURATOR = ("CURATOR", "维护员")
    READER = ("READER", "查阅者")
    PARTNER = ("PARTNER", "共建单位")


class AuditAction(LabeledEnum):
    LOGIN = ("LOGIN", "登录")
    LOGIN_FAILED = ("LOGIN_FAILED", "登录失败")
    CREATE = ("CREATE", "新建")
    UPDATE = ("UPDATE", "修改")
    DELETE = ("DELETE", "删除")
    ARCHIVE = ("ARCHIVE", "归档")
    TRANSITION = ("TRANSITION", "流转")
    IMPORT = ("IMPORT", "导入")


# Each enum's description, in the GraphQL schema and wherever a column's enum is described.
ENUM_DESCRIPTIONS: dict[type[LabeledEnum], str] = {
    StreetKind: "街道或镇",
    MemberCategory: "党员类别（四类党员）",
    MemberStatus: "党员状态（党员不删除，只改状态）",
    Gender: "性别",
    Duty: "亮身份职责",
    Representative: "两代表一委员",
    SeatRole: "支委职务",
    SeatBackground: "支委来源",
    UnitKind: "共建单位类型",
    AgreementStatus: "共建协议状态",
    RoomKind: "阵地功能室",
    ActivityCategory: "服务活动类别",
    DeliveryMode: "服务方式",
    ServiceForce: "五支服务力量（515工作法）",
    RequestStatus: "居民诉求状态：收集→交办→反应→解决",
    RequestCategory: "居民诉求类别",
    RequestChannel: "诉求来源渠道",
    AssigneeKind: "诉求承办方类型",
    RequestAction: "诉求流转动作",
    MeetingLevel: "联席会议层级",
    Role: "账号角色",
    AuditAction: "审计动作",
}
