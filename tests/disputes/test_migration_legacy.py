"""Disputes made from calls before the mediation revision keep working after it: their
kind from the incident category, a title, the day found (China time) and the defaults."""

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
                    "INSERT INTO dispute (number, category_code, summary, status, created_at) "
                    "VALUES ('JF1', '0603', '宅基地边界争执，双方互不相让', 'registered', "
                    ":late), ('JF2', NULL, '', 'registered', :early)"
                ),
                # 20:30 UTC is the next day in China.
                {"late": "2026-03-01 20:30:00+00:00", "early": "2026-03-01 10:00:00+00:00"},
            )
        migrate.upgrade(engine)
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT number, type_code, title, found_on, level, risk_level, source, "
                    "reopen_count, links_checked_id FROM dispute ORDER BY number"
                )
            ).all()
        found = [(r[0], r[1], r[2], str(r[3]), r[4], r[5], r[6], r[7], r[8]) for r in rows]
        assert found == [
            (
                "JF1",
                "land",
                "宅基地边界争执，双方互不相让",
                "2026-03-02",
                "grid",
                "yellow",
                "incident",
                0,
                0,
            ),
            ("JF2", "other", "", "2026-03-01", "grid", "yellow", "incident", 0, 0),
        ]
    finally:
        engine.dispose()
