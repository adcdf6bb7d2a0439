"""Initial schema: organisation, personnel, accounts, sessions, audit log.

Revision ID: 2f59c3952a9f
Revises:
Create Date: 2026-11-22 17:05:12.911159
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "2f59c3952a9f"
down_revision = None
branch_labels = None
depends_on = None


_SQLITE_AUDIT_GUARDS = [
    """CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
    BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END""",
    """CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
    BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END""",
]
_PG_AUDIT_GUARDS = [
    """CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'audit_event is append-only'; END $$""",
    """CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_event
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()""",
]


def _install_audit_guards() -> None:
    """The audit log refuses UPDATE and DELETE inside the database itself."""
    dialect = op.get_bind().dialect.name
    for statement in _PG_AUDIT_GUARDS if dialect == "postgresql" else _SQLITE_AUDIT_GUARDS:
        op.execute(statement)


def _drop_audit_guards() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event")
        op.execute("DROP FUNCTION IF EXISTS audit_event_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_delete")


def upgrade() -> None:
    op.create_table(
        "bureau",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bureau")),
        sa.UniqueConstraint("code", name=op.f("uq_bureau_code")),
    )
    op.create_table(
        "login_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failure")),
    )
    with op.batch_alter_table("login_failure", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_failure_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_login_failure_username"), ["username"], unique=False)

    op.create_table(
        "joint_station",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("bureau_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bureau_id"], ["bureau.id"], name=op.f("fk_joint_station_bureau_id_bureau")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_joint_station")),
        sa.UniqueConstraint("code", name=op.f("uq_joint_station_code")),
    )
    with op.batch_alter_table("joint_station", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_joint_station_bureau_id"), ["bureau_id"], unique=False)

    op.create_table(
        "station",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("urban", "rural", name="areakind", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("bureau_id", sa.Integer(), nullable=False),
        sa.Column("joint_station_id", sa.Integer(), nullable=True),
        sa.Column("address", sa.String(length=200), nullable=True),
        sa.Column("geometry", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["bureau_id"], ["bureau.id"], name=op.f("fk_station_bureau_id_bureau")
        ),
        sa.ForeignKeyConstraint(
            ["joint_station_id"],
            ["joint_station.id"],
            name=op.f("fk_station_joint_station_id_joint_station"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_station")),
        sa.UniqueConstraint("code", name=op.f("uq_station_code")),
    )
    with op.batch_alter_table("station", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_station_bureau_id"), ["bureau_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_station_joint_station_id"), ["joint_station_id"], unique=False
        )

    op.create_table(
        "person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("personnel_no", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "officer",
                "auxiliary",
                "grid_worker",
                "volunteer",
                name="personkind",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column(
            "team",
            sa.Enum("community", "case", "command_room", name="team", native_enum=False, length=24),
            nullable=True,
        ),
        sa.Column("position", sa.String(length=50), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column(
            "duty_status",
            sa.Enum(
                "available",
                "en_route",
                "on_scene",
                "busy",
                "off_duty",
                name="dutystatus",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("last_lon", sa.Float(), nullable=True),
        sa.Column("last_lat", sa.Float(), nullable=True),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["station_id"], ["station.id"], name=op.f("fk_person_station_id_station")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person")),
        sa.UniqueConstraint("personnel_no", name=op.f("uq_person_personnel_no")),
    )
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_person_station_id"), ["station_id"], unique=False)

    op.create_table(
        "police_district",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("geometry", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["station_id"], ["station.id"], name=op.f("fk_police_district_station_id_station")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_police_district")),
        sa.UniqueConstraint("code", name=op.f("uq_police_district_code")),
    )
    with op.batch_alter_table("police_district", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_police_district_station_id"), ["station_id"], unique=False
        )

    op.create_table(
        "police_grid",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("urban", "rural", name="areakind", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.Column("places", sa.String(length=500), nullable=True),
        sa.Column("geometry", sa.LargeBinary(), nullable=False),
        sa.Column("min_lon", sa.Float(), nullable=False),
        sa.Column("min_lat", sa.Float(), nullable=False),
        sa.Column("max_lon", sa.Float(), nullable=False),
        sa.Column("max_lat", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["district_id"],
            ["police_district.id"],
            name=op.f("fk_police_grid_district_id_police_district"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_police_grid")),
        sa.UniqueConstraint("code", name=op.f("uq_police_grid_code")),
    )
    with op.batch_alter_table("police_grid", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_police_grid_district_id"), ["district_id"], unique=False
        )

    op.create_table(
        "user_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "admin",
                "station_chief",
                "command_room",
                "community_officer",
                "auxiliary",
                "case_officer",
                "legal_supervisor",
                "grid_worker",
                name="role",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("station_id", sa.Integer(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_user_account_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["station_id"], ["station.id"], name=op.f("fk_user_account_station_id_station")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_account")),
        sa.UniqueConstraint("username", name=op.f("uq_user_account_username")),
    )
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_account_person_id"), ["person_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_user_account_station_id"), ["station_id"], unique=False
        )

    op.create_table(
        "audit_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("role", sa.String(length=32), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column(
            "action",
            sa.Enum(
                "read",
                "search",
                "create",
                "update",
                "delete",
                "import",
                "login",
                "login_failed",
                "login_locked",
                "logout",
                "password_change",
                "disable",
                "enable",
                "access_denied",
                name="auditaction",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("object_type", sa.String(length=40), nullable=False),
        sa.Column("object_id", sa.String(length=200), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_audit_event_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_event_hash")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_event_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_event_user_id"), ["user_id"], unique=False)

    op.create_table(
        "auth_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_auth_session_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_auth_session_token_hash")),
    )
    with op.batch_alter_table("auth_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auth_session_user_id"), ["user_id"], unique=False)

    op.create_table(
        "civil_grid",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=48), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("community", sa.String(length=100), nullable=False),
        sa.Column("police_grid_id", sa.Integer(), nullable=False),
        sa.Column("geometry", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["police_grid_id"],
            ["police_grid.id"],
            name=op.f("fk_civil_grid_police_grid_id_police_grid"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_civil_grid")),
        sa.UniqueConstraint("code", name=op.f("uq_civil_grid_code")),
    )
    with op.batch_alter_table("civil_grid", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_civil_grid_police_grid_id"), ["police_grid_id"], unique=False
        )

    op.create_table(
        "grid_assignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("grid_id", sa.Integer(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "officer",
                "auxiliary",
                "grid_worker",
                "volunteer",
                name="personkind",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["grid_id"], ["police_grid.id"], name=op.f("fk_grid_assignment_grid_id_police_grid")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_grid_assignment_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grid_assignment")),
        sa.UniqueConstraint(
            "person_id", "grid_id", name=op.f("uq_grid_assignment_person_id_grid_id")
        ),
    )
    with op.batch_alter_table("grid_assignment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_grid_assignment_grid_id"), ["grid_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_grid_assignment_person_id"), ["person_id"], unique=False
        )
        batch_op.create_index(
            "uq_grid_assignment_fixed_role",
            ["grid_id", "role"],
            unique=True,
            sqlite_where=sa.text("role IN ('officer', 'auxiliary')"),
            postgresql_where=sa.text("role IN ('officer', 'auxiliary')"),
        )

    _install_audit_guards()


def downgrade() -> None:
    _drop_audit_guards()
    with op.batch_alter_table("grid_assignment", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_grid_assignment_fixed_role",
            sqlite_where=sa.text("role IN ('officer', 'auxiliary')"),
            postgresql_where=sa.text("role IN ('officer', 'auxiliary')"),
        )
        batch_op.drop_index(batch_op.f("ix_grid_assignment_person_id"))
        batch_op.drop_index(batch_op.f("ix_grid_assignment_grid_id"))

    op.drop_table("grid_assignment")
    with op.batch_alter_table("civil_grid", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_civil_grid_police_grid_id"))

    op.drop_table("civil_grid")
    with op.batch_alter_table("auth_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auth_session_user_id"))

    op.drop_table("auth_session")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_event_user_id"))
        batch_op.drop_index(batch_op.f("ix_audit_event_at"))

    op.drop_table("audit_event")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_account_station_id"))
        batch_op.drop_index(batch_op.f("ix_user_account_person_id"))

    op.drop_table("user_account")
    with op.batch_alter_table("police_grid", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_police_grid_district_id"))

    op.drop_table("police_grid")
    with op.batch_alter_table("police_district", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_police_district_station_id"))

    op.drop_table("police_district")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_station_id"))

    op.drop_table("person")
    with op.batch_alter_table("station", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_station_joint_station_id"))
        batch_op.drop_index(batch_op.f("ix_station_bureau_id"))

    op.drop_table("station")
    with op.batch_alter_table("joint_station", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_joint_station_bureau_id"))

    op.drop_table("joint_station")
    with op.batch_alter_table("login_failure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_failure_username"))
        batch_op.drop_index(batch_op.f("ix_login_failure_at"))

    op.drop_table("login_failure")
    op.drop_table("bureau")
