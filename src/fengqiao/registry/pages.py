"""HTML pages of the registry for officers' phones: 搜一搜, 扫一扫 (a doorplate's QR opens
its address card), the address card with 拍一拍 / 说一说, person and unit cards, doorplate
sheets and duplicates. Forms carry the page's ``?task=ID`` back as ``task_id``, so that
changes made during a task record it (工作即采集)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import segno
from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from fengqiao.auth import Permission, Principal
from fengqiao.errors import DomainError, InvalidInput
from fengqiao.i18n import _
from fengqiao.registry import addresses, attachments, duplicates, people, search
from fengqiao.registry import routes as views
from fengqiao.registry import service as registry
from fengqiao.registry.models import (
    AttachmentKind,
    EstablishmentKind,
    HouseUse,
    RecordStatus,
    ResidentKind,
)
from fengqiao.registry.schemas import form_choice, form_float, form_int, registry_label
from fengqiao.web import DbSession, render, requires, settings_of

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, requires(Permission.VIEW_REGISTRY)]
Editor = Annotated[Principal, requires(Permission.EDIT_REGISTRY)]
Revealer = Annotated[Principal, requires(Permission.REVEAL_PERSONAL)]
Merger = Annotated[Principal, requires(Permission.MERGE_RECORDS)]


def _with_task(path: str, task: int | None) -> str:
    return f"{path}?task={task}" if task else path


def _context(**extra: Any) -> dict[str, Any]:
    return {
        "label": registry_label,
        "resident_kinds": list(ResidentKind),
        "house_uses": list(HouseUse),
        "unit_kinds": list(EstablishmentKind),
        "upload_key": uuid.uuid4().hex,
        **extra,
    }


# --- 搜一搜 and 扫一扫 -----------------------------------------------------------------


def _search_page(
    request: Request,
    session: Session,
    principal: Principal,
    q: str,
    *,
    error: str | None = None,
    status: int = 200,
    values: dict[str, str] | None = None,
) -> Response:
    found = None
    search_error = None
    if q.strip():
        try:
            found = views.search_view(search.search(session, principal, q))
        except DomainError as exc:
            search_error, status = exc.message, exc.status
    return render(
        request,
        "registry/search.html",
        status_code=status,
        **_context(
            q=q,
            found=found,
            search_error=search_error,
            error=error,
            values=values or {},
        ),
    )


@router.get("/registry")
def search_page(request: Request, session: DbSession, principal: Reader, q: str = "") -> Response:
    return _search_page(request, session, principal, q)


@router.post("/registry/addresses")
def add_address(
    request: Request,
    session: DbSession,
    principal: Editor,
    text: Annotated[str, Form()] = "",
    lon: Annotated[str, Form()] = "",
    lat: Annotated[str, Form()] = "",
    task_id: Annotated[str, Form()] = "",
) -> Response:
    values = {"text": text, "lon": lon, "lat": lat, "task_id": task_id}
    try:
        task = form_int(task_id, _("Task"))
        result = addresses.add_address(
            session,
            principal,
            text=text,
            lon=form_float(lon, _("Longitude")),
            lat=form_float(lat, _("Latitude")),
            task_id=task,
        )
    except DomainError as exc:
        session.rollback()
        return _search_page(
            request, session, principal, "", error=exc.message, status=exc.status, values=values
        )
    return RedirectResponse(
        _with_task(f"/registry/addresses/{result.address.id}", task), status_code=303
    )


@router.get("/registry/scan")
def scan_page(request: Request, session: DbSession, principal: Reader, code: str = "") -> Response:
    """Scanning is done by the phone's own camera app, which opens /a/<code>; a code
    that cannot be scanned can be typed here."""
    if code.strip():
        try:
            address = addresses.address_by_code(session, principal, code)
        except DomainError as exc:
            return render(
                request, "registry/scan.html", status_code=exc.status, code=code, error=exc.message
            )
        return RedirectResponse(f"/registry/addresses/{address.id}", status_code=303)
    return render(request, "registry/scan.html", code="", error=None)


@router.get("/a/{code}")
def doorplate(request: Request, session: DbSession, principal: Reader, code: str) -> Response:
    """What the QR code on a doorplate opens."""
    address = addresses.address_by_code(session, principal, code)
    return RedirectResponse(f"/registry/addresses/{address.id}", status_code=303)


# --- the address card ------------------------------------------------------------------


def _card_page(
    request: Request,
    session: Session,
    principal: Principal,
    address_id: int,
    task: int | None,
    *,
    error: str | None = None,
    form: str | None = None,
    status: int = 200,
    values: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        "registry/address.html",
        status_code=status,
        **_context(
            card=views.address_card(session, principal, address_id),
            task=task,
            error=error,
            form=form,
            values=values or {},
        ),
    )


@router.get("/registry/addresses/{address_id}")
def address_page(
    request: Request,
    session: DbSession,
    principal: Reader,
    address_id: int,
    task: int | None = None,
) -> Response:
    return _card_page(request, session, principal, address_id, task)


def _card_change(
    request: Request,
    session: Session,
    principal: Principal,
    address_id: int,
    *,
    form: str,
    values: dict[str, str],
    change: Any,
) -> Response:
    """Run ``change(task_id)``; back to the card, or the card with the error and the
    input kept."""
    task: int | None = None
    try:
        task = form_int(values.get("task_id", ""), _("Task"))
        change(task)
    except DomainError as exc:
        session.rollback()
        return _card_page(
            request,
            session,
            principal,
            address_id,
            task,
            error=exc.message,
            form=form,
            status=exc.status,
            values=values,
        )
    return RedirectResponse(_with_task(f"/registry/addresses/{address_id}", task), status_code=303)


@router.post("/registry/addresses/{address_id}/residents")
def add_resident(
    request: Request,
    session: DbSession,
    principal: Editor,
    address_id: int,
    name: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = ResidentKind.REGISTERED.value,
    id_number: Annotated[str, Form()] = "",
    phone: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    task_id: Annotated[str, Form()] = "",
) -> Response:
    values = {
        "name": name,
        "kind": kind,
        "id_number": id_number,
        "phone": phone,
        "note": note,
        "task_id": task_id,
    }
    return _card_change(
        request,
        session,
        principal,
        address_id,
        form="resident",
        values=values,
        change=lambda task: people.add_resident(
            session,
            principal,
            name=name,
            kind=form_choice(ResidentKind, kind),
            address_id=address_id,
            id_number=id_number,
            phone=phone,
            note=note,
            task_id=task,
        ),
    )


@router.post("/registry/addresses/{address_id}/house")
def set_house(
    request: Request,
    session: DbSession,
    principal: Editor,
    address_id: int,
    use: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    task_id: Annotated[str, Form()] = "",
) -> Response:
    return _card_change(
        request,
        session,
        principal,
        address_id,
        form="house",
        values={"use": use, "house_note": note, "task_id": task_id},
        change=lambda task: people.set_house(
            session,
            principal,
            address_id=address_id,
            use=form_choice(HouseUse, use),
            note=note,
            task_id=task,
        ),
    )


@router.post("/registry/addresses/{address_id}/units")
def add_unit(
    request: Request,
    session: DbSession,
    principal: Editor,
    address_id: int,
    name: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = EstablishmentKind.SHOP.value,
    contact_name: Annotated[str, Form()] = "",
    contact_phone: Annotated[str, Form()] = "",
    task_id: Annotated[str, Form()] = "",
) -> Response:
    values = {
        "unit_name": name,
        "unit_kind": kind,
        "contact_name": contact_name,
        "contact_phone": contact_phone,
        "task_id": task_id,
    }
    return _card_change(
        request,
        session,
        principal,
        address_id,
        form="unit",
        values=values,
        change=lambda task: people.add_establishment(
            session,
            principal,
            people.EstablishmentInput(
                name=name,
                kind=form_choice(EstablishmentKind, kind),
                address_id=address_id,
                contact_name=contact_name,
                contact_phone=contact_phone,
            ),
            task_id=task,
        ),
    )


@router.post("/registry/addresses/{address_id}/attachments")
def add_attachment(
    request: Request,
    session: DbSession,
    principal: Editor,
    address_id: int,
    file: Annotated[UploadFile, File()],
    kind: Annotated[str, Form()] = AttachmentKind.PHOTO.value,
    caption: Annotated[str, Form()] = "",
    client_key: Annotated[str, Form()] = "",
    task_id: Annotated[str, Form()] = "",
) -> Response:
    """拍一拍 / 说一说 from the card."""
    return _card_change(
        request,
        session,
        principal,
        address_id,
        form=kind,
        values={"caption": caption, "task_id": task_id},
        change=lambda task: attachments.add_attachment(
            session,
            principal,
            object_type="address",
            object_id=address_id,
            kind=form_choice(AttachmentKind, kind),
            raw=attachments.read_upload(file.file),
            filename=file.filename or "",
            caption=caption,
            task_id=task,
            client_key=client_key.strip()[:64] or None,
        ),
    )


@router.post("/registry/addresses/{address_id}/position")
def set_position(
    request: Request,
    session: DbSession,
    principal: Editor,
    address_id: int,
    lon: Annotated[str, Form()] = "",
    lat: Annotated[str, Form()] = "",
    task_id: Annotated[str, Form()] = "",
) -> Response:
    def change(task: int | None) -> None:
        x, y = form_float(lon, _("Longitude")), form_float(lat, _("Latitude"))
        if x is None or y is None:
            raise InvalidInput(_("No position yet: allow the browser to use your location."))
        addresses.set_position(session, principal, address_id, lon=x, lat=y, task_id=task)

    return _card_change(
        request,
        session,
        principal,
        address_id,
        form="position",
        values={"lon": lon, "lat": lat, "task_id": task_id},
        change=change,
    )


@router.get("/registry/addresses/{address_id}/doorplates")
def doorplates(
    request: Request, session: DbSession, principal: Reader, address_id: int
) -> Response:
    """A printable sheet: one QR code per doorplate of a number, building or unit."""
    # Printed plates outlive the host name someone happened to use: prefer the configured one.
    base = (settings_of(request).public_url or str(request.base_url)).rstrip("/")
    plates = [
        {
            "address": a,
            "label": registry_label(a.level),
            "url": f"{base}/a/{a.code}",
            "qr": Markup(segno.make(f"{base}/a/{a.code}", error="m").svg_inline(scale=3)),
        }
        for a in addresses.doorplates(session, principal, address_id)
    ]
    return render(request, "registry/doorplates.html", plates=plates, root=plates[0]["address"])


# --- person and unit cards -------------------------------------------------------------


def _person_page(
    request: Request,
    session: Session,
    principal: Principal,
    resident_id: int,
    task: int | None,
    *,
    audited: bool = True,
    revealed: Any = None,
    error: str | None = None,
    form: str | None = None,
    status: int = 200,
    values: dict[str, str] | None = None,
) -> Response:
    person = (
        people.read_resident(session, principal, resident_id)
        if audited
        else people.get_resident(session, principal, resident_id)
    )
    return render(
        request,
        "registry/person.html",
        status_code=status,
        **_context(
            person=views.resident_view(session, person),
            history=views.history_view(session, registry.history(session, "resident", person.id)),
            files=attachments.list_attachments(session, "resident", person.id),
            revealed=revealed,
            task=task,
            error=error,
            form=form,
            values=values or {},
        ),
    )


@router.get("/registry/people/{resident_id}")
def person_page(
    request: Request,
    session: DbSession,
    principal: Reader,
    resident_id: int,
    task: int | None = None,
) -> Response:
    return _person_page(request, session, principal, resident_id, task)


@router.post("/registry/people/{resident_id}/reveal")
def reveal(
    request: Request,
    session: DbSession,
    principal: Revealer,
    resident_id: int,
    reason: Annotated[str, Form()] = "",
) -> Response:
    """The person's card with the full numbers; the reason is audited."""
    try:
        person = people.reveal_resident(session, principal, resident_id, reason=reason)
    except DomainError as exc:
        session.rollback()
        return _person_page(
            request,
            session,
            principal,
            resident_id,
            None,
            error=exc.message,
            form="reveal",
            status=exc.status,
            values={"reason": reason},
        )
    numbers = {"id_number": person.id_number or "", "phone": person.phone or ""}
    return _person_page(
        request, session, principal, resident_id, None, audited=False, revealed=numbers
    )


