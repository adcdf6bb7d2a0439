"""A seeded year of historical incidents (警情) for the demo county, as an import CSV.

The file follows the "incidents" section of ``docs/import-formats.md`` (UTF-8 with BOM,
English header). The model, in plain terms:

* volume: about 0.12 calls per 1 000 residents per day in total (follow-ups included);
* space: background calls per grid ∝ residents × a "busy place" factor (urban grids, and a
  few seeded hot spots such as a bus station or a market, are busier); points are uniform in
  the grid polygon, or near the hot spot;
* time: an hour-of-day profile peaking 19:00–23:00 with its trough 03:00–06:00, busier Friday
  and Saturday evenings, a mild summer peak and more disputes around the Spring Festival;
* self-excitation (a Hawkes-style branching process): every call spawns, with probability
  ``BRANCH``, one follow-up within 7 days and a few hundred metres, often of the same
  category (repeated disputes, repeat burglaries), or a repeated call (9902) minutes later.

Units: coordinates are WGS-84 longitude/latitude in degrees (6 decimals); offsets in metres
use a local equirectangular scale at 25.15° N; internal times are whole seconds after
``start`` 00:00 China Standard Time (UTC+8, CST); each constant names its unit. Pure:
standard library, numpy and shapely only.
"""

from __future__ import annotations

import csv
import json
import math
import random
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from random import Random as Rnd

import numpy as np
import shapely
from numpy.random import Generator as Rng
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from fengqiao.incidents.defaults import SECOND_LEVEL

