"""Changes to a registered dispute on SQLite and PostgreSQL: the risk answered again and
raised, parties added, and who sees a dispute or a roster entry through taking part."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from fengqiao.db import unit_of_work
from fengqiao.disputes import mediation, mediators, service
from fengqiao.disputes.models import MediatorKind, Outcome, PartySide, RiskLevel
from fengqiao.disputes.schemas import OutcomeIn, PartyIn, RiskIn
from fengqiao.errors import Conflict, Forbidden, InvalidInput
from tests.disputes.helpers import add_mediator, events_of, new_dispute
from tests.fraud.helpers import SYSTEM, place, principal_of


def test_risk_answered_again_and_raised(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        d = new_dispute(s)
        assert d.risk_level.value == "yellow"
        # violence (25): orange
        service.assess_risk(s, SYSTEM, d.id, RiskIn(risk={"violence": True}))
        assert d.risk_level.value == "orange" and d.risk_answers["violence"] is True
        with pytest.raises(InvalidInput, match="cannot be set lower"):
            service.assess_risk(s, SYSTEM, d.id, RiskIn(risk={"violence": True}, raise_to="yellow"))
        with pytest.raises(InvalidInput, match="Say why"):
            service.assess_risk(s, SYSTEM, d.id, RiskIn(risk={"violence": True}, raise_to="red"))
        with pytest.raises(InvalidInput, match="red, orange or yellow"):
            service.assess_risk(s, SYSTEM, d.id, RiskIn(risk={}, raise_to="purple"))
        with pytest.raises(InvalidInput, match="Unknown risk items"):
            service.assess_risk(s, SYSTEM, d.id, RiskIn(risk={"weapons": True}))
        assert d.risk_level.value == "orange"  # unchanged by the refusals
        service.assess_risk(
            s, SYSTEM, d.id, RiskIn(risk={"violence": True}, raise_to="red", reason="扬言报复")
        )
        assert d.risk_level is RiskLevel.RED
        # the level the answers give needs no reason
        service.assess_risk(s, SYSTEM, d.id, RiskIn(risk={"threats": True}, raise_to="red"))
        got = [e.detail for e in events_of(s, d.id, "risk")]
        assert got == [
            {"before": "yellow", "after": "orange", "score": 25},
            {"before": "orange", "after": "red", "score": 25, "reason": "扬言报复"},
            {"before": "red", "after": "red", "score": 40},
        ]


def test_risk_is_answered_by_mediators_only(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        d = new_dispute(s)
        with pytest.raises(Forbidden):
            service.assess_risk(s, principal_of(s, "legal"), d.id, RiskIn(risk={}))


def test_adding_parties(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        d = new_dispute(s)  # two parties
        service.add_party(s, SYSTEM, d.id, PartyIn(side=PartySide.THIRD, name="王五"))
        third = service.parties_of(s, d.id)[-1]
        assert (third.side, third.name, third.position) == (PartySide.THIRD, "王五", 2)
        [ev] = events_of(s, d.id, "party_added")
        assert ev.detail == {"side": "third"}
        with pytest.raises(InvalidInput) as err:
            service.add_party(
                s, SYSTEM, d.id, PartyIn(side=PartySide.THIRD, name="赵六", phone="123")
            )
        assert err.value.message.startswith("Party 4:")  # named by its place in the list
        for n in range(27):  # up to 30 parties
            service.add_party(s, SYSTEM, d.id, PartyIn(side=PartySide.THIRD, name=f"群众{n}"))
        assert len(service.parties_of(s, d.id)) == 30
        with pytest.raises(InvalidInput, match="at most 30"):
            service.add_party(s, SYSTEM, d.id, PartyIn(side=PartySide.THIRD, name="多余"))
        other = new_dispute(s, text="城关镇加人路2号")
        mediation.record_outcome(
            s, SYSTEM, other.id, OutcomeIn(outcome=Outcome.RECONCILED), revisit_days={}
        )
        with pytest.raises(Conflict, match="closed"):
            service.add_party(s, SYSTEM, other.id, PartyIn(side=PartySide.THIRD, name="晚到"))


def test_a_mediator_sees_the_disputes_they_take_part_in(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        worker = principal_of(s, "gridworker")
        elsewhere = new_dispute(s, at=place(s, "城关镇参与路1号", offset=1))
        assert elsewhere.grid_id not in (worker.grid_ids or ())
        assert elsewhere.id not in {d.id for d in service.list_disputes(s, worker)}
        me = add_mediator(s, elsewhere.station_id or 0, "网格员本人", person_id=worker.person_id)
        mediation.assign(s, SYSTEM, elsewhere.id, me.id, lead=True)
        assert elsewhere.id in {d.id for d in service.list_disputes(s, worker)}
        assert service.get_dispute(s, worker, elsewhere.id) is elsewhere
        # and may work on it
        service.add_party(s, worker, elsewhere.id, PartyIn(side=PartySide.THIRD, name="王五"))


def test_roster_scope(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        officer = principal_of(s, "officer")
        [own] = sorted(officer.station_ids or ())
        far = place(s, "龙门镇名册路9号", station_code="QX-LM").grid.district.station_id
        mine = add_mediator(s, own, "本所调解员", MediatorKind.VILLAGE_CADRE)
        resting = add_mediator(s, own, "停用调解员", active=False)
        theirs = add_mediator(s, far, "外所调解员")
        assert mediators.get_mediator(s, officer, mine.id) is mine
        with pytest.raises(Forbidden):
            mediators.get_mediator(s, officer, theirs.id)
        assert [m.id for m in mediators.roster(s, officer)] == [mine.id]
        listed = {m.id for m in mediators.roster(s, officer, include_inactive=True)}
        assert listed == {mine.id, resting.id}
        assert {mine.id, theirs.id} <= {m.id for m in mediators.roster(s, SYSTEM)}
        with pytest.raises(Forbidden):
            add_mediator(s, far, "越权", principal=officer)
        with pytest.raises(Forbidden):
            add_mediator(s, own, "法制员", principal=principal_of(s, "legal"))
        # the legal supervisor reads the roster
        assert mine.id in {m.id for m in mediators.roster(s, principal_of(s, "legal"))}
