"""Roles, permissions and data scope.

Deny by default: a permission lists the roles that have it. The data scope says
which stations and grids an account may read: the bureau for the admin, the joint
station for a command room inside one, the station for station staff, and the
person's own grids for auxiliaries and grid workers.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from fengqiao.accounts.models import Role, UserAccount
from fengqiao.audit.service import Actor
from fengqiao.errors import Forbidden
from fengqiao.i18n import _
from fengqiao.org.models import GridAssignment, PoliceGrid, Station


class Permission(enum.StrEnum):
    VIEW_MAP = "view_map"
    VIEW_GRIDS = "view_grids"
    VIEW_PERSONNEL = "view_personnel"
    MANAGE_USERS = "manage_users"
    VIEW_AUDIT = "view_audit"
    REPORT_INCIDENT = "report_incident"
    VIEW_INCIDENTS = "view_incidents"
    DISPATCH = "dispatch"
    RESPOND = "respond"
    VIEW_METRICS = "view_metrics"
    MANAGE_ROUTING = "manage_routing"
    PLAN_GRIDS = "plan_grids"
    MANAGE_STAFFING = "manage_staffing"
    VIEW_COVERAGE = "view_coverage"
    DO_TASKS = "do_tasks"
    MANAGE_TASKS = "manage_tasks"
    VIEW_ASSESSMENT = "view_assessment"
    VIEW_REGISTRY = "view_registry"
    EDIT_REGISTRY = "edit_registry"
    REVEAL_PERSONAL = "reveal_personal"
    MERGE_RECORDS = "merge_records"
    RECEIVE_WARNINGS = "receive_warnings"
    HANDLE_WARNINGS = "handle_warnings"
    PUBLISH_NOTICES = "publish_notices"
    VIEW_DISPUTES = "view_disputes"
    MEDIATE_DISPUTES = "mediate_disputes"
    MANAGE_MEDIATORS = "manage_mediators"


_ALL = frozenset(Role)
POLICY: dict[Permission, frozenset[Role]] = {
    Permission.VIEW_MAP: _ALL,
    Permission.VIEW_GRIDS: _ALL,
    Permission.VIEW_PERSONNEL: _ALL - {Role.GRID_WORKER},
    Permission.MANAGE_USERS: frozenset({Role.ADMIN}),
    Permission.VIEW_AUDIT: frozenset({Role.ADMIN, Role.LEGAL_SUPERVISOR}),
    Permission.REPORT_INCIDENT: _ALL,
    Permission.VIEW_INCIDENTS: _ALL,
    Permission.DISPATCH: frozenset({Role.ADMIN, Role.STATION_CHIEF, Role.COMMAND_ROOM}),
    Permission.RESPOND: frozenset(
        {
            Role.STATION_CHIEF,
            Role.COMMAND_ROOM,
            Role.COMMUNITY_OFFICER,
            Role.AUXILIARY,
            Role.CASE_OFFICER,
        }
    ),
    Permission.VIEW_METRICS: frozenset(
        {Role.ADMIN, Role.STATION_CHIEF, Role.COMMAND_ROOM, Role.LEGAL_SUPERVISOR}
    ),
    Permission.MANAGE_ROUTING: frozenset({Role.ADMIN, Role.STATION_CHIEF}),
    Permission.PLAN_GRIDS: frozenset({Role.ADMIN, Role.STATION_CHIEF}),
    Permission.MANAGE_STAFFING: frozenset({Role.ADMIN, Role.STATION_CHIEF}),
    Permission.VIEW_COVERAGE: frozenset(
        {Role.ADMIN, Role.STATION_CHIEF, Role.COMMAND_ROOM, Role.LEGAL_SUPERVISOR}
    ),
    # Prevention work in the field: the grid team (1+1+N) and the chief.
    Permission.DO_TASKS: frozenset(
        {Role.STATION_CHIEF, Role.COMMUNITY_OFFICER, Role.AUXILIARY, Role.GRID_WORKER}
    ),
    Permission.MANAGE_TASKS: frozenset({Role.ADMIN, Role.STATION_CHIEF}),
    Permission.VIEW_ASSESSMENT: frozenset({Role.ADMIN, Role.STATION_CHIEF, Role.LEGAL_SUPERVISOR}),
    # The registry holds personal data: the system administrator does not read it (三员分立).
    Permission.VIEW_REGISTRY: frozenset(
        {
            Role.STATION_CHIEF,
            Role.COMMAND_ROOM,
            Role.COMMUNITY_OFFICER,
            Role.AUXILIARY,
            Role.CASE_OFFICER,
            Role.GRID_WORKER,
        }
    ),
    Permission.EDIT_REGISTRY: frozenset(
        {Role.STATION_CHIEF, Role.COMMUNITY_OFFICER, Role.AUXILIARY, Role.GRID_WORKER}
    ),
    Permission.REVEAL_PERSONAL: frozenset(
        {Role.STATION_CHIEF, Role.COMMUNITY_OFFICER, Role.CASE_OFFICER}
    ),
    Permission.MERGE_RECORDS: frozenset({Role.STATION_CHIEF}),
    # Anti-fraud warnings hold personal data: the warning officers of the command room
    # take them in and place the unmatched; the grid's police dissuade.
    Permission.RECEIVE_WARNINGS: frozenset({Role.STATION_CHIEF, Role.COMMAND_ROOM}),
    Permission.HANDLE_WARNINGS: frozenset(
        {Role.STATION_CHIEF, Role.COMMAND_ROOM, Role.COMMUNITY_OFFICER, Role.AUXILIARY}
    ),
    Permission.PUBLISH_NOTICES: frozenset(
        {Role.STATION_CHIEF, Role.COMMAND_ROOM, Role.COMMUNITY_OFFICER}
    ),
    # Disputes: the grid's team mediates; the legal supervisor reads; the administrator
    # has no access to the records (三员分立).
    Permission.VIEW_DISPUTES: frozenset(
        {
            Role.STATION_CHIEF,
            Role.COMMAND_ROOM,
            Role.COMMUNITY_OFFICER,
            Role.AUXILIARY,
            Role.GRID_WORKER,
            Role.LEGAL_SUPERVISOR,
        }
    ),
    Permission.MEDIATE_DISPUTES: frozenset(
        {
            Role.STATION_CHIEF,
            Role.COMMAND_ROOM,
            Role.COMMUNITY_OFFICER,
            Role.AUXILIARY,
            Role.GRID_WORKER,
        }
    ),
    Permission.MANAGE_MEDIATORS: frozenset({Role.STATION_CHIEF, Role.COMMUNITY_OFFICER}),
}


SYSTEM_USER_ID = 0  # the command line and jobs: unrestricted, audited under their own name


@dataclass(frozen=True)
class Principal:
    """The logged-in account and what it may see. ``None`` scope means unrestricted."""

    user_id: int
    username: str
    role: Role
    person_id: int | None
    station_ids: frozenset[int] | None
    grid_ids: frozenset[int] | None
    ip: str | None = None
    session_id: int | None = None

    @property
    def actor(self) -> Actor:
        if self.user_id == SYSTEM_USER_ID:
            return Actor(user_id=None, username=self.username, role=None, ip=self.ip)
        return Actor(user_id=self.user_id, username=self.username, role=self.role.value, ip=self.ip)

    def can(self, permission: Permission) -> bool:
        # The command line and jobs act as the system itself (audited under their name).
        return self.user_id == SYSTEM_USER_ID or self.role in POLICY[permission]

    def sees_station(self, station_id: int) -> bool:
        return self.station_ids is None or station_id in self.station_ids

    def sees_grid(self, grid_id: int, station_id: int) -> bool:
        if not self.sees_station(station_id):
            return False
        return self.grid_ids is None or grid_id in self.grid_ids


def require(principal: Principal, permission: Permission) -> None:
    if not principal.can(permission):
        raise Forbidden(_("Your role does not allow this page or action."))


def with_predecessors(session: Session, grid_ids: frozenset[int]) -> frozenset[int]:
    """``grid_ids`` and the retired rows they carry on, so that a redrawn grid's staff
    keep its history (incidents keep the grid row they had)."""
    found, frontier = set(grid_ids), set(grid_ids)
    while frontier:
        older = set(
            session.scalars(
                select(PoliceGrid.replaces_id).where(
                    PoliceGrid.id.in_(frontier), PoliceGrid.replaces_id.is_not(None)
                )
            )
        )
        frontier = {g for g in older if g is not None} - found
        found |= frontier
    return frozenset(found)


def build_principal(
    session: Session,
    user: UserAccount,
    *,
    ip: str | None = None,
    session_id: int | None = None,
) -> Principal:
    """Work out the data scope of ``user`` from its role, station and grid assignments."""
    station_ids: frozenset[int] | None
    grid_ids: frozenset[int] | None = None
    if user.role is Role.ADMIN or user.station_id is None:
        station_ids = None if user.role is Role.ADMIN else frozenset()
    elif user.role is Role.COMMAND_ROOM:
        station = session.get(Station, user.station_id)
        if station is not None and station.joint_station_id is not None:
            station_ids = frozenset(
                session.scalars(
                    select(Station.id).where(Station.joint_station_id == station.joint_station_id)
                )
            )
        else:
            station_ids = frozenset({user.station_id})
    else:
        station_ids = frozenset({user.station_id})
    if user.role in (Role.AUXILIARY, Role.GRID_WORKER):
        grid_ids = frozenset(
            session.scalars(
                select(GridAssignment.grid_id).where(GridAssignment.person_id == user.person_id)
            )
            if user.person_id is not None
            else ()
        )
        grid_ids = with_predecessors(session, grid_ids)
    return Principal(
        user_id=user.id,
        username=user.username,
        role=user.role,
        person_id=user.person_id,
        station_ids=station_ids,
        grid_ids=grid_ids,
        ip=ip,
        session_id=session_id,
    )


def system_principal(username: str) -> Principal:
    """The principal of a command-line run or a job: every station, no account."""
    return Principal(
        user_id=SYSTEM_USER_ID,
        username=username,
        role=Role.ADMIN,
        person_id=None,
        station_ids=None,
        grid_ids=None,
        ip="local",
    )
