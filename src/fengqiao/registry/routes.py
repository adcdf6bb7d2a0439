"""JSON API of the registry (一标三实): search, addresses and their cards, people, houses,
units, photos and voice notes, duplicates. Numbers are masked unless revealed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Response, UploadFile
from sqlalchemy.orm import Session

from fengqiao.auth import Permission, Principal
from fengqiao.errors import DomainError, NotFound
from fengqiao.i18n import _
from fengqiao.registry import addresses, attachments, duplicates, people, search
from fengqiao.registry import service as registry
from fengqiao.registry.models import (
    Address,
    AttachmentKind,
    DuplicateFlag,
    RegistryChange,
    Resident,
)
from fengqiao.registry.schemas import (
    AddressCard,
    AddressCreated,
    AddressHit,
    AddressIn,
    AddressOut,
    AttachmentOut,
    ChangeOut,
    EstablishmentHit,
    EstablishmentIn,
    EstablishmentOut,
    FlagOut,
    HouseIn,
    HouseOut,
    MergeIn,
    PositionIn,
    ResidentIn,
    ResidentOut,
    ResidentPatch,
    RevealedOut,
    RevealIn,
    SearchOut,
    address_out,
    attachment_out,
    change_out,
    establishment_out,
    flag_out,
    house_out,
    resident_out,
)
from fengqiao.web import CurrentPrincipal, DbSession, requires

router = APIRouter(tags=["registry"])
Reader = Annotated[Principal, requires(Permission.VIEW_REGISTRY)]
Editor = Annotated[Principal, requires(Permission.EDIT_REGISTRY)]
Revealer = Annotated[Principal, requires(Permission.REVEAL_PERSONAL)]
Merger = Annotated[Principal, requires(Permission.MERGE_RECORDS)]
FILE_CACHE = "private, max-age=3600"


# --- views shared with the pages -------------------------------------------------------


def address_name(session: Session, address_id: int) -> str:
    address = session.get(Address, address_id)
    return address.full_name if address is not None else ""


def resident_view(
    session: Session, person: Resident, names: dict[int, str] | None = None
) -> ResidentOut:
    name = names.get(person.address_id) if names is not None else None
    return resident_out(
        person, name if name is not None else address_name(session, person.address_id)
    )


def history_view(session: Session, rows: list[RegistryChange]) -> list[ChangeOut]:
    names = registry.person_names(session, {r.person_id for r in rows if r.person_id is not None})
    return [change_out(row, names.get(row.person_id) if row.person_id else None) for row in rows]


def flag_views(session: Session, principal: Principal, flags: list[DuplicateFlag]) -> list[FlagOut]:
    """The flags with both records (masked); pairs outside the principal's reach are left
    out."""
    out = []
    for flag in flags:
        try:
            if flag.object_type == "resident":
                # Both people are shown: each read is audited like a card.
                first: ResidentOut | AddressOut = resident_view(
                    session, people.read_resident(session, principal, flag.first_id)
                )
                second: ResidentOut | AddressOut = resident_view(
                    session, people.read_resident(session, principal, flag.second_id)
                )
            else:
                first = address_out(addresses.get_address(session, principal, flag.first_id))
                second = address_out(addresses.get_address(session, principal, flag.second_id))
        except DomainError:
            continue
        out.append(flag_out(flag, first, second))
    return out


def address_card(session: Session, principal: Principal, address_id: int) -> AddressCard:
    """Everything known at an address; the read is audited."""
    address = addresses.get_address(session, principal, address_id)
    registry.audit_read(session, principal, object_type="address", object_id=address.id)
    children = addresses.children(session, address)
    residents = people.residents_at(session, principal, address)
    names = people.address_names(session, {p.address_id for p in residents})
    house = people.house_at(session, address)
    history = registry.history(session, "address", address.id)
    if house is not None:
        history += registry.history(session, "house", house.id)
        history.sort(key=lambda row: (row.at, row.id), reverse=True)
    flagged_addresses = {address.id, *(c.id for c in children)}
    flagged_people = {p.id for p in residents}
    flags = [
        f
        for f in duplicates.list_flags(session, principal)
        if (f.object_type == "address" and {f.first_id, f.second_id} & flagged_addresses)
        or (f.object_type == "resident" and {f.first_id, f.second_id} & flagged_people)
    ]
    return AddressCard(
        address=address_out(address),
        ancestors=[address_out(a) for a in addresses.ancestors(session, address)],
        children=[address_out(c) for c in children],
        residents=[resident_view(session, p, names) for p in residents],
        house=house_out(house),
        establishments=[
            establishment_out(u) for u in people.establishments_at(session, principal, address)
        ],
        attachments=[
            attachment_out(a) for a in attachments.list_attachments(session, "address", address.id)
        ],
        history=history_view(session, history),
        duplicates=flag_views(session, principal, flags),
    )


def read_establishment(session: Session, principal: Principal, unit_id: int) -> EstablishmentOut:
    unit = people.get_establishment(session, principal, unit_id)
    registry.audit_read(session, principal, object_type="establishment", object_id=unit.id)
    return establishment_out(unit)


# --- search and addresses --------------------------------------------------------------


@router.get("/registry/search", response_model=SearchOut)
def search_registry(
    session: DbSession,
    principal: Reader,
    q: Annotated[str, Query(max_length=200)] = "",
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
) -> SearchOut:
    """搜一搜: a name or address fragment, pinyin initials, a phone tail or an ID number."""
    return search_view(search.search(session, principal, q, limit=limit))


def search_view(found: search.SearchResults) -> SearchOut:
    return SearchOut(
        mode=found.mode,
        residents=[
            resident_out(p, found.resident_addresses.get(p.address_id, "")) for p in found.residents
        ],
        addresses=[AddressHit.model_validate(a, from_attributes=True) for a in found.addresses],
        establishments=[
            EstablishmentHit.model_validate(u, from_attributes=True) for u in found.establishments
        ],
    )


@router.post("/registry/addresses", response_model=AddressCreated, status_code=201)
def add_address(
    session: DbSession, principal: Editor, body: AddressIn, response: Response
) -> AddressCreated:
    """Find or create the address of a text; nothing is created for a known address."""
    result = addresses.add_address(session, principal, **body.model_dump())
    if not result.created:
        response.status_code = 200
    return AddressCreated(
        address=address_out(result.address), created=[a.id for a in result.created]
    )


@router.get("/registry/addresses/by-code/{code}", response_model=AddressCard)
def address_by_code(session: DbSession, principal: Reader, code: str) -> AddressCard:
    """The card of a scanned doorplate."""
    address = addresses.address_by_code(session, principal, code)
    return address_card(session, principal, address.id)


@router.get("/registry/addresses/{address_id}", response_model=AddressCard)
def get_address(session: DbSession, principal: Reader, address_id: int) -> AddressCard:
    return address_card(session, principal, address_id)


@router.patch("/registry/addresses/{address_id}/position", response_model=AddressOut)
def set_position(
    session: DbSession, principal: Editor, address_id: int, body: PositionIn
) -> AddressOut:
    return address_out(addresses.set_position(session, principal, address_id, **body.model_dump()))


# --- people, houses, units -------------------------------------------------------------


@router.post("/registry/residents", response_model=ResidentOut, status_code=201)
def add_resident(session: DbSession, principal: Editor, body: ResidentIn) -> ResidentOut:
    return resident_view(session, people.add_resident(session, principal, **body.model_dump()))


@router.get("/registry/residents/{resident_id}", response_model=ResidentOut)
def get_resident(session: DbSession, principal: Reader, resident_id: int) -> ResidentOut:
    return resident_view(session, people.read_resident(session, principal, resident_id))


@router.patch("/registry/residents/{resident_id}", response_model=ResidentOut)
def update_resident(
    session: DbSession, principal: Editor, resident_id: int, body: ResidentPatch
) -> ResidentOut:
    person = people.update_resident(
        session, principal, resident_id, values=body.values(), task_id=body.task_id
    )
    return resident_view(session, person)


@router.post("/registry/residents/{resident_id}/reveal", response_model=RevealedOut)
def reveal_resident(
    session: DbSession, principal: Revealer, resident_id: int, body: RevealIn
) -> RevealedOut:
    """The full numbers, with a reason; audited."""
    person = people.reveal_resident(session, principal, resident_id, reason=body.reason)
    return RevealedOut(
        id=person.id, name=person.name, id_number=person.id_number, phone=person.phone
    )


@router.put("/registry/houses", response_model=HouseOut)
def set_house(session: DbSession, principal: Editor, body: HouseIn) -> HouseOut:
    house = house_out(people.set_house(session, principal, **body.model_dump()))
    assert house is not None
    return house


@router.post("/registry/establishments", response_model=EstablishmentOut, status_code=201)
def add_establishment(
    session: DbSession, principal: Editor, body: EstablishmentIn
) -> EstablishmentOut:
    data = people.EstablishmentInput(**body.model_dump(exclude={"task_id"}))
    return establishment_out(
        people.add_establishment(session, principal, data, task_id=body.task_id)
    )


@router.get("/registry/establishments/{unit_id}", response_model=EstablishmentOut)
def get_establishment(session: DbSession, principal: Reader, unit_id: int) -> EstablishmentOut:
    return read_establishment(session, principal, unit_id)


# --- photos and voice notes ------------------------------------------------------------


@router.post("/registry/attachments", response_model=AttachmentOut, status_code=201)
def add_attachment(
    session: DbSession,
    principal: Editor,
    response: Response,
    object_type: Annotated[str, Form()],
    object_id: Annotated[int, Form()],
    kind: Annotated[AttachmentKind, Form()],
    file: Annotated[UploadFile, File()],
    caption: Annotated[str, Form(max_length=200)] = "",
    task_id: Annotated[int | None, Form()] = None,
    client_key: Annotated[str | None, Form(max_length=64)] = None,
) -> AttachmentOut:
    """拍一拍 / 说一说: a photo (resized on the server) or a voice note. Sending the same
    ``client_key`` again answers 200 with the stored file."""
    repeat = attachments.by_client_key(session, client_key) is not None
    row = attachments.add_attachment(
        session,
        principal,
        object_type=object_type,
        object_id=object_id,
        kind=kind,
        raw=attachments.read_upload(file.file),
        filename=file.filename or "",
        caption=caption,
        task_id=task_id,
        client_key=client_key,
    )
    if repeat:
        response.status_code = 200
    return attachment_out(row)


@router.get("/attachments/{attachment_id}", response_class=Response)
def get_attachment(session: DbSession, principal: CurrentPrincipal, attachment_id: int) -> Response:
    """The stored file (a registry record's or a task's evidence), if in scope."""
    row = attachments.get_attachment(session, principal, attachment_id)
    return Response(row.data, media_type=row.content_type, headers={"Cache-Control": FILE_CACHE})


@router.get("/attachments/{attachment_id}/thumbnail", response_class=Response)
def get_thumbnail(session: DbSession, principal: CurrentPrincipal, attachment_id: int) -> Response:
    row = attachments.get_attachment(session, principal, attachment_id)
    if row.thumbnail is None:
        raise NotFound(_("File {id} has no thumbnail.").format(id=attachment_id))
    return Response(row.thumbnail, media_type="image/jpeg", headers={"Cache-Control": FILE_CACHE})


# --- duplicates ------------------------------------------------------------------------


@router.get("/registry/duplicates", response_model=list[FlagOut])
def list_duplicates(session: DbSession, principal: Reader) -> list[FlagOut]:
    """Open flags of likely duplicates, with both records."""
    return flag_views(session, principal, duplicates.list_flags(session, principal))


@router.post("/registry/duplicates/{flag_id}/merge", response_model=dict[str, int | str])
def merge_duplicates(
    session: DbSession, principal: Merger, flag_id: int, body: MergeIn
) -> dict[str, int | str]:
    flag = duplicates.merge(session, principal, flag_id, keep_id=body.keep_id)
    return {"id": flag.id, "status": flag.status.value, "kept": body.keep_id}


@router.post("/registry/duplicates/{flag_id}/dismiss", response_model=dict[str, int | str])
def dismiss_duplicates(session: DbSession, principal: Merger, flag_id: int) -> dict[str, int | str]:
    flag = duplicates.dismiss(session, principal, flag_id)
    return {"id": flag.id, "status": flag.status.value}
