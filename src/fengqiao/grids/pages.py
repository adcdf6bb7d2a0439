"""HTML pages: grid plans (make, edit with live figures, publish), staffing and coverage."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from fengqiao.auth import Permission, Principal
from fengqiao.errors import DomainError
from fengqiao.grids import editing, publish, service, staffing, views
from fengqiao.grids.models import PlanStatus
from fengqiao.org import service as org
from fengqiao.web import DbSession, render, requires

router = APIRouter(include_in_schema=False)
WEB_EFFORT = 4  # constructions per area when planning inside a request (the CLI uses 8)
Planner = Annotated[Principal, requires(Permission.PLAN_GRIDS)]
Staffer = Annotated[Principal, requires(Permission.MANAGE_STAFFING)]
CoverageReader = Annotated[Principal, requires(Permission.VIEW_COVERAGE)]


def _plans_page(
    request: Request, session: DbSession, principal: Principal, error: str | None = None
) -> Response:
    return render(
        request,
        "grids/plans.html",
        status_code=422 if error else 200,
        plans=views.list_plans(session, principal),
        stations=org.list_stations(session, principal),
        districts=views.list_districts(session, principal),
        error=error,
    )


@router.get("/grids/plans")
def plans(request: Request, session: DbSession, principal: Planner) -> Response:
    return _plans_page(request, session, principal)


@router.post("/grids/plans")
def create_plan(
    request: Request,
    session: DbSession,
    principal: Planner,
    scope: Annotated[str, Form()],
    cap_urban: Annotated[int, Form()] = 5000,
    cap_rural: Annotated[int, Form()] = 3000,
    seed: Annotated[int, Form()] = 0,
    fresh: Annotated[bool, Form()] = False,
) -> Response:
    """``scope`` is ``station:<id>`` or ``district:<id>``."""
    try:
        station_id, district_id = service.parse_scope(session, scope)
        plan = service.start_plan(
            session,
            principal,
            station_id=station_id,
            district_id=district_id,
            cap_urban=cap_urban,
            cap_rural=cap_rural,
            seed=seed,
            fresh=fresh,
        )
    except DomainError as exc:
        session.rollback()
        return _plans_page(request, session, principal, exc.message)
    session.commit()  # the planner's thread reads the plan row
    threading.Thread(
        target=service.finish_plan,
        args=(request.app.state.sessionmaker, plan.id, principal.actor),
        kwargs={"effort": WEB_EFFORT},
        name=f"grid-plan-{plan.id}",
        daemon=True,
    ).start()
    return RedirectResponse(f"/grids/plans/{plan.id}", status_code=303)


def _editor(
    request: Request,
    session: DbSession,
    principal: Principal,
    plan_id: int,
    *,
    error: str | None = None,
    notice: str | None = None,
    partial: bool = False,
) -> Response:
    view = views.plan_view(session, principal, plan_id)
    response = render(
        request,
        "grids/_changed.html" if partial else "grids/plan.html",
        status_code=422 if error and not partial else 200,
        view=view,
        error=error,
        notice=notice,
    )
    if partial:
        response.headers["HX-Trigger"] = "plan-changed"
    return response


def _edit(
    request: Request,
    session: DbSession,
    principal: Principal,
    plan_id: int,
    change: Callable[[], object],
) -> Response:
    """Apply one edit and answer with the refreshed figures (or the reason it was refused)."""
    try:
        change()
    except DomainError as exc:
        session.rollback()
        return _editor(request, session, principal, plan_id, error=exc.message, partial=True)
    return _editor(request, session, principal, plan_id, partial=True)


@router.get("/grids/plans/{plan_id}")
def plan_page(request: Request, session: DbSession, principal: Planner, plan_id: int) -> Response:
    return _editor(request, session, principal, plan_id)


@router.get("/grids/plans/{plan_id}/progress")
def plan_progress(
    request: Request, session: DbSession, principal: Planner, plan_id: int
) -> Response:
    """The planner's progress; once it is done, the page reloads itself."""
    plan = service.get_plan_or_raise(session, principal, plan_id)
    response = render(request, "grids/_progress.html", plan=plan)
    if plan.status is not PlanStatus.PLANNING:
        response.headers["HX-Refresh"] = "true"
    return response


