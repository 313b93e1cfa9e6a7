"""Pools of plausible Simplified-Chinese names, and small draws from them.

Everything here is a pure function of the ``random.Random`` passed in, so a
dataset built from one seed is always the same. The pools lean towards Hunan:
刘, 李, 陈, 彭, 谭, 罗 and 曾 are far commoner in Zhuzhou than the national order
suggests.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Sequence
from functools import lru_cache

from hub.credit_code import ALPHABET, make_credit_code
from hub.enums import Gender
from hub.models.base import SEARCH_LENGTH
from hub.search import search_text


def _words(text: str) -> tuple[str, ...]:
    """The whitespace-separated words of a pool written as one block of text."""
    return tuple(text.split())


# (surname, weight) — weights roughly follow a Hunan city's household register.
_SURNAME_TEXT = """
刘:90 李:80 陈:75 王:60 张:55 周:45 彭:40 谭:38 罗:36 曾:34 唐:33 邓:32 黄:32 杨:30 贺:26 易:24
肖:24 胡:22 赵:20 吴:20 朱:18 何:18 郭:16 文:16 龙:14 廖:14 蒋:14 谢:14 袁:12 许:12 付:10 颜:10
龚:10 汤:10 尹:9 左:8 钟:8 段:8 邹:8 田:8 丁:7 石:7 万:6 夏:6 宋:6 欧阳:5 雷:5 莫:5 阳:5 严:4
司马:1
"""
SURNAMES: tuple[tuple[str, int], ...] = tuple(
    (name, int(weight)) for name, weight in (item.split(":") for item in _SURNAME_TEXT.split())
)
_SURNAME_POOL = tuple(name for name, _ in SURNAMES)
_SURNAME_CUMULATIVE = tuple(itertools.accumulate(weight for _, weight in SURNAMES))

# Single-character and common two-character given names (the two-character ones are
# a closed list, so names repeat as they do in a real register).
GIVEN_MALE = "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆旭宁龙林峰亮成东"
GIVEN_FEMALE = "芳娜敏静丽艳娟霞燕玲英萍红梅琳丹雪婷慧颖倩莉洁琴云兰秀凤佳欣"
GIVEN_MALE_2 = _words(
    """
    建国 建军 建华 建平 志强 志明 志刚 志勇 国庆 国华 国强 海涛 海波 海军 俊杰 子豪 浩然 宇轩 文博
    明辉 永刚 德华 春生 新华 立新 卫东 红兵 爱国 振华 伟民 小龙 鹏飞 晓东 少华 金生 冬生 湘平 湘军
    岳林 家乐 家豪 子轩 梓豪 一鸣 思远 泽宇 博文 天佑 光明 胜利 建新 正国 长青 庆丰 云峰 学军 学文
    运来 福生 贵林 文华 永红 东升 利民 铁军 湘华 岳峰 国良 水生 德明
    """
)
GIVEN_FEMALE_2 = _words(
    """
    秀英 桂英 秀兰 玉兰 桂兰 丽娟 美玲 晓燕 海燕 红梅 淑芬 春梅 雪梅 丽华 小红 静怡 欣怡 梓涵 思琪
    雨萱 佳怡 婷婷 丹丹 芳芳 琳琳 湘云 湘玲 玉梅 凤英 翠兰 金凤 素珍 慧敏 晓丽 丽萍 艳红 建英 爱华
    秋菊 冬梅 月娥 春燕 晓霞 雅琴 诗涵 可馨 紫涵 梦瑶 雨桐 一诺 美华 丽君 晓玲 红霞 桂香 玉珍 菊香
    素梅 湘莲 岳红 秀珍 淑华 丽芳 小燕
    """
)


def person_name(rng: random.Random, gender: Gender | None = None) -> str:
    """A full name: surname plus a one- or two-character given name."""
    surname = rng.choices(_SURNAME_POOL, cum_weights=_SURNAME_CUMULATIVE)[0]
    if gender is None:
        gender = rng.choice((Gender.MALE, Gender.FEMALE))
    male = gender is Gender.MALE
    if rng.random() < 0.3:
        return surname + rng.choice(GIVEN_MALE if male else GIVEN_FEMALE)
    return surname + rng.choice(GIVEN_MALE_2 if male else GIVEN_FEMALE_2)


# Real mainland mobile number blocks; every one matches 1[3-9]\d{9}.
MOBILE_PREFIXES = _words(
    """
    130 131 132 133 134 135 136 137 138 139 150 151 152 153 155 156 157 158 159 166 173 175 176
    177 178 180 181 182 183 184 185 186 187 188 189 191 198 199
    """
)


def mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(100_000_000):08d}"


# --- places ---------------------------------------------------------------------------

NEW_COMPOUND_HEADS = _words(
    """
    湘江 栗雨 神农 天元 泰山 嵩山 银海 金辉 万丰 湘水 江山 翡翠 枫林 锦绣 阳光 盛世 东方 名门 凯旋
    书香 时代 星城 湘芸 天台 华山 庐峰 滨江 君悦 紫荆 龙湖 新城 蓝天 湖景 长岭 景秀 福星
    """
)
NEW_COMPOUND_TAILS = _words(
    """
    花园 家园 公馆 雅苑 新城 名都 华庭 佳园 山庄 湾 府 国际 丽都 水岸 学府 景苑 豪庭 尚城 半岛
    御景
    """
)
OLD_COMPOUND_HEADS = _words(
    """
    株冶 湘氮 株化 电力局 粮食局 供销社 机务段 车辆厂 建材厂 纺织厂 水泥厂 农机站 邮电局
    自来水公司 冶金 航空城 工商局 税务局 交通局 教师 农科所 卫校 师范 棉纺厂 化工厂 机电厂 林业局
    运输公司 百货公司 气象站
    """
)
OLD_COMPOUND_TAILS = ("小区", "宿舍", "新村", "生活区")
TOWN_COMPOUND_TAILS = ("安置小区", "集镇小区", "还建小区")


def compound_names(
    rng: random.Random, new: int, old: int, town: int, reserved: Sequence[str] = ()
) -> tuple[list[str], list[str], list[str]]:
    """Distinct names for new, old and town compounds, none equal to ``reserved``."""
    taken = set(reserved)

    def draw(count: int, heads: Sequence[str], tails: Sequence[str]) -> list[str]:
        combos = [h + t for h in heads for t in tails if h + t not in taken]
        if count > len(combos):
            raise ValueError(f"only {len(combos)} names for {count} compounds")
        picked = rng.sample(combos, count)
        taken.update(picked)
        return picked

    town_heads = tuple(h for h in NEW_COMPOUND_HEADS[::2])
    return (
        draw(new, NEW_COMPOUND_HEADS, NEW_COMPOUND_TAILS),
        draw(old, OLD_COMPOUND_HEADS, OLD_COMPOUND_TAILS),
        draw(town, town_heads, TOWN_COMPOUND_TAILS),
    )


# --- organisations --------------------------------------------------------------------

BRAND_HEADS = "湘恒瑞德宏嘉康顺安福鑫长和锦天永广中盛华金银新泰嵩"
BRAND_TAILS = "诚安丰信远和居达满城青美程健厦润晟源邦盈"
COMPANY_FORMS = (
    "株洲{short}{brand}物业管理有限公司",
    "湖南{brand}物业服务有限公司{short}分公司",
    "株洲{brand}{short}物业服务有限公司",
)


def brands(rng: random.Random, count: int) -> list[str]:
    """Distinct two-character trade names (湘诚, 恒安 …)."""
    combos = [h + t for h in BRAND_HEADS for t in BRAND_TAILS if h != t]
    return rng.sample(combos, count)


UNIT_TEMPLATES: dict[str, tuple[str, ...]] = {
    "ENTERPRISE": (
        "株洲{short}{brand}科技有限公司",
        "株洲{short}{brand}建设工程有限公司",
        "湖南{brand}商贸有限公司{short}分公司",
        "株洲{short}{brand}电子有限公司",
        "株洲{short}{brand}超市有限公司",
        "株洲{short}{brand}餐饮管理有限公司",
    ),
    "PUBLIC_INSTITUTION": (
        "{district}图书馆",
        "{district}文化馆",
        "{district}社会福利中心",
        "{district}疾病预防控制中心",
        "{district}城市建设投资服务中心",
        "{district}档案馆",
        "{district}就业服务中心",
        "{district}不动产登记中心",
        "{district}青少年活动中心",
        "{district}老年大学",
    ),
    "AGENCY": (
        "{district}住房和城乡建设局",
        "{district}民政局",
        "{district}司法局",
        "{district}市场监督管理局",
        "{district}人力资源和社会保障局",
        "{district}卫生健康局",
        "{district}教育局",
        "{district}财政局",
        "{district}城市管理和综合执法局",
        "{district}应急管理局",
        "{district}人民法院",
        "{district}人民检察院",
        "{district}退役军人事务局",
        "{district}总工会",
    ),
    "SCHOOL": (
        "{district}实验小学",
        "{district}第一中学",
        "{district}{road}小学",
        "{district}{road}中学",
        "{district}启航幼儿园",
        "{district}职业技术学校",
        "{district}育才学校",
        "{district}外国语学校",
    ),
    "HOSPITAL": (
        "{district}人民医院",
        "{district}中医医院",
        "{district}妇幼保健院",
        "{district}{road}社区卫生服务中心",
        "{district}康复医院",
    ),
    "SOCIAL_ORGANISATION": (
        "{district}志愿者协会",
        "{district}社会工作服务中心",
        "{district}慈善会",
        "{district}义工联合会",
        "{district}老年人协会",
        "{district}青年志愿者服务队",
        "{district}邻里互助促进会",
    ),
}

# Work units of in-service members (在职党员) and the cadres among them (机关干部).
WORK_UNITS = _words(
    """
    中车株洲电力机车有限公司 株洲市中心医院 株洲市第一中学 国网株洲供电公司 株洲市自来水公司
    株洲市公安局天元分局 株洲硬质合金集团有限公司 株洲市人民政府 株洲市税务局 中国移动株洲分公司
    株洲市妇幼保健院 湖南工业大学 株洲市城发集团 中国银行株洲分行 株洲中车时代电气股份有限公司
    株洲市教育局
    """
)
AGENCY_WORK_UNITS = _words(
    """
    天元区人民政府办公室 天元区委组织部 天元区发展和改革局 天元区民政局 天元区住房和城乡建设局
    天元区财政局 天元区卫生健康局 天元区教育局
    """
)


def org_code(rng: random.Random, taken: set[str]) -> str:
    """A fresh 9-character organisation code of the new (MA…) kind."""
    while True:
        # "MA4L…" is left to the model tests' hand-made codes.
        third = rng.choice([ch for ch in ALPHABET if ch != "L"])
        code = "MA4" + third + "".join(rng.choice(ALPHABET) for _ in range(5))
        if code not in taken:
            taken.add(code)
            return code


def credit_code(rng: random.Random, kind_prefix: str, region: str, taken: set[str]) -> str:
    """A valid 统一社会信用代码: registration kind, region, org code, check character."""
    return make_credit_code(kind_prefix + region + org_code(rng, taken))


# --- times ----------------------------------------------------------------------------

CST = dt.timezone(dt.timedelta(hours=8), "CST")  # Asia/Shanghai: no DST since 1991


def utc(local: dt.datetime) -> dt.datetime:
    """A Shanghai wall-clock time as the aware UTC datetime the database stores."""
    return local.replace(tzinfo=CST).astimezone(dt.UTC)


def day_in(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    """A day in [start, end]."""
    return start + dt.timedelta(days=rng.randrange((end - start).days + 1))


def working_time(rng: random.Random, day: dt.date, first: int = 8, last: int = 20) -> dt.datetime:
    """A UTC instant on ``day`` (Shanghai), between ``first`` and ``last`` o'clock."""
    minute = rng.randrange(first * 60, last * 60)
    return utc(dt.datetime(day.year, day.month, day.day, minute // 60, minute % 60))


def year_instant(rng: random.Random, year: int) -> dt.datetime:
    """A working-hours instant of ``year`` (Shanghai)."""
    return working_time(rng, day_in(rng, dt.date(year, 1, 1), dt.date(year, 12, 31)))


def new_year_morning(rng: random.Random, year: int) -> dt.datetime:
    """An instant early on 1 January (Shanghai): still the previous year in UTC."""
    minute = rng.randrange(0, 7 * 60 + 50)
    return utc(dt.datetime(year, 1, 1, minute // 60, minute % 60))


@lru_cache(maxsize=65_536)
def search_column(name: str) -> str:
    """What ``Searchable.refresh_search_text`` stores for a record named ``name``."""
    return search_text(name)[:SEARCH_LENGTH]