CST = timezone(timedelta(hours=8))  # China Standard Time
DAY = 86_400  # seconds
RATE = 0.12e-3  # calls per resident per day, follow-ups included
BRANCH = 0.25  # probability that a call spawns a follow-up (branching ratio)
FOLLOW_DAYS = 1.5  # mean delay of a follow-up, days (truncated at MAX_FOLLOW_DAYS)
MAX_FOLLOW_DAYS = 7
FOLLOW_SD_M = 150.0  # standard deviation of a follow-up's offset, metres (cut at 3 sd)
HOT_SD_M = 80.0  # spread of calls around a hot spot, metres
M_PER_DEG_LAT = 110_700.0  # metres per degree of latitude at 25° N
M_PER_DEG_LON = 111_320.0 * math.cos(math.radians(25.15))  # metres per degree of longitude
BUSY = {"urban": 1.5, "rural": 1.0}  # busy-place factor by grid kind
HOT_FACTOR = 2.5  # extra factor of a grid holding a hot spot
URBAN_HOT = ("汽车站", "农贸市场", "美食街")  # hot spots seeded in urban grids
RURAL_HOT = ("圩场",)  # and in rural grids (market days)
COUNTY = "清溪县"
# fmt: off
# Relative calls per hour of the day, 00..23 (CST).
HOURLY = [
    3.0, 2.2, 1.6, 1.1, 0.8, 0.9, 1.5, 2.6, 3.6, 4.2, 4.5, 4.6, 4.2, 4.0, 4.3, 4.5, 4.8, 5.2, 5.6,
    6.4, 6.8, 6.9, 6.0, 4.6,
]
WEEKDAY = [0.97, 0.96, 0.96, 0.98, 1.06, 1.1, 0.97]  # Monday..Sunday, mean 1.0
SPRING_FESTIVAL = {  # 春节; outside these years no festival effect
    2024: date(2024, 2, 10), 2025: date(2025, 1, 29), 2026: date(2026, 2, 17),
    2027: date(2027, 2, 6), 2028: date(2028, 1, 26), 2029: date(2029, 2, 13),
    2030: date(2030, 2, 3),
}
# Second-level category mix in per cent (field notes: traffic and help about a quarter each);
# 9902 also comes from follow-ups (repeated calls).
MIX = {
    "0101": 4.0, "0102": 2.0, "0103": 0.3, "0104": 0.7, "0199": 1.0, "0201": 2.5, "0202": 0.8,
    "0203": 4.0, "0204": 1.2, "0299": 1.5, "0301": 16.0, "0302": 5.0, "0399": 4.0, "0401": 1.0,
    "0501": 0.3, "0502": 0.7, "0601": 4.0, "0602": 4.0, "0603": 1.5, "0604": 1.5, "0605": 1.5,
    "0606": 1.5, "0699": 1.0, "0701": 3.0, "0702": 0.8, "0703": 5.0, "0799": 16.2, "0801": 1.5,
    "0802": 1.0, "0901": 2.5, "9901": 5.0, "9902": 1.0, "9999": 1.5,
}
RURAL_MIX = {"0603": 3.0, "0302": 0.3, "0606": 0.3, "0202": 1.5}  # multipliers in rural grids
FESTIVAL_MIX = {"06": 2.0, "0602": 1.5, "0202": 1.5}  # near the Spring Festival
CHANNELS = {
    "transfer_110": 72.0, "phone": 12.0, "walk_in": 7.0, "online": 4.0, "doorplate_qr": 3.0,
    "enterprise_line": 2.0,
}
# Disposition weights by category prefix (the longest matching prefix wins).
DISPOSITION = {
    "01": {"case": 0.8, "settled": 0.2}, "02": {"settled": 0.8, "case": 0.2},
    "0201": {"case": 0.55, "settled": 0.45}, "0204": {"case": 0.55, "settled": 0.45},
    "0202": {"case": 0.6, "settled": 0.4}, "03": {"settled": 0.9, "referred": 0.1},
    "04": {"settled": 0.5, "referred": 0.5}, "05": {"settled": 0.6, "referred": 0.4},
    "06": {"settled": 0.75, "dispute": 0.25}, "07": {"settled": 0.85, "referred": 0.15},
    "08": {"settled": 0.6, "referred": 0.3, "case": 0.1}, "09": {"referred": 1.0},
    "99": {"no_action": 1.0},
}
DESCRIPTIONS = {
    "0101": ("报警人称家中财物被盗，门锁有撬压痕迹", "停放路边的电动车被盗，请求民警处理"),
    "0102": ("报警人称接到冒充客服电话，已转账被骗", "网上刷单返利被骗，请求民警协助"),
    "0103": ("路边有人抢夺报警人手机后逃离", "报警人称被人持械抢走财物"),
    "0104": ("有人被打伤头部流血，请求民警和救护车到场", "双方冲突中一人持刀伤人"),
    "0199": ("报警人发现可疑人员多次在小区徘徊并试开车门", "报警人称被人非法拘禁索要钱款"),
    "0201": ("饭店门口多人打架，请求民警到场", "酒后双方发生肢体冲突"),
    "0202": ("举报某出租屋内有人聚众赌博", "村口小店后屋有人打牌赌钱"),
    "0203": ("邻居深夜装修噪音扰民，多次沟通无果", "广场舞音响声音过大影响休息"),
    "0204": ("有人酒后在店内闹事、辱骂店员", "一伙人在路边拦截过往行人滋事"),
    "0299": ("有人在路边焚烧垃圾影响周边", "小区内发现有人非法张贴小广告"),
    "0301": ("两车发生刮擦，双方对责任有争议", "电动车与小轿车相撞，一人受轻伤"),
    "0302": ("路口车辆拥堵严重，请求疏导", "货车违停造成道路堵塞"),
    "0399": ("车辆挡住出口无法联系车主，请求协助挪车", "有车辆长期占道停放"),
    "0401": ("居民楼内冒出浓烟，疑似起火", "山上有火情，请求扑救"),
    "0501": ("暴雨后山体滑坡堵住村道", "溪水上涨有村民被困"),
    "0502": ("工地有工人从高处坠落受伤", "店铺招牌脱落砸中路人"),
    "0601": ("邻里因噪音发生口角，请求民警到场调解", "邻居之间因排水沟问题发生争执"),
    "0602": ("夫妻因家庭琐事发生争吵，请求民警调解", "兄弟因赡养老人问题发生争执"),
    "0603": ("村民因山林界址发生争执", "两户村民因宅基地边界发生纠纷"),
    "0604": ("工人讨要拖欠工资与老板发生争执", "多名工人聚集讨薪，请求民警到场"),
    "0605": ("买卖双方因货款结算发生纠纷", "租房押金退还问题发生争执"),
    "0606": ("业主与物业因停车收费发生争执", "业主因漏水问题与物业发生纠纷"),
    "0699": ("顾客与商家因退货问题发生争执", "双方因琐事发生口角"),
    "0701": ("家中老人外出未归，手机无法联系", "小孩放学后未回家，家长请求帮助寻找"),
    "0702": ("有人落水，请求救助", "老人在家中摔倒无法起身"),
    "0703": ("路边井盖缺失存在安全隐患", "小区燃气管道有异味，请求协助处置"),
    "0799": ("报警人钥匙锁在屋内，请求帮助", "醉酒男子躺在路边，请求民警帮助", "报警人身份证丢失，咨询补办"),
    "0801": ("举报有人非法销售烟花爆竹", "举报某网吧接纳未成年人上网"),
    "0802": ("投诉夜市摊点占道经营", "投诉工地夜间施工扰民"),
    "0901": ("路灯损坏，道路夜间无照明", "家中停水，请求联系供水部门"),
    "9901": ("电话接通后无人说话", "儿童拨打报警电话玩耍"),
    "9902": ("同一事项再次报警，催促民警到场",),
    "9999": ("咨询户籍办理事宜", "报警人称已自行处理，无需出警"),
}
SURNAMES = "陈林黄张李王吴刘蔡杨郑邱赖罗钟谢游温江曾卢廖范饶傅邓苏何"
GIVEN = "伟强磊军勇杰涛斌超明华平辉建鹏俊浩宇志文海峰婷丽芳敏静燕红霞秀兰玲娟琳欣颖雪梅春清"
ROADS = ("人民路", "建设路", "和平路", "新华街", "东环路", "府前路", "滨江路", "文昌路")
COLUMNS = [
    "key", "received_at", "channel", "category_code", "priority", "lon", "lat", "address",
    "description", "reporter_name", "reporter_phone", "dispatched_at", "accepted_at", "arrived_at",
    "handled_at", "closed_at", "responder_no", "disposition",
]
# fmt: on
PRIORITY = {c.code: c.priority for c in SECOND_LEVEL}
CHANNEL_W = {  # channel weights out of / during office hours (no walk-ins at night)
    False: [0.0 if k == "walk_in" else w for k, w in CHANNELS.items()],
    True: list(CHANNELS.values()),
}


