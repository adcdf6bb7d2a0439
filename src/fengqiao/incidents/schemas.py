"""API shapes for incidents and dispatch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from fengqiao.incidents.models import Channel, Disposition, Priority


class IncidentIn(BaseModel):
    channel: Channel
    category_code: str = Field(min_length=2, max_length=8, examples=["0601"])
    priority: Priority | None = None
    description: str = Field(default="", max_length=2000)
    address: str | None = Field(default=None, max_length=200)
    reporter_name: str | None = Field(default=None, max_length=50)
    reporter_phone: str | None = Field(default=None, max_length=20, pattern=r"^[0-9+\-]{3,20}$")
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    received_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _point_or_address(self) -> IncidentIn:
        if (self.lon is None) != (self.lat is None):
            raise ValueError("give both lon and lat, or neither")
        if self.lon is None and not self.address:
            raise ValueError("give a location: lon and lat, or an address")
        if self.received_at is not None and self.received_at > datetime.now(UTC) + timedelta(
            minutes=5
        ):
            raise ValueError("received_at lies in the future")
        return self


class PersonBrief(BaseModel):
    id: int
    name: str
    personnel_no: str
    status: str


class AssignmentOut(BaseModel):
    id: int
    incident_id: int
    person: PersonBrief
    status: str
    dispatched_at: datetime
    accepted_at: datetime | None
    arrived_at: datetime | None
    released_at: datetime | None


class TimelineEntry(BaseModel):
    at: datetime
    kind: str
    status: str | None
    person: str | None
    text: str


class ReinforcementOut(BaseModel):
    order_id: int
    station: str
    requested: int
    sent: int
    answer: str
    ordered_at: datetime
    answered_at: datetime | None
    first_arrival_at: datetime | None
    minutes_to_arrival: float | None


class IncidentOut(BaseModel):
    id: int
    number: str
    channel: Channel
    category_code: str
    category_name: str
    priority: Priority
    status: str
    description: str
    address: str | None
    reporter_name_masked: str
    reporter_phone_masked: str
    lon: float | None
    lat: float | None
    grid_code: str | None
    station_code: str | None
    responsible_person: str | None
    needs_attention: bool
    disposition: Disposition | None
    received_at: datetime
    dispatched_at: datetime | None
    accepted_at: datetime | None
    arrived_at: datetime | None
    handled_at: datetime | None
    closed_at: datetime | None
    assignments: list[AssignmentOut] = []
    timeline: list[TimelineEntry] = []
    reinforcements: list[ReinforcementOut] = []
    linked_case: str | None = None
    linked_dispute: str | None = None


class DispatchIn(BaseModel):
    person_id: int
    note: str = Field(default="", max_length=500)


class CloseIn(BaseModel):
    disposition: Disposition
    note: str = Field(default="", max_length=2000)


class ReinforcementIn(BaseModel):
    per_team: int = Field(ge=1, le=20)


class PositionIn(BaseModel):
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
