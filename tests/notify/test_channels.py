"""The webhook rules and request shapes, without a network."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from fengqiao.i18n import language
from fengqiao.notify.channels import (
    Outgoing,
    dingtalk_sign,
    parse_hosts,
    webhook_request,
    webhook_url_problem,
)
from fengqiao.notify.models import ChannelKind, WebhookStyle
from tests.notify.helpers import T0

PUBLIC = parse_hosts("qyapi.weixin.qq.com, OAPI.dingtalk.com")
WITH_LOCAL = PUBLIC | {"127.0.0.1", "localhost"}


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with language("en"):
        yield


@pytest.mark.parametrize(
    ("url", "hosts"),
    [
        ("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc", PUBLIC),
        ("https://oapi.dingtalk.com/robot/send?access_token=abc", PUBLIC),
        ("http://127.0.0.1:8123/hook", WITH_LOCAL),
        ("http://localhost/hook", WITH_LOCAL),
    ],
)
def test_allowed_webhooks(url: str, hosts: frozenset[str]) -> None:
    assert webhook_url_problem(url, hosts) is None


@pytest.mark.parametrize(
    ("url", "hosts"),
    [
        ("http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc", PUBLIC),  # not https
        ("https://evil.example/cgi-bin/webhook/send", PUBLIC),
        ("https://qyapi.weixin.qq.com.evil.example/send", PUBLIC),
        ("https://user:pw@qyapi.weixin.qq.com/send", PUBLIC),
        ("http://127.0.0.1:8123/hook", PUBLIC),  # loopback only when listed
        ("http://10.0.0.5/hook", PUBLIC | {"10.0.0.5"}),  # http only on loopback
        ("ftp://qyapi.weixin.qq.com/x", PUBLIC),
        ("https://qyapi.weixin.qq.com:99999/x", PUBLIC),
        ("not a url", PUBLIC),
    ],
)
def test_refused_webhooks_say_which_hosts_are_allowed(url: str, hosts: frozenset[str]) -> None:
    problem = webhook_url_problem(url, hosts)
    assert problem is not None
    assert "https" in problem and "qyapi.weixin.qq.com" in problem
    assert "FENGQIAO_NOTIFY_WEBHOOK_HOSTS" in problem


def item(style: WebhookStyle, url: str, secret: str | None = None) -> Outgoing:
    return Outgoing(
        delivery_id=1,
        attempt=1,
        notice_id=2,
        title="防范冒充客服诈骗",
        body="接到自称客服要求退款的电话请挂断，拨打96110咨询。",
        group_id=3,
        group_name="警民群",
        grid_id=4,
        station_id=5,
        channel=ChannelKind.WEBHOOK,
        style=style,
        webhook_url=url,
        secret=secret,
    )


def test_request_bodies_by_style() -> None:
    text = "防范冒充客服诈骗\n接到自称客服要求退款的电话请挂断，拨打96110咨询。"
    url, body = webhook_request(item(WebhookStyle.WECOM, "https://q/send?key=k"), now=T0)
    assert url == "https://q/send?key=k"
    assert body == {"msgtype": "text", "text": {"content": text}}
    url, body = webhook_request(
        item(WebhookStyle.DINGTALK, "https://d/send?access_token=t"), now=T0
    )
    assert url == "https://d/send?access_token=t"  # no secret: not signed
    assert body == {"msgtype": "text", "text": {"content": text}}
    url, body = webhook_request(item(WebhookStyle.PLAIN, "https://p/hook"), now=T0)
    assert body == {
        "title": "防范冒充客服诈骗",
        "body": "接到自称客服要求退款的电话请挂断，拨打96110咨询。",
    }


def test_dingtalk_signature() -> None:
    secret = "SEC0123456789abcdef"
    url, _body = webhook_request(
        item(WebhookStyle.DINGTALK, "https://d/robot/send?access_token=t", secret), now=T0
    )
    query = parse_qs(urlsplit(url).query)
    timestamp = str(int(T0.timestamp() * 1000))
    expected = base64.b64encode(
        hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    ).decode()
    assert query == {"access_token": ["t"], "timestamp": [timestamp], "sign": [expected]}
    assert dingtalk_sign(secret, int(timestamp)) == expected
    # The signature's +, / and = are quoted in the address itself.
    raw_sign = urlsplit(url).query.split("sign=")[1]
    assert not set(raw_sign) & {"+", "/", "="}
