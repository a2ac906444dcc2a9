"""verified senders: the customer an outside dialogue system's conversation verified (Rasa)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 04:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "verified_senders",
        sa.Column("sender_key", sa.String(length=96), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_verified_senders_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("sender_key", name=op.f("pk_verified_senders")),
    )
    op.create_index(op.f("ix_verified_senders_customer_id"), "verified_senders", ["customer_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_verified_senders_customer_id"), table_name="verified_senders")
    op.drop_table("verified_senders")
