"""`fengqiao grids …`: plan, publish and check the police grids from the command line."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from sqlalchemy import select

from fengqiao import i18n

if TYPE_CHECKING:
    from fengqiao.grids.views import PlanView

grids_app = typer.Typer(
    help="Police grids: planning and staffing. 警格规划与配置。", no_args_is_help=True
)


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(message, fg="red", err=True)
    return typer.Exit(code)


def _progress(fraction: float, message: str) -> None:
    line = f"{i18n._('Planning')} {100 * fraction:5.1f}%  {message[:60]}"
    if sys.stderr.isatty():
        sys.stderr.write(f"\r{line:<80}")
    else:
        sys.stderr.write(line + "\n")
    sys.stderr.flush()


@grids_app.command("plan")
def plan(
    station: Annotated[str | None, typer.Option(help="Station code 派出所编码")] = None,
    district: Annotated[str | None, typer.Option(help="Police district code 警务区编码")] = None,
    cap_urban: Annotated[
        int, typer.Option(help="Residents per urban grid at most 城市警格人口上限")
    ] = 5000,
    cap_rural: Annotated[
        int, typer.Option(help="Residents per rural grid at most 农村警格人口上限")
    ] = 3000,
    seed: Annotated[
        int, typer.Option(help="Random seed; the same seed gives the same plan 随机种子")
    ] = 0,
    effort: Annotated[int, typer.Option(help="Constructions tried per area 每区尝试次数")] = 8,
    fresh: Annotated[
        bool,
        typer.Option(
            "--fresh", help="Ignore the active grids (default: keep them stable) 不参考现行警格"
        ),
    ] = False,
    publish: Annotated[
        bool,
        typer.Option("--publish", help="Publish the plan as the active layout at once 立即发布"),
    ] = False,
) -> None:
    """Partition a station or a police district into police grids from its planning units
    and store the plan as a draft. 按人口划分警格。"""
    from fengqiao.auth import system_principal
    from fengqiao.cli import _settings
    from fengqiao.db import make_engine, make_sessionmaker, unit_of_work
    from fengqiao.errors import DomainError
    from fengqiao.grids import publish as publishing
    from fengqiao.grids import service, views
    from fengqiao.org.models import PoliceDistrict, Station

    settings = _settings()  # first: it also sets the language of the messages
    if (station is None) == (district is None):
        raise _fail(i18n._("Give exactly one of --station or --district."), 2)
    factory = make_sessionmaker(make_engine(settings))
    principal = system_principal(f"cli:{getpass.getuser()}")
    try:
        with unit_of_work(factory) as session:
            if district is not None:
                d = session.scalar(select(PoliceDistrict).where(PoliceDistrict.code == district))
                if d is None:
                    raise _fail(i18n._("Unknown police district {code}.").format(code=district), 2)
                station_id, district_id = d.station_id, d.id
            else:
                s = session.scalar(select(Station).where(Station.code == station))
                if s is None:
                    raise _fail(i18n._("Unknown station {code}.").format(code=station), 2)
                station_id, district_id = s.id, None
            made = service.create_plan(
                session,
                principal,
                station_id=station_id,
                district_id=district_id,
                cap_urban=cap_urban,
                cap_rural=cap_rural,
                seed=seed,
                effort=effort,
                fresh=fresh,
                progress=_progress,
                release_db=session.commit,
            )
            sys.stderr.write("\n")
            view = views.plan_view(session, principal, made.id)
            typer.echo(format_view(view))
            if publish:
                typer.echo(publishing.publish(session, principal, made.id).summary())
    except DomainError as exc:
        raise _fail(exc.message) from None


def format_view(view: PlanView) -> str:
    from fengqiao.labels import plan_status_label

    live = [g for g in view.grids if g.units]
    lines = [
        i18n._("Plan {id} ({name}), version {v}, {status}").format(
            id=view.plan.id,
            name=view.plan.name,
            v=view.plan.version,
            status=plan_status_label(view.plan.status),
        ),
        i18n._("Grids: {n} (lower bound ceil(population / cap) = {lb})").format(
            n=len(live), lb=view.lower_bound
        ),
        i18n._(
            "Population per grid: max {max}, mean {mean:.0f}; compactness (Polsby–Popper) "
            "mean {pp:.3f}; {over} grids over the cap"
        ).format(
            max=view.max_population,
            mean=view.mean_population,
            pp=view.mean_polsby_popper,
            over=sum(1 for g in live if g.over_cap),
        ),
        i18n._("Units moved from their current grid: {units} ({residents} residents)").format(
            units=view.moved_units, residents=view.moved_population
        ),
        "",
        f"{i18n._('Grid'):<16}{i18n._('Units'):>6}{i18n._('Residents'):>10}{i18n._('Cap'):>7}  PP     {i18n._('Note')}",
    ]
    for g in view.grids:
        note = []
        if g.over_cap:
            note.append(i18n._("over cap"))
        if not g.contiguous:
            note.append(i18n._("not contiguous"))
        if g.continues_code:
            note.append(i18n._("continues {code}").format(code=g.continues_code))
        lines.append(
            f"{g.code:<16}{g.units:>6}{g.population:>10}{g.cap:>7}  {g.polsby_popper:.3f}  "
            + ", ".join(note)
        )
    if view.warnings:
        lines.append("")
        lines.extend(f"! {w}" for w in view.warnings)
    return "\n".join(lines)


@grids_app.command("publish")
def publish_plan(plan_id: Annotated[int, typer.Argument(help="Plan id 规划编号")]) -> None:
    """Publish a draft plan as the active grid layout. 发布警格规划。"""
    from fengqiao.auth import system_principal
    from fengqiao.cli import _settings
    from fengqiao.db import make_engine, make_sessionmaker, unit_of_work
    from fengqiao.errors import DomainError
    from fengqiao.grids import publish as publishing

    factory = make_sessionmaker(make_engine(_settings()))
    try:
        with unit_of_work(factory) as session:
            result = publishing.publish(
                session, system_principal(f"cli:{getpass.getuser()}"), plan_id
            )
    except DomainError as exc:
        raise _fail(exc.message) from None
    typer.echo(result.summary())


@grids_app.command("coverage")
def coverage(
    max_grids: Annotated[
        int, typer.Option(help="Fixed grids per person before overloaded 每人固定警格数上限")
    ] = 2,
) -> None:
    """Staffing coverage by station: grids without a fixed person, overloaded people,
    residents per officer. 警格配置覆盖情况。"""
    from fengqiao.auth import system_principal
    from fengqiao.cli import _settings
    from fengqiao.db import make_engine, make_sessionmaker
    from fengqiao.grids.staffing import coverage as compute

    factory = make_sessionmaker(make_engine(_settings()))
    with factory() as session:
        rows = compute(session, system_principal("cli"), max_grids=max_grids)
    for c in rows:
        rpo = f"{c.residents_per_officer:.0f}" if c.residents_per_officer else "-"
        typer.echo(
            i18n._(
                "{code} {name}: {grids} grids, {pop} residents, {officers} officers "
                "({rpo} residents each); without officer: {no_officer}; without any fixed "
                "person: {no_fixed}; overloaded: {over}"
            ).format(
                code=c.code,
                name=c.name,
                grids=c.grids,
                pop=c.population,
                officers=c.officers,
                rpo=rpo,
                no_officer=", ".join(c.without_officer) or "-",
                no_fixed=", ".join(c.without_fixed) or "-",
                over=", ".join(f"{o.name}({o.grids})" for o in c.overloaded) or "-",
            )
        )


@grids_app.command("locate")
def locate(
    source: Annotated[
        Path, typer.Argument(help="CSV with lon,lat (or 经度,纬度) columns 含经纬度的CSV")
    ],
    target: Annotated[
        Path, typer.Argument(help="CSV to write: the input plus grid columns 输出CSV")
    ],
    chunk: Annotated[int, typer.Option(help="Rows per batch 每批行数")] = 200_000,
) -> None:
    """Place every point of a CSV file in its police grid, district and station (one
    batch at a time; millions of rows are fine). 批量定位所属警格。"""
    import csv

    import numpy as np

    from fengqiao.cli import _settings
    from fengqiao.db import make_engine, make_sessionmaker
    from fengqiao.org import placement
    from fengqiao.org.models import PoliceDistrict, PoliceGrid, Station

    settings = _settings()  # first: it also sets the language of the messages
    if not source.is_file():
        raise _fail(i18n._("File not found: {path}").format(path=source), 2)
    factory = make_sessionmaker(make_engine(settings))
    with factory() as session:
        codes = {
            gid: (g, d, s)
            for gid, g, d, s in session.execute(
                select(PoliceGrid.id, PoliceGrid.code, PoliceDistrict.code, Station.code)
                .join(PoliceDistrict, PoliceDistrict.id == PoliceGrid.district_id)
                .join(Station, Station.id == PoliceDistrict.station_id)
                .where(PoliceGrid.active())
            ).all()
        }
        placed = unplaced = 0
        with (
            source.open(encoding="utf-8-sig", newline="") as fin,
            target.open("w", encoding="utf-8-sig", newline="") as fout,
        ):
            reader = csv.reader(fin)
            header = next(reader, None)
            if header is None:
                raise _fail(
                    i18n._("{path} is empty; the first row must be the header.").format(
                        path=source
                    ),
                    2,
                )
            names = [h.strip().lower() for h in header]
            try:
                ix = names.index("lon") if "lon" in names else names.index("经度")
                iy = names.index("lat") if "lat" in names else names.index("纬度")
            except ValueError:
                raise _fail(
                    i18n._("{path} needs lon and lat columns (or 经度 and 纬度).").format(
                        path=source
                    ),
                    2,
                ) from None
            writer = csv.writer(fout)
            writer.writerow([*header, "grid_code", "district_code", "station_code"])
            while True:
                rows = [r for _i, r in zip(range(chunk), reader, strict=False)]
                if not rows:
                    break
                lon = np.array([_number(r, ix) for r in rows])
                lat = np.array([_number(r, iy) for r in rows])
                found = placement.grid_ids(session, lon, lat)
                for row, gid in zip(rows, found.tolist(), strict=True):
                    hit = codes.get(gid)
                    placed += hit is not None
                    unplaced += hit is None
                    writer.writerow([*row, *(hit or ("", "", ""))])
    typer.echo(
        i18n._("{placed} points placed in a grid, {unplaced} outside every grid.").format(
            placed=placed, unplaced=unplaced
        )
    )


def _number(row: list[str], i: int) -> float:
    try:
        return float(row[i])
    except (IndexError, ValueError):
        return float("nan")
