"""How dispute states, levels, outcomes and events are shown (message ids)."""

from __future__ import annotations

from typing import Any

from fengqiao.disputes.models import (
    DisputeSource,
    DisputeStatus,
    MediationLevel,
    MediatorKind,
    Outcome,
    PartySide,
    RiskLevel,
)
from fengqiao.i18n import N_

LABELS: dict[str, dict[Any, str]] = {
    "status": {
        DisputeStatus.REGISTERED: N_("Registered"),
        DisputeStatus.MEDIATING: N_("Mediating"),
        DisputeStatus.RESOLVED: N_("Resolved"),
        DisputeStatus.UNRESOLVED: N_("Not resolved"),
    },
    "level": {
        MediationLevel.GRID: N_("Grid or village"),
        MediationLevel.STATION: N_("Station (joint mediation)"),
        MediationLevel.JUDICIAL: N_("Judicial office or mediation committee"),
    },
    "risk": {
        RiskLevel.YELLOW: N_("Yellow: settle on the spot"),
        RiskLevel.ORANGE: N_("Orange: handle today"),
        RiskLevel.RED: N_("Red: report at once"),
    },
    "outcome": {
        Outcome.AGREEMENT: N_("Written agreement"),
        Outcome.ORAL: N_("Oral agreement"),
        Outcome.RECONCILED: N_("Reconciled by the parties"),
        Outcome.FAILED: N_("Mediation failed (court or arbitration advised)"),
        Outcome.WITHDRAWN: N_("Withdrawn"),
    },
    "side": {
        PartySide.APPLICANT: N_("Applicant"),
        PartySide.RESPONDENT: N_("Respondent"),
        PartySide.THIRD: N_("Third party"),
    },
    "source": {
        DisputeSource.INCIDENT: N_("From a call (incident)"),
        DisputeSource.VISIT: N_("Household visit"),
        DisputeSource.GRID_WORKER: N_("Grid worker"),
        DisputeSource.RESIDENT: N_("Resident came or wrote"),
        DisputeSource.OTHER: N_("Other"),
    },
    "mediator": {
        MediatorKind.OFFICER: N_("Police officer"),
        MediatorKind.GRID_WORKER: N_("Grid worker"),
        MediatorKind.VILLAGE_CADRE: N_("Village cadre"),
        MediatorKind.LAWYER: N_("Lawyer"),
        MediatorKind.FENGQIAO_MEDIATOR: N_("Fengqiao mediator"),
        MediatorKind.VOLUNTEER: N_("Volunteer"),
        MediatorKind.PEOPLES_MEDIATOR: N_("People's mediator (judicial office)"),
    },
    "event": {
        "registered": N_("Registered"),
        "party_added": N_("Party added"),
        "risk": N_("Risk assessed"),
        "mediator": N_("Mediator added"),
        "session": N_("Mediation session"),
        "escalated": N_("Escalated"),
        "outcome": N_("Outcome recorded"),
        "agreement": N_("Agreement drawn up"),
        "scan": N_("Signed scan attached"),
        "revisits": N_("Revisits scheduled"),
        "revisit_today": N_("Revisit brought forward to today"),
        "revisited": N_("Revisit done"),
        "reopened": N_("Re-opened"),
        "incident_linked": N_("Later incident linked"),
    },
    "situation": {
        "stable": N_("Stable"),
        "eased": N_("Eased"),
        "flared": N_("Flared up again"),
    },
    "link": {
        "same_place": N_("same place"),
        "same_party": N_("same party"),
    },
    "follow_up": {
        "pending": N_("Waiting for its day"),
        "scheduled": N_("Task made"),
        "done": N_("Done"),
        "cancelled": N_("Cancelled"),
    },
    "weekday": {
        0: N_("Mon"),
        1: N_("Tue"),
        2: N_("Wed"),
        3: N_("Thu"),
        4: N_("Fri"),
        5: N_("Sat"),
        6: N_("Sun"),
    },
}
