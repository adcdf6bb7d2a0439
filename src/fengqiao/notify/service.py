"""Publicity to residents: publishing a warning to the resident groups of chosen grids
(one delivery each), the reach of a notice, the public notice board of a grid and the
demo's groups. The groups themselves are managed in groups.py and sending the pending
deliveries is in sending.py; both are re-exported here, so that callers use one module.

Notices carry no personal data: text that looks like an ID-card, mobile or landline
number is refused when published (see screening.py).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from fengqiao.audit import service as audit
from fengqiao.audit.models import AuditAction
from fengqiao.audit.service import SYSTEM
from fengqiao.auth import Permission, Principal, require
from fengqiao.db import utcnow
from fengqiao.errors import Conflict, InvalidInput, NotFound
from fengqiao.i18n import _
from fengqiao.live import service as live
from fengqiao.notify.channels import IMMEDIATE
from fengqiao.notify.groups import (
    GridChoice,
    GroupChange,
    GroupData,
    GroupRow,
    add_group,
    all_grid_ids,
    deactivate_group,
    get_group,
    grid_choices,
    group_row,
    list_groups,
    update_group,
    webhook_host,
)
from fengqiao.notify.models import (
    ChannelKind,
    DeliveryStatus,
    Notice,
    NoticeDelivery,
    ResidentGroup,
    WebhookStyle,
)
from fengqiao.notify.screening import find_personal_data, personal_data_message
from fengqiao.notify.sending import SendSummary, send_pending
from fengqiao.org.models import PoliceDistrict, PoliceGrid, Station

TITLE_CHARS = (2, 100)
# A WeCom text message holds 2 048 bytes: title and body in Chinese stay below that.
BODY_CHARS = (2, 500)
MAX_KEY_CHARS = 64
BOARD_DAYS = 30
BOARD_LIMIT = 100

__all__ = [
    "Board",
    "BoardNotice",
    "DeliveryRow",
    "GridChoice",
    "GroupChange",
    "GroupData",
    "GroupRow",
    "Reach",
    "SendSummary",
    "add_group",
    "all_grid_ids",
    "board",
    "check_text",
    "deactivate_group",
    "get_group",
    "get_notice",
    "grid_choices",
    "group_row",
    "list_deliveries",
    "list_groups",
    "list_notices",
    "publish",
    "reach",
    "reaches",
    "seed_groups",
    "send_pending",
    "update_group",
    "webhook_host",
]


# --- publishing ------------------------------------------------------------------------


def check_text(title: str, body: str) -> tuple[str, str]:
    """The notice's title and body, trimmed; refused when too short, too long or when
    they look like they hold personal data."""
    title, body = title.strip(), body.strip()
    if not TITLE_CHARS[0] <= len(title) <= TITLE_CHARS[1]:
        raise InvalidInput(_("Give the notice a title of 2 to 100 characters."))
    if not BODY_CHARS[0] <= len(body) <= BODY_CHARS[1]:
        raise InvalidInput(_("Give the notice a text of 2 to 500 characters."))
    findings = find_personal_data(f"{title}\n{body}")
    if findings:
        raise InvalidInput(personal_data_message(findings))
    return title, body


def _by_key(session: Session, key: str) -> Notice | None:
    return session.scalars(select(Notice).where(Notice.client_key == key)).first()


def _replayed(principal: Principal, notice: Notice) -> Notice:
    if notice.created_by_user_id != principal.actor.user_id:
        raise Conflict(_("This client key was already used for another notice."))
    return notice


def _grids_to_publish(
    session: Session, principal: Principal, grid_ids: list[int]
) -> list[PoliceGrid]:
    wanted = sorted(set(grid_ids))
    if not wanted:
        raise InvalidInput(_("Choose at least one grid."))
    grids = {
        g.id: g
        for g in session.scalars(
            select(PoliceGrid)
            .options(joinedload(PoliceGrid.district))
            .where(PoliceGrid.id.in_(wanted), PoliceGrid.active())
        )
    }
    for grid_id in wanted:
        grid = grids.get(grid_id)
        if grid is None or not principal.sees_grid(grid.id, grid.district.station_id):
            raise NotFound(_("No grid {id} within your area.").format(id=grid_id))
    return [grids[i] for i in wanted]


def publish(
    session: Session,
    principal: Principal,
    *,
    title: str,
    body: str,
    grid_ids: list[int],
    client_key: str | None = None,
    now: datetime | None = None,
) -> Notice:
    """A notice to every active group of the chosen grids: one delivery per group,
    pending for the sender, except in-app ones, which are on the board at once. The same
    ``client_key`` sent again (a retried post) returns the first notice unchanged."""
    require(principal, Permission.PUBLISH_NOTICES)
    now = now or utcnow()
    key = (client_key or "").strip() or None
    if key is not None and len(key) > MAX_KEY_CHARS:
        raise InvalidInput(_("The client key is longer than 64 characters."))
    if key is not None and (earlier := _by_key(session, key)) is not None:
        return _replayed(principal, earlier)
    title, body = check_text(title, body)
    grids = _grids_to_publish(session, principal, grid_ids)
    groups = list(
        session.scalars(
            select(ResidentGroup)
            .where(ResidentGroup.grid_id.in_([g.id for g in grids]), ResidentGroup.active.is_(True))
            .order_by(ResidentGroup.grid_id, ResidentGroup.id)
        )
    )
    if not groups:
        raise InvalidInput(
            _("None of the chosen grids has an active resident group: add one first.")
        )
    stations = sorted({g.district.station_id for g in grids})
    notice = Notice(
        station_id=stations[0] if len(stations) == 1 else None,
        title=title,
        body=body,
        client_key=key,
        created_by_user_id=principal.actor.user_id,
        created_at=now,
    )
    try:
        # A savepoint: a concurrent post with the same key wins, and this one returns it.
        with session.begin_nested():
            session.add(notice)
            session.flush()
    except IntegrityError:
        earlier = _by_key(session, key) if key is not None else None
        if earlier is None:
            raise
        return _replayed(principal, earlier)
    for group in groups:
        delivery = NoticeDelivery(
            notice_id=notice.id,
            group_id=group.id,
            grid_id=group.grid_id,
            channel=group.channel,
            status=DeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            reach=0,
            views=0,
        )
        if group.channel in IMMEDIATE:
            delivery.status, delivery.attempts, delivery.next_attempt_at = (
                DeliveryStatus.SENT,
                1,
                None,
            )
            delivery.reach, delivery.sent_at = group.members, now
        session.add(delivery)
    session.flush()
    audit.record(
        session,
        actor=principal.actor,
        action=AuditAction.CREATE,
        object_type="notice",
        object_id=notice.id,
        detail={"title": title, "grid_ids": [g.id for g in grids], "groups": len(groups)},
    )
    for station_id in stations:
        live.publish(
            session,
            kind="notice",
            station_id=station_id,
            payload={
                "action": "published",
                "notice_id": notice.id,
                "title": title,
                "groups": sum(1 for g in groups if g.station_id == station_id),
            },
        )
    return notice


# --- reading ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Reach:
    """What became of a notice: deliveries by state, residents reached, board views."""

    groups: int = 0
    sent: int = 0
    failed: int = 0
    pending: int = 0  # waiting, retrying or being sent
    reach: int = 0  # members of the groups it was sent to, counted when sent
    views: int = 0  # views of the grids' boards


def _notice_scope(principal: Principal) -> ColumnElement[bool] | None:
    """A notice is seen by its station, and by the stations of the groups it went to."""
    if principal.station_ids is None:
        return None
    mine = principal.station_ids
    return or_(
        Notice.station_id.in_(mine),
        Notice.id.in_(
            select(NoticeDelivery.notice_id)
            .join(ResidentGroup, ResidentGroup.id == NoticeDelivery.group_id)
            .where(ResidentGroup.station_id.in_(mine))
        ),
    )


def list_notices(session: Session, principal: Principal, *, limit: int = 50) -> list[Notice]:
    """The latest notices of the principal's stations, newest first."""
    require(principal, Permission.PUBLISH_NOTICES)
    query = select(Notice).order_by(Notice.created_at.desc(), Notice.id.desc()).limit(limit)
    scope = _notice_scope(principal)
    if scope is not None:
        query = query.where(scope)
    return list(session.scalars(query))


