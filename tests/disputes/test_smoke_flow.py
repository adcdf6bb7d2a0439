"""The whole dispute loop through the services on one backend pair (a quick check)."""

from __future__ import annotations

import io

from pypdf import PdfReader
from sqlalchemy.orm import Session, sessionmaker

from fengqiao.db import unit_of_work
from fengqiao.disputes import agreements, mediation, mediators, revisits, service
from fengqiao.disputes.models import DisputeStatus, MediationLevel, MediatorKind, PartySide
from fengqiao.disputes.schemas import (
    AgreementIn,
    DisputeIn,
    EscalateIn,
    MediatorIn,
    PartyIn,
    SessionIn,
)
from fengqiao.tasks.models import FollowUpStatus
from tests.fraud.helpers import SYSTEM, place

DAYS = {"red": [3, 7], "orange": [7], "yellow": [15]}


def test_register_mediate_escalate_agree(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        at = place(s, "城关镇建设路12号")
        d, created = service.register(
            s,
            SYSTEM,
            DisputeIn(
                type_code="neighbour",
                summary="楼上漏水",
                address_id=at.address.id,
                parties=[
                    PartyIn(side=PartySide.APPLICANT, name="张三", phone="13812345678"),
                    PartyIn(side=PartySide.RESPONDENT, name="李四"),
                ],
                risk={"threats": True},
                client_key="k1",
            ),
        )
        assert created and d.risk_level.value == "red" and d.grid_id == at.grid.id
        assert service.register(s, SYSTEM, DisputeIn(client_key="k1"))[1] is False
        g = mediators.save_mediator(
            s,
            SYSTEM,
            MediatorIn(
                name="王网格",
                kind=MediatorKind.GRID_WORKER,
                station_id=d.station_id,
                weekdays=list(range(7)),
            ),
        )
        st = mediators.save_mediator(
            s,
            SYSTEM,
            MediatorIn(
                name="赵律师",
                kind=MediatorKind.LAWYER,
                station_id=d.station_id,
                weekdays=list(range(7)),
            ),
        )
        mediation.assign(s, SYSTEM, d.id, g.id, lead=True)
        mediation.record_session(s, SYSTEM, d.id, SessionIn(notes="第一次调解"))
        assert d.status is DisputeStatus.MEDIATING
        mediation.escalate(s, SYSTEM, d.id, EscalateIn(to=MediationLevel.STATION, reason="未果"))
        mediation.assign(s, SYSTEM, d.id, st.id, lead=True)
        a = agreements.draw_up(
            s,
            SYSTEM,
            d.id,
            AgreementIn(facts="漏水致损", terms=["李四赔偿张三2000元", "双方互不追究"]),
            revisit_days=DAYS,
        )
        assert d.status is DisputeStatus.RESOLVED and d.resolved_level is MediationLevel.STATION
        _name, data = agreements.printable(s, SYSTEM, a.id)
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
        assert "调解协议书" in text and "李四赔偿张三2000元" in text and "张三" in text
        ups = revisits.follow_ups_of(s, d.id)
        assert [u.status for u in ups] == [FollowUpStatus.PENDING] * 2
        task = revisits.visit_now(s, SYSTEM, d.id, ups[0].id)
        assert task.follow_up_id == ups[0].id
        mediation.reopen(s, SYSTEM, d.id, reason="又吵起来")
        assert d.status is DisputeStatus.MEDIATING and d.reopen_count == 1
