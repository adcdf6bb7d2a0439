"""HTML pages of publicity: compose a warning and see the latest notices with their reach,
one notice's deliveries, the resident groups of my area, and each grid's public notice
board (no login: notices hold no personal data)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from fengqiao.auth import Permission, Principal
from fengqiao.errors import DomainError, InvalidInput
from fengqiao.i18n import N_, _
from fengqiao.notify import service as notify
from fengqiao.notify.channels import parse_hosts
from fengqiao.notify.models import ChannelKind, WebhookStyle
from fengqiao.web import DbSession, render, requires, settings_of

router = APIRouter(include_in_schema=False)
Publisher = Annotated[Principal, requires(Permission.PUBLISH_NOTICES)]

STATUS_LABELS = {
    "pending": N_("Waiting"),
    "sending": N_("Sending"),
    "sent": N_("Delivered"),
    "failed": N_("Failed"),
}
CHANNEL_LABELS = {
    "in_app": N_("In-app notice board"),
    "webhook": N_("Group-chat bot"),
    "local": N_("Local file (development)"),
}
STYLE_LABELS = {"wecom": N_("WeCom"), "dingtalk": N_("DingTalk"), "plain": N_("Plain JSON")}


def _labels() -> dict[str, Any]:
    return {
        "status_labels": STATUS_LABELS,
        "channel_labels": CHANNEL_LABELS,
        "style_labels": STYLE_LABELS,
    }


def _hosts(request: Request) -> frozenset[str]:
    return parse_hosts(settings_of(request).notify_webhook_hosts)


def _failure(exc: Exception) -> tuple[str, int]:
    if isinstance(exc, DomainError):
        return exc.message, exc.status
    return _("Check the form: {error}").format(error=exc), 422


def _ints(values: list[str], what: str) -> list[int]:
    try:
        return [int(v) for v in values if v.strip()]
    except ValueError:
        raise InvalidInput(_("Check the form: {error}").format(error=what)) from None


# --- notices ---------------------------------------------------------------------------


def _notices_page(
    request: Request, session: DbSession, principal: Principal, **extra: Any
) -> Response:
    notices = notify.list_notices(session, principal, limit=30)
    figures = notify.reaches(session, [n.id for n in notices], station_ids=principal.station_ids)
    kept = extra.pop("kept", None) or {"grid_ids": set()}
    return render(
        request,
        "notify/notices.html",
        status_code=extra.pop("status_code", 200),
        notices=notices,
        figures=figures,
        grids=notify.grid_choices(session, principal),
        kept=kept,
        key=kept.get("client_key") or uuid.uuid4().hex,
        **extra,
    )


@router.get("/notices")
def notices_page(request: Request, session: DbSession, principal: Publisher) -> Response:
    return _notices_page(request, session, principal)


@router.post("/notices")
def publish_form(
    request: Request,
    session: DbSession,
    principal: Publisher,
    title: Annotated[str, Form()] = "",
    body: Annotated[str, Form()] = "",
    grid_ids: Annotated[list[str] | None, Form()] = None,
    all_grids: Annotated[str, Form()] = "",
    client_key: Annotated[str, Form()] = "",
) -> Response:
    """Publish from the form; on an error the page comes back with the input kept (and
    the same key, so that sending it again still publishes once)."""
    chosen = grid_ids or []
    kept: dict[str, Any] = {
        "title": title,
        "body": body,
        "grid_ids": {v for v in chosen if v.isdigit()},
        "all_grids": bool(all_grids),
        "client_key": client_key,
    }
    try:
        ids = (
            notify.all_grid_ids(session, principal)
            if all_grids
            else _ints(chosen, _("a grid is not a number"))
        )
        notice = notify.publish(
            session,
            principal,
            title=title,
            body=body,
            grid_ids=ids,
            client_key=client_key or None,
        )
    except (DomainError, ValueError) as exc:
        session.rollback()
        message, status = _failure(exc)
        return _notices_page(
            request, session, principal, error=message, kept=kept, status_code=status
        )
    return RedirectResponse(f"/notices/{notice.id}", status_code=303)


# --- resident groups (before /notices/{notice_id}) -------------------------------------


def _groups_page(
    request: Request, session: DbSession, principal: Principal, **extra: Any
) -> Response:
    grid_text = request.query_params.get("grid_id") or ""
    grid_id = int(grid_text) if grid_text.isdigit() else None
    return render(
        request,
        "notify/groups.html",
        status_code=extra.pop("status_code", 200),
        rows=notify.list_groups(session, principal, grid_id=grid_id),
        grids=notify.grid_choices(session, principal),
        grid_id=grid_id,
        hosts=sorted(_hosts(request)),
        channels=list(ChannelKind),
        styles=list(WebhookStyle),
        kept=extra.pop("kept", None) or {},
        group_kept=extra.pop("group_kept", None) or {},
        webhook_host=notify.webhook_host,
        **_labels(),
        **extra,
    )


@router.get("/notices/groups")
def groups_page(request: Request, session: DbSession, principal: Publisher) -> Response:
    return _groups_page(request, session, principal)


@router.post("/notices/groups")
def add_group_form(
    request: Request,
    session: DbSession,
    principal: Publisher,
    grid_id: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    channel: Annotated[str, Form()] = "in_app",
    members: Annotated[str, Form()] = "0",
    style: Annotated[str, Form()] = "",
    webhook_url: Annotated[str, Form()] = "",
    secret: Annotated[str, Form()] = "",
) -> Response:
    # The secret is not sent back to the page.
    kept = {
        "grid_id": grid_id,
        "name": name,
        "channel": channel,
        "members": members,
        "style": style,
        "webhook_url": webhook_url,
    }
    try:
        if not grid_id.strip().isdigit():
            raise InvalidInput(_("Choose the group's grid."))
        group = notify.add_group(
            session,
            principal,
            notify.GroupData(
                grid_id=int(grid_id),
                name=name,
                channel=ChannelKind(channel),
                members=int(members or 0),
                style=WebhookStyle(style) if style else None,
                webhook_url=webhook_url or None,
                secret=secret or None,
            ),
            hosts=_hosts(request),
        )
    except (DomainError, ValueError) as exc:
        session.rollback()
        message, status = _failure(exc)
        return _groups_page(
            request, session, principal, error=message, kept=kept, status_code=status
        )
    return RedirectResponse(f"/notices/groups#group-{group.id}", status_code=303)


@router.post("/notices/groups/{group_id}")
def update_group_form(
    request: Request,
    session: DbSession,
    principal: Publisher,
    group_id: int,
    name: Annotated[str, Form()] = "",
    members: Annotated[str, Form()] = "",
    style: Annotated[str, Form()] = "",
    webhook_url: Annotated[str, Form()] = "",
    secret: Annotated[str, Form()] = "",
    remove_secret: Annotated[str, Form()] = "",
    active: Annotated[str, Form()] = "",
) -> Response:
    """Edit a group (empty fields stay as they are) or switch it off and on."""
    kept = {"name": name, "members": members, "style": style, "webhook_url": webhook_url}
    try:
        change = notify.GroupChange(
            name=name or None,
            members=int(members) if members.strip() else None,
            style=WebhookStyle(style) if style else None,
            webhook_url=webhook_url or None,
            secret="" if remove_secret else (secret or None),
            active={"1": True, "0": False}.get(active),
        )
        notify.update_group(session, principal, group_id, change, hosts=_hosts(request))
    except (DomainError, ValueError) as exc:
        session.rollback()
        message, status = _failure(exc)
        return _groups_page(
            request,
            session,
            principal,
            group_error=message,
            error_group=group_id,
            group_kept=kept,
            status_code=status,
        )
    return RedirectResponse(f"/notices/groups#group-{group_id}", status_code=303)


# --- one notice ------------------------------------------------------------------------


@router.get("/notices/{notice_id}")
def notice_page(
    request: Request, session: DbSession, principal: Publisher, notice_id: int
) -> Response:
    notice = notify.get_notice(session, principal, notice_id)
    return render(
        request,
        "notify/detail.html",
        notice=notice,
        figures=notify.reach(session, notice, principal=principal),
        rows=notify.list_deliveries(session, principal, notice_id),
        **_labels(),
    )


# --- the public board ------------------------------------------------------------------


@router.get("/board/{grid_code}")
def board_page(request: Request, session: DbSession, grid_code: str) -> Response:
    """A grid's notices for residents (linked from the grid's QR code or group chat)."""
    return render(request, "notify/board.html", board=notify.board(session, grid_code))
