"""A dispute that turns red is reported at once on the live feed (command room, chief,
the responsible officer), naming its kind and place, never a party."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from fengqiao.db import unit_of_work
from fengqiao.disputes import service
from fengqiao.disputes.models import PartySide
from fengqiao.disputes.schemas import DisputeIn, PartyIn, RiskIn
from fengqiao.live.models import LiveEvent
from tests.fraud.helpers import SYSTEM, place


def alerts(s: Session) -> list[dict[str, object]]:
    rows = s.scalars(
        select(LiveEvent).where(LiveEvent.kind == "dispute_alert").order_by(LiveEvent.id)
    )
    return [
        json.loads(r.payload) | {"_station": r.station_id, "_person": r.person_id} for r in rows
    ]


def test_red_disputes_are_reported_once(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        at = place(s, "建设路9号")
        parties = [PartyIn(side=PartySide.APPLICANT, name="冯大刚", phone="13611112222")]
        calm, _ = service.register(
            s, SYSTEM, DisputeIn(type_code="family", address_id=at.address.id, parties=parties)
        )
        assert alerts(s) == []  # yellow: nothing pushed
        red, _ = service.register(
            s,
            SYSTEM,
            DisputeIn(
                type_code="neighbour",
                address_id=at.address.id,
                parties=parties,
                risk={"threats": True},
            ),
        )
        [first] = alerts(s)
        assert first["dispute"] == red.id and first["risk"] == "red"
        assert first["_station"] == red.station_id and first["_person"] == at.officer_id
        assert "冯大刚" not in json.dumps(first, ensure_ascii=False)
        # Raised to red later: one alert; answering again while red adds none.
        service.assess_risk(s, SYSTEM, calm.id, RiskIn(risk={"people": 40}))
        service.assess_risk(s, SYSTEM, calm.id, RiskIn(risk={"people": 50}))
        assert [a["dispute"] for a in alerts(s)] == [red.id, calm.id]
