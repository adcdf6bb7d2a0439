"""Two weeks of anti-fraud warnings for the demo county, through the real intake.

Residents of the registry are warned (by address as the centre writes it, by phone
only, with a typo, or at an address outside the county), some twice; the older orders
get outcomes as the grid officers would have recorded them (most dissuaded, with the
money saved; a few too late, which opens incidents); today's stay open, a few past
their deadline. Warnings carry fixed ids, so rebuilding adds nothing.
"""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from fengqiao.auth import Principal, system_principal
from fengqiao.config import Settings
from fengqiao.db import utcnow
from fengqiao.fraud import intake, orders
from fengqiao.fraud.models import Channel, ContactMethod, FraudOrder, Outcome, WarningType
from fengqiao.i18n import _
from fengqiao.notify import service as notify
from fengqiao.notify.models import Notice
from fengqiao.org.models import PoliceGrid
from fengqiao.registry.models import Address, RecordStatus, Resident

DAYS = 14
PER_DAY = (6, 14)
TYPES = (
    (WarningType.SCAM_CALL, "urgent", 0.35),
    (WarningType.SUSPICIOUS_TRANSFER, "urgent", 0.15),
    (WarningType.SCAM_APP, "high", 0.25),
    (WarningType.AT_RISK, "normal", 0.25),
)
ELSEWHERE = (
    "浙江省杭州市西湖区文三路90号",
    "江苏省南京市鼓楼区中山路8号",
    "上海市浦东新区世纪大道100号",
)


def build_fraud(session: Session, settings: Settings, *, seed: int) -> str:
    rng = random.Random(seed + 6)
    people = session.execute(
        select(Resident.name, Resident.phone, Resident.id_number, Address.full_name)
        .join(Address, Address.id == Resident.address_id)
        .where(Resident.status == RecordStatus.ACTIVE, Resident.phone.is_not(None))
        .order_by(Resident.id)
    ).all()
    if not people:
        return _("Anti-fraud: no registry to warn.")
    principal = system_principal("demo")
    now = utcnow()
    made = 0
    for day in range(DAYS, -1, -1):
        for n in range(rng.randint(*PER_DAY)):
            name, phone, number, address = rng.choice(people)
            kind, level = _pick(rng)
            at = now - timedelta(
                days=day, minutes=rng.randint(0, 600) if day else rng.randint(1, 240)
            )
            text: str | None = address
            roll = rng.random()
            if roll < 0.15:
                text = "清溪县" + address.replace("号", "号号", 1)  # as centres type them
            elif roll < 0.25:
                text = None  # the phone only: the registry finds the person
            elif roll < 0.32:
                # Someone not in the registry at an address elsewhere or unknown here: no
                # rule places it, the command room's queue gets it.
                name, number = "", None
                phone = f"13{rng.randint(0, 999999999):09d}"
                text = rng.choice((*ELSEWHERE, "清溪县不存在路88号"))
            raw = {
                "external_id": f"DEMO-{seed}-{day}-{n}",
                "type": kind.value,
                "level": level,
                "name": name,
                "phone": phone,
                "id_number": number if rng.random() < 0.6 else None,
                "address": text,
                "warned_at": at,
                "detail": rng.choice(
                    ("冒充客服退款", "刷单返利", "虚假投资理财", "冒充公检法", "")
                ),
            }
            item = intake.clean({k: v for k, v in raw.items() if v}, source="96110", now=now)
            results, _totals = intake.receive(
                session, principal, settings, [item], channel=Channel.API, now=at
            )
            if results[0].duplicate or results[0].merged:
                continue
            made += 1
            if day > 0 or rng.random() < 0.3:
                _close(session, principal, settings, results[0].order_id, rng)
    groups = notify.seed_groups(session)
    if groups and session.scalar(select(Notice.id).limit(1)) is None:
        grids = session.scalars(
            select(PoliceGrid.id).where(PoliceGrid.active()).order_by(PoliceGrid.id).limit(12)
        ).all()
        notify.publish(
            session,
            principal,
            title="警惕冒充客服退款诈骗",
            body="近期辖区多发冒充电商客服以“退款”“理赔”为由的诈骗。凡要求下载陌生软件、"
            "共享屏幕或转账验证的，都是诈骗！如有疑问请拨打 96110 或 110。",
            grid_ids=list(grids),
            client_key=f"demo-notice-{seed}",
        )
    return _(
        "Anti-fraud: {n} dissuasion orders from two weeks of warnings; {groups} resident groups."
    ).format(n=made, groups=groups)


def _pick(rng: random.Random) -> tuple[WarningType, str]:
    roll, total = rng.random(), 0.0
    for kind, level, share in TYPES:
        total += share
        if roll < total:
            return kind, level
    return TYPES[-1][0], TYPES[-1][1]


def _close(
    session: Session,
    principal: Principal,
    settings: Settings,
    order_id: int,
    rng: random.Random,
) -> None:
    order = session.get(FraudOrder, order_id)
    if order is None:
        return
    if order.assignee_id is None:
        # The desk checked it and fed back up the chain: not ours.
        orders.record_outcome(
            session, principal, settings, order_id, orders.OutcomeIn(Outcome.NOT_IN_AREA)
        )
        order.outcome_at = order.closed_at = order.created_at + timedelta(
            minutes=rng.randint(3, 40)
        )
        return
    roll = rng.random()
    if roll < 0.72:
        data = orders.OutcomeIn(
            Outcome.DISSUADED,
            ContactMethod.PHONE if rng.random() < 0.7 else ContactMethod.VISIT,
            money_saved=rng.choice((0, 0, 3000, 8000, 20000, 50000, 120000)),
        )
    elif roll < 0.8:
        data = orders.OutcomeIn(
            Outcome.MONEY_LOST, ContactMethod.PHONE, money_lost=rng.choice((2000, 15000, 60000))
        )
    elif roll < 0.92:
        data = orders.OutcomeIn(Outcome.UNREACHABLE)
    else:
        data = orders.OutcomeIn(Outcome.FALSE_ALARM, ContactMethod.PHONE)
    orders.record_outcome(session, principal, settings, order_id, data)
    # As recorded at the time: contact within minutes of the order.
    contacted = order.created_at + timedelta(minutes=rng.randint(2, 25))
    if order.contacted_at is not None:
        order.contacted_at = contacted
    if order.visited_at is not None:
        order.visited_at = contacted
    order.outcome_at = order.closed_at = contacted + timedelta(minutes=rng.randint(5, 90))
