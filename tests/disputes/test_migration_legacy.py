"""Disputes made from calls before the mediation revision keep working after it: their
kind from the incident category, a title of kind and place (not the call's words), the
call's place, position and responsible officer, the day found (China time), the caller
as the applicant, and the defaults."""

from __future__ import annotations

from sqlalchemy import text

from fengqiao import migrate
from fengqiao.config import Settings
from fengqiao.db import make_engine

BEFORE = "9eae31726d99"  # fraud_and_notices: the revision before disputes and mediation


def test_legacy_disputes_are_filled_in(any_settings: Settings) -> None:
    engine = make_engine(any_settings)
    try:
        migrate.upgrade(engine, BEFORE)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO incident_category (id, code, name_zh, name_en, is_case, "
                    "is_emergency, default_priority, active) VALUES "
                    "(1, '0603', '山林土地纠纷', 'Land boundary dispute', false, false, "
                    "'normal', true)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO incident (id, channel, category_id, priority, status, "
                    "description, address, reporter_name, reporter_phone, lon, lat, "
                    "needs_attention, received_at) VALUES (7, 'phone', 1, 'normal', 'closed', "
                    "'张三与李四因宅基地争吵', '清溪县城关镇东风村3组', '张三', '+86 138-1234-5678', "
                    "118.1, 26.1, false, :received)"
                ),
                {"received": "2026-02-28 17:00:00+00:00"},  # 1 March in China
            )
            conn.execute(
                text(
                    "INSERT INTO dispute (number, incident_id, category_code, summary, status, "
                    "created_at) VALUES ('JF1', 7, '0603', '张三与李四因宅基地争吵', "
                    "'registered', :late), ('JF2', NULL, NULL, '', 'registered', :early)"
                ),
                # 20:30 UTC is the next day in China.
                {"late": "2026-03-01 20:30:00+00:00", "early": "2026-03-01 10:00:00+00:00"},
            )
        migrate.upgrade(engine)
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT number, type_code, title, place, found_on, level, risk_level, "
                    "source, reopen_count, lon FROM dispute ORDER BY number"
                )
            ).all()
            parties = conn.execute(
                text("SELECT dispute_id, side, name, phone FROM dispute_party")
            ).all()
        found = [(r[0], r[1], r[2], r[3], str(r[4]), r[5], r[6], r[7], r[8], r[9]) for r in rows]
        assert found == [
            (
                "JF1",
                "land",
                "山林土地纠纷 · 清溪县城关镇东风村3组",
                "清溪县城关镇东风村3组",
                "2026-03-01",
                "grid",
                "yellow",
                "incident",
                0,
                118.1,
            ),
            ("JF2", "other", "其他纠纷", "", "2026-03-01", "grid", "yellow", "incident", 0, None),
        ]
        assert [(p[1], p[2], p[3]) for p in parties] == [("applicant", "张三", "13812345678")]
    finally:
        engine.dispose()
