"""Name tables and the seeded name maker of the demo county (people, villages, roads)."""

from __future__ import annotations

import random
from typing import Any

TOWNS = [
    ("溪口", "XK"),
    ("湖洋", "HY"),
    ("白沙", "BS"),
    ("龙门", "LM"),
    ("高坪", "GP"),
    ("梅林", "ML"),
    ("桃坑", "TK"),
    ("石门", "SM"),
]

SURNAMES = "陈林黄张李王吴刘蔡杨郑邱赖罗钟谢游温江曾卢廖范饶傅邓苏何简"
SURNAME_WEIGHTS = [
    12,
    10,
    8,
    6,
    6,
    5,
    5,
    5,
    3,
    3,
    4,
    3,
    3,
    3,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
]
GIVEN_MALE = "伟强磊军勇杰涛斌超明华平辉建鹏俊浩宇晨志文海峰彬鑫毅锋凯阳宏德荣福坤翔炜龙昊泽瑞睿"
GIVEN_FEMALE = "思雨婷丽芳敏静燕红霞秀兰玲娟琳欣颖佳雪梅晓丹晶洁慧莉倩蓉晗楠琪春清榕"
VILLAGE_FIRST = "黄竹石溪龙凤桃梅松枫桂茶白青长高林罗赖铜银金马牛鹤莲桥塘井杉樟柏洪丰太"
VILLAGE_TERRAIN = "坑坪洋坂岭山田溪口头背墩寨坊洲湖垄际厝园峰"
VILLAGE_PAIRS = [("上", "下"), ("东", "西"), ("前", "后"), ("大", "小")]
NEIGHBOURHOODS = [
    "南门",
    "龙津",
    "水南",
    "东门",
    "西门",
    "北门",
    "中山",
    "登高",
    "城东",
    "城西",
    "莲花",
    "桂园",
    "九一",
    "溪南",
]
ROADS = [
    "解放",
    "人民",
    "建设",
    "和平",
    "胜利",
    "新华",
    "东环",
    "西环",
    "北环",
    "府前",
    "学前",
    "滨江",
    "沿河",
    "西城",
    "紫金",
    "长安",
    "兴隆",
    "公园",
    "环城",
    "东兴",
    "南华",
    "北山",
    "文昌",
    "广场",
    "振兴",
    "民主",
    "青年",
    "红旗",
    "工业",
    "朝阳",
]
CN_ORDINALS = "一二三四五六七八九十"
PHONE_PREFIXES = [
    "130",
    "131",
    "132",
    "133",
    "134",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "153",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "177",
    "180",
    "181",
    "182",
    "183",
    "185",
    "186",
    "187",
    "188",
    "189",
    "198",
    "199",
]


class NameMaker:
    """Seeded generator of Chinese names, unique numbers and unique phone numbers."""

    def __init__(self, rnd: random.Random) -> None:
        self.rnd = rnd
        self.used: set[str] = {f"{town}村" for town, _ in TOWNS}

    def _unique(self, make: Any) -> str:
        while True:
            value = str(make())
            if value not in self.used:
                self.used.add(value)
                return value

    def _stem(self) -> str:
        first, terrain = self.rnd.choice(VILLAGE_FIRST), self.rnd.choice(VILLAGE_TERRAIN)
        if first == terrain:
            return self._stem()
        if self.rnd.random() < 0.3:
            second = self.rnd.choice(VILLAGE_FIRST)
            return first + second + terrain if second not in (first, terrain) else first + terrain
        return first + terrain

    def villages(self, k: int) -> list[str]:
        """``k`` unique adjacent village names, sometimes a 上X村/下X村 style pair."""
        if k == 2 and self.rnd.random() < 0.5:
            for _ in range(50):
                a, b = self.rnd.choice(VILLAGE_PAIRS)
                stem = self.rnd.choice(VILLAGE_TERRAIN) if self.rnd.random() < 0.6 else self._stem()
                pair = [f"{a}{stem}村", f"{b}{stem}村"]
                if not self.used.intersection(pair):
                    self.used.update(pair)
                    return pair
        return [self._unique(lambda: self._stem() + "村") for _ in range(k)]

    def person(self) -> str:
        surname = self.rnd.choices(SURNAMES, weights=SURNAME_WEIGHTS)[0]
        given = GIVEN_MALE if self.rnd.random() < 0.65 else GIVEN_FEMALE
        return surname + "".join(self.rnd.choices(given, k=1 if self.rnd.random() < 0.3 else 2))

    def number(self, kind: str) -> str:
        """Officers ``35xxxx``; auxiliaries ``FJ``, grid workers ``WG``, volunteers ``ZY``."""
        if kind == "officer":
            return self._unique(lambda: f"35{self.rnd.randrange(2000, 3000):04d}")
        prefix = {"auxiliary": "FJ", "grid_worker": "WG", "volunteer": "ZY"}[kind]
        return self._unique(lambda: f"{prefix}{self.rnd.randrange(100_000, 1_000_000)}")

    def phone(self) -> str:
        return self._unique(
            lambda: self.rnd.choice(PHONE_PREFIXES) + f"{self.rnd.randrange(10**8):08d}"
        )


# --------------------------------------------------------------------------- county
