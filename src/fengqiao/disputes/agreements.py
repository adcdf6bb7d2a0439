"""Drawing up the mediation agreement (调解协议书), printing it, and keeping the signed
scan. Drawing it up records the outcome "written agreement" and resolves the dispute;
a new agreement after re-opening supersedes the old one (which is kept)."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from fengqiao.audit import service as audit
from fengqiao.audit.models import AuditAction
from fengqiao.auth import Permission, Principal, require
from fengqiao.clock import at_local, local_day
from fengqiao.db import lock_for_update, utcnow
from fengqiao.disputes import pdf
from fengqiao.disputes import types as kinds
from fengqiao.disputes.mediation import conclude, mediators_of
from fengqiao.disputes.models import (
    Dispute,
    DisputeStatus,
    MediationAgreement,
    Outcome,
    PartySide,
)
from fengqiao.disputes.schemas import AgreementIn
from fengqiao.disputes.service import event, for_change, get_dispute, parties_of, require_open
from fengqiao.errors import Conflict, InvalidInput, NotFound
from fengqiao.i18n import _
from fengqiao.org.models import Station

MAX_SCAN_BYTES = 15 * 1024 * 1024
SCAN_TYPES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


def draw_up(
    session: Session,
    principal: Principal,
    dispute_id: int,
    data: AgreementIn,
    *,
    revisit_days: dict[str, list[int]],
    at: datetime | None = None,
) -> MediationAgreement:
    """The agreement of the parties at the current level. Sending the same terms again
    (a retry) answers the agreement already drawn up."""
    dispute = for_change(session, principal, dispute_id)
    lock_for_update(session, dispute)  # before reading the current agreement (double submit)
    terms = [t.strip() for t in data.terms if t.strip()]
    current = session.scalar(
        select(MediationAgreement)
        .where(
            MediationAgreement.dispute_id == dispute.id, MediationAgreement.superseded.is_(False)
        )
        .order_by(MediationAgreement.id.desc())
        .limit(1)
    )
    if (
        current is not None
        and dispute.status is DisputeStatus.RESOLVED
        and current.terms == terms
        and current.facts == data.facts.strip()
    ):
        return current
    require_open(dispute)
    if not terms:
        raise InvalidInput(_("Write at least one term the parties agreed to."))
    too_long = [i + 1 for i, t in enumerate(terms) if len(t) > 1000]
    if too_long:
        raise InvalidInput(
            _("Terms {numbers} are longer than 1 000 characters.").format(
                numbers=", ".join(map(str, too_long))
            )
        )
    parties = parties_of(session, dispute.id)
    sides = {p.side for p in parties}
    if PartySide.APPLICANT not in sides or PartySide.RESPONDENT not in sides:
        raise InvalidInput(
            _("An agreement needs an applicant and a respondent: add the missing party first.")
        )
    mediators = [m for link, m in mediators_of(session, dispute.id) if link.level is dispute.level]
    if not mediators:
        raise InvalidInput(
            _("Add the mediators of this level to the dispute before drawing up the agreement.")
        )
    today = local_day(at or utcnow())
    signed_on = data.signed_on or today
    if signed_on > today:
        raise InvalidInput(_("The agreement cannot be signed on a future day."))
    if dispute.found_on and signed_on < dispute.found_on:
        raise InvalidInput(_("The agreement cannot be signed before the dispute was found."))
    station = session.get(Station, dispute.station_id) if dispute.station_id else None
    if current is not None:
        current.superseded = True
    row = MediationAgreement(
        dispute_id=dispute.id,
        number=f"tmp-{dispute.id}-{utcnow().timestamp()}",
        level=dispute.level,
        facts=data.facts.strip(),
        terms=terms,
        performance=data.performance.strip(),
        parties=[
            {
                "side": p.side.value,
                "name": p.name,
                "gender": p.gender,
                "id_number": p.id_number,
                "phone": p.phone,
                "address": p.address,
                "is_organisation": p.is_organisation,
            }
            for p in parties
        ],
        mediators=[
            {"id": m.id, "name": m.name, "kind": m.kind.value, "organisation": m.organisation}
            for m in mediators
        ],
        organisation=station.name if station else "",
        signed_on=signed_on,
        user_id=principal.actor.user_id,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    row.number = f"（{signed_on.year}）调字第{row.id:05d}号"
    event(
        session,
        principal.actor,
        dispute,
        "agreement",
        person_id=principal.person_id,
        agreement=row.id,
        number=row.number,
        terms=len(terms),
    )
    # Settled on the day signed: revisits and days to resolve count from it.
    settled = at or (utcnow() if signed_on == today else at_local(signed_on, 12))
    conclude(
        session,
        principal,
        dispute,
        Outcome.AGREEMENT,
        note=row.number,
        revisit_days=revisit_days,
        at=settled,
    )
    return row


def agreements_of(session: Session, dispute_id: int) -> list[MediationAgreement]:
    return list(
        session.scalars(
            select(MediationAgreement)
            .where(MediationAgreement.dispute_id == dispute_id)
            .order_by(MediationAgreement.id)
        )
    )


def get_agreement(
    session: Session, principal: Principal, agreement_id: int, *, purpose: str
) -> tuple[Dispute, MediationAgreement]:
    """An agreement in reach. Its text carries the parties' full names and numbers, so
    each read is audited with its purpose (printing, the scan)."""
    require(principal, Permission.MEDIATE_DISPUTES)
    row = session.get(MediationAgreement, agreement_id)
    if row is None:
        raise NotFound(_("Agreement {id} was not found.").format(id=agreement_id))
    dispute = get_dispute(session, principal, row.dispute_id, audited=False)
    audit.record(
        session,
        actor=principal.actor,
        action=AuditAction.READ,
        object_type="mediation_agreement",
        object_id=row.id,
        detail={"dispute": dispute.id, "purpose": purpose},
    )
    return dispute, row


def printable(
    session: Session, principal: Principal, agreement_id: int, *, font: str = ""
) -> tuple[str, bytes]:
    """``(file name, PDF bytes)`` of an agreement."""
    dispute, row = get_agreement(session, principal, agreement_id, purpose="print")
    names = kinds.type_names(session)
    text = pdf.AgreementText(
        number=row.number,
        dispute_number=dispute.number,
        organisation=row.organisation,
        level=row.level.value,
        type_name=names.get(dispute.type_code, (dispute.type_code, ""))[0],
        place=dispute.place,
        facts=row.facts,
        terms=list(row.terms),
        performance=row.performance,
        parties=list(row.parties),
        mediators=list(row.mediators),
        signed_on=row.signed_on,
    )
    return f"mediation-agreement-{dispute.number}-{row.id}.pdf", pdf.render(text, font=font)


def sniff(raw: bytes) -> str:
    for magic, content_type in SCAN_TYPES:
        if raw.startswith(magic):
            return content_type
    raise InvalidInput(_("The signed scan must be a PDF, JPEG or PNG file."))


def attach_scan(
    session: Session, principal: Principal, agreement_id: int, raw: bytes
) -> MediationAgreement:
    """Keep the signed and thumb-printed agreement as scanned. The same file again
    changes nothing; a different file replaces the scan (the old digest is logged)."""
    require(principal, Permission.MEDIATE_DISPUTES)
    row = session.get(MediationAgreement, agreement_id)
    if row is None:
        raise NotFound(_("Agreement {id} was not found.").format(id=agreement_id))
    dispute = for_change(session, principal, row.dispute_id)
    if not raw:
        raise InvalidInput(_("The file is empty."))
    if len(raw) > MAX_SCAN_BYTES:
        raise InvalidInput(
            _("The scan is larger than {mb} MB: scan at 200 dpi in grey.").format(
                mb=MAX_SCAN_BYTES // (1024 * 1024)
            )
        )
    content_type = sniff(raw)
    digest = hashlib.sha256(raw).hexdigest()
    if row.scan_sha256 == digest:
        return row
    if row.superseded:
        raise Conflict(_("This agreement was superseded by a later one."))
    before = row.scan_sha256
    row.scan_data, row.scan_content_type = raw, content_type
    row.scan_sha256, row.scan_bytes, row.scan_uploaded_at = digest, len(raw), utcnow()
    event(
        session,
        principal.actor,
        dispute,
        "scan",
        person_id=principal.person_id,
        agreement=row.id,
        sha256=digest,
        replaced=before,
    )
    return row
