"""`fengqiao disputes link / figures / agreement`, run as commands on both backends."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

from pypdf import PdfReader
from sqlalchemy.orm import Session, sessionmaker

from fengqiao.config import Settings
from fengqiao.db import unit_of_work, utcnow
from fengqiao.disputes import agreements, mediation, mediators, service
from fengqiao.disputes.models import MediatorKind, PartySide
from fengqiao.disputes.schemas import AgreementIn, DisputeIn, MediatorIn, PartyIn
from fengqiao.incidents import service as incidents
from fengqiao.incidents.models import Channel
from fengqiao.incidents.schemas import IncidentIn
from tests.fraud.helpers import SYSTEM, place


def run(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FENGQIAO_DATABASE_URL": settings.database_url, "FENGQIAO_LANGUAGE": "en"}
    return subprocess.run(
        [sys.executable, "-m", "fengqiao", "disputes", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_link_figures_and_agreement(
    county: sessionmaker[Session], county_settings: Settings, tmp_path: Path
) -> None:
    with unit_of_work(county) as s:
        at = place(s, "幸福路8号")
        dispute, _ = service.register(
            s,
            SYSTEM,
            DisputeIn(
                type_code="neighbour",
                address_id=at.address.id,
                parties=[
                    PartyIn(side=PartySide.APPLICANT, name="钱多多", phone="13912345678"),
                    PartyIn(side=PartySide.RESPONDENT, name="孙少少"),
                ],
            ),
        )
        worker = mediators.save_mediator(
            s,
            SYSTEM,
            MediatorIn(
                name="周网格",
                kind=MediatorKind.GRID_WORKER,
                station_id=dispute.station_id,
                weekdays=list(range(7)),
            ),
        )
        mediation.assign(s, SYSTEM, dispute.id, worker.id, lead=True)
        agreement = agreements.draw_up(
            s,
            SYSTEM,
            dispute.id,
            AgreementIn(facts="噪音扰民", terms=["晚十点后不再装修"]),
            revisit_days={"yellow": [15]},
        )
        agreement_id, dispute_id = agreement.id, dispute.id
    with unit_of_work(county) as s:
        # A later call from the applicant's phone: linked by the nightly run.
        incidents.create_incident(
            s,
            actor=SYSTEM.actor,
            data=IncidentIn(
                channel=Channel.PHONE,
                category_code="0601",
                description="又吵起来了",
                address="另一处地址",
                reporter_name="钱多多",
                reporter_phone="13912345678",
                received_at=utcnow(),
            ),
        )

    linked = run(county_settings, "link", "--days", "30")
    assert linked.returncode == 0, linked.stderr
    assert "Linked 1 later incidents" in linked.stdout
    again = run(county_settings, "link")
    assert "Linked 0 later incidents" in again.stdout

    figures = run(county_settings, "figures", "--by", "type")
    assert figures.returncode == 0, figures.stderr
    data = json.loads(figures.stdout)
    assert data["total"]["found"] == 1 and data["total"]["resolved"] == 1
    assert data["groups"]["neighbour"]["resolution_rate"] == 1.0

    bad = run(county_settings, "figures", "--by", "colour")
    assert bad.returncode == 2 and "Group by one of" in bad.stderr

    out = tmp_path / "a.pdf"
    printed = run(county_settings, "agreement", str(agreement_id), "--out", str(out))
    assert printed.returncode == 0, printed.stderr
    text = PdfReader(io.BytesIO(out.read_bytes())).pages[0].extract_text()
    assert "调解协议书" in text and "晚十点后不再装修" in text and "钱多多" in text
    missing = run(county_settings, "agreement", "999999")
    assert missing.returncode == 2 and "999999" in missing.stderr
    assert dispute_id > 0
