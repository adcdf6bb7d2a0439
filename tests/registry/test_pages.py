"""The registry's HTML pages: search, the address card and its forms, doorplates and the
QR redirect, person and unit cards, duplicates. Records are made through the API."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from fengqiao.audit.models import AuditAction
from fengqiao.registry.models import Address, Attachment
from tests.conftest import DEMO_PASSWORD
from tests.registry.test_api import (
    HOME,
    add_address,
    add_resident,
    as_user,
    audit_rows,
    count,
    db,
    grid_point,
    id_number,
    jpeg,
    make_task,
    wrong_check,
)

HTML = {"Accept": "text/html"}


def web_login(client: TestClient, username: str) -> None:
    client.cookies.set("fq_lang", "en")
    response = client.post(
        "/login",
        data={"username": username, "password": DEMO_PASSWORD, "next": "/"},
        headers=HTML,
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def test_search_page_groups_results_with_masked_numbers(client: TestClient) -> None:
    officer = as_user(client, "officer")
    address = add_address(client, officer)["address"]
    number = id_number()
    person = add_resident(client, officer, address["id"], id_number=number, phone="13907314826")
    web_login(client, "officer")
    page = client.get("/registry", params={"q": "明月"}, headers=HTML)
    assert page.status_code == 200
    assert 'data-nav="registry"' in page.text
    assert f'href="/registry/people/{person["id"]}"' in page.text
    assert "139****4826" in page.text and "13907314826" not in page.text
    assert number not in page.text
    assert f'href="/registry/addresses/{address["id"]}"' in page.text
    assert 'id="hits-addresses"' in page.text and 'id="hits-units"' in page.text
    assert 'href="/registry/scan"' in page.text and "/static/js/registry.js" in page.text
    bad = client.get("/registry", params={"q": "x" * 61}, headers=HTML)
    assert bad.status_code == 422 and 'id="search-error"' in bad.text


def test_admin_has_no_registry(client: TestClient) -> None:
    web_login(client, "admin")
    assert 'data-nav="registry"' not in client.get("/", headers=HTML).text
    assert client.get("/registry", headers=HTML).status_code == 403


def test_add_address_form_redirects_to_the_card_or_keeps_the_input(client: TestClient) -> None:
    web_login(client, "officer")
    rows = count(client, Address)
    bad = client.post("/registry/addresses", data={"text": "附近"}, headers=HTML)
    assert bad.status_code == 422
    assert 'id="address-error"' in bad.text and 'value="附近"' in bad.text
    assert count(client, Address) == rows
    lon, lat = grid_point(client, 1)
    done = client.post(
        "/registry/addresses",
        data={"text": HOME, "lon": str(lon), "lat": str(lat)},
        headers=HTML,
        follow_redirects=False,
    )
    assert done.status_code == 303
    card = client.get(done.headers["location"], headers=HTML)
    assert card.status_code == 200
    assert 'id="address-name"' in card.text and HOME in card.text
    assert 'class="breadcrumb"' in card.text and ">5栋</a>" in card.text
    assert 'capture="environment"' in card.text and 'accept="audio/*"' in card.text
    assert audit_rows(client, AuditAction.READ, "address")


def test_add_resident_form_keeps_input_on_error(client: TestClient) -> None:
    officer = as_user(client, "officer")
    address = add_address(client, officer)["address"]
    web_login(client, "officer")
    url = f"/registry/addresses/{address['id']}/residents"
    bad_id = wrong_check(id_number())
    bad = client.post(
        url,
        data={"name": "李四", "kind": "tenant", "id_number": bad_id, "phone": "13907314826"},
        headers=HTML,
    )
    assert bad.status_code == 422
    assert "check character" in bad.text
    assert 'value="李四"' in bad.text and f'value="{bad_id}"' in bad.text
    assert 'value="tenant" selected' in bad.text
    ok = client.post(
        url,
        data={"name": "李四", "kind": "tenant", "id_number": id_number(), "phone": "13907314826"},
        headers=HTML,
        follow_redirects=False,
    )
    assert ok.status_code == 303
    card = client.get(ok.headers["location"], headers=HTML).text
    assert "李四" in card and "139****4826" in card and "13907314826" not in card


def test_house_unit_and_photo_forms(client: TestClient) -> None:
    officer = as_user(client, "officer")
    address = add_address(client, officer)["address"]
    web_login(client, "officer")
    base = f"/registry/addresses/{address['id']}"
    house = client.post(
        f"{base}/house", data={"use": "rented"}, headers=HTML, follow_redirects=False
    )
    assert house.status_code == 303
    unit = client.post(
        f"{base}/units",
        data={"name": "星光网吧", "kind": "internet_cafe", "contact_phone": "13912340000"},
        headers=HTML,
        follow_redirects=False,
    )
    assert unit.status_code == 303
    photo = client.post(
        f"{base}/attachments",
        data={"kind": "photo", "client_key": "page-key-1", "caption": "门口"},
        files={"file": ("door.jpg", jpeg(800, 600), "image/jpeg")},
        headers=HTML,
        follow_redirects=False,
    )
    assert photo.status_code == 303
    not_photo = client.post(
        f"{base}/attachments",
        data={"kind": "photo", "client_key": "page-key-2", "caption": "说明"},
        files={"file": ("a.txt", b"hello", "text/plain")},
        headers=HTML,
    )
    assert not_photo.status_code == 422 and 'value="说明"' in not_photo.text
    card = client.get(base, headers=HTML).text
    assert 'id="house-use">Rented out<' in card
    assert "星光网吧" in card
    with db(client) as session:
        file_id = session.scalars(
            select(Attachment.id).where(Attachment.client_key == "page-key-1")
        ).one()
    assert f'src="/api/v1/attachments/{file_id}/thumbnail"' in card
    unit_id = card.split('href="/registry/units/')[1].split('"')[0]
    unit_page = client.get(f"/registry/units/{unit_id}", headers=HTML)
    assert unit_page.status_code == 200
    assert "139****0000" in unit_page.text and "every 14 days" in unit_page.text


def test_doorplate_sheet_and_qr_redirect(client: TestClient) -> None:
    officer = as_user(client, "officer")
    add_address(client, officer)
    building = add_address(client, officer, "枫桥试验花园5栋")["address"]
    web_login(client, "officer")
    sheet = client.get(f"/registry/addresses/{building['id']}/doorplates", headers=HTML)
    assert sheet.status_code == 200
    with db(client) as session:
        codes = list(
            session.scalars(
                select(Address.code).where(Address.full_name.startswith("枫桥试验花园5栋"))
            )
        )
    assert len(codes) == 3  # building, unit, room
    assert sheet.text.count("<svg") == 3
    for code in codes:
        assert f'data-code="{code}" data-url="http://testserver/a/{code}"' in sheet.text
    redirect = client.get(f"/a/{building['code']}", headers=HTML, follow_redirects=False)
    assert redirect.status_code == 303
    assert redirect.headers["location"] == f"/registry/addresses/{building['id']}"
    assert client.get("/a/NOSUCHCODE", headers=HTML).status_code == 404
    typed = client.get(
        "/registry/scan",
        params={"code": building["code"].lower()},
        headers=HTML,
        follow_redirects=False,
    )
    assert typed.status_code == 303
    assert client.get("/registry/scan", params={"code": "ZZZ"}, headers=HTML).status_code == 404
    room = client.get(f"/registry/addresses/{building['id']}", headers=HTML)
    assert 'id="doorplates-link"' in room.text
    client.cookies.clear()
    login = client.get(f"/a/{building['code']}", headers=HTML, follow_redirects=False)
    assert login.status_code == 303
    assert login.headers["location"] == f"/login?next=/a/{building['code']}"


def test_person_card_reveal_and_edit(client: TestClient) -> None:
    officer = as_user(client, "officer")
    lon, lat = grid_point(client, 1)
    address = add_address(client, officer, HOME, lon=lon, lat=lat)["address"]
    number = id_number()
    person = add_resident(client, officer, address["id"], id_number=number, phone="13907314826")
    url = f"/registry/people/{person['id']}"
    web_login(client, "officer")
    page = client.get(url, headers=HTML)
    assert page.status_code == 200
    assert number not in page.text and "139****4826" in page.text
    assert 'id="reveal-form"' in page.text
    short = client.post(f"{url}/reveal", data={"reason": "x"}, headers=HTML)
    assert short.status_code == 422 and 'id="person-error"' in short.text
    shown = client.post(f"{url}/reveal", data={"reason": "核实身份 for a case"}, headers=HTML)
    assert shown.status_code == 200
    assert number in shown.text and "13907314826" in shown.text
    edit = client.post(
        url,
        data={"phone": "123", "kind": "tenant"},
        headers=HTML,
    )
    assert edit.status_code == 422 and 'value="123"' in edit.text
    moved = client.post(
        url, data={"kind": "tenant", "moved_out": "1"}, headers=HTML, follow_redirects=False
    )
    assert moved.status_code == 303
    after = client.get(url, headers=HTML).text
    assert "Moved out" in after and "139****4826" in after  # a blank phone keeps the number
    web_login(client, "auxiliary")
    aux = client.get(url, headers=HTML)
    assert aux.status_code == 200 and 'id="reveal-form"' not in aux.text
    assert (
        client.post(f"{url}/reveal", data={"reason": "核实身份"}, headers=HTML).status_code == 403
    )


def test_forms_carry_the_task_into_provenance(client: TestClient) -> None:
    chief = as_user(client, "chief")
    task_id = make_task(client, chief)
    lon, lat = grid_point(client, 1)
    address = add_address(client, chief, HOME, lon=lon, lat=lat)["address"]
    web_login(client, "chief")
    card = client.get(
        f"/registry/addresses/{address['id']}", params={"task": task_id}, headers=HTML
    )
    assert f'name="task_id" value="{task_id}"' in card.text
    done = client.post(
        f"/registry/addresses/{address['id']}/house",
        data={"use": "empty", "task_id": str(task_id)},
        headers=HTML,
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/registry/addresses/{address['id']}?task={task_id}"
    page = client.get(done.headers["location"], headers=HTML).text
    assert f'href="/tasks/{task_id}"' in page and f'data-task="{task_id}"' in page


def test_duplicates_page_merge_and_dismiss(client: TestClient) -> None:
    chief = as_user(client, "chief")
    address = add_address(client, chief)["address"]
    number = id_number()
    first = add_resident(client, chief, address["id"], id_number=number)
    keep = add_resident(client, chief, address["id"], name="欧阳明玥", id_number=number)
    zhang = [add_resident(client, chief, address["id"], name="张伟") for _ in range(2)]
    web_login(client, "officer")
    officer_page = client.get("/registry/duplicates", headers=HTML)
    assert officer_page.status_code == 200 and "/merge" not in officer_page.text
    web_login(client, "chief")
    page = client.get("/registry/duplicates", headers=HTML)
    assert page.status_code == 200 and number not in page.text
    mine = {first["id"], keep["id"], *(z["id"] for z in zhang)}
    flags = [
        f["id"]
        for f in sorted(
            client.get("/api/v1/registry/duplicates", headers=chief).json(),
            key=lambda f: keep["id"] not in (f["first"]["id"], f["second"]["id"]),
        )
        if {f["first"]["id"], f["second"]["id"]} <= mine
    ]  # the pair with ``keep`` first
    assert len(flags) == 2
    for flag_id in flags:
        assert f'data-flag="{flag_id}"' in page.text
    no_choice = client.post(f"/registry/duplicates/{flags[0]}/merge", data={}, headers=HTML)
    assert no_choice.status_code == 422 and 'id="duplicates-error"' in no_choice.text
    merged = client.post(
        f"/registry/duplicates/{flags[0]}/merge",
        data={"keep_id": str(keep["id"])},
        headers=HTML,
        follow_redirects=False,
    )
    dismissed = client.post(
        f"/registry/duplicates/{flags[1]}/dismiss", headers=HTML, follow_redirects=False
    )
    assert (merged.status_code, dismissed.status_code) == (303, 303)
    after = client.get("/registry/duplicates", headers=HTML).text
    assert all(f'data-flag="{flag_id}"' not in after for flag_id in flags)


def test_doorplates_carry_the_configured_public_address(client: TestClient) -> None:
    client.app.state.settings = client.app.state.settings.model_copy(  # type: ignore[attr-defined]
        update={"public_url": "https://jwq.example.gov.cn/"}
    )
    officer = as_user(client, "officer")
    building = add_address(client, officer, "枫桥试验花园6栋")["address"]
    web_login(client, "officer")
    sheet = client.get(f"/registry/addresses/{building['id']}/doorplates", headers=HTML)
    assert f'data-url="https://jwq.example.gov.cn/a/{building["code"]}"' in sheet.text
