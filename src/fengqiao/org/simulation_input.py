"""The stations and grids in the database as input of the response simulation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from shapely import centroid
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fengqiao.analytics.simulation import GridSpec, StationSpec, project_lonlat
from fengqiao.org.models import (
    AreaKind,
    JointStation,
    Person,
    PersonKind,
    PoliceDistrict,
    PoliceGrid,
    Station,
    Team,
)


@dataclass(frozen=True)
class SimulationArea:
    stations: list[StationSpec]
    grids: list[GridSpec]
    county_x_m: float
    county_y_m: float


def simulation_area(session: Session) -> SimulationArea:
    """Stations at the centroid of their grids, staffed by their community teams; the county
    reserve at the urban station (the county seat) or, without one, at the area's centre."""
    rows = session.execute(
        select(PoliceGrid.code, PoliceGrid.population, PoliceGrid.geometry, Station.code)
        .join(PoliceDistrict, PoliceDistrict.id == PoliceGrid.district_id)
        .join(Station, Station.id == PoliceDistrict.station_id)
        .where(PoliceGrid.active())
        .order_by(PoliceGrid.code)
    ).all()
    if not rows:
        return SimulationArea([], [], 0.0, 0.0)
    points = [centroid(r[2]) for r in rows]
    lon = np.array([p.x for p in points])
    lat = np.array([p.y for p in points])
    lon0, lat0 = float(lon.mean()), float(lat.mean())
    xs, ys = project_lonlat(lon, lat, lon0, lat0)
    grids = [
        GridSpec(code=r[0], station_code=r[3], x_m=float(x), y_m=float(y), population=r[1])
        for r, x, y in zip(rows, xs, ys, strict=True)
    ]
    staff = dict(
        session.execute(
            select(Station.code, func.count(Person.id))
            .join(Person, Person.station_id == Station.id)
            .where(
                Person.team == Team.COMMUNITY,
                Person.kind.in_([PersonKind.OFFICER, PersonKind.AUXILIARY]),
            )
            .group_by(Station.code)
        ).all()
    )
    stations = []
    county = (0.0, 0.0)
    for station, joint_code in session.execute(
        select(Station, JointStation.code)
        .outerjoin(JointStation, JointStation.id == Station.joint_station_id)
        .order_by(Station.code)
    ):
        own = [g for g in grids if g.station_code == station.code]
        if not own:
            continue
        x = float(np.mean([g.x_m for g in own]))
        y = float(np.mean([g.y_m for g in own]))
        stations.append(
            StationSpec(
                code=station.code,
                x_m=x,
                y_m=y,
                officers=max(int(staff.get(station.code, 0)), 1),
                joint_code=joint_code,
                kind=station.kind.value,
            )
        )
        if station.kind is AreaKind.URBAN:
            county = (x, y)
    return SimulationArea(stations, grids, *county)
