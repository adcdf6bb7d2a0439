"""Registering disputes at the service level, on SQLite and PostgreSQL: where a dispute
is placed, who may register it, the parties, retries, conversion from an incident, the
list with its filters and who sees which dispute."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from fengqiao.audit.models import AuditAction
from fengqiao.db import unit_of_work, utcnow
from fengqiao.dispatch import service as dispatch
from fengqiao.disputes import conversion, mediation, service
from fengqiao.disputes.models import (
    Dispute,
    DisputeEvent,
    DisputeParty,
    DisputeSource,
    DisputeStatus,
    MediationLevel,
    PartySide,
    RiskLevel,
)
from fengqiao.disputes.schemas import DisputeIn, EscalateIn, PartyIn
from fengqiao.errors import Forbidden, InvalidInput
from fengqiao.incidents import service as incidents
from fengqiao.incidents.models import Disposition, Incident
from fengqiao.org.models import DutyStatus
from tests.disputes.helpers import audits, kinds_of, new_dispute, parties
from tests.fraud.helpers import SYSTEM, id_number, place, principal_of
from tests.incidents.helpers import Spot, report, set_status, spot

PHONE = "13900001111"


def rows(s: Session, model: type) -> int:
    return int(s.scalar(select(func.count()).select_from(model)) or 0)


def form(**fields: object) -> DisputeIn:
    base: dict[str, object] = {"type_code": "neighbour", "parties": parties()}
    return DisputeIn(**(base | fields))


# --------------------------------------------------------------------------- placing


def test_register_at_a_registry_address(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        at = place(s, "城关镇建设路12号")
        d = new_dispute(s, at=at, risk={"violence": True})
        assert d.grid_id == at.grid.id
        assert d.station_id == at.grid.district.station_id
        assert (d.lon, d.lat) == (at.lon, at.lat)
        assert d.place == at.address.full_name and d.address_id == at.address.id
        assert d.responsible_person_id == at.officer_id  # the grid's officer answers for it
        assert d.status is DisputeStatus.REGISTERED and d.level is MediationLevel.GRID
        assert d.risk_level is RiskLevel.ORANGE  # violence: 25
        assert d.found_on == service.today()
        assert d.number == f"JF{service.today():%Y%m%d}{d.id:06d}"
        # No title given: the kind and the place, never a party's name (lists show titles).
        assert d.title == f"邻里纠纷 · {at.address.full_name}" and "张三" not in d.title
        names = [(p.side, p.name) for p in service.parties_of(s, d.id)]
        assert names == [(PartySide.APPLICANT, "张三"), (PartySide.RESPONDENT, "李四")]
        [created] = [a for a in audits(s, "dispute", d.id) if a.action is AuditAction.CREATE]
        assert '"registered"' in created.detail and '"orange"' in created.detail
        [ev] = service.timeline(s, d.id)
        assert ev.kind == "registered" and ev.detail["score"] == 25


def test_register_at_a_point_finds_the_grid(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        at = place(s, "城关镇点位路1号")
        d, _ = service.register(s, SYSTEM, form(lon=at.lon, lat=at.lat, place="桥头小卖部"))
        assert d.grid_id == at.grid.id and d.address_id is None
        assert d.place == "桥头小卖部"


def test_register_in_a_chosen_grid(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        other = place(s, "城关镇某处路1号", offset=1)
        d, _ = service.register(s, SYSTEM, form(grid_id=other.grid.id, place="村口大樟树"))
        assert d.grid_id == other.grid.id and d.lon is None
        assert d.responsible_person_id == other.officer_id


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"place": "某地"}, "Say where the dispute is"),
        ({"lon": 120.1, "place": "某地"}, "both longitude and latitude"),
        ({"lon": 0.0, "lat": 0.0, "place": "海上"}, "lies in no grid"),
        ({"address_id": 987654, "place": "某地"}, "Address 987654 is not in the registry"),
        ({"grid_id": 987654, "place": "某地"}, "Grid 987654 was not found"),
    ],
)
def test_register_refused_without_a_place(
    county: sessionmaker[Session], fields: dict[str, object], words: str
) -> None:
    with unit_of_work(county) as s:
        before = rows(s, Dispute)
        with pytest.raises(InvalidInput) as err:
            service.register(s, SYSTEM, form(**fields))
        assert words in err.value.message
        assert rows(s, Dispute) == before


def test_a_chosen_grid_needs_a_description_of_the_place(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        at = place(s, "城关镇描述路1号")
        with pytest.raises(InvalidInput, match="Describe the place"):
            service.register(s, SYSTEM, form(grid_id=at.grid.id, place="   "))


def test_grid_worker_registers_in_own_grid_only(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        worker = principal_of(s, "gridworker")
        assert worker.grid_ids is not None and len(worker.grid_ids) == 1
        (own,) = worker.grid_ids
        # no place but the text: the grid worker's only grid
        d, _ = service.register(s, worker, form(place="三组晒谷场"))
        assert d.grid_id == own and d.registered_by == worker.user_id
        elsewhere = place(s, "城关镇外网格路1号", offset=1)
        assert elsewhere.grid.id != own
        with pytest.raises(Forbidden):
            service.register(s, worker, form(grid_id=elsewhere.grid.id, place="x"))
        # Another grid's address is refused without saying what is there.
        with pytest.raises(InvalidInput, match="not in the registry of your grids"):
            service.register(s, worker, form(address_id=elsewhere.address.id))
        with pytest.raises(Forbidden):
            service.register(s, worker, form(lon=elsewhere.lon, lat=elsewhere.lat, place="y"))


def test_legal_supervisor_and_admin_may_not_register(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        at = place(s, "城关镇法制路1号")
        for who in ("legal", "admin", "case"):
            with pytest.raises(Forbidden):
                service.register(s, principal_of(s, who), form(address_id=at.address.id))
        assert rows(s, Dispute) == 0


# --------------------------------------------------------------------------- parties


@pytest.mark.parametrize(
    ("party", "position", "words"),
    [
        ({"id_number": "330100195603120000"}, 2, "check character"),
        ({"id_number": "12345"}, 2, "18 characters"),
        ({"phone": "12345"}, 2, "is not a phone number"),
        ({"gender": "unknown"}, 2, "gender is male or female"),
        ({"name": "   "}, 2, "give the name"),
    ],
)
def test_bad_party_fields_name_the_party(
    county: sessionmaker[Session], party: dict[str, str], position: int, words: str
) -> None:
    with unit_of_work(county) as s:
        at = place(s, "城关镇当事人路1号")
        bad = PartyIn(side=PartySide.RESPONDENT, **({"name": "李四"} | party))
        first = PartyIn(side=PartySide.APPLICANT, name="张三")
        with pytest.raises(InvalidInput) as err:
            service.register(s, SYSTEM, form(address_id=at.address.id, parties=[first, bad]))
        assert err.value.message.startswith(f"Party {position}:")
        assert words in err.value.message
        assert rows(s, Dispute) == 0 and rows(s, DisputeParty) == 0


def test_party_fields_are_normalised(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        at = place(s, "城关镇规范路1号")
        number = id_number(7)
        people = [
            PartyIn(
                side=PartySide.APPLICANT,
                name=" 王五 ",
                id_number=number.lower(),
                phone="+86 138-1234-5678",
                gender=" Female ",
            ),
            PartyIn(
                side=PartySide.RESPONDENT,
                name="某某建筑公司",
                is_organisation=True,
                gender="male",
                id_number=number,
            ),
        ]
        d, _ = service.register(s, SYSTEM, form(address_id=at.address.id, parties=people))
        a, org = service.parties_of(s, d.id)
        assert (a.name, a.phone, a.gender, a.id_number) == ("王五", "13812345678", "female", number)
        assert org.is_organisation and org.gender is None and org.id_number is None


def test_no_party_and_unknown_kind_refused(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        at = place(s, "城关镇类型路1号")
        with pytest.raises(InvalidInput, match="at least one party"):
            service.register(s, SYSTEM, form(address_id=at.address.id, parties=[]))
        with pytest.raises(InvalidInput) as err:
            service.register(s, SYSTEM, form(address_id=at.address.id, type_code="feud"))
        assert "feud" in err.value.message and "neighbour" in err.value.message


def test_day_found(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        at = place(s, "城关镇日期路1号")
        today = service.today()
        with pytest.raises(InvalidInput, match="future"):
            service.register(
                s, SYSTEM, form(address_id=at.address.id, found_on=today + timedelta(days=1))
            )
        with pytest.raises(InvalidInput, match="ten years"):
            service.register(
                s, SYSTEM, form(address_id=at.address.id, found_on=today - timedelta(days=3651))
            )
        d, _ = service.register(
            s, SYSTEM, form(address_id=at.address.id, found_on=today - timedelta(days=3))
        )
        assert d.found_on == today - timedelta(days=3)


def test_client_key_retry_adds_nothing(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        at = place(s, "城关镇重试路1号")
        d, created = service.register(s, SYSTEM, form(address_id=at.address.id, client_key="f-1"))
        assert created
        first_id = d.id
    with unit_of_work(county) as s:
        counts = [rows(s, m) for m in (Dispute, DisputeParty, DisputeEvent)]
        # the retry carries different fields: the first registration stands
        again, created = service.register(s, SYSTEM, form(client_key="f-1", type_code="wages"))
        assert not created and again.id == first_id and again.type_code == "neighbour"
        assert [rows(s, m) for m in (Dispute, DisputeParty, DisputeEvent)] == counts
        # a retry from someone who may not see it is refused, not answered
        with pytest.raises(Forbidden):
            service.register(s, principal_of(s, "admin"), form(client_key="f-1"))


# --------------------------------------------------------------------------- incidents


def on_scene(s: Session, here: Spot, *, phone: str = PHONE, category: str = "0601") -> Incident:
    """An incident reported by 赵六 with the grid officer arrived on the scene."""
    set_status(s, [here.officer], DutyStatus.AVAILABLE)
    data = report(
        category, here.point, address="城关镇和平路8号", reporter_name="赵六", reporter_phone=phone
    )
    incident = incidents.create_incident(s, actor=SYSTEM.actor, data=data, route=False).incident
    assignment = dispatch.dispatch_person(
        s, actor=SYSTEM.actor, incident=incident, person=here.officer
    )
    incidents.accept(s, actor=SYSTEM.actor, assignment=assignment)
    incidents.arrive(s, actor=SYSTEM.actor, assignment=assignment)
    return incident


def earlier_call(s: Session, here: Spot, days_ago: int, phone: str = PHONE) -> None:
    data = report(
        "0601",
        here.point,
        reporter_phone=phone,
        received_at=utcnow() - timedelta(days=days_ago),
    )
    incidents.create_incident(s, actor=SYSTEM.actor, data=data, route=False)


def test_incident_handled_as_dispute_becomes_one(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        here = spot(s, "QX-CG")
        # the same number called 5 and 20 days ago (counted) and 40 days ago (not)
        for days in (5, 20, 40):
            earlier_call(s, here, days)
        earlier_call(s, here, 2, phone="13700000000")  # another number: not counted
        incident = on_scene(s, here)
        incidents.finish(s, actor=SYSTEM.actor, incident=incident, disposition=Disposition.DISPUTE)
        [d] = s.scalars(select(Dispute).where(Dispute.incident_id == incident.id)).all()
        assert d.source is DisputeSource.INCIDENT and d.type_code == "neighbour"
        assert d.category_code == "0601"
        assert (d.grid_id, d.station_id) == (here.grid.id, here.station.id)
        assert d.place == "城关镇和平路8号" and (d.lon, d.lat) == here.point
        # 3 calls in 30 days (this one included): 10 × (3 − 1) = 20 → orange
        assert d.risk_answers["repeated_calls"] == 3
        assert d.risk_level is RiskLevel.ORANGE
        [applicant] = service.parties_of(s, d.id)
        assert (applicant.side, applicant.name, applicant.phone) == (
            PartySide.APPLICANT,
            "赵六",
            PHONE,
        )
        assert d.responsible_person_id == here.officer.id
        assert d.number.startswith("JF") and kinds_of(s, d.id) == ["registered"]
        assert incidents.linked_records(s, incident.id)[1] == d.number


@pytest.mark.parametrize(("category", "kind"), [("0604", "wages"), ("0606", "property")])
def test_conversion_kind_follows_the_category(
    county: sessionmaker[Session], category: str, kind: str
) -> None:
    with unit_of_work(county) as s:
        incident = on_scene(s, spot(s, "QX-CG"), category=category)
        d, created = conversion.convert_incident(s, SYSTEM, incident.id)
        assert created and d.type_code == kind
        # one call only: no points for repeated calls
        assert d.risk_answers["repeated_calls"] == 1 and d.risk_level is RiskLevel.YELLOW


def test_converting_twice_answers_the_same_dispute(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        incident = on_scene(s, spot(s, "QX-CG"))
        incident_id = incident.id
        d, created = conversion.convert_incident(s, SYSTEM, incident_id)
        assert created
    with unit_of_work(county) as s:
        again, created = conversion.convert_incident(s, principal_of(s, "officer"), incident_id)
        assert not created and again.id == d.id
        # handling it as a dispute afterwards adds no second one either
        inc = s.get(Incident, incident_id)
        assert inc is not None
        incidents.handle(s, actor=SYSTEM.actor, incident=inc, disposition=Disposition.DISPUTE)
        assert s.scalar(select(func.count()).where(Dispute.incident_id == incident_id)) == 1


# --------------------------------------------------------------------------- lists and scope


def test_list_filters(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        a = place(s, "城关镇列表路1号")
        b = place(s, "城关镇列表路2号", offset=1)
        red = new_dispute(s, at=a, risk={"threats": True})
        old = new_dispute(s, at=b, type_code="wages", found_on=service.today() - timedelta(days=9))
        up = new_dispute(s, at=b)
        mediation.escalate(s, SYSTEM, up.id, EscalateIn(to=MediationLevel.STATION, reason="大"))

        def ids(**f: object) -> set[int]:
            return {d.id for d in service.list_disputes(s, SYSTEM, **f)}  # type: ignore[arg-type]

        assert ids() == {red.id, old.id, up.id}
        assert ids(risk="red") == {red.id}
        assert ids(status="mediating") == {up.id}  # escalating starts mediation
        assert ids(status="registered") == {red.id, old.id}
        assert ids(level="station") == {up.id}
        assert ids(type_code="wages") == {old.id}
        assert ids(grid_id=b.grid.id) == {old.id, up.id}
        assert ids(found_from=service.today() - timedelta(days=1)) == {red.id, up.id}
        assert len(service.list_disputes(s, SYSTEM, limit=1)) == 1
        for name, bad in (("status", "open"), ("level", "county"), ("risk", "green")):
            with pytest.raises(InvalidInput) as err:
                service.list_disputes(s, SYSTEM, **{name: bad})  # type: ignore[arg-type]
            assert f"“{bad}” is not one of" in err.value.message


def test_who_sees_which_dispute(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        worker = principal_of(s, "gridworker")
        [own] = sorted(worker.grid_ids or ())
        here = place(s, "城关镇可见路1号")
        assert here.grid.id == own
        mine = new_dispute(s, at=here)
        next_door = new_dispute(s, at=place(s, "城关镇可见路2号", offset=1))
        far = new_dispute(s, at=place(s, "龙门镇可见路3号", station_code="QX-LM"))

        def seen(who: str) -> set[int]:
            return {d.id for d in service.list_disputes(s, principal_of(s, who))}

        assert seen("gridworker") == {mine.id}
        assert seen("chief") == seen("officer") == seen("legal") == {mine.id, next_door.id}
        assert far.id in {d.id for d in service.list_disputes(s, SYSTEM)}
        with pytest.raises(Forbidden):
            service.get_dispute(s, worker, next_door.id)
        with pytest.raises(Forbidden):
            service.get_dispute(s, principal_of(s, "chief"), far.id)
        # the legal supervisor reads (audited) but may not mediate
        legal = principal_of(s, "legal")
        assert service.get_dispute(s, legal, mine.id) is mine
        assert any(a.action is AuditAction.READ for a in audits(s, "dispute", mine.id))
        with pytest.raises(Forbidden):
            mediation.escalate(s, legal, mine.id, EscalateIn(to=MediationLevel.STATION, reason="r"))
        # the administrator has no access to dispute records at all
        admin = principal_of(s, "admin")
        with pytest.raises(Forbidden):
            service.list_disputes(s, admin)
        with pytest.raises(Forbidden):
            service.get_dispute(s, admin, mine.id)
