"""Tasks in the field: check-in with the position, completion with its result and
evidence (idempotent by the phone's key), the chief's ad-hoc tasks, and my day."""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from fengqiao.clock import CHINA_TZ, at_local, local_day
from fengqiao.db import unit_of_work
from fengqiao.errors import Conflict, Forbidden, InvalidInput
from fengqiao.org.models import DutyStatus, GridAssignment, Person, PersonKind, PoliceGrid
from fengqiao.registry.models import Address, Attachment, AttachmentKind, EstablishmentKind
from fengqiao.tasks import follow_ups, manage
from fengqiao.tasks import service as tasks
from fengqiao.tasks.models import FollowUp, FollowUpStatus, Task, TaskKind, TaskStatus
from tests.tasks.helpers import (
    MONDAY,
    TIMEOUT,
    add_address,
    add_place,
    point_in,
    principal_of,
    race,
    team,
)

OFFICER_GRID = 1  # the grid of the demo account ``officer`` (its team: auxiliary, gridworker)


def jpeg(colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buf, format="JPEG")
    return buf.getvalue()


@dataclass(frozen=True)
class World:
    grid_id: int
    inside: tuple[float, float]
    outside: tuple[float, float]  # in another grid of the station, not the officer's
    officer: int
    auxiliary: int
    grid_worker: int
    stranger: int  # a person of another station
    address_id: int


def _world(factory: sessionmaker[Session]) -> World:
    with unit_of_work(factory) as session:
        officer = principal_of(session, "officer")
        grid = session.get_one(PoliceGrid, OFFICER_GRID)
        members = team(session, grid.id)
        assert members[PersonKind.OFFICER] == [officer.person_id]
        other = session.get_one(PoliceGrid, 2)
        assert other.district.station_id == grid.district.station_id
        stranger = session.scalars(
            select(Person.id).where(Person.station_id != grid.district.station_id)
        ).first()
        assert stranger is not None
        return World(
            grid_id=grid.id,
            inside=point_in(grid),
            outside=point_in(other),
            officer=members[PersonKind.OFFICER][0],
            auxiliary=members[PersonKind.AUXILIARY][0],
            grid_worker=members[PersonKind.GRID_WORKER][0],
            stranger=stranger,
            address_id=add_address(session, grid, "301室").id,
        )


def _new(
    session: Session,
    world: World,
    kind: TaskKind = TaskKind.HOUSEHOLD_VISIT,
    *,
    assignee: int | None = None,
    **extra: Any,
) -> int:
    target: dict[str, Any] = (
        {"address_id": world.address_id} if kind is TaskKind.HOUSEHOLD_VISIT else {}
    )
    target.update(extra)
    if not {"address_id", "establishment_id", "grid_id"} & set(target):
        target["grid_id"] = world.grid_id
    task = manage.create_task(
        session,
        principal_of(session, "chief"),
        manage.NewTask(
            kind=kind,
            title=f"测试任务 {kind.value}",
            assignee_id=world.officer if assignee is None else assignee,
            **target,
        ),
    )
    return task.id


def _attachments(session: Session, task_id: int) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Attachment)
            .where(Attachment.object_type == "task", Attachment.object_id == task_id)
        )
        or 0
    )


# --- check-in ---------------------------------------------------------------------------


