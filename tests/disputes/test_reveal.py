"""Parties' full numbers for the mediators (with a reason, audited) and parties linked to
the registry by their identity-card number."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from fengqiao.audit.models import AuditAction, AuditEvent
from fengqiao.db import unit_of_work
from fengqiao.disputes import service
from fengqiao.disputes.models import PartySide
from fengqiao.disputes.schemas import DisputeIn, PartyIn
from fengqiao.errors import Forbidden, InvalidInput, NotFound
from tests.fraud.helpers import SYSTEM, id_number, place, resident
from tests.tasks.helpers import principal_of


def test_reveal_needs_a_reason_and_is_audited(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        at = place(s, "建设路3号")
        d, _ = service.register(
            s,
            SYSTEM,
            DisputeIn(
                type_code="family",
                address_id=at.address.id,
                parties=[PartyIn(side=PartySide.APPLICANT, name="吴一", phone="13700001111")],
            ),
        )
        party = service.parties_of(s, d.id)[0]
        with pytest.raises(InvalidInput, match="reason"):
            service.reveal_party(s, SYSTEM, d.id, party.id, reason="  ab ")
        shown = service.reveal_party(s, SYSTEM, d.id, party.id, reason="约双方到场调解")
        assert shown.phone == "13700001111"
        rows = s.scalars(
            select(AuditEvent).where(
                AuditEvent.object_type == "dispute_party", AuditEvent.object_id == str(party.id)
            )
        ).all()
        assert [r.action for r in rows] == [AuditAction.READ]
        assert '"unmasked": ["name", "phone", "id_number"]' in rows[0].detail
        assert "约双方到场调解" in rows[0].detail
        # The command room mediates but may not see personal numbers: name and phone only.
        service.reveal_party(s, principal_of(s, "command"), d.id, party.id, reason="通知到场")
        last = s.scalars(
            select(AuditEvent)
            .where(AuditEvent.object_type == "dispute_party")
            .order_by(AuditEvent.id.desc())
        ).first()
        assert last is not None and '"unmasked": ["name", "phone"]' in last.detail
        with pytest.raises(NotFound):
            service.reveal_party(s, SYSTEM, d.id, party.id + 999, reason="约双方到场调解")
        legal = principal_of(s, "legal")
        with pytest.raises(Forbidden):
            service.reveal_party(s, legal, d.id, party.id, reason="约双方到场调解")


def test_parties_link_to_the_registry_by_id_number(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        at = place(s, "建设路5号")
        known = id_number(41)
        resident_id = resident(s, at, "郑二", number=known, phone=None)
        d, _ = service.register(
            s,
            SYSTEM,
            DisputeIn(
                type_code="neighbour",
                address_id=at.address.id,
                parties=[
                    PartyIn(side=PartySide.APPLICANT, name="郑二", id_number=known),
                    PartyIn(side=PartySide.RESPONDENT, name="王三", id_number=id_number(42)),
                ],
            ),
        )
        linked = {p.name: p.resident_id for p in service.parties_of(s, d.id)}
        assert linked == {"郑二": resident_id, "王三": None}
