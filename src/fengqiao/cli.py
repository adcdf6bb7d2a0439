"""The ``fengqiao`` command line: demo, serve, db, import, user, audit."""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from fengqiao import i18n
from fengqiao.accounts.models import Role
from fengqiao.config import Settings, SettingsError, load_settings
from fengqiao.errors import DomainError

if TYPE_CHECKING:
    from fengqiao.audit.service import Actor

app = typer.Typer(
    help="fengqiao 枫桥: prevention-first police station platform. 预防警务派出所平台。",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
from fengqiao.cli_disputes import disputes_app  # noqa: E402
from fengqiao.cli_fraud import fraud_app  # noqa: E402
from fengqiao.cli_grids import grids_app  # noqa: E402
from fengqiao.cli_tasks import tasks_app  # noqa: E402

db_app = typer.Typer(help="Database schema migrations. 数据库迁移。", no_args_is_help=True)
user_app = typer.Typer(help="User accounts. 用户账号。", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log. 审计日志。", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(audit_app, name="audit")
app.add_typer(grids_app, name="grids")
app.add_typer(tasks_app, name="tasks")
app.add_typer(fraud_app, name="fraud")
app.add_typer(disputes_app, name="disputes")


def _settings() -> Settings:
    try:
        settings = load_settings()
    except SettingsError as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(2) from None
    i18n.set_language(settings.language)
    return settings


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(message, fg="red", err=True)
    return typer.Exit(code)


def _system_actor() -> Actor:
    from fengqiao.audit.service import Actor

    return Actor(user_id=None, username=f"cli:{getpass.getuser()}", role=None, ip="local")


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision 目标版本")] = "head",
) -> None:
    """Apply migrations up to REVISION (default: the newest). 升级数据库结构。"""
    from fengqiao import migrate
    from fengqiao.db import make_engine, make_sessionmaker, unit_of_work
    from fengqiao.incidents.service import ensure_reference_data

    engine = make_engine(_settings())
    migrate.upgrade(engine, revision)
    if migrate.current_revision(engine) == migrate.head_revision():
        with unit_of_work(make_sessionmaker(engine)) as session:
            ensure_reference_data(session)
    typer.echo(f"{i18n._('Database at revision')} {migrate.current_revision(engine)}")


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision, '-1' or 'base' 目标版本")],
) -> None:
    """Undo migrations down to REVISION. 回退数据库结构。"""
    from fengqiao import migrate
    from fengqiao.db import make_engine

    engine = make_engine(_settings())
    migrate.downgrade(engine, revision)
    typer.echo(f"{i18n._('Database at revision')} {migrate.current_revision(engine)}")


@app.command("import")
def import_file(
    kind: Annotated[
        str,
        typer.Argument(
            help="stations | districts | grids | civil-grids | personnel | incidents | units | barriers"
        ),
    ],
    path: Annotated[
        Path, typer.Argument(help="GeoJSON, Shapefile (.shp/.zip), CSV or .xlsx file 导入文件")
    ],
) -> None:
    """Import one file, all or nothing; importing it again changes nothing. 导入数据（全部或全不）。"""
    from fengqiao.db import make_engine, make_sessionmaker, unit_of_work
    from fengqiao.grids.importing import import_barriers, import_units
    from fengqiao.incidents.importing import import_incidents
    from fengqiao.org.importing import IMPORTERS

    importers = {
        **IMPORTERS,
        "incidents": import_incidents,
        "units": import_units,
        "barriers": import_barriers,
    }
    settings = _settings()
    if kind not in importers:
        raise _fail(
            i18n._("Unknown kind {kind}; use one of: {kinds}.").format(
                kind=kind, kinds=", ".join(importers)
            ),
            2,
        )
    if not path.is_file():
        raise _fail(i18n._("File not found: {path}").format(path=path), 2)
    factory = make_sessionmaker(make_engine(settings))
    try:
        with unit_of_work(factory) as session:
            report = importers[kind](session, path, actor=_system_actor())
    except DomainError as exc:
        raise _fail(exc.message) from None
    typer.echo(report.summary())


@app.command("serve")
def serve() -> None:
    """Serve the web app on FENGQIAO_HOST:FENGQIAO_PORT. 启动网页服务。"""
    _serve(_settings())


def _serve(settings: Settings) -> None:
    import uvicorn

    from fengqiao import migrate
    from fengqiao.app import create_app
    from fengqiao.db import make_engine

    engine = make_engine(settings)
    if migrate.current_revision(engine) != migrate.head_revision():
        raise _fail(i18n._("The database schema is not up to date: run 'fengqiao db upgrade'."))
    engine.dispose()
    typer.echo(f"http://{settings.host}:{settings.port}/")
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info")


@app.command("demo")
def demo(
    serve: Annotated[bool, typer.Option(help="Serve after building 构建后启动服务")] = True,
    seed: Annotated[int, typer.Option(help="Random seed of the demo county")] = 20261122,
    stream: Annotated[
        bool, typer.Option(help="Keep synthetic calls flowing 持续生成模拟警情")
    ] = True,
) -> None:
    """Build the demo county database (idempotent) and serve it. 构建演示县数据并启动。"""
    from fengqiao.demo.build import build_demo

    settings = _settings()
    if stream:
        settings = settings.model_copy(update={"demo_stream": True})
    try:
        result = build_demo(settings, seed=seed)
    except DomainError as exc:
        raise _fail(exc.message) from None
    for line in result.lines:
        typer.echo(line)
    if serve:
        _serve(settings)