@dataclass
class _Grid:
    code: str
    kind: str  # urban | rural
    population: int  # residents
    places: list[str]  # communities or villages
    road: str  # the road in an urban grid's name, or ""
    poly: BaseGeometry  # WGS-84 degrees
    officers: list[str]  # personnel_no
    auxiliaries: list[str]
    hot: tuple[str, float, float] | None = None  # hot spot: name, lon, lat


@dataclass
class _Event:
    t: int  # received, seconds after ``start`` 00:00 CST
    grid: int  # index into the grid list
    code: str  # second-level category code
    lon: float  # degrees
    lat: float
    address: str
    reporter: tuple[str, str]  # name, mobile


# Case categories that grid policing prevents in the reports (thefts, fights, gambling...).
PREVENTABLE = frozenset(c.code for c in SECOND_LEVEL if c.is_case)


def _load_grids(grids_geojson: Path, personnel_csv: Path) -> list[_Grid]:
    """Grids of the county with the officers and auxiliaries serving each of them."""
    staff: defaultdict[tuple[str, str], list[str]] = defaultdict(list)  # (grid, kind) -> nos
    with personnel_csv.open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            for code in filter(None, (row.get("grid_codes") or "").split(";")):
                staff[code, row["kind"]].append(row["personnel_no"])
    grids: list[_Grid] = []
    for feature in json.loads(grids_geojson.read_text(encoding="utf-8"))["features"]:
        props, poly = feature["properties"], shape(feature["geometry"])
        shapely.prepare(poly)
        places = [p for p in str(props.get("places") or "").split(";") if p] or [props["name"]]
        name, stem = str(props["name"]).removesuffix("警格"), places[0].removesuffix("社区")
        road = name[len(stem) :] if props["kind"] == "urban" and name.startswith(stem) else ""
        off, aux = staff[props["code"], "officer"], staff[props["code"], "auxiliary"]
        pop = int(props["population"])
        grids.append(_Grid(props["code"], props["kind"], pop, places, road, poly, off, aux))
    return grids


