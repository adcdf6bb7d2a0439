"""Notice text is screened for personal data before it goes to chat groups."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fengqiao.i18n import language
from fengqiao.notify.screening import find_personal_data, personal_data_message


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with language("en"):
        yield


def kinds(text: str) -> list[str]:
    return [f.kind for f in find_personal_data(text)]


@pytest.mark.parametrize(
    "text",
    [
        "身份证号420102199001011234的居民请注意",  # valid check digit
        "证件 42010219900101123X 已挂失",  # X as check
        "号码420102199001011235",  # wrong check digit: still an ID number
        "ID: 110101190001010000",
    ],
)
def test_id_numbers_are_found_whatever_their_check(text: str) -> None:
    assert kinds(text) == ["id_number"]


@pytest.mark.parametrize(
    "text",
    [
        "请联系13812345678核实",
        "电话 138-1234-5678",
        "电话 138 1234 5678",
        "+8619912345678",
        "手机：１３８１２３４５６７８",  # full-width digits from a Chinese input method
    ],
)
def test_mobile_numbers_are_found(text: str) -> None:
    assert kinds(text) == ["mobile"]


@pytest.mark.parametrize(
    "text", ["座机0731-84471234", "(0731)8447123", "拨打（020）87654321", "010 62345678"]
)
def test_landlines_are_found(text: str) -> None:
    assert kinds(text) == ["landline"]


@pytest.mark.parametrize(
    "text",
    [
        "遇到可疑情况请拨打110或反诈专线96110",
        "举报电话12381，市民热线12345，网络举报12321",
        "转账前先打96110，2026年11月22日晚8点到社区活动室",
        "损失金额123456元，涉案1200人",
        "客服电话400-123-4567",
    ],
)
def test_hotlines_dates_and_amounts_pass(text: str) -> None:
    assert kinds(text) == []


def test_the_message_names_what_was_found_masked() -> None:
    findings = find_personal_data("张三 420102199001011234 手机13812345678 座机0731-84471234")
    message = personal_data_message(findings)
    assert "ID-card number (420***********1234)" in message
    assert "mobile number (138****5678)" in message
    assert "landline number" in message
    assert "420102199001011234" not in message and "13812345678" not in message
