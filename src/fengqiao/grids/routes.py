"""JSON API for grid plans, staffing and coverage."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, Field, field_validator

from fengqiao.auth import Permission, Principal
from fengqiao.grids import editing, publish, service, staffing, views
from fengqiao.grids.models import GridPlan
from fengqiao.web import DbSession, requires

router = APIRouter(tags=["grid planning"])
Planner = Annotated[Principal, requires(Permission.PLAN_GRIDS)]
Staffer = Annotated[Principal, requires(Permission.MANAGE_STAFFING)]
CoverageReader = Annotated[Principal, requires(Permission.VIEW_COVERAGE)]


class PlanIn(BaseModel):
    station_id: int
    district_id: int | None = None
    cap_urban: int = Field(5000, ge=100, le=100_000)
    cap_rural: int = Field(3000, ge=100, le=100_000)
    seed: int = Field(0, ge=0)
    fresh: bool = False


class PlanOut(BaseModel):
    id: int
    station_id: int
    district_id: int | None
    version: int
    name: str
    status: str
    cap_urban: int
    cap_rural: int
    created_by: str
    created_at: datetime
    published_at: datetime | None


class PlanGridOut(BaseModel):
    id: int
    code: str
    name: str
    continues_code: str | None
    units: int
    population: int
    cap: int
    over_cap: bool
    contiguous: bool
    polsby_popper: float

    @field_validator("polsby_popper")
    @classmethod
    def _four_places(cls, value: float) -> float:
        return round(value, 4)


class PlanDetail(PlanOut):
    grids: list[PlanGridOut]
    lower_bound: int
    max_population: int
    mean_population: float
    mean_polsby_popper: float
    moved_units: int
    moved_population: int
    warnings: list[str]


class MoveIn(BaseModel):
    unit_id: int
    plan_grid_id: int


class MergeIn(BaseModel):
    keep_id: int
    other_id: int


class SplitIn(BaseModel):
    plan_grid_id: int


class PostIn(BaseModel):
    person_id: int


class PublishOut(BaseModel):
    plan_id: int
    kept: list[str]
    created: list[str]
    retired: list[str]
    units_moved: int
    residents_moved: int
    posts_moved: int
    posts_ended: list[str]


class CoverageOut(BaseModel):
    station_code: str
    station_name: str
    grids: int
    population: int
    officers: int
    auxiliaries: int
    grid_workers: int
    residents_per_officer: float | None
    without_officer: list[str]
    without_fixed: list[str]
    overloaded: list[dict[str, Any]]


def _plan_out(plan: GridPlan) -> PlanOut:
    return PlanOut(
        id=plan.id,
        station_id=plan.station_id,
        district_id=plan.district_id,
        version=plan.version,
        name=plan.name,
        status=plan.status.value,
        cap_urban=plan.cap_urban,
        cap_rural=plan.cap_rural,
        created_by=plan.created_by,
        created_at=plan.created_at,
        published_at=plan.published_at,
    )


def _detail(session: DbSession, principal: Principal, plan_id: int) -> PlanDetail:
    view = views.plan_view(session, principal, plan_id)
    return PlanDetail(
        **_plan_out(view.plan).model_dump(),
        grids=[PlanGridOut.model_validate(g, from_attributes=True) for g in view.grids],
        lower_bound=view.lower_bound,
        max_population=view.max_population,
        mean_population=round(view.mean_population, 1),
        mean_polsby_popper=round(view.mean_polsby_popper, 4),
        moved_units=view.moved_units,
        moved_population=view.moved_population,
        warnings=view.warnings,
    )


@router.get("/grid-plans", response_model=list[PlanOut])
def list_plans(
    session: DbSession, principal: Planner, station_id: int | None = None
) -> list[PlanOut]:
    return [_plan_out(p) for p in views.list_plans(session, principal, station_id)]


@router.post("/grid-plans", response_model=PlanDetail, status_code=201)
def create_plan(session: DbSession, principal: Planner, body: PlanIn) -> PlanDetail:
    """Plan the grids of a station or district from its units; stored as a draft."""
    plan = service.create_plan(
        session, principal, **body.model_dump(), effort=4, release_db=session.commit
    )
    return _detail(session, principal, plan.id)


@router.get("/grid-plans/{plan_id}", response_model=PlanDetail)
def get_plan(session: DbSession, principal: Planner, plan_id: int) -> PlanDetail:
    return _detail(session, principal, plan_id)


@router.get("/grid-plans/{plan_id}/units.geojson")
def plan_units(session: DbSession, principal: Planner, plan_id: int) -> dict[str, Any]:
    """The plan's units (WGS-84) with the plan grid each belongs to."""
    return views.units_geojson(session, principal, plan_id)


