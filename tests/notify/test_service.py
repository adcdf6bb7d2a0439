"""Publicity services on SQLite and PostgreSQL: resident groups, publishing (scope,
personal-data refusal, idempotent by client key), reach, the public board and the
demo's groups."""

from __future__ import annotations

import json
import random
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from fengqiao.audit.models import AuditAction, AuditEvent
from fengqiao.auth import Principal
from fengqiao.config import Settings
from fengqiao.db import unit_of_work
from fengqiao.errors import Conflict, Forbidden, InvalidInput, NotFound
from fengqiao.i18n import language
from fengqiao.live.models import LiveEvent
from fengqiao.notify import service as notify
from fengqiao.notify.models import (
    ChannelKind,
    DeliveryStatus,
    Notice,
    NoticeDelivery,
    ResidentGroup,
    WebhookStyle,
)
from fengqiao.org.models import PoliceGrid
from tests.notify.helpers import (
    HOSTS,
    T0,
    add,
    count,
    grids_of,
    other_station_grid,
    principal_of,
    running_bot,
)

TITLE = "防范冒充客服退款诈骗"
BODY = "近期有人冒充电商客服以退款为由骗取转账，接到此类电话请挂断并拨打96110咨询。"


def audit_rows(session: Session, object_type: str) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent).where(AuditEvent.object_type == object_type).order_by(AuditEvent.id)
        )
    )


# --- groups ----------------------------------------------------------------------------


def test_groups_are_added_changed_and_switched_off_with_audit(
    county: sessionmaker[Session],
) -> None:
    with unit_of_work(county) as session:
        officer = principal_of(session, "officer")
        grid = grids_of(session, officer, 1)[0]
        token_url = "http://127.0.0.1:9/cgi-bin/webhook/send?key=SECRET-TOKEN"
        bot = add(
            session,
            officer,
            grid,
            ChannelKind.WEBHOOK,
            name="东风社区警民群",
            members=320,
            style=WebhookStyle.DINGTALK,
            url=token_url,
            secret="SEC-SIGNING",
        )
        board = add(session, officer, grid, name="东风社区公告栏")
        assert (bot.station_id, bot.secret, bot.style) == (
            grid.district.station_id,
            "SEC-SIGNING",
            WebhookStyle.DINGTALK,
        )
        assert board.style is None and board.webhook_url is None
        notify.update_group(
            session, officer, bot.id, notify.GroupChange(members=350, secret=""), hosts=HOSTS
        )
        assert (bot.members, bot.secret) == (350, None)
        notify.deactivate_group(session, officer, board.id)
        assert board.active is False
        rows = notify.list_groups(session, officer, grid_id=grid.id)
        assert [r.group.id for r in rows] == [bot.id, board.id]
        assert [r.group.id for r in notify.list_groups(session, officer, active_only=True)] == [
            bot.id
        ]
        audits = audit_rows(session, "resident_group")
        assert [a.action for a in audits] == [
            AuditAction.CREATE,
            AuditAction.CREATE,
            AuditAction.UPDATE,
            AuditAction.UPDATE,
        ]
        assert all(a.username == "officer" for a in audits)
        # Neither the bot's token nor its secret reaches the audit log or live events.
        written = " ".join(a.detail for a in audits) + " ".join(
            e.payload for e in session.scalars(select(LiveEvent))
        )
        assert "SECRET-TOKEN" not in written and "SEC-SIGNING" not in written
        assert json.loads(audits[2].detail) == {
            "members": [320, 350],
            "signed": [True, False],
            "secret": "removed",
        }
        assert json.loads(audits[0].detail)["webhook_host"] == "127.0.0.1"
        events = list(session.scalars(select(LiveEvent).where(LiveEvent.kind == "notice")))
        assert len(events) == 4 and {e.station_id for e in events} == {bot.station_id}


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/hook",
        "https://example.com/hook",
        "https://user:pw@qyapi.weixin.qq.com/cgi-bin/webhook/send",
        "",
    ],
)
def test_a_webhook_off_the_allowed_hosts_is_refused_when_saved(
    county: sessionmaker[Session], url: str
) -> None:
    with unit_of_work(county) as session:
        officer = principal_of(session, "officer")
        grid = grids_of(session, officer, 1)[0]
        with pytest.raises(InvalidInput) as refused:
            add(session, officer, grid, ChannelKind.WEBHOOK, url=url)
        if url:
            assert "qyapi.weixin.qq.com" in refused.value.message
        group = add(session, officer, grid, ChannelKind.WEBHOOK, url="http://127.0.0.1:1/h")
        with pytest.raises(InvalidInput):
            notify.update_group(
                session, officer, group.id, notify.GroupChange(webhook_url=url or "x"), hosts=HOSTS
            )
        assert group.webhook_url == "http://127.0.0.1:1/h"