def test_check_in_needs_a_position_and_the_first_one_counts(
    county: sessionmaker[Session],
) -> None:
    world = _world(county)
    with unit_of_work(county) as session:
        here, there = _new(session, world), _new(session, world, TaskKind.CUSTOM)

    with unit_of_work(county) as session:
        officer = principal_of(session, "officer")
        with pytest.raises(InvalidInput) as refused:
            tasks.check_in(session, officer, here, lon=None, lat=None, key="ci-1")
        assert "location" in refused.value.message and refused.value.status == 422
        session.commit()  # nothing was written before the refusal
    with county() as session:
        task = session.get_one(Task, here)
        assert task.status is TaskStatus.OPEN and task.checked_in_at is None

    with unit_of_work(county) as session:
        officer = principal_of(session, "officer")
        inside = tasks.check_in(
            session, officer, here, lon=world.inside[0], lat=world.inside[1], key="ci-1"
        )
        assert inside.check_in_inside_grid is True and inside.status is TaskStatus.CHECKED_IN
        outside = tasks.check_in(
            session, officer, there, lon=world.outside[0], lat=world.outside[1], key="ci-2"
        )
        assert outside.check_in_inside_grid is False
    with county() as session:
        before = session.get_one(Task, here)
        first = (before.checked_in_at, before.check_in_lon, before.check_in_lat)

    # The offline queue replays the check-in (from elsewhere, even without a position),
    # and a second check-in with a new key comes in: the first one stands.
    for key, point in (("ci-1", (None, None)), ("ci-1", world.outside), ("ci-3", world.outside)):
        with unit_of_work(county) as session:
            officer = principal_of(session, "officer")
            tasks.check_in(session, officer, here, lon=point[0], lat=point[1], key=key)
    with county() as session:
        task = session.get_one(Task, here)
        assert (task.checked_in_at, task.check_in_lon, task.check_in_lat) == first
        assert task.check_in_inside_grid is True and task.check_in_key == "ci-1"


# --- completion -------------------------------------------------------------------------


def test_one_completion_key_completes_once(county: sessionmaker[Session]) -> None:
    world = _world(county)
    with unit_of_work(county) as session:
        task_id = _new(session, world)
    values = {"households_visited": "3", "leads": 1, "revisit_in_days": "7", "note": " 一切正常 "}

    def send(key: str) -> tuple[Task, bool]:
        with unit_of_work(county) as session:
            officer = principal_of(session, "officer")
            uploads = [
                tasks.Upload(jpeg(), "门口.jpg", AttachmentKind.PHOTO, f"{key}:p0"),
                tasks.Upload(jpeg((10, 90, 200)), "室内.jpg", AttachmentKind.PHOTO, f"{key}:p1"),
            ]
            return tasks.complete(
                session,
                officer,
                task_id,
                values=values,
                key=key,
                uploads=uploads,
                lon=world.inside[0],
                lat=world.inside[1],
            )

    task, stored = send("done-1")
    assert stored is True and task.status is TaskStatus.DONE
    completed_at = task.completed_at
    assert completed_at is not None
    again, stored = send("done-1")
    assert stored is False and again.completed_at == completed_at
    with pytest.raises(Conflict):
        send("done-2")

    with county() as session:
        task = session.get_one(Task, task_id)
        assert task.completed_at == completed_at and task.completion_key == "done-1"
        assert task.result == {
            "households_visited": 3,
            "leads": 1,
            "revisit_in_days": 7,
            "note": "一切正常",
        }
        assert (task.households_visited, task.leads, task.hazards) == (3, 1, 0)
        assert task.check_in_inside_grid is True  # the completion's position
        assert _attachments(session, task_id) == 2
        address = session.get_one(Address, world.address_id)
        assert address.last_visited_at == completed_at
        [revisit] = session.scalars(select(FollowUp)).all()
        assert revisit.due_on == local_day(completed_at) + timedelta(days=7)
        assert revisit.kind is TaskKind.HOUSEHOLD_VISIT and revisit.status is FollowUpStatus.PENDING
        assert (revisit.target_type, revisit.target_id) == ("address", world.address_id)


INVALID = [
    pytest.param(TaskKind.HOUSEHOLD_VISIT, {}, "“Households visited”", id="missing"),
    pytest.param(
        TaskKind.HOUSEHOLD_VISIT,
        {"households_visited": "three"},
        "“Households visited” must be a whole number",
        id="not-a-number",
    ),
    pytest.param(
        TaskKind.HOUSEHOLD_VISIT,
        {"households_visited": 201},
        "“Households visited” must be between 0 and 200",
        id="too-many",
    ),
    pytest.param(
        TaskKind.HOUSEHOLD_VISIT,
        {"households_visited": 2, "leads": -1},
        "“Leads reported” must be between 0 and 99",
        id="negative",
    ),
    pytest.param(
        TaskKind.DISPUTE_FOLLOW_UP, {"situation": "angry"}, "“Situation”", id="bad-choice"
    ),
    pytest.param(
        TaskKind.FRAUD_DISSUASION, {"outcome": "dissuaded"}, "“Contacted by”", id="choice-missing"
    ),
    pytest.param(
        TaskKind.INSPECTION,
        {"check_guest_registration": "pass", "check_minors_check": "maybe"},
        "“Minors checked in with guardians only”",
        id="checklist-unanswered",
    ),
]