def get_notice(session: Session, principal: Principal, notice_id: int) -> Notice:
    require(principal, Permission.PUBLISH_NOTICES)
    query = select(Notice).where(Notice.id == notice_id)
    scope = _notice_scope(principal)
    if scope is not None:
        query = query.where(scope)
    notice = session.scalars(query).first()
    if notice is None:
        raise NotFound(_("Notice {id} was not found.").format(id=notice_id))
    return notice


def reaches(
    session: Session, notice_ids: list[int], *, station_ids: frozenset[int] | None = None
) -> dict[int, Reach]:
    """The reach of each notice (one query); ``station_ids`` counts only their groups."""
    if not notice_ids:
        return {}
    d = NoticeDelivery

    def count(*states: DeliveryStatus) -> Any:
        return func.coalesce(func.sum(case((d.status.in_(states), 1), else_=0)), 0)

    query = (
        select(
            d.notice_id,
            func.count(d.id),
            count(DeliveryStatus.SENT),
            count(DeliveryStatus.FAILED),
            count(DeliveryStatus.PENDING, DeliveryStatus.SENDING),
            func.coalesce(func.sum(case((d.status == DeliveryStatus.SENT, d.reach), else_=0)), 0),
            func.coalesce(func.sum(d.views), 0),
        )
        .where(d.notice_id.in_(notice_ids))
        .group_by(d.notice_id)
    )
    if station_ids is not None:
        query = query.join(ResidentGroup, ResidentGroup.id == d.group_id).where(
            ResidentGroup.station_id.in_(station_ids)
        )
    found = {row[0]: Reach(*(int(v) for v in row[1:])) for row in session.execute(query)}
    return {i: found.get(i, Reach()) for i in notice_ids}


def reach(session: Session, notice: Notice, *, principal: Principal | None = None) -> Reach:
    """The reach of one notice; with ``principal``, of the groups in its stations."""
    stations = principal.station_ids if principal is not None else None
    return reaches(session, [notice.id], station_ids=stations)[notice.id]


