"""The risk checklist (disputes/risk.py), pure: every item's points, the thresholds at
their boundaries, the levels and their reasons, and bad answers."""

from __future__ import annotations

from typing import Any

import pytest

from fengqiao.disputes.models import RiskLevel
from fengqiao.disputes.risk import QUESTIONS, assess, clean_answers, higher
from fengqiao.errors import InvalidInput

YELLOW, ORANGE, RED = RiskLevel.YELLOW, RiskLevel.ORANGE, RiskLevel.RED


def test_nothing_answered_is_yellow_with_every_item_filled_in() -> None:
    a = assess({})
    assert a.score == 0 and a.level is YELLOW and a.reasons == ()
    assert a.answers == {
        "threats": False,
        "violence": False,
        "repeated_calls": 0,
        "people": 0,
        "money": 0,
        "vulnerable": False,
        "long_standing": False,
    }
    assert set(a.answers) == {q.name for q in QUESTIONS}


@pytest.mark.parametrize(
    ("item", "value", "points", "reason"),
    [
        ("threats", True, 40, "threats of violence"),
        ("violence", True, 25, "fights have happened"),
        ("vulnerable", True, 15, "vulnerable parties"),
        ("long_standing", True, 10, "long-standing grievance"),
    ],
)
def test_each_yes_no_item_alone(item: str, value: bool, points: int, reason: str) -> None:
    a = assess({item: value})
    assert a.score == points
    assert a.reasons == (reason,)
    assert a.answers[item] is True
    assert assess({item: False}).score == 0


def test_threats_alone_are_red() -> None:
    a = assess({"threats": True})
    assert a.level is RED
    # ... whatever else says "calm"
    assert assess({"threats": "yes", "people": 1, "money": 0}).level is RED


@pytest.mark.parametrize(
    ("calls", "points"),
    [(0, 0), (1, 0), (2, 10), (3, 20), (4, 30), (5, 30), (1000, 30)],
)
def test_repeated_calls_thresholds(calls: int, points: int) -> None:
    a = assess({"repeated_calls": calls})
    assert a.score == points
    assert a.reasons == (("repeated calls",) if points else ())
    # 10 → yellow; 20 and 30 → orange
    assert a.level is (ORANGE if points >= 20 else YELLOW)


@pytest.mark.parametrize(
    ("people", "points", "reason"),
    [
        (9, 0, None),
        (10, 20, "10 or more people involved"),
        (29, 20, "10 or more people involved"),
        (30, 40, "30 or more people involved"),
    ],
)
def test_people_thresholds(people: int, points: int, reason: str | None) -> None:
    a = assess({"people": people})
    assert a.score == points
    assert a.reasons == ((reason,) if reason else ())
    assert a.level is {0: YELLOW, 20: ORANGE, 40: RED}[points]


@pytest.mark.parametrize(
    ("money", "points", "reason"),
    [
        (49_999, 0, None),
        (50_000, 15, "50 000 yuan or more involved"),
        (499_999, 15, "50 000 yuan or more involved"),
        (500_000, 30, "500 000 yuan or more involved"),
    ],
)
def test_money_thresholds(money: int, points: int, reason: str | None) -> None:
    a = assess({"money": money})
    assert a.score == points
    assert a.reasons == ((reason,) if reason else ())
    # 15 is yellow, 30 orange: money alone never makes a dispute red
    assert a.level is (ORANGE if points == 30 else YELLOW)


