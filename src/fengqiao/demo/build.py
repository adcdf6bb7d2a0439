"""Building the demo database: migrations, the generated county through the normal
import path, and one account per role."""

from __future__ import annotations

import secrets
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from fengqiao import migrate
from fengqiao.accounts import service as accounts
from fengqiao.accounts.models import Role
from fengqiao.audit.service import SYSTEM
from fengqiao.config import Settings
from fengqiao.db import make_engine, make_sessionmaker, unit_of_work, utcnow
from fengqiao.demo.county import generate_county
from fengqiao.demo.disputes import build_disputes
from fengqiao.demo.fraud import build_fraud
from fengqiao.demo.incidents import generate_incident_history
from fengqiao.demo.registry import build_registry
from fengqiao.grids.importing import import_units
from fengqiao.i18n import _
from fengqiao.incidents.importing import CST, import_incidents
from fengqiao.incidents.service import ensure_reference_data
from fengqiao.org.importing import IMPORTERS
from fengqiao.tasks.generation import Rules, run_due

# username → (role, key in CountyFiles.demo_people, or None for the bureau-wide admin)
DEMO_ACCOUNTS: dict[str, tuple[Role, str | None]] = {
    "admin": (Role.ADMIN, None),
    "chief": (Role.STATION_CHIEF, "station_chief"),
    "command": (Role.COMMAND_ROOM, "command_room"),
    "officer": (Role.COMMUNITY_OFFICER, "community_officer"),
    "auxiliary": (Role.AUXILIARY, "auxiliary"),
    "case": (Role.CASE_OFFICER, "case_officer"),
    "legal": (Role.LEGAL_SUPERVISOR, "legal_supervisor"),
    "gridworker": (Role.GRID_WORKER, "grid_worker"),
}


HISTORY_DAYS = 730  # two years, so that figures have a year-on-year comparison


@dataclass
class DemoResult:
    password: str | None
    lines: list[str] = field(default_factory=list)


def import_county(
    session: Session, directory: Path, *, seed: int
) -> tuple[list[str], dict[str, str]]:
    """Generate the county and a year of incident history into ``directory`` and import
    them; returns report lines and the people behind the demo accounts."""
    files = generate_county(directory, seed=seed)
    ensure_reference_data(session)
    history = directory / "incidents.csv"
    # Up to yesterday (China time); rebuilding on the same day adds nothing, as keys repeat.
    start = datetime.now(CST).date() - timedelta(days=HISTORY_DAYS)
    generate_incident_history(
        files.grids,
        files.personnel,
        history,
        start=start,
        days=HISTORY_DAYS,
        seed=seed,
        leave_open=False,
        reform_day=HISTORY_DAYS // 2,  # grid policing and the joint station began a year ago
    )
    lines = []
    for kind, path in (
        ("stations", files.stations),
        ("districts", files.districts),
        ("grids", files.grids),
        ("civil-grids", files.civil_grids),
        ("personnel", files.personnel),
    ):
        lines.append(IMPORTERS[kind](session, path, actor=SYSTEM).summary())
    lines.append(import_units(session, files.units, actor=SYSTEM).summary())
    lines.append(import_incidents(session, history, actor=SYSTEM).summary())
    lines.append(build_registry(session, seed=seed))
    return lines, files.demo_people


def ensure_demo_accounts(
    session: Session, *, people: dict[str, str], password: str | None
) -> tuple[str | None, list[str]]:
    """Create missing demo accounts. With ``password`` given, every demo account gets it;
    without, new accounts get one random password, which is returned for printing."""
    created = []
    new_password = password or secrets.token_urlsafe(9)
    used_random = False
    for username, (role, person_key) in DEMO_ACCOUNTS.items():
        user = accounts.get_user_by_username(session, username)
        if user is None:
            accounts.create_user(
                session,
                actor=SYSTEM,
                username=username,
                password=new_password,
                role=role,
                personnel_no=people[person_key] if person_key else None,
                enforce_password_policy=False,
            )
            created.append(username)
            used_random = password is None
        elif password is not None and not accounts.password_matches(user, password):
            accounts.change_password(
                session,
                actor=SYSTEM,
                user=user,
                current=None,
                new=password,
                enforce_password_policy=False,
            )
    return (new_password if used_random else password), created


def build_demo(settings: Settings, *, seed: int = 20261122) -> DemoResult:
    engine = make_engine(settings)
    migrate.upgrade(engine)
    factory = make_sessionmaker(engine)
    with (
        tempfile.TemporaryDirectory(prefix="fengqiao-demo-") as tmp,
        unit_of_work(factory) as session,
    ):
        lines, people = import_county(session, Path(tmp), seed=seed)
        password, created = ensure_demo_accounts(
            session, people=people, password=settings.demo_password or None
        )
    with unit_of_work(factory) as session:
        lines.append(build_fraud(session, settings, seed=seed))
    with unit_of_work(factory) as session:
        lines.append(build_disputes(session, settings, seed=seed))
    # Today's tasks, so that the demo opens with work to do (nothing new on a rebuild).
    summary = run_due(factory, now=utcnow(), rules=Rules())
    lines.append(
        _("Daily tasks: {tasks} in {grids} grids").format(tasks=summary.tasks, grids=summary.runs)
    )
    engine.dispose()
    result = DemoResult(password=password, lines=lines)
    names = ", ".join(DEMO_ACCOUNTS)
    if created and password and not settings.demo_password:
        result.lines.append(
            _("Demo accounts ({names}) created with the random password: {pw}").format(
                names=names, pw=password
            )
        )
    elif settings.demo_password:
        result.lines.append(
            _("Demo accounts ({names}) use the password in FENGQIAO_DEMO_PASSWORD.").format(
                names=names
            )
        )
    else:
        result.lines.append(
            _(
                "Demo accounts ({names}) kept their passwords; set "
                "FENGQIAO_DEMO_PASSWORD to reset them."
            ).format(names=names)
        )
    return result