@dataclass(frozen=True)
class DeliveryRow:
    delivery: NoticeDelivery
    group_name: str
    group_style: WebhookStyle | None
    grid_code: str
    grid_name: str


def list_deliveries(session: Session, principal: Principal, notice_id: int) -> list[DeliveryRow]:
    """The deliveries of a notice to the groups of the principal's area, by grid."""
    notice = get_notice(session, principal, notice_id)
    query = (
        select(
            NoticeDelivery,
            ResidentGroup.name,
            ResidentGroup.style,
            PoliceGrid.code,
            PoliceGrid.name,
        )
        .join(ResidentGroup, ResidentGroup.id == NoticeDelivery.group_id)
        .join(PoliceGrid, PoliceGrid.id == NoticeDelivery.grid_id)
        .where(NoticeDelivery.notice_id == notice.id)
        .order_by(PoliceGrid.code, NoticeDelivery.id)
    )
    if principal.station_ids is not None:
        query = query.where(ResidentGroup.station_id.in_(principal.station_ids))
    return [DeliveryRow(*row) for row in session.execute(query)]


# --- the public board ------------------------------------------------------------------


@dataclass(frozen=True)
class BoardNotice:
    title: str
    body: str
    sent_at: datetime


@dataclass(frozen=True)
class Board:
    grid_code: str
    grid_name: str
    station_name: str
    notices: list[BoardNotice]


def board(session: Session, grid_code: str, *, now: datetime | None = None) -> Board:
    """A grid's in-app notices of the last 30 days, newest first, for anyone (no login:
    notices hold no personal data). Each view counts once per notice, on one of the
    grid's in-app deliveries of it."""
    now = now or utcnow()
    grid = (
        session.scalars(
            select(PoliceGrid)
            .options(joinedload(PoliceGrid.district).joinedload(PoliceDistrict.station))
            .where(PoliceGrid.code == grid_code, PoliceGrid.active())
        ).first()
        if len(grid_code) <= 40
        else None
    )
    if grid is None:
        raise NotFound(_("There is no notice board for grid {code}.").format(code=grid_code[:40]))
    rows = session.execute(
        select(
            NoticeDelivery.id,
            NoticeDelivery.notice_id,
            NoticeDelivery.sent_at,
            Notice.title,
            Notice.body,
        )
        .join(Notice, Notice.id == NoticeDelivery.notice_id)
        .where(
            NoticeDelivery.grid_id == grid.id,
            NoticeDelivery.channel == ChannelKind.IN_APP,
            NoticeDelivery.status == DeliveryStatus.SENT,
            NoticeDelivery.sent_at >= now - timedelta(days=BOARD_DAYS),
        )
        .order_by(NoticeDelivery.sent_at.desc(), NoticeDelivery.id.desc())
        .limit(BOARD_LIMIT)
    )
    seen: set[int] = set()
    counted: list[int] = []
    notices: list[BoardNotice] = []
    for delivery_id, notice_id, sent_at, title, body in rows:
        if notice_id in seen or sent_at is None:
            continue
        seen.add(notice_id)
        counted.append(delivery_id)
        notices.append(BoardNotice(title=title, body=body, sent_at=sent_at))
    if counted:
        session.execute(
            update(NoticeDelivery)
            .where(NoticeDelivery.id.in_(counted))
            .values(views=NoticeDelivery.views + 1)
            .execution_options(synchronize_session=False)
        )
    station: Station = grid.district.station
    return Board(grid.code, grid.name, station.name, notices)


# --- demo data -------------------------------------------------------------------------


def seed_groups(session: Session) -> int:
    """Give every active grid without groups an in-app group "<grid>警民群" (150–500
    members, seeded by the grid's id) and a local-file group (no members: it reaches
    nobody, it shows what a bot would have been sent). Returns the groups added."""
    have = set(session.scalars(select(ResidentGroup.grid_id).distinct()))
    grids = session.execute(
        select(PoliceGrid.id, PoliceGrid.name, PoliceDistrict.station_id)
        .join(PoliceDistrict, PoliceDistrict.id == PoliceGrid.district_id)
        .where(PoliceGrid.active())
        .order_by(PoliceGrid.id)
    )
    added = 0
    for grid_id, name, station_id in grids:
        if grid_id in have:
            continue
        members = random.Random(grid_id).randint(150, 500)
        session.add_all(
            [
                ResidentGroup(
                    grid_id=grid_id,
                    station_id=station_id,
                    name=f"{name}警民群"[:100],
                    channel=ChannelKind.IN_APP,
                    members=members,
                    active=True,
                ),
                ResidentGroup(
                    grid_id=grid_id,
                    station_id=station_id,
                    name=f"{name}本地测试通道"[:100],
                    channel=ChannelKind.LOCAL,
                    members=0,
                    active=True,
                ),
            ]
        )
        added += 2
    session.flush()
    audit.record(
        session,
        actor=SYSTEM,
        action=AuditAction.CREATE,
        object_type="resident_group",
        object_id="demo",
        detail={"groups": added},
    )
    return added
