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


def _statuses(values: tuple[str, ...], name: str = CHECK) -> None:
    bind = op.get_bind()
    checks = sa.inspect(bind).get_check_constraints("training_runs")
    if any(c["sqltext"] == _one_of(values) for c in checks):
        return  # already so (SQLite after a downgrade keeps the wider check)
    # SQLite cannot alter a constraint: batch mode copies the table with the new one.
    with op.batch_alter_table("training_runs", recreate="auto") as batch:
        batch.drop_constraint(name, type_="check")
        batch.create_check_constraint("status", _one_of(values))


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
    """Drop ``version_reservations``; the new statuses become ``failed`` (on SQLite the
    table's check constraint keeps allowing them: batch mode could not find it by name)."""
    op.execute(
        "UPDATE training_runs SET status = 'failed' WHERE status IN ('interrupted', 'lost_race')"
    )
    if op.get_context().dialect.name != "sqlite":
        _statuses(OLD_STATUSES, op.f(CHECK))  # as created by upgrade(): no convention again
    op.drop_table("version_reservations")