@pytest.mark.parametrize(("kind", "values", "named"), INVALID)
def test_an_invalid_result_stores_nothing(
    county: sessionmaker[Session], kind: TaskKind, values: dict[str, Any], named: str
) -> None:
    world = _world(county)
    with unit_of_work(county) as session:
        extra: dict[str, Any] = {}
        if kind is TaskKind.INSPECTION:
            grid = session.get_one(PoliceGrid, world.grid_id)
            extra["establishment_id"] = add_place(
                session, grid, "如家宾馆", kind=EstablishmentKind.HOTEL
            ).id
        task_id = _new(session, world, kind, **extra)

    with unit_of_work(county) as session:
        officer = principal_of(session, "officer")
        with pytest.raises(InvalidInput) as refused:
            tasks.complete(
                session,
                officer,
                task_id,
                values=values,
                key="bad-1",
                uploads=[tasks.Upload(jpeg(), "a.jpg", AttachmentKind.PHOTO, "bad-1:p0")],
                lon=world.inside[0],
                lat=world.inside[1],
            )
        assert named in refused.value.message
        session.commit()  # even a caller that keeps its transaction stores nothing
    with county() as session:
        task = session.get_one(Task, task_id)
        assert task.status is TaskStatus.OPEN
        assert task.result is None and task.completion_key is None and task.checked_in_at is None
        assert _attachments(session, task_id) == 0
        assert session.scalar(select(func.count()).select_from(FollowUp)) == 0


def test_a_photo_that_is_not_an_image_stores_nothing(county: sessionmaker[Session]) -> None:
    world = _world(county)
    with unit_of_work(county) as session:
        task_id = _new(session, world)
    with unit_of_work(county) as session:
        officer = principal_of(session, "officer")
        with pytest.raises(InvalidInput) as refused:
            tasks.complete(
                session,
                officer,
                task_id,
                values={"households_visited": 1},
                key="photo-1",
                uploads=[
                    tasks.Upload(jpeg(), "good.jpg", AttachmentKind.PHOTO, "photo-1:p0"),
                    tasks.Upload(b"%PDF-1.4 not a photo", "scan.jpg", AttachmentKind.PHOTO),
                ],
                lon=world.inside[0],
                lat=world.inside[1],
            )
        assert "scan.jpg" in refused.value.message
        session.commit()
    with county() as session:
        task = session.get_one(Task, task_id)
        assert task.status is TaskStatus.OPEN and task.checked_in_at is None
        assert _attachments(session, task_id) == 0
        assert session.scalar(select(func.count()).select_from(Attachment)) == 0


def test_two_replays_of_one_completion_at_the_same_time_store_it_once(
    county: sessionmaker[Session], county_engine: Engine
) -> None:
    """The phone resends a completion while the first request is still running."""
    postgres = county_engine.dialect.name == "postgresql"
    world = _world(county)
    with unit_of_work(county) as session:
        task_id = _new(session, world)
    barrier = threading.Barrier(2, timeout=TIMEOUT / 2)

    def work(i: int) -> tuple[bool, datetime | None]:
        session = county()
        try:
            if not postgres:
                barrier.wait()  # SQLite: a transaction would hold the write lock
            officer = principal_of(session, "officer")
            assert session.get_one(Task, task_id).status is TaskStatus.OPEN or not postgres
            if postgres:
                barrier.wait()  # both have read the open task; neither has written
            task, stored = tasks.complete(
                session,
                officer,
                task_id,
                values={"households_visited": 2, "revisit_in_days": 5},
                key="same-key",
                uploads=[tasks.Upload(jpeg(), "a.jpg", AttachmentKind.PHOTO, "same-key:p0")],
                lon=world.inside[0],
                lat=world.inside[1],
            )
            completed_at = task.completed_at
            session.commit()
            return stored, completed_at
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    results = race(work)
    assert all(isinstance(r, tuple) for r in results), results
    assert sorted(r[0] for r in results) == [False, True]  # type: ignore[index]
    winner = next(r for r in results if r[0])  # type: ignore[index]
    with county() as session:
        task = session.get_one(Task, task_id)
        assert task.completed_at == winner[1]  # type: ignore[index]
        assert _attachments(session, task_id) == 1
        assert session.scalar(select(func.count()).select_from(FollowUp)) == 1


