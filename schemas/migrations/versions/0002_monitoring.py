"""Monitoring reports: one row per monitoring run of a champion.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = sa.String(128)
VERSION = sa.String(32)
SHA256 = sa.String(64)
STATUSES = (
    "ok", "drift", "degraded", "insufficient_data", "no_champion", "champion_unverified",
    "reference_outdated",
)  # fmt: skip
ACTIONS = ("none", "retrain", "rollback", "alert")


def _one_of(column: str, values: tuple[str, ...], name: str) -> sa.CheckConstraint:
    allowed = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({allowed})", name=name)


def upgrade() -> None:
    """Create ``monitoring_reports`` (indexed by model)."""
    op.create_table(
        "monitoring_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model", NAME, nullable=False),
        sa.Column("champion_version", VERSION, nullable=True),
        sa.Column("dataset_versions", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("drift_detected", sa.Boolean(), nullable=False),
        sa.Column("drifted_features", sa.JSON(), nullable=False),
        sa.Column("degraded", sa.Boolean(), nullable=False),
        sa.Column("metric", sa.String(32), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("interval_low", sa.Float(), nullable=True),
        sa.Column("interval_high", sa.Float(), nullable=True),
        sa.Column("reference_value", sa.Float(), nullable=True),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=True),
        sa.Column("drifted_event", sa.Boolean(), nullable=False),
        sa.Column("degraded_event", sa.Boolean(), nullable=False),
        sa.Column("report_uri", sa.Text(), nullable=True),
        sa.Column("report_sha256", SHA256, nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("CURRENT_TIMESTAMP"),
        ),
        sa.PrimaryKeyConstraint("id", name="pk_monitoring_reports"),
        _one_of("status", STATUSES, "ck_monitoring_reports_status"),
        _one_of("action", ACTIONS, "ck_monitoring_reports_action"),
    )
    op.create_index("ix_monitoring_reports_model", "monitoring_reports", ["model"])


def downgrade() -> None:
    """Drop ``monitoring_reports``."""
    op.drop_index("ix_monitoring_reports_model", table_name="monitoring_reports")
    op.drop_table("monitoring_reports")
