from sqlalchemy.orm import Session, sessionmaker

from fengqiao.config import Settings
from fengqiao.db import unit_of_work
from fengqiao.fraud.models import MatchStep
from tests.fraud.helpers import id_number, order, place, send


def test_smoke(county: sessionmaker[Session], county_settings: Settings) -> None:
    with unit_of_work(county) as s:
        where = place(s, "幸福路12号3栋2单元301室")
    with unit_of_work(county) as s:
        got = send(s, county_settings, {"type": "scam_call", "level": "urgent", "phone": "13812345678", "address": "清溪县幸福路12号3栋2单元301"})
        o = order(s, got[0].order_id)
        print(o.match_step, o.match_confidence, o.match_detail, o.assignee_id, where.officer_id)
        assert o.match_step is MatchStep.ADDRESS
        assert o.assignee_id == where.officer_id
