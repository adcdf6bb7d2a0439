"""Batch files of warnings: CSV (UTF-8 with BOM, GB18030) and Excel with Chinese
headers, good and bad rows, the per-row report, counts that add up, nothing lost, a
second upload adding nothing, fixed rows sent again; refused headers and file kinds;
the upload through the API and the desk page."""

from __future__ import annotations

import csv
import io
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from fengqiao.auth import Principal
from fengqiao.clock import CHINA_TZ
from fengqiao.config import Settings
from fengqiao.db import unit_of_work, utcnow
from fengqiao.errors import InvalidInput
from fengqiao.fraud import batch as batches
from fengqiao.fraud import matching
from fengqiao.fraud.models import (
    BatchStatus,
    FraudBatch,
    FraudBatchProblem,
    FraudOrder,
    FraudWarning,
    WarningLevel,
)
from fengqiao.live.models import LiveEvent
from tests.conftest import bearer, login_token
from tests.fraud.helpers import Place, id_number, place
from tests.tasks.helpers import principal_of

HOME = "幸福路12号3栋2单元301室"
HEADER = [
    "预警编号",
    "姓名",
    "手机号",
    "身份证号",
    "地址",
    "预警类型",
    "预警等级",
    "预警时间",
    "备注",
]
WHEN = (utcnow().astimezone(CHINA_TZ) - timedelta(days=1)).replace(tzinfo=None, microsecond=0)
AT = WHEN.strftime("%Y-%m-%d %H:%M:%S")
LATER = (WHEN + timedelta(minutes=5)).strftime("%Y/%m/%d %H:%M:%S")
BAD_ID = id_number(33)[:17] + ("1" if id_number(33)[17] != "1" else "2")
FORMULA = ['=HYPERLINK("http://x")', "-1380000", "@SUM(A1)", "+1"]

# Row numbers as a spreadsheet shows them: the header is row 1.
ROWS: list[list[str]] = [
    ["B1", "张三", "13800000001", id_number(31), HOME, "涉诈APP", "紧急", AT, ""],  # 2
    ["B2", "李四", "13800000002", id_number(32), HOME, "正在通话", "高", AT, ""],  # 3
    ["B3", "王五", "13800000003", BAD_ID, HOME, "可疑转账", "中", AT, ""],  # 4
    ["B4", "赵六", "1380000", "", HOME, "正在通话", "高", AT, ""],  # 5
    ["B5", "钱七", "13800000005", id_number(35), "火星路1号", "易受骗群体", "低", AT, ""],  # 6
    [],  # 7
    ["B6", FORMULA[0], FORMULA[1], "", FORMULA[2], "正在通话", "高", AT, FORMULA[3]],  # 8
    ["B7", "孙八", "13800000008", id_number(38), HOME, "涉诈电话", "一般", AT, ""],  # 9
    ["B8", "张三", "", id_number(31), HOME, "可疑交易", "高", LATER, "again"],  # 10
    ["B9", "周九", "13800000009", "", HOME, "钓鱼", "高", AT, ""],  # 11
]
ERRORS = {  # row → (field, part of the message)
    4: ("id_number", "check character is wrong"),
    5: ("phone", "is not a phone number"),
    8: ("phone", "is not a phone number"),
    11: ("type", "“钓鱼” is not a known value"),
}
FIXED: list[list[str]] = [
    ["B3", "王五", "13800000003", id_number(33), HOME, "可疑转账", "中", AT, ""],
    ["B4", "赵六", "13800000004", "", HOME, "正在通话", "高", AT, ""],
    ["B6", "吴十", "13800000006", "", HOME, "正在通话", "高", AT, ""],
    ["B9", "周九", "13800000009", "", HOME, "可疑交易", "高", AT, ""],
]


@pytest.fixture
def home(county: sessionmaker[Session]) -> Place:
    matching.forget_names()
    with unit_of_work(county) as s:
        found = place(s, HOME)
        assert found.grid.district.station_id
        return found


@pytest.fixture
def desk(county: sessionmaker[Session]) -> Principal:
    with county() as s:
        return principal_of(s, "command")


def write_csv(path: Path, rows: list[list[Any]], encoding: str, header: list[str] = HEADER) -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def run(
    county: sessionmaker[Session], settings: Settings, who: Principal, path: Path
) -> FraudBatch:
    with unit_of_work(county) as s:
        digest = batches.file_digest(path)
        batch_id = batches.start_batch(
            s, who, filename=path.name, source="centre", digest=digest
        ).id
    done = batches.run_batch(county, settings, who, batch_id, path)
    assert done.status is BatchStatus.DONE and done.finished_at is not None
    assert done.rows == done.accepted + done.duplicates + done.rejected + done.skipped
    return done


