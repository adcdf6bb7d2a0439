"""What each kind of task asks for: who may do it, how long it takes, the result fields
to fill in, and the inspection checklist per kind of place. Data, not code paths."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fengqiao.errors import InvalidInput
from fengqiao.i18n import N_, gettext
from fengqiao.org.models import PersonKind
from fengqiao.registry.models import EstablishmentKind
from fengqiao.tasks.models import TaskKind

_POLICE = frozenset({PersonKind.OFFICER, PersonKind.AUXILIARY})
_TEAM = frozenset(PersonKind)

# Who may be given a task of each kind (fraud dissuasion and inspections need police).
ELIGIBLE: dict[TaskKind, frozenset[PersonKind]] = {
    TaskKind.PATROL: frozenset({PersonKind.OFFICER, PersonKind.AUXILIARY, PersonKind.VOLUNTEER}),
    TaskKind.HOUSEHOLD_VISIT: _TEAM,
    TaskKind.INSPECTION: _POLICE,
    TaskKind.DISPUTE_FOLLOW_UP: frozenset(
        {PersonKind.OFFICER, PersonKind.AUXILIARY, PersonKind.GRID_WORKER}
    ),
    TaskKind.FRAUD_DISSUASION: _POLICE,
    TaskKind.HAZARD_CHECK: frozenset(
        {PersonKind.OFFICER, PersonKind.AUXILIARY, PersonKind.GRID_WORKER}
    ),
    TaskKind.SCHOOL_GATE: frozenset(
        {PersonKind.OFFICER, PersonKind.AUXILIARY, PersonKind.VOLUNTEER}
    ),
    TaskKind.CUSTOM: _TEAM,
}
# Minutes a task usually takes, for balancing a day's work across the grid team.
MINUTES: dict[TaskKind, int] = {
    TaskKind.PATROL: 60,
    TaskKind.HOUSEHOLD_VISIT: 30,
    TaskKind.INSPECTION: 45,
    TaskKind.DISPUTE_FOLLOW_UP: 30,
    TaskKind.FRAUD_DISSUASION: 30,
    TaskKind.HAZARD_CHECK: 40,
    TaskKind.SCHOOL_GATE: 60,
    TaskKind.CUSTOM: 30,
}
KIND_LABELS: dict[str, str] = {
    TaskKind.PATROL: N_("Hotspot patrol"),
    TaskKind.HOUSEHOLD_VISIT: N_("Household visit"),
    TaskKind.INSPECTION: N_("Key-place inspection"),
    TaskKind.DISPUTE_FOLLOW_UP: N_("Dispute follow-up"),
    TaskKind.FRAUD_DISSUASION: N_("Fraud dissuasion"),
    TaskKind.HAZARD_CHECK: N_("Hazard check"),
    TaskKind.SCHOOL_GATE: N_("School-gate duty"),
    TaskKind.CUSTOM: N_("Other task"),
}
PRIORITY_LABELS: dict[int, str] = {
    1: N_("Urgent"),
    2: N_("High"),
    3: N_("Normal"),
    4: N_("Low"),
}


@dataclass(frozen=True)
class ResultField:
    name: str
    label: str  # message id
    type: str  # int / bool / choice / text
    required: bool = False
    minimum: int = 0
    maximum: int = 100_000
    choices: tuple[tuple[str, str], ...] = ()


_NOTE = ResultField("note", N_("Note"), "text")
_LEADS = ResultField("leads", N_("Leads reported"), "int", maximum=99)
_HAZARDS = ResultField("hazards", N_("Hazards found"), "int", maximum=99)
_REVISIT = ResultField("revisit_in_days", N_("Visit again in (days)"), "int", maximum=90)

RESULT_FIELDS: dict[TaskKind, tuple[ResultField, ...]] = {
    TaskKind.PATROL: (_LEADS, _HAZARDS, _NOTE),
    TaskKind.HOUSEHOLD_VISIT: (
        ResultField("households_visited", N_("Households visited"), "int", True, 0, 200),
        ResultField("residents_met", N_("Residents met"), "int", maximum=999),
        _LEADS,
        _HAZARDS,
        _REVISIT,
        _NOTE,
    ),
    TaskKind.INSPECTION: (
        _HAZARDS,
        ResultField("rectification", N_("Rectification ordered"), "text"),
        _NOTE,
    ),
    TaskKind.DISPUTE_FOLLOW_UP: (
        ResultField(
            "situation",
            N_("Situation"),
            "choice",
            True,
            choices=(
                ("stable", N_("Stable")),
                ("eased", N_("Eased")),
                ("flared", N_("Flared up again")),
            ),
        ),
        _REVISIT,
        _LEADS,
        _NOTE,
    ),
    TaskKind.FRAUD_DISSUASION: (
        ResultField(
            "outcome",
            N_("Outcome"),
            "choice",
            True,
            choices=(
                ("dissuaded", N_("Dissuaded")),
                ("unreachable", N_("Unreachable")),
                ("already_defrauded", N_("Already defrauded")),
                ("false_alarm", N_("False alarm")),
                ("not_in_area", N_("Not in our area")),
            ),
        ),
        ResultField(
            "contact",
            N_("Contacted by"),
            "choice",
            True,
            choices=(("visit", N_("Home visit")), ("phone", N_("Phone call"))),
        ),
        ResultField("money_saved", N_("Money saved (yuan)"), "int", maximum=100_000_000),
        _NOTE,
    ),
    TaskKind.HAZARD_CHECK: (
        _HAZARDS,
        ResultField("hazards_removed", N_("Hazards removed"), "int", maximum=99),
        _NOTE,
    ),
    TaskKind.SCHOOL_GATE: (
        ResultField("on_post", N_("On post at the gate"), "bool", True),
        ResultField("incidents", N_("Incidents at the gate"), "int", maximum=99),
        _LEADS,
        _NOTE,
    ),
    TaskKind.CUSTOM: (_LEADS, _HAZARDS, _NOTE),
}

_GENERAL = (
    ("fire_exits", N_("Fire exits and escape routes clear")),
    ("extinguishers", N_("Extinguishers present and in date")),
    ("guard_on_duty", N_("Guard or person in charge on duty")),
)
CHECKLISTS: dict[EstablishmentKind, tuple[tuple[str, str], ...]] = {
    EstablishmentKind.SCHOOL: (
        ("gate_guard", N_("Gate guarded, visitors registered")),
        ("alarm_button", N_("One-button alarm linked to the police works")),
        ("anti_collision", N_("Anti-ram barriers at the gate")),
        ("cameras", N_("Cameras cover gate and grounds")),
        *_GENERAL[:2],
    ),
    EstablishmentKind.KINDERGARTEN: (
        ("gate_guard", N_("Gate guarded, visitors registered")),
        ("alarm_button", N_("One-button alarm linked to the police works")),
        ("pickup_check", N_("Children handed only to registered guardians")),
        *_GENERAL[:2],
    ),
    EstablishmentKind.HOTEL: (
        ("guest_registration", N_("Every guest registered with identity document")),
        ("minors_check", N_("Minors checked in with guardians only")),
        ("cameras", N_("Cameras at entrance and corridors")),
        *_GENERAL[:2],
    ),
    EstablishmentKind.INTERNET_CAFE: (
        ("no_minors", N_("No minors admitted")),
        ("real_name", N_("Real-name log-in on every seat")),
        ("opening_hours", N_("Opening hours kept")),
        *_GENERAL[:2],
    ),
    EstablishmentKind.CONSTRUCTION_SITE: (
        ("worker_register", N_("Workers registered (real name)")),
        ("wages_paid", N_("Wages paid on time, no wage dispute")),
        ("explosives", N_("Blasting and hazardous materials locked and logged")),
        *_GENERAL[:2],
    ),
    EstablishmentKind.HAZARDOUS_GOODS: (
        ("storage", N_("Stored apart, quantities within licence")),
        ("ledger", N_("In-out ledger complete")),
        *_GENERAL,
    ),
    EstablishmentKind.FINANCIAL: (
        ("fraud_posters", N_("Anti-fraud notices at the counter")),
        ("alarm_button", N_("One-button alarm linked to the police works")),
        *_GENERAL[1:],
    ),
}


def checklist_for(kind: EstablishmentKind | None) -> list[dict[str, Any]]:
    """The items of an inspection of this kind of place (general items otherwise)."""
    items = CHECKLISTS.get(kind, _GENERAL) if kind is not None else _GENERAL
    return [{"code": code, "label": label} for code, label in items]


CHECK_ANSWERS = ("pass", "fail", "na")


@dataclass(frozen=True)
class CleanResult:
    values: dict[str, Any]
    households_visited: int
    leads: int
    hazards: int


def clean_result(
    kind: TaskKind, raw: dict[str, Any], checklist: list[dict[str, Any]] | None
) -> CleanResult:
    """Check the result fields of a task of ``kind``; raise InvalidInput naming the field."""
    values: dict[str, Any] = {}
    for field in RESULT_FIELDS[kind]:
        value = raw.get(field.name)
        label = gettext(field.label)
        if value is None or (isinstance(value, str) and not value.strip()):
            if field.required and field.type != "bool":
                raise InvalidInput(gettext("Fill in “{field}”.").format(field=label))
            if field.type == "bool":
                values[field.name] = False
            continue
        if field.type == "int":
            try:
                number = int(str(value).strip())
            except ValueError:
                raise InvalidInput(
                    gettext("“{field}” must be a whole number.").format(field=label)
                ) from None
            if not field.minimum <= number <= field.maximum:
                raise InvalidInput(
                    gettext("“{field}” must be between {low} and {high}.").format(
                        field=label, low=field.minimum, high=field.maximum
                    )
                )
            values[field.name] = number
        elif field.type == "bool":
            values[field.name] = str(value).lower() in ("1", "true", "on", "yes")
        elif field.type == "choice":
            allowed = [c for c, _ in field.choices]
            if value not in allowed:
                raise InvalidInput(
                    gettext("Choose “{field}” from: {choices}.").format(
                        field=label, choices=", ".join(gettext(text) for _, text in field.choices)
                    )
                )
            values[field.name] = value
        else:
            values[field.name] = str(value).strip()[:2000]
    hazards = int(values.get("hazards", 0))
    if kind is TaskKind.INSPECTION and checklist:
        answers: dict[str, str] = {}
        for item in checklist:
            answer = raw.get("check_" + item["code"])
            if answer not in CHECK_ANSWERS:
                raise InvalidInput(
                    gettext(
                        "Answer the checklist item “{item}” (pass, fail or not applicable)."
                    ).format(item=gettext(item["label"]))
                )
            answers[item["code"]] = answer
        values["checklist"] = answers
        hazards = max(hazards, sum(1 for a in answers.values() if a == "fail"))
        values["hazards"] = hazards
    return CleanResult(
        values=values,
        households_visited=int(values.get("households_visited", 0)),
        leads=int(values.get("leads", 0)),
        hazards=hazards,
    )
