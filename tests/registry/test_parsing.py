"""Address text parsing, Chinese numerals, name initials and fragment search terms."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fengqiao.registry.parsing import (
    LEVELS,
    AddressParseError,
    ParsedAddress,
    chinese_number,
    initials,
    normalise_text,
    parse_address,
    query_terms,
    search_terms,
)


def _elements(spec: str) -> list[tuple[str, str]]:
    """ "road=幸福路 number=12号" → [("road", "幸福路"), ("number", "12号")]."""
    pairs = [tuple(item.split("=", 1)) for item in spec.split()]
    return [(level, value) for level, value in pairs]


# (text, expected elements, expected rest)
ADDRESSES: list[tuple[str, str, str]] = [
    (
        "湖北省武汉市江岸区永清街道幸福社区幸福路12号3栋2单元301室",
        "province=湖北省 city=武汉市 district=江岸区 street=永清街道 community=幸福社区 "
        "road=幸福路 number=12号 building=3栋 unit=2单元 room=301室",
        "",
    ),
    ("北京市朝阳区建国路88号", "city=北京市 district=朝阳区 road=建国路 number=88号", ""),
    ("北京朝阳区建国路88号", "city=北京市 district=朝阳区 road=建国路 number=88号", ""),
    (
        "上海市浦东新区张江镇碧波路690号",
        "city=上海市 district=浦东新区 street=张江镇 road=碧波路 number=690号",
        "",
    ),
    (
        "重庆市渝中区解放碑步行街8号",
        "city=重庆市 district=渝中区 road=解放碑步行街 number=8号",
        "",
    ),
    (
        "天津市和平区成都道100号",
        "city=天津市 district=和平区 road=成都道 number=100号",
        "",
    ),
    (
        "上海市黄浦区淮海中路300弄12号",
        "city=上海市 district=黄浦区 road=淮海中路300弄 number=12号",
        "",
    ),
    (
        "北京市东城区南锣鼓巷帽儿胡同5号",
        "city=北京市 district=东城区 road=南锣鼓巷帽儿胡同 number=5号",
        "",
    ),
    (
        "湖北省红安县城关镇张家村三组12号",
        "province=湖北省 district=红安县 street=城关镇 community=张家村 road=3组 number=12号",
        "",
    ),
    (
        "河南省信阳市光山县槐店乡王岗村五组",
        "province=河南省 city=信阳市 district=光山县 street=槐店乡 community=王岗村 road=5组",
        "",
    ),
    ("李家村村委会3组8号", "community=李家村 road=3组 number=8号", ""),
    ("张家村村民委员会", "community=张家村", ""),
    (
        "江苏省苏州市昆山市玉山镇人民路100号",
        "province=江苏省 city=苏州市 district=昆山市 street=玉山镇 road=人民路 number=100号",
        "",
    ),
    (
        "湖北省仙桃市沙嘴街道复州大道45号",
        "province=湖北省 city=仙桃市 street=沙嘴街道 road=复州大道 number=45号",
        "",
    ),
    (
        "恩施土家族苗族自治州恩施市舞阳坝街道航空大道1号",
        "city=恩施土家族苗族自治州 district=恩施市 street=舞阳坝街道 road=航空大道 number=1号",
        "",
    ),
    (
        "浙江杭州市西湖区文三路478号",
        "province=浙江省 city=杭州市 district=西湖区 road=文三路 number=478号",
        "",
    ),
    (
        "广西南宁市青秀区民族大道100号",
        "province=广西壮族自治区 city=南宁市 district=青秀区 road=民族大道 number=100号",
        "",
    ),
    (
        "中国湖北省武汉市武昌区中南路7号",
        "province=湖北省 city=武汉市 district=武昌区 road=中南路 number=7号",
        "",
    ),
    ("地址：武汉市武昌区中南路7号", "city=武汉市 district=武昌区 road=中南路 number=7号", ""),
    (
        "武汉市洪山区关山街道光谷大道77号A座1501",
        "city=武汉市 district=洪山区 street=关山街道 road=光谷大道 number=77号 building=A栋 "
        "room=1501室",
        "",
    ),
    (
        "幸福社区居委会幸福路3号",
        "community=幸福社区 road=幸福路 number=3号",
        "",
    ),
    ("中山路12号", "road=中山路 number=12号", ""),
    ("玉溪西路5号", "road=玉溪西路 number=5号", ""),
    ("解放大道1000号", "road=解放大道 number=1000号", ""),
    ("江汉路步行街18号", "road=江汉路步行街 number=18号", ""),
    ("人民路东段25号", "road=人民路东段 number=25号", ""),
    ("新华街12号", "road=新华街 number=12号", ""),
    ("新华街道幸福路1号", "street=新华街道 road=幸福路 number=1号", ""),
    ("湖南路12号", "road=湖南路 number=12号", ""),
    ("三眼桥巷8号", "road=三眼桥巷 number=8号", ""),
    ("长乐路100弄3号101室", "road=长乐路100弄 number=3号 room=101室", ""),
    ("幸福路12-1号", "road=幸福路 number=12-1号", ""),
    ("幸福路12#3栋", "road=幸福路 number=12号 building=3栋", ""),
    ("幸福路12#楼", "road=幸福路 building=12栋", ""),
    ("幸福路 １２ 号 ，3栋", "road=幸福路 number=12号 building=3栋", ""),
    (
        "幸福路１２号３栋２单元３０１室",
        "road=幸福路 number=12号 building=3栋 unit=2单元 room=301室",
        "",
    ),
    (
        "幸福路十二号三栋二单元三零一室",
        "road=幸福路 number=12号 building=3栋 unit=2单元 room=301室",
        "",
    ),
    ("幸福路一百零五号", "road=幸福路 number=105号", ""),
    (
        "幸福路12号号3栋栋2单元301",
        "road=幸福路 number=12号 building=3栋 unit=2单元 room=301室",
        "",
    ),
    (
        "锦绣花园小区3栋2单元502",
        "road=锦绣花园小区 building=3栋 unit=2单元 room=502室",
        "",
    ),
    ("锦绣花园3-2-301", "road=锦绣花园 building=3栋 unit=2单元 room=301室", ""),
    (
        "幸福路88号锦绣花园3栋2单元301室门口",
        "road=幸福路 number=88号 building=3栋 unit=2单元 room=301室",
        "锦绣花园门口",
    ),
    (
        "幸福路锦绣花园5栋3楼302",
        "road=幸福路锦绣花园 building=5栋 floor=3层 room=302室",
        "",
    ),
    (
        "怡景苑12栋1单元5层502号房",
        "road=怡景苑 building=12栋 unit=1单元 floor=5层 room=502室",
        "",
    ),
    ("金色家园8栋", "road=金色家园 building=8栋", ""),
    ("江景公寓a栋1203", "road=江景公寓 building=A栋 room=1203室", ""),
    ("幸福路12号b座1203", "road=幸福路 number=12号 building=B栋 room=1203室", ""),
    (
        "幸福路8号3幢2单元一楼",
        "road=幸福路 number=8号 building=3栋 unit=2单元 floor=1层",
        "",
    ),
    (
        "幸福路8号3号楼2单元101",
        "road=幸福路 number=8号 building=3栋 unit=2单元 room=101室",
        "",
    ),
    ("幸福路3号院2号楼", "road=幸福路 number=3号 building=2栋", ""),
    ("幸福路12号对面", "road=幸福路 number=12号", "对面"),
    ("中山路菜市场附近", "road=中山路", "菜市场附近"),
    ("幸福路12号旁边小卖部", "road=幸福路 number=12号", "旁边小卖部"),
    ("幸福路12号101", "road=幸福路 number=12号", "101"),
    ("3栋2单元301", "building=3栋 unit=2单元 room=301室", ""),
    # compound names holding 苑/园/庭/居/府/城/湾 before the final suffix
    (
        "翠苑花园3栋2单元301室",
        "road=翠苑花园 building=3栋 unit=2单元 room=301室",
        "",
    ),
    ("桂园小区3栋", "road=桂园小区 building=3栋", ""),
    ("锦园新村2栋", "road=锦园新村 building=2栋", ""),
    ("万科城市花园5栋", "road=万科城市花园 building=5栋", ""),
    ("碧桂园8栋", "road=碧桂园 building=8栋", ""),
    ("江南苑3栋", "road=江南苑 building=3栋", ""),
    ("丽景湾2栋", "road=丽景湾 building=2栋", ""),
    ("御景庭5栋", "road=御景庭 building=5栋", ""),
    ("翠湖居2栋", "road=翠湖居 building=2栋", ""),
    ("龙湖府1栋", "road=龙湖府 building=1栋", ""),
    ("万科城3栋", "road=万科城 building=3栋", ""),
    ("幸福路翠苑花园3栋", "road=幸福路翠苑花园 building=3栋", ""),
    ("锦绣花园一期3栋", "road=锦绣花园一期 building=3栋", ""),
    # communities, villages and streets whose names hold 园/苑
    (
        "清溪县城关镇杉园村3组5号",
        "district=清溪县 street=城关镇 community=杉园村 road=3组 number=5号",
        "",
    ),
    (
        "城南街道桂园社区怡景花园1栋1单元101室",
        "street=城南街道 community=桂园社区 road=怡景花园 building=1栋 unit=1单元 room=101室",
        "",
    ),
    (
        "桂园街道桂园社区怡景花园1栋",
        "street=桂园街道 community=桂园社区 road=怡景花园 building=1栋",
        "",
    ),
    ("花园镇花园村3组", "street=花园镇 community=花园村 road=3组", ""),
    # "XX新村" is a compound; 新村村, a 新村 with a committee or a group is a village
    ("工人新村5栋", "road=工人新村 building=5栋", ""),
    ("北门社区工人新村5栋", "community=北门社区 road=工人新村 building=5栋", ""),
    ("新村村3组", "community=新村村 road=3组", ""),
    ("新村村村委会2组", "community=新村村 road=2组", ""),
    ("张家新村村委会", "community=张家新村", ""),
    ("张家新村村委会3组8号", "community=张家新村 road=3组 number=8号", ""),
    ("张家新村3组", "community=张家新村 road=3组", ""),
    ("新村社区3栋", "community=新村社区 building=3栋", ""),
    ("新村路5号", "road=新村路 number=5号", ""),
]


@pytest.mark.parametrize(("text", "spec", "rest"), ADDRESSES, ids=[a[0] for a in ADDRESSES])
def test_parse_address_reads_the_elements(text: str, spec: str, rest: str) -> None:
    parsed = parse_address(text)
    assert parsed.elements() == _elements(spec)
    assert parsed.rest == rest


def test_address_table_is_varied() -> None:
    assert len(ADDRESSES) >= 40
    seen = {level for _text, spec, _rest in ADDRESSES for level, _ in _elements(spec)}
    assert seen == set(LEVELS)


@pytest.mark.parametrize(
    ("text", "level", "value"),
    [
        ("中山路12号", "city", None),
        ("玉溪西路5号", "city", None),
        ("解放大道1000号", "street", None),
        ("新华街道幸福路1号", "street", "新华街道"),
        ("新华街12号", "street", None),
        ("城关镇幸福路1号", "street", "城关镇"),
        ("北京市朝阳区建国路88号", "province", None),
        ("湖南路12号", "province", None),
        ("北京路12号", "city", None),
        ("人民路东段25号", "road", "人民路东段"),
        ("江汉路步行街18号", "road", "江汉路步行街"),
        ("锦绣花园小区3栋", "district", None),
    ],
)
def test_traps(text: str, level: str, value: str | None) -> None:
    assert getattr(parse_address(text), level) == value


def test_standard_and_finest_level() -> None:
    parsed = parse_address("湖北省武汉市江岸区 幸福路 十二号 3#楼 2单元 301 门口")
    assert parsed.standard() == "湖北省武汉市江岸区幸福路12号3栋2单元301室"
    assert parsed.finest_level() == "room"
    assert parsed.rest == "门口"
    assert parse_address("幸福路12号").finest_level() == "number"
    assert ParsedAddress().finest_level() is None
    assert ParsedAddress().standard() == ""
    assert ParsedAddress(road="幸福路", rest="门口").elements() == [("road", "幸福路")]


@pytest.mark.parametrize(
    "text",
    [
        "清溪县城南街道北门社区怡景花园1栋1单元101室",
        "清溪县马田乡樟溪垄村11组7号",
        "清溪县城关镇东风社区长安街12号",
        "清溪县城关镇杉园村3组5号",
        "清溪县城南街道桂园社区翠苑花园3栋2单元301室",
        "清溪县城关镇工人新村5栋2单元302室",
        "清溪县城关镇新村村3组5号",
        "清溪县城南街道北门社区碧桂园8栋1单元1201室",
        "清溪县城南街道北门社区万科城市花园5栋3层301室",
    ],
)
def test_standard_addresses_round_trip(text: str) -> None:
    parsed = parse_address(text)
    assert parsed.standard() == text
    assert parsed.rest == ""


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", ("empty", "road", "number")),
        ("   ", ("empty", "road", "number")),
        ("\u3000\n", ("empty", "road", "number")),
        ("asdf", ("asdf", "Chinese", "road", "number")),
        ("123", ("123", "road", "number")),
        ("附近", ("附近", "road", "number")),
        ("湖北省武汉市江夏区纸坊街道", ("纸坊街道", "road", "number")),
    ],
)
def test_unplaceable_text_says_what_to_give(text: str, words: tuple[str, ...]) -> None:
    with pytest.raises(AddressParseError) as info:
        parse_address(text)
    assert isinstance(info.value, ValueError)
    assert str(info.value) == info.value.message
    for word in words:
        assert word in info.value.message
    assert "幸福路12号" in info.value.message  # an example of what to give


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("１２＃楼， 3栋a座。", "12号楼3栋A座"),
        ("12#楼", "12号楼"),
        ("12 #", "12号"),
        ("#301", "301"),
        ("A#3", "A3"),
        ("幸福路\t12－1号", "幸福路12-1号"),
        ("b单元", "B单元"),
        ("abc路", "abc路"),
        ("（门口）", "门口"),
    ],
)
def test_normalise_text(text: str, expected: str) -> None:
    assert normalise_text(text) == expected


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("十二", 12),
        ("二十", 20),
        ("一百零五", 105),
        ("一百一十", 110),
        ("三", 3),
        ("两", 2),
        ("两百", 200),
        ("二百五", 250),
        ("三千零五十", 3050),
        ("一千零一", 1001),
        ("一万二千", 12000),
        ("十", 10),
        ("十五", 15),
        ("〇", 0),
        ("零", 0),
        ("三零一", 301),
        ("二〇二三", 2023),
        ("12", 12),
        ("１２", 12),
        ("十百", None),
        ("三五十", None),
        ("十二号", None),
        ("abc", None),
        ("", None),
        ("1百", None),
    ],
)
def test_chinese_number(text: str, value: int | None) -> None:
    assert chinese_number(text) == value


@pytest.mark.parametrize(
    ("name", "surname", "expected"),
    [
        ("张伟", False, "zw"),
        ("欧阳娜娜", False, "oynn"),
        ("李A", False, "la"),
        ("Tom 李", False, "toml"),
        ("王 小-明3", False, "wxm3"),
        ("", False, ""),
        ("单伟", False, "dw"),
        ("单伟", True, "sw"),
        ("曾志伟", False, "czw"),
        ("曾志伟", True, "zzw"),
        ("区家麟", True, "ojl"),
        ("仇晓", True, "qx"),
        ("解放", True, "xf"),
        ("查良镛", True, "zly"),
        ("朴树", True, "ps"),
        ("乐嘉", True, "yj"),
        ("覃海", False, "th"),
        ("覃海", True, "qh"),
        ("翟欣", True, "zx"),
        ("尉伟", True, "yw"),
        ("张单", True, "zd"),  # only the first character is the surname
    ],
)
def test_initials(name: str, surname: bool, expected: str) -> None:
    assert initials(name, surname=surname) == expected


def test_search_terms_examples() -> None:
    assert search_terms("幸福路12号") == [
        "幸",
        "幸福",
        "福",
        "福路",
        "路",
        "路1",
        "12",
        "1",
        "2",
        "2号",
        "号",
    ]
    assert search_terms("AB", "ab") == ["ab", "a", "b"]
    assert search_terms("李A", "张伟") == ["李", "李a", "a", "张", "张伟", "伟"]
    assert search_terms("  ") == []


def test_query_terms_examples() -> None:
    assert query_terms("幸") == ["幸"]
    assert query_terms("福路1") == ["福路", "路1"]
    assert query_terms("路a号") == ["路a", "a号"]
    assert query_terms("ABC") == ["ab", "bc"]
    assert query_terms("12#") == ["12", "2号"]
    assert query_terms(" ，") == []


_ALPHABET = list("幸福路号栋单元室区市张伟村组") + list("abAB0129#-－ ，１Ａａ。")


@settings(derandomize=True, max_examples=200)
@given(st.text(alphabet=_ALPHABET, max_size=16), st.data())
def test_query_terms_are_a_subset_of_a_containing_text(text: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    query = text[start:end]
    assert set(query_terms(query)) <= set(search_terms("其他", text))
