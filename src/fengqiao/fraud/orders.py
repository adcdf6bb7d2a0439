"""Working a dissuasion order: who may see it, placing a queued one, calls, contact,
visit, the outcome (a loss becomes an incident; high risk gets a follow-up visit), and
the escalation of passed deadlines.

Every change writes an order event and an audit row in the caller's transaction.
Repeating a change with the same values (a retry) changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from fengqiao.audit import service as audit
from fengqiao.audit.models import AuditAction
from fengqiao.auth import Permission, Principal, require
from fengqiao.clock import local_day
from fengqiao.config import Settings
from fengqiao.db import lock_for_update, utcnow
from fengqiao.errors import Conflict, Forbidden, InvalidInput, NotFound
from fengqiao.fraud.announce import label, push, title_of
from fengqiao.fraud.intake import deadlines, task_row, task_source_key
from fengqiao.fraud.models import (
    LEVEL_RANK,
    CallResult,
    ContactMethod,
    FraudCall,
    FraudOrder,
    FraudOrderEvent,
    FraudWarning,
    OrderStatus,
    Outcome,
    WarningLevel,
)
from fengqiao.i18n import _
from fengqiao.incidents import service as incidents
from fengqiao.incidents.models import Channel as IncidentChannel
from fengqiao.incidents.models import Priority
from fengqiao.incidents.schemas import IncidentIn
from fengqiao.org.models import GridAssignment, Person, PersonKind, PoliceDistrict, PoliceGrid
from fengqiao.tasks.follow_ups import schedule_follow_up
from fengqiao.tasks.models import FollowUp, FollowUpStatus, Task, TaskKind, TaskStatus

FRAUD_CATEGORY = "0102"  # 诈骗
MAX_MONEY = 10_000_000_000  # yuan


def scope(principal: Principal) -> ColumnElement[bool]:
    """Orders ``principal`` may see: the warning desk its stations (and the bureau's
    unplaced queue); the grid's police their grids and what was given to them."""
    if principal.station_ids is None and principal.grid_ids is None:
        return FraudOrder.id.is_not(None)
    mine = FraudOrder.assignee_id == principal.person_id if principal.person_id else None
    if principal.can(Permission.RECEIVE_WARNINGS) and principal.grid_ids is None:
        stations = sorted(principal.station_ids or ())
        return or_(FraudOrder.station_id.in_(stations), FraudOrder.station_id.is_(None))
    conditions = [c for c in (mine,) if c is not None]
    if principal.grid_ids is not None:
        conditions.append(FraudOrder.grid_id.in_(sorted(principal.grid_ids)))
    elif principal.station_ids is not None:
        conditions.append(FraudOrder.station_id.in_(sorted(principal.station_ids)))
    return or_(*conditions) if conditions else FraudOrder.id.is_(None)


def get_order(
    session: Session, principal: Principal, order_id: int, *, audited: bool = True
) -> FraudOrder:
    require(principal, Permission.HANDLE_WARNINGS)
    order = session.get(FraudOrder, order_id)
    if order is None:
        raise NotFound(_("Order {id} was not found.").format(id=order_id))
    visible = session.scalar(
        select(FraudOrder.id).where(FraudOrder.id == order_id, scope(principal))
    )
    if visible is None:
        raise Forbidden(_("This order belongs to another grid or station."))
    if audited:
        audit.record(
            session,
            actor=principal.actor,
            action=AuditAction.READ,
            object_type="fraud_order",
            object_id=order.id,
        )
    return order


def _event(
    session: Session, principal: Principal, order: FraudOrder, kind: str, **detail: object
) -> None:
    session.add(
        FraudOrderEvent(
            order_id=order.id,
            kind=kind,
            user_id=principal.actor.user_id,
            person_id=principal.person_id,
            detail={k: v for k, v in detail.items() if v is not None},
        )
    )
    audit.record(
        session,
        actor=principal.actor,
        action=AuditAction.UPDATE,
        object_type="fraud_order",
        object_id=order.id,
        detail={"change": kind, **{k: v for k, v in detail.items() if v is not None}},
    )


