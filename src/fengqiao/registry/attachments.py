"""拍一拍 and 说一说: photos (resized on the server) and voice notes attached to a registry
record or a task. A phone's ``client_key`` makes a retried upload a no-op."""

from __future__ import annotations

from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fengqiao.auth import Principal
from fengqiao.errors import InvalidInput, NotFound
from fengqiao.i18n import _
from fengqiao.registry import addresses, people
from fengqiao.registry import service as registry
from fengqiao.registry.media import MAX_PHOTO_BYTES, MAX_VOICE_BYTES, prepare_photo, prepare_voice
from fengqiao.registry.models import Attachment, AttachmentKind

OBJECT_TYPES = ("address", "resident", "establishment", "task")


def read_upload(stream: BinaryIO) -> bytes:
    """An uploaded file, read no further than one byte past the largest accepted size
    (the media checks then refuse it by its size without holding all of it)."""
    return stream.read(max(MAX_PHOTO_BYTES, MAX_VOICE_BYTES) + 1)


MAX_PER_OBJECT = 50


def _owner_station(session: Session, principal: Principal, object_type: str, object_id: int) -> int:
    if object_type == "address":
        return addresses.get_address(session, principal, object_id).station_id
    if object_type == "resident":
        return people.get_resident(session, principal, object_id).station_id
    if object_type == "establishment":
        return people.get_establishment(session, principal, object_id).station_id
    raise InvalidInput(_("Attach to one of: {kinds}.").format(kinds=", ".join(OBJECT_TYPES)))


def add_attachment(
    session: Session,
    principal: Principal,
    *,
    object_type: str,
    object_id: int,
    kind: AttachmentKind,
    raw: bytes,
    filename: str = "",
    caption: str = "",
    station_id: int | None = None,
    task_id: int | None = None,
    client_key: str | None = None,
) -> Attachment:
    """Check and store one file. ``station_id`` is given by callers that already checked
    the object (a task); registry objects are checked here."""
    if station_id is None:
        registry.require_edit(principal)
    existing = by_client_key(session, client_key)
    if existing is not None:
        # A retried upload: answer with the stored file, if its record is in reach.
        if existing.object_type != "task":
            _owner_station(session, principal, existing.object_type, existing.object_id)
        return existing
    if station_id is None:
        registry.check_task(session, principal, task_id)
        station_id = _owner_station(session, principal, object_type, object_id)
    count = len(
        session.scalars(
            select(Attachment.id).where(
                Attachment.object_type == object_type, Attachment.object_id == object_id
            )
        ).all()
    )
    if count >= MAX_PER_OBJECT:
        raise InvalidInput(_("A record holds at most {n} files.").format(n=MAX_PER_OBJECT))
    if kind is AttachmentKind.PHOTO:
        photo = prepare_photo(raw, filename=filename)
        row = Attachment(
            kind=kind,
            content_type=photo.content_type,
            size_bytes=len(photo.data),
            width=photo.width,
            height=photo.height,
            sha256=photo.sha256,
            data=photo.data,
            thumbnail=photo.thumbnail,
        )
    else:
        voice = prepare_voice(raw, filename=filename)
        row = Attachment(
            kind=kind,
            content_type=voice.content_type,
            size_bytes=len(voice.data),
            sha256=voice.sha256,
            data=voice.data,
        )
    row.object_type, row.object_id = object_type, object_id
    row.caption = caption.strip()[:200]
    row.client_key = client_key or None
    row.task_id = task_id if object_type != "task" else object_id
    row.station_id = station_id
    row.person_id, row.user_id = principal.person_id, principal.actor.user_id
    try:
        with session.begin_nested():  # the same upload arriving twice at once
            session.add(row)
            session.flush()
    except IntegrityError:
        twin = by_client_key(session, client_key) if client_key else None
        if twin is None:
            raise
        return twin
    registry.record_change(
        session,
        principal,
        object_type=object_type,
        object_id=object_id,
        action="attach",
        changes={kind.value: (None, row.id)},
        task_id=row.task_id,
    )
    return row


def by_client_key(session: Session, client_key: str | None) -> Attachment | None:
    """The file already stored under a phone's upload key, if any."""
    if not client_key:
        return None
    return session.scalars(select(Attachment).where(Attachment.client_key == client_key)).first()


def list_attachments(session: Session, object_type: str, object_id: int) -> list[Attachment]:
    return list(
        session.scalars(
            select(Attachment)
            .where(Attachment.object_type == object_type, Attachment.object_id == object_id)
            .order_by(Attachment.id)
        )
    )


def get_attachment(session: Session, principal: Principal, attachment_id: int) -> Attachment:
    """A file, if its record is in scope; reading it is audited like the record."""
    row = session.get(Attachment, attachment_id)
    if row is None:
        raise NotFound(_("File {id} was not found.").format(id=attachment_id))
    if row.object_type == "task":
        from fengqiao.tasks import service as tasks

        tasks.get_task(session, principal, row.object_id)
    else:
        _owner_station(session, principal, row.object_type, row.object_id)
    registry.audit_read(session, principal, object_type="attachment", object_id=row.id)
    return row
