"""Initial registry schema: files, dataset and model versions, champions, decisions,
the append-only ledger and training runs.

Revision ID: 0001
Revises:
Create Date: 2025-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = sa.String(128)
VERSION = sa.String(32)
SHA256 = sa.String(64)
NOW = sa.text("CURRENT_TIMESTAMP")

SQLITE_TRIGGERS = (
    """CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
    BEGIN SELECT RAISE(ABORT, 'ledger is append-only'); END""",
    """CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
    BEGIN SELECT RAISE(ABORT, 'ledger is append-only'); END""",
)
POSTGRESQL_TRIGGERS = (
    """CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'ledger is append-only' USING ERRCODE = 'restrict_violation';
    END;
    $$""",
    """CREATE TRIGGER ledger_no_update_delete BEFORE UPDATE OR DELETE ON ledger
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only()""",
    """CREATE TRIGGER ledger_no_truncate BEFORE TRUNCATE ON ledger
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only()""",
)


def _one_of(column: str, values: tuple[str, ...], name: str) -> sa.CheckConstraint:
    allowed = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({allowed})", name=name)


def _created_at(name: str = "created_at") -> sa.Column[sa.DateTime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=NOW)


def _create_versions() -> None:
    op.create_table(
        "dataset_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset", NAME, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("version", VERSION, nullable=False),
        sa.Column("parent_version", VERSION, nullable=True),
        sa.Column("manifest_uri", sa.Text(), nullable=False),
        sa.Column("manifest_sha256", SHA256, nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("partitions", sa.Integer(), nullable=False),
        _created_at(),
        sa.PrimaryKeyConstraint("id", name="pk_dataset_versions"),
        sa.UniqueConstraint("dataset", "seq", name="uq_dataset_versions_dataset_seq"),
        sa.UniqueConstraint("dataset", "version", name="uq_dataset_versions_dataset_version"),
        sa.ForeignKeyConstraint(
            ["dataset", "parent_version"],
            ["dataset_versions.dataset", "dataset_versions.version"],
            name="fk_dataset_versions_dataset_parent_version_dataset_versions",
        ),
    )
    op.create_table(
        "ingested_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset", NAME, nullable=False),
        sa.Column("uri", sa.Text(), nullable=False),
        sa.Column("sha256", SHA256, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("dataset_version", VERSION, nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        _created_at(),
        sa.PrimaryKeyConstraint("id", name="pk_ingested_files"),
        sa.UniqueConstraint(
            "dataset", "uri", "sha256", name="uq_ingested_files_dataset_uri_sha256"
        ),
        sa.ForeignKeyConstraint(
            ["dataset", "dataset_version"],
            ["dataset_versions.dataset", "dataset_versions.version"],
            name="fk_ingested_files_dataset_dataset_version_dataset_versions",
        ),
        _one_of("status", ("accepted", "quarantined"), "ck_ingested_files_status"),
    )
    op.create_table(
        "model_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model", NAME, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("version", VERSION, nullable=False),
        sa.Column("training_key", SHA256, nullable=False),
        sa.Column("dataset_versions", sa.JSON(), nullable=False),
        sa.Column("spec_hash", SHA256, nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("code_version", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("artifact_uri", sa.Text(), nullable=False),
        sa.Column("artifact_sha256", SHA256, nullable=False),
        sa.Column("card_uri", sa.Text(), nullable=True),
        sa.Column("card_sha256", SHA256, nullable=True),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("eval_fingerprint", SHA256, nullable=True),
        _created_at(),
        sa.PrimaryKeyConstraint("id", name="pk_model_versions"),
        sa.UniqueConstraint("model", "seq", name="uq_model_versions_model_seq"),
        sa.UniqueConstraint("model", "version", name="uq_model_versions_model_version"),
        sa.UniqueConstraint("model", "training_key", name="uq_model_versions_model_training_key"),
        _one_of(
            "status",
            ("candidate", "champion", "archived", "rejected"),
            "ck_model_versions_status",
        ),
    )
    # At most one champion per model, at all times, whatever writes the row.
    op.create_index(
        "uq_model_versions_one_champion",
        "model_versions",
        ["model"],
        unique=True,
        sqlite_where=sa.text("status = 'champion'"),
        postgresql_where=sa.text("status = 'champion'"),
    )


def _create_promotion_tables() -> None:
    op.create_table(
        "champions",
        sa.Column("model", NAME, nullable=False),
        sa.Column("version", VERSION, nullable=True),
        sa.Column("generation", sa.Integer(), nullable=False),
        _created_at("updated_at"),
        sa.PrimaryKeyConstraint("model", name="pk_champions"),
        sa.ForeignKeyConstraint(
            ["model", "version"],
            ["model_versions.model", "model_versions.version"],
            name="fk_champions_model_version_model_versions",
        ),
    )
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model", NAME, nullable=False),
        sa.Column("version", VERSION, nullable=True),
        sa.Column("champion_version", VERSION, nullable=True),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        _created_at(),
        sa.PrimaryKeyConstraint("id", name="pk_decisions"),
        _one_of(
            "outcome",
            ("promoted", "rejected", "pending_approval", "skipped"),
            "ck_decisions_outcome",
        ),
    )
    op.create_index("ix_decisions_model", "decisions", ["model"])
    op.create_table(
        "ledger",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model", NAME, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("from_version", VERSION, nullable=True),
        sa.Column("to_version", VERSION, nullable=True),
        sa.Column("actor", sa.String(256), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        _created_at(),
        sa.PrimaryKeyConstraint("id", name="pk_ledger"),
        _one_of("action", ("promote", "rollback", "approve", "reject"), "ck_ledger_action"),
    )
    op.create_index("ix_ledger_model", "ledger", ["model"])


def _create_training_runs() -> None:
    op.create_table(
        "training_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model", NAME, nullable=False),
        sa.Column("training_key", SHA256, nullable=False),
        sa.Column("version", VERSION, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=True),
        _created_at("started_at"),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("wall_seconds", sa.Float(), nullable=False),
        sa.Column("cpu_seconds", sa.Float(), nullable=False),
        sa.Column("capacity_type", sa.String(32), nullable=False, server_default="on-demand"),
        sa.Column("instance_type", sa.String(64), nullable=True),
        sa.Column("cost_usd", sa.Float(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_training_runs"),
        _one_of(
            "status",
            ("running", "succeeded", "failed", "skipped"),
            "ck_training_runs_status",
        ),
    )
    op.create_index("ix_training_runs_model", "training_runs", ["model"])


def _create_ledger_triggers() -> None:
    dialect = op.get_context().dialect.name
    if dialect == "sqlite":
        statements = SQLITE_TRIGGERS
    elif dialect == "postgresql":
        statements = POSTGRESQL_TRIGGERS
    else:
        raise NotImplementedError(f"no append-only ledger triggers for dialect {dialect!r}")
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    """Create every registry table, the one-champion index and the ledger triggers."""
    _create_versions()
    _create_promotion_tables()
    _create_training_runs()
    _create_ledger_triggers()


def downgrade() -> None:
    """Drop the registry (triggers first, then tables in dependency order)."""
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS ledger_no_truncate ON ledger")
        op.execute("DROP TRIGGER IF EXISTS ledger_no_update_delete ON ledger")
        op.execute("DROP FUNCTION IF EXISTS ledger_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS ledger_no_update")
        op.execute("DROP TRIGGER IF EXISTS ledger_no_delete")
    for table in (
        "training_runs",
        "ledger",
        "decisions",
        "champions",
        "model_versions",
        "ingested_files",
        "dataset_versions",
    ):
        op.drop_table(table)
