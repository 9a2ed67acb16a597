"""Version reservations (a number is taken before any upload) and the final statuses of a
training run (``interrupted``, ``lost_race``).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = sa.String(128)
VERSION = sa.String(32)
SHA256 = sa.String(64)
OLD_STATUSES = ("running", "succeeded", "failed", "skipped")
NEW_STATUSES = ("running", "succeeded", "failed", "interrupted", "lost_race", "skipped")
CHECK = "ck_training_runs_status"


def _one_of(values: tuple[str, ...]) -> str:
    return "status IN (" + ", ".join(f"'{value}'" for value in values) + ")"


def _statuses(values: tuple[str, ...]) -> None:
    """Replace the status check of ``training_runs`` (0001 named it, through the naming
    convention, ``ck_training_runs_ck_training_runs_status``; this names it ``CHECK``)."""
    bind = op.get_bind()
    checks = sa.inspect(bind).get_check_constraints("training_runs")
    names = [c["name"] for c in checks if "status" in c["sqltext"] and c["name"]]
    if bind.dialect.name == "postgresql":  # plain DDL: no naming convention in the way
        for name in names:
            op.execute(f'ALTER TABLE training_runs DROP CONSTRAINT "{name}"')
        op.execute(f"ALTER TABLE training_runs ADD CONSTRAINT {CHECK} CHECK ({_one_of(values)})")
        return
    # SQLite cannot alter a constraint: batch mode copies the table with the new one.
    with op.batch_alter_table("training_runs", recreate="always") as batch:
        for name in names:
            batch.drop_constraint(op.f(name), type_="check")
        batch.create_check_constraint(op.f(CHECK), _one_of(values))


def upgrade() -> None:
    """Create ``version_reservations``; allow the new training-run statuses."""
    op.create_table(
        "version_reservations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model", NAME, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("version", VERSION, nullable=False),
        sa.Column("training_key", SHA256, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("CURRENT_TIMESTAMP"),
        ),
        sa.PrimaryKeyConstraint("id", name="pk_version_reservations"),
        sa.UniqueConstraint("model", "seq", name="uq_version_reservations_model_seq"),
        sa.UniqueConstraint("model", "version", name="uq_version_reservations_model_version"),
        sa.UniqueConstraint(
            "model", "training_key", name="uq_version_reservations_model_training_key"
        ),
    )
    _statuses(NEW_STATUSES)


def downgrade() -> None:
    """Drop ``version_reservations``; the new statuses become ``failed``."""
    op.execute(
        "UPDATE training_runs SET status = 'failed' WHERE status IN ('interrupted', 'lost_race')"
    )
    _statuses(OLD_STATUSES)
    op.drop_table("version_reservations")
