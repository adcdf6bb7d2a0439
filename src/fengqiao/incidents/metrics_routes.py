"""Incident figures: the JSON report and its page.

One router without a prefix holds both paths. It must be included before the incident
routers, whose ``/incidents/{incident_id}`` would otherwise take ``/incidents/metrics``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fengqiao.auth import Permission, Principal
from fengqiao.errors import DomainError, InvalidInput
from fengqiao.i18n import _
from fengqiao.incidents import metrics
from fengqiao.incidents.metrics import CST, GROUP_BYS, GroupBy, MetricsReport
from fengqiao.web import DbSession, render, requires

router = APIRouter()
MetricsReader = Annotated[Principal, requires(Permission.VIEW_METRICS)]
DEFAULT_DAYS = 30


def default_period(today: date | None = None) -> tuple[date, date]:
    """The last 30 days ending today (CST), today included."""
    end = today or datetime.now(CST).date()
    return end - timedelta(days=DEFAULT_DAYS - 1), end


@router.get("/api/v1/incidents/metrics", response_model=MetricsReport, tags=["incidents"])
def incident_metrics(
    session: DbSession,
    principal: MetricsReader,
    start: date | None = None,
    end: date | None = None,
    group_by: GroupBy = "station",
) -> MetricsReport:
    """Call-handling rate (接处警率), time to dispatch and to arrival (median, p90, minutes)
    by station, grid, category, day, ISO week or month, with the same dates a year earlier
    and the change. ``start`` and ``end`` are dates in China Standard Time, both included
    (default: the last 30 days ending today); 422 when ``end`` is before ``start`` or the
    period is longer than 366 days."""
    default_start, default_end = default_period()
    return metrics.incident_metrics(
        session,
        principal,
        start=start or default_start,
        end=end or default_end,
        group_by=group_by,
    )


def _parse_date(value: str | None, default: date, field: str) -> date:
    if not value:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            _("{field}: not a date (YYYY-MM-DD): {value}").format(field=field, value=value)
        ) from None


def _parse_group_by(value: str) -> GroupBy:
    for choice in GROUP_BYS:
        if value == choice:
            return choice
    raise InvalidInput(_("Unknown grouping: {group_by}.").format(group_by=value))


@router.get("/incidents/metrics", include_in_schema=False)
def metrics_page(
    request: Request,
    session: DbSession,
    principal: MetricsReader,
    start: str | None = None,
    end: str | None = None,
    group_by: str | None = None,
) -> Response:
    default_start, default_end = default_period()
    form = {
        "start": start or default_start.isoformat(),
        "end": end or default_end.isoformat(),
        "group_by": group_by or "station",
    }
    try:
        report = metrics.incident_metrics(
            session,
            principal,
            start=_parse_date(start, default_start, _("From")),
            end=_parse_date(end, default_end, _("To")),
            group_by=_parse_group_by(form["group_by"]),
        )
    except DomainError as exc:
        return render(
            request,
            "incidents/metrics.html",
            status_code=exc.status,
            report=None,
            error=exc.message,
            form=form,
            group_bys=GROUP_BYS,
        )
    return render(
        request,
        "incidents/metrics.html",
        report=report,
        error=None,
        form=form,
        group_bys=GROUP_BYS,
    )