def report(county: sessionmaker[Session], batch_id: int) -> list[dict[str, str]]:
    with county() as s:
        text = batches.report_csv(s, batch_id)
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def count(session: Session, model: type[Any], *where: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def totals(county: sessionmaker[Session]) -> tuple[int, int]:
    with county() as s:
        return count(s, FraudWarning), count(s, FraudOrder)


def assert_nothing_lost(county: sessionmaker[Session], done: FraudBatch, rows: int) -> None:
    """Every row is a warning of this batch, an error row or a skipped empty line."""
    with county() as s:
        taken = set(s.scalars(select(FraudWarning.row_no).where(FraudWarning.batch_id == done.id)))
        problems = batches.problems(s, done.id)
    errors = {p.row_no for p in problems if p.severity == "error"}
    empty = {p.row_no for p in problems if p.severity == "notice" and p.field == "-"}
    assert not taken & errors and not taken & empty and not errors & empty
    assert taken | errors | empty == set(range(2, rows + 2))
    assert (len(taken), len(errors), len(empty)) == (done.accepted, done.rejected, done.skipped)


def test_a_csv_file_becomes_orders_with_a_report_and_is_taken_once(
    county: sessionmaker[Session],
    county_settings: Settings,
    home: Place,
    desk: Principal,
    tmp_path: Path,
) -> None:
    first = run(county, county_settings, desk, write_csv(tmp_path / "a.csv", ROWS, "utf-8-sig"))
    assert (first.rows, first.accepted, first.duplicates, first.rejected, first.skipped) == (
        10,
        5,
        0,
        4,
        1,
    )
    assert (first.orders, first.merged, first.queued) == (4, 1, 1)
    assert set(first.timings) >= {"read_and_check", "store", "match"}
    assert_nothing_lost(county, first, len(ROWS))
    with county() as s:
        by_row = {
            w.row_no: w
            for w in s.scalars(select(FraudWarning).where(FraudWarning.batch_id == first.id))
        }
        assert set(by_row) == {2, 3, 6, 9, 10}
        b1 = s.get_one(FraudOrder, by_row[2].order_id)
        assert by_row[10].order_id == b1.id  # the same ID number: one order, two warnings
        assert (b1.warning_count, b1.level, b1.assignee_id) == (
            2,
            WarningLevel.URGENT,
            home.officer_id,
        )
        assert s.get_one(FraudOrder, by_row[6].order_id).assignee_id is None  # 火星路: queued
        assert by_row[9].level is WarningLevel.NORMAL and by_row[3].name == "李四"
        assert by_row[2].warned_at == WHEN.replace(tzinfo=CHINA_TZ)
        # A file's normal orders go to the live feed as one count per person.
        counts = list(s.scalars(select(LiveEvent).where(LiveEvent.kind == "fraud_orders")))
        assert {e.person_id for e in counts} == {home.officer_id, None}
    lines = report(county, first.id)
    assert list(lines[0])[:4] == ["Row", "Severity", "Field", "Problem"]
    assert list(lines[0])[4:] == HEADER
    errors = {int(r["Row"]): r for r in lines if r["Severity"] == "error"}
    assert set(errors) == set(ERRORS)
    for row_no, (field, message) in ERRORS.items():
        assert errors[row_no]["Field"] == field and message in errors[row_no]["Problem"]
        assert errors[row_no]["预警编号"] == ROWS[row_no - 2][0]
    assert errors[4]["身份证号"] == BAD_ID and errors[5]["手机号"] == "1380000"
    assert errors[11]["预警类型"] == "钓鱼" and errors[11]["预警时间"] == AT
    # Cells Excel would run as formulas are quoted.
    assert [errors[8][c] for c in ("姓名", "手机号", "地址", "备注")] == ["'" + v for v in FORMULA]
    with county() as s:
        kept = s.scalars(
            select(FraudBatchProblem).where(
                FraudBatchProblem.batch_id == first.id, FraudBatchProblem.row_no == 8
            )
        ).one()
        assert kept.raw["姓名"] == FORMULA[0]  # stored as read; quoted in the report only
    notices = {(int(r["Row"]), r["Field"]) for r in lines if r["Severity"] == "notice"}
    assert notices == {(6, "address"), (7, "-")}
    queued = next(r for r in lines if r["Row"] == "6")
    assert "queue" in queued["Problem"] and queued["地址"] == "火星路1号"

    # The same rows again, this time as GB18030 from an older system: nothing new.
    before = totals(county)
    again = run(county, county_settings, desk, write_csv(tmp_path / "b.csv", ROWS, "gb18030"))
    assert (again.accepted, again.duplicates, again.rejected, again.skipped) == (0, 5, 4, 1)
    assert (again.orders, again.merged) == (0, 0)
    assert totals(county) == before == (5, 4)
    assert {int(r["Row"]) for r in report(county, again.id) if r["Severity"] == "error"} == set(
        ERRORS
    )

    # The error rows fixed and sent alone: exactly those are added.
    fixed = run(county, county_settings, desk, write_csv(tmp_path / "c.csv", FIXED, "utf-8-sig"))
    assert (fixed.rows, fixed.accepted, fixed.rejected, fixed.duplicates) == (4, 4, 0, 0)
    assert fixed.orders == 4 and fixed.queued == 0
    assert totals(county) == (before[0] + 4, before[1] + 4)
    assert report(county, fixed.id) == []
    with county() as s:
        keys = set(
            s.scalars(select(FraudWarning.external_key).where(FraudWarning.batch_id == fixed.id))
        )
    assert keys == {"id:B3", "id:B4", "id:B6", "id:B9"}


def test_an_excel_file_and_the_id_number_excel_turned_into_a_number(
    county: sessionmaker[Session],
    county_settings: Settings,
    home: Place,
    desk: Principal,
    tmp_path: Path,
) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    sheet.append(["X1", "张三", 13800000001, id_number(41), HOME, "涉诈APP", "紧急", WHEN])
    sheet.append(["X2", "李四", "13800000002", int(id_number(42)), HOME, "正在通话", "高", WHEN])
    sheet.append([None] * len(HEADER))
    sheet.append(["X3", "王五", "13800000003", BAD_ID, HOME, "可疑转账", "中", WHEN])
    sheet.append(["X4", "赵六", "13800000004", "", "火星路1号", "高危人群", "高风险", AT])
    path = tmp_path / "warnings.xlsx"
    book.save(path)
    done = run(county, county_settings, desk, path)
    assert (done.rows, done.accepted, done.rejected, done.skipped) == (5, 2, 2, 1)
    assert (done.orders, done.queued) == (2, 1)
    assert_nothing_lost(county, done, 5)
    with county() as s:
        taken = {
            w.row_no: w
            for w in s.scalars(select(FraudWarning).where(FraudWarning.batch_id == done.id))
        }
        assert set(taken) == {2, 6}
        assert taken[2].phone == "13800000001" and taken[2].id_number == id_number(41)
        assert taken[2].warned_at == WHEN.replace(tzinfo=CHINA_TZ)
        order = s.get_one(FraudOrder, taken[2].order_id)
        assert order.assignee_id == home.officer_id and order.level is WarningLevel.URGENT
    errors = {int(r["Row"]): r for r in report(county, done.id) if r["Severity"] == "error"}
    assert set(errors) == {3, 5}
    assert errors[3]["Field"] == "id_number" and "Excel stored" in errors[3]["Problem"]
    # The digits as Excel kept them: the last ones are gone.
    assert errors[3]["身份证号"][:15] == id_number(42)[:15] != errors[3]["身份证号"]
    assert errors[5]["Field"] == "id_number" and "check character" in errors[5]["Problem"]


def test_a_header_without_the_needed_columns_is_refused(
    county: sessionmaker[Session], county_settings: Settings, desk: Principal, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "names.csv", [["张三", "幸福路12号"]], "utf-8-sig", header=["姓名", "地址"]
    )
    with unit_of_work(county) as s:
        batch_id = batches.start_batch(s, desk, filename="names.csv", source="c", digest="x").id
    with pytest.raises(InvalidInput) as refused:
        batches.run_batch(county, county_settings, desk, batch_id, path)
    assert "预警类型" in refused.value.message and "手机号" in refused.value.message
    assert refused.value.message.startswith("names.csv")
    with county() as s:
        failed = s.get_one(FraudBatch, batch_id)
        assert failed.status is BatchStatus.FAILED and failed.error == refused.value.message
        assert failed.finished_at is not None and count(s, FraudWarning) == 0
    phone_only = write_csv(tmp_path / "p.csv", [], "utf-8-sig", header=["手机号", "姓名"])
    with pytest.raises(InvalidInput, match="预警类型"):
        list(batches.read_rows(phone_only, "p.csv"))
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(InvalidInput, match="empty"):
        list(batches.read_rows(empty, "empty.csv"))


@pytest.mark.parametrize("name", ["old.xls", "scan.pdf", "noext"])
def test_other_kinds_of_file_are_refused(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"%PDF-1.4 not a table")
    with pytest.raises(InvalidInput) as refused:
        list(batches.read_rows(path, name))
    assert name in refused.value.message and ".xlsx" in refused.value.message


def test_a_damaged_excel_file_fails_the_batch_with_its_reason(
    county: sessionmaker[Session], county_settings: Settings, desk: Principal, tmp_path: Path
) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with unit_of_work(county) as s:
        batch_id = batches.start_batch(s, desk, filename=path.name, source="c", digest="x").id
    with pytest.raises(InvalidInput, match="cannot be read as an Excel file"):
        batches.run_batch(county, county_settings, desk, batch_id, path)
    with county() as s:
        assert s.get_one(FraudBatch, batch_id).status is BatchStatus.FAILED


def _wait(client: TestClient, batch_id: int, headers: dict[str, str]) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        got = client.get(f"/api/v1/fraud/batches/{batch_id}", headers=headers)
        assert got.status_code == 200, got.text
        if got.json()["status"] != "running":
            return dict(got.json())
        assert time.monotonic() < deadline, "the batch did not finish"
        time.sleep(0.2)


def test_uploading_through_the_api_and_the_desk_page(
    api: TestClient, county: sessionmaker[Session], tmp_path: Path
) -> None:
    matching.forget_names()
    with unit_of_work(county) as s:
        place(s, HOME)
    desk = bearer(login_token(api, "command"))
    data = write_csv(tmp_path / "a.csv", ROWS, "utf-8-sig").read_bytes()
    sent = api.post(
        "/api/v1/fraud/batches",
        files={"file": ("预警.csv", data, "text/csv")},
        data={"source": "省反诈中心"},
        headers=desk,
    )
    assert sent.status_code == 202, sent.text
    batch_id = sent.json()["batch_id"]
    done = _wait(api, batch_id, desk)
    assert done["status"] == "done" and done["filename"] == "预警.csv"
    assert done["source"] == "省反诈中心"
    counts = [done[k] for k in ("rows", "accepted", "duplicates", "rejected", "skipped")]
    assert counts == [10, 5, 0, 4, 1]
    got = api.get(f"/api/v1/fraud/batches/{batch_id}/report.csv", headers=desk)
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    assert f"fraud-batch-{batch_id}-report.csv" in got.headers["content-disposition"]
    lines = list(csv.DictReader(io.StringIO(got.content.decode("utf-8-sig"))))
    assert {int(r["Row"]) for r in lines if r["Severity"] == "error"} == set(ERRORS)
    by_row = {int(r["Row"]): r for r in lines}
    assert "check character is wrong" in by_row[4]["Problem"]  # the uploader's language
    refused = api.post(
        "/api/v1/fraud/batches", files={"file": ("old.xls", b"\xd0\xcf\x11\xe0", "x")}, headers=desk
    )
    assert refused.status_code == 422 and ".xlsx" in refused.json()["detail"]
    officer = bearer(login_token(api, "officer"))
    assert api.get(f"/api/v1/fraud/batches/{batch_id}", headers=officer).status_code == 403

    # The desk page: the same file again is taken, and adds nothing.
    page = api.post(
        "/fraud/upload",
        files={"file": ("again.csv", data, "text/csv")},
        data={"source": "省反诈中心"},
        headers=desk,
        follow_redirects=False,
    )
    assert page.status_code == 303, page.text[:2000]
    again_id = int(page.headers["location"].rsplit("/", 1)[1])
    assert page.headers["location"] == f"/fraud/batches/{again_id}" and again_id != batch_id
    again = _wait(api, again_id, desk)
    assert (again["accepted"], again["duplicates"], again["rejected"]) == (0, 5, 4)
    shown = api.get(f"/fraud/batches/{again_id}", headers=desk)
    assert shown.status_code == 200 and 'data-status="done"' in shown.text
    assert '<dd id="duplicates">5</dd>' in shown.text
    assert "check character is wrong" in shown.text
    wrong = api.post(
        "/fraud/upload", files={"file": ("scan.pdf", b"%PDF", "application/pdf")}, headers=desk
    )
    assert wrong.status_code == 422 and "scan.pdf" in wrong.text and ".xlsx" in wrong.text
    with county() as s:
        assert count(s, FraudWarning) == 5 and count(s, FraudBatch) == 2
