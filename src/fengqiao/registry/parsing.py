"""Chinese address text → standard address elements, name initials and search terms.

Pure text functions: no database, no web. The parser reads an address from coarse to
fine (province … room) with one anchored pattern per level, so every element is cut at
its own suffix (省 市 区/县 街道/镇/乡 社区/村 路/街/大道 … 号 栋 单元 层 室) and a name
can never reach across digits. Decisions worth knowing:

* Municipalities (北京 天津 上海 重庆) are cities: "北京市朝阳区" gives ``province=None``,
  ``city="北京市"``, ``district="朝阳区"``; "北京朝阳区" reads the same.
* ``#`` directly after a digit means 号 ("12#" → "12号"), so "12#楼" reads as building
  "12栋"; any other ``#`` is dropped as noise.
* A floor is only set when written (5层 / 5楼); "3栋2单元502" gives room "502室".
* "3-2-301" after a road or compound is building, unit and room; "3栋2-301" is unit 2
  room 301. Digits split by a space, comma, 、 / ~ or 至 keep a "-" ("10至12号" →
  "10-12号"); a number right after a road without 号 is the door number ("幸福路12").
* A compound written right after a road (no door number between) joins the road
  ("幸福路锦绣花园"); a compound after a door number is an alias and goes to ``rest``.
* A lane after a road stays part of the road ("长乐路100弄").
* The longest compound wins and its name may hold suffix characters ("翠苑花园",
  "碧桂园", "万科城市花园"); "XX新村" is a compound, "新村村"/"张家新村村委会" villages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pypinyin import Style, lazy_pinyin

from fengqiao.i18n import _

__all__ = [
    "LEVELS",
    "AddressParseError",
    "ParsedAddress",
    "chinese_number",
    "initials",
    "normalise_text",
    "parse_address",
    "query_terms",
    "search_terms",
]

LEVELS: tuple[str, ...] = (
    "province",
    "city",
    "district",
    "street",
    "community",
    "road",
    "number",
    "building",
    "unit",
    "floor",
    "room",
)


class AddressParseError(ValueError):
    """The text holds no address one could place; ``message`` says what to give."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ParsedAddress:
    province: str | None = None
    city: str | None = None
    district: str | None = None
    street: str | None = None
    community: str | None = None
    road: str | None = None
    number: str | None = None
    building: str | None = None
    unit: str | None = None
    floor: str | None = None
    room: str | None = None
    rest: str = ""

    def elements(self) -> list[tuple[str, str]]:
        """(level, text) pairs of the set elements, coarse to fine."""
        pairs: list[tuple[str, str]] = []
        for level in LEVELS:
            value = getattr(self, level)
            if isinstance(value, str) and value:
                pairs.append((level, value))
        return pairs

    def standard(self) -> str:
        """The normalised address text (the elements joined, ``rest`` left out)."""
        return "".join(text for _level, text in self.elements())

    def finest_level(self) -> str | None:
        pairs = self.elements()
        return pairs[-1][0] if pairs else None


# --- normalisation ---------------------------------------------------------------------

_FULL_WIDTH = {
    **{0xFF10 + i: ord("0") + i for i in range(10)},
    **{0xFF21 + i: ord("A") + i for i in range(26)},
    **{0xFF41 + i: ord("a") + i for i in range(26)},
    0xFF0D: ord("-"),
    0xFF03: ord("#"),
    0x2010: ord("-"),
    0x2013: ord("-"),
    0x2014: ord("-"),
    0x2212: ord("-"),
}
_NOISE = set(",，。.、;；:：!！?？\"'“”‘’`()（）[]【】{}「」《》<>〈〉·~～…|/")
_HASH_NUMBER = re.compile(r"(?<=[0-9])#")
_BUILDING_LETTERS = re.compile(r"[a-z]+(?=[0-9]*(?:栋|幢|座|号楼|单元))")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def normalise_text(text: str) -> str:
    """Half-width digits/letters/``-``/``#``, no whitespace or punctuation noise,
    ``#`` after a digit → 号 (other ``#`` dropped), building letters upper-case.

    Every step looks at one character or its left neighbour only (the letter step
    changes case only), so the normalised form of a substring is a substring of the
    normalised whole up to letter case — which :func:`search_terms` relies on.
    """
    text = text.translate(_FULL_WIDTH)
    text = "".join(ch for ch in text if not ch.isspace() and ch not in _NOISE)
    text = _HASH_NUMBER.sub("号", text).replace("#", "")
    return _BUILDING_LETTERS.sub(lambda m: m.group(0).upper(), text)


