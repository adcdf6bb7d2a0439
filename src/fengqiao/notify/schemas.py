"""Notice API shapes. A group's webhook address and secret are written, never read back:
the address carries the bot's access token, so only its host is shown."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from fengqiao.notify.models import ChannelKind, Notice, NoticeDelivery, WebhookStyle
from fengqiao.notify.service import DeliveryRow, GroupRow, Reach, webhook_host


class NoticeIn(BaseModel):
    title: str = Field(max_length=200)
    body: str = Field(max_length=5000)
    grid_ids: list[int] = Field(default_factory=list, max_length=10_000)
    all_grids: bool = Field(default=False, description="Every grid of my area (grid_ids ignored)")
    client_key: str | None = Field(
        default=None, max_length=64, description="Chosen by the client: a retry returns the first"
    )


class ReachOut(BaseModel):
    groups: int
    sent: int
    failed: int
    pending: int
    reach: int
    views: int

    @classmethod
    def of(cls, reach: Reach) -> ReachOut:
        return cls(
            groups=reach.groups,
            sent=reach.sent,
            failed=reach.failed,
            pending=reach.pending,
            reach=reach.reach,
            views=reach.views,
        )


class NoticeOut(BaseModel):
    id: int
    station_id: int | None
    title: str
    body: str
    created_at: datetime
    reach: ReachOut

    @classmethod
    def of(cls, notice: Notice, reach: Reach) -> NoticeOut:
        return cls(
            id=notice.id,
            station_id=notice.station_id,
            title=notice.title,
            body=notice.body,
            created_at=notice.created_at,
            reach=ReachOut.of(reach),
        )


class DeliveryOut(BaseModel):
    id: int
    group_id: int
    group_name: str
    grid_id: int
    grid_code: str
    channel: str
    style: str | None
    status: str
    attempts: int
    next_attempt_at: datetime | None
    error: str | None
    reach: int
    sent_at: datetime | None
    views: int

    @classmethod
    def of(cls, row: DeliveryRow) -> DeliveryOut:
        d: NoticeDelivery = row.delivery
        return cls(
            id=d.id,
            group_id=d.group_id,
            group_name=row.group_name,
            grid_id=d.grid_id,
            grid_code=row.grid_code,
            channel=d.channel.value,
            style=row.group_style.value if row.group_style else None,
            status=d.status.value,
            attempts=d.attempts,
            next_attempt_at=d.next_attempt_at,
            error=d.error,
            reach=d.reach,
            sent_at=d.sent_at,
            views=d.views,
        )


class NoticeDetailOut(BaseModel):
    notice: NoticeOut
    deliveries: list[DeliveryOut]


class GroupIn(BaseModel):
    grid_id: int
    name: str = Field(max_length=200)
    channel: ChannelKind
    members: int = 0
    style: WebhookStyle | None = None
    webhook_url: str | None = Field(default=None, max_length=1000)
    secret: str | None = Field(default=None, max_length=400)


class GroupPatch(BaseModel):
    name: str | None = Field(default=None, max_length=200)
    members: int | None = None
    style: WebhookStyle | None = None
    webhook_url: str | None = Field(default=None, max_length=1000)
    secret: str | None = Field(default=None, max_length=400, description='"" removes it')
    active: bool | None = None


class GroupOut(BaseModel):
    id: int
    grid_id: int
    grid_code: str
    grid_name: str
    station_id: int
    name: str
    channel: str
    style: str | None
    webhook_host: str | None
    signed: bool
    members: int
    active: bool
    created_at: datetime

    @classmethod
    def of(cls, row: GroupRow) -> GroupOut:
        g = row.group
        return cls(
            id=g.id,
            grid_id=g.grid_id,
            grid_code=row.grid_code,
            grid_name=row.grid_name,
            station_id=g.station_id,
            name=g.name,
            channel=g.channel.value,
            style=g.style.value if g.style else None,
            webhook_host=webhook_host(g.webhook_url),
            signed=g.secret is not None,
            members=g.members,
            active=g.active,
            created_at=g.created_at,
        )
