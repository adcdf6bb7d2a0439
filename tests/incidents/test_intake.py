"""Intake: the API with its Idempotency-Key, validation, masking and placement; the bulk
import of historical incidents (placed, idempotent, all or nothing)."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from fengqiao.audit.models import AuditAction, AuditEvent
from fengqiao.audit.service import SYSTEM
from fengqiao.config import Settings
from fengqiao.db import make_engine, make_sessionmaker
from fengqiao.importfiles import ImportRejected
from fengqiao.incidents import service as incidents
from fengqiao.incidents.importing import import_incidents
from fengqiao.incidents.models import (
    Channel,
    Disposition,
    Incident,
    IncidentEvent,
    IncidentStatus,
    Priority,
)
from fengqiao.org.models import PersonKind, PoliceDistrict, PoliceGrid
from tests.conftest import bearer, login_token
from tests.incidents.helpers import (
    grid_person,
    grids_of,
    inside,
    report,
    rural_station,
    station,
    tmp_csv,
)


def _count(settings: Settings, *where: object) -> int:
    engine = make_engine(settings)
    with make_sessionmaker(engine)() as session:
        n = session.scalar(select(func.count()).select_from(Incident).where(*where))  # type: ignore[arg-type]
    engine.dispose()
    return int(n or 0)


def _grid_point(settings: Settings, station_code: str = "QX-CG") -> tuple[str, tuple[float, float]]:
    engine = make_engine(settings)
    with make_sessionmaker(engine)() as session:
        grid = grids_of(session, station(session, station_code).id)[3]
        code, point = grid.code, inside(grid)
    engine.dispose()
    return code, point


def _body(point: tuple[float, float] | None = None, **extra: object) -> dict[str, object]:
    body: dict[str, object] = {"channel": "phone", "category_code": "0601"}
    if point is not None:
        body.update(lon=point[0], lat=point[1])
    body.update(extra)
    return body


# --------------------------------------------------------------------------- the API


def test_idempotency_key_returns_the_first_incident(
    api: TestClient, county_settings: Settings
) -> None:
    headers = bearer(login_token(api, "command"))
    _code, point = _grid_point(county_settings)
    key = {"Idempotency-Key": "app-7f3c2a91-0001"}

    first = api.post("/api/v1/incidents", json=_body(point), headers=headers | key)
    assert first.status_code == 201, first.text
    # A retry, even with a changed body, returns the first incident.
    retry = api.post(
        "/api/v1/incidents", json=_body(point, category_code="0203"), headers=headers | key
    )
    assert retry.status_code == 200, retry.text
    assert retry.json()["id"] == first.json()["id"]
    assert retry.json()["category_code"] == "0601"
    assert _count(county_settings, Incident.idempotency_key == key["Idempotency-Key"]) == 1
    assert _count(county_settings) == 1

    other = api.post("/api/v1/incidents", json=_body(point), headers=headers)
    assert other.status_code == 201
    assert other.json()["id"] != first.json()["id"]
    again = api.post("/api/v1/incidents", json=_body(point), headers=headers)
    assert again.status_code == 201
    assert _count(county_settings) == 3


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        pytest.param(_body(), 422, ["lon", "address"], id="no-point-no-address"),
        pytest.param(_body(lon=117.0), 422, ["lat"], id="only-lon"),
        pytest.param(_body(lat=25.1, address="x"), 422, ["lon"], id="only-lat"),
        pytest.param(
            _body((117.0, 25.16), category_code="0000"), 422, ["0000", "category"], id="cat-0000"
        ),
        pytest.param(
            _body((117.0, 25.16), category_code="06"), 422, ["06", "category"], id="cat-top-level"
        ),
        pytest.param(_body((200.0, 25.16)), 422, ["lon"], id="lon-out-of-range"),
        pytest.param(
            _body((117.0, 25.16), reporter_phone="call me"), 422, ["reporter_phone"], id="phone"
        ),
        pytest.param(_body((117.0, 25.16), channel="pigeon"), 422, ["channel"], id="channel"),
        pytest.param(
            {"category_code": "0601", "address": "x"}, 422, ["channel"], id="missing-channel"
        ),
    ],
)
def test_validation_errors_name_the_field(
    api: TestClient,
    county_settings: Settings,
    body: dict[str, object],
    status: int,
    words: list[str],
) -> None:
    headers = bearer(login_token(api, "command"))
    response = api.post("/api/v1/incidents", json=body, headers=headers)
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    text = (
        detail
        if isinstance(detail, str)
        else " ".join(f"{'.'.join(map(str, d['loc']))}: {d['msg']}" for d in detail)
    )
    for word in words:
        assert word in text, text
    assert _count(county_settings) == 0


def test_reporter_is_masked_in_the_response(api: TestClient, county_settings: Settings) -> None:
    headers = bearer(login_token(api, "command"))
    _code, point = _grid_point(county_settings)
    body = _body(point, reporter_name="欧阳明华", reporter_phone="13812345678")

    created = api.post("/api/v1/incidents", json=body, headers=headers)
    assert created.status_code == 201
    read = api.get(f"/api/v1/incidents/{created.json()['id']}", headers=headers)
    for response in (created, read):
        data = response.json()
        assert data["reporter_name_masked"] == "欧***"
        assert data["reporter_phone_masked"] == "138****5678"
        assert "明华" not in response.text
        assert "13812345678" not in response.text
    queue = api.get("/api/v1/incidents/open", headers=headers)
    assert "13812345678" not in queue.text and "明华" not in queue.text


def test_api_places_the_incident_in_the_grid_holding_the_point(
    api: TestClient, county_settings: Settings
) -> None:
    headers = bearer(login_token(api, "admin"))
    for station_code in ("QX-CG", None):
        engine = make_engine(county_settings)
        with make_sessionmaker(engine)() as session:
            st = station(session, station_code) if station_code else rural_station(session)
            grid = grids_of(session, st.id)[-1]
            code, point, st_code = grid.code, inside(grid), st.code
        engine.dispose()
        response = api.post("/api/v1/incidents", json=_body(point), headers=headers)
        assert response.status_code == 201
        assert response.json()["grid_code"] == code
        assert response.json()["station_code"] == st_code


# --------------------------------------------------------------------------- placement


def _brute_force(grids: list[PoliceGrid], lon: float, lat: float) -> int | None:
    """The grid whose polygon holds the point (a border point: the smallest id)."""
    point = shapely.Point(lon, lat)
    holding = [g.id for g in grids if g.geometry.covers(point)]
    return min(holding) if holding else None


def test_placement_matches_the_polygons(county: sessionmaker[Session]) -> None:
    rnd = random.Random(5)
    with county() as session:
        grids = list(session.scalars(select(PoliceGrid).order_by(PoliceGrid.id)))
        districts = {d.id: d.station_id for d in session.scalars(select(PoliceDistrict))}
        minx, miny, maxx, maxy = shapely.union_all([g.geometry for g in grids]).bounds
        points = [
            (rnd.uniform(minx - 0.02, maxx + 0.02), rnd.uniform(miny - 0.02, maxy + 0.02))
            for _ in range(40)
        ]
        # Vertices of grid outlines: points on shared borders.
        for g in rnd.sample(grids, 5):
            x, y = g.geometry.exterior.coords[0]
            points.append((x, y))
        expected_outside = 0
        for lon, lat in points:
            expected = _brute_force(grids, lon, lat)
            expected_outside += expected is None
            incident = incidents.create_incident(
                session, actor=SYSTEM, data=report("0802", (lon, lat)), route=False
            ).incident
            assert incident.grid_id == expected, (lon, lat)
            if expected is None:
                assert incident.district_id is None and incident.station_id is None
                assert incident.needs_attention
            else:
                grid = session.get(PoliceGrid, expected)
                assert grid is not None
                assert incident.district_id == grid.district_id
                assert incident.station_id == districts[grid.district_id]
                assert not incident.needs_attention
        assert 0 < expected_outside < len(points)


def test_service_idempotency_key(county: sessionmaker[Session]) -> None:
    with county() as session:
        point = inside(grids_of(session, station(session, "QX-CG").id)[0])
        first = incidents.create_incident(
            session, actor=SYSTEM, data=report("0601", point), idempotency_key="k-1"
        )
        second = incidents.create_incident(
            session, actor=SYSTEM, data=report("0203", point), idempotency_key="k-1"
        )
        assert first.created and not second.created
        assert second.incident.id == first.incident.id
        assert session.scalar(select(func.count()).select_from(Incident)) == 1
        creates = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.object_type == "incident", AuditEvent.action == AuditAction.CREATE)
        )
        assert creates == 1


# --------------------------------------------------------------------------- bulk import

HEADER = [
    "key",
    "received_at",
    "channel",
    "category_code",
    "priority",
    "lon",
    "lat",
    "address",
    "description",
    "reporter_name",
    "reporter_phone",
    "dispatched_at",
    "accepted_at",
    "arrived_at",
    "handled_at",
    "closed_at",
    "responder_no",
    "disposition",
]


def _row(row_key: str, point: tuple[float, float], **values: str) -> list[str]:
    row = dict.fromkeys(HEADER, "")
    row.update(
        key=row_key,
        received_at="2026-03-01 20:15:00",
        channel="phone",
        category_code="0601",
        lon=f"{point[0]:.6f}",
        lat=f"{point[1]:.6f}",
    )
    row.update(values)
    return [row[h] for h in HEADER]


def _good_rows(session: Session) -> tuple[list[list[str]], list[int | None]]:
    """Four good rows and the grid each must land in."""
    urban = grids_of(session, station(session, "QX-CG").id)[0]
    rural = grids_of(session, rural_station(session).id)[0]
    responder = grid_person(session, urban.id, PersonKind.OFFICER)
    assert responder is not None
    rows = [
        _row(
            "110-0001",
            inside(urban),
            dispatched_at="2026-03-01 20:16:00",
            accepted_at="2026-03-01 20:17:00",
            arrived_at="2026-03-01 20:25:00",
            handled_at="2026-03-01 21:00:00",
            closed_at="2026-03-01T13:30:00+00:00",
            disposition="settled",
            reporter_name="王小明",
            reporter_phone="13900001111",
            responder_no=responder.personnel_no,
        ),
        _row(
            "110-0002",
            inside(rural),
            channel="电话",
            category_code="0101",
            priority="紧急",
            dispatched_at="2026-03-02 08:00:00",
            handled_at="2026-03-02 09:00:00",
            disposition="转案件",
        ),
        _row("110-0003", inside(rural), category_code="0701"),  # still open: received only
        _row(
            "110-0004",
            (116.5, 25.0),
            category_code="9902",
            handled_at="2026-03-01 20:20:00",
            disposition="no_action",
        ),  # outside every grid
    ]
    return rows, [urban.id, rural.id, rural.id, None]


def test_import_places_rows_and_is_idempotent(
    county: sessionmaker[Session], tmp_path: Path
) -> None:
    with county() as session:
        rows, grids = _good_rows(session)
        path = tmp_csv(tmp_path / "history.csv", HEADER, rows)

        first = import_incidents(session, path, actor=SYSTEM)
        session.flush()
        assert first.created == ["110-0001", "110-0002", "110-0003", "110-0004"]
        by_key = {
            i.idempotency_key: i for i in session.scalars(select(Incident).order_by(Incident.id))
        }
        assert [by_key[k].grid_id for k in first.created] == grids
        assert by_key["110-0004"].needs_attention and by_key["110-0004"].station_id is None

        closed = by_key["110-0001"]
        assert closed.status is IncidentStatus.CLOSED
        assert closed.disposition is Disposition.SETTLED
        assert closed.received_at == datetime(2026, 3, 1, 12, 15, tzinfo=UTC)  # China time
        assert closed.closed_at == datetime(2026, 3, 1, 13, 30, tzinfo=UTC)
        assert closed.reporter_phone == "13900001111"
        assert (
            closed.responsible_person_id
            == grid_person(session, closed.grid_id or 0, PersonKind.OFFICER).id
        )  # type: ignore[union-attr]
        events = session.scalars(
            select(IncidentEvent.status)
            .where(IncidentEvent.incident_id == closed.id)
            .order_by(IncidentEvent.at)
        ).all()
        assert list(events) == list(IncidentStatus)

        case = by_key["110-0002"]
        assert case.channel is Channel.PHONE and case.priority is Priority.URGENT
        assert case.disposition is Disposition.CASE and case.status is IncidentStatus.HANDLED
        assert by_key["110-0003"].status is IncidentStatus.RECEIVED
        assert by_key["110-0003"].priority is Priority.HIGH  # the category's default

        second = import_incidents(session, path, actor=SYSTEM)
        session.flush()
        assert second.created == [] and second.unchanged == 4
        assert session.scalar(select(func.count()).select_from(Incident)) == 4
        imports = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == AuditAction.IMPORT, AuditEvent.object_type == "incidents")
        )
        assert imports == 1


BAD_ROWS = [
    pytest.param(
        {
            "dispatched_at": "2026-03-01 20:20:00",
            "accepted_at": "2026-03-01 20:10:00",
        },
        "accepted_at",
        id="time-runs-backwards",
    ),
    pytest.param(
        {"received_at": "2026-03-01 20:15:00", "arrived_at": "2026-03-01 19:00:00"},
        "arrived_at",
        id="arrival-before-call",
    ),
    pytest.param({"category_code": "0000"}, "category_code", id="unknown-category"),
    pytest.param({"category_code": "06"}, "category_code", id="top-level-category"),
    pytest.param(
        {"handled_at": "2026-03-01 21:00:00", "closed_at": "2026-03-01 21:05:00"},
        "disposition",
        id="handled-without-disposition",
    ),
    pytest.param(
        {"closed_at": "2026-03-01 21:05:00"}, "disposition", id="closed-without-disposition"
    ),
    pytest.param({"received_at": "yesterday evening"}, "received_at", id="bad-time"),
    pytest.param({"received_at": ""}, "received_at", id="missing-time"),
    pytest.param({"lon": ""}, "lon/lat", id="missing-point"),
    pytest.param({"channel": "pigeon"}, "channel", id="bad-channel"),
    pytest.param({"disposition": "arrested"}, "disposition", id="bad-disposition"),
    pytest.param(
        {"disposition": "settled", "dispatched_at": "2026-03-01 20:16:00"},
        "handled_at",
        id="disposition-before-handling",
    ),
    pytest.param({"responder_no": "NOPE-1"}, "responder_no", id="unknown-responder"),
    pytest.param({"key": "110-0001"}, "key", id="duplicate-key"),
]


@pytest.mark.parametrize(("bad", "field"), BAD_ROWS)
def test_a_bad_row_rejects_the_whole_file(
    county: sessionmaker[Session], tmp_path: Path, bad: dict[str, str], field: str
) -> None:
    with county() as session:
        rows, _grids = _good_rows(session)
        point = (float(rows[0][HEADER.index("lon")]), float(rows[0][HEADER.index("lat")]))
        rows.append(_row("110-0005", point, **bad))
        path = tmp_csv(tmp_path / "history.csv", HEADER, rows)

        with pytest.raises(ImportRejected) as rejected:
            import_incidents(session, path, actor=SYSTEM)

        problems = rejected.value.problems
        assert [(p.where, p.field) for p in problems] == [("row 6", field)]
        message = str(rejected.value)
        assert "history.csv" in message and "row 6" in message and field in message
        assert rejected.value.status == 422
        session.flush()
        assert session.scalar(select(func.count()).select_from(Incident)) == 0
        assert session.scalar(select(func.count()).select_from(IncidentEvent)) == 0