def _password(prompt_env: str = "FENGQIAO_NEW_PASSWORD") -> str:
    value = os.environ.get(prompt_env)
    if value:
        return value
    return str(typer.prompt(i18n._("Password"), hide_input=True, confirmation_prompt=True))


@user_app.command("create")
def user_create(
    username: str,
    role: Annotated[Role, typer.Option(help="Role 角色")],
    station: Annotated[str | None, typer.Option(help="Station code 派出所代码")] = None,
    person: Annotated[str | None, typer.Option(help="Personnel number 人员编号")] = None,
) -> None:
    """Create an account; the password is prompted (or read from FENGQIAO_NEW_PASSWORD). 新建账号。"""
    from fengqiao.accounts import service as accounts
    from fengqiao.db import make_engine, make_sessionmaker, unit_of_work

    settings = _settings()
    password = _password()
    factory = make_sessionmaker(make_engine(settings))
    try:
        with unit_of_work(factory) as session:
            accounts.create_user(
                session,
                actor=_system_actor(),
                username=username,
                password=password,
                role=role,
                station_code=station,
                personnel_no=person,
            )
    except DomainError as exc:
        raise _fail(exc.message) from None
    typer.echo(i18n._("Account {username} created.").format(username=username))


@user_app.command("reset-password")
def user_reset_password(username: str) -> None:
    """Set a new password and end every session of the account. 重置密码。"""
    from fengqiao.accounts import service as accounts
    from fengqiao.db import make_engine, make_sessionmaker, unit_of_work

    settings = _settings()
    password = _password()
    factory = make_sessionmaker(make_engine(settings))
    try:
        with unit_of_work(factory) as session:
            user = accounts.get_user_or_raise(session, username)
            accounts.change_password(
                session, actor=_system_actor(), user=user, current=None, new=password
            )
    except DomainError as exc:
        raise _fail(exc.message) from None
    typer.echo(
        i18n._("Password of {username} reset; its sessions have ended.").format(username=username)
    )


@user_app.command("disable")
def user_disable(username: str) -> None:
    """Disable an account and end its sessions. 停用账号。"""
    from fengqiao.accounts import service as accounts
    from fengqiao.db import make_engine, make_sessionmaker, unit_of_work

    factory = make_sessionmaker(make_engine(_settings()))
    try:
        with unit_of_work(factory) as session:
            accounts.set_active(
                session,
                actor=_system_actor(),
                user=accounts.get_user_or_raise(session, username),
                active=False,
            )
    except DomainError as exc:
        raise _fail(exc.message) from None
    typer.echo(i18n._("Account {username} disabled.").format(username=username))


@audit_app.command("verify")
def audit_verify() -> None:
    """Recompute the hash chain; exit 1 at the first row that was changed. 校验审计链。"""
    from fengqiao.audit import service as audit
    from fengqiao.db import make_engine, make_sessionmaker

    factory = make_sessionmaker(make_engine(_settings()))
    with factory() as session:
        result = audit.verify_chain(session)
    if not result.ok:
        raise _fail(
            i18n._(
                "Audit chain BROKEN at row {id}: {reason} ({n} rows before it are intact)."
            ).format(id=result.first_bad_id, reason=result.reason, n=result.checked)
        )
    typer.echo(i18n._("Audit chain intact: {n} rows checked.").format(n=result.checked))


simulate_app = typer.Typer(help="Simulations. 仿真。", no_args_is_help=True)
app.add_typer(simulate_app, name="simulate")


@simulate_app.command("response")
def simulate_response(
    days: Annotated[float, typer.Option(help="Simulated days")] = 30.0,
    seed: Annotated[int, typer.Option(help="Random seed")] = 1,
    calls_per_1000: Annotated[float, typer.Option(help="Calls per 1 000 residents per day")] = 0.12,
    reinforcement_share: Annotated[float, typer.Option(help="Share of calls needing help")] = 0.08,
    reinforcement_size: Annotated[int, typer.Option(help="Extra people such a call needs")] = 3,
    county_reserve: Annotated[int, typer.Option(help="People in the county reserve")] = 6,
) -> None:
    """Compare independent stations with a joint station pooling reinforcement, on the
    stations and grids in the database (the demo county or your own area). 出警仿真。"""
    from fengqiao.analytics.simulation import SimParams, compare, format_report
    from fengqiao.db import make_engine, make_sessionmaker
    from fengqiao.org.simulation_input import simulation_area

    settings = _settings()
    factory = make_sessionmaker(make_engine(settings))
    with factory() as session:
        area = simulation_area(session)
    if not area.stations:
        raise _fail(
            i18n._(
                "No stations with grids in the database: run 'fengqiao demo' or "
                "import your area first."
            )
        )
    params = SimParams(
        days=days,
        seed=seed,
        calls_per_1000_residents_per_day=calls_per_1000,
        reinforcement_share=reinforcement_share,
        reinforcement_size=reinforcement_size,
        county_reserve=county_reserve,
        county_x_m=area.county_x_m,
        county_y_m=area.county_y_m,
        speed_kmh={"urban": settings.speed_urban_kmh, "rural": settings.speed_rural_kmh},
        road_factor=settings.road_factor,
    )
    residents = sum(g.population for g in area.grids)
    typer.echo(
        i18n._(
            "{stations} stations ({joint} in a joint station), {grids} grids, {residents} "
            "residents, {staff} community-team members; county reserve of {reserve}."
        ).format(
            stations=len(area.stations),
            joint=sum(1 for s in area.stations if s.joint_code),
            grids=len(area.grids),
            residents=residents,
            staff=sum(s.officers for s in area.stations),
            reserve=county_reserve,
        )
    )
    typer.echo(format_report(compare(area.stations, area.grids, params)))
