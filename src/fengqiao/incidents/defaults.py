"""Reference data seeded into a new database: the two-level incident classification
and the first-responder routing rules. Both are tables afterwards, edited by users.

Categories follow the top level seen in deployed 110 systems (field notes): 01 criminal,
02 public order, 03 traffic, 04 fire, 05 disaster/accident, 06 dispute by type,
07 request for help, 08 report/complaint, 09 non-police transfer, 99 other/invalid.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CategorySeed:
    code: str
    name_zh: str
    name_en: str
    is_case: bool = False  # handled by the case-handling team
    is_emergency: bool = False  # nearest available units plus a command-room alert
    priority: str = "normal"  # default priority: urgent, high, normal


TOP_LEVEL: list[CategorySeed] = [
    CategorySeed("01", "刑事", "Criminal", is_case=True, priority="high"),
    CategorySeed("02", "治安", "Public order", priority="high"),
    CategorySeed("03", "交通", "Traffic"),
    CategorySeed("04", "火灾", "Fire", is_emergency=True, priority="urgent"),
    CategorySeed("05", "灾害事故", "Disaster or accident", is_emergency=True, priority="urgent"),
    CategorySeed("06", "纠纷", "Dispute"),
    CategorySeed("07", "群众求助", "Request for help"),
    CategorySeed("08", "举报投诉", "Report or complaint"),
    CategorySeed("09", "应急联动", "Non-police transfer"),
    CategorySeed("99", "其他", "Other"),
]

SECOND_LEVEL: list[CategorySeed] = [
    CategorySeed("0101", "盗窃", "Theft", is_case=True, priority="high"),
    CategorySeed("0102", "诈骗", "Fraud", is_case=True, priority="high"),
    CategorySeed("0103", "抢劫抢夺", "Robbery", is_case=True, is_emergency=True, priority="urgent"),
    CategorySeed("0104", "故意伤害", "Assault", is_case=True, is_emergency=True, priority="urgent"),
    CategorySeed("0199", "其他刑事", "Other criminal", is_case=True, priority="high"),
    CategorySeed("0201", "打架斗殴", "Fighting", is_case=True, priority="high"),
    CategorySeed("0202", "赌博", "Gambling", is_case=True),
    CategorySeed("0203", "噪音扰民", "Noise nuisance"),
    CategorySeed("0204", "寻衅滋事", "Provocation", is_case=True, priority="high"),
    CategorySeed("0299", "其他治安", "Other public order"),
    CategorySeed("0301", "交通事故", "Traffic accident", priority="high"),
    CategorySeed("0302", "交通堵塞", "Traffic jam"),
    CategorySeed("0399", "其他交通", "Other traffic"),
    CategorySeed("0401", "火灾", "Fire", is_emergency=True, priority="urgent"),
    CategorySeed("0501", "自然灾害", "Natural disaster", is_emergency=True, priority="urgent"),
    CategorySeed("0502", "安全事故", "Safety accident", is_emergency=True, priority="urgent"),
    CategorySeed("0601", "邻里纠纷", "Neighbour dispute"),
    CategorySeed("0602", "婚姻家庭纠纷", "Marriage or family dispute"),
    CategorySeed("0603", "山林土地纠纷", "Land boundary dispute"),
    CategorySeed("0604", "劳资纠纷", "Wage dispute"),
    CategorySeed("0605", "合同经济纠纷", "Contract dispute"),
    CategorySeed("0606", "物业纠纷", "Property-management dispute"),
    CategorySeed("0699", "其他纠纷", "Other dispute"),
    CategorySeed("0701", "人员走失", "Missing person", priority="high"),
    CategorySeed(
        "0702", "溺水坠落救助", "Drowning or fall rescue", is_emergency=True, priority="urgent"
    ),
    CategorySeed("0703", "水电气热求助", "Water, power or gas emergency"),
    CategorySeed("0799", "其他求助", "Other request for help"),
    CategorySeed("0801", "举报", "Report"),
    CategorySeed("0802", "投诉", "Complaint"),
    CategorySeed("0901", "非警务移交", "Non-police transfer"),
    CategorySeed("9901", "无效警情", "Invalid call"),
    CategorySeed("9902", "重复报警", "Repeated call"),
    CategorySeed("9999", "其他", "Other"),
]


@dataclass(frozen=True)
class RuleSeed:
    position: int
    name: str
    action: str  # grid_officer | case_team | nearest_available | command_room
    category_prefix: str | None = None
    match_case: bool | None = None
    match_emergency: bool | None = None
    match_priority: str | None = None
    units: int = 1
    alert_command_room: bool = False


RULES: list[RuleSeed] = [
    RuleSeed(
        10,
        "Emergencies: nearest available units and a command-room alert",
        "nearest_available",
        match_emergency=True,
        units=2,
        alert_command_room=True,
    ),
    RuleSeed(
        20,
        "Urgent calls: nearest available unit and a command-room alert",
        "nearest_available",
        match_priority="urgent",
        units=1,
        alert_command_room=True,
    ),
    RuleSeed(
        30, "Disputes stay with the grid's community officer", "grid_officer", category_prefix="06"
    ),
    RuleSeed(
        40,
        "Requests for help stay with the grid's community officer",
        "grid_officer",
        category_prefix="07",
    ),
    RuleSeed(50, "Cases go to the station's case-handling team", "case_team", match_case=True),
    RuleSeed(
        90, "Everything else: the grid's community officer (first-responder rule)", "grid_officer"
    ),
]