def test_groups_are_scoped_to_the_station_and_role(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as session:
        officer = principal_of(session, "officer")
        foreign = other_station_grid(session, officer)
        with pytest.raises(NotFound):
            add(session, officer, foreign)
        with pytest.raises(Forbidden):
            add(session, principal_of(session, "auxiliary"), grids_of(session, officer, 1)[0])
        with pytest.raises(InvalidInput):
            add(session, officer, grids_of(session, officer, 1)[0], name="王五 13812345678")
        mine = add(session, officer, grids_of(session, officer, 1)[0])
        chief = principal_of(session, "chief")
        assert [r.group.id for r in notify.list_groups(session, chief)] == [mine.id]
        choices = {c.id: c.groups for c in notify.grid_choices(session, officer)}
        assert choices[mine.grid_id] == 1 and foreign.id not in choices


# --- publishing ------------------------------------------------------------------------


def test_publish_makes_one_delivery_per_active_group_and_in_app_is_on_the_board_at_once(
    county: sessionmaker[Session],
) -> None:
    with unit_of_work(county) as session:
        officer = principal_of(session, "officer")
        one, two, three = grids_of(session, officer, 3)
        in_app = add(session, officer, one, members=300)
        local = add(session, officer, one, ChannelKind.LOCAL, members=0)
        webhook = add(session, officer, two, ChannelKind.WEBHOOK, url="http://127.0.0.1:1/h")
        off = add(session, officer, two)
        notify.deactivate_group(session, officer, off.id)
        add(session, officer, three)  # not chosen
        notice = notify.publish(
            session, officer, title=TITLE, body=BODY, grid_ids=[two.id, one.id, one.id], now=T0
        )
        deliveries = {
            d.group_id: d
            for d in session.scalars(
                select(NoticeDelivery).where(NoticeDelivery.notice_id == notice.id)
            )
        }
        assert set(deliveries) == {in_app.id, local.id, webhook.id}
        sent = deliveries[in_app.id]
        assert (sent.status, sent.reach, sent.sent_at, sent.attempts) == (
            DeliveryStatus.SENT,
            300,
            T0,
            1,
        )
        for group in (local, webhook):
            waiting = deliveries[group.id]
            assert (waiting.status, waiting.attempts, waiting.next_attempt_at) == (
                DeliveryStatus.PENDING,
                0,
                T0,
            )
            assert waiting.channel is group.channel and waiting.grid_id == group.grid_id
        assert notice.station_id == one.district.station_id
        assert notice.created_by_user_id == officer.user_id
        (row,) = audit_rows(session, "notice")
        assert row.action is AuditAction.CREATE and row.object_id == str(notice.id)
        assert json.loads(row.detail)["groups"] == 3
        event = session.scalars(select(LiveEvent).order_by(LiveEvent.id.desc())).first()
        assert event is not None and event.kind == "notice"
        assert json.loads(event.payload)["action"] == "published"
        assert event.station_id == notice.station_id


def test_personal_data_is_refused_and_nothing_is_written(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as session:
        officer = principal_of(session, "officer")
        grid = grids_of(session, officer, 1)[0]
        add(session, officer, grid)
        for body, named in (
            ("居民张某（身份证420102199001011235）被骗，请大家注意", "ID-card number"),
            ("如有疑问联系民警 139-0731-4826", "mobile number"),
            ("社区警务室电话0731-84471234", "landline number"),
        ):
            with pytest.raises(InvalidInput) as refused:
                notify.publish(session, officer, title=TITLE, body=body, grid_ids=[grid.id])
            assert named in refused.value.message
            assert "personal data" in refused.value.message
        with pytest.raises(InvalidInput):
            notify.publish(
                session, officer, title="请13812345678回电", body=BODY, grid_ids=[grid.id]
            )
        assert count(session, Notice) == 0 and count(session, NoticeDelivery) == 0
        fine = notify.publish(
            session,
            officer,
            title=TITLE,
            body="接到可疑电话请拨打110或96110，举报拨12381。",
            grid_ids=[grid.id],
        )
        assert fine.id is not None


def test_publish_checks_scope_grids_and_groups(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as session:
        officer = principal_of(session, "officer")
        grid, bare = grids_of(session, officer, 2)
        foreign = other_station_grid(session, officer)
        add(session, officer, grid)
        with pytest.raises(NotFound):
            notify.publish(session, officer, title=TITLE, body=BODY, grid_ids=[grid.id, foreign.id])
        with pytest.raises(InvalidInput, match="at least one grid"):
            notify.publish(session, officer, title=TITLE, body=BODY, grid_ids=[])
        with pytest.raises(InvalidInput, match="active resident group"):
            notify.publish(session, officer, title=TITLE, body=BODY, grid_ids=[bare.id])
        with pytest.raises(InvalidInput):
            notify.publish(session, officer, title="x", body=BODY, grid_ids=[grid.id])
        with pytest.raises(InvalidInput):
            notify.publish(session, officer, title=TITLE, body="长" * 501, grid_ids=[grid.id])
        with pytest.raises(Forbidden):
            notify.publish(
                session,
                principal_of(session, "case"),
                title=TITLE,
                body=BODY,
                grid_ids=[grid.id],
            )
        assert notify.all_grid_ids(session, officer) == [grid.id]
        assert count(session, Notice) == 0


def test_a_retry_with_the_same_client_key_returns_the_first_notice(
    county: sessionmaker[Session],
) -> None:
    with unit_of_work(county) as session:
        officer = principal_of(session, "officer")
        one, two = grids_of(session, officer, 2)
        add(session, officer, one)
        add(session, officer, two)
        first = notify.publish(
            session, officer, title=TITLE, body=BODY, grid_ids=[one.id], client_key="k-1"
        )
    with unit_of_work(county) as session:
        officer = principal_of(session, "officer")
        again = notify.publish(
            session,
            officer,
            title="改过的标题",
            body=BODY,
            grid_ids=[one.id, two.id],
            client_key="k-1",
        )
        assert again.id == first.id and again.title == TITLE
        assert count(session, Notice) == 1 and count(session, NoticeDelivery) == 1
        assert len(audit_rows(session, "notice")) == 1
        with pytest.raises(Conflict):
            notify.publish(
                session,
                principal_of(session, "chief"),
                title=TITLE,
                body=BODY,
                grid_ids=[one.id],
                client_key="k-1",
            )


def test_two_posts_with_one_key_at_once_make_one_notice(
    county: sessionmaker[Session],
) -> None:
    with unit_of_work(county) as session:
        officer = principal_of(session, "officer")
        grid = grids_of(session, officer, 1)[0]
        add(session, officer, grid)
    barrier = threading.Barrier(2)  # before the transactions: SQLite's take the write lock
    results: list[object] = [None, None]

    def post(i: int) -> None:
        with language("en"):
            try:
                barrier.wait(10)
                with unit_of_work(county) as session:
                    results[i] = notify.publish(
                        session,
                        officer,
                        title=TITLE,
                        body=BODY,
                        grid_ids=[grid.id],
                        client_key="same-key",
                    ).id
            except BaseException as exc:  # reported below, not lost in the thread
                results[i] = exc

    threads = [threading.Thread(target=post, args=(i,)) for i in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    assert all(isinstance(r, int) for r in results), results
    assert results[0] == results[1]
    with county() as session:
        assert count(session, Notice) == 1 and count(session, NoticeDelivery) == 1


# --- reading ---------------------------------------------------------------------------


def test_reach_counts_groups_states_members_and_views(
    county: sessionmaker[Session], settings: Settings
) -> None:
    with running_bot() as bot:
        bot.answer = lambda path: (
            (200, {"errcode": 0, "errmsg": "ok"})
            if path == "/ok"
            else (200, {"errcode": 310000, "errmsg": "keywords not in content"})
        )
        with unit_of_work(county) as session:
            officer = principal_of(session, "officer")
            one, two = grids_of(session, officer, 2)
            add(session, officer, one, members=300)
            add(session, officer, one, ChannelKind.LOCAL, members=0)
            good = add(session, officer, two, ChannelKind.WEBHOOK, members=200, url=bot.url("/ok"))
            add(session, officer, two, ChannelKind.WEBHOOK, members=100, url=bot.url("/no"))
            notice = notify.publish(
                session, officer, title=TITLE, body=BODY, grid_ids=[one.id, two.id], now=T0
            )
            assert notify.reach(session, notice) == notify.Reach(
                groups=4, sent=1, failed=0, pending=3, reach=300, views=0
            )
        summary = notify.send_pending(county, settings, T0)
        assert (summary.claimed, summary.sent, summary.retrying) == (3, 2, 1)
        with unit_of_work(county) as session:
            officer = principal_of(session, "officer")
            # Members counted when sent: a later change does not rewrite the reach.
            notify.update_group(
                session, officer, good.id, notify.GroupChange(members=999), hosts=HOSTS
            )
            notify.board(session, one.code, now=T0)
            notify.board(session, one.code, now=T0)
            notify.board(session, two.code, now=T0)  # no in-app group: nothing counted
        with county() as session:
            officer = principal_of(session, "officer")
            notice = notify.get_notice(session, officer, notice.id)
            assert notify.reach(session, notice) == notify.Reach(
                groups=4, sent=3, failed=0, pending=1, reach=500, views=2
            )
            assert notify.reaches(session, [notice.id, 10**6])[10**6] == notify.Reach()
            listed = notify.list_notices(session, officer)
            assert [n.id for n in listed] == [notice.id]
            rows = notify.list_deliveries(session, officer, notice.id)
            assert [r.grid_code for r in rows] == sorted(r.grid_code for r in rows)
            failing = next(r for r in rows if r.delivery.status is DeliveryStatus.PENDING)
            assert "310000" in (failing.delivery.error or "")
            assert "keywords not in content" in (failing.delivery.error or "")


def test_notices_are_seen_by_their_station_only(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as session:
        officer = principal_of(session, "officer")
        grid = grids_of(session, officer, 1)[0]
        add(session, officer, grid)
        notice = notify.publish(session, officer, title=TITLE, body=BODY, grid_ids=[grid.id])
        foreign = other_station_grid(session, officer)
        stranger = Principal(
            user_id=officer.user_id + 1000,
            username="stranger",
            role=officer.role,
            person_id=None,
            station_ids=frozenset({foreign.district.station_id}),
            grid_ids=None,
        )
        assert notify.list_notices(session, stranger) == []
        with pytest.raises(NotFound):
            notify.get_notice(session, stranger, notice.id)
        assert notify.get_notice(session, principal_of(session, "command"), notice.id) is notice


def test_the_board_shows_the_grids_in_app_notices_of_30_days_newest_first(
    county: sessionmaker[Session],
) -> None:
    with unit_of_work(county) as session:
        officer = principal_of(session, "officer")
        grid, other = grids_of(session, officer, 2)
        add(session, officer, grid, name="公告栏一")
        add(session, officer, grid, name="公告栏二")  # two boards: one view counted
        add(session, officer, grid, ChannelKind.LOCAL)
        add(session, officer, other)
        old = notify.publish(
            session, officer, title="旧通知", body=BODY, grid_ids=[grid.id], now=T0 - timedelta(31)
        )
        first = notify.publish(
            session, officer, title="第一条", body=BODY, grid_ids=[grid.id], now=T0 - timedelta(2)
        )
        second = notify.publish(
            session, officer, title="第二条", body=BODY, grid_ids=[grid.id], now=T0 - timedelta(1)
        )
        notify.publish(session, officer, title="别的警格", body=BODY, grid_ids=[other.id], now=T0)
        board = notify.board(session, grid.code, now=T0)
        assert [n.title for n in board.notices] == ["第二条", "第一条"]
        assert board.grid_name == grid.name
        for notice, views in ((first, 1), (second, 1), (old, 0)):
            assert notify.reach(session, notice).views == views
        with pytest.raises(NotFound):
            notify.board(session, "NO-SUCH-GRID", now=T0)


# --- demo data -------------------------------------------------------------------------


def test_seed_groups_gives_every_grid_a_board_group_and_a_local_group(
    county: sessionmaker[Session],
) -> None:
    with unit_of_work(county) as session:
        grids = list(session.scalars(select(PoliceGrid).where(PoliceGrid.active())))
        added = notify.seed_groups(session)
        assert added == 2 * len(grids)
        assert notify.seed_groups(session) == 0
        groups = list(session.scalars(select(ResidentGroup).order_by(ResidentGroup.id)))
        by_grid: dict[int, list[ResidentGroup]] = {}
        for group in groups:
            by_grid.setdefault(group.grid_id, []).append(group)
        assert set(by_grid) == {g.id for g in grids}
        for grid in grids:
            in_app, local = by_grid[grid.id]
            assert in_app.channel is ChannelKind.IN_APP and local.channel is ChannelKind.LOCAL
            assert in_app.name == f"{grid.name}警民群"
            assert 150 <= in_app.members <= 500
            assert in_app.members == random.Random(grid.id).randint(150, 500)
            assert in_app.station_id == grid.district.station_id
        assert len(audit_rows(session, "resident_group")) == 2
