"""Incidents, routing, dispatch, reinforcement, cases, disputes, live events.

Revision ID: 36812b649434
Revises: 2f59c3952a9f
Create Date: 2026-11-22 17:37:58.222938
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "36812b649434"
down_revision = "2f59c3952a9f"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incident_category",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("name_zh", sa.String(length=50), nullable=False),
        sa.Column("name_en", sa.String(length=80), nullable=False),
        sa.Column("is_case", sa.Boolean(), nullable=False),
        sa.Column("is_emergency", sa.Boolean(), nullable=False),
        sa.Column(
            "default_priority",
            sa.Enum("urgent", "high", "normal", name="priority", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["incident_category.id"],
            name=op.f("fk_incident_category_parent_id_incident_category"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_category")),
        sa.UniqueConstraint("code", name=op.f("uq_incident_category_code")),
    )
    with op.batch_alter_table("incident_category", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_incident_category_parent_id"), ["parent_id"], unique=False
        )

    op.create_table(
        "live_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_event")),
    )
    with op.batch_alter_table("live_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_live_event_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_live_event_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_live_event_station_id"), ["station_id"], unique=False)

    op.create_table(
        "routing_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("category_prefix", sa.String(length=8), nullable=True),
        sa.Column("match_case", sa.Boolean(), nullable=True),
        sa.Column("match_emergency", sa.Boolean(), nullable=True),
        sa.Column(
            "match_priority",
            sa.Enum("urgent", "high", "normal", name="priority", native_enum=False, length=24),
            nullable=True,
        ),
        sa.Column(
            "action",
            sa.Enum(
                "grid_officer",
                "case_team",
                "nearest_available",
                "command_room",
                name="routeaction",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("alert_command_room", sa.Boolean(), nullable=False),
        sa.Column("auto_dispatch", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_rule")),
        sa.UniqueConstraint("position", name=op.f("uq_routing_rule_position")),
    )
    op.create_table(
        "incident",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=100), nullable=True),
        sa.Column(
            "channel",
            sa.Enum(
                "transfer_110",
                "phone",
                "walk_in",
                "online",
                "doorplate_qr",
                "enterprise_line",
                name="channel",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column(
            "priority",
            sa.Enum("urgent", "high", "normal", name="priority", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "received",
                "dispatched",
                "accepted",
                "arrived",
                "handled",
                "closed",
                name="incidentstatus",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=True),
        sa.Column("reporter_name", sa.String(length=50), nullable=True),
        sa.Column("reporter_phone", sa.String(length=20), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("grid_id", sa.Integer(), nullable=True),
        sa.Column("district_id", sa.Integer(), nullable=True),
        sa.Column("station_id", sa.Integer(), nullable=True),
        sa.Column("responsible_person_id", sa.Integer(), nullable=True),
        sa.Column("needs_attention", sa.Boolean(), nullable=False),
        sa.Column(
            "disposition",
            sa.Enum(
                "settled",
                "case",
                "dispute",
                "referred",
                "no_action",
                name="disposition",
                native_enum=False,
                length=24,
            ),
            nullable=True,
        ),
        sa.Column("disposition_note", sa.Text(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["incident_category.id"],
            name=op.f("fk_incident_category_id_incident_category"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["user_account.id"], name=op.f("fk_incident_created_by_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["district_id"],
            ["police_district.id"],
            name=op.f("fk_incident_district_id_police_district"),
        ),
        sa.ForeignKeyConstraint(
            ["grid_id"], ["police_grid.id"], name=op.f("fk_incident_grid_id_police_grid")
        ),
        sa.ForeignKeyConstraint(
            ["responsible_person_id"],
            ["person.id"],
            name=op.f("fk_incident_responsible_person_id_person"),
        ),
        sa.ForeignKeyConstraint(
            ["station_id"], ["station.id"], name=op.f("fk_incident_station_id_station")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_incident_idempotency_key")),
    )
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_incident_category_id"), ["category_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_incident_district_id"), ["district_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_incident_grid_id"), ["grid_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_incident_received_at"), ["received_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_incident_responsible_person_id"), ["responsible_person_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_incident_station_id"), ["station_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_incident_status"), ["status"], unique=False)

    op.create_table(
        "case_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incident.id"], name=op.f("fk_case_record_incident_id_incident")
        ),
        sa.ForeignKeyConstraint(
            ["station_id"], ["station.id"], name=op.f("fk_case_record_station_id_station")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_record")),
        sa.UniqueConstraint("incident_id", name=op.f("uq_case_record_incident_id")),
        sa.UniqueConstraint("number", name=op.f("uq_case_record_number")),
    )
    with op.batch_alter_table("case_record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_record_station_id"), ["station_id"], unique=False)

    op.create_table(
        "dispute",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("category_code", sa.String(length=8), nullable=True),
        sa.Column("grid_id", sa.Integer(), nullable=True),
        sa.Column("station_id", sa.Integer(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["grid_id"], ["police_grid.id"], name=op.f("fk_dispute_grid_id_police_grid")
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incident.id"], name=op.f("fk_dispute_incident_id_incident")
        ),
        sa.ForeignKeyConstraint(
            ["station_id"], ["station.id"], name=op.f("fk_dispute_station_id_station")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispute")),
        sa.UniqueConstraint("incident_id", name=op.f("uq_dispute_incident_id")),
        sa.UniqueConstraint("number", name=op.f("uq_dispute_number")),
    )
    with op.batch_alter_table("dispute", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dispute_grid_id"), ["grid_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_dispute_station_id"), ["station_id"], unique=False)

    op.create_table(
        "incident_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "received",
                "dispatched",
                "accepted",
                "arrived",
                "handled",
                "closed",
                name="incidentstatus",
                native_enum=False,
                length=24,
            ),
            nullable=True,
        ),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incident.id"], name=op.f("fk_incident_event_incident_id_incident")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_incident_event_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_incident_event_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_event")),
    )
    with op.batch_alter_table("incident_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_incident_event_incident_id"), ["incident_id"], unique=False
        )

    op.create_table(
        "reinforcement_order",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("joint_station_id", sa.Integer(), nullable=False),
        sa.Column("per_team", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["user_account.id"],
            name=op.f("fk_reinforcement_order_created_by_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
            name=op.f("fk_reinforcement_order_incident_id_incident"),
        ),
        sa.ForeignKeyConstraint(
            ["joint_station_id"],
            ["joint_station.id"],
            name=op.f("fk_reinforcement_order_joint_station_id_joint_station"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reinforcement_order")),
    )
    with op.batch_alter_table("reinforcement_order", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reinforcement_order_incident_id"), ["incident_id"], unique=False
        )

    op.create_table(
        "routing_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("step", sa.String(length=24), nullable=False),
        sa.Column("proposed_only", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incident.id"], name=op.f("fk_routing_decision_incident_id_incident")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_routing_decision_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"], ["routing_rule.id"], name=op.f("fk_routing_decision_rule_id_routing_rule")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_decision")),
    )
    with op.batch_alter_table("routing_decision", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_routing_decision_incident_id"), ["incident_id"], unique=False
        )

    op.create_table(
        "reinforcement_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("requested", sa.Integer(), nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("answer", sa.String(length=16), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_arrival_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["reinforcement_order.id"],
            name=op.f("fk_reinforcement_request_order_id_reinforcement_order"),
        ),
        sa.ForeignKeyConstraint(
            ["station_id"], ["station.id"], name=op.f("fk_reinforcement_request_station_id_station")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reinforcement_request")),
    )
    with op.batch_alter_table("reinforcement_request", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reinforcement_request_order_id"), ["order_id"], unique=False
        )

    op.create_table(
        "assignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "dispatched",
                "accepted",
                "arrived",
                "released",
                name="assignmentstatus",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("reinforcement_request_id", sa.Integer(), nullable=True),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dispatched_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["dispatched_by"],
            ["user_account.id"],
            name=op.f("fk_assignment_dispatched_by_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incident.id"], name=op.f("fk_assignment_incident_id_incident")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_assignment_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["reinforcement_request_id"],
            ["reinforcement_request.id"],
            name=op.f("fk_assignment_reinforcement_request_id_reinforcement_request"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment")),
    )
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assignment_incident_id"), ["incident_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_assignment_person_id"), ["person_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_assignment_reinforcement_request_id"),
            ["reinforcement_request_id"],
            unique=False,
        )
        batch_op.create_index(
            "uq_assignment_active_person",
            ["person_id"],
            unique=True,
            sqlite_where=sa.text("status IN ('dispatched', 'accepted', 'arrived')"),
            postgresql_where=sa.text("status IN ('dispatched', 'accepted', 'arrived')"),
        )


def downgrade() -> None:
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_assignment_active_person",
            sqlite_where=sa.text("status IN ('dispatched', 'accepted', 'arrived')"),
            postgresql_where=sa.text("status IN ('dispatched', 'accepted', 'arrived')"),
        )
        batch_op.drop_index(batch_op.f("ix_assignment_reinforcement_request_id"))
        batch_op.drop_index(batch_op.f("ix_assignment_person_id"))
        batch_op.drop_index(batch_op.f("ix_assignment_incident_id"))

    op.drop_table("assignment")
    with op.batch_alter_table("reinforcement_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reinforcement_request_order_id"))

    op.drop_table("reinforcement_request")
    with op.batch_alter_table("routing_decision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_routing_decision_incident_id"))

    op.drop_table("routing_decision")
    with op.batch_alter_table("reinforcement_order", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reinforcement_order_incident_id"))

    op.drop_table("reinforcement_order")
    with op.batch_alter_table("incident_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_event_incident_id"))

    op.drop_table("incident_event")
    with op.batch_alter_table("dispute", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dispute_station_id"))
        batch_op.drop_index(batch_op.f("ix_dispute_grid_id"))

    op.drop_table("dispute")
    with op.batch_alter_table("case_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_record_station_id"))

    op.drop_table("case_record")
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_status"))
        batch_op.drop_index(batch_op.f("ix_incident_station_id"))
        batch_op.drop_index(batch_op.f("ix_incident_responsible_person_id"))
        batch_op.drop_index(batch_op.f("ix_incident_received_at"))
        batch_op.drop_index(batch_op.f("ix_incident_grid_id"))
        batch_op.drop_index(batch_op.f("ix_incident_district_id"))
        batch_op.drop_index(batch_op.f("ix_incident_category_id"))

    op.drop_table("incident")
    op.drop_table("routing_rule")
    with op.batch_alter_table("live_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_live_event_station_id"))
        batch_op.drop_index(batch_op.f("ix_live_event_person_id"))
        batch_op.drop_index(batch_op.f("ix_live_event_at"))

    op.drop_table("live_event")
    with op.batch_alter_table("incident_category", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_category_parent_id"))

    op.drop_table("incident_category")
