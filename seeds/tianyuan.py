"""Tianyuan District (天元区, Zhuzhou): its named places and the figures it reports.

Where the figures come from:

- The source article (``/work/shared/reference/source-article.zh-Hant.txt``, 潇湘晨报
  2020-12-22) and DESIGN.md: 117 branches cover 244 compounds = 72 % of all compounds
  (so 339 in all); 7 demonstration branches; 57 property companies; "1600余次" service
  activities in 2020 serving "5万余人次"; "300余个" WeChat groups; "1200余名" in-service
  members, cadres and 两代表一委员 registered in their compounds; "1700余件" requests
  resolved in 2020; 泰山路街道 formed 61 branches (the related 红网 item), among them
  华晨御园 with its red-vest volunteer patrol; 嵩山路街道 庐山恋 is an old compound in
  小湖塘社区 with the 515 method and the parking fix (人车分流, 增划停车区域, 车辆登记
  管理), and 小湖塘社区 was named a provincial model.
- "…余" figures are made definite here (1,648 activities, 52,736 residents served,
  326 groups, 1,236 registered members, 1,736 requests resolved) so tests can be exact.
- The division code 430211 is Tianyuan's real 行政区划代码; the street and town names are
  real. Community names other than 小湖塘社区, every other compound name, and how the
  totals split between streets and communities are illustrative.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.enums import StreetKind

DISTRICT_NAME = "天元区"
DISTRICT_CODE = "430211"
CITY = "株洲市"

# --- figures (exact in the generated data) ---------------------------------------------
COMPOUNDS = 339
BRANCHES = 117
COVERED_COMPOUNDS = 244  # distinct compounds linked to at least one branch
COVERAGE_PERCENT = 72  # round(244 / 339 * 100)
DEMONSTRATION_BRANCHES = 7
PROPERTY_COMPANIES = 57
MEMBERS = 12_000
REGISTERED_MEMBERS = 1_236  # ACTIVE members with registered_on set
ACTIVITIES_2020 = 1_648
RESIDENTS_SERVED_2020 = 52_736
WECHAT_GROUPS = 326
REQUESTS_RESOLVED_2020 = 1_736
TAISHAN_BRANCHES = 61

# Not reported, but fixed so that year filters have something to leave out.
ACTIVITIES_2019 = 612
ACTIVITIES_2021 = 437
REQUESTS_RESOLVED_2019 = 480
REQUESTS_RESOLVED_2021 = 356
# Activities and resolutions early on 1 January (Shanghai), i.e. still the previous year
# in UTC: a statistic that forgets the time zone gets a different figure.
NEW_YEAR_MORNING = {2019: 2, 2020: 3, 2021: 1}
REQUESTS_OPEN = {"COLLECTED": 34, "ASSIGNED": 58, "RESPONDED": 45}
REQUESTS_ASSIGNED_OVERDUE = 41  # of the ASSIGNED ones: due_at set and long past
REPRESENTATIVES = {"NPC_DEPUTY": 36, "PARTY_CONGRESS_DEPUTY": 42, "CPPCC_MEMBER": 28}
REGISTERED_INACTIVE = 14  # transferred or archived members who had registered (not counted)
SHARED_COMPOUNDS = 3  # compounds covered by two branches (so links exceed 244)
CO_BUILDING_UNITS = {
    "ENTERPRISE": 18,
    "PUBLIC_INSTITUTION": 10,
    "AGENCY": 12,
    "SCHOOL": 8,
    "HOSPITAL": 5,
    "SOCIAL_ORGANISATION": 7,
}

# --- named places ---------------------------------------------------------------------
TAISHAN_STREET = "泰山路街道"
SONGSHAN_STREET = "嵩山路街道"
HUACHEN_COMPOUND = "华晨御园"  # 泰山路街道: red-vest volunteer patrol
LUSHANLIAN_COMPOUND = "庐山恋"  # 嵩山路街道 小湖塘社区: old compound, 515 method, parking
XIAOHUTANG_COMMUNITY = "小湖塘社区"  # provincial model of grassroots party building
METHOD_515 = "515党建工作法"
PARKING_MEASURES = ("人车分流", "增划停车区域", "车辆登记管理")
VENUE_CENTRE = "幸福邻聚里居民活动中心"
# Traditional-script co-building unit names of Tianyuan (exercise script folding); their
# Simplified forms appear nowhere else in the dataset.
TRADITIONAL_UNITS = {
    "SOCIAL_ORGANISATION": "天元區鄰里互助促進會",
    "PUBLIC_INSTITUTION": "天元區圖書館",
    "ENTERPRISE": "株洲天元湘誠電子科技有限公司",
    "SCHOOL": "天元區泰山學校",
}


@dataclass(frozen=True)
class StreetPlan:
    """One street or town: its communities and how many compounds and branches it has."""

    name: str
    kind: StreetKind
    communities: tuple[str, ...]
    compounds: int
    branches: int
    covered: int  # distinct compounds its branches cover
    roads: tuple[str, ...]

    @property
    def committee_name(self) -> str:
        # A street has a party working committee (党工委); a town its own party committee.
        return f"{self.name}党工委" if self.kind is StreetKind.STREET else f"{self.name}党委"


STREETS: tuple[StreetPlan, ...] = (
    StreetPlan(
        TAISHAN_STREET,
        StreetKind.STREET,
        (
            "白鹤社区",
            "湘天社区",
            "长江社区",
            "天台社区",
            "森林社区",
            "黄河社区",
            "泰山社区",
            "太子社区",
        ),
        compounds=150,
        branches=TAISHAN_BRANCHES,
        covered=125,
        roads=("泰山路", "黄河南路", "长江南路", "天台路", "衡山路"),
    ),
    StreetPlan(
        SONGSHAN_STREET,
        StreetKind.STREET,
        (XIAOHUTANG_COMMUNITY, "大湖塘社区", "嵩山社区", "天鹅社区", "湘水湾社区"),
        compounds=70,
        branches=24,
        covered=52,
        roads=("嵩山路", "庐山路", "华山路", "珠江南路"),
    ),
    StreetPlan(
        "栗雨街道",
        StreetKind.STREET,
        ("栗雨社区", "天易社区", "檀木社区", "湘芸社区"),
        compounds=45,
        branches=14,
        covered=30,
        roads=("栗雨路", "天易大道", "湘芸路", "株洲大道"),
    ),
    StreetPlan(
        "马家河街道",
        StreetKind.STREET,
        ("马家河社区", "新马社区", "曲尺社区", "白马垅社区"),
        compounds=35,
        branches=10,
        covered=20,
        roads=("马家河路", "仙月环路", "武广路"),
    ),
    StreetPlan(
        "群丰镇",
        StreetKind.TOWN,
        ("群丰社区", "金塘社区"),
        compounds=18,
        branches=4,
        covered=8,
        roads=("群丰路",),
    ),
    StreetPlan(
        "雷打石镇",
        StreetKind.TOWN,
        ("雷打石社区", "长岭社区"),
        compounds=11,
        branches=2,
        covered=5,
        roads=("雷打石路",),
    ),
    StreetPlan(
        "三门镇",
        StreetKind.TOWN,
        ("三门社区", "浮石社区"),
        compounds=10,
        branches=2,
        covered=4,
        roads=("三门路",),
    ),
)

# Demonstration branches per street besides 华晨御园's and 庐山恋's (7 in all).
EXTRA_DEMONSTRATIONS = {TAISHAN_STREET: 2, SONGSHAN_STREET: 1, "栗雨街道": 1, "马家河街道": 1}

# The other districts of a larger dataset (scale > 1): Zhuzhou's other urban districts,
# with their real division codes, then generated names.
OTHER_DISTRICTS: tuple[tuple[str, str], ...] = (
    ("芦淞区", "430203"),
    ("荷塘区", "430202"),
    ("石峰区", "430204"),
    ("渌口区", "430212"),
)

assert sum(s.compounds for s in STREETS) == COMPOUNDS
assert sum(s.branches for s in STREETS) == BRANCHES
assert sum(s.covered for s in STREETS) == COVERED_COMPOUNDS
assert round(COVERED_COMPOUNDS / COMPOUNDS * 100) == COVERAGE_PERCENT
assert 2 + sum(EXTRA_DEMONSTRATIONS.values()) == DEMONSTRATION_BRANCHES
