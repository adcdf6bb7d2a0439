"""First-responder routing: the rule table picks an action, the fall-back chain picks people.

Rules live in the ``routing_rule`` table (editable); the first active rule, by
position, whose non-empty match fields all match, decides. The chain for the grid
officer: the grid's officer, then its auxiliary; available community-team members of
the same police district, then of the station, then of the other stations of the joint
station. Every pick is stored as a ``RoutingDecision`` with its reason.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import overload

from sqlalchemy import select
from sqlalchemy.orm import Session

from fengqiao.geo.location import distances_m
from fengqiao.i18n import N_
from fengqiao.incidents.models import (
    Incident,
    IncidentCategory,
    Priority,
    RouteAction,
    RoutingRule,
)
from fengqiao.org.models import (
    AreaKind,
    DutyStatus,
    GridAssignment,
    Person,
    PersonKind,
    PoliceGrid,
    Station,
    Team,
)

RESPONDER_KINDS = (PersonKind.OFFICER, PersonKind.AUXILIARY)


@dataclass(frozen=True)
class SpeedModel:
    """Travel time = straight-line distance × road factor / speed (+ turnout)."""

    urban_kmh: float = 30.0
    rural_kmh: float = 45.0
    road_factor: float = 1.3
    turnout_min: float = 2.0

    def minutes(self, distance_m: float, kind: AreaKind) -> float:
        speed = self.urban_kmh if kind is AreaKind.URBAN else self.rural_kmh
        return self.turnout_min + distance_m * self.road_factor / 1000.0 / speed * 60.0


@dataclass(frozen=True)
class Candidate:
    person: Person
    step: str  # grid | district | station | joint_station | nearest
    eta_min: float | None
    reason: str  # an English message id, translated when shown
    params: dict[str, str | int | float] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    rule: RoutingRule | None
    candidates: Sequence[Candidate]
    units: int
    alert: bool
    no_one_reason: str | None = None


def rule_matches(rule: RoutingRule, category: IncidentCategory, priority: Priority) -> bool:
    return (
        (rule.category_prefix is None or category.code.startswith(rule.category_prefix))
        and (rule.match_case is None or rule.match_case == category.is_case)
        and (rule.match_emergency is None or rule.match_emergency == category.is_emergency)
        and (rule.match_priority is None or rule.match_priority == priority)
    )


def choose_rule(
    rules: Sequence[RoutingRule], category: IncidentCategory, priority: Priority
) -> RoutingRule | None:
    for rule in sorted(rules, key=lambda r: r.position):
        if rule.active and rule_matches(rule, category, priority):
            return rule
    return None


def available_people(
    session: Session, station_ids: Sequence[int], *, team: Team | None
) -> list[Person]:
    query = select(Person).where(
        Person.station_id.in_(station_ids),
        Person.duty_status == DutyStatus.AVAILABLE,
        Person.kind.in_(RESPONDER_KINDS),
    )
    if team is not None:
        query = query.where(Person.team == team)
    return list(session.scalars(query.order_by(Person.id)))


def rank_by_eta(
    people: Sequence[Person], incident: Incident, kind: AreaKind, speeds: SpeedModel
) -> list[tuple[Person, float | None]]:
    """People ordered by estimated travel time; those without a position come last."""
    if incident.lon is None or incident.lat is None:
        return [(p, None) for p in people]
    known = [p for p in people if p.last_lon is not None and p.last_lat is not None]
    unknown = [p for p in people if p.last_lon is None or p.last_lat is None]
    dist = distances_m(
        incident.lon,
        incident.lat,
        [float(p.last_lon or 0.0) for p in known],
        [float(p.last_lat or 0.0) for p in known],
    )
    ranked = sorted(zip(known, dist.tolist(), strict=True), key=lambda pd: (pd[1], pd[0].id))
    return [(p, speeds.minutes(d, kind)) for p, d in ranked] + [(p, None) for p in unknown]


def _joint_station_ids(session: Session, station: Station) -> list[int]:
    if station.joint_station_id is None:
        return []
    return list(
        session.scalars(
            select(Station.id).where(
                Station.joint_station_id == station.joint_station_id, Station.id != station.id
            )
        )
    )


def _grid_team(session: Session, grid_id: int) -> list[tuple[PersonKind, Person]]:
    rows = session.execute(
        select(GridAssignment.role, Person)
        .join(Person, Person.id == GridAssignment.person_id)
        .where(GridAssignment.grid_id == grid_id, GridAssignment.role.in_(RESPONDER_KINDS))
        .order_by(GridAssignment.role.desc())  # officer before auxiliary
    ).all()
    return [(role, person) for role, person in rows]


def _district_people(session: Session, district_id: int) -> list[Person]:
    return list(
        session.scalars(
            select(Person)
            .join(GridAssignment, GridAssignment.person_id == Person.id)
            .join(PoliceGrid, PoliceGrid.id == GridAssignment.grid_id)
            .where(
                PoliceGrid.district_id == district_id,
                PoliceGrid.active(),
                Person.duty_status == DutyStatus.AVAILABLE,
                Person.kind.in_(RESPONDER_KINDS),
            )
            .distinct()
            .order_by(Person.id)
        )
    )


class _Lazy(Sequence[Candidate]):
    """Candidates drawn from ``source`` only as far as they are read: each later step of
    the fall-back chain costs queries, and most incidents go to the first person."""

    def __init__(self, source: Iterator[Candidate]) -> None:
        self._source = source
        self._drawn: list[Candidate] = []

    def _draw(self, count: int | None) -> None:
        while count is None or len(self._drawn) < count:
            candidate = next(self._source, None)
            if candidate is None:
                return
            self._drawn.append(candidate)

    def __iter__(self) -> Iterator[Candidate]:
        i = 0
        while True:
            self._draw(i + 1)
            if i >= len(self._drawn):
                return
            yield self._drawn[i]
            i += 1

    def __bool__(self) -> bool:
        self._draw(1)
        return bool(self._drawn)

    def __len__(self) -> int:
        self._draw(None)
        return len(self._drawn)

    @overload
    def __getitem__(self, index: int) -> Candidate: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Candidate]: ...
    def __getitem__(self, index: int | slice) -> Candidate | Sequence[Candidate]:
        self._draw(None)
        return self._drawn[index]


def _grid_officer_chain(
    session: Session, incident: Incident, station: Station, kind: AreaKind, speeds: SpeedModel
) -> Sequence[Candidate]:
    return _Lazy(_grid_officer_steps(session, incident, station, kind, speeds))


def _grid_officer_steps(
    session: Session, incident: Incident, station: Station, kind: AreaKind, speeds: SpeedModel
) -> Iterator[Candidate]:
    seen: set[int] = set()

    def add(people: list[tuple[Person, float | None]], step: str, reason: str) -> list[Candidate]:
        chain = []
        for person, eta in people:
            if person.id not in seen:
                seen.add(person.id)
                chain.append(Candidate(person, step, eta, reason, {"name": person.name}))
        return chain

    if incident.grid_id is not None:
        for role, person in _grid_team(session, incident.grid_id):
            if person.duty_status is DutyStatus.AVAILABLE:
                reason = (
                    N_("{name} is the grid's responsible officer (first-responder rule).")
                    if role is PersonKind.OFFICER
                    else N_("The grid's officer is not available; {name} is its auxiliary.")
                )
                yield from add([(person, None)], "grid", reason)
    if incident.district_id is not None:
        yield from add(
            rank_by_eta(_district_people(session, incident.district_id), incident, kind, speeds),
            "district",
            N_("No one of the grid is available; {name} serves the same police district."),
        )
    yield from add(
        rank_by_eta(
            available_people(session, [station.id], team=Team.COMMUNITY), incident, kind, speeds
        ),
        "station",
        N_("No one of the district is available; {name} is in the station's community team."),
    )
    others = _joint_station_ids(session, station)
    if others:
        yield from add(
            rank_by_eta(
                available_people(session, others, team=Team.COMMUNITY), incident, kind, speeds
            ),
            "joint_station",
            N_("No one of the station is available; {name} comes from the joint station."),
        )


def plan_routing(
    session: Session,
    incident: Incident,
    category: IncidentCategory,
    rules: Sequence[RoutingRule],
    speeds: SpeedModel,
) -> Plan:
    """Who should answer ``incident``, in order of preference, and why."""
    rule = choose_rule(rules, category, incident.priority)
    if rule is None or incident.station_id is None:
        return Plan(
            rule,
            [],
            0,
            True,
            N_("The incident is outside every grid or matches no rule; the command room decides."),
        )
    station = session.get(Station, incident.station_id)
    assert station is not None
    kind = station.kind
    candidates: Sequence[Candidate] = []
    if rule.action is RouteAction.GRID_OFFICER:
        candidates = _grid_officer_chain(session, incident, station, kind, speeds)
    elif rule.action is RouteAction.CASE_TEAM:
        own = rank_by_eta(
            available_people(session, [station.id], team=Team.CASE), incident, kind, speeds
        )
        case_team = [
            Candidate(
                p,
                "station",
                eta,
                N_("{name} is in the station's case-handling team."),
                {"name": p.name},
            )
            for p, eta in own
        ]
        others = _joint_station_ids(session, station)
        if others:
            pooled = rank_by_eta(
                available_people(session, others, team=Team.CASE), incident, kind, speeds
            )
            case_team += [
                Candidate(
                    p,
                    "joint_station",
                    eta,
                    N_(
                        "The station's case team is busy; {name} is in the joint "
                        "station's case team."
                    ),
                    {"name": p.name},
                )
                for p, eta in pooled
            ]
        candidates = case_team
    elif rule.action is RouteAction.NEAREST_AVAILABLE:
        station_ids = [station.id, *_joint_station_ids(session, station)]
        nearest = rank_by_eta(
            available_people(session, station_ids, team=None), incident, kind, speeds
        )
        candidates = [
            Candidate(
                p,
                "nearest",
                eta,
                N_("{name} is the nearest available unit, about {eta} minutes away."),
                {"name": p.name, "eta": round(eta) if eta is not None else "?"},
            )
            for p, eta in nearest
            if p.team is not Team.COMMAND_ROOM
        ]
    no_one = (
        None
        if candidates
        else N_("No one is available along the fall-back chain; the command room must dispatch.")
    )
    return Plan(
        rule, candidates, max(rule.units, 1), rule.alert_command_room or not candidates, no_one
    )