def _not_closed(order: FraudOrder) -> None:
    if order.status is OrderStatus.CLOSED:
        raise Conflict(
            _("The order is closed ({outcome}); reopen it to change it.").format(
                outcome=_(str(order.outcome.value)) if order.outcome else "—"
            )
        )


def task_of(session: Session, order: FraudOrder) -> Task | None:
    return session.scalar(select(Task).where(Task.source_key == task_source_key(order.id)))


# --- placing -----------------------------------------------------------------------------


def assign(
    session: Session,
    principal: Principal,
    settings: Settings,
    order_id: int,
    *,
    person_id: int,
    grid_id: int | None = None,
) -> FraudOrder:
    """Give an order (queued or not) to a person of one of the order's or the given
    grid's team; the command room's decision is kept as the match."""
    require(principal, Permission.RECEIVE_WARNINGS)
    order = get_order(session, principal, order_id, audited=False)
    lock_for_update(session, order)
    _not_closed(order)
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound(_("Person {id} was not found.").format(id=person_id))
    if not principal.sees_station(person.station_id):
        raise Forbidden(_("This person works for another station."))
    if grid_id is None:
        grid_id = order.grid_id
    # Only the grid's police handle warnings: a grid worker's grid does not count.
    grids = set(
        session.scalars(
            select(GridAssignment.grid_id).where(
                GridAssignment.person_id == person.id,
                GridAssignment.role.in_((PersonKind.OFFICER, PersonKind.AUXILIARY)),
            )
        )
    )
    if grid_id is None or grid_id not in grids:
        grid_id = min(grids) if grids else None
    if grid_id is None:
        raise InvalidInput(
            _("{name} serves no grid: choose a grid officer or auxiliary.").format(name=person.name)
        )
    if order.assignee_id == person.id and order.grid_id == grid_id:
        return order
    station_id = session.scalar(
        select(PoliceDistrict.station_id)
        .join(PoliceGrid, PoliceGrid.district_id == PoliceDistrict.id)
        .where(PoliceGrid.id == grid_id)
    )
    before = order.assignee_id
    order.assignee_id, order.grid_id, order.station_id = person.id, grid_id, station_id
    if order.status is OrderStatus.QUEUED:
        # Placed by hand: kept as the match (the figures count rules only).
        order.match_detail = {**order.match_detail, "placed_by": principal.username}
        order.status = OrderStatus.OPEN
        # The clock starts when the order reaches a person who can act on it.
        now = utcnow()
        contact_due, visit_due = deadlines(settings, order.level, now)
        if order.contacted_at is None:
            order.contact_due_at = max(order.contact_due_at, contact_due)
            order.escalation = 0
        if visit_due and order.visited_at is None:
            order.visit_due_at = max(order.visit_due_at or visit_due, visit_due)

    task = task_of(session, order)
    if task is None:
        session.add(
            Task(
                **task_row(
                    order.id,
                    station_id=station_id or person.station_id,
                    grid_id=grid_id,
                    assignee_id=person.id,
                    level=order.level,
                    title=title_of(order.warning_type),
                    target=label(order.name, order.phone, order.address_text),
                    lon=order.lon,
                    lat=order.lat,
                    contact_due=order.contact_due_at,
                    visit_due=order.visit_due_at,
                    user_id=principal.actor.user_id,
                    now=utcnow(),
                )
            )
        )
    elif task.status not in (TaskStatus.DONE, TaskStatus.CANCELLED):
        task.assignee_id, task.grid_id = person.id, grid_id
    _event(session, principal, order, "assigned", person=person.id, before=before, grid=grid_id)
    push(session, order)
    return order


# --- calls, contact, visit ----------------------------------------------------------------