# --- the chief's tasks ------------------------------------------------------------------


def test_the_chief_creates_ad_hoc_tasks_and_only_the_chief(
    county: sessionmaker[Session],
) -> None:
    world = _world(county)
    now = at_local(MONDAY, 7)
    with unit_of_work(county) as session:
        chief = principal_of(session, "chief")
        officer = principal_of(session, "officer")

        def new(**fields: Any) -> Task:
            data: dict[str, Any] = {
                "kind": TaskKind.CUSTOM,
                "title": "排查隐患",
                "grid_id": world.grid_id,
                "day": MONDAY,
            }
            data.update(fields)
            return manage.create_task(session, chief, manage.NewTask(**data), now=now)

        with pytest.raises(Forbidden):
            manage.create_task(
                session,
                officer,
                manage.NewTask(kind=TaskKind.CUSTOM, title="排查隐患", grid_id=world.grid_id),
            )
        for window in ((18, 9), (9, 9), (-1, 9), (9, 25)):
            with pytest.raises(InvalidInput, match="due window"):
                new(due_from_hour=window[0], due_by_hour=window[1])
        with pytest.raises(InvalidInput, match="past day"):
            new(day=MONDAY - timedelta(days=1))
        with pytest.raises(InvalidInput, match="title"):
            new(title=" x ")
        with pytest.raises(InvalidInput, match="person of the station"):
            new(assignee_id=world.stranger)
        with pytest.raises(InvalidInput, match="grid_worker cannot"):
            new(kind=TaskKind.FRAUD_DISSUASION, assignee_id=world.grid_worker)

        # Without an assignee: the least loaded eligible member, the officer on ties.
        first = new(kind=TaskKind.INSPECTION)
        assert first.assignee_id == world.officer
        assert first.due_from == at_local(MONDAY, 9) and first.due_by == at_local(MONDAY, 18)
        second = new(kind=TaskKind.INSPECTION, due_by_hour=24)
        assert second.assignee_id == world.auxiliary
        assert second.due_by == at_local(MONDAY, 23, 59)
        third = new(kind=TaskKind.HOUSEHOLD_VISIT)
        assert third.assignee_id == world.grid_worker  # the police already have 45 minutes

        with pytest.raises(InvalidInput, match="grid_worker cannot"):
            manage.reassign(session, chief, first.id, assignee_id=world.grid_worker)
        with pytest.raises(Forbidden):
            manage.reassign(session, officer, first.id, assignee_id=world.auxiliary)
        moved = manage.reassign(session, chief, first.id, assignee_id=world.auxiliary)
        assert moved.assignee_id == world.auxiliary
        with pytest.raises(InvalidInput, match="reason"):
            manage.cancel(session, chief, second.id, reason=" ")
        cancelled = manage.cancel(session, chief, second.id, reason="场所已停业")
        assert cancelled.status is TaskStatus.CANCELLED
        with pytest.raises(Conflict):
            manage.cancel(session, chief, second.id, reason="再次取消")
        with pytest.raises(Conflict):
            manage.reassign(session, chief, second.id, assignee_id=world.officer)
        first_id, second_id = first.id, second.id
    with county() as session:
        assert session.get_one(Task, first_id).assignee_id == world.auxiliary
        assert session.get_one(Task, second_id).status is TaskStatus.CANCELLED