@router.post("/registry/people/{resident_id}")
def edit_person(
    request: Request,
    session: DbSession,
    principal: Editor,
    resident_id: int,
    kind: Annotated[str, Form()] = "",
    phone: Annotated[str, Form()] = "",
    moved_out: Annotated[str, Form()] = "",
    task_id: Annotated[str, Form()] = "",
) -> Response:
    """A blank phone keeps the number on record (the form cannot show it unmasked)."""
    values = {"kind": kind, "phone": phone, "moved_out": moved_out, "task_id": task_id}
    task: int | None = None
    try:
        task = form_int(task_id, _("Task"))
        changes: dict[str, Any] = {
            "status": (RecordStatus.MOVED_OUT if moved_out else RecordStatus.ACTIVE).value
        }
        if kind:
            changes["kind"] = form_choice(ResidentKind, kind).value
        if phone.strip():
            changes["phone"] = phone
        people.update_resident(session, principal, resident_id, values=changes, task_id=task)
    except DomainError as exc:
        session.rollback()
        return _person_page(
            request,
            session,
            principal,
            resident_id,
            task,
            error=exc.message,
            form="edit",
            status=exc.status,
            values=values,
        )
    return RedirectResponse(_with_task(f"/registry/people/{resident_id}", task), status_code=303)