def log_call(
    session: Session,
    principal: Principal,
    order_id: int,
    *,
    called: str,
    result: CallResult,
    duration_s: int = 0,
    note: str = "",
    client_key: str | None = None,
) -> FraudCall:
    """A call about the order (the warning desk or the grid officer). An answered call
    to the person counts as the first contact."""
    order = get_order(session, principal, order_id, audited=False)
    if client_key:
        found = session.scalar(select(FraudCall).where(FraudCall.client_key == client_key))
        if found is not None:
            if found.order_id != order.id:
                raise Conflict(_("This call key was already used for another order."))
            return found
    if called not in ("person", "relative", "other"):
        raise InvalidInput(_("Who was called: person, relative or other."))
    if not 0 <= duration_s <= 24 * 3600:
        raise InvalidInput(_("The call's duration must be between 0 and 86400 seconds."))
    lock_for_update(session, order)
    call = FraudCall(
        order_id=order.id,
        user_id=principal.actor.user_id,
        person_id=principal.person_id,
        called=called,
        result=result,
        duration_s=duration_s,
        note=note[:2000],
        client_key=client_key or None,
    )
    session.add(call)
    session.flush()
    _event(
        session, principal, order, "call", called=called, result=result.value, seconds=duration_s
    )
    if result is CallResult.ANSWERED and order.status is not OrderStatus.CLOSED:
        _contacted(session, principal, order, ContactMethod.PHONE, call.at)
    return call


def _contacted(
    session: Session, principal: Principal, order: FraudOrder, method: ContactMethod, at: datetime
) -> None:
    if order.contacted_at is not None:
        return
    order.contacted_at, order.contact_method = at, method
    if order.status in (OrderStatus.OPEN, OrderStatus.QUEUED):
        order.status = OrderStatus.CONTACTED
    _event(session, principal, order, "contacted", method=method.value)
    push(session, order, "fraud_update")


def contact(
    session: Session, principal: Principal, order_id: int, *, method: ContactMethod
) -> FraudOrder:
    order = get_order(session, principal, order_id, audited=False)
    lock_for_update(session, order)
    _not_closed(order)
    now = utcnow()
    _contacted(session, principal, order, method, now)
    if method is ContactMethod.VISIT and order.visited_at is None:
        order.visited_at = now
        _event(session, principal, order, "visited")
    return order


# --- outcome -------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutcomeIn:
    outcome: Outcome
    method: ContactMethod | None = None
    money_saved: int = 0
    money_lost: int = 0
    note: str = ""


def _check_outcome(data: OutcomeIn) -> None:
    for name, value in (("money_saved", data.money_saved), ("money_lost", data.money_lost)):
        if not 0 <= value <= MAX_MONEY:
            raise InvalidInput(
                _("{field} must be a whole number of yuan from 0 to 10 000 000 000.").format(
                    field=name
                )
            )
    if data.outcome is Outcome.MONEY_LOST and data.money_lost <= 0:
        raise InvalidInput(_("Give the amount already lost (yuan): it opens a fraud incident."))
    if data.outcome is not Outcome.MONEY_LOST and data.money_lost:
        raise InvalidInput(_("An amount lost goes with the outcome “already defrauded”."))
    if data.outcome in (Outcome.UNREACHABLE, Outcome.FALSE_ALARM, Outcome.NOT_IN_AREA) and (
        data.money_saved
    ):
        raise InvalidInput(_("Money saved goes with “dissuaded” or “already defrauded”."))
    if data.outcome in (Outcome.DISSUADED, Outcome.MONEY_LOST) and data.method is None:
        raise InvalidInput(_("Say how the person was reached: phone, visit, video or SMS."))


