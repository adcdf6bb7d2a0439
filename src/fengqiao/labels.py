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
