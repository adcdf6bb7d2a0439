"""Planning in the background (the web form): the plan row shows progress while the
planner runs outside any transaction, then becomes a draft; a failure is recorded."""

from __future__ import annotations

import re
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from fengqiao.audit.service import SYSTEM
from fengqiao.errors import Conflict
from fengqiao.grids import editing as service_editing
from fengqiao.grids import service, views
from fengqiao.grids.models import GridPlan, PlanGrid, PlanStatus
from tests.conftest import DEMO_PASSWORD
from tests.grids.helpers import SYSTEM_PRINCIPAL, district

Factory = sessionmaker[Session]


def _start(county: Factory, code: str) -> int:
    with county() as session:
        d = district(session, code)
        plan = service.start_plan(
            session, SYSTEM_PRINCIPAL, station_id=d.station_id, district_id=d.id
        )
        assert plan.status is PlanStatus.PLANNING and plan.progress == 0.0
        session.commit()
        return plan.id


def test_finish_plan_writes_progress_then_the_draft(
    county: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan_id = _start(county, "QX-GP-D1")
    monkeypatch.setattr(service, "PROGRESS_EVERY_S", 0.0)
    seen: list[float] = []
    real = service.planning.plan

    def watched(*args: object, **kwargs: object) -> object:
        progress = kwargs["progress"]

        def spy(fraction: float, message: str) -> None:
            progress(fraction, message)  # type: ignore[operator]
            with county() as session:  # written and committed at once, for the page
                seen.append(session.get_one(GridPlan, plan_id).progress)

        kwargs["progress"] = spy
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(service.planning, "plan", watched)
    service.finish_plan(county, plan_id, SYSTEM, effort=2)
    assert seen and seen == sorted(seen) and seen[-1] == 1.0
    with county() as session:
        plan = session.get_one(GridPlan, plan_id)
        assert plan.status is PlanStatus.DRAFT
        grids = session.scalars(select(PlanGrid).where(PlanGrid.plan_id == plan_id)).all()
        assert len(grids) >= 1
        view = views.plan_view(session, SYSTEM_PRINCIPAL, plan_id)
        assert sum(g.units for g in view.grids) == len(view.units) > 0


def test_a_failed_run_is_recorded_and_discarded(
    county: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan_id = _start(county, "QX-GP-D1")

    def broken(*_args: object, **_kwargs: object) -> object:
        raise RuntimeError("planner exploded")

    monkeypatch.setattr(service.planning, "plan", broken)
    with pytest.raises(RuntimeError):
        service.finish_plan(county, plan_id, SYSTEM)
    with county() as session:
        plan = session.get_one(GridPlan, plan_id)
        assert plan.status is PlanStatus.DISCARDED
        assert "planner exploded" in plan.report


def test_the_form_plans_in_the_background(api: TestClient) -> None:
    api.post("/login", data={"username": "chief", "password": DEMO_PASSWORD})
    page = api.get("/grids/plans")
    scope = re.search(r'value="(district:\d+)"', page.text)
    assert scope is not None
    made = api.post("/grids/plans", data={"scope": scope.group(1)}, follow_redirects=False)
    assert made.status_code == 303
    url = made.headers["location"]
    deadline = time.monotonic() + 60
    while True:
        poll = api.get(f"{url}/progress")
        assert poll.status_code == 200
        if poll.headers.get("HX-Refresh") == "true":
            break
        assert 'id="plan-progress"' in poll.text
        assert time.monotonic() < deadline, "the planner did not finish"
        time.sleep(0.2)
    done = api.get(url)
    assert 'id="plan-map"' in done.text and 'id="plan-grids"' in done.text


def test_a_plan_still_planning_can_be_discarded(county: Factory) -> None:
    """A run whose process stopped leaves the plan planning; the chief can drop it, and a
    late finish then refuses to fill it in."""
    plan_id = _start(county, "QX-GP-D1")
    with county() as session:
        service_editing.discard(session, SYSTEM_PRINCIPAL, plan_id)
        session.commit()
    with pytest.raises(Conflict):
        service.finish_plan(county, plan_id, SYSTEM, effort=1)
    with county() as session:
        assert session.get_one(GridPlan, plan_id).status is PlanStatus.DISCARDED
