"""Resident groups (警民群) of each grid: adding, changing and switching them off, listing
them by station or grid, and the grids of an area with their number of active groups.

A webhook group's address carries the bot's access token and its secret signs the
requests: neither is ever written to the audit log, a live event or a page; only the
host is shown. A webhook must point at an allowed host (FENGQIAO_NOTIFY_WEBHOOK_HOSTS),
checked when the group is saved.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from fengqiao.audit import service as audit
from fengqiao.audit.models import AuditAction
from fengqiao.auth import Permission, Principal, require
from fengqiao.errors import InvalidInput, NotFound
from fengqiao.i18n import _
from fengqiao.live import service as live
from fengqiao.notify.channels import webhook_url_problem
from fengqiao.notify.models import ChannelKind, ResidentGroup, WebhookStyle
from fengqiao.notify.screening import find_personal_data, personal_data_message
from fengqiao.org.models import PoliceDistrict, PoliceGrid

NAME_CHARS = (2, 100)
MAX_MEMBERS = 100_000


@dataclass(frozen=True)
class GroupData:
    grid_id: int
    name: str
    channel: ChannelKind
    members: int = 0
    style: WebhookStyle | None = None
    webhook_url: str | None = None
    secret: str | None = None


@dataclass(frozen=True)
class GroupChange:
    """Fields left None stay as they are; ``secret=""`` removes the signing secret."""

    name: str | None = None
    members: int | None = None
    style: WebhookStyle | None = None
    webhook_url: str | None = None
    secret: str | None = None
    active: bool | None = None


@dataclass(frozen=True)
class GroupRow:
    group: ResidentGroup
    grid_code: str
    grid_name: str


@dataclass(frozen=True)
class GridChoice:
    """A grid to publish to, with its number of active groups."""

    id: int
    code: str
    name: str
    station_id: int
    groups: int


def webhook_host(url: str | None) -> str | None:
    """The host of a webhook, shown instead of the address (whose token is a secret)."""
    if not url:
        return None
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


def _grid_in_scope(session: Session, principal: Principal, grid_id: int) -> PoliceGrid:
    grid = session.get(PoliceGrid, grid_id)
    if (
        grid is None
        or grid.retired_at is not None
        or not principal.sees_grid(grid.id, grid.district.station_id)
    ):
        raise NotFound(_("No grid {id} within your area.").format(id=grid_id))
    return grid


def _check_name(name: str) -> str:
    name = name.strip()
    if not NAME_CHARS[0] <= len(name) <= NAME_CHARS[1]:
        raise InvalidInput(_("Give the group a name of 2 to 100 characters."))
    findings = find_personal_data(name)
    if findings:
        raise InvalidInput(personal_data_message(findings))
    return name


def _check_members(members: int) -> int:
    if not 0 <= members <= MAX_MEMBERS:
        raise InvalidInput(
            _("The number of members must be from 0 to {max}.").format(max=MAX_MEMBERS)
        )
    return members


def _check_webhook(
    *,
    style: WebhookStyle | None,
    url: str | None,
    secret: str | None,
    hosts: frozenset[str],
) -> tuple[WebhookStyle, str, str | None]:
    url = (url or "").strip()
    if not url:
        raise InvalidInput(_("A webhook group needs the address of its bot."))
    if len(url) > 500:
        raise InvalidInput(_("The webhook address is longer than 500 characters."))
    problem = webhook_url_problem(url, hosts)
    if problem is not None:
        raise InvalidInput(problem)
    style = style or WebhookStyle.WECOM
    secret = (secret or "").strip() or None
    if secret is not None and len(secret) > 200:
        raise InvalidInput(_("The signing secret is longer than 200 characters."))
    # Only DingTalk bots sign their requests; a secret kept for another style is unused.
    return style, url, secret if style is WebhookStyle.DINGTALK else None


def _group_detail(group: ResidentGroup) -> dict[str, Any]:
    """What the audit row and live event say of a group: never the address or secret."""
    return {
        "grid_id": group.grid_id,
        "name": group.name,
        "channel": group.channel.value,
        "style": group.style.value if group.style else None,
        "webhook_host": webhook_host(group.webhook_url),
        "signed": group.secret is not None,
        "members": group.members,
        "active": group.active,
    }


def _group_changed(
    session: Session,
    principal: Principal,
    group: ResidentGroup,
    action: AuditAction,
    detail: dict[str, Any],
) -> None:
    audit.record(
        session,
        actor=principal.actor,
        action=action,
        object_type="resident_group",
        object_id=group.id,
        detail=detail,
    )
    live.publish(
        session,
        kind="notice",
        station_id=group.station_id,
        payload={"action": f"group_{action.value}", "group_id": group.id, "grid_id": group.grid_id},
    )


def add_group(
    session: Session, principal: Principal, data: GroupData, *, hosts: frozenset[str]
) -> ResidentGroup:
    """A new resident group of a grid in the principal's area; a webhook must point at
    an allowed host (``hosts``, from FENGQIAO_NOTIFY_WEBHOOK_HOSTS)."""
    require(principal, Permission.PUBLISH_NOTICES)
    grid = _grid_in_scope(session, principal, data.grid_id)
    name = _check_name(data.name)
    members = _check_members(data.members)
    style: WebhookStyle | None = None
    url = secret = None
    if data.channel is ChannelKind.WEBHOOK:
        style, url, secret = _check_webhook(
            style=data.style, url=data.webhook_url, secret=data.secret, hosts=hosts
        )
    group = ResidentGroup(
        grid_id=grid.id,
        station_id=grid.district.station_id,
        name=name,
        channel=data.channel,
        style=style,
        webhook_url=url,
        secret=secret,
        members=members,
        active=True,
    )
    session.add(group)
    session.flush()
    _group_changed(session, principal, group, AuditAction.CREATE, _group_detail(group))
    return group


def get_group(session: Session, principal: Principal, group_id: int) -> ResidentGroup:
    require(principal, Permission.PUBLISH_NOTICES)
    group = session.get(ResidentGroup, group_id)
    if group is None or not principal.sees_grid(group.grid_id, group.station_id):
        raise NotFound(_("Resident group {id} was not found.").format(id=group_id))
    return group


def update_group(
    session: Session,
    principal: Principal,
    group_id: int,
    change: GroupChange,
    *,
    hosts: frozenset[str],
) -> ResidentGroup:
    """Rename, recount, re-address or (de)activate a group. Its channel stays: for
    another channel, deactivate it and add a new group."""
    group = get_group(session, principal, group_id)
    before = _group_detail(group)
    name = _check_name(change.name) if change.name is not None else group.name
    members = _check_members(change.members) if change.members is not None else group.members
    style, url, secret = group.style, group.webhook_url, group.secret
    readdressed = bool(change.webhook_url) or change.style is not None or change.secret is not None
    if group.channel is not ChannelKind.WEBHOOK and readdressed:
        raise InvalidInput(_("Only webhook groups have an address, a style and a secret."))
    if group.channel is ChannelKind.WEBHOOK and (
        readdressed or (change.active and not group.active)
    ):
        # Checked again when re-addressed or brought back: the allowed hosts may have
        # changed since the group was saved.
        style, url, secret = _check_webhook(
            style=change.style or group.style,
            url=change.webhook_url or group.webhook_url,
            secret=change.secret if change.secret is not None else group.secret,
            hosts=hosts,
        )
    url_changed, secret_changed = url != group.webhook_url, secret != group.secret
    group.name, group.members = name, members
    group.style, group.webhook_url, group.secret = style, url, secret
    if change.active is not None:
        group.active = change.active
    after = _group_detail(group)
    detail: dict[str, Any] = {k: [before[k], v] for k, v in after.items() if before[k] != v}
    if url_changed:
        detail["webhook_url"] = "changed"
    if secret_changed:
        detail["secret"] = "changed" if secret else "removed"
    if detail:
        session.flush()
        _group_changed(session, principal, group, AuditAction.UPDATE, detail)
    return group


def deactivate_group(session: Session, principal: Principal, group_id: int) -> ResidentGroup:
    """Stop publishing to a group (its past deliveries stay)."""
    return update_group(session, principal, group_id, GroupChange(active=False), hosts=frozenset())


def _scoped_groups(principal: Principal) -> Select[ResidentGroup, str, str]:
    query = (
        select(ResidentGroup, PoliceGrid.code, PoliceGrid.name)
        .join(PoliceGrid, PoliceGrid.id == ResidentGroup.grid_id)
        .order_by(PoliceGrid.code, ResidentGroup.id)
    )
    if principal.station_ids is not None:
        query = query.where(ResidentGroup.station_id.in_(principal.station_ids))
    if principal.grid_ids is not None:
        query = query.where(ResidentGroup.grid_id.in_(principal.grid_ids))
    return query


def list_groups(
    session: Session,
    principal: Principal,
    *,
    grid_id: int | None = None,
    station_id: int | None = None,
    active_only: bool = False,
) -> list[GroupRow]:
    """The groups of the principal's area, by grid code; optionally one grid or station."""
    require(principal, Permission.PUBLISH_NOTICES)
    query = _scoped_groups(principal)
    if grid_id is not None:
        query = query.where(ResidentGroup.grid_id == grid_id)
    if station_id is not None:
        query = query.where(ResidentGroup.station_id == station_id)
    if active_only:
        query = query.where(ResidentGroup.active.is_(True))
    return [GroupRow(g, code, name) for g, code, name in session.execute(query)]