def record_outcome(
    session: Session, principal: Principal, settings: Settings, order_id: int, data: OutcomeIn
) -> FraudOrder:
    """Close the order with its outcome. The same outcome again is a retry and changes
    nothing; a different one needs the order reopened first."""
    _check_outcome(data)
    order = get_order(session, principal, order_id, audited=False)
    lock_for_update(session, order)
    if order.status is OrderStatus.CLOSED:
        if (order.outcome, order.money_saved, order.money_lost) == (
            data.outcome,
            data.money_saved,
            data.money_lost,
        ):
            return order
        _not_closed(order)
    now = utcnow()
    if data.method is not None:
        _contacted(session, principal, order, data.method, now)
        if data.method is ContactMethod.VISIT and order.visited_at is None:
            order.visited_at = now
    order.outcome, order.outcome_at = data.outcome, now
    order.outcome_note = data.note[:2000]
    order.money_saved, order.money_lost = data.money_saved, data.money_lost
    order.status, order.closed_at, order.merge_key = OrderStatus.CLOSED, now, None
    if data.outcome is Outcome.MONEY_LOST:
        order.incident_id = _loss_incident(session, principal, order)
    if _high_risk(order, data.outcome) and order.grid_id is not None and order.follow_up_id is None:
        follow_up = schedule_follow_up(
            session,
            principal,
            kind=TaskKind.FRAUD_DISSUASION,
            grid_id=order.grid_id,
            due_on=local_day(now) + timedelta(days=settings.fraud_follow_up_days),
            target_type="fraud_order",
            target_id=order.id,
            target_label=label(order.name, order.phone, order.address_text),
            lon=order.lon,
            lat=order.lat,
            note=_("Follow-up visit after fraud warning order {id}").format(id=order.id),
        )
        order.follow_up_id = follow_up.id
    task = task_of(session, order)
    if task is not None and task.status is not TaskStatus.CANCELLED:
        task.status = TaskStatus.DONE
        task.completed_at = task.completed_at or now
        task.completed_by_id = principal.person_id
        task.result = {
            "outcome": "already_defrauded"
            if data.outcome is Outcome.MONEY_LOST
            else data.outcome.value,
            "contact": (data.method or order.contact_method or ContactMethod.PHONE).value
            if data.method or order.contact_method
            else None,
            "money_saved": data.money_saved,
        }
    _event(
        session,
        principal,
        order,
        "outcome",
        outcome=data.outcome.value,
        saved=data.money_saved or None,
        lost=data.money_lost or None,
        incident=order.incident_id,
    )
    push(session, order, "fraud_update", outcome=data.outcome.value, saved=data.money_saved)
    return order


def _high_risk(order: FraudOrder, outcome: Outcome) -> bool:
    """Who gets a follow-up visit: the urgent and high warnings that reached a person,
    and every loss."""
    if outcome is Outcome.MONEY_LOST:
        return True
    return outcome is Outcome.DISSUADED and LEVEL_RANK[order.level] >= LEVEL_RANK[WarningLevel.HIGH]


def _loss_incident(session: Session, principal: Principal, order: FraudOrder) -> int:
    intake = incidents.create_incident(
        session,
        actor=principal.actor,
        data=IncidentIn(
            channel=IncidentChannel.PHONE,
            category_code=FRAUD_CATEGORY,
            priority=Priority.HIGH,
            description=_(
                "Fraud warning order {id}: already defrauded of {amount} yuan ({type})."
            ).format(id=order.id, amount=order.money_lost, type=title_of(order.warning_type)),
            address=(order.address_text or "")[:200] or None,
            reporter_name=order.name,
            reporter_phone=order.phone,
            lon=order.lon,
            lat=order.lat,
        )
        if order.lon is not None or order.address_text
        else IncidentIn(
            channel=IncidentChannel.PHONE,
            category_code=FRAUD_CATEGORY,
            priority=Priority.HIGH,
            description=_("Fraud warning order {id}: already defrauded of {amount} yuan.").format(
                id=order.id, amount=order.money_lost
            ),
            address=_("(no address)"),
            reporter_name=order.name,
            reporter_phone=order.phone,
        ),
        idempotency_key=f"fraud-order:{order.id}",
    )
    return intake.incident.id