@pytest.mark.parametrize(
    ("answers", "score", "level"),
    [
        # 15 (vulnerable) alone: below 20
        ({"vulnerable": True}, 15, YELLOW),
        # 10 + 10 = 20: the orange threshold exactly
        ({"long_standing": True, "repeated_calls": 2}, 20, ORANGE),
        # 15 + 10 = 25 → orange
        ({"money": 50_000, "long_standing": True}, 25, ORANGE),
        # 25 + 10 = 35 → still orange
        ({"violence": True, "long_standing": True}, 35, ORANGE),
        # 25 + 15 = 40: the red threshold exactly
        ({"violence": True, "vulnerable": True}, 40, RED),
        # 15 + 10 + 10 = 35 → orange (just under red)
        ({"money": 60_000, "long_standing": True, "repeated_calls": 2}, 35, ORANGE),
        # 30 + 20 + 30 + 15 = 95
        ({"money": 500_000, "people": 12, "repeated_calls": 9, "vulnerable": True}, 95, RED),
        # everything: 40 + 25 + 30 + 40 + 30 + 15 + 10 = 190
        (
            {
                "threats": True,
                "violence": True,
                "repeated_calls": 4,
                "people": 30,
                "money": 500_000,
                "vulnerable": True,
                "long_standing": True,
            },
            190,
            RED,
        ),
    ],
)
def test_scores_add_up(answers: dict[str, Any], score: int, level: RiskLevel) -> None:
    a = assess(answers)
    assert a.score == score
    assert a.level is level
    assert len(a.reasons) == sum(1 for v in answers.values() if v)


def test_reasons_follow_the_checklist_order() -> None:
    a = assess(
        {
            "long_standing": True,
            "money": 500_000,
            "threats": True,
            "people": 10,
            "violence": True,
            "vulnerable": True,
            "repeated_calls": 3,
        }
    )
    assert a.reasons == (
        "threats of violence",
        "fights have happened",
        "repeated calls",
        "10 or more people involved",
        "500 000 yuan or more involved",
        "vulnerable parties",
        "long-standing grievance",
    )
    assert a.score == 40 + 25 + 20 + 20 + 30 + 15 + 10


@pytest.mark.parametrize("text", ["on", "是", "yes", "YES", " true ", "1"])
def test_strings_meaning_yes(text: str) -> None:
    a = assess({"violence": text, "vulnerable": text})
    assert a.answers["violence"] is True and a.answers["vulnerable"] is True
    assert a.score == 40 and a.level is RED


@pytest.mark.parametrize("text", ["off", "否", "no", "", "0", "false"])
def test_strings_meaning_no(text: str) -> None:
    a = assess({"threats": text})
    assert a.answers["threats"] is False
    assert a.level is YELLOW and a.score == 0


def test_counts_as_text_with_thousands_separators_and_blanks() -> None:
    a = clean_answers({"money": "500,000", "people": " 12 ", "repeated_calls": ""})
    assert a["money"] == 500_000 and a["people"] == 12 and a["repeated_calls"] == 0
    assert clean_answers({"people": None})["people"] == 0
    assert assess({"money": "500,000"}).score == 30


def test_unknown_items_are_named() -> None:
    with pytest.raises(InvalidInput) as err:
        assess({"threat": True, "monney": 5})
    assert "Unknown risk items: monney, threat." in err.value.message
    # the known items are listed for the user
    assert "repeated_calls" in err.value.message


@pytest.mark.parametrize(
    ("item", "value"),
    [("people", "many"), ("money", "1.5"), ("repeated_calls", "两次"), ("money", "5e3")],
)
def test_not_a_whole_number(item: str, value: str) -> None:
    with pytest.raises(InvalidInput) as err:
        assess({item: value})
    assert item in err.value.message and value in err.value.message


@pytest.mark.parametrize(
    ("item", "value", "most"),
    [
        ("people", -1, 100_000),
        ("money", -50_000, 10_000_000_000),
        ("repeated_calls", 1001, 1000),
        ("people", 100_001, 100_000),
        ("money", 10_000_000_001, 10_000_000_000),
    ],
)
def test_out_of_range(item: str, value: int, most: int) -> None:
    with pytest.raises(InvalidInput) as err:
        assess({item: value})
    assert item in err.value.message and str(most) in err.value.message


@pytest.mark.parametrize(
    ("item", "value"), [("people", 100_000), ("money", 10_000_000_000), ("repeated_calls", 1000)]
)
def test_the_upper_limits_themselves_pass(item: str, value: int) -> None:
    assert clean_answers({item: value})[item] == value


def test_higher_of_two_levels() -> None:
    assert higher(YELLOW, RED) is RED and higher(RED, YELLOW) is RED
    assert higher(ORANGE, YELLOW) is ORANGE and higher(YELLOW, ORANGE) is ORANGE
    assert higher(ORANGE, ORANGE) is ORANGE
