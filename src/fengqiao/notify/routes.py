"""JSON API of publicity: publish a notice to the resident groups of chosen grids
(idempotent by the client's key), list notices with their reach, one notice with its
deliveries, and the resident groups of my area."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request

from fengqiao.auth import Permission, Principal
from fengqiao.notify import service as notify
from fengqiao.notify.channels import parse_hosts
from fengqiao.notify.schemas import (
    DeliveryOut,
    GroupIn,
    GroupOut,
    GroupPatch,
    NoticeDetailOut,
    NoticeIn,
    NoticeOut,
)
from fengqiao.web import DbSession, requires, settings_of

router = APIRouter(tags=["notices"])
Publisher = Annotated[Principal, requires(Permission.PUBLISH_NOTICES)]


@router.post("/notices", status_code=201)
def publish_notice(session: DbSession, principal: Publisher, body: NoticeIn) -> NoticeOut:
    """Publish to every active group of the chosen grids (or of all my grids). The same
    ``client_key`` again returns the first notice and publishes nothing."""
    grid_ids = notify.all_grid_ids(session, principal) if body.all_grids else body.grid_ids
    notice = notify.publish(
        session,
        principal,
        title=body.title,
        body=body.body,
        grid_ids=grid_ids,
        client_key=body.client_key,
    )
    return NoticeOut.of(notice, notify.reach(session, notice, principal=principal))


@router.get("/notices")
def list_notices(session: DbSession, principal: Publisher, limit: int = 50) -> list[NoticeOut]:
    """The latest notices of my stations with their reach, newest first."""
    notices = notify.list_notices(session, principal, limit=max(1, min(limit, 200)))
    figures = notify.reaches(session, [n.id for n in notices], station_ids=principal.station_ids)
    return [NoticeOut.of(n, figures[n.id]) for n in notices]


@router.get("/notices/{notice_id}")
def get_notice(session: DbSession, principal: Publisher, notice_id: int) -> NoticeDetailOut:
    """A notice, its reach and its delivery to each group of my area."""
    notice = notify.get_notice(session, principal, notice_id)
    rows = notify.list_deliveries(session, principal, notice_id)
    return NoticeDetailOut(
        notice=NoticeOut.of(notice, notify.reach(session, notice, principal=principal)),
        deliveries=[DeliveryOut.of(r) for r in rows],
    )


@router.get("/notice-groups")
def list_groups(
    session: DbSession,
    principal: Publisher,
    grid_id: int | None = None,
    station_id: int | None = None,
) -> list[GroupOut]:
    rows = notify.list_groups(session, principal, grid_id=grid_id, station_id=station_id)
    return [GroupOut.of(r) for r in rows]


@router.post("/notice-groups", status_code=201)
def add_group(
    session: DbSession, principal: Publisher, body: GroupIn, request: Request
) -> GroupOut:
    """A resident group of a grid of my area; a webhook must be on an allowed host."""
    group = notify.add_group(
        session,
        principal,
        notify.GroupData(**body.model_dump()),
        hosts=parse_hosts(settings_of(request).notify_webhook_hosts),
    )
    return GroupOut.of(notify.group_row(session, group))


@router.patch("/notice-groups/{group_id}")
def update_group(
    session: DbSession, principal: Publisher, group_id: int, body: GroupPatch, request: Request
) -> GroupOut:
    """Change a group; ``active: false`` stops publishing to it."""
    group = notify.update_group(
        session,
        principal,
        group_id,
        notify.GroupChange(**body.model_dump()),
        hosts=parse_hosts(settings_of(request).notify_webhook_hosts),
    )
    return GroupOut.of(notify.group_row(session, group))
