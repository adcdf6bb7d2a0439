"""Batch files of warnings (CSV or Excel, hundreds of thousands of rows).

Rows are read as a stream and taken in chunks, each chunk in its own transaction with
the batch's counters, so a failure keeps every chunk before it and a second upload of
the same file adds nothing (every warning has its key). A row that cannot be taken is
kept in the batch's problem list with its values as read (an error, to be fixed and
sent again); a row that was taken but found no responsible person is listed as a
notice (it waits in the command room's queue).
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import ColumnElement, insert, or_, select
from sqlalchemy.orm import Session, sessionmaker

from fengqiao.accounts.models import UserAccount
from fengqiao.audit import service as audit
from fengqiao.audit.models import AuditAction
from fengqiao.auth import Permission, Principal, require
from fengqiao.config import Settings
from fengqiao.db import unit_of_work, utcnow
from fengqiao.errors import DomainError, Forbidden, InvalidInput, NotFound
from fengqiao.fraud.intake import FieldProblem, Incoming, audit_intake, clean, receive
from fengqiao.fraud.models import BatchStatus, Channel, FraudBatch, FraudBatchProblem, MatchStep
from fengqiao.i18n import _, current_language, language
from fengqiao.importfiles import cell_text

log = logging.getLogger(__name__)
CHUNK = 2000
HEADERS: dict[str, tuple[str, ...]] = {
    "external_id": ("external_id", "预警编号", "编号", "预警id", "id"),
    "name": ("name", "姓名", "名字", "被害人", "预警对象"),
    "phone": ("phone", "手机号", "手机号码", "电话", "联系电话", "手机"),
    "id_number": ("id_number", "身份证号", "身份证号码", "证件号码", "公民身份号码"),
    "address": ("address", "地址", "住址", "居住地址", "现住址"),
    "lon": ("lon", "经度", "longitude"),
    "lat": ("lat", "纬度", "latitude"),
    "type": ("type", "预警类型", "类型"),
    "level": ("level", "预警等级", "等级", "风险等级"),
    "warned_at": ("warned_at", "预警时间", "时间"),
    "source": ("source", "来源", "预警来源"),
    "detail": ("detail", "备注", "详情", "说明", "涉诈号码"),
}
_LOOKUP = {alias.lower(): name for name, aliases in HEADERS.items() for alias in aliases}


@dataclass(frozen=True)
class FileRow:
    row_no: int  # as a spreadsheet numbers it (the header is row 1)
    values: dict[str, Any]  # by our field name
    raw: dict[str, str]  # by the file's own column names, as text


def _columns(header: list[Any], filename: str) -> list[str | None]:
    names = [_LOOKUP.get(str(h or "").strip().lower()) for h in header]
    if "type" not in names or not ({"phone", "id_number"} & set(names)):
        raise InvalidInput(
            _(
                "{file}: the first row must name the columns; needed are the warning type "
                "(预警类型) and the phone (手机号) or identity-card number (身份证号). "
                "Known columns: {known}."
            ).format(file=filename, known="、".join(a[1] for a in HEADERS.values()))
        )
    return names


def _text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return cell_text(value)


def _row(header: list[Any], names: list[str | None], cells: list[Any], row_no: int) -> FileRow:
    values: dict[str, Any] = {}
    raw: dict[str, str] = {}
    for title, name, cell in zip(header, names, cells, strict=False):
        raw[str(title or "")] = _text(cell)
        if name is None:
            continue
        if name == "id_number" and isinstance(cell, int | float) and not isinstance(cell, bool):
            values[name] = _ExcelNumber(cell)
        else:
            values[name] = cell if isinstance(cell, datetime) else _text(cell)
    return FileRow(row_no, values, raw)


class _ExcelNumber(float):
    """An ID number Excel stored as a number (its last digits are gone)."""


def _decode(head: bytes) -> str:
    try:
        head.decode("utf-8")
        return "utf-8-sig"
    except UnicodeDecodeError as exc:
        if exc.start > len(head) - 4:  # a character cut at the end of the sample
            return "utf-8-sig"
        return "gb18030"


def read_rows(path: Path, filename: str) -> Iterator[FileRow]:
    """The data rows of a CSV (UTF-8 or GB18030) or Excel (.xlsx) file."""
    suffix = Path(filename).suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        yield from _read_excel(path, filename)
        return
    if suffix not in (".csv", ".txt"):
        raise InvalidInput(wrong_kind_message(filename))
    with path.open("rb") as fh:
        encoding = _decode(fh.read(65536))
    with path.open(encoding=encoding, newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            raise InvalidInput(_("{file} is empty.").format(file=filename))
        names = _columns(list(header), filename)
        for i, cells in enumerate(reader, start=2):
            yield _row(list(header), names, list(cells), i)


def _read_excel(path: Path, filename: str) -> Iterator[FileRow]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise InvalidInput(
            _("{file} cannot be read as an Excel file ({error}).").format(file=filename, error=exc)
        ) from exc
    try:
        rows = book.worksheets[0].iter_rows(values_only=True)
        header = list(next(rows, None) or [])
        if not header:
            raise InvalidInput(_("{file} is empty.").format(file=filename))
        names = _columns(header, filename)
        for i, cells in enumerate(rows, start=2):
            yield _row(header, names, list(cells), i)
    finally:
        book.close()


def wrong_kind_message(filename: str) -> str:
    return _("{file}: send a .csv or .xlsx file (an old .xls: save it as .xlsx first).").format(
        file=filename
    )


def too_large_message(filename: str, limit: int) -> str:
    return _("{file} is larger than {mb} MB: split it into several files.").format(
        file=filename, mb=limit // (1024 * 1024)
    )


def _empty(row: FileRow) -> bool:
    return not any(str(v).strip() for v in row.raw.values())


def _check(row: FileRow, source: str, now: datetime) -> Incoming:
    number = row.values.get("id_number")
    if isinstance(number, _ExcelNumber):
        raise FieldProblem(
            "id_number",
            _(
                "Excel stored the identity-card number as a number and lost its last digits: "
                "format the column as text and type the numbers again."
            ),
        )
    return clean(row.values, source=source, now=now, from_file=True)


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def start_batch(
    session: Session, principal: Principal, *, filename: str, source: str, digest: str
) -> FraudBatch:
    require(principal, Permission.RECEIVE_WARNINGS)
    source = source.strip()[:40] or "batch"
    batch = FraudBatch(
        source=source,
        filename=Path(filename).name[:200] or "upload",
        sha256=digest,
        status=BatchStatus.RUNNING,
        created_by_user_id=principal.actor.user_id,
        timings={},
    )
    session.add(batch)
    session.flush()
    return batch


def run_batch(
    factory: sessionmaker[Session],
    settings: Settings,
    principal: Principal,
    batch_id: int,
    path: Path,
) -> FraudBatch:
    """Read the file and take its rows chunk by chunk (see the module text)."""
    with factory() as session:
        batch = session.get(FraudBatch, batch_id)
        if batch is None:
            raise NotFound(_("Batch {id} was not found.").format(id=batch_id))
        filename, source = batch.filename, batch.source
    started = time.perf_counter()
    timings = {"read_and_check": 0.0, "store": 0.0}
    try:
        rows = read_rows(path, filename)
        while True:
            t0 = time.perf_counter()
            chunk: list[FileRow] = []
            for row in rows:
                chunk.append(row)
                if len(chunk) >= CHUNK:
                    break
            if not chunk:
                break
            now = utcnow()
            good: list[tuple[FileRow, Incoming]] = []
            problems: list[dict[str, Any]] = []
            skipped = 0
            for row in chunk:
                if _empty(row):
                    skipped += 1
                    problems.append(
                        _problem(batch_id, row, "notice", "-", _("Empty line: skipped."))
                    )
                    continue
                try:
                    item = _check(row, source, now)
                except FieldProblem as exc:
                    problems.append(_problem(batch_id, row, "error", exc.field, exc.message))
                    continue
                good.append((row, _with_row(item, batch_id, row.row_no)))
            t1 = time.perf_counter()
            with unit_of_work(factory) as session:
                results, totals = receive(
                    session,
                    principal,
                    settings,
                    [g[1] for g in good],
                    channel=Channel.BATCH,
                    now=now,
                    timings=timings,
                )
                for (row, _item), result in zip(good, results, strict=True):
                    if result.queued:
                        problems.append(
                            _problem(
                                batch_id,
                                row,
                                "notice",
                                "address",
                                _queued_message(result.step),
                            )
                        )
                if problems:
                    session.execute(insert(FraudBatchProblem), problems)
                batch = session.get(FraudBatch, batch_id, with_for_update=True)
                assert batch is not None
                batch.rows += len(chunk)
                batch.accepted += totals.accepted
                batch.duplicates += totals.duplicates
                batch.rejected += sum(1 for p in problems if p["severity"] == "error")
                batch.skipped += skipped
                batch.orders += totals.orders
                batch.queued += totals.queued
                batch.merged += totals.merged
                if totals.accepted:
                    audit_intake(session, principal, totals, channel=Channel.BATCH, ref=batch_id)
            timings["read_and_check"] += t1 - t0
            timings["store"] += time.perf_counter() - t1
    except Exception as exc:
        with unit_of_work(factory) as session:
            batch = session.get(FraudBatch, batch_id)
            assert batch is not None
            batch.status = BatchStatus.FAILED
            # Database errors quote the rows' values: keep the kind, not the text.
            log.exception("fraud batch %s failed", batch_id)
            batch.error = (
                exc.message
                if isinstance(exc, DomainError)
                else _("{kind}: the file stopped here; see the server log.").format(
                    kind=type(exc).__name__
                )
            )[:2000]
            batch.finished_at = utcnow()
            batch.seconds = time.perf_counter() - started
            batch.timings = {k: round(v, 3) for k, v in timings.items()}
        raise
    with unit_of_work(factory) as session:
        batch = session.get(FraudBatch, batch_id)
        assert batch is not None
        batch.status = BatchStatus.DONE
        batch.finished_at = utcnow()
        batch.seconds = round(time.perf_counter() - started, 3)
        batch.timings = {k: round(v, 3) for k, v in timings.items()}
        session.flush()
        session.expunge(batch)
    return batch


def _with_row(item: Incoming, batch_id: int, row_no: int) -> Incoming:
    from dataclasses import replace

    return replace(item, batch_id=batch_id, row_no=row_no)


def _queued_message(step: MatchStep | None) -> str:
    if step is MatchStep.STATION:
        return _("Placed at a station but not in a grid: waits in the station's queue.")
    return _("No grid or responsible person found: waits in the command room's queue.")


def _problem(
    batch_id: int, row: FileRow, severity: str, field: str, message: str
) -> dict[str, Any]:
    return {
        "batch_id": batch_id,
        "row_no": row.row_no,
        "severity": severity,
        "field": field,
        "message": message,
        "raw": row.raw,
    }


def _mine(principal: Principal) -> ColumnElement[bool]:
    """Files a desk may see: those sent by accounts of its stations, and the bureau's
    own (sent from the command line)."""
    if principal.station_ids is None:
        return FraudBatch.id.is_not(None)
    senders = select(UserAccount.id).where(
        UserAccount.station_id.in_(sorted(principal.station_ids))
    )
    return or_(FraudBatch.created_by_user_id.is_(None), FraudBatch.created_by_user_id.in_(senders))


def get_batch(session: Session, principal: Principal, batch_id: int) -> FraudBatch:
    require(principal, Permission.RECEIVE_WARNINGS)
    batch = session.get(FraudBatch, batch_id)
    if batch is None:
        raise NotFound(_("Batch {id} was not found.").format(id=batch_id))
    if (
        session.scalar(select(FraudBatch.id).where(FraudBatch.id == batch_id, _mine(principal)))
        is None
    ):
        raise Forbidden(_("This file was sent by another station."))
    return batch


def audit_report(session: Session, principal: Principal, batch_id: int) -> None:
    """The report holds the rows as sent (numbers unmasked): every download is audited."""
    audit.record(
        session,
        actor=principal.actor,
        action=AuditAction.READ,
        object_type="fraud_batch",
        object_id=batch_id,
        detail={"export": "report.csv"},
    )


def problems(
    session: Session, batch_id: int, *, limit: int | None = None
) -> list[FraudBatchProblem]:
    query = (
        select(FraudBatchProblem)
        .where(FraudBatchProblem.batch_id == batch_id)
        .order_by(FraudBatchProblem.row_no, FraudBatchProblem.id)
    )
    if limit:
        query = query.limit(limit)
    return list(session.scalars(query))


def report_csv(session: Session, batch_id: int) -> str:
    """The per-row report: row number, error or notice, field, message, then the row's
    own columns, so the error rows can be fixed in place and sent again (UTF-8 with BOM
    so that Excel opens it)."""
    rows = problems(session, batch_id)
    columns: list[str] = []
    for p in rows:
        for key in p.raw:
            if key not in columns:
                columns.append(key)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Row"), _("Severity"), _("Field"), _("Problem"), *columns])
    for p in rows:
        writer.writerow(
            [
                p.row_no,
                _("error") if p.severity == "error" else _("notice"),
                p.field,
                p.message,
                *(_safe(p.raw.get(c, "")) for c in columns),
            ]
        )
    return "\ufeff" + out.getvalue()


def _safe(value: str) -> str:
    """Excel runs a cell starting with = + - @ as a formula: quote it."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def recent_batches(session: Session, principal: Principal, *, limit: int = 20) -> list[FraudBatch]:
    return list(
        session.scalars(
            select(FraudBatch).where(_mine(principal)).order_by(FraudBatch.id.desc()).limit(limit)
        )
    )