def reopen(session: Session, principal: Principal, order_id: int, *, reason: str) -> FraudOrder:
    """Undo a closing (a wrong outcome): the order takes repeats again if the person has
    no newer order; the outcome stays in the timeline."""
    require(principal, Permission.RECEIVE_WARNINGS)
    if not reason.strip():
        raise InvalidInput(_("Give the reason for reopening."))
    order = get_order(session, principal, order_id, audited=False)
    lock_for_update(session, order)
    if order.status is not OrderStatus.CLOSED:
        return order
    _event(
        session,
        principal,
        order,
        "reopened",
        reason=reason[:500],
        was=order.outcome.value if order.outcome else None,
    )
    order.status = OrderStatus.CONTACTED if order.contacted_at else OrderStatus.OPEN
    if order.assignee_id is None:
        order.status = OrderStatus.QUEUED
    order.outcome = None
    order.outcome_at = order.closed_at = None
    order.money_saved = order.money_lost = 0
    if order.follow_up_id is not None:
        follow_up = session.get(FollowUp, order.follow_up_id)
        if follow_up is not None and follow_up.status is FollowUpStatus.PENDING:
            follow_up.status = FollowUpStatus.CANCELLED
        order.follow_up_id = None
    taken = session.scalar(select(FraudOrder.id).where(FraudOrder.merge_key == order.person_key))
    if taken is None:
        order.merge_key = order.person_key
    task = task_of(session, order)
    if task is not None and task.status is TaskStatus.DONE:
        task.status, task.completed_at, task.result = TaskStatus.OPEN, None, None
    return order


# --- lists -------------------------------------------------------------------------------------


def list_orders(
    session: Session,
    principal: Principal,
    *,
    status: OrderStatus | None = None,
    queue: bool = False,
    mine: bool = False,
    open_only: bool = False,
    limit: int = 200,
) -> list[FraudOrder]:
    """Orders in scope, the most pressing first: escalated, then by deadline."""
    require(principal, Permission.HANDLE_WARNINGS)
    query = select(FraudOrder).where(scope(principal))
    if status is not None:
        query = query.where(FraudOrder.status == status)
    if queue:
        query = query.where(FraudOrder.status == OrderStatus.QUEUED)
    if open_only:
        query = query.where(FraudOrder.status != OrderStatus.CLOSED)
    if mine:
        query = query.where(FraudOrder.assignee_id == principal.person_id)
    query = query.order_by(
        FraudOrder.escalation.desc(), FraudOrder.contact_due_at, FraudOrder.id
    ).limit(min(max(limit, 1), 1000))
    return list(session.scalars(query))


def timeline(session: Session, order: FraudOrder) -> list[FraudOrderEvent]:
    return list(
        session.scalars(
            select(FraudOrderEvent)
            .where(FraudOrderEvent.order_id == order.id)
            .order_by(FraudOrderEvent.at, FraudOrderEvent.id)
        )
    )


def calls(session: Session, order: FraudOrder) -> list[FraudCall]:
    return list(
        session.scalars(
            select(FraudCall).where(FraudCall.order_id == order.id).order_by(FraudCall.at)
        )
    )


def warnings_of(session: Session, order: FraudOrder) -> list[FraudWarning]:
    return list(
        session.scalars(
            select(FraudWarning)
            .where(FraudWarning.order_id == order.id)
            .order_by(FraudWarning.warned_at)
            .limit(100)
        )
    )


def team_of(session: Session, principal: Principal, order: FraudOrder) -> list[Person]:
    """Who the order may be given to: the grid team's police, else the station's."""
    query = (
        select(Person)
        .join(GridAssignment, GridAssignment.person_id == Person.id)
        .where(GridAssignment.role.in_((PersonKind.OFFICER, PersonKind.AUXILIARY)))
        .distinct()
        .order_by(Person.name)
    )
    if order.grid_id is not None:
        query = query.where(GridAssignment.grid_id == order.grid_id)
    elif order.station_id is not None:
        query = query.where(Person.station_id == order.station_id)
    elif principal.station_ids is not None:
        query = query.where(Person.station_id.in_(sorted(principal.station_ids)))
    return list(session.scalars(query.limit(300)))
