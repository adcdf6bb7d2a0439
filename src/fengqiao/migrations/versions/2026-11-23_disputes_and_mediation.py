"""disputes and mediation

Revision ID: 12653f4c0196
Revises: 9eae31726d99
Create Date: 2026-11-23 02:35:32.554558
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import sqlalchemy as sa
from alembic import op

CHINA = timezone(timedelta(hours=8))


revision = "12653f4c0196"
down_revision = "9eae31726d99"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dispute_type",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name_zh", sa.String(length=40), nullable=False),
        sa.Column("name_en", sa.String(length=60), nullable=False),
        sa.Column("incident_category_code", sa.String(length=8), nullable=True),
        sa.Column("sort", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispute_type")),
        sa.UniqueConstraint("code", name=op.f("uq_dispute_type_code")),
    )
    op.create_table(
        "mediator",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "officer",
                "grid_worker",
                "village_cadre",
                "lawyer",
                "fengqiao_mediator",
                "volunteer",
                "peoples_mediator",
                name="mediatorkind",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("organisation", sa.String(length=100), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("skills", sa.JSON(), nullable=False),
        sa.Column("levels", sa.JSON(), nullable=False),
        sa.Column("weekdays", sa.JSON(), nullable=False),
        sa.Column("away_until", sa.Date(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_mediator_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["station_id"], ["station.id"], name=op.f("fk_mediator_station_id_station")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mediator")),
        sa.UniqueConstraint("person_id", name=op.f("uq_mediator_person_id")),
    )
    with op.batch_alter_table("mediator", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mediator_station_id"), ["station_id"], unique=False)

    op.create_table(
        "dispute_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dispute_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column(
            "level",
            sa.Enum(
                "grid", "station", "judicial", name="mediationlevel", native_enum=False, length=24
            ),
            nullable=True,
        ),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dispute_id"],
            ["dispute.id"],
            name=op.f("fk_dispute_event_dispute_id_dispute"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_dispute_event_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_dispute_event_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispute_event")),
    )
    with op.batch_alter_table("dispute_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dispute_event_dispute_id"), ["dispute_id"], unique=False
        )

    op.create_table(
        "dispute_incident",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dispute_id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("found_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dispute_id"],
            ["dispute.id"],
            name=op.f("fk_dispute_incident_dispute_id_dispute"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incident.id"], name=op.f("fk_dispute_incident_incident_id_incident")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispute_incident")),
        sa.UniqueConstraint(
            "dispute_id", "incident_id", name=op.f("uq_dispute_incident_dispute_id_incident_id")
        ),
    )
    with op.batch_alter_table("dispute_incident", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dispute_incident_dispute_id"), ["dispute_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_dispute_incident_incident_id"), ["incident_id"], unique=False
        )

    op.create_table(
        "dispute_mediator",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dispute_id", sa.Integer(), nullable=False),
        sa.Column("mediator_id", sa.Integer(), nullable=False),
        sa.Column(
            "level",
            sa.Enum(
                "grid", "station", "judicial", name="mediationlevel", native_enum=False, length=24
            ),
            nullable=False,
        ),
        sa.Column("lead", sa.Boolean(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dispute_id"],
            ["dispute.id"],
            name=op.f("fk_dispute_mediator_dispute_id_dispute"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["mediator_id"], ["mediator.id"], name=op.f("fk_dispute_mediator_mediator_id_mediator")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispute_mediator")),
        sa.UniqueConstraint(
            "dispute_id",
            "mediator_id",
            "level",
            name=op.f("uq_dispute_mediator_dispute_id_mediator_id_level"),
        ),
    )
    with op.batch_alter_table("dispute_mediator", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dispute_mediator_dispute_id"), ["dispute_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_dispute_mediator_mediator_id"), ["mediator_id"], unique=False
        )

    op.create_table(
        "dispute_party",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dispute_id", sa.Integer(), nullable=False),
        sa.Column(
            "side",
            sa.Enum(
                "applicant", "respondent", "third", name="partyside", native_enum=False, length=24
            ),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("is_organisation", sa.Boolean(), nullable=False),
        sa.Column("gender", sa.String(length=8), nullable=True),
        sa.Column("id_number", sa.String(length=18), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=True),
        sa.Column("vulnerable", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dispute_id"],
            ["dispute.id"],
            name=op.f("fk_dispute_party_dispute_id_dispute"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"], ["resident.id"], name=op.f("fk_dispute_party_resident_id_resident")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispute_party")),
    )
    with op.batch_alter_table("dispute_party", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dispute_party_dispute_id"), ["dispute_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_dispute_party_phone"), ["phone"], unique=False)

    op.create_table(
        "mediation_agreement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dispute_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column(
            "level",
            sa.Enum(
                "grid", "station", "judicial", name="mediationlevel", native_enum=False, length=24
            ),
            nullable=False,
        ),
        sa.Column("facts", sa.Text(), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("performance", sa.Text(), nullable=False),
        sa.Column("parties", sa.JSON(), nullable=False),
        sa.Column("mediators", sa.JSON(), nullable=False),
        sa.Column("organisation", sa.String(length=100), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("superseded", sa.Boolean(), nullable=False),
        sa.Column("scan_data", sa.LargeBinary(), nullable=True),
        sa.Column("scan_content_type", sa.String(length=40), nullable=True),
        sa.Column("scan_sha256", sa.String(length=64), nullable=True),
        sa.Column("scan_bytes", sa.BigInteger(), nullable=True),
        sa.Column("scan_uploaded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dispute_id"],
            ["dispute.id"],
            name=op.f("fk_mediation_agreement_dispute_id_dispute"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_mediation_agreement_user_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mediation_agreement")),
        sa.UniqueConstraint("number", name=op.f("uq_mediation_agreement_number")),
    )
    with op.batch_alter_table("mediation_agreement", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mediation_agreement_dispute_id"), ["dispute_id"], unique=False
        )

    op.create_table(
        "mediation_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dispute_id", sa.Integer(), nullable=False),
        sa.Column(
            "level",
            sa.Enum(
                "grid", "station", "judicial", name="mediationlevel", native_enum=False, length=24
            ),
            nullable=False,
        ),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("mediator_ids", sa.JSON(), nullable=False),
        sa.Column("attendees", sa.String(length=400), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("client_key", sa.String(length=64), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dispute_id"],
            ["dispute.id"],
            name=op.f("fk_mediation_session_dispute_id_dispute"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_mediation_session_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mediation_session")),
        sa.UniqueConstraint("client_key", name=op.f("uq_mediation_session_client_key")),
    )
    with op.batch_alter_table("mediation_session", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mediation_session_dispute_id"), ["dispute_id"], unique=False
        )

    with op.batch_alter_table("dispute", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_key", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column(
                "source",
                sa.Enum(
                    "incident",
                    "visit",
                    "grid_worker",
                    "resident",
                    "other",
                    name="disputesource",
                    native_enum=False,
                    length=24,
                ),
                nullable=False,
                server_default="incident",
            )
        )
        batch_op.add_column(
            sa.Column("type_code", sa.String(length=16), nullable=False, server_default="other")
        )
        batch_op.add_column(
            sa.Column("title", sa.String(length=200), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("place", sa.String(length=200), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("address_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("lon", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("lat", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("found_on", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("risk_answers", sa.JSON(), nullable=False, server_default="{}")
        )
        batch_op.add_column(
            sa.Column(
                "risk_level",
                sa.Enum("yellow", "orange", "red", name="risklevel", native_enum=False, length=24),
                nullable=False,
                server_default="yellow",
            )
        )
        batch_op.add_column(
            sa.Column(
                "level",
                sa.Enum(
                    "grid",
                    "station",
                    "judicial",
                    name="mediationlevel",
                    native_enum=False,
                    length=24,
                ),
                nullable=False,
                server_default="grid",
            )
        )
        batch_op.add_column(
            sa.Column(
                "outcome",
                sa.Enum(
                    "agreement",
                    "oral",
                    "reconciled",
                    "failed",
                    "withdrawn",
                    name="outcome",
                    native_enum=False,
                    length=24,
                ),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("outcome_note", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column(
                "resolved_level",
                sa.Enum(
                    "grid",
                    "station",
                    "judicial",
                    name="mediationlevel",
                    native_enum=False,
                    length=24,
                ),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column("reopen_count", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch_op.add_column(
            sa.Column("links_checked_id", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch_op.add_column(sa.Column("reopened_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("responsible_person_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("registered_by", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "updated_at",
                sa.DateTime(timezone=True),
                nullable=False,
                server_default=sa.func.now(),
            )
        )
        batch_op.alter_column(
            "status",
            existing_type=sa.VARCHAR(length=16),
            type_=sa.Enum(
                "registered",
                "mediating",
                "resolved",
                "unresolved",
                name="disputestatus",
                native_enum=False,
                length=24,
            ),
            existing_nullable=False,
        )
        batch_op.create_index(batch_op.f("ix_dispute_address_id"), ["address_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_dispute_found_on"), ["found_on"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_dispute_responsible_person_id"), ["responsible_person_id"], unique=False
        )
        batch_op.create_index("ix_dispute_station_status", ["station_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_dispute_type_code"), ["type_code"], unique=False)
        batch_op.create_unique_constraint(batch_op.f("uq_dispute_client_key"), ["client_key"])
        batch_op.create_foreign_key(
            batch_op.f("fk_dispute_address_id_address"), "address", ["address_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_dispute_registered_by_user_account"),
            "user_account",
            ["registered_by"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_dispute_responsible_person_id_person"),
            "person",
            ["responsible_person_id"],
            ["id"],
        )

    _fill_disputes()


# The kind of dispute of a converted call, by its incident category (as in disputes.types).
_KIND_OF_CATEGORY = {
    "0601": "neighbour",
    "0602": "family",
    "0603": "land",
    "0604": "wages",
    "0605": "contract",
    "0606": "property",
}


_KIND_NAMES = {
    "neighbour": "邻里纠纷",
    "family": "家庭纠纷",
    "land": "山林土地纠纷",
    "wages": "劳资纠纷",
    "contract": "合同经济纠纷",
    "property": "物业纠纷",
    "other": "其他纠纷",
}


def _aware(value: object) -> datetime | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(moment, datetime)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _fill_disputes() -> None:
    """Disputes converted from calls before this revision: their kind, a title of kind
    and place (never the call's words, which may name people), the place, position and
    responsible officer of the call, the day found (China time), and the caller as the
    applicant, so that revisits and later incidents work for them too."""
    dispute = sa.table(
        "dispute",
        sa.column("id", sa.Integer()),
        sa.column("incident_id", sa.Integer()),
        sa.column("category_code", sa.String()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("type_code", sa.String()),
        sa.column("title", sa.String()),
        sa.column("place", sa.String()),
        sa.column("lon", sa.Float()),
        sa.column("lat", sa.Float()),
        sa.column("found_on", sa.Date()),
        sa.column("responsible_person_id", sa.Integer()),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    incident = sa.table(
        "incident",
        sa.column("id", sa.Integer()),
        sa.column("address", sa.String()),
        sa.column("lon", sa.Float()),
        sa.column("lat", sa.Float()),
        sa.column("received_at", sa.DateTime(timezone=True)),
        sa.column("responsible_person_id", sa.Integer()),
        sa.column("reporter_name", sa.String()),
        sa.column("reporter_phone", sa.String()),
    )
    party = sa.table(
        "dispute_party",
        sa.column("dispute_id", sa.Integer()),
        sa.column("side", sa.String()),
        sa.column("name", sa.String()),
        sa.column("is_organisation", sa.Boolean()),
        sa.column("phone", sa.String()),
        sa.column("address", sa.String()),
        sa.column("vulnerable", sa.Boolean()),
        sa.column("position", sa.Integer()),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(
            dispute.c.id,
            dispute.c.category_code,
            dispute.c.created_at,
            incident.c.address,
            incident.c.lon,
            incident.c.lat,
            incident.c.received_at,
            incident.c.responsible_person_id,
            incident.c.reporter_name,
            incident.c.reporter_phone,
        ).select_from(dispute.outerjoin(incident, incident.c.id == dispute.c.incident_id))
    ).all()
    for row in rows:
        created = _aware(row.created_at)
        found = _aware(row.received_at) or created
        assert created is not None and found is not None
        kind = _KIND_OF_CATEGORY.get(row.category_code or "", "other")
        place = (row.address or "")[:200]
        bind.execute(
            dispute.update()
            .where(dispute.c.id == row.id)
            .values(
                type_code=kind,
                title=f"{_KIND_NAMES[kind]} · {place}" if place else _KIND_NAMES[kind],
                place=place,
                lon=row.lon,
                lat=row.lat,
                found_on=found.astimezone(CHINA).date(),
                responsible_person_id=row.responsible_person_id,
                updated_at=created,
            )
        )
        if row.reporter_name:
            phone = "".join(ch for ch in (row.reporter_phone or "") if ch.isdigit()) or None
            if phone and len(phone) == 13 and phone.startswith("86"):
                phone = phone[2:]  # +86 138 …
            bind.execute(
                party.insert().values(
                    dispute_id=row.id,
                    side="applicant",
                    name=row.reporter_name[:100],
                    is_organisation=False,
                    phone=phone[:20] if phone else None,
                    address=place,
                    vulnerable=False,
                    position=0,
                )
            )


def downgrade() -> None:
    with op.batch_alter_table("dispute", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_dispute_responsible_person_id_person"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_dispute_registered_by_user_account"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("fk_dispute_address_id_address"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_dispute_client_key"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_dispute_type_code"))
        batch_op.drop_index("ix_dispute_station_status")
        batch_op.drop_index(batch_op.f("ix_dispute_responsible_person_id"))
        batch_op.drop_index(batch_op.f("ix_dispute_found_on"))
        batch_op.drop_index(batch_op.f("ix_dispute_address_id"))
        batch_op.alter_column(
            "status",
            existing_type=sa.Enum(
                "registered",
                "mediating",
                "resolved",
                "unresolved",
                name="disputestatus",
                native_enum=False,
                length=24,
            ),
            type_=sa.VARCHAR(length=16),
            existing_nullable=False,
        )
        batch_op.drop_column("updated_at")
        batch_op.drop_column("registered_by")
        batch_op.drop_column("responsible_person_id")
        batch_op.drop_column("reopened_at")
        batch_op.drop_column("reopen_count")
        batch_op.drop_column("links_checked_id")
        batch_op.drop_column("resolved_level")
        batch_op.drop_column("resolved_at")
        batch_op.drop_column("outcome_note")
        batch_op.drop_column("outcome")
        batch_op.drop_column("level")
        batch_op.drop_column("risk_level")
        batch_op.drop_column("risk_answers")
        batch_op.drop_column("found_on")
        batch_op.drop_column("lat")
        batch_op.drop_column("lon")
        batch_op.drop_column("address_id")
        batch_op.drop_column("place")
        batch_op.drop_column("title")
        batch_op.drop_column("type_code")
        batch_op.drop_column("source")
        batch_op.drop_column("client_key")

    with op.batch_alter_table("mediation_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mediation_session_dispute_id"))

    op.drop_table("mediation_session")
    with op.batch_alter_table("mediation_agreement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mediation_agreement_dispute_id"))

    op.drop_table("mediation_agreement")
    with op.batch_alter_table("dispute_party", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dispute_party_phone"))
        batch_op.drop_index(batch_op.f("ix_dispute_party_dispute_id"))

    op.drop_table("dispute_party")
    with op.batch_alter_table("dispute_mediator", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dispute_mediator_mediator_id"))
        batch_op.drop_index(batch_op.f("ix_dispute_mediator_dispute_id"))

    op.drop_table("dispute_mediator")
    with op.batch_alter_table("dispute_incident", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dispute_incident_incident_id"))
        batch_op.drop_index(batch_op.f("ix_dispute_incident_dispute_id"))

    op.drop_table("dispute_incident")
    with op.batch_alter_table("dispute_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dispute_event_dispute_id"))

    op.drop_table("dispute_event")
    with op.batch_alter_table("mediator", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mediator_station_id"))

    op.drop_table("mediator")
    op.drop_table("dispute_type")
