"""The sender against a real local bot (http.server in a thread), on SQLite and
PostgreSQL: WeCom, DingTalk (signed) and plain bodies, errcode failures with backoff
to a final failure, stuck deliveries, the local file, and no double send when two
senders run at once."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from fengqiao.audit.models import AuditEvent
from fengqiao.config import Settings
from fengqiao.db import unit_of_work
from fengqiao.i18n import language
from fengqiao.notify import service as notify
from fengqiao.notify.channels import Outgoing
from fengqiao.notify.models import ChannelKind, DeliveryStatus, NoticeDelivery, WebhookStyle
from fengqiao.notify.sending import BACKOFF, MAX_ATTEMPTS, SendSummary, claim_due
from tests.notify.helpers import T0, add, grids_of, principal_of, running_bot

TITLE = "警惕刷单返利诈骗"
BODY = "所有刷单都是诈骗！不要轻信高额返利，如有疑问请拨打96110。"
TEXT = f"{TITLE}\n{BODY}"


def publish(factory: sessionmaker[Session], grid_ids: list[int]) -> int:
    with unit_of_work(factory) as session:
        officer = principal_of(session, "officer")
        return notify.publish(
            session, officer, title=TITLE, body=BODY, grid_ids=grid_ids, now=T0
        ).id


def deliveries(factory: sessionmaker[Session], notice_id: int) -> list[NoticeDelivery]:
    with factory() as session:
        return list(
            session.scalars(
                select(NoticeDelivery)
                .where(NoticeDelivery.notice_id == notice_id)
                .order_by(NoticeDelivery.id)
            )
        )


def test_wecom_dingtalk_and_plain_bots_get_their_bodies(
    county: sessionmaker[Session], settings: Settings
) -> None:
    secret = "SECd41d8cd98f00b204e9800998ecf8427e"
    with running_bot() as bot:
        bot.answer = lambda path: (200, "ok") if path == "/plain" else (200, {"errcode": 0})
        with unit_of_work(county) as session:
            officer = principal_of(session, "officer")
            grid = grids_of(session, officer, 1)[0]
            for path, style, key in (
                ("/wecom", WebhookStyle.WECOM, None),
                ("/ding", WebhookStyle.DINGTALK, secret),
                ("/plain", WebhookStyle.PLAIN, None),
            ):
                add(
                    session,
                    officer,
                    grid,
                    ChannelKind.WEBHOOK,
                    style=style,
                    url=bot.url(path) + "?access_token=tok",
                    secret=key,
                    members=80,
                )
        notice_id = publish(county, [grid.id])
        summary = notify.send_pending(county, settings, T0)
        assert summary == SendSummary(claimed=3, sent=3)
        got = {r.path: r for r in bot.received}
        assert set(got) == {"/wecom", "/ding", "/plain"}
        assert got["/wecom"].body == {"msgtype": "text", "text": {"content": TEXT}}
        assert got["/wecom"].query == {"access_token": "tok"}
        assert got["/ding"].body == {"msgtype": "text", "text": {"content": TEXT}}
        assert got["/plain"].body == {"title": TITLE, "body": BODY}
        timestamp = str(int(T0.timestamp() * 1000))
        sign = base64.b64encode(
            hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
        ).decode()
        assert got["/ding"].query == {"access_token": "tok", "timestamp": timestamp, "sign": sign}
    rows = deliveries(county, notice_id)
    assert [(d.status, d.attempts, d.reach, d.sent_at, d.error) for d in rows] == [
        (DeliveryStatus.SENT, 1, 80, T0, None)
    ] * 3
    assert notify.send_pending(county, settings, T0 + timedelta(hours=2)) == SendSummary()
    assert len(bot.received) == 3


def test_an_errcode_is_retried_with_backoff_then_fails_after_five_attempts(
    county: sessionmaker[Session], settings: Settings
) -> None:
    with running_bot() as bot:
        bot.answer = lambda _path: (200, {"errcode": 93000, "errmsg": "invalid webhook url"})
        with unit_of_work(county) as session:
            officer = principal_of(session, "officer")
            grid = grids_of(session, officer, 1)[0]
            add(session, officer, grid, ChannelKind.WEBHOOK, url=bot.url())
        notice_id = publish(county, [grid.id])
        now = T0
        for attempt, wait in enumerate(BACKOFF, start=1):
            assert notify.send_pending(county, settings, now).retrying == 1
            (row,) = deliveries(county, notice_id)
            assert (row.status, row.attempts) == (DeliveryStatus.PENDING, attempt)
            assert row.next_attempt_at == now + wait
            assert row.error is not None and "93000" in row.error
            assert "invalid webhook url" in row.error
            # Not due before the backoff has passed.
            assert notify.send_pending(county, settings, now + wait - timedelta(seconds=1)) == (
                SendSummary()
            )
            now += wait
        assert notify.send_pending(county, settings, now).failed == 1
        (row,) = deliveries(county, notice_id)
        assert (row.status, row.attempts, row.next_attempt_at) == (
            DeliveryStatus.FAILED,
            MAX_ATTEMPTS,
            None,
        )
        assert row.error is not None and "invalid webhook url" in row.error
        assert notify.send_pending(county, settings, now + timedelta(days=1)) == SendSummary()
        assert len(bot.received) == MAX_ATTEMPTS == 5
    with county() as session:
        notice = notify.get_notice(session, principal_of(session, "officer"), notice_id)
        assert notify.reach(session, notice) == notify.Reach(groups=1, failed=1)
        audit = session.scalars(
            select(AuditEvent).where(AuditEvent.object_type == "notice_delivery")
        ).one()
        assert json.loads(audit.detail)["status"] == "failed"
        assert audit.username == "notify-sender"


def test_http_errors_and_unreachable_bots_are_retried(
    county: sessionmaker[Session], settings: Settings
) -> None:
    with running_bot() as bot:
        bot.answer = lambda path: (500, {"errcode": 0}) if path == "/500" else (302, {})
        with unit_of_work(county) as session:
            officer = principal_of(session, "officer")
            grid = grids_of(session, officer, 1)[0]
            add(session, officer, grid, ChannelKind.WEBHOOK, url=bot.url("/500"))
            add(session, officer, grid, ChannelKind.WEBHOOK, url=bot.url("/redirect"))
            add(session, officer, grid, ChannelKind.WEBHOOK, url="http://127.0.0.1:9/closed")
        notice_id = publish(county, [grid.id])
        assert notify.send_pending(county, settings, T0).retrying == 3
    errors = [d.error or "" for d in deliveries(county, notice_id)]
    assert "HTTP 500" in errors[0]
    assert "HTTP 302" in errors[1]
    assert "could not be reached" in errors[2]


def test_a_host_taken_off_the_list_is_refused_when_sending(
    county: sessionmaker[Session], settings: Settings
) -> None:
    with running_bot() as bot:
        with unit_of_work(county) as session:
            officer = principal_of(session, "officer")
            grid = grids_of(session, officer, 1)[0]
            add(session, officer, grid, ChannelKind.WEBHOOK, url=bot.url())
        notice_id = publish(county, [grid.id])
        strict = settings.model_copy(update={"notify_webhook_hosts": "qyapi.weixin.qq.com"})
        assert notify.send_pending(county, strict, T0).retrying == 1
        assert bot.received == []
    (row,) = deliveries(county, notice_id)
    assert row.error is not None and "FENGQIAO_NOTIFY_WEBHOOK_HOSTS" in row.error


def test_the_local_sink_writes_one_line_per_delivery(
    county: sessionmaker[Session], settings: Settings
) -> None:
    with unit_of_work(county) as session:
        officer = principal_of(session, "officer")
        one, two = grids_of(session, officer, 2)
        first = add(session, officer, one, ChannelKind.LOCAL, name="本地一")
        add(session, officer, two, ChannelKind.LOCAL, name="本地二")
    outbox = Path(settings.notify_sink_dir)
    assert not outbox.exists()
    notice_id = publish(county, [one.id, two.id])
    assert notify.send_pending(county, settings, T0).sent == 2
    lines = [json.loads(x) for x in (outbox / "notices.jsonl").read_text("utf-8").splitlines()]
    assert [(x["group"], x["title"], x["body"]) for x in lines] == [
        ("本地一", TITLE, BODY),
        ("本地二", TITLE, BODY),
    ]
    assert lines[0]["notice_id"] == notice_id and lines[0]["group_id"] == first.id


def test_a_delivery_stuck_in_sending_goes_back_after_ten_minutes(
    county: sessionmaker[Session], settings: Settings
) -> None:
    with unit_of_work(county) as session:
        officer = principal_of(session, "officer")
        grid = grids_of(session, officer, 1)[0]
        add(session, officer, grid, ChannelKind.LOCAL)
    notice_id = publish(county, [grid.id])
    with unit_of_work(county) as session:  # a sender claims it, then dies
        assert len(claim_due(session, T0)) == 1
    assert notify.send_pending(county, settings, T0 + timedelta(minutes=9)) == SendSummary()
    (row,) = deliveries(county, notice_id)
    assert (row.status, row.attempts) == (DeliveryStatus.SENDING, 1)
    summary = notify.send_pending(county, settings, T0 + timedelta(minutes=10, seconds=1))
    assert (summary.released, summary.claimed, summary.sent) == (1, 1, 1)
    (row,) = deliveries(county, notice_id)
    assert (row.status, row.attempts) == (DeliveryStatus.SENT, 2)


def test_a_group_switched_off_before_sending_is_not_sent(
    county: sessionmaker[Session], settings: Settings
) -> None:
    with running_bot() as bot:
        with unit_of_work(county) as session:
            officer = principal_of(session, "officer")
            grid = grids_of(session, officer, 1)[0]
            group = add(session, officer, grid, ChannelKind.WEBHOOK, url=bot.url())
        notice_id = publish(county, [grid.id])
        with unit_of_work(county) as session:
            notify.deactivate_group(session, principal_of(session, "officer"), group.id)
        assert notify.send_pending(county, settings, T0).failed == 1
        assert bot.received == []
    (row,) = deliveries(county, notice_id)
    assert row.status is DeliveryStatus.FAILED and "deactivated" in (row.error or "")


def test_two_senders_at_once_send_each_delivery_once(
    county: sessionmaker[Session], settings: Settings
) -> None:
    groups = 24
    with running_bot() as bot:
        bot.delay_s = 0.01  # long enough for the two senders' rounds to overlap
        with unit_of_work(county) as session:
            officer = principal_of(session, "officer")
            grids = grids_of(session, officer, 3)
            for i in range(groups):
                add(session, officer, grids[i % 3], ChannelKind.WEBHOOK, url=bot.url(f"/g{i}"))
        publish(county, [g.id for g in grids])
        barrier = threading.Barrier(2)
        results: list[list[SendSummary] | BaseException] = [[], []]

        def sender(i: int) -> None:
            rounds: list[SendSummary] = []
            with language("en"):
                try:
                    barrier.wait(10)
                    while (summary := notify.send_pending(county, settings, T0, limit=4)).claimed:
                        rounds.append(summary)
                    results[i] = rounds
                except BaseException as exc:  # reported below, not lost in the thread
                    results[i] = exc

        threads = [threading.Thread(target=sender, args=(i,)) for i in (0, 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not any(t.is_alive() for t in threads), "a sender hung"
        assert not any(isinstance(r, BaseException) for r in results), results
        rounds = [r for result in results if isinstance(result, list) for r in result]
        assert sorted(bot.paths()) == sorted(f"/g{i}" for i in range(groups))
        assert sum(r.sent for r in rounds) == groups
        assert sum(r.claimed for r in rounds) == groups


def test_a_fault_in_a_channel_is_recorded_without_its_text(
    county: sessionmaker[Session], settings: Settings
) -> None:
    class Broken:
        def send(self, item: Outgoing, *, now: datetime) -> None:
            raise RuntimeError("https://qyapi.weixin.qq.com/send?key=THE-TOKEN")

    with unit_of_work(county) as session:
        officer = principal_of(session, "officer")
        grid = grids_of(session, officer, 1)[0]
        add(session, officer, grid, ChannelKind.LOCAL)
    notice_id = publish(county, [grid.id])
    summary = notify.send_pending(county, settings, T0, channels={ChannelKind.LOCAL: Broken()})
    assert summary.retrying == 1
    (row,) = deliveries(county, notice_id)
    assert row.error is not None and "RuntimeError" in row.error and "THE-TOKEN" not in row.error
