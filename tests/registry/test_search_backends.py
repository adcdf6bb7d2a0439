"""搜一搜 through the service on SQLite and PostgreSQL (where fragments go through the
GIN index of search terms): every kind of query finds what it should, within scope,
with the search audited."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from fengqiao.accounts.models import UserAccount
from fengqiao.audit.models import AuditEvent
from fengqiao.auth import Principal, build_principal
from fengqiao.db import unit_of_work
from fengqiao.errors import InvalidInput
from fengqiao.org.models import GridAssignment, PoliceGrid
from fengqiao.registry import addresses, people, search
from fengqiao.registry.identity import check_character
from fengqiao.registry.models import EstablishmentKind, ResidentKind
from tests.incidents.helpers import inside

ID17 = "42010219900101123"
ID = ID17 + check_character(ID17)


def _principal(session: Session, username: str) -> Principal:
    user = session.scalars(select(UserAccount).where(UserAccount.username == username)).one()
    return build_principal(session, user)


def _seed(session: Session) -> tuple[Principal, int, int]:
    chief = _principal(session, "chief")
    aux = _principal(session, "auxiliary")
    assert aux.grid_ids and chief.station_ids
    own = session.get_one(PoliceGrid, min(aux.grid_ids))
    other = session.scalars(
        select(PoliceGrid).where(
            PoliceGrid.active(),
            PoliceGrid.id.not_in(aux.grid_ids),
            PoliceGrid.district.has(station_id=own.district.station_id),
        )
    ).first()
    assert other is not None
    home = addresses.add_address(
        session, chief, text="幸福路12号3栋2单元301室", lon=inside(own)[0], lat=inside(own)[1]
    ).address
    away = addresses.add_address(
        session, chief, text="胜利街8号1栋1单元502室", lon=inside(other)[0], lat=inside(other)[1]
    ).address
    people.add_resident(
        session,
        chief,
        name="张伟",
        kind=ResidentKind.REGISTERED,
        address_id=home.id,
        id_number=ID,
        phone="13812345678",
    )
    people.add_resident(
        session,
        chief,
        name="李小明",
        kind=ResidentKind.TENANT,
        address_id=home.id,
        phone="13900001111",
    )
    people.add_resident(
        session, chief, name="张小红", kind=ResidentKind.FLOATING, address_id=away.id
    )
    people.add_establishment(
        session,
        chief,
        people.EstablishmentInput(
            name="星空网吧", kind=EstablishmentKind.INTERNET_CAFE, address_id=home.id
        ),
    )
    return chief, home.id, away.id


def test_every_kind_of_query(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as session:
        chief, home_id, away_id = _seed(session)

        def names(q: str) -> set[str]:
            return {p.name for p in search.search(session, chief, q).residents}

        assert names("张伟") == {"张伟"}
        assert names("小明") == {"李小明"}  # a fragment of the given name
        assert names("张") == {"张伟", "张小红"}  # a surname
        assert names("zw") == {"张伟"}  # pinyin initials
        assert names("lxm") == {"李小明"}
        assert names("5678") == {"张伟"}  # phone tail
        assert names(ID) == {"张伟"}
        assert names(ID.lower()) == {"张伟"}
        found = search.search(session, chief, "3栋2单元")
        # The unit and the room below it, nothing of the other building.
        assert [a.full_name[-9:] for a in found.addresses] == ["路12号3栋2单元", "3栋2单元301室"]
        assert found.addresses[-1].id == home_id
        assert [a.id for a in search.search(session, chief, "1栋1单元502").addresses] == [away_id]
        assert [e.name for e in search.search(session, chief, "网吧").establishments] == [
            "星空网吧"
        ]
        assert search.search(session, chief, "幸福路12号").mode == "name"
        assert search.search(session, chief, "王五").count == 0
        audited = session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "search")
        )
        assert audited == 13  # one per search above


def test_a_grid_scoped_role_finds_only_its_grid(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as session:
        _seed(session)
        aux = _principal(session, "auxiliary")
        own = set(
            session.scalars(
                select(GridAssignment.grid_id).where(GridAssignment.person_id == aux.person_id)
            )
        )
        hits = search.search(session, aux, "张")
        assert {p.name for p in hits.residents} == {"张伟"}
        assert all(p.grid_id in own for p in hits.residents)
        assert search.search(session, aux, "502").addresses == []


def test_numbers_are_recognised_whatever_their_separators() -> None:
    assert search.classify("138-1234-5678") == ("phone", "13812345678")
    assert search.classify("+86 138 1234 5678") == ("phone", "13812345678")
    assert search.classify(f" {ID[:6]} {ID[6:14]} {ID[14:].lower()}") == ("id_number", ID)
    assert search.classify("5678") == ("phone_tail", "5678")
    assert search.classify("ZW") == ("initials", "zw")
    # A name keeps its own characters for the LIKE check (the terms are normalised apart).
    assert search.classify("阿卜杜·热合曼") == ("name", "阿卜杜·热合曼")


def test_a_phone_typed_with_dashes_is_found_and_never_logged(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as session:
        chief, _home, _away = _seed(session)
        assert [p.name for p in search.search(session, chief, "138-1234-5678").residents] == [
            "张伟"
        ]
        detail = session.scalars(
            select(AuditEvent.detail)
            .where(AuditEvent.action == "search")
            .order_by(AuditEvent.id.desc())
        ).first()
        assert detail is not None and "5678" not in detail and "1381234" not in detail


def test_a_grid_scoped_role_sees_only_its_grid_on_a_shared_road(
    county: sessionmaker[Session],
) -> None:
    with unit_of_work(county) as session:
        chief, home_id, _away = _seed(session)
        aux = _principal(session, "auxiliary")
        home = session.get_one(addresses.Address, home_id)
        road = addresses.ancestors(session, home)[0]
        assert road.name == "幸福路" and road.grid_id in (aux.grid_ids or ())
        # A second house on the same road, in a grid the auxiliary does not serve.
        other = session.scalars(
            select(PoliceGrid).where(
                PoliceGrid.active(),
                PoliceGrid.id.not_in(aux.grid_ids or ()),
                PoliceGrid.district.has(station_id=home.station_id),
            )
        ).first()
        assert other is not None
        far = addresses.add_address(
            session,
            chief,
            text="幸福路30号1栋1单元101室",
            lon=inside(other)[0],
            lat=inside(other)[1],
        ).address
        assert addresses.ancestors(session, far)[0].id == road.id
        people.add_resident(
            session, chief, name="王五", kind=ResidentKind.REGISTERED, address_id=far.id
        )
        seen_by_chief = {p.name for p in people.residents_at(session, chief, road)}
        seen_by_aux = {p.name for p in people.residents_at(session, aux, road)}
        assert "王五" in seen_by_chief and "王五" not in seen_by_aux
        assert seen_by_aux == {"张伟", "李小明"}


def test_a_grid_worker_adds_an_unplaced_address_only_with_a_position(
    county: sessionmaker[Session],
) -> None:
    with unit_of_work(county) as session:
        aux = _principal(session, "auxiliary")
        assert aux.grid_ids
        own = session.get_one(PoliceGrid, min(aux.grid_ids))
        with pytest.raises(InvalidInput, match="position"):
            addresses.add_address(session, aux, text="和平路7号")
        placed = addresses.add_address(
            session, aux, text="和平路7号", lon=inside(own)[0], lat=inside(own)[1]
        ).address
        assert placed.grid_id == own.id
