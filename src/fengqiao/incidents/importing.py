"""Bulk import of historical incidents (CSV or Excel), all or nothing, idempotent by key.

Rows are placed in their grid through the shared location index; the timeline is
rebuilt from the row's timestamps. No routing or dispatch happens for history.
"""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from fengqiao.audit import service as audit
from fengqiao.audit.models import AuditAction
from fengqiao.audit.service import Actor
from fengqiao.clock import CHINA_TZ
from fengqiao.i18n import _
from fengqiao.importfiles import (
    Collector,
    ImportReport,
    Row,
    choice_field,
    float_field,
    read_table,
    text_field,
)
from fengqiao.incidents.models import (
    Channel,
    Disposition,
    Incident,
    IncidentCategory,
    IncidentEvent,
    IncidentStatus,
    Priority,
)
from fengqiao.org import placement
from fengqiao.org.models import Person

CST = CHINA_TZ
HEADERS = {
    "导入键": "key",
    "接警时间": "received_at",
    "来源": "channel",
    "警情类别": "category_code",
    "等级": "priority",
    "经度": "lon",
    "纬度": "lat",
    "地址": "address",
    "简要警情": "description",
    "报警人": "reporter_name",
    "报警电话": "reporter_phone",
    "处警人编号": "responder_no",
    "处置结果": "disposition",
}
CHANNEL_ALIASES = {
    "110转警": "transfer_110",
    "电话": "phone",
    "来所": "walk_in",
    "网上": "online",
    "门牌二维码": "doorplate_qr",
    "警企110": "enterprise_line",
}
PRIORITY_ALIASES = {"紧急": "urgent", "较急": "high", "一般": "normal"}
DISPOSITION_ALIASES = {
    "当场调处": "settled",
    "转案件": "case",
    "转纠纷": "dispute",
    "移交": "referred",
    "无需处置": "no_action",
}
STEPS = ("received", "dispatched", "accepted", "arrived", "handled", "closed")


def _time(bag: Collector, row: Row, name: str, *, required: bool = False) -> datetime | None:
    raw = str(row.values.get(name) or "").strip()
    if not raw:
        if required:
            bag.add(row.where, name, _("is required: a date and time such as 2026-03-01 20:15:00."))
        return None
    try:
        value = datetime.fromisoformat(raw.replace("/", "-"))
    except ValueError:
        bag.add(
            row.where,
            name,
            _(
                "{value!r} is not a date and time; write it as "
                "2026-03-01 20:15:00 (China time) or ISO 8601."
            ).format(value=raw),
        )
        return None
    return (value if value.tzinfo else value.replace(tzinfo=CST)).astimezone(UTC)


