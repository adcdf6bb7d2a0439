"""The risk checklist (风险研判): answers about a dispute give a score and a level.

Red: report at once (a threat of violence, a crowd, large sums, repeated calls);
orange: handle the same day; yellow: the grid worker settles it on the spot. Every point
carries its reason so that the page can say why a dispute is red. Pure: no database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fengqiao.disputes.models import RISK_RANK, RiskLevel
from fengqiao.errors import InvalidInput
from fengqiao.i18n import N_, _

RED_AT = 40
ORANGE_AT = 20
MAX_PEOPLE = 100_000
MAX_CALLS = 1_000
MAX_MONEY = 10_000_000_000  # yuan


@dataclass(frozen=True)
class Question:
    name: str
    label: str  # message id
    kind: str  # bool / int


QUESTIONS: tuple[Question, ...] = (
    Question("threats", N_("Threats of violence, revenge or self-harm"), "bool"),
    Question("violence", N_("Physical fights have already happened"), "bool"),
    Question("repeated_calls", N_("Calls or reports about it in the last 30 days"), "int"),
    Question("people", N_("Number of people involved"), "int"),
    Question("money", N_("Money involved (yuan)"), "int"),
    Question("vulnerable", N_("Vulnerable parties (elderly, minors, disabled, pregnant)"), "bool"),
    Question("long_standing", N_("Long-standing grievance (over a year)"), "bool"),
)


@dataclass(frozen=True)
class Assessment:
    answers: dict[str, Any]
    score: int
    level: RiskLevel
    reasons: tuple[str, ...]  # message ids with their points, shown translated


def clean_answers(raw: dict[str, Any]) -> dict[str, Any]:
    """The checklist's answers, checked: yes/no items as booleans, counts as whole
    numbers in range. Unknown items are refused, so a typo does not pass silently."""
    names = {q.name: q for q in QUESTIONS}
    unknown = sorted(set(raw) - set(names))
    if unknown:
        raise InvalidInput(
            _("Unknown risk items: {items}. Use: {known}.").format(
                items=", ".join(unknown), known=", ".join(names)
            )
        )
    out: dict[str, Any] = {}
    limits = {"repeated_calls": MAX_CALLS, "people": MAX_PEOPLE, "money": MAX_MONEY}
    for q in QUESTIONS:
        value = raw.get(q.name)
        if q.kind == "bool":
            if isinstance(value, str):
                value = value.strip().lower() in ("1", "true", "yes", "on", "是")
            out[q.name] = bool(value)
            continue
        if value in (None, ""):
            out[q.name] = 0
            continue
        try:
            number = int(str(value).replace(",", "").strip())
        except ValueError:
            raise InvalidInput(
                _("Risk item {item} must be a whole number, not {value!r}.").format(
                    item=q.name, value=value
                )
            ) from None
        if not 0 <= number <= limits[q.name]:
            raise InvalidInput(
                _("Risk item {item} must be between 0 and {most}.").format(
                    item=q.name, most=limits[q.name]
                )
            )
        out[q.name] = number
    return out


def assess(raw: dict[str, Any]) -> Assessment:
    """Score the checklist. A threat of violence is red whatever else is answered."""
    a = clean_answers(raw)
    points: list[tuple[int, str]] = []
    if a["threats"]:
        points.append((RED_AT, N_("threats of violence")))
    if a["violence"]:
        points.append((25, N_("fights have happened")))
    if a["repeated_calls"] >= 2:
        points.append((min(30, 10 * (a["repeated_calls"] - 1)), N_("repeated calls")))
    if a["people"] >= 30:
        points.append((40, N_("30 or more people involved")))
    elif a["people"] >= 10:
        points.append((20, N_("10 or more people involved")))
    if a["money"] >= 500_000:
        points.append((30, N_("500 000 yuan or more involved")))
    elif a["money"] >= 50_000:
        points.append((15, N_("50 000 yuan or more involved")))
    if a["vulnerable"]:
        points.append((15, N_("vulnerable parties")))
    if a["long_standing"]:
        points.append((10, N_("long-standing grievance")))
    score = sum(p for p, _r in points)
    level = (
        RiskLevel.RED
        if score >= RED_AT
        else RiskLevel.ORANGE
        if score >= ORANGE_AT
        else RiskLevel.YELLOW
    )
    return Assessment(answers=a, score=score, level=level, reasons=tuple(r for _p, r in points))


def higher(a: RiskLevel, b: RiskLevel) -> RiskLevel:
    return a if RISK_RANK[a] >= RISK_RANK[b] else b
