"""API shapes for the organisation."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class PersonRef(BaseModel):
    id: int
    personnel_no: str
    name: str
    kind: str
    phone_masked: str


class GridOut(BaseModel):
    id: int
    code: str
    name: str
    kind: str
    population: int
    places: list[str]
    district_code: str
    district_name: str
    station_id: int
    station_code: str
    station_name: str
    officer: PersonRef | None
    auxiliary: PersonRef | None
    grid_workers: list[PersonRef]
    volunteers: list[PersonRef]
    civil_grids: list[str]


class StationOut(BaseModel):
    id: int
    code: str
    name: str
    kind: str
    joint_station: str | None
    districts: int
    grids: int
    population: int


class PersonOut(BaseModel):
    id: int
    personnel_no: str
    name: str
    kind: str
    team: str | None
    position: str | None
    station_code: str
    station_name: str
    phone_masked: str
    duty_status: str
    grids: list[str]
    lon: float | None
    lat: float | None


class FeatureCollection(BaseModel):
    type: str = "FeatureCollection"
    features: list[dict[str, Any]]
