"""What the dispute pages show, gathered in one place (the pages run no queries)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fengqiao.auth import Permission, Principal, system_principal
from fengqiao.disputes import agreements, mediation, mediators, revisits, service
from fengqiao.disputes import risk as risks
from fengqiao.disputes import types as kinds
from fengqiao.disputes.models import (
    Dispute,
    DisputeEvent,
    DisputeIncident,
    DisputeMediator,
    DisputeParty,
    MediationAgreement,
    MediationSession,
    Mediator,
)
from fengqiao.incidents.models import Incident
from fengqiao.org import service as org
from fengqiao.registry.service import person_names
from fengqiao.tasks.models import FollowUp, Task


@dataclass
class DisputeView:
    dispute: Dispute
    parties: list[DisputeParty]
    mediators: list[tuple[DisputeMediator, Mediator]]
    sessions: list[MediationSession]
    agreements: list[MediationAgreement]
    follow_ups: list[FollowUp]
    tasks: dict[int, Task]
    links: list[tuple[DisputeIncident, Incident]]
    events: list[DisputeEvent]
    assessment: risks.Assessment
    suggestions: list[Mediator]
    roster: list[Mediator]
    type_names: dict[str, tuple[str, str]]
    grids: dict[int, str]
    people: dict[int, str]
    can_mediate: bool


def detail(session: Session, principal: Principal, dispute_id: int) -> DisputeView:
    """The dispute with everything its page shows; later incidents are looked up anew."""
    dispute = service.get_dispute(session, principal, dispute_id)
    # New links are the system's finding, not the reader's doing (a legal supervisor reads).
    revisits.find_links(session, dispute, actor=system_principal("dispute-links"))
    events = service.timeline(session, dispute.id)
    links = mediation.mediators_of(session, dispute.id)
    follow_ups = revisits.follow_ups_of(session, dispute.id)
    can_mediate = principal.can(Permission.MEDIATE_DISPUTES)
    roster = (
        [
            m
            for m in mediators.roster(session, principal)
            if m.station_id == dispute.station_id and mediators.serves_at(m, dispute.level)
        ]
        if can_mediate
        else []
    )
    ids: set[int | None] = {dispute.responsible_person_id, *(e.person_id for e in events)}
    return DisputeView(
        dispute=dispute,
        parties=service.parties_of(session, dispute.id),
        mediators=links,
        sessions=mediation.sessions_of(session, dispute.id),
        agreements=agreements.agreements_of(session, dispute.id),
        follow_ups=follow_ups,
        tasks=revisits.tasks_of(session, [f.id for f in follow_ups]),
        links=revisits.linked_incidents(session, dispute.id),
        events=events,
        assessment=risks.assess(dispute.risk_answers or {}),
        suggestions=mediators.suggest(session, dispute, service.today()) if can_mediate else [],
        roster=roster,
        type_names=kinds.type_names(session),
        grids=org.grid_codes(session, {dispute.grid_id}),
        people=person_names(session, {i for i in ids if i is not None}),
        can_mediate=can_mediate,
    )


def list_context(session: Session, principal: Principal, rows: list[Dispute]) -> dict[str, Any]:
    return {
        "type_names": kinds.type_names(session),
        "grids": org.grid_codes(session, {d.grid_id for d in rows}),
        "people": person_names(
            session, {d.responsible_person_id for d in rows if d.responsible_person_id}
        ),
    }


def station_names(session: Session) -> dict[str, str]:
    from fengqiao.org.models import Station

    return {str(r[0]): r[1] for r in session.execute(select(Station.id, Station.name))}