@router.post("/grid-plans/{plan_id}/moves", response_model=PlanDetail)
def move_unit(session: DbSession, principal: Planner, plan_id: int, body: MoveIn) -> PlanDetail:
    editing.move_unit(session, principal, plan_id, **body.model_dump())
    return _detail(session, principal, plan_id)


@router.post("/grid-plans/{plan_id}/merge", response_model=PlanDetail)
def merge(session: DbSession, principal: Planner, plan_id: int, body: MergeIn) -> PlanDetail:
    editing.merge_grids(session, principal, plan_id, **body.model_dump())
    return _detail(session, principal, plan_id)


@router.post("/grid-plans/{plan_id}/split", response_model=PlanDetail)
def split(session: DbSession, principal: Planner, plan_id: int, body: SplitIn) -> PlanDetail:
    editing.split_grid(session, principal, plan_id, plan_grid_id=body.plan_grid_id)
    return _detail(session, principal, plan_id)


@router.post("/grid-plans/{plan_id}/versions", response_model=PlanOut, status_code=201)
def new_version(session: DbSession, principal: Planner, plan_id: int) -> PlanOut:
    return _plan_out(editing.new_version(session, principal, plan_id))


@router.post("/grid-plans/{plan_id}/publish", response_model=PublishOut)
def publish_plan(session: DbSession, principal: Planner, plan_id: int) -> PublishOut:
    """Make the plan the active layout; changed grids get new rows, old rows are retired."""
    result = publish.publish(session, principal, plan_id)
    return PublishOut(**result.__dict__)


@router.post("/grid-plans/{plan_id}/discard", status_code=204)
def discard(session: DbSession, principal: Planner, plan_id: int) -> None:
    editing.discard(session, principal, plan_id)


@router.get("/grids/coverage", response_model=list[CoverageOut])
def coverage(
    session: DbSession, principal: CoverageReader, max_grids: int = 2
) -> list[CoverageOut]:
    return [
        CoverageOut(
            station_code=c.code,
            station_name=c.name,
            grids=c.grids,
            population=c.population,
            officers=c.officers,
            auxiliaries=c.auxiliaries,
            grid_workers=c.grid_workers,
            residents_per_officer=c.residents_per_officer,
            without_officer=c.without_officer,
            without_fixed=c.without_fixed,
            overloaded=[o.__dict__ for o in c.overloaded],
        )
        for c in staffing.coverage(session, principal, max_grids=max_grids)
    ]


@router.post("/grids/{grid_id}/staff", status_code=201)
def add_post(session: DbSession, principal: Staffer, grid_id: int, body: PostIn) -> dict[str, str]:
    """Post a person on the grid; a new fixed officer or auxiliary replaces the one before."""
    return {
        "message": staffing.assign_post(session, principal, grid_id=grid_id, **body.model_dump())
    }


@router.delete("/grids/{grid_id}/staff/{person_id}", status_code=204)
def remove_post(session: DbSession, principal: Staffer, grid_id: int, person_id: int) -> None:
    staffing.remove_post(session, principal, grid_id=grid_id, person_id=person_id)
