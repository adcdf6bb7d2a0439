"""The mediation agreement at the service level, on SQLite and PostgreSQL: drawing it up,
retries, revisits it schedules, superseding after re-opening, the printed PDF and the
signed scan."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from fengqiao.audit.models import AuditAction
from fengqiao.db import unit_of_work
from fengqiao.disputes import agreements, mediation, revisits, service
from fengqiao.disputes.agreements import MAX_SCAN_BYTES
from fengqiao.disputes.models import (
    Dispute,
    DisputeStatus,
    MediationAgreement,
    MediationLevel,
    MediatorKind,
    Outcome,
    PartySide,
)
from fengqiao.disputes.schemas import AgreementIn, EscalateIn, PartyIn
from fengqiao.errors import Conflict, InvalidInput
from fengqiao.org.models import Station
from tests.disputes.helpers import add_mediator, audits, events_of, new_dispute, staffed
from tests.fraud.helpers import SYSTEM, id_number

DAYS = {"red": [3, 7, 15], "orange": [7, 30], "yellow": [20]}
PDF = b"%PDF-1.4\n%signed\n"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def agree(
    s: Session, d: Dispute, *terms: str, facts: str = "漏水致损", **extra: Any
) -> MediationAgreement:
    data = AgreementIn(facts=facts, terms=list(terms or ("李四赔偿张三2000元",)), **extra)
    return agreements.draw_up(s, SYSTEM, d.id, data, revisit_days=DAYS)


def ready(s: Session, **extra: Any) -> Dispute:
    d = new_dispute(s, **extra)
    staffed(s, d)
    return d


# --------------------------------------------------------------------------- drawing up


def test_draw_up_resolves_the_dispute(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        d = ready(s)
        mediation.escalate(s, SYSTEM, d.id, EscalateIn(to=MediationLevel.STATION, reason="大"))
        lawyer = add_mediator(
            s, d.station_id or 0, "赵律师", MediatorKind.LAWYER, organisation="某律所"
        )
        mediation.assign(s, SYSTEM, d.id, lawyer.id, lead=True)
        a = agree(
            s, d, "  李四赔偿张三2000元 ", "", "   ", "双方互不追究", performance=" 当场付清 "
        )
        assert a.terms == ["李四赔偿张三2000元", "双方互不追究"]
        assert a.performance == "当场付清" and a.level is MediationLevel.STATION
        assert a.number == f"（{a.signed_on.year}）调字第{a.id:05d}号"
        assert a.signed_on == service.today()
        station = s.get(Station, d.station_id)
        assert station is not None and a.organisation == station.name
        # the mediators of the current level only (not the grid one)
        assert [m["name"] for m in a.mediators] == ["赵律师"]
        assert a.mediators[0]["organisation"] == "某律所"
        assert [(p["side"], p["name"]) for p in a.parties] == [
            ("applicant", "张三"),
            ("respondent", "李四"),
        ]
        assert d.status is DisputeStatus.RESOLVED and d.outcome is Outcome.AGREEMENT
        assert d.resolved_level is MediationLevel.STATION and a.number in d.outcome_note
        [ev] = events_of(s, d.id, "agreement")
        assert ev.detail == {"agreement": a.id, "number": a.number, "terms": 2}


def test_an_agreement_needs_both_sides(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        lone = [PartyIn(side=PartySide.APPLICANT, name="张三")]
        d = ready(s, parties=lone)
        with pytest.raises(InvalidInput, match="applicant and a respondent"):
            agree(s, d)
        assert d.status is DisputeStatus.MEDIATING
        service.add_party(s, SYSTEM, d.id, PartyIn(side=PartySide.RESPONDENT, name="李四"))
        assert agree(s, d).parties[1]["name"] == "李四"


def test_an_agreement_needs_mediators_of_the_current_level(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        d = ready(s)  # a mediator at the grid level …
        mediation.escalate(s, SYSTEM, d.id, EscalateIn(to=MediationLevel.STATION, reason="大"))
        with pytest.raises(InvalidInput, match="mediators of this level"):
            agree(s, d)
        staffed(s, d)  # … and now one at the station level
        assert agree(s, d).level is MediationLevel.STATION


def test_bad_agreements_refused(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        today = service.today()
        d = ready(s, found_on=today - timedelta(days=5))
        with pytest.raises(InvalidInput, match="at least one term"):
            agree(s, d, "  ", "")
        with pytest.raises(InvalidInput, match="Terms 2 are longer"):
            agree(s, d, "短", "长" * 1001)
        with pytest.raises(InvalidInput, match="future day"):
            agree(s, d, signed_on=today + timedelta(days=1))
        with pytest.raises(InvalidInput, match="before the dispute was found"):
            agree(s, d, signed_on=today - timedelta(days=6))
        assert agreements.agreements_of(s, d.id) == [] and d.status is DisputeStatus.MEDIATING


def test_a_retry_answers_the_same_agreement(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        d = ready(s)
        a = agree(s, d, "赔偿2000元", "互不追究")
        did, aid = d.id, a.id
    with unit_of_work(county) as s:
        d2 = s.get(Dispute, did)
        assert d2 is not None
        events = len(service.timeline(s, did))
        again = agree(s, d2, " 赔偿2000元", "互不追究 ", "")
        assert again.id == aid
        assert len(service.timeline(s, did)) == events
        assert s.scalar(select(func.count()).select_from(MediationAgreement)) == 1
        # other terms on a closed dispute are a change, refused until it is re-opened
        with pytest.raises(Conflict):
            agree(s, d2, "赔偿3000元")


@pytest.mark.parametrize(
    ("risk", "level"),
    [({"threats": True}, "red"), ({"violence": True}, "orange"), ({}, "yellow")],
)
def test_revisits_follow_the_risk_level(
    county: sessionmaker[Session], risk: dict[str, bool], level: str
) -> None:
    with unit_of_work(county) as s:
        d = ready(s, risk=risk)
        assert d.risk_level.value == level
        a = agree(s, d)
        ups = revisits.follow_ups_of(s, d.id)
        assert [u.due_on for u in ups] == [a.signed_on + timedelta(days=n) for n in DAYS[level]]
        assert all(u.grid_id == d.grid_id and u.dispute_id == d.id for u in ups)
        [ev] = events_of(s, d.id, "revisits")
        assert ev.detail["due"] == [u.due_on.isoformat() for u in ups]


def test_revisits_count_from_the_day_signed(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        today = service.today()
        d = ready(s, risk={"threats": True}, found_on=today - timedelta(days=10))
        signed = today - timedelta(days=4)
        agree(s, d, signed_on=signed)
        ups = revisits.follow_ups_of(s, d.id)
        # red: 3, 7, 15 … days after signing; the one already past (3 days) is due today
        due = [signed + timedelta(days=n) for n in DAYS["red"]]
        assert due[0] < today
        assert [u.due_on for u in ups] == sorted({today, *(d for d in due if d >= today)})


def test_a_new_agreement_after_reopening_supersedes_the_old(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        d = ready(s)
        old = agree(s, d, "赔偿2000元")
        mediation.reopen(s, SYSTEM, d.id, reason="未履行")
        assert d.status.value == "mediating"
        # the old terms again after re-opening are a new agreement, not a retry
        new = agree(s, d, "赔偿2000元", "月底前付清")
        assert new.id != old.id and old.superseded and not new.superseded
        assert [x.id for x in agreements.agreements_of(s, d.id)] == [old.id, new.id]
        current = mediation.current_agreement(s, d.id)
        assert current is not None and current.id == new.id
        assert d.status is DisputeStatus.RESOLVED and d.reopen_count == 1
        with pytest.raises(Conflict, match="superseded"):
            agreements.attach_scan(s, SYSTEM, old.id, PDF)


# --------------------------------------------------------------------------- PDF


def test_the_printed_agreement(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        people = [
            PartyIn(side=PartySide.APPLICANT, name="张三", gender="male", id_number=id_number(1)),
            PartyIn(side=PartySide.RESPONDENT, name="李四", phone="13987654321"),
            PartyIn(side=PartySide.THIRD, name="王五物业公司", is_organisation=True),
        ]
        d = new_dispute(s, parties=people)
        m1 = add_mediator(s, d.station_id or 0, "钱网格")
        m2 = add_mediator(s, d.station_id or 0, "孙书记", MediatorKind.VILLAGE_CADRE)
        mediation.assign(s, SYSTEM, d.id, m1.id, lead=True)
        mediation.assign(s, SYSTEM, d.id, m2.id, lead=False)
        terms = ["李四赔偿张三二千元", "物业公司修复水管", "双方今后互不追究"]
        a = agree(s, d, *terms, facts="楼上漏水致楼下吊顶受损")
        name, data = agreements.printable(s, SYSTEM, a.id)
        assert name == f"mediation-agreement-{d.number}-{a.id}.pdf" and data.startswith(b"%PDF")
        text = "".join(
            "".join((page.extract_text() or "").split())
            for page in PdfReader(io.BytesIO(data)).pages
        )
        for words in (
            "调解协议书",
            "当事人",
            "纠纷事实及争议事项",
            "经调解，各方当事人自愿达成如下协议",
            "签名及按指印",
            "楼上漏水致楼下吊顶受损",
            a.number,
            d.number,
            id_number(1),
            *(p.name for p in people),
            *terms,
            "钱网格",
            "孙书记",
        ):
            assert words in text, words
        [read] = [x for x in audits(s, "mediation_agreement", a.id) if x.action is AuditAction.READ]
        assert '"print"' in read.detail and f'"dispute": {d.id}' in read.detail


# --------------------------------------------------------------------------- scan


@pytest.mark.parametrize(
    ("raw", "kind"),
    [(PDF, "application/pdf"), (JPEG, "image/jpeg"), (PNG, "image/png")],
)
def test_scans_of_each_kind(county: sessionmaker[Session], raw: bytes, kind: str) -> None:
    with unit_of_work(county) as s:
        a = agree(s, ready(s))
        agreements.attach_scan(s, SYSTEM, a.id, raw)
        assert a.scan_content_type == kind and a.scan_data == raw
        assert a.scan_bytes == len(raw) and a.scan_sha256 == hashlib.sha256(raw).hexdigest()
        assert a.scan_uploaded_at is not None


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b"GIF89a" + b"\x00" * 10, "PDF, JPEG or PNG"),
        (b"PK\x03\x04 a zip", "PDF, JPEG or PNG"),
        (b"", "empty"),
        (b"%PDF-" + b"\x00" * MAX_SCAN_BYTES, "larger than 15 MB"),
    ],
)
def test_bad_scans_refused(county: sessionmaker[Session], raw: bytes, words: str) -> None:
    with unit_of_work(county) as s:
        d = ready(s)
        a = agree(s, d)
        with pytest.raises(InvalidInput, match=words):
            agreements.attach_scan(s, SYSTEM, a.id, raw)
        assert a.scan_data is None and events_of(s, d.id, "scan") == []


def test_the_same_scan_again_changes_nothing_and_another_replaces(
    county: sessionmaker[Session],
) -> None:
    with unit_of_work(county) as s:
        d = ready(s)
        a = agree(s, d)
        agreements.attach_scan(s, SYSTEM, a.id, PDF)
        first_at = a.scan_uploaded_at
        agreements.attach_scan(s, SYSTEM, a.id, PDF)
        assert a.scan_uploaded_at == first_at
        assert len(events_of(s, d.id, "scan")) == 1
        agreements.attach_scan(s, SYSTEM, a.id, JPEG)
        assert a.scan_data == JPEG and a.scan_content_type == "image/jpeg"
        first, second = events_of(s, d.id, "scan")
        old, new = hashlib.sha256(PDF).hexdigest(), hashlib.sha256(JPEG).hexdigest()
        assert first.detail == {"agreement": a.id, "sha256": old}  # nothing replaced
        assert second.detail == {"agreement": a.id, "sha256": new, "replaced": old}