def test_today_lists_my_open_tasks_first_with_yesterdays_unfinished(
    county: sessionmaker[Session],
) -> None:
    world = _world(county)
    now = at_local(MONDAY, 11)
    with unit_of_work(county) as session:
        chief = principal_of(session, "chief")

        def new(title: str, *, by: int, priority: int = 3, assignee: int | None = None) -> Task:
            return manage.create_task(
                session,
                chief,
                manage.NewTask(
                    kind=TaskKind.CUSTOM,
                    title=title,
                    grid_id=world.grid_id,
                    day=MONDAY,
                    due_from_hour=8,
                    due_by_hour=by,
                    priority=priority,
                    assignee_id=world.officer if assignee is None else assignee,
                ),
                now=now - timedelta(days=2),
            )

        done = new("已完成", by=9)
        done.status, done.completed_at = TaskStatus.DONE, now
        normal = new("普通任务", by=12)
        urgent = new("紧急任务", by=12, priority=1)
        early = new("上午任务", by=10)
        late = new("下午任务", by=17)
        yesterday = new("昨天的任务", by=18)
        yesterday.day = MONDAY - timedelta(days=1)
        yesterday.due_by -= timedelta(days=1)
        yesterday_done = new("昨天已完成", by=18)
        yesterday_done.day, yesterday_done.status = MONDAY - timedelta(days=1), TaskStatus.DONE
        new("辅警的任务", by=12, assignee=world.auxiliary)
        cancelled = new("取消的任务", by=12)
        cancelled.status = TaskStatus.CANCELLED
        expected = [yesterday.id, early.id, urgent.id, normal.id, late.id, done.id]

    with county() as session:
        officer = principal_of(session, "officer")
        day = tasks.today(session, officer, now=now)
        assert day.day == MONDAY
        assert [t.id for t in day.tasks] == expected
        assert day.counts == {"total": 6, "done": 1, "overdue": 2}  # yesterday's, early
        assert world.grid_id in day.grid_ids
        with pytest.raises(Forbidden):
            tasks.today(session, principal_of(session, "legal"), now=now)


def test_a_phone_time_without_zone_is_local_time(county: sessionmaker[Session]) -> None:
    world = _world(county)
    with unit_of_work(county) as session:
        officer = principal_of(session, "officer")
        task_id = _new(session, world)
        local = datetime.now(CHINA_TZ).replace(tzinfo=None, microsecond=0) - timedelta(minutes=10)
        task = tasks.check_in(
            session, officer, task_id, lon=world.inside[0], lat=world.inside[1], at=local
        )
        assert task.checked_in_at == local.replace(tzinfo=CHINA_TZ)


def test_cancelling_a_follow_up_task_cancels_the_follow_up(county: sessionmaker[Session]) -> None:
    world = _world(county)
    with unit_of_work(county) as session:
        chief = principal_of(session, "chief")
        follow_up = follow_ups.schedule_follow_up(
            session,
            chief,
            kind=TaskKind.HOUSEHOLD_VISIT,
            grid_id=world.grid_id,
            due_on=MONDAY,
            target_type="address",
            target_id=world.address_id,
            target_label="301室",
        )
        task_id = _new(session, world)
        task = session.get_one(Task, task_id)
        task.follow_up_id = follow_up.id
        follow_up.status = FollowUpStatus.SCHEDULED
        manage.cancel(session, chief, task_id, reason="住户已搬离")
        assert follow_up.status is FollowUpStatus.CANCELLED


def test_volunteers_get_no_work_from_the_daily_balance(county: sessionmaker[Session]) -> None:
    world = _world(county)
    with unit_of_work(county) as session:
        volunteer = Person(
            personnel_no="V-TEST-1",
            name="志愿者甲",
            kind=PersonKind.VOLUNTEER,
            station_id=session.get_one(PoliceGrid, world.grid_id).district.station_id,
            duty_status=DutyStatus.AVAILABLE,
        )
        session.add(volunteer)
        session.flush()
        session.add(
            GridAssignment(person_id=volunteer.id, grid_id=world.grid_id, role=PersonKind.VOLUNTEER)
        )
        session.flush()
        picked = {
            tasks.pick_assignee(session, grid_id=world.grid_id, kind=TaskKind.PATROL, day=MONDAY)
            for _ in range(3)
        }
        assert volunteer.id not in picked and picked <= {world.officer, world.auxiliary}