@router.get("/registry/units/{unit_id}")
def unit_page(request: Request, session: DbSession, principal: Reader, unit_id: int) -> Response:
    unit = views.read_establishment(session, principal, unit_id)
    return render(
        request,
        "registry/unit.html",
        **_context(
            unit=unit,
            address=views.address_name(session, unit.address_id),
            history=views.history_view(
                session, registry.history(session, "establishment", unit.id)
            ),
        ),
    )


# --- duplicates ------------------------------------------------------------------------


def _duplicates_page(
    request: Request,
    session: Session,
    principal: Principal,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    flags = views.flag_views(session, principal, duplicates.list_flags(session, principal))
    return render(
        request,
        "registry/duplicates.html",
        status_code=status,
        **_context(flags=flags, error=error),
    )


@router.get("/registry/duplicates")
def duplicates_page(request: Request, session: DbSession, principal: Reader) -> Response:
    return _duplicates_page(request, session, principal)


@router.post("/registry/duplicates/{flag_id}/merge")
def merge(
    request: Request,
    session: DbSession,
    principal: Merger,
    flag_id: int,
    keep_id: Annotated[str, Form()] = "",
) -> Response:
    try:
        keep = form_int(keep_id, _("Record to keep"))
        if keep is None:
            raise InvalidInput(_("Choose the record to keep."))
        duplicates.merge(session, principal, flag_id, keep_id=keep)
    except DomainError as exc:
        session.rollback()
        return _duplicates_page(request, session, principal, error=exc.message, status=exc.status)
    return RedirectResponse("/registry/duplicates", status_code=303)


@router.post("/registry/duplicates/{flag_id}/dismiss")
def dismiss(request: Request, session: DbSession, principal: Merger, flag_id: int) -> Response:
    try:
        duplicates.dismiss(session, principal, flag_id)
    except DomainError as exc:
        session.rollback()
        return _duplicates_page(request, session, principal, error=exc.message, status=exc.status)
    return RedirectResponse("/registry/duplicates", status_code=303)
