"""Helpers for the publicity tests: accounts, grids, groups and a local group-chat bot
(http.server in a thread) that records what it is sent."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fengqiao.accounts.models import UserAccount
from fengqiao.auth import Principal, build_principal
from fengqiao.notify import service as notify
from fengqiao.notify.models import ChannelKind, ResidentGroup, WebhookStyle
from fengqiao.org.models import PoliceDistrict, PoliceGrid

T0 = datetime(2031, 3, 3, 2, 0, tzinfo=UTC)  # a fixed instant for the sender's clock
HOSTS = frozenset({"127.0.0.1", "qyapi.weixin.qq.com", "oapi.dingtalk.com"})
OK_ANSWER = (200, {"errcode": 0, "errmsg": "ok"})


def principal_of(session: Session, username: str) -> Principal:
    user = session.scalars(select(UserAccount).where(UserAccount.username == username)).one()
    return build_principal(session, user)


def grids_of(session: Session, principal: Principal, count: int = 3) -> list[PoliceGrid]:
    """The first ``count`` active grids of the principal's own station."""
    assert principal.station_ids
    station_id = min(principal.station_ids)
    grids = list(
        session.scalars(
            select(PoliceGrid)
            .join(PoliceDistrict, PoliceDistrict.id == PoliceGrid.district_id)
            .where(PoliceDistrict.station_id == station_id, PoliceGrid.active())
            .order_by(PoliceGrid.id)
            .limit(count)
        )
    )
    assert len(grids) == count
    return grids


def other_station_grid(session: Session, principal: Principal) -> PoliceGrid:
    assert principal.station_ids is not None
    grid = session.scalars(
        select(PoliceGrid)
        .join(PoliceDistrict, PoliceDistrict.id == PoliceGrid.district_id)
        .where(PoliceDistrict.station_id.not_in(principal.station_ids), PoliceGrid.active())
        .order_by(PoliceGrid.id)
    ).first()
    assert grid is not None
    return grid


def add(
    session: Session,
    principal: Principal,
    grid: PoliceGrid,
    channel: ChannelKind = ChannelKind.IN_APP,
    *,
    name: str | None = None,
    members: int = 100,
    style: WebhookStyle | None = None,
    url: str | None = None,
    secret: str | None = None,
) -> ResidentGroup:
    return notify.add_group(
        session,
        principal,
        notify.GroupData(
            grid_id=grid.id,
            name=name or f"{grid.name}{channel.value}群",
            channel=channel,
            members=members,
            style=style,
            webhook_url=url,
            secret=secret,
        ),
        hosts=HOSTS,
    )


def count(session: Session, model: type[Any], *where: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


@dataclass
class Received:
    path: str
    query: dict[str, str]
    body: Any


@dataclass
class Bot:
    """A local group-chat bot. ``answer(path)`` gives the status and JSON (or text) to
    send back; by default 200 with errcode 0."""

    port: int = 0
    received: list[Received] = field(default_factory=list)
    answer: Callable[[str], tuple[int, Any]] = lambda _path: OK_ANSWER
    delay_s: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str = "/send") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def paths(self) -> list[str]:
        with self.lock:
            return [r.path for r in self.received]


@contextmanager
def running_bot() -> Iterator[Bot]:
    bot = Bot()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            with bot.lock:
                bot.received.append(Received(parts.path, query, json.loads(raw)))
            if bot.delay_s:
                threading.Event().wait(bot.delay_s)
            status, payload = bot.answer(parts.path)
            data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
            self.send_response(status)
            if 300 <= status < 400:  # a redirect off the allowed hosts
                self.send_header("Location", "http://example.com/elsewhere")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    bot.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield bot
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