MAX_UPLOAD_BYTES = 512 * 1024 * 1024


def upload(
    factory: sessionmaker[Session],
    settings: Settings,
    principal: Principal,
    stream: BinaryIO,
    *,
    filename: str,
    source: str,
) -> int:
    """Save the upload, open its batch and take its rows in a background thread."""
    filename = Path(filename).name or "upload.csv"
    suffix = Path(filename).suffix.lower()
    if suffix not in (".csv", ".txt", ".xlsx", ".xlsm"):
        raise InvalidInput(wrong_kind_message(filename))
    with tempfile.NamedTemporaryFile(prefix="fraud-", suffix=suffix, delete=False) as handle:
        path = Path(handle.name)
        size = 0
        while block := stream.read(1 << 20):
            size += len(block)
            if size > MAX_UPLOAD_BYTES:
                break
            handle.write(block)
    if size > MAX_UPLOAD_BYTES:
        path.unlink(missing_ok=True)
        raise InvalidInput(too_large_message(filename, MAX_UPLOAD_BYTES))
    with unit_of_work(factory) as session:
        batch = start_batch(
            session, principal, filename=filename, source=source, digest=file_digest(path)
        )
        batch_id = batch.id

    lang = current_language()  # the row messages are kept in the uploader's language

    def work() -> None:
        try:
            with language(lang):
                run_batch(factory, settings, principal, batch_id, path)
        except Exception:  # the batch row records the failure; run_batch logged it
            log.debug("fraud batch %s ended with an error", batch_id)
        finally:
            path.unlink(missing_ok=True)

    threading.Thread(target=work, name=f"fraud-batch-{batch_id}", daemon=True).start()
    return batch_id
