"""The agreement PDF on its own: documents printed one after another in one process each
carry their own characters (the font is loaded once and must not be cut down to the
first document's glyphs), Chinese numerals and dates."""

from __future__ import annotations

import io
from datetime import date

from pypdf import PdfReader

from fengqiao.disputes import pdf


def text_of(terms: list[str], name: str) -> str:
    data = pdf.render(
        pdf.AgreementText(
            number="（2026）调字第00007号",
            dispute_number="JF2026112300007",
            organisation="城关派出所",
            level="grid",
            type_name="物业纠纷",
            place="幸福小区3栋",
            facts="物业费争议",
            terms=terms,
            performance="",
            parties=[
                {"side": "applicant", "name": name, "phone": "13812345678"},
                {"side": "respondent", "name": "XYZ物业有限公司", "is_organisation": True},
            ],
            mediators=[{"name": "周调解", "kind": "fengqiao_mediator"}],
            signed_on=date(2026, 11, 23),
        )
    )
    assert data.startswith(b"%PDF-")
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_documents_in_a_row_keep_their_own_characters() -> None:
    first = text_of(["补缴物业费1200元"], "甲乙丙")
    second = text_of(["Wi-Fi密码更换 QRST", "维修基金按户分摊"], "丁戊己")
    assert "补缴物业费1200元" in first and "甲乙丙" in first
    assert "Wi-Fi密码更换 QRST" in second and "丁戊己" in second
    assert "XYZ物业有限公司" in second and "2026年11月23日" in second


def test_chinese_numerals_number_the_terms() -> None:
    assert [pdf.numeral(n) for n in (1, 9, 10, 11, 19, 20, 23, 30)] == [
        "一",
        "九",
        "十",
        "十一",
        "十九",
        "二十",
        "二十三",
        "三十",
    ]
    text = text_of([f"条款{n}" for n in range(1, 12)], "庚辛")
    assert "十一、条款11" in text and "一、条款1" in text
