"""The mediation agreement (调解协议书) as a printable A4 PDF in Chinese: number, parties,
the dispute, the facts, the terms, how they are carried out, the mediators, and the
boxes for signatures and thumbprints. fpdf2 with a CJK font from the system (Debian's
fonts-wqy-zenhei or fonts-noto-cjk), embedded as a subset."""

from __future__ import annotations

import copy
import io
import logging
import shutil
import subprocess
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from fontTools.ttLib import TTFont  # type: ignore[import-untyped]
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from fengqiao.errors import DomainError

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)
SIDE_LABELS = {"applicant": "申请人", "respondent": "被申请人", "third": "第三人"}
GENDER_LABELS = {"male": "男", "female": "女"}
LEVEL_LABELS = {
    "grid": "网格（村）调解",
    "station": "派出所联合调解",
    "judicial": "司法所 / 人民调解委员会调解",
}
KIND_LABELS = {
    "officer": "民警",
    "grid_worker": "网格员",
    "village_cadre": "村（社区）干部",
    "lawyer": "律师",
    "fengqiao_mediator": "“枫桥式”调解员",
    "volunteer": "志愿者",
    "peoples_mediator": "人民调解员",
}
NUMERALS = "一二三四五六七八九十"
# fontTools reports each font table it leaves out of a subset (harmless noise).
logging.getLogger("fontTools.subset").setLevel(logging.ERROR)


class NoChineseFont(DomainError):
    status = 503


