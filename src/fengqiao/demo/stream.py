"""The demo's live traffic: a light stream of synthetic calls, and simulated officers who
accept, drive to the scene, arrive and close, so the command room is alive.

Only people without a login move by themselves; the demo accounts' people wait for a human.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from datetime import timedelta

import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from fengqiao.accounts.models import UserAccount
from fengqiao.audit.service import Actor
from fengqiao.config import Settings
from fengqiao.db import unit_of_work, utcnow
from fengqiao.dispatch import service as dispatch
from fengqiao.dispatch.models import ACTIVE_ASSIGNMENT, Assignment, AssignmentStatus
from fengqiao.incidents import service as incidents
from fengqiao.incidents.models import Channel, Disposition, Incident, IncidentStatus
from fengqiao.incidents.schemas import IncidentIn
from fengqiao.org.models import PoliceGrid

log = logging.getLogger(__name__)
STREAM_ACTOR = Actor(user_id=None, username="demo-stream", role=None, ip="local")
# (category code, weight, description)
CALLS = [
    ("0601", 6, "邻里因噪音发生口角，请求民警到场调解"),
    ("0602", 4, "夫妻发生争吵，一方情绪激动"),
    ("0301", 6, "两车轻微剐蹭，双方对责任有争议"),
    ("0701", 3, "老人外出未归，家属请求帮助寻找"),
    ("0703", 2, "小区停水，居民求助"),
    ("0101", 3, "电动车停放楼下被盗"),
    ("0201", 2, "烧烤摊有人酒后打架"),
    ("0203", 3, "夜间装修噪音扰民"),
    ("0604", 2, "工人讨要工资与老板发生争执"),
    ("0401", 1, "民房冒烟，疑似起火"),
]
STEP_SECONDS = 20.0  # how often simulated officers move on
CALL_EVERY_SECONDS = (25.0, 60.0)


def _new_call(session: Session, rnd: random.Random) -> None:
    grids = list(session.scalars(select(PoliceGrid).where(PoliceGrid.active())))
    if not grids:
        return
    grid = rnd.choices(
        grids, weights=[g.population * (3 if g.kind.value == "urban" else 1) for g in grids]
    )[0]
    min_x, min_y, max_x, max_y = grid.geometry.bounds
    for _ in range(50):
        x, y = rnd.uniform(min_x, max_x), rnd.uniform(min_y, max_y)
        if grid.geometry.contains(shapely.Point(x, y)):
            break
    code, _w, text = rnd.choices(CALLS, weights=[c[1] for c in CALLS])[0]
    incidents.create_incident(
        session,
        actor=STREAM_ACTOR,
        data=IncidentIn(
            channel=rnd.choice([Channel.TRANSFER_110, Channel.TRANSFER_110, Channel.PHONE]),
            category_code=code,
            description=text,
            lon=round(x, 6),
            lat=round(y, 6),
            address=f"{(grid.places or grid.name).split(';')[0]}",
            reporter_name="王先生",
            reporter_phone=f"1{rnd.randint(3, 9)}{rnd.randint(0, 999999999):09d}",
        ),
    )


def _advance(session: Session, rnd: random.Random) -> None:
    """Move simulated people one step along accept → drive → arrive → close."""
    humans = set(
        session.scalars(select(UserAccount.person_id).where(UserAccount.person_id.is_not(None)))
    )
    now = utcnow()
    for a in session.scalars(select(Assignment).where(Assignment.status.in_(ACTIVE_ASSIGNMENT))):
        if a.person_id in humans:
            continue
        incident = session.get(Incident, a.incident_id)
        if incident is None:
            continue
        person = a.person
        if a.status is AssignmentStatus.DISPATCHED:
            incidents.accept(session, actor=STREAM_ACTOR, assignment=a)
        elif a.status is AssignmentStatus.ACCEPTED:
            if (
                incident.lon is not None
                and incident.lat is not None
                and person.last_lon is not None
                and person.last_lat is not None
            ):
                person.last_lon += (incident.lon - person.last_lon) * 0.5
                person.last_lat += (incident.lat - person.last_lat) * 0.5
            if now - a.dispatched_at > timedelta(seconds=rnd.uniform(40, 120)):
                person.last_lon, person.last_lat = incident.lon, incident.lat
                incidents.arrive(session, actor=STREAM_ACTOR, assignment=a)
            else:
                dispatch.set_duty_status(session, person, person.duty_status)
        elif (
            a.status is AssignmentStatus.ARRIVED
            and incident.status is IncidentStatus.ARRIVED  # a second unit: the first may close
            and a.arrived_at
            and now - a.arrived_at > timedelta(seconds=rnd.uniform(60, 240))
        ):
            disposition = (
                Disposition.DISPUTE
                if incident.category.code.startswith("06") and rnd.random() < 0.3
                else Disposition.SETTLED
            )
            incidents.finish(
                session, actor=STREAM_ACTOR, incident=incident, disposition=disposition
            )


async def run_stream(factory: sessionmaker[Session], settings: Settings, *, seed: int = 7) -> None:
    rnd = random.Random(seed)
    next_call = 3.0
    while True:
        await asyncio.sleep(STEP_SECONDS / 4)
        next_call -= STEP_SECONDS / 4
        try:
            if next_call <= 0:
                next_call = rnd.uniform(*CALL_EVERY_SECONDS)
                await asyncio.to_thread(_in_transaction, factory, _new_call, rnd)
            await asyncio.to_thread(_in_transaction, factory, _advance, rnd)
        except Exception:  # the demo stream must keep going whatever one step does
            log.exception("demo stream step failed")


def _in_transaction(
    factory: sessionmaker[Session],
    step: Callable[[Session, random.Random], None],
    rnd: random.Random,
) -> None:
    with unit_of_work(factory) as session:
        step(session, rnd)