# --- Chinese numerals ----------------------------------------------------------------

_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "幺": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_NUM = "[零〇一幺二两三四五六七八九十百千万]"


def chinese_number(text: str) -> int | None:
    """The value of a Chinese (or arabic) numeral, or ``None`` when it is not one.

    Without 十/百/千/万 the characters are read digit by digit ("三零一" → 301);
    with them positionally ("一百零五" → 105, "十二" → 12); a trailing digit after
    百/千/万 without 零 is the next place down ("二百五" → 250).
    """
    text = text.strip().translate(_FULL_WIDTH)
    if not text:
        return None
    if text.isascii():
        return int(text) if text.isdigit() else None
    if any(ch not in _CN_DIGITS and ch not in _CN_UNITS and ch != "万" for ch in text):
        return None
    if not any(ch in _CN_UNITS or ch == "万" for ch in text):
        return int("".join(str(_CN_DIGITS[ch]) for ch in text))
    total = section = 0
    digit: int | None = None
    last_unit = 10**9  # the unit written last in this section (units must fall)
    zero_since_unit = False
    for ch in text:
        if ch in "零〇":
            if digit is not None:
                return None
            zero_since_unit = True
        elif ch in _CN_DIGITS:
            if digit is not None:
                return None
            digit = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            unit = _CN_UNITS[ch]
            if unit >= last_unit:
                return None
            section += (1 if digit is None else digit) * unit
            digit, last_unit, zero_since_unit = None, unit, False
        else:  # 万
            if total or (section == 0 and digit is None):
                return None
            total = (section + (digit or 0)) * 10000
            section, digit, last_unit, zero_since_unit = 0, None, 10000, False
    if digit is not None and last_unit >= 100 and last_unit != 10**9 and not zero_since_unit:
        digit *= last_unit // 10
    return total + section + (digit or 0)


def _arabic(token: str) -> str | None:
    """Arabic digits for a number token ("十二" → "12", "12" → "12", "12-1" kept)."""
    token = token.removeprefix("第")
    if re.fullmatch(r"[0-9]+(?:-[0-9]+)?", token):
        return "-".join(str(int(part)) for part in token.split("-"))
    value = chinese_number(token)
    return None if value is None else str(value)


# --- address patterns -----------------------------------------------------------------

_C = r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"


def _name(stop: str, low: int, high: int, end: str = "(?!)") -> str:
    """A lazy name: any first character, then ``low``…``high`` characters not in stop —
    or in stop when ``end`` (the suffix) follows ("鼓楼区", "新乡市", "柳市镇")."""
    return rf"{_C}(?:(?![{stop}]){_C}|[{stop}](?={end})){{{low},{high}}}?"