@router.post("/grids/plans/{plan_id}/move")
def move_unit(
    request: Request,
    session: DbSession,
    principal: Planner,
    plan_id: int,
    unit_id: Annotated[int, Form()],
    plan_grid_id: Annotated[int, Form()],
) -> Response:
    return _edit(
        request,
        session,
        principal,
        plan_id,
        lambda: editing.move_unit(
            session, principal, plan_id, unit_id=unit_id, plan_grid_id=plan_grid_id
        ),
    )


@router.post("/grids/plans/{plan_id}/merge")
def merge(
    request: Request,
    session: DbSession,
    principal: Planner,
    plan_id: int,
    keep_id: Annotated[int, Form()],
    other_id: Annotated[int, Form()],
) -> Response:
    return _edit(
        request,
        session,
        principal,
        plan_id,
        lambda: editing.merge_grids(
            session, principal, plan_id, keep_id=keep_id, other_id=other_id
        ),
    )


@router.post("/grids/plans/{plan_id}/split")
def split(
    request: Request,
    session: DbSession,
    principal: Planner,
    plan_id: int,
    plan_grid_id: Annotated[int, Form()],
) -> Response:
    return _edit(
        request,
        session,
        principal,
        plan_id,
        lambda: editing.split_grid(session, principal, plan_id, plan_grid_id=plan_grid_id),
    )


@router.post("/grids/plans/{plan_id}/versions")
def copy_plan(request: Request, session: DbSession, principal: Planner, plan_id: int) -> Response:
    plan = editing.new_version(session, principal, plan_id)
    return RedirectResponse(f"/grids/plans/{plan.id}", status_code=303)


@router.post("/grids/plans/{plan_id}/discard")
def discard(request: Request, session: DbSession, principal: Planner, plan_id: int) -> Response:
    editing.discard(session, principal, plan_id)
    return RedirectResponse("/grids/plans", status_code=303)


@router.post("/grids/plans/{plan_id}/publish")
def publish_plan(
    request: Request, session: DbSession, principal: Planner, plan_id: int
) -> Response:
    try:
        result = publish.publish(session, principal, plan_id)
    except DomainError as exc:
        session.rollback()
        return _editor(request, session, principal, plan_id, error=exc.message)
    return _editor(request, session, principal, plan_id, notice=result.summary())


@router.get("/grids/coverage")
def coverage(
    request: Request, session: DbSession, principal: CoverageReader, max_grids: int = 2
) -> Response:
    rows = staffing.coverage(session, principal, max_grids=max_grids)
    return render(request, "grids/coverage.html", rows=rows, max_grids=max_grids)


def _staff_page(
    request: Request,
    session: DbSession,
    principal: Principal,
    grid_id: int,
    *,
    error: str | None = None,
    notice: str | None = None,
) -> Response:
    grid = org.get_grid_or_raise(session, principal, grid_id)
    people = org.list_personnel(session, principal, station_id=grid.station_id)
    serving = {p.id for p in [grid.officer, grid.auxiliary, *grid.grid_workers] if p}
    return render(
        request,
        "grids/staff.html",
        status_code=422 if error else 200,
        grid=grid,
        candidates=[p for p in people if p.id not in serving],
        error=error,
        notice=notice,
    )


@router.get("/grids/{grid_id}/staff")
def staff_page(request: Request, session: DbSession, principal: Staffer, grid_id: int) -> Response:
    return _staff_page(request, session, principal, grid_id)


@router.post("/grids/{grid_id}/staff")
def add_post(
    request: Request,
    session: DbSession,
    principal: Staffer,
    grid_id: int,
    person_id: Annotated[int, Form()],
) -> Response:
    try:
        notice = staffing.assign_post(session, principal, grid_id=grid_id, person_id=person_id)
    except DomainError as exc:
        session.rollback()
        return _staff_page(request, session, principal, grid_id, error=exc.message)
    return _staff_page(request, session, principal, grid_id, notice=notice)


@router.post("/grids/{grid_id}/staff/{person_id}/remove")
def remove_post(
    request: Request, session: DbSession, principal: Staffer, grid_id: int, person_id: int
) -> Response:
    staffing.remove_post(session, principal, grid_id=grid_id, person_id=person_id)
    return RedirectResponse(f"/grids/{grid_id}/staff", status_code=303)
