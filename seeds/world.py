"""What the generator knows while it builds one district: its plan, ids and indexes."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from hub.enums import MemberCategory, MemberStatus
from seeds import tianyuan as ty
from seeds.rows import (
    RECORD_TABLES,
    BranchRow,
    BuildingRow,
    CompoundRow,
    Dataset,
    MemberRow,
    OwnersCommitteeRow,
    PropertyCompanyRow,
)

# Words for the streets, towns, communities and roads of districts other than Tianyuan.
PLACE_WORDS = (
    "建设",
    "贺家土",
    "庆云",
    "枫溪",
    "龙泉",
    "月塘",
    "桂花",
    "宋家桥",
    "茨菇塘",
    "明照",
    "清水塘",
    "响石岭",
    "井墈",
    "铜塘湾",
    "白关",
    "仙庾",
    "云田",
    "南洲",
    "龙船",
    "淦田",
    "朱亭",
    "堂市",
    "红旗",
    "新华",
    "建宁",
    "向阳",
    "和平",
    "东风",
    "金钩山",
    "樟树",
    "丽园",
    "鸿基",
    "星光",
    "团结",
    "胜利",
    "五一",
    "育红",
    "文化",
    "兴隆",
    "长青",
    "七一",
    "前进",
    "光明",
    "东升",
    "曙光",
    "青云",
    "学林",
    "车站",
    "解放",
    "人民",
)
_NAME_HEADS = "云枫松柏桂兰梅竹潇湘衡岳沅澧资洣渌酃茶攸"
_NAME_TAILS = "龙溪山川源江林湖峰台"


@dataclass(frozen=True)
class DistrictProfile:
    """Which district of a dataset: its names, and the plan of its streets."""

    index: int
    name: str
    code: str
    streets: tuple[ty.StreetPlan, ...]
    patrol_compound: str | None = None  # None: a generated name fills the role
    method_compound: str | None = None

    @property
    def short(self) -> str:
        return self.name.removesuffix("区")


def district_identity(index: int) -> tuple[str, str]:
    """Name and division code of district ``index`` of a dataset (1 = Tianyuan)."""
    if index < 1:
        raise ValueError("districts are numbered from 1")
    if index == 1:
        return ty.DISTRICT_NAME, ty.DISTRICT_CODE
    if index - 2 < len(ty.OTHER_DISTRICTS):
        return ty.OTHER_DISTRICTS[index - 2]
    combos = [h + t for h in _NAME_HEADS for t in _NAME_TAILS]
    n = index - 2 - len(ty.OTHER_DISTRICTS)
    if n >= len(combos) or index > 999:
        raise ValueError(f"no name for district {index}")
    return f"{combos[n]}区", f"439{index:03d}"


def district_profile(index: int, rng: random.Random) -> DistrictProfile:
    """District 1 is Tianyuan itself; the others have its shape and other names."""
    name, code = district_identity(index)
    if index == 1:
        return DistrictProfile(
            1, name, code, ty.STREETS, ty.HUACHEN_COMPOUND, ty.LUSHANLIAN_COMPOUND
        )
    words = rng.sample(PLACE_WORDS, len(PLACE_WORDS))
    streets = []
    for plan in ty.STREETS:
        suffix = "街道" if plan.kind.value == "STREET" else "镇"
        street_name = words.pop() + suffix
        communities = tuple(f"{words.pop()}社区" for _ in plan.communities)
        streets.append(replace(plan, name=street_name, communities=communities))
    # The words left over name the roads (a few roads run through several streets).
    streets = [
        replace(plan, roads=tuple(f"{words[(j + i) % len(words)]}路" for i in range(3)))
        for j, plan in enumerate(streets)
    ]
    return DistrictProfile(index, name, code, tuple(streets))


class Ids:
    """Primary keys per table, numbered on from a base (the table's current max id)."""

    def __init__(self, base: Mapping[str, int] | None = None) -> None:
        self._last = {table: (base or {}).get(table, 0) for table in RECORD_TABLES}

    def __call__(self, table: str) -> int:
        self._last[table] += 1
        return self._last[table]


@dataclass
class World:
    """The dataset under construction and the lookups the later steps need."""

    rng: random.Random
    profile: DistrictProfile
    ids: Ids
    data: Dataset = field(default_factory=Dataset)
    district_id: int = 0
    street_of_community: dict[int, int] = field(default_factory=dict)
    compounds: dict[int, CompoundRow] = field(default_factory=dict)
    covered: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    branches: dict[int, BranchRow] = field(default_factory=dict)
    branch_compounds: dict[int, list[int]] = field(default_factory=dict)
    companies: dict[int, PropertyCompanyRow] = field(default_factory=dict)
    buildings_of: dict[int, list[BuildingRow]] = field(default_factory=lambda: defaultdict(list))
    # compound → (party group id, branch id) of the groups for its buildings
    groups_of: dict[int, list[tuple[int, int]]] = field(default_factory=lambda: defaultdict(list))
    members_of: dict[int, list[MemberRow]] = field(default_factory=dict)
    residents_of: dict[int, list[MemberRow]] = field(default_factory=lambda: defaultdict(list))
    secretary_of: dict[int, MemberRow] = field(default_factory=dict)
    committee_of: dict[int, OwnersCommitteeRow] = field(default_factory=dict)
    venue_of: dict[int, tuple[int, int]] = field(default_factory=dict)  # branch → venue, compound
    units_of: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    patrol_compound_id: int = 0
    method_compound_id: int = 0
    credit_codes: set[str] = field(default_factory=set)
    _active: dict[tuple[int, bool], list[MemberRow]] = field(default_factory=dict)

    def branch_of(self, compound_id: int) -> int | None:
        """The first branch covering a compound, if any."""
        branches = self.covered.get(compound_id)
        return branches[0] if branches else None

    def active_members(self, branch_id: int, *, floating: bool = False) -> list[MemberRow]:
        """Members of a branch who are ACTIVE (and settled, unless ``floating``)."""
        key = (branch_id, floating)
        if key not in self._active:
            self._active[key] = [
                m
                for m in self.members_of[branch_id]
                if m.status is MemberStatus.ACTIVE
                and (floating or m.category is not MemberCategory.FLOATING)
            ]
        return self._active[key]


def spread(
    rng: random.Random, total: int, minimum: Sequence[int], cap: Sequence[int] | None = None
) -> list[int]:
    """Split ``total`` into parts, each at least its minimum and at most its cap."""
    parts = list(minimum)
    caps = list(cap) if cap is not None else [total] * len(parts)
    weights = [rng.uniform(0.5, 1.5) for _ in parts]
    left = total - sum(parts)
    if left < 0 or left > sum(c - p for c, p in zip(caps, parts, strict=True)):
        raise ValueError(f"cannot split {total} within {minimum} … {caps}")
    while left:
        open_ = [i for i, p in enumerate(parts) if p < caps[i]]
        i = rng.choices(open_, [weights[j] for j in open_])[0]
        parts[i] += 1
        left -= 1
    return parts


def allocate(total: int, weights: Sequence[float], minimum: int = 0) -> list[int]:
    """Largest-remainder split of ``total`` proportional to ``weights``."""
    rest = total - minimum * len(weights)
    scale = rest / sum(weights)
    raw = [w * scale for w in weights]
    parts = [int(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: (parts[i] - raw[i], i))
    for i in order[: rest - sum(parts)]:
        parts[i] += 1
    return [p + minimum for p in parts]


def numeral(n: int) -> str:
    """1 → 一, 12 → 十二, 35 → 三十五 (for 第n党小组)."""
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")