def group_row(session: Session, group: ResidentGroup) -> GroupRow:
    grid = session.get_one(PoliceGrid, group.grid_id)
    return GroupRow(group, grid.code, grid.name)


def grid_choices(session: Session, principal: Principal) -> list[GridChoice]:
    """The active grids of the principal's area with their number of active groups."""
    require(principal, Permission.PUBLISH_NOTICES)
    groups = (
        select(func.count(ResidentGroup.id))
        .where(ResidentGroup.grid_id == PoliceGrid.id, ResidentGroup.active.is_(True))
        .correlate(PoliceGrid)
        .scalar_subquery()
    )
    query = (
        select(PoliceGrid.id, PoliceGrid.code, PoliceGrid.name, PoliceDistrict.station_id, groups)
        .join(PoliceDistrict, PoliceDistrict.id == PoliceGrid.district_id)
        .where(PoliceGrid.active())
        .order_by(PoliceGrid.code)
    )
    if principal.station_ids is not None:
        query = query.where(PoliceDistrict.station_id.in_(principal.station_ids))
    if principal.grid_ids is not None:
        query = query.where(PoliceGrid.id.in_(principal.grid_ids))
    return [GridChoice(*row) for row in session.execute(query)]


def all_grid_ids(session: Session, principal: Principal) -> list[int]:
    """ "All grids": the grids of the principal's area that have an active group."""
    return [c.id for c in grid_choices(session, principal) if c.groups]