def _point_in(grid: _Grid, rng: Rng) -> tuple[float, float]:
    """A uniform random (lon, lat) in degrees, 6 decimals, inside the grid polygon."""
    minx, miny, maxx, maxy = grid.poly.bounds
    while True:
        x, y = (round(float(v), 6) for v in rng.uniform((minx, miny), (maxx, maxy)))
        if shapely.contains_xy(grid.poly, x, y):
            return x, y


def _near(grid: _Grid, lon: float, lat: float, sd_m: float, rng: Rng) -> tuple[float, float]:
    """A point about ``sd_m`` metres (Gaussian, cut at 3 sd) from (lon, lat), in the grid."""
    for _ in range(30):
        dx, dy = rng.normal(0.0, sd_m, 2)
        if math.hypot(dx, dy) > 3 * sd_m:
            continue
        x, y = round(lon + dx / M_PER_DEG_LON, 6), round(lat + dy / M_PER_DEG_LAT, 6)
        if shapely.contains_xy(grid.poly, x, y):
            return x, y
    return lon, lat


def _address(grid: _Grid, rnd: Rnd) -> str:
    """Plausible address text: community + road + number, or village + group + number."""
    place = rnd.choice(grid.places)
    if grid.kind == "urban":
        return f"{COUNTY}{place}{grid.road or rnd.choice(ROADS)}{rnd.randint(1, 299)}号"
    return f"{COUNTY}{place}{rnd.randint(1, 12)}组{rnd.randint(1, 80)}号"


def _reporter(rnd: Rnd) -> tuple[str, str]:
    """A Chinese name and a mobile number 1[3-9] + 9 digits."""
    name = rnd.choice(SURNAMES) + "".join(rnd.choices(GIVEN, k=rnd.choice((1, 2, 2))))
    return name, f"1{rnd.randint(3, 9)}{rnd.randrange(10**9):09d}"


def _hour_profile(weekday: int) -> list[float]:
    """Relative calls per hour on a weekday (0 = Monday); Friday/Saturday evenings busier."""
    late = weekday in (4, 5)
    early = weekday in (5, 6)  # the small hours after a Friday or Saturday night
    return [
        w * (1.5 if late and h >= 19 else 1.3 if early and h <= 1 else 1.0)
        for h, w in enumerate(HOURLY)
    ]


PROFILES = [_hour_profile(wd) for wd in range(7)]


def _festival(day: date) -> bool:
    """True within 10 days either side of the Spring Festival."""
    fest = SPRING_FESTIVAL.get(day.year)
    return fest is not None and abs((day - fest).days) <= 10


def _mixes() -> dict[tuple[str, bool], tuple[list[str], list[float]]]:
    """Category codes and weights by (grid kind, near the Spring Festival)."""
    out: dict[tuple[str, bool], tuple[list[str], list[float]]] = {}
    for kind in ("urban", "rural"):
        for fest in (False, True):
            r, f = RURAL_MIX if kind == "rural" else {}, FESTIVAL_MIX if fest else {}
            weights = [w * r.get(c, 1) * f.get(c[:2], 1) * f.get(c, 1) for c, w in MIX.items()]
            out[kind, fest] = (list(MIX), weights)
    return out


def _place(grid: _Grid, rng: Rng, rnd: Rnd) -> tuple[float, float, str]:
    """Point and address of a background call: half of a hot-spot grid's calls at the spot."""
    if grid.hot is not None and rnd.random() < 0.5:
        name, lon, lat = grid.hot
        return (*_near(grid, lon, lat, HOT_SD_M, rng), name)
    return (*_point_in(grid, rng), _address(grid, rnd))