@lru_cache(maxsize=4)
def find_font(configured: str = "") -> str:
    """The font file to use: the configured one, a known Debian path, or what fontconfig
    lists for Chinese."""
    if configured:
        if not Path(configured).is_file():
            raise NoChineseFont(
                f"FENGQIAO_PDF_FONT={configured} 不存在 (the configured font file does not exist)"
            )
        return configured
    for path in FONT_CANDIDATES:
        if Path(path).is_file():
            return path
    if shutil.which("fc-list"):
        out = subprocess.run(
            ["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=10
        ).stdout
        for line in sorted(out.splitlines()):
            path = line.split(":")[0].strip()
            if path.endswith((".ttf", ".ttc", ".otf")):
                return path
    raise NoChineseFont(
        "没有可用的中文字体，无法生成 PDF：请安装 fonts-wqy-zenhei（apt-get install "
        "fonts-wqy-zenhei）或设置 FENGQIAO_PDF_FONT。 No Chinese font for PDFs: install "
        "fonts-wqy-zenhei or set FENGQIAO_PDF_FONT."
    )


def chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def numeral(n: int) -> str:
    if n <= 10:
        return NUMERALS[n - 1]
    if n < 20:
        return "十" + NUMERALS[n - 11]
    tens, ones = divmod(n, 10)
    return NUMERALS[tens - 1] + "十" + (NUMERALS[ones - 1] if ones else "")


@dataclass(frozen=True)
class AgreementText:
    number: str
    dispute_number: str
    organisation: str
    level: str
    type_name: str
    place: str
    facts: str
    terms: list[str]
    performance: str
    parties: list[dict[str, Any]]
    mediators: list[dict[str, Any]]
    signed_on: date


def party_line(p: dict[str, Any]) -> str:
    parts = [p["name"]]
    if p.get("gender"):
        parts.append(GENDER_LABELS.get(p["gender"], ""))
    if p.get("id_number"):
        parts.append(f"公民身份号码 {p['id_number']}")
    if p.get("address"):
        parts.append(f"住址 {p['address']}")
    if p.get("phone"):
        parts.append(f"联系电话 {p['phone']}")
    return f"{SIDE_LABELS.get(p['side'], '当事人')}：" + "，".join(x for x in parts if x)


class _Doc(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("zh", size=8)
        self.cell(0, 8, f"{self.footer_text}    第 {self.page_no()} 页 / 共 {{nb}} 页", align="C")


@lru_cache(maxsize=2)
def _font_bytes(path: str) -> bytes:
    return Path(path).read_bytes()


@lru_cache(maxsize=2)
def _blank(font_path: str) -> _Doc:
    """An empty document with the font's metrics loaded (fpdf2 decompiles the whole glyph
    table of a 16 MB CJK font for them, ~0.5 s): each agreement starts from a copy."""
    pdf = _Doc(format="A4")
    pdf.set_creator("fengqiao")
    pdf.set_margins(22, 20, 22)
    pdf.set_auto_page_break(True, margin=22)
    pdf.add_font("zh", fname=font_path)
    return pdf


def render(text: AgreementText, *, font: str = "") -> bytes:
    """The agreement as PDF bytes."""
    path = find_font(font)
    pdf = copy.deepcopy(_blank(path))
    for loaded in pdf.fonts.values():
        # The copy shares the template's parsed font, which output() subsets in place: each
        # document reads its own (lazily, from the file's bytes kept in memory).
        loaded.ttfont = TTFont(  # type: ignore[union-attr]
            io.BytesIO(_font_bytes(path)),
            fontNumber=getattr(loaded, "collection_font_number", 0) or 0,
            lazy=True,
        )
    pdf.footer_text = f"纠纷编号 {text.dispute_number}"
    pdf.set_title("调解协议书")
    pdf.add_page()
    width = pdf.epw

    def heading(s: str) -> None:
        pdf.ln(2)
        pdf.set_font("zh", size=12)
        pdf.cell(width, 8, s, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font("zh", size=11)

    def para(s: str) -> None:
        pdf.set_font("zh", size=11)
        pdf.multi_cell(width, 7, s, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    pdf.set_font("zh", size=20)
    pdf.cell(width, 14, "调解协议书", align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("zh", size=11)
    pdf.cell(width, 7, text.number, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    heading("当事人")
    for p in text.parties:
        para(party_line(p))
    heading("纠纷简要情况")
    para(f"纠纷类型：{text.type_name}　　调解层级：{LEVEL_LABELS.get(text.level, text.level)}")
    if text.place:
        para(f"纠纷地点：{text.place}")
    heading("纠纷事实及争议事项")
    para(text.facts)
    heading("经调解，各方当事人自愿达成如下协议")
    for i, term in enumerate(text.terms, start=1):
        para(f"{numeral(i)}、{term}")
    if text.performance:
        heading("履行方式、时限")
        para(text.performance)
    heading("调解员")
    para(
        "；".join(
            f"{m['name']}（{KIND_LABELS.get(m.get('kind', ''), '调解员')}"
            + (f"，{m['organisation']}" if m.get("organisation") else "")
            + "）"
            for m in text.mediators
        )
    )
    pdf.ln(2)
    para(
        "本协议经各方当事人签名（盖章）或按指印、调解员签名并经调解组织确认后生效，"
        f"对各方当事人具有法律约束力。本协议一式{len(text.parties) + 1}份，"
        "当事人各执一份，调解组织留存一份。"
    )
    heading("签名及按指印")
    _signatures(pdf, text)
    pdf.ln(4)
    pdf.cell(
        width, 7, f"调解组织：{text.organisation}（盖章）", new_x=XPos.LMARGIN, new_y=YPos.NEXT
    )
    pdf.cell(width, 7, chinese_date(text.signed_on), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())


def _signatures(pdf: FPDF, text: AgreementText) -> None:
    """One row per party: name, a signature box and a thumbprint box; then the mediators."""
    w = pdf.epw
    widths = (w * 0.22, w * 0.30, w * 0.26, w * 0.22)
    row_h = 20.0
    pdf.set_font("zh", size=10)
    for label, width in zip(("当事人", "签名", "按指印", "日期"), widths, strict=True):
        pdf.cell(width, 8, label, border=1, align="C")
    pdf.ln(8)
    for p in text.parties:
        if pdf.will_page_break(row_h):
            pdf.add_page()
        pdf.cell(widths[0], row_h, f"{SIDE_LABELS.get(p['side'], '')} {p['name']}"[:24], border=1)
        pdf.cell(widths[1], row_h, "", border=1)
        pdf.cell(widths[2], row_h, "", border=1)
        pdf.cell(widths[3], row_h, "　年　月　日", border=1, align="C")
        pdf.ln(row_h)
    for m in text.mediators:
        if pdf.will_page_break(12):
            pdf.add_page()
        pdf.cell(widths[0], 12, f"调解员 {m['name']}"[:24], border=1)
        pdf.cell(widths[1] + widths[2], 12, "", border=1)
        pdf.cell(widths[3], 12, "　年　月　日", border=1, align="C")
        pdf.ln(12)