def import_incidents(session: Session, path: Path, *, actor: Actor) -> ImportReport:
    bag = Collector(path.name)
    rows = read_table(path, bag, headers=HEADERS)
    categories = {c.code: c for c in session.scalars(select(IncidentCategory))}
    responders = {no: pid for no, pid in session.execute(select(Person.personnel_no, Person.id))}
    parsed: list[dict[str, Any]] = []
    keys: set[str] = set()
    for r in rows:
        p: dict[str, Any] = {
            "key": text_field(bag, r, "key", max_len=100),
            "channel": choice_field(
                bag, r, "channel", [c.value for c in Channel], aliases=CHANNEL_ALIASES
            ),
            "category": text_field(bag, r, "category_code", max_len=8),
            "priority": choice_field(
                bag,
                r,
                "priority",
                [p.value for p in Priority],
                aliases=PRIORITY_ALIASES,
                required=False,
            ),
            "lon": float_field(bag, r, "lon", -180, 180),
            "lat": float_field(bag, r, "lat", -90, 90),
            "address": text_field(bag, r, "address", required=False, max_len=200) or None,
            "description": text_field(bag, r, "description", required=False, max_len=2000),
            "reporter_name": text_field(bag, r, "reporter_name", required=False, max_len=50)
            or None,
            "reporter_phone": text_field(bag, r, "reporter_phone", required=False, max_len=20)
            or None,
            "disposition": choice_field(
                bag,
                r,
                "disposition",
                [d.value for d in Disposition],
                aliases=DISPOSITION_ALIASES,
                required=False,
            )
            or None,
            "responder": text_field(bag, r, "responder_no", required=False, max_len=32) or None,
        }
        times = {step: _time(bag, r, f"{step}_at", required=step == "received") for step in STEPS}
        p["times"] = times
        if p["lon"] is None or p["lat"] is None:
            bag.add(r.where, "lon/lat", _("a point is required for historical incidents."))
        if p["category"] and (p["category"] not in categories or len(p["category"]) < 4):
            bag.add(
                r.where,
                "category_code",
                _("unknown category {code}; use a second-level code such as 0601.").format(
                    code=p["category"]
                ),
            )
        if p["responder"] and p["responder"] not in responders:
            bag.add(
                r.where,
                "responder_no",
                _("unknown personnel number {no}.").format(no=p["responder"]),
            )
        present = [(s, t) for s, t in times.items() if t is not None]
        for (s1, t1), (s2, t2) in pairwise(present):
            if t2 < t1:
                bag.add(
                    r.where,
                    f"{s2}_at",
                    _("is earlier than {previous}_at; the timeline must run forward.").format(
                        previous=s1
                    ),
                )
        # A closed incident was handled, even when the file has no handled_at for it.
        if (times["handled"] or times["closed"]) and not p["disposition"]:
            bag.add(r.where, "disposition", _("is required once the incident is handled."))
        valid_disposition = p["disposition"] in {d.value for d in Disposition}
        if valid_disposition and not (times["handled"] or times["closed"]):
            bag.add(r.where, "handled_at", _("is required when a disposition is given."))
        if p["key"] in keys:
            bag.add(r.where, "key", _("duplicate key {key} in this file.").format(key=p["key"]))
        keys.add(p["key"])
        parsed.append(p)
    bag.raise_if_any()
    report = ImportReport("incidents", path.name)
    known: set[str | None] = set()
    key_list = [p["key"] for p in parsed]
    for start in range(0, len(key_list), 500):
        chunk = key_list[start : start + 500]
        known.update(
            session.scalars(
                select(Incident.idempotency_key).where(Incident.idempotency_key.in_(chunk))
            )
        )
    fresh = [p for p in parsed if p["key"] not in known]
    report.unchanged = len(parsed) - len(fresh)
    places = placement.place_points(session, [p["lon"] for p in fresh], [p["lat"] for p in fresh])
    records: list[dict[str, Any]] = []
    for p, where in zip(fresh, places, strict=True):
        times = p["times"]
        last = max((s for s in STEPS if times[s] is not None), key=STEPS.index)
        category = categories[p["category"]]
        records.append(
            {
                "idempotency_key": p["key"],
                "channel": Channel(p["channel"]),
                "category_id": category.id,
                "priority": Priority(p["priority"]) if p["priority"] else category.default_priority,
                "status": IncidentStatus(last),
                "description": p["description"],
                "address": p["address"],
                "reporter_name": p["reporter_name"],
                "reporter_phone": p["reporter_phone"],
                "lon": p["lon"],
                "lat": p["lat"],
                "grid_id": where.grid_id if where else None,
                "district_id": where.district_id if where else None,
                "station_id": where.station_id if where else None,
                "responsible_person_id": responders.get(p["responder"]) if p["responder"] else None,
                "needs_attention": where is None,
                "disposition": Disposition(p["disposition"]) if p["disposition"] else None,
                **{f"{s}_at": times[s] for s in STEPS},
            }
        )
    if records:
        # One multi-row INSERT ... RETURNING per batch, ids in the order of the rows.
        ids = session.scalars(
            insert(Incident).returning(Incident.id, sort_by_parameter_order=True), records
        ).all()
        note = _("imported")
        session.execute(
            insert(IncidentEvent),
            [
                {
                    "incident_id": incident_id,
                    "at": row[f"{s}_at"],
                    "kind": "status",
                    "status": IncidentStatus(s),
                    "note": note,
                }
                for incident_id, row in zip(ids, records, strict=True)
                for s in STEPS
                if row[f"{s}_at"] is not None
            ],
        )
        report.created.extend(row["idempotency_key"] for row in records)
    if report.created:
        audit.record(
            session,
            actor=actor,
            action=AuditAction.IMPORT,
            object_type="incidents",
            object_id=path.name,
            detail={"created": len(report.created), "unchanged": report.unchanged},
        )
    return report