def _seed_hot_spots(grids: list[_Grid], rng: Rng, rnd: Rnd) -> None:
    """Mark a few busy grids (bus station, market, food street; a rural market) with a spot."""
    for kind, names in (("urban", URBAN_HOT), ("rural", RURAL_HOT)):
        pool = sorted((g for g in grids if g.kind == kind), key=lambda g: -g.population)
        chosen = rnd.sample(pool[: max(len(names), len(pool) // 2)], min(len(names), len(pool)))
        for grid, name in zip(chosen, names, strict=False):
            label = f"{COUNTY}{grid.road or grid.places[0]}{name}"
            grid.hot = (label, *_point_in(grid, rng))


def _background(grids: list[_Grid], start: date, days: int, rng: Rng, rnd: Rnd) -> list[_Event]:
    """Background calls: a Poisson count per day, hour from the profile, grid by weight."""
    weights = np.array(
        [g.population * BUSY[g.kind] * (HOT_FACTOR if g.hot else 1.0) for g in grids]
    )
    p_grid = weights / weights.sum()
    base = RATE * sum(g.population for g in grids) * (1 - BRANCH)  # calls per day
    mixes, events = _mixes(), list[_Event]()
    for d in range(days):
        day = start + timedelta(days=d)
        fest = _festival(day)
        season = 1.0 + 0.08 * math.cos(2 * math.pi * (day.timetuple().tm_yday - 196) / 365)
        n = int(rng.poisson(base * season * WEEKDAY[day.weekday()] * (1.1 if fest else 1.0)))
        profile = np.array(_hour_profile(day.weekday()))
        hours = rng.choice(24, size=n, p=profile / profile.sum())
        seconds = rng.integers(0, 3600, size=n)
        for h, s, gi in zip(hours, seconds, rng.choice(len(grids), size=n, p=p_grid), strict=True):
            grid = grids[int(gi)]
            codes, cw = mixes[grid.kind, fest]
            lon, lat, address = _place(grid, rng, rnd)
            t, code = d * DAY + int(h) * 3600 + int(s), rnd.choices(codes, cw)[0]
            events.append(_Event(t, int(gi), code, lon, lat, address, _reporter(rnd)))
    return events


def _follow_time(t0: int, start_wd: int, rnd: Rnd) -> int:
    """A follow-up time: exponential delay (cut at 7 days), thinned by the hour profile."""
    peak = max(max(p) for p in PROFILES)
    for _ in range(200):
        dt = rnd.expovariate(1.0 / (FOLLOW_DAYS * DAY))
        t = t0 + int(dt)
        weight = PROFILES[(start_wd + t // DAY) % 7][t % DAY // 3600]
        if dt <= MAX_FOLLOW_DAYS * DAY and rnd.random() < weight / peak:
            return t
    return t0 + 3600


def _offspring(
    events: list[_Event], grids: list[_Grid], start: date, days: int, rng: Rng, rnd: Rnd
) -> list[_Event]:
    """Follow-ups of every call, generation by generation (each may spawn again)."""
    mixes, queue, out = _mixes(), list(events), list[_Event]()
    for parent in queue:  # the loop also visits the children appended below
        if parent.code == "9902" or rnd.random() >= BRANCH:
            continue
        grid = grids[parent.grid]
        kind = rnd.choices(("same", "repeat", "other"), (0.55, 0.15, 0.30))[0]
        if kind == "repeat":  # the caller rings again, same place, minutes later
            child = replace(parent, t=parent.t + rnd.randint(5 * 60, 90 * 60), code="9902")
        else:
            t = _follow_time(parent.t, start.weekday(), rnd)
            day = start + timedelta(days=t // DAY)
            code = parent.code
            if kind == "other":
                code = rnd.choices(*mixes[grid.kind, _festival(day)])[0]
            if rnd.random() < 0.3:  # the same address again
                lon, lat, address = parent.lon, parent.lat, parent.address
            else:
                lon, lat = _near(grid, parent.lon, parent.lat, FOLLOW_SD_M, rng)
                moved = (lon, lat) != (parent.lon, parent.lat)
                address = _address(grid, rnd) if moved else parent.address
            caller = parent.reporter if kind == "same" and rnd.random() < 0.6 else _reporter(rnd)
            child = _Event(t, parent.grid, code, lon, lat, address, caller)
        if child.t < days * DAY:
            out.append(child)
            queue.append(child)
    return events + out


def _timeline(
    event: _Event, grid: _Grid, end: int, rnd: Rnd, *, leave_open: bool, reformed: bool = False
) -> list[int]:
    """Seconds of dispatched, accepted, arrived, handled, closed; cut for still-open calls.

    Dispatch 1–6 min after receipt, acceptance 0–2 min later, travel lognormal (urban 5–15,
    rural 10–35 min), handling 10–90 min, closing within a day. Calls in the last three weeks
    are still open with a probability falling with age (about 2 % of all rows); a step later
    than ``end`` (the end of the history) has not happened yet.
    """
    urban = grid.kind == "urban"
    median = (6.0 if urban else 13.0) if reformed else (9.0 if urban else 19.0)
    travel = rnd.lognormvariate(math.log(median), 0.3 if urban else 0.35)
    low = (3.0 if urban else 6.0) if reformed else (5.0 if urban else 10.0)
    travel = min(max(travel, low), 15.0 if urban else 35.0)
    steps = [rnd.randint(60, 360), rnd.randint(0, 120), int(travel * 60), rnd.randint(600, 5400)]
    steps.append(min(DAY, 300 + int(rnd.expovariate(1 / 10_800))))  # closing, mean 3 h
    times = [event.t + int(x) for x in np.cumsum(steps)]
    age_days = (end - event.t) / DAY
    if leave_open and age_days < 21 and rnd.random() < 0.95 * math.exp(-age_days / 8):
        times = times[: rnd.randint(0, 4)]
    return [t for t in times if t <= end]


def _disposition(code: str, rnd: Rnd) -> str:
    """A disposition drawn by the longest matching category prefix."""
    table = DISPOSITION.get(code) or DISPOSITION[code[:2]]
    return rnd.choices(list(table), list(table.values()))[0]


def generate_incident_history(
    grids_geojson: Path,
    personnel_csv: Path,
    out_csv: Path,
    *,
    start: date,
    days: int = 365,
    seed: int = 20261122,
    leave_open: bool = True,
    reform_day: int | None = None,
) -> int:
    """Write ``days`` days of incidents from ``start`` (CST) to ``out_csv``; return the rows.

    Reads the county's grids (GeoJSON, WGS-84 degrees, population in residents) and
    personnel (CSV with grid_codes). The same inputs and ``seed`` give a byte-identical file.
    Times are ISO 8601 with +08:00; responders are an officer (mostly) or auxiliary of the
    call's grid. With ``leave_open`` false every call is closed, as in a finished period.

    ``reform_day`` (days after ``start``) is when grid policing and the joint station began,
    in the direction of the field reports: from then on a third of the background cases
    (criminal and public-order case categories) are prevented, and travel is faster
    (urban about 3, rural about 6 minutes less) because the grid's own people answer.
    """
    rng, rnd = np.random.default_rng(seed), random.Random(seed)
    grids = _load_grids(grids_geojson, personnel_csv)
    _seed_hot_spots(grids, rng, rnd)
    background = _background(grids, start, days, rng, rnd)
    if reform_day is not None:
        background = [
            e
            for e in background
            if not (e.t >= reform_day * DAY and e.code in PREVENTABLE and rnd.random() < 1 / 3)
        ]
    events = _offspring(background, grids, start, days, rng, rnd)
    events.sort(key=lambda e: e.t)  # stable: ties keep creation order
    origin = datetime(start.year, start.month, start.day, tzinfo=CST)
    end, seq = days * DAY, dict[int, int]()

    def iso(t: int) -> str:
        return (origin + timedelta(seconds=t)).isoformat()

    out_csv.parent.mkdir(parents=True, exist_ok=True)
    with out_csv.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        for e in events:
            grid = grids[e.grid]
            seq[e.t // DAY] = seq.get(e.t // DAY, 0) + 1
            received = origin + timedelta(seconds=e.t)
            open_hours = 8 <= received.hour < 20  # walk-ins only while the hall is open
            channel = rnd.choices(list(CHANNELS), CHANNEL_W[open_hours])[0]
            reformed = reform_day is not None and e.t >= reform_day * DAY
            times = _timeline(e, grid, end, rnd, leave_open=leave_open, reformed=reformed)
            team = grid.officers if rnd.random() < 0.7 else grid.auxiliaries
            team = team or grid.officers + grid.auxiliaries
            key = f"QX110-{received:%Y%m%d}-{seq[e.t // DAY]:05d}"
            head = [
                key,
                iso(e.t),
                channel,
                e.code,
                PRIORITY[e.code],
                f"{e.lon:.6f}",
                f"{e.lat:.6f}",
            ]
            text = [e.address, rnd.choice(DESCRIPTIONS[e.code]), *e.reporter]
            steps = [iso(t) for t in times] + [""] * (5 - len(times))
            responder = rnd.choice(team) if times and team else ""
            disposition = _disposition(e.code, rnd) if len(times) >= 4 else ""
            writer.writerow([*head, *text, *steps, responder, disposition])
    return len(events)
