"""The registry JSON API: search, addresses, people, houses, units, files, duplicates;
masking, reveal, audit, data scope and provenance. Every test makes its own records."""

from __future__ import annotations

import io
import json
from typing import Any

from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fengqiao.audit.models import AuditAction, AuditEvent
from fengqiao.org.models import PoliceDistrict, PoliceGrid
from fengqiao.registry.identity import check_character
from fengqiao.registry.models import Address, Attachment, Resident
from tests.conftest import bearer, login_token

API = "/api/v1/registry"
HOME = "枫桥试验花园5栋1单元101室"


# --- helpers (also used by test_pages) ---------------------------------------------------


def db(client: TestClient) -> Session:
    session: Session = client.app.state.sessionmaker()  # type: ignore[attr-defined]
    return session


def as_user(client: TestClient, username: str) -> dict[str, str]:
    client.cookies.set("fq_lang", "en")
    return bearer(login_token(client, username))


def id_number(first17: str = "42010219900307123") -> str:
    return first17 + check_character(first17)


def wrong_check(number: str) -> str:
    return number[:17] + ("1" if number[17] != "1" else "2")


def grid_point(client: TestClient, grid_id: int) -> tuple[float, float]:
    with db(client) as session:
        grid = session.get_one(PoliceGrid, grid_id)
        point = grid.geometry.representative_point()
        return float(point.x), float(point.y)


def other_grid(client: TestClient, station_id: int = 1, not_id: int = 1) -> int:
    """An active grid of the station other than ``not_id`` (the auxiliary's grid)."""
    with db(client) as session:
        grid_id = session.scalars(
            select(PoliceGrid.id)
            .join(PoliceDistrict, PoliceDistrict.id == PoliceGrid.district_id)
            .where(
                PoliceDistrict.station_id == station_id,
                PoliceGrid.retired_at.is_(None),
                PoliceGrid.id != not_id,
            )
            .order_by(PoliceGrid.id)
        ).first()
    assert grid_id is not None
    return grid_id


def add_address(
    client: TestClient, headers: dict[str, str], text: str = HOME, **extra: Any
) -> dict[str, Any]:
    response = client.post(f"{API}/addresses", json={"text": text, **extra}, headers=headers)
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


def add_resident(
    client: TestClient, headers: dict[str, str], address_id: int, **fields: Any
) -> dict[str, Any]:
    body = {"name": "欧阳明月", "kind": "registered", "address_id": address_id, **fields}
    response = client.post(f"{API}/residents", json=body, headers=headers)
    assert response.status_code == 201, response.text
    out: dict[str, Any] = response.json()
    return out


def audit_rows(client: TestClient, action: AuditAction, object_type: str) -> list[AuditEvent]:
    with db(client) as session:
        return list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == action, AuditEvent.object_type == object_type)
                .order_by(AuditEvent.id)
            )
        )


def count(client: TestClient, model: type[Any]) -> int:
    with db(client) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def jpeg(width: int = 3000, height: int = 2000) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (30, 120, 200)).save(out, "JPEG")
    return out.getvalue()