_ADMIN_STOP = "省市区县旗镇乡街道路巷弄号栋幢座楼层室村组苑园"
_PROVINCES = [
    "河北",
    "山西",
    "辽宁",
    "吉林",
    "黑龙江",
    "江苏",
    "浙江",
    "安徽",
    "福建",
    "江西",
    "山东",
    "河南",
    "湖北",
    "湖南",
    "广东",
    "海南",
    "四川",
    "贵州",
    "云南",
    "陕西",
    "甘肃",
    "青海",
    "台湾",
]
_REGIONS = {
    "内蒙古": "内蒙古自治区",
    "广西": "广西壮族自治区",
    "西藏": "西藏自治区",
    "宁夏": "宁夏回族自治区",
    "新疆": "新疆维吾尔自治区",
    "香港": "香港特别行政区",
    "澳门": "澳门特别行政区",
}
_MUNICIPALITIES = ("北京", "天津", "上海", "重庆")
_PROVINCE = re.compile(
    rf"(?P<short>{'|'.join(_PROVINCES + list(_REGIONS))})"
    r"(?P<suffix>省|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)?"
)
_MUNICIPALITY = re.compile(rf"(?P<short>{'|'.join(_MUNICIPALITIES)})(?P<suffix>市)?")
# "恩施州"/"大理州" is a prefecture's short form (city names in 州 have one character
# before it: 杭州, 郑州); "X区街道" is a street office (中山市东区街道); 工业园区 is a
# district, 花园区 is not.
_CITY = re.compile(
    rf"{_name(_ADMIN_STOP, 1, 3)}州(?![市区县路街道巷])|"
    rf"{_name(_ADMIN_STOP, 0, 9, '市')}(?:市(?!场|民|政|委|花园|广场|中心|之|镇)|自治州|地区|盟)"
)
_DISTRICT = re.compile(
    rf"{_name(_ADMIN_STOP, 0, 9, '[区县旗]')}(?<![小社景校厂片营])(?<![^业]园)区(?!街道)|"
    rf"{_name(_ADMIN_STOP, 0, 9, '[县旗]')}(?:县|旗)"
)
_COUNTY_CITY = re.compile(rf"{_name(_ADMIN_STOP, 0, 9, '市')}市(?!场|民|政|委|花园|广场|中心|镇)")
_STREET = re.compile(
    rf"(?P<name>{_name('省市区县旗镇乡路巷弄号栋幢座楼层室组', 1, 7, '镇|乡|街道')}路?)"
    r"(?:(?P<office>街道)(?:办事处)?(?!口)|(?P<town>镇|乡)(?!村|下|镇))"
)
_GROUP_TEXT = rf"第?(?P<n>[0-9]+|{_CN_NUM}+)(?:村民小组|小组|组)"
_GROUP = re.compile(_GROUP_TEXT)
_NAMED_GROUP = re.compile(rf"{_name('省市区县旗镇乡街道路巷弄号栋幢座楼层室组村', 1, 5)}组")
# 村 ends a village name unless it is the 村 of "XX新村" (a compound) — a committee or
# a group after it still makes a village ("张家新村村委会", "张家新村3组") — or another
# 村 follows that is not the committee's ("新村村3组" is the village 新村村).
_VILLAGE = (
    r"(?:(?<!新)村|村(?=村委会|村民委员会|委会|民委员会|"
    + _GROUP_TEXT.replace("?P<n>", "")
    + r"))(?!村(?!委会|民委员会))"
)
# A community may be named after a road ("湖南路社区"); "东风居委会" is 东风社区.
_COMMUNITY = re.compile(
    rf"(?P<name>{_name('省市区县旗镇乡街道路巷弄号栋幢座楼层室组', 0, 9, '社区|居')})"
    rf"(?:(?P<sq>社区|居民委员会|居委会)(?:居民委员会|居委会)?|"
    rf"(?P<vil>{_VILLAGE})(?:民委员会|委会)?)"
    r"(?![东西南北中]?大?[路街巷道]|[口小花])(?:村民委员会|村委会|居民委员会|居委会)?"
)
# A park or campus written before its road ("科技园科苑路") is set aside, not the road.
_AREA = re.compile(
    rf"{_C}{{0,6}}?(?:工业园|科技园|产业园|软件园|科学城|生态城|大学城)(?={_C}{{2,9}}?(?:大道|路|街))"
)
_ROAD = re.compile(
    rf"{_name('省市区县旗镇乡号栋幢座室', 0, 11)}(?:大道|大街|胡同|路|街|巷|弄|(?<!街)道)"
)
_ROAD_TAIL = re.compile(
    rf"(?:[东西南北中]段|[东西南北]?延长线|辅路|(?:[0-9]+|{_CN_NUM}+)段|步行街)"
)
_TWICE = re.compile(r"([路街道巷弄])\1*(?=第?[0-9])")
_LANE = re.compile(rf"(?P<n>[0-9]+|{_CN_NUM}+)(?P<suf>弄|巷|支路)")
_ALLEY = re.compile(rf"{_name('省市区县旗镇乡号栋幢座室', 0, 7)}(?:胡同|巷|弄|里)")
_COMPOUND_SUFFIX = (
    r"(?:(?:花园|家园|新村|公寓|山庄|公馆|大厦|广场|新城|苑|园|庭|居|府|城|湾)(?:小区)?|小区)"
)
_PHASE = rf"(?:(?:[0-9]+|{_CN_NUM}+)期)?"
# The name is greedy, so the longest compound wins: "翠苑花园" rather than "翠苑", and
# a name may hold suffix characters itself ("碧桂园", "万科城市花园").
_COMPOUND_NAME = rf"(?:(?![省区县镇乡号栋幢座层室单组]){_C}){{0,11}}"
_LATIN = r"[A-Za-z]+(?![A-Za-z栋幢座楼单号层室])"  # "SOHO现代城", "AB小区"
_COMPOUND = re.compile(rf"(?:{_LATIN}|{_C}){_COMPOUND_NAME}{_COMPOUND_SUFFIX}{_PHASE}")
_COMPOUND_AFTER_ROAD = re.compile(rf"(?:{_C}{_COMPOUND_NAME})?{_COMPOUND_SUFFIX}{_PHASE}")
_NUM = rf"第?(?P<n>[0-9]+|{_CN_NUM}+)"
_NUMBER = re.compile(rf"第?(?P<n>[0-9]+(?:-[0-9]+)?|{_CN_NUM}+)号++(?![楼房栋])院?")
# Digits split by a space, comma, 、, /, ~ or 至 ("10至12号", "幸福路12 3栋") keep a "-".
_DIGIT_GAP = re.compile(r"(?<=[0-9０-９])(?:[\s,，、/~～]+|至)(?=[0-9０-９])")
_BARE_NUMBER = re.compile(r"(?P<n>[0-9]+)(?:-(?=[0-9A-Z]+(?:栋|幢|座|号楼))|$)")
_UNIT_ROOM = re.compile(r"(?P<u>[0-9]{1,2})-(?P<r>[0-9]{3,4})(?![0-9])")
_TRIPLE = re.compile(r"(?P<b>[0-9]+)-(?P<u>[0-9]+)-(?P<r>[0-9]+)(?:室|号|号房)?(?![0-9])")
_BUILDING = re.compile(
    rf"第?(?P<n>[0-9]+[A-Z]?|[A-Z][0-9]*|{_CN_NUM}+)(?:号楼|号栋|栋|幢|座|号(?=[0-9]+单元))(?:栋|幢|座)*"
)
_UNIT = re.compile(rf"{_NUM}单元(?:单元)*")
_FLOOR = re.compile(rf"(?P<neg>负|-)?{_NUM}(?:层|楼)(?:层)*")
_ROOM = re.compile(rf"-?(?P<n>[A-Z]?[0-9]+(?:-[0-9]+)?|{_CN_NUM}+)(?P<suf>室|号房|房间?|户|号)室*")
_BARE_ROOM = re.compile(
    r"-?(?P<n>[0-9]{1,2}-[0-9]{1,2}|[0-9]{3,4}|[零〇一二三四五六七八九]{3,4})(?![0-9])"
)
_LEADING = re.compile(r"^(?:中华人民共和国|中国)?(?:地址|住址|家住|现住|住在|位于)?")
_HAS_CJK = re.compile(_C)


