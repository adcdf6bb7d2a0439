"""The daily job: exactly once per grid and day under concurrent schedulers, catching up
after a restart, each rule, and the balance of work across a grid team."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from fengqiao.clock import at_local
from fengqiao.db import unit_of_work
from fengqiao.incidents.models import Incident
from fengqiao.org.models import GridAssignment, Person, PersonKind, PoliceGrid
from fengqiao.registry.models import EstablishmentKind, HouseUse
from fengqiao.tasks import generation, manage
from fengqiao.tasks import service as tasks
from fengqiao.tasks.generation import Rules, RunSummary, run_due, run_grid_day
from fengqiao.tasks.kinds import CHECKLISTS, ELIGIBLE, MINUTES
from fengqiao.tasks.models import (
    FollowUp,
    FollowUpStatus,
    Task,
    TaskKind,
    TaskRun,
    TaskSource,
    TaskStatus,
)
from tests.tasks.helpers import (
    MONDAY,
    TIMEOUT,
    add_address,
    add_follow_up,
    add_incidents,
    add_place,
    days,
    keep_active,
    morning,
    point_in,
    principal_of,
    race,
    tasks_of,
    team,
    team_grids,
)

ROUNDS = 3
# What ``_seed`` makes one grid produce on a weekday with three visits a grid.
EXPECTED = {"inspection": 2, "school_gate": 1, "follow_up": 1, "hotspot": 1, "visit": 3}
POLICE = {PersonKind.OFFICER, PersonKind.AUXILIARY}


def _seed(session: Session, grid: PoliceGrid, day: date) -> None:
    """Two key places never inspected (one a school), a follow-up due, a hotspot of three
    incidents and four households."""
    add_place(session, grid, f"宾馆{grid.id}")
    add_place(session, grid, f"实验小学{grid.id}", kind=EstablishmentKind.SCHOOL)
    add_follow_up(session, grid, day)
    add_incidents(session, point_in(grid), [at_local(day - days(k), 21) for k in (2, 5, 9)])
    for n in range(4):
        add_address(session, grid, f"{n + 1}01室")


def _run_one(
    factory: sessionmaker[Session], grid_id: int, day: date, rules: Rules, *, now_day: date
) -> TaskRun | None:
    with unit_of_work(factory) as session:
        grid = session.get_one(PoliceGrid, grid_id)
        return run_grid_day(session, grid, day, rules=rules, runner="test", now=morning(now_day))


def _by_source(session: Session, grid_id: int, day: date | None = None) -> dict[str, int]:
    query = select(Task.source, func.count()).where(Task.grid_id == grid_id)
    if day is not None:
        query = query.where(Task.day == day)
    return {s.value: n for s, n in session.execute(query.group_by(Task.source))}


# --- exactly once -----------------------------------------------------------------------


def test_two_schedulers_make_each_grid_and_day_once(
    county: sessionmaker[Session], county_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    postgres = county_engine.dialect.name == "postgresql"
    with unit_of_work(county) as session:
        grids = team_grids(session, 6)
        n = keep_active(session, grids)
        for grid in grids[:3]:
            _seed(session, grid, MONDAY)
        seeded = [g.id for g in grids[:3]]
        follow_ups = list(session.scalars(select(FollowUp.id)))
    rules = Rules(visits_per_grid=3)
    original = generation.due_runs
    todo_sizes: dict[str, int] = {}
    barrier = threading.Barrier(2, timeout=TIMEOUT / 2)

    def due_runs(session: Session, *, today: date, catch_up_days: int) -> list[Any]:
        todo = original(session, today=today, catch_up_days=catch_up_days)
        todo_sizes[threading.current_thread().name] = len(todo)
        if postgres:
            barrier.wait()  # both have read what is to do; neither has run a grid
        return todo

    monkeypatch.setattr(generation, "due_runs", due_runs)

    def work(i: int) -> tuple[RunSummary, int]:
        if not postgres:
            barrier.wait()  # SQLite: waiting inside a transaction would hold the write lock
        summary = run_due(county, now=morning(MONDAY), rules=rules, runner=f"scheduler-{i}")
        return summary, todo_sizes[threading.current_thread().name]

    for round_no in range(ROUNDS):
        if round_no:  # start again from the same data: no tasks, no runs
            with unit_of_work(county) as session:
                session.execute(delete(Task))
                session.execute(delete(TaskRun))
                session.execute(update(FollowUp).values(status=FollowUpStatus.PENDING))
        barrier.reset()
        todo_sizes.clear()
        results = race(work)

        assert all(isinstance(r, tuple) for r in results), results
        (first, todo0), (second, todo1) = results  # type: ignore[misc]
        assert first.failed == [] and second.failed == []
        assert first.runs + second.runs == n
        assert first.runs + first.skipped == todo0
        assert second.runs + second.skipped == todo1
        if postgres:
            # Both set out to do every grid: each grid the one did, the other skipped.
            assert todo0 == todo1 == n
            assert first.skipped == second.runs and second.skipped == first.runs
        assert first.tasks + second.tasks == len(seeded) * sum(EXPECTED.values())
        with county() as session:
            runs = list(session.scalars(select(TaskRun)))
            assert len(runs) == n
            assert len({(r.grid_id, r.day) for r in runs}) == n
            assert {r.day for r in runs} == {MONDAY}
            assert {r.runner for r in runs} <= {"scheduler-0", "scheduler-1"}
            all_tasks = list(session.scalars(select(Task)))
            assert len(all_tasks) == sum(r.tasks_created for r in runs)
            assert len({t.source_key for t in all_tasks}) == len(all_tasks)
            for grid_id in seeded:
                run = next(r for r in runs if r.grid_id == grid_id)
                assert run.counts == EXPECTED and run.tasks_created == sum(EXPECTED.values())
                assert _by_source(session, grid_id) == EXPECTED
            # Each follow-up made exactly one task and is scheduled.
            made = Counter(t.follow_up_id for t in all_tasks if t.follow_up_id is not None)
            assert made == dict.fromkeys(follow_ups, 1)
            assert set(
                session.scalars(select(FollowUp.status).where(FollowUp.id.in_(follow_ups)))
            ) == {FollowUpStatus.SCHEDULED}


def test_a_restart_catches_up_missed_days_once(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as session:
        grids = team_grids(session, 4)
        n = keep_active(session, grids)
        grid = grids[0]
        _seed(session, grid, MONDAY)
        missed = add_follow_up(session, grid, MONDAY + days(1), label="次日回访")
        grid_id = grid.id
    rules = Rules(visits_per_grid=3, catch_up_days=3)

    first = run_due(county, now=morning(MONDAY), rules=rules)
    assert (first.runs, first.tasks, first.skipped, first.failed) == (n, 8, 0, [])
    # The same day again (another scheduler round, or a restart the same morning).
    again = run_due(county, now=morning(MONDAY) + timedelta(hours=6), rules=rules)
    assert again == RunSummary(runs=0, tasks=0, skipped=0, failed=[])
    with county() as session:
        assert session.scalar(select(func.count()).select_from(Task)) == 8

    # Nothing ran on Tuesday; the scheduler comes back on Wednesday morning.
    wednesday = MONDAY + days(2)
    later = run_due(county, now=morning(wednesday), rules=rules)
    assert later.runs == 2 * n and later.failed == []
    with county() as session:
        runs = {(r.grid_id, r.day): r for r in session.scalars(select(TaskRun))}
        assert len(runs) == 3 * n
        assert {d for _g, d in runs} == {MONDAY, MONDAY + days(1), wednesday}
        assert all(r.caught_up == (d == MONDAY + days(1)) for (_g, d), r in runs.items())
        tuesday = runs[(grid_id, MONDAY + days(1))]
        # A day gone by: only work still worth doing, no patrols, gate duties or visits.
        assert tuesday.counts == {"follow_up": 1}
        [late] = tasks_of(session, follow_up_id=missed.id)
        assert late.day == wednesday  # due today, not on the day that was missed
        assert late.due_from == at_local(wednesday, 9) and late.due_by == at_local(wednesday, 18)
        assert late.priority == 2
        # Wednesday itself: the patrol, the gate and the one household not yet given out
        # (inspections and the other visits are still open from Monday).
        assert runs[(grid_id, wednesday)].counts == {"hotspot": 1, "school_gate": 1, "visit": 1}
        assert session.scalar(select(func.count()).select_from(Task)) == 8 + 1 + 3
        assert (
            session.scalar(
                select(func.count()).select_from(Task).where(Task.day == MONDAY + days(1))
            )
            == 0
        )

    # Down again until Saturday, with only one day of catch-up allowed: Friday and
    # Saturday run, Thursday is given up.
    saturday = MONDAY + days(5)
    assert saturday.weekday() == 5
    last = run_due(county, now=morning(saturday), rules=Rules(visits_per_grid=3, catch_up_days=1))
    assert last.runs == 2 * n and last.failed == []
    with county() as session:
        runs = {(r.grid_id, r.day): r for r in session.scalars(select(TaskRun))}
        assert {d for _g, d in runs} == {
            MONDAY,
            MONDAY + days(1),
            wednesday,
            saturday - days(1),
            saturday,
        }
        assert runs[(grid_id, saturday - days(1))].caught_up
        assert runs[(grid_id, saturday - days(1))].counts == {}
        # Saturday: no school, no household left without an open visit; the hotspot stays.
        assert runs[(grid_id, saturday)].counts == {"hotspot": 1}


# --- the rules --------------------------------------------------------------------------


def test_a_follow_up_falls_due_as_a_task_and_its_completion_closes_it(
    county: sessionmaker[Session],
) -> None:
    with unit_of_work(county) as session:
        chief = principal_of(session, "chief")
        grid = team_grids(session, 1, station_id=1)[0]
        due = add_follow_up(session, grid, MONDAY, label="张某某家")
        later = add_follow_up(session, grid, MONDAY + days(3))
        grid_id, point = grid.id, point_in(grid)
    run = _run_one(county, grid_id, MONDAY, Rules(visits_per_grid=0), now_day=MONDAY)
    assert run is not None and run.counts == {"follow_up": 1}
    with unit_of_work(county) as session:
        [task] = tasks_of(session, grid_id=grid_id)
        assert task.follow_up_id == due.id and task.kind is TaskKind.DISPUTE_FOLLOW_UP
        assert task.source is TaskSource.FOLLOW_UP and task.day == MONDAY
        assert task.target_label == "张某某家" and "张某某家" in task.title
        assert task.due_by == at_local(MONDAY, 18)
        assert task.assignee_id in {p for ids in team(session, grid_id).values() for p in ids}
        assert session.get_one(FollowUp, due.id).status is FollowUpStatus.SCHEDULED
        assert session.get_one(FollowUp, later.id).status is FollowUpStatus.PENDING
        tasks.complete(
            session, chief, task.id, values={"situation": "stable"}, lon=point[0], lat=point[1]
        )
    with county() as session:
        assert session.get_one(FollowUp, due.id).status is FollowUpStatus.DONE
        assert session.get_one(Task, task.id).status is TaskStatus.DONE


def test_key_places_are_inspected_by_their_rhythm(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as session:
        grid = team_grids(session, 1)[0]
        never = add_place(session, grid, "星辰网吧", kind=EstablishmentKind.INTERNET_CAFE)
        recent = add_place(session, grid, "如家宾馆", inspected=at_local(MONDAY - days(10), 10))
        tomorrow = add_place(session, grid, "锦江宾馆", inspected=at_local(MONDAY - days(29), 10))
        today = add_place(session, grid, "七天宾馆", inspected=at_local(MONDAY - days(30), 15))
        overdue = add_place(
            session,
            grid,
            "城东工地",
            kind=EstablishmentKind.CONSTRUCTION_SITE,
            inspected=at_local(MONDAY - days(40), 10),
        )
        add_place(session, grid, "小卖部", kind=EstablishmentKind.SHOP, key_place=False)
        grid_id = grid.id
        police = {p for k in POLICE for p in team(session, grid_id)[k]}
    run = _run_one(county, grid_id, MONDAY, Rules(visits_per_grid=0), now_day=MONDAY)
    assert run is not None and run.counts == {"inspection": 3}
    with county() as session:
        made = {t.target_id: t for t in tasks_of(session, grid_id=grid_id)}
        assert set(made) == {never.id, today.id, overdue.id}
        assert recent.id not in made and tomorrow.id not in made
        assert made[never.id].detail == "Never inspected." and made[never.id].priority == 2
        assert [i["code"] for i in made[never.id].checklist or []] == [
            code for code, _label in CHECKLISTS[EstablishmentKind.INTERNET_CAFE]
        ]
        assert made[today.id].detail == "Last inspected 30 days ago (every 30 days)."
        assert made[overdue.id].detail == "Last inspected 40 days ago (every 30 days)."
        assert made[overdue.id].priority == 3
        assert all(t.kind is TaskKind.INSPECTION for t in made.values())
        assert {t.assignee_id for t in made.values()} <= police
    # The next day the open inspections are not made again; the place inspected 29 days
    # ago falls due.
    tuesday = MONDAY + days(1)
    run = _run_one(county, grid_id, tuesday, Rules(visits_per_grid=0), now_day=tuesday)
    assert run is not None and run.counts == {"inspection": 1}
    with county() as session:
        [task] = tasks_of(session, grid_id=grid_id, day=tuesday)
        assert task.target_id == tomorrow.id


def test_school_gate_duty_on_school_days_only(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as session:
        grid = team_grids(session, 1)[0]
        recently = at_local(MONDAY - days(3), 10)
        school = add_place(
            session, grid, "实验小学", kind=EstablishmentKind.SCHOOL, inspected=recently
        )
        kindergarten = add_place(
            session, grid, "阳光幼儿园", kind=EstablishmentKind.KINDERGARTEN, key_place=False
        )
        add_place(session, grid, "华联超市", kind=EstablishmentKind.SHOP, key_place=False)
        grid_id = grid.id
        gate_keepers = {
            p for k in ELIGIBLE[TaskKind.SCHOOL_GATE] for p in team(session, grid_id).get(k, [])
        }
    run = _run_one(county, grid_id, MONDAY, Rules(visits_per_grid=0), now_day=MONDAY)
    assert run is not None and run.counts == {"school_gate": 2}
    with county() as session:
        made = tasks_of(session, grid_id=grid_id)
        assert {t.target_id for t in made} == {school.id, kindergarten.id}
        for task in made:
            assert task.kind is TaskKind.SCHOOL_GATE
            assert (task.due_from, task.due_by) == (
                at_local(MONDAY, 7, 20),
                at_local(MONDAY, 8, 20),
            )
            assert task.assignee_id in gate_keepers
    saturday = MONDAY + days(5)
    run = _run_one(county, grid_id, saturday, Rules(visits_per_grid=0), now_day=saturday)
    assert run is not None and run.counts == {}


def test_a_hotspot_of_recent_incidents_gets_a_patrol(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as session:
        hot, cold = team_grids(session, 2)
        spot = point_in(hot)
        # Three in one cell in the last four weeks (two in the evening), two more long ago.
        add_incidents(
            session,
            spot,
            [
                at_local(MONDAY - days(3), 20, 10),
                at_local(MONDAY - days(10), 20, 40),
                at_local(MONDAY - days(20), 14),
            ],
            address="夜市路口",
        )
        add_incidents(
            session, spot, [at_local(MONDAY - days(40), 20), at_local(MONDAY - days(45), 20)]
        )
        # The other grid: two incidents 40 days ago and only one recent one.
        add_incidents(session, point_in(cold), [at_local(MONDAY - days(40), 9)] * 2)
        add_incidents(session, point_in(cold), [at_local(MONDAY - days(2), 9)])
        assert (
            session.scalar(
                select(func.count()).select_from(Incident).where(Incident.grid_id == hot.id)
            )
            == 5
        )
        ids = hot.id, cold.id
    for grid_id in ids:
        _run_one(county, grid_id, MONDAY, Rules(visits_per_grid=0), now_day=MONDAY)
    with county() as session:
        [patrol] = tasks_of(session, grid_id=ids[0])
        assert patrol.kind is TaskKind.PATROL and patrol.source is TaskSource.HOTSPOT
        assert patrol.title == "Patrol: 夜市路口" and patrol.priority == 2
        assert patrol.detail == (
            "3 incidents within about 150 m in the last 28 days; most around 20:00."
        )
        assert (patrol.due_from, patrol.due_by) == (at_local(MONDAY, 19), at_local(MONDAY, 21))
        assert patrol.lon == pytest.approx(spot[0], abs=1e-4)
        assert tasks_of(session, grid_id=ids[1]) == []


def test_household_visits_rented_and_never_visited_first_within_the_quota(
    county: sessionmaker[Session],
) -> None:
    with unit_of_work(county) as session:
        chief = principal_of(session, "chief")
        grid = team_grids(session, 1, station_id=1)[0]
        ago = lambda n: at_local(MONDAY - days(n), 10)  # noqa: E731
        owner_never = add_address(session, grid, "101室", use=HouseUse.OWNER_OCCUPIED)
        no_house_never = add_address(session, grid, "102室")
        rented_recent = add_address(session, grid, "103室", use=HouseUse.RENTED, visited=ago(10))
        rented_long = add_address(session, grid, "104室", use=HouseUse.RENTED, visited=ago(100))
        add_address(session, grid, "105室", use=HouseUse.EMPTY)
        owner_recent = add_address(
            session, grid, "106室", use=HouseUse.OWNER_OCCUPIED, visited=ago(5)
        )
        open_task = add_address(session, grid, "107室")
        add_address(session, grid, "109号", residents=0)  # a shop's door: nobody lives there
        owner_long = add_address(
            session, grid, "108室", use=HouseUse.OWNER_OCCUPIED, visited=ago(200)
        )
        manage.create_task(
            session,
            chief,
            manage.NewTask(
                kind=TaskKind.HOUSEHOLD_VISIT, title="走访107室", address_id=open_task.id
            ),
        )
        grid_id = grid.id
    run = _run_one(county, grid_id, MONDAY, Rules(visits_per_grid=4), now_day=MONDAY)
    assert run is not None and run.counts == {"visit": 4}
    with county() as session:
        made = tasks_of(session, grid_id=grid_id, source=TaskSource.VISIT)
        assert [t.target_id for t in made] == [
            rented_long.id,
            rented_recent.id,
            owner_never.id,
            no_house_never.id,
        ]
        assert made[0].detail == "Rented house: check who lives there."
        assert made[2].detail == "Never visited."
        assert all(t.target_type == "address" and t.kind is TaskKind.HOUSEHOLD_VISIT for t in made)
    # Tomorrow: those four are still open, the empty house and the one with an open task
    # are left out; only two households remain, longest unvisited first.
    run = _run_one(
        county, grid_id, MONDAY + days(1), Rules(visits_per_grid=4), now_day=MONDAY + days(1)
    )
    assert run is not None and run.counts == {"visit": 2}
    with county() as session:
        made = tasks_of(session, grid_id=grid_id, source=TaskSource.VISIT, day=MONDAY + days(1))
        assert [t.target_id for t in made] == [owner_long.id, owner_recent.id]
        assert made[0].detail == f"Last visited on {(MONDAY - days(200)).isoformat()}."


def _minutes(session: Session, people: list[int], day: date) -> dict[int, int]:
    load = dict.fromkeys(people, 0)
    for pid, kind in session.execute(
        select(Task.assignee_id, Task.kind).where(
            Task.day == day, Task.status != TaskStatus.CANCELLED, Task.assignee_id.in_(people)
        )
    ):
        load[pid] += MINUTES[kind]
    return load


@pytest.mark.parametrize("officer_busy", [False, True], ids=["fresh", "officer-busy"])
def test_a_day_of_visits_is_balanced_across_the_grid_team(
    county: sessionmaker[Session], officer_busy: bool
) -> None:
    with unit_of_work(county) as session:
        chief = principal_of(session, "chief")
        grid = team_grids(session, 1, station_id=1)[0]
        members = team(session, grid.id)
        people = [p for ids in members.values() for p in ids]
        if officer_busy:  # the chief already gave the officer an hour's patrol that day
            manage.create_task(
                session,
                chief,
                manage.NewTask(
                    kind=TaskKind.PATROL,
                    title="夜间巡逻",
                    grid_id=grid.id,
                    day=MONDAY,
                    assignee_id=members[PersonKind.OFFICER][0],
                ),
            )
        for n in range(10):
            add_address(session, grid, f"{n + 1}01室")
        grid_id = grid.id
    run = _run_one(county, grid_id, MONDAY, Rules(visits_per_grid=10), now_day=MONDAY)
    assert run is not None and run.counts == {"visit": 10}
    with county() as session:
        load = _minutes(session, people, MONDAY)
        assert sum(load.values()) == 10 * MINUTES[TaskKind.HOUSEHOLD_VISIT] + (
            MINUTES[TaskKind.PATROL] if officer_busy else 0
        )
        assert max(load.values()) - min(load.values()) <= MINUTES[TaskKind.HOUSEHOLD_VISIT], load


def test_police_work_never_goes_to_grid_workers_or_volunteers(
    county: sessionmaker[Session],
) -> None:
    with unit_of_work(county) as session:
        grid, bare = team_grids(session, 2)
        volunteer = session.scalars(
            select(Person)
            .where(
                Person.kind == PersonKind.VOLUNTEER, Person.station_id == grid.district.station_id
            )
            .order_by(Person.id)
        ).first()
        assert volunteer is not None
        for g in (grid, bare):
            session.add(
                GridAssignment(grid_id=g.id, person_id=volunteer.id, role=PersonKind.VOLUNTEER)
            )
            for n in range(3):
                add_place(session, g, f"金融网点{g.id}-{n}", kind=EstablishmentKind.FINANCIAL)
                add_follow_up(
                    session, g, MONDAY, kind=TaskKind.FRAUD_DISSUASION, label=f"受害人{n}"
                )
        # The second grid has lost its police: nobody of its team may take that work.
        session.execute(
            delete(GridAssignment).where(
                GridAssignment.grid_id == bare.id, GridAssignment.role.in_(list(POLICE))
            )
        )
        ids = grid.id, bare.id
        police = {p for k in POLICE for p in team(session, grid.id)[k]}
    for grid_id in ids:
        run = _run_one(county, grid_id, MONDAY, Rules(visits_per_grid=0), now_day=MONDAY)
        assert run is not None and run.counts == {"inspection": 3, "follow_up": 3}
    with county() as session:
        made = tasks_of(session, grid_id=ids[0])
        assert {t.kind for t in made} == {TaskKind.INSPECTION, TaskKind.FRAUD_DISSUASION}
        assert {t.assignee_id for t in made} <= police
        # Both police officers share the six tasks.
        assert len({t.assignee_id for t in made}) == 2
        assert [t.assignee_id for t in tasks_of(session, grid_id=ids[1])] == [None] * 6