def make_task(client: TestClient, chief: dict[str, str], grid_id: int = 1) -> int:
    response = client.post(
        "/api/v1/tasks",
        json={"kind": "household_visit", "title": "入户走访 test", "grid_id": grid_id},
        headers=chief,
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


# --- search ------------------------------------------------------------------------------


def test_search_by_name_initials_phone_tail_and_id_number(client: TestClient) -> None:
    officer = as_user(client, "officer")
    address = add_address(client, officer)["address"]
    number = id_number()
    person = add_resident(client, officer, address["id"], id_number=number, phone="139-0731-4826")
    before = len(audit_rows(client, AuditAction.SEARCH, "registry"))

    def hits(q: str) -> dict[str, Any]:
        response = client.get(f"{API}/search", params={"q": q, "limit": 50}, headers=officer)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    for query, mode in (("明月", "name"), ("oymy", "initials"), ("4826", "phone_tail")):
        body = hits(query)
        assert body["mode"] == mode, query
        found = [r for r in body["residents"] if r["id"] == person["id"]]
        assert found, f"{query} did not find the person"
        assert found[0]["phone"] == "139****4826"
        assert found[0]["id_number"] == "420***********" + number[-4:]
        assert found[0]["address"].endswith("101室")
    body = hits(number)
    assert body["mode"] == "id_number"
    assert [r["id"] for r in body["residents"]] == [person["id"]]
    body = hits("试验花园")
    assert address["id"] in {a["id"] for a in body["addresses"]}
    assert {"id", "full_name", "level", "grid_id", "code"} <= set(body["addresses"][0])
    searches = audit_rows(client, AuditAction.SEARCH, "registry")
    assert len(searches) == before + 5
    assert number not in "".join(e.detail for e in searches)  # the query is not kept in full


def test_empty_search_explains_what_to_type(client: TestClient) -> None:
    response = client.get(f"{API}/search", params={"q": " "}, headers=as_user(client, "officer"))
    assert response.status_code == 422
    assert "name" in response.json()["detail"]


# --- masking and reveal ------------------------------------------------------------------


def test_numbers_are_masked_in_every_response(client: TestClient) -> None:
    officer = as_user(client, "officer")
    address = add_address(client, officer)["address"]
    number = id_number()
    created = add_resident(client, officer, address["id"], id_number=number, phone="13907314826")
    texts = [json.dumps(created, ensure_ascii=False)]
    assert created["phone"] == "139****4826"
    for url in (
        f"{API}/residents/{created['id']}",
        f"{API}/addresses/{address['id']}",
        f"{API}/addresses/by-code/{address['code']}",
        f"{API}/search?q=明月",
    ):
        response = client.get(url, headers=officer)
        assert response.status_code == 200, url
        texts.append(response.text)
    patched = client.patch(
        f"{API}/residents/{created['id']}", json={"note": "新租户"}, headers=officer
    )
    assert patched.status_code == 200
    texts.append(patched.text)
    card = client.get(f"{API}/addresses/{address['id']}", headers=officer).json()
    assert card["residents"][0]["id_number"].startswith("420***")
    history = json.dumps(card["history"], ensure_ascii=False)
    texts.append(history)
    for text in texts:
        assert number not in text and "13907314826" not in text


def test_reveal_needs_a_reason_and_the_role(client: TestClient) -> None:
    officer = as_user(client, "officer")
    address = add_address(client, officer)["address"]
    number = id_number()
    person = add_resident(client, officer, address["id"], id_number=number, phone="13907314826")
    url = f"{API}/residents/{person['id']}/reveal"
    assert client.post(url, json={}, headers=officer).status_code == 422
    short = client.post(url, json={"reason": "no"}, headers=officer)
    assert short.status_code == 422
    assert "reason" in short.json()["detail"]
    shown = client.post(url, json={"reason": "核实身份 for a case"}, headers=officer)
    assert shown.status_code == 200
    assert shown.json() == {
        "id": person["id"],
        "name": "欧阳明月",
        "id_number": number,
        "phone": "13907314826",
    }
    reads = audit_rows(client, AuditAction.READ, "resident")
    assert json.loads(reads[-1].detail)["unmasked"] is True
    assert "核实身份" in reads[-1].detail
    auxiliary = as_user(client, "auxiliary")
    assert client.post(url, json={"reason": "核实身份"}, headers=auxiliary).status_code == 403
    admin = as_user(client, "admin")
    assert client.post(url, json={"reason": "核实身份"}, headers=admin).status_code == 403
    assert client.get(f"{API}/residents/{person['id']}", headers=admin).status_code == 403
    assert client.get(f"{API}/search?q=明月", headers=admin).status_code == 403
    assert client.get(f"{API}/addresses/{address['id']}", headers=admin).status_code == 403


def test_card_reads_are_audited(client: TestClient) -> None:
    officer = as_user(client, "officer")
    address = add_address(client, officer)["address"]
    person = add_resident(client, officer, address["id"])
    assert client.get(f"{API}/addresses/{address['id']}", headers=officer).status_code == 200
    assert client.get(f"{API}/residents/{person['id']}", headers=officer).status_code == 200
    address_reads = audit_rows(client, AuditAction.READ, "address")
    assert address_reads[-1].object_id == str(address["id"])
    assert address_reads[-1].username == "officer"
    assert audit_rows(client, AuditAction.READ, "resident")[-1].object_id == str(person["id"])


# --- addresses ---------------------------------------------------------------------------


def test_the_same_address_twice_creates_nothing_the_second_time(client: TestClient) -> None:
    officer = as_user(client, "officer")
    first = client.post(f"{API}/addresses", json={"text": HOME}, headers=officer)
    assert first.status_code == 201
    assert len(first.json()["created"]) == 4  # compound, building, unit, room
    rows = count(client, Address)
    again = client.post(
        f"{API}/addresses", json={"text": "枫桥试验花园 5 栋 1 单元 101 室"}, headers=officer
    )
    assert again.status_code == 200, again.text
    assert again.json()["created"] == []
    assert again.json()["address"]["id"] == first.json()["address"]["id"]
    assert count(client, Address) == rows
    room = first.json()["address"]
    assert room["level"] == "room" and room["full_name"] == HOME
    card = client.get(f"{API}/addresses/{room['id']}", headers=officer).json()
    assert [a["name"] for a in card["ancestors"]] == ["枫桥试验花园", "5栋", "1单元"]


def test_unparsable_address_is_refused_with_a_hint(client: TestClient) -> None:
    officer = as_user(client, "officer")
    rows = count(client, Address)
    for text in ("附近", "asdf"):
        response = client.post(f"{API}/addresses", json={"text": text}, headers=officer)
        assert response.status_code == 422, text
        detail = response.json()["detail"]
        assert text in detail and "e.g." in detail
    assert count(client, Address) == rows


def test_position_places_the_address_in_a_grid(client: TestClient) -> None:
    officer = as_user(client, "officer")
    lon, lat = grid_point(client, 1)
    address = add_address(client, officer, "青石板巷7号", lon=lon, lat=lat)["address"]
    assert address["grid_id"] == 1
    other = other_grid(client)
    lon2, lat2 = grid_point(client, other)
    moved = client.patch(
        f"{API}/addresses/{address['id']}/position",
        json={"lon": lon2, "lat": lat2},
        headers=officer,
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["grid_id"] == other
    outside = client.patch(
        f"{API}/addresses/{address['id']}/position", json={"lon": 0.5, "lat": 0.5}, headers=officer
    )
    assert outside.status_code == 422


# --- people ------------------------------------------------------------------------------


def test_bad_id_number_and_phone_are_refused_naming_the_problem(client: TestClient) -> None:
    officer = as_user(client, "officer")
    address = add_address(client, officer)["address"]
    rows = count(client, Resident)
    body = {"name": "李四", "kind": "tenant", "address_id": address["id"]}
    bad_id = client.post(
        f"{API}/residents", json={**body, "id_number": wrong_check(id_number())}, headers=officer
    )
    assert bad_id.status_code == 422
    assert "check character" in bad_id.json()["detail"]
    bad_phone = client.post(f"{API}/residents", json={**body, "phone": "12345"}, headers=officer)
    assert bad_phone.status_code == 422
    assert "phone number" in bad_phone.json()["detail"]
    bad_kind = client.post(f"{API}/residents", json={**body, "kind": "visitor"}, headers=officer)
    assert bad_kind.status_code == 422
    assert count(client, Resident) == rows


def test_update_resident_and_house_and_unit(client: TestClient) -> None:
    officer = as_user(client, "officer")
    address = add_address(client, officer)["address"]
    person = add_resident(client, officer, address["id"], phone="13907314826")
    patched = client.patch(
        f"{API}/residents/{person['id']}",
        json={"phone": "13800001111", "status": "moved_out"},
        headers=officer,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["phone"] == "138****1111"
    assert patched.json()["status"] == "moved_out"
    house = client.put(
        f"{API}/houses",
        json={"address_id": address["id"], "use": "rented", "owner_id": person["id"]},
        headers=officer,
    )
    assert house.status_code == 200, house.text
    assert house.json()["use"] == "rented"
    unit = client.post(
        f"{API}/establishments",
        json={
            "name": "星光网吧",
            "kind": "internet_cafe",
            "address_id": address["id"],
            "contact_name": "王五",
            "contact_phone": "13912340000",
        },
        headers=officer,
    )
    assert unit.status_code == 201, unit.text
    assert unit.json()["key_place"] is True and unit.json()["inspection_every_days"] == 14
    assert unit.json()["contact_phone"] == "139****0000"
    got = client.get(f"{API}/establishments/{unit.json()['id']}", headers=officer)
    assert got.status_code == 200 and got.json()["name"] == "星光网吧"
    assert audit_rows(client, AuditAction.READ, "establishment")[-1].object_id == str(
        unit.json()["id"]
    )
    card = client.get(f"{API}/addresses/{address['id']}", headers=officer).json()
    assert card["house"]["use"] == "rented"
    assert [u["name"] for u in card["establishments"]] == ["星光网吧"]
    assert card["residents"] == []  # moved out


# --- files -------------------------------------------------------------------------------


def test_photo_upload_is_resized_and_a_retry_is_stored_once(client: TestClient) -> None:
    officer = as_user(client, "officer")
    address = add_address(client, officer)["address"]
    form = {
        "object_type": "address",
        "object_id": str(address["id"]),
        "kind": "photo",
        "caption": "门牌",
        "client_key": "phone-upload-0001",
    }
    files = {"file": ("door.jpg", jpeg(), "image/jpeg")}
    stored = count(client, Attachment)
    first = client.post(f"{API}/attachments", data=form, files=files, headers=officer)
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["kind"] == "photo" and body["content_type"] == "image/jpeg"
    assert max(body["width"], body["height"]) == 1600
    again = client.post(f"{API}/attachments", data=form, files=files, headers=officer)
    assert again.status_code == 200
    assert again.json()["id"] == body["id"]
    assert count(client, Attachment) == stored + 1
    raw = client.get(f"/api/v1/attachments/{body['id']}", headers=officer)
    assert raw.status_code == 200
    assert raw.headers["content-type"] == "image/jpeg"
    assert raw.headers["cache-control"] == "private, max-age=3600"
    assert Image.open(io.BytesIO(raw.content)).size == (1600, 1067)
    thumb = client.get(f"/api/v1/attachments/{body['id']}/thumbnail", headers=officer)
    assert thumb.status_code == 200
    assert max(Image.open(io.BytesIO(thumb.content)).size) <= 320
    assert audit_rows(client, AuditAction.READ, "attachment")[-1].object_id == str(body["id"])
    card = client.get(f"{API}/addresses/{address['id']}", headers=officer).json()
    assert [a["id"] for a in card["attachments"]] == [body["id"]]
    assert "data" not in card["attachments"][0]
    assert (
        client.get(
            f"/api/v1/attachments/{body['id']}", headers=as_user(client, "admin")
        ).status_code
        == 403
    )


def test_a_text_file_is_not_a_photo(client: TestClient) -> None:
    officer = as_user(client, "officer")
    address = add_address(client, officer)["address"]
    stored = count(client, Attachment)
    response = client.post(
        f"{API}/attachments",
        data={"object_type": "address", "object_id": str(address["id"]), "kind": "photo"},
        files={"file": ("notes.txt", b"just some text, not an image", "text/plain")},
        headers=officer,
    )
    assert response.status_code == 422
    assert "notes.txt" in response.json()["detail"]
    assert count(client, Attachment) == stored


# --- scope and provenance ----------------------------------------------------------------


def test_grid_scoped_roles_read_only_their_grid(client: TestClient) -> None:
    chief = as_user(client, "chief")
    mine = add_address(
        client, chief, "青石板巷7号", lon=grid_point(client, 1)[0], lat=grid_point(client, 1)[1]
    )
    lon, lat = grid_point(client, other_grid(client))
    theirs = add_address(client, chief, "白沙巷9号", lon=lon, lat=lat)
    person = add_resident(client, chief, theirs["address"]["id"], name="白若雪")
    unplaced = add_address(client, chief)["address"]
    for username in ("auxiliary", "gridworker"):
        headers = as_user(client, username)
        assert (
            client.get(f"{API}/addresses/{mine['address']['id']}", headers=headers).status_code
            == 200
        )
        for url in (
            f"{API}/addresses/{theirs['address']['id']}",
            f"{API}/addresses/by-code/{theirs['address']['code']}",
            f"{API}/residents/{person['id']}",
            f"{API}/addresses/{unplaced['id']}",
        ):
            response = client.get(url, headers=headers)
            assert response.status_code == 403, f"{username} {url}"
        found = client.get(f"{API}/search", params={"q": "白若雪"}, headers=headers).json()
        assert found["residents"] == []
    assert (
        client.get(
            f"{API}/residents/{person['id']}", headers=as_user(client, "officer")
        ).status_code
        == 200
    )


def test_provenance_rows_carry_the_task(client: TestClient) -> None:
    chief = as_user(client, "chief")
    task_id = make_task(client, chief)
    lon, lat = grid_point(client, 1)
    address = add_address(client, chief, "青石板巷7号", lon=lon, lat=lat, task_id=task_id)
    add_resident(client, chief, address["address"]["id"], task_id=task_id)
    card = client.get(f"{API}/addresses/{address['address']['id']}", headers=chief).json()
    assert card["history"], "creating the address should leave a provenance row"
    row = card["history"][0]
    assert row["action"] == "create" and row["task_id"] == task_id
    assert row["person_id"] is not None and row["person_name"]
    assert row["changes"]["full_name"] == [None, "青石板巷7号"]
    missing = client.post(f"{API}/addresses", json={"text": HOME, "task_id": 999999}, headers=chief)
    assert missing.status_code == 404


# --- duplicates --------------------------------------------------------------------------


def test_duplicates_are_listed_masked_and_merged_by_the_chief(client: TestClient) -> None:
    chief = as_user(client, "chief")
    address = add_address(client, chief)["address"]
    number = id_number()
    first = add_resident(client, chief, address["id"], id_number=number)
    second = add_resident(client, chief, address["id"], name="欧阳明玥", id_number=number)
    flags = client.get(f"{API}/duplicates", headers=chief)
    assert flags.status_code == 200
    ours = [
        f
        for f in flags.json()
        if {f["first"]["id"], f["second"]["id"]} == {first["id"], second["id"]}
    ]
    assert len(ours) == 1 and ours[0]["reason"] == "same_id_number"
    assert number not in flags.text
    flag_id = ours[0]["id"]
    card = client.get(f"{API}/addresses/{address['id']}", headers=chief).json()
    assert [f["id"] for f in card["duplicates"]] == [flag_id]
    officer = as_user(client, "officer")
    url = f"{API}/duplicates/{flag_id}/merge"
    assert client.post(url, json={"keep_id": first["id"]}, headers=officer).status_code == 403
    assert client.post(url, json={"keep_id": 12345678}, headers=chief).status_code == 422
    merged = client.post(url, json={"keep_id": first["id"]}, headers=chief)
    assert merged.status_code == 200, merged.text
    assert client.post(url, json={"keep_id": first["id"]}, headers=chief).status_code == 409
    gone = client.get(f"{API}/residents/{second['id']}", headers=chief).json()
    assert gone["status"] == "merged"
    assert flag_id not in {f["id"] for f in client.get(f"{API}/duplicates", headers=chief).json()}


def test_dismissed_pair_leaves_the_list(client: TestClient) -> None:
    chief = as_user(client, "chief")
    address = add_address(client, chief)["address"]
    a = add_resident(client, chief, address["id"], name="张伟")
    b = add_resident(client, chief, address["id"], name="张伟")
    flags = [
        f
        for f in client.get(f"{API}/duplicates", headers=chief).json()
        if {f["first"]["id"], f["second"]["id"]} == {a["id"], b["id"]}
    ]
    assert flags and flags[0]["reason"] == "same_address"
    response = client.post(f"{API}/duplicates/{flags[0]['id']}/dismiss", headers=chief)
    assert response.status_code == 200 and response.json()["status"] == "dismissed"