class _Reader:
    """A cursor over the normalised text that fills the elements level by level."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.found: dict[str, str] = {}
        self.aside: list[str] = []

    def match(self, pattern: re.Pattern[str]) -> re.Match[str] | None:
        return pattern.match(self.text, self.pos)

    def take(self, pattern: re.Pattern[str], level: str) -> bool:
        m = self.match(pattern)
        if m is None or not m.group(0):
            return False
        self.found[level] = m.group(0)
        self.pos = m.end()
        return True

    def take_numbered(self, pattern: re.Pattern[str], level: str, suffix: str) -> bool:
        m = self.match(pattern)
        if m is None:
            return False
        value = _arabic(m.group("n"))
        if value is None:
            return False
        sign = "-" if "neg" in m.groupdict() and m.group("neg") else ""
        self.found[level] = f"{sign}{value}{suffix}"
        self.pos = m.end()
        return True


def _read_admin(r: _Reader) -> None:
    m = r.match(_PROVINCE)
    # a bare "湖北" is a province only when a city or county follows ("湖南路" is a road)
    if m and (
        m.group("suffix")
        or (
            r.text[m.end() : m.end() + 1] not in "路街道巷弄"
            and (_CITY.match(r.text, m.end()) or _DISTRICT.match(r.text, m.end()))
        )
    ):
        r.found["province"] = _REGIONS.get(m.group("short"), m.group("short") + "省")
        r.pos = m.end()
    m = r.match(_MUNICIPALITY)
    if m and (m.group("suffix") or _DISTRICT.match(r.text, m.end())):
        r.found["city"] = m.group("short") + "市"
        r.pos = m.end()
    else:
        r.take(_CITY, "city")
    if not r.take(_DISTRICT, "district") and "city" in r.found:
        r.take(_COUNTY_CITY, "district")
    m = r.match(_STREET)
    if m:
        suffix = "街道" if m.group("office") else m.group("town")
        r.found["street"] = m.group("name") + suffix
        r.pos = m.end()


def _read_place(r: _Reader) -> None:
    m = r.match(_COMMUNITY)
    if m:
        r.found["community"] = m.group("name") + ("社区" if m.group("sq") else "村")
        r.pos = m.end()
        if m.group("vil") and (
            r.take_numbered(_GROUP, "road", "组") or r.take(_NAMED_GROUP, "road")
        ):
            return
    if area := r.match(_AREA):
        r.aside.append(area.group(0))
        r.pos = area.end()
    if r.take(_ROAD, "road"):
        if (twice := _TWICE.match(r.text, r.pos)) and twice.group(1) == r.found["road"][-1]:
            r.pos = twice.end()  # "幸福路路12号"
        while tail := r.match(_ROAD_TAIL):
            r.found["road"] += tail.group(0)
            r.pos = tail.end()
        if alley := r.match(_ALLEY):
            r.found["road"] += alley.group(0)
            r.pos = alley.end()
        lane = r.match(_LANE)
        value = _arabic(lane.group("n")) if lane else None
        if lane and value:
            r.found["road"] += value + lane.group("suf")
            r.pos = lane.end()
        if compound := r.match(_COMPOUND_AFTER_ROAD):
            r.found["road"] += compound.group(0)
            r.pos = compound.end()
    else:
        r.take(_COMPOUND, "road")


def _read_door(r: _Reader) -> None:
    kind = r.found.get("road", " ")[-1]  # " ": no road; not a road suffix: a compound
    on_road = kind in "路街道巷弄同组"
    # in a compound "3号2单元" is building 3; on a road "12" is a door number without 号
    door = kind == " " or on_road or not r.match(_BUILDING)
    if door and not r.take_numbered(_NUMBER, "number", "号") and on_road:
        r.take_numbered(_BARE_NUMBER, "number", "号")
    if "number" in r.found and (alias := r.match(_COMPOUND)):
        r.aside.append(alias.group(0))
        r.pos = alias.end()
    m = r.match(_TRIPLE)
    if m:
        r.found.update(
            building=f"{int(m.group('b'))}栋",
            unit=f"{int(m.group('u'))}单元",
            room=f"{int(m.group('r'))}室",
        )
        r.pos = m.end()
        return
    m = r.match(_BUILDING)
    if m:
        letters = m.group("n")
        value = letters if re.search("[A-Z]", letters) else _arabic(letters)
        if value is not None:
            r.found["building"] = f"{value}栋"
            r.pos = m.end()
            if pair := r.match(_UNIT_ROOM):  # "3栋2-301"
                r.found["unit"] = f"{int(pair.group('u'))}单元"
                r.pos = pair.start("r")
    r.take_numbered(_UNIT, "unit", "单元")
    r.take_numbered(_FLOOR, "floor", "层")
    # a house in a lane ("1266弄2号") is a building: a bare room may follow
    inside = any(level in r.found for level in ("building", "unit", "floor")) or (
        kind == "弄" and "number" in r.found
    )
    m = r.match(_ROOM)
    if m and (m.group("suf") != "号" or inside):
        token = m.group("n")
        value = token if re.match("[A-Z]", token) else _arabic(token)
        if value is not None:
            r.found["room"] = f"{value}室"
            r.pos = m.end()
            return
    if inside:
        r.take_numbered(_BARE_ROOM, "room", "室")


def parse_address(text: str) -> ParsedAddress:
    """Read the elements of a Chinese address (province down to room).

    Raises :class:`AddressParseError` when the text is blank, holds nothing that reads
    as an address, or names neither a road/compound/community nor a number/building.
    """
    if not text or not text.strip():
        raise AddressParseError(
            _(
                "The address is empty: type at least a road or compound and a number, e.g. 幸福路12号3栋2单元301室."
            )
        )
    normal = _LEADING.sub("", normalise_text(_DIGIT_GAP.sub("-", text)))
    r = _Reader(normal)
    _read_admin(r)
    _read_place(r)
    _read_door(r)
    rest = "".join(r.aside) + normal[r.pos :]
    parsed = ParsedAddress(**r.found, rest=rest)
    if not _HAS_CJK.search(normal) and not r.found:
        raise AddressParseError(
            _(
                "Could not read an address from “{text}”: write it in Chinese with at least a road or compound and a number, e.g. 幸福路12号3栋2单元301室."
            ).format(text=text.strip())
        )
    placed = parsed.road or parsed.community or parsed.number or parsed.building
    if not placed:
        raise AddressParseError(
            _(
                "“{text}” cannot be placed on the map: give at least a road, compound, community or village, or a door or building number, e.g. 幸福路12号 or 锦绣花园3栋."
            ).format(text=text.strip())
        )
    return parsed


# --- initials ----------------------------------------------------------------------------

_SURNAME_INITIALS = {
    "单": "s",
    "曾": "z",
    "区": "o",
    "仇": "q",
    "解": "x",
    "查": "z",
    "朴": "p",
    "乐": "y",
    "覃": "q",
    "翟": "z",
    "尉": "y",
}
_CJK_RUN = re.compile(rf"{_C}+")


def initials(name: str, *, surname: bool = False) -> str:
    """Lower-case pinyin first letters ("张伟" → "zw"); ASCII letters and digits kept
    lower-cased, other characters dropped. With ``surname=True`` the first character, if
    Chinese, takes its surname reading (单 → s, 曾 → z, 区 → o, …)."""
    out: list[str] = []
    pos = 0
    for m in _CJK_RUN.finditer(name):
        out.extend(ch.lower() for ch in name[pos : m.start()] if ch.isascii() and ch.isalnum())
        letters = lazy_pinyin(m.group(0), style=Style.FIRST_LETTER)
        if len(letters) != len(m.group(0)):
            letters = [lazy_pinyin(ch, style=Style.FIRST_LETTER)[0] for ch in m.group(0)]
        for index, (ch, letter) in enumerate(zip(m.group(0), letters, strict=True)):
            if surname and index == 0 and m.start() == 0 and ch in _SURNAME_INITIALS:
                letter = _SURNAME_INITIALS[ch]
            if letter.isascii() and letter.isalpha():
                out.append(letter[0].lower())
        pos = m.end()
    out.extend(ch.lower() for ch in name[pos:] if ch.isascii() and ch.isalnum())
    return "".join(out)


# --- search terms -------------------------------------------------------------------------

_ASCII_RUN = re.compile(r"[0-9a-z]+")


def _term_text(text: str) -> str:
    return normalise_text(text).translate(_ASCII_LOWER)


def search_terms(*texts: str) -> list[str]:
    """Terms to index for fragment search: every character, every pair of adjacent
    characters and every whole ASCII letter/digit run (lower-case) of each normalised
    text; de-duplicated, in order of first appearance.

    Any query contained in a text has :func:`query_terms` that are a subset of these."""
    terms: dict[str, None] = {}
    for text in texts:
        s = _term_text(text)
        runs = {m.start(): m.group(0) for m in _ASCII_RUN.finditer(s)}
        for i, ch in enumerate(s):
            if i in runs:
                terms.setdefault(runs[i])
            terms.setdefault(ch)
            if i + 1 < len(s):
                terms.setdefault(s[i : i + 2])
    return list(terms)


def query_terms(query: str) -> list[str]:
    """Terms to look up for a query: its bigrams after normalisation (its one character
    when it has one). Every character of a longer query is inside one of its bigrams, so
    single characters would only widen the index scan."""
    s = _term_text(query)
    if len(s) <= 1:
        return [s] if s else []
    return list(dict.fromkeys(s[i : i + 2] for i in range(len(s) - 1)))
