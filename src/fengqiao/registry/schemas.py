"""Request and response bodies of the registry API. Personal numbers leave the server
masked; only the reveal endpoint answers with them in full."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, Field

from fengqiao.errors import InvalidInput
from fengqiao.i18n import N_, _, gettext
from fengqiao.privacy import mask_id_number, mask_name, mask_phone
from fengqiao.registry.models import (
    Address,
    AddressLevel,
    Attachment,
    AttachmentKind,
    DuplicateFlag,
    Establishment,
    EstablishmentKind,
    House,
    HouseUse,
    RecordStatus,
    RegistryChange,
    Resident,
    ResidentKind,
)

# --- requests --------------------------------------------------------------------------


class AddressIn(BaseModel):
    text: str = Field(min_length=1, max_length=200)
    lon: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)
    station_id: int | None = None
    task_id: int | None = None


class PositionIn(BaseModel):
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    task_id: int | None = None


class ResidentIn(BaseModel):
    name: str = Field(min_length=1, max_length=50)
    kind: ResidentKind
    address_id: int
    id_number: str | None = Field(None, max_length=30)
    phone: str | None = Field(None, max_length=30)
    note: str = Field("", max_length=2000)
    task_id: int | None = None


class ResidentPatch(BaseModel):
    """Only the fields sent are changed."""

    name: str | None = Field(None, min_length=1, max_length=50)
    kind: ResidentKind | None = None
    address_id: int | None = None
    id_number: str | None = Field(None, max_length=30)
    phone: str | None = Field(None, max_length=30)
    note: str | None = Field(None, max_length=2000)
    status: RecordStatus | None = None
    task_id: int | None = None

    def values(self) -> dict[str, Any]:
        sent = self.model_dump(exclude_unset=True, exclude={"task_id"})
        return {k: (v.value if hasattr(v, "value") else v) for k, v in sent.items()}


class RevealIn(BaseModel):
    reason: str = Field(max_length=200)


class HouseIn(BaseModel):
    address_id: int
    use: HouseUse
    owner_id: int | None = None
    note: str = Field("", max_length=2000)
    task_id: int | None = None


class EstablishmentIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    kind: EstablishmentKind
    address_id: int
    key_place: bool | None = None
    inspection_every_days: int | None = None
    contact_name: str | None = Field(None, max_length=50)
    contact_phone: str | None = Field(None, max_length=30)
    credit_code: str | None = Field(None, max_length=18)
    task_id: int | None = None


class MergeIn(BaseModel):
    keep_id: int


# --- responses -------------------------------------------------------------------------


class AddressOut(BaseModel):
    id: int
    parent_id: int | None
    level: AddressLevel
    name: str
    full_name: str
    station_id: int
    grid_id: int | None
    lon: float | None
    lat: float | None
    code: str
    status: RecordStatus


class AddressHit(BaseModel):
    id: int
    full_name: str
    level: AddressLevel
    grid_id: int | None
    code: str


class AddressCreated(BaseModel):
    address: AddressOut
    created: list[int]


class ResidentOut(BaseModel):
    """A person with masked numbers."""

    id: int
    name: str
    kind: ResidentKind
    address_id: int
    address: str
    phone: str
    id_number: str
    grid_id: int | None
    status: RecordStatus
    note: str


class RevealedOut(BaseModel):
    id: int
    name: str
    id_number: str | None
    phone: str | None


class HouseOut(BaseModel):
    id: int
    address_id: int
    use: HouseUse
    owner_id: int | None
    note: str
    updated_at: datetime


class EstablishmentHit(BaseModel):
    id: int
    name: str
    kind: EstablishmentKind
    key_place: bool
    address_id: int


class EstablishmentOut(EstablishmentHit):
    inspection_every_days: int | None
    last_inspected_at: datetime | None
    grid_id: int | None
    contact_name: str
    contact_phone: str
    credit_code: str | None
    status: RecordStatus


class AttachmentOut(BaseModel):
    id: int
    kind: AttachmentKind
    content_type: str
    width: int | None
    height: int | None
    size_bytes: int
    caption: str
    task_id: int | None
    created_at: datetime


class ChangeOut(BaseModel):
    object_type: str
    object_id: int
    action: str
    changes: dict[str, Any]
    task_id: int | None
    person_id: int | None
    person_name: str | None
    at: datetime


class FlagOut(BaseModel):
    id: int
    object_type: str
    score: float
    reason: str
    first: ResidentOut | AddressOut
    second: ResidentOut | AddressOut


class AddressCard(BaseModel):
    address: AddressOut
    ancestors: list[AddressOut]
    children: list[AddressOut]
    residents: list[ResidentOut]
    house: HouseOut | None
    establishments: list[EstablishmentOut]
    attachments: list[AttachmentOut]
    history: list[ChangeOut]
    duplicates: list[FlagOut]


class SearchOut(BaseModel):
    mode: str
    residents: list[ResidentOut]
    addresses: list[AddressHit]
    establishments: list[EstablishmentHit]


# --- conversions -----------------------------------------------------------------------


def address_out(address: Address) -> AddressOut:
    return AddressOut.model_validate(address, from_attributes=True)


def resident_out(person: Resident, address: str = "") -> ResidentOut:
    return ResidentOut(
        id=person.id,
        name=person.name,
        kind=person.kind,
        address_id=person.address_id,
        address=address,
        phone=mask_phone(person.phone),
        id_number=mask_id_number(person.id_number),
        grid_id=person.grid_id,
        status=person.status,
        note=person.note,
    )


def house_out(house: House | None) -> HouseOut | None:
    return None if house is None else HouseOut.model_validate(house, from_attributes=True)


def establishment_out(unit: Establishment) -> EstablishmentOut:
    return EstablishmentOut(
        id=unit.id,
        name=unit.name,
        kind=unit.kind,
        key_place=unit.key_place,
        address_id=unit.address_id,
        inspection_every_days=unit.inspection_every_days,
        last_inspected_at=unit.last_inspected_at,
        grid_id=unit.grid_id,
        contact_name=mask_name(unit.contact_name),
        contact_phone=mask_phone(unit.contact_phone),
        credit_code=unit.credit_code,
        status=unit.status,
    )


def attachment_out(row: Attachment) -> AttachmentOut:
    return AttachmentOut.model_validate(row, from_attributes=True)


def change_out(row: RegistryChange, person_name: str | None) -> ChangeOut:
    return ChangeOut(
        object_type=row.object_type,
        object_id=row.object_id,
        action=row.action,
        changes=row.changes,
        task_id=row.task_id,
        person_id=row.person_id,
        person_name=person_name,
        at=row.at,
    )


def flag_out(
    flag: DuplicateFlag, first: ResidentOut | AddressOut, second: ResidentOut | AddressOut
) -> FlagOut:
    return FlagOut(
        id=flag.id,
        object_type=flag.object_type,
        score=flag.score,
        reason=flag.reason,
        first=first,
        second=second,
    )


# --- page labels and form fields (HTML pages) ------------------------------------------

E = TypeVar("E", bound=enum.Enum)

LABELS: dict[str, str] = {
    # people
    "registered": N_("Registered resident"),
    "floating": N_("Floating population"),
    "tenant": N_("Tenant"),
    "active": N_("Active"),
    "moved_out": N_("Moved out"),
    "merged": N_("Merged"),
    # houses
    "owner_occupied": N_("Owner-occupied"),
    "rented": N_("Rented out"),
    "empty": N_("Empty"),
    # address levels
    "district": N_("District"),
    "street": N_("Street or town"),
    "community": N_("Community or village"),
    "road": N_("Road or compound"),
    "number": N_("Door number"),
    "building": N_("Building"),
    "unit": N_("Stairway unit"),
    "room": N_("Room"),
    # units
    "school": N_("School"),
    "kindergarten": N_("Kindergarten"),
    "hotel": N_("Hotel"),
    "internet_cafe": N_("Internet café"),
    "construction_site": N_("Construction site"),
    "hospital": N_("Hospital"),
    "financial": N_("Financial institution"),
    "entertainment": N_("Entertainment venue"),
    "hazardous_goods": N_("Hazardous goods"),
    "shop": N_("Shop"),
    "restaurant": N_("Restaurant"),
    "factory": N_("Factory"),
    "office": N_("Office"),
    "other": N_("Other"),
    # provenance and duplicates
    "create": N_("Created"),
    "update": N_("Changed"),
    "merge": N_("Merged"),
    "attach": N_("File added"),
    "same_id_number": N_("Same ID number"),
    "same_phone": N_("Similar name, same phone"),
    "same_address": N_("Similar name, same address"),
    "similar_name": N_("Similar name"),
    "photo": N_("Photo"),
    "voice": N_("Voice note"),
}


def registry_label(value: Any) -> str:
    key = value.value if hasattr(value, "value") else str(value)
    return gettext(LABELS.get(key, key))


# --- page labels and form fields ----------------------------------------------------------------------


def form_int(value: str, what: str) -> int | None:
    text = value.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise InvalidInput(_("{what} must be a whole number.").format(what=what)) from None


def form_float(value: str, what: str) -> float | None:
    text = value.strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise InvalidInput(_("{what} must be a number.").format(what=what)) from None


def form_choice(cls: type[E], value: str) -> E:
    try:
        return cls(value)
    except ValueError:
        raise InvalidInput(_("“{value}” is not one of the choices.").format(value=value)) from None
