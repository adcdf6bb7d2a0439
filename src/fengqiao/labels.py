"""Display names of enum values (English message ids, translated by the catalogues)."""

from __future__ import annotations

from fengqiao.i18n import N_, gettext

STATUS = {
    "available": N_("Available"),
    "en_route": N_("En route"),
    "on_scene": N_("On scene"),
    "busy": N_("Busy"),
    "off_duty": N_("Off duty"),
}
KIND = {
    "officer": N_("Officer"),
    "auxiliary": N_("Auxiliary"),
    "grid_worker": N_("Grid worker"),
    "volunteer": N_("Volunteer"),
}
TEAM = {
    "community": N_("Community policing team"),
    "case": N_("Case-handling team"),
    "command_room": N_("Command room"),
}

ROLE = {
    "admin": N_("Administrator"),
    "station_chief": N_("Station chief"),
    "command_room": N_("Command room"),
    "community_officer": N_("Community officer"),
    "auxiliary": N_("Auxiliary"),
    "case_officer": N_("Case officer"),
    "legal_supervisor": N_("Legal supervisor"),
    "grid_worker": N_("Grid worker"),
}


def status_label(value: str) -> str:
    return gettext(STATUS.get(value, value))


def kind_label(value: str) -> str:
    return gettext(KIND.get(value, value))


def team_label(value: str | None) -> str:
    return gettext(TEAM[value]) if value else ""


def role_label(value: str) -> str:
    return gettext(ROLE.get(value, value))


CHANNEL = {
    "transfer_110": N_("110 transfer"),
    "phone": N_("Phone"),
    "walk_in": N_("Walk-in"),
    "online": N_("Online"),
    "doorplate_qr": N_("Doorplate QR code"),
    "enterprise_line": N_("Enterprise emergency line"),
}
PRIORITY = {"urgent": N_("Urgent"), "high": N_("High"), "normal": N_("Normal")}
INCIDENT_STATUS = {
    "received": N_("Received"),
    "dispatched": N_("Dispatched"),
    "accepted": N_("Accepted"),
    "arrived": N_("Arrived"),
    "handled": N_("Handled"),
    "closed": N_("Closed"),
}
ASSIGNMENT_STATUS = {
    "dispatched": N_("Dispatched"),
    "accepted": N_("Accepted"),
    "arrived": N_("Arrived"),
    "released": N_("Released"),
}
DISPOSITION = {
    "settled": N_("Settled on the spot"),
    "case": N_("Converted to a case"),
    "dispute": N_("Converted to a dispute"),
    "referred": N_("Referred"),
    "no_action": N_("No action needed"),
}
EVENT = {
    "routed": N_("Routed"),
    "dispatch": N_("Dispatched"),
    "withdrawn": N_("Withdrawn"),
    "alert": N_("Command-room alert"),
    "reinforcement": N_("Reinforcement ordered"),
    "note": N_("Note"),
}


def _label(table: dict[str, str], value: str | None) -> str:
    return gettext(table.get(value, value)) if value else ""


def channel_label(value: str) -> str:
    return _label(CHANNEL, value)


def priority_label(value: str) -> str:
    return _label(PRIORITY, value)


def incident_status_label(value: str) -> str:
    return _label(INCIDENT_STATUS, value)


def assignment_status_label(value: str) -> str:
    return _label(ASSIGNMENT_STATUS, value)


def disposition_label(value: str | None) -> str:
    return _label(DISPOSITION, value)


def event_label(value: str) -> str:
    return _label(EVENT, value)


REINFORCEMENT_ANSWER = {
    "pending": N_("Waiting for the team"),
    "sent": N_("Team sent people"),
    "declined": N_("Team declined"),
}


def reinforcement_answer_label(value: str) -> str:
    return _label(REINFORCEMENT_ANSWER, value)


PLAN_STATUS = {
    "planning": N_("Planning"),
    "draft": N_("Draft"),
    "published": N_("Published"),
    "superseded": N_("Superseded"),
    "discarded": N_("Discarded"),
}


def plan_status_label(value: str) -> str:
    return _label(PLAN_STATUS, value)
