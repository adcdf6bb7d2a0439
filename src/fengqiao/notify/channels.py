"""The channels that carry a notice to a resident group: the in-app notice board, a
group-chat bot's webhook (WeCom / DingTalk style, or plain JSON) and a local file for
development.

A channel's ``send`` returns when the group has the message and raises
``DeliveryError`` (with a message for the detail page) when it has not. Channels do
no database work: the sender claims a delivery, sends outside any transaction and then
records the outcome.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote_plus, urlsplit

from fengqiao.config import Settings
from fengqiao.i18n import _
from fengqiao.notify.models import ChannelKind, WebhookStyle

WEBHOOK_TIMEOUT_S = 5.0
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost"})
MAX_ANSWER_BYTES = 64 * 1024
SINK_FILE = "notices.jsonl"


class DeliveryError(Exception):
    """The group did not get the message; ``message`` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Outgoing:
    """One delivery to send, read from the database when it was claimed."""

    delivery_id: int
    attempt: int  # 1 for the first try
    notice_id: int
    title: str
    body: str
    group_id: int
    group_name: str
    grid_id: int
    station_id: int
    channel: ChannelKind
    style: WebhookStyle | None = None
    webhook_url: str | None = None
    secret: str | None = None
    group_active: bool = True

    @property
    def text(self) -> str:
        return f"{self.title}\n{self.body}"


# Delivered while publishing, in the same transaction: the board reads the rows.
IMMEDIATE = frozenset({ChannelKind.IN_APP})


class Channel(Protocol):
    def send(self, item: Outgoing, *, now: datetime) -> None: ...


class InAppChannel:
    """The grid's public notice board in the app: the board reads the delivery rows, so
    a notice is delivered as soon as it is published (see ``IMMEDIATE``)."""

    def send(self, item: Outgoing, *, now: datetime) -> None:
        return None


class LocalSinkChannel:
    """One JSON line per delivery appended to ``<directory>/notices.jsonl``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, item: Outgoing, *, now: datetime) -> None:
        line = json.dumps(
            {
                "at": now.isoformat(),
                "notice_id": item.notice_id,
                "delivery_id": item.delivery_id,
                "group_id": item.group_id,
                "group": item.group_name,
                "grid_id": item.grid_id,
                "title": item.title,
                "body": item.body,
            },
            ensure_ascii=False,
        )
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            # One write of one line in append mode: concurrent senders do not interleave.
            with (self.directory / SINK_FILE).open("a", encoding="utf-8") as sink:
                sink.write(line + "\n")
                sink.flush()
                os.fsync(sink.fileno())
        except OSError as exc:
            raise DeliveryError(
                _("The local notice file could not be written: {error}").format(error=exc.strerror)
            ) from None


def parse_hosts(text: str) -> frozenset[str]:
    return frozenset(h.strip().lower() for h in text.split(",") if h.strip())


def webhook_url_problem(url: str, hosts: frozenset[str]) -> str | None:
    """Why ``url`` may not be used as a group's webhook, or None when it may: https to
    an allowed host, or http to 127.0.0.1 / localhost when the host list names it."""
    allowed = ", ".join(sorted(hosts)) or "—"
    refuse = _(
        "A webhook must be an https address on an allowed host ({hosts}); "
        "the administrator sets them in FENGQIAO_NOTIFY_WEBHOOK_HOSTS."
    ).format(hosts=allowed)
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
        if parts.port == 0:  # reading the port raises ValueError when it is malformed
            return refuse
    except ValueError:
        return refuse
    if parts.username or parts.password or not host or host not in hosts:
        return refuse
    if parts.scheme == "https" or (parts.scheme == "http" and host in LOOPBACK_HOSTS):
        return None
    return refuse


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's signature: base64(HMAC-SHA256(secret, "<timestamp>\\n<secret>")),
    before URL quoting."""
    digest = hmac.new(
        secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode("ascii")


def webhook_request(item: Outgoing, *, now: datetime) -> tuple[str, dict[str, Any]]:
    """The address and JSON body for the group's bot."""
    url = (item.webhook_url or "").strip()
    if item.style is WebhookStyle.PLAIN:
        return url, {"title": item.title, "body": item.body}
    body: dict[str, Any] = {"msgtype": "text", "text": {"content": item.text}}
    if item.style is WebhookStyle.DINGTALK and item.secret:
        timestamp = int(now.timestamp() * 1000)
        sign = quote_plus(dingtalk_sign(item.secret, timestamp))
        url += ("&" if "?" in url else "?") + f"timestamp={timestamp}&sign={sign}"
    return url, body


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect could lead off the allowed hosts: treat it as the failure it is."""

    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None


class WebhookChannel:
    """POST the message as JSON to the group's bot (timeout 5 s)."""

    def __init__(self, hosts: frozenset[str], *, timeout_s: float = WEBHOOK_TIMEOUT_S) -> None:
        self.hosts = hosts
        self.timeout_s = timeout_s

    def send(self, item: Outgoing, *, now: datetime) -> None:
        problem = webhook_url_problem(item.webhook_url or "", self.hosts)
        if problem is not None:
            raise DeliveryError(problem)
        url, body = webhook_request(item, now=now)
        request = urllib.request.Request(
            url,
            data=json.dumps(body, ensure_ascii=False).encode("utf-8"),
            method="POST",
            headers={"Content-Type": "application/json; charset=utf-8"},
        )
        handlers: list[urllib.request.BaseHandler] = [_NoRedirect()]
        if (urlsplit(url).hostname or "").lower() in LOOPBACK_HOSTS:
            handlers.append(urllib.request.ProxyHandler({}))  # never through a proxy
        opener = urllib.request.build_opener(*handlers)
        try:
            with opener.open(request, timeout=self.timeout_s) as response:
                answer = response.read(MAX_ANSWER_BYTES)
        except urllib.error.HTTPError as exc:
            exc.close()
            raise DeliveryError(
                _("The group's bot answered HTTP {status}.").format(status=exc.code)
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise DeliveryError(
                _("The group's bot could not be reached: {reason}").format(reason=reason)
            ) from None
        if item.style in (WebhookStyle.WECOM, WebhookStyle.DINGTALK):
            _check_answer(answer)


def _check_answer(answer: bytes) -> None:
    """WeCom and DingTalk answer 200 with ``errcode`` 0 on success, another code and
    ``errmsg`` otherwise."""
    try:
        data = json.loads(answer.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        data = None
    if not isinstance(data, dict) or "errcode" not in data:
        raise DeliveryError(_("The group's bot gave an answer without an error code."))
    if data["errcode"] != 0:
        raise DeliveryError(
            _("The group's bot refused the message: {code} {message}").format(
                code=data["errcode"], message=str(data.get("errmsg") or "")[:300]
            )
        )


def channels_for(settings: Settings) -> dict[ChannelKind, Channel]:
    return {
        ChannelKind.IN_APP: InAppChannel(),
        ChannelKind.WEBHOOK: WebhookChannel(parse_hosts(settings.notify_webhook_hosts)),
        ChannelKind.LOCAL: LocalSinkChannel(Path(settings.notify_sink_dir)),
    }
