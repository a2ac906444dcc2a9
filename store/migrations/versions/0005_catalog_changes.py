"""catalog change feed: catalog_changes, written by triggers on products and variants

Every INSERT, UPDATE or DELETE of a product or a variant adds a row naming the product, in the
writing transaction, whoever writes (the ORM, a bulk statement, an importer, a cascade, plain
SQL). Other processes follow the table to keep their search index current (store.changes).

SQLite drops a table's triggers when a batch migration copies the table: a later migration that
recreates ``products`` or ``variants`` that way must create these triggers again.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 22:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

#: table -> the column holding the product's id
WATCHED = {"products": "id", "variants": "product_id"}
OPERATIONS = ("insert", "update", "delete")

POSTGRES_FUNCTION = """
CREATE FUNCTION catalog_note_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_id text;
    new_id text;
BEGIN
    IF TG_OP <> 'INSERT' THEN old_id := to_jsonb(OLD) ->> TG_ARGV[0]; END IF;
    IF TG_OP <> 'DELETE' THEN new_id := to_jsonb(NEW) ->> TG_ARGV[0]; END IF;
    IF new_id IS NOT NULL THEN
        INSERT INTO catalog_changes (product_id) VALUES (new_id);
    END IF;
    IF old_id IS NOT NULL AND old_id IS DISTINCT FROM new_id THEN
        INSERT INTO catalog_changes (product_id) VALUES (old_id);
    END IF;
    RETURN NULL;
END
$$
"""


def _sqlite_trigger(table: str, column: str, operation: str) -> str:
    rows = {
        "insert": f"INSERT INTO catalog_changes (product_id) VALUES (NEW.{column});",
        "update": f"INSERT INTO catalog_changes (product_id) VALUES (NEW.{column}); "
        f"INSERT INTO catalog_changes (product_id) SELECT OLD.{column} WHERE OLD.{column} <> NEW.{column};",
        "delete": f"INSERT INTO catalog_changes (product_id) VALUES (OLD.{column});",
    }[operation]
    return (
        f"CREATE TRIGGER catalog_changes_{table}_{operation} AFTER {operation.upper()} ON {table} "
        f"FOR EACH ROW BEGIN {rows} END"
    )


def upgrade() -> None:
    op.create_table(
        "catalog_changes",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("product_id", sa.String(length=64), nullable=False),
        sa.Column(
            "changed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_catalog_changes")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_catalog_changes_changed_at"), "catalog_changes", ["changed_at"])
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(POSTGRES_FUNCTION)
        for table, column in WATCHED.items():
            op.execute(
                f"CREATE TRIGGER catalog_changes_{table} AFTER INSERT OR UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION catalog_note_change('{column}')"
            )
    elif dialect == "sqlite":
        for table, column in WATCHED.items():
            for operation in OPERATIONS:
                op.execute(_sqlite_trigger(table, column, operation))
    else:
        raise NotImplementedError(f"catalog change triggers exist for SQLite and PostgreSQL, not {dialect}")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for table in WATCHED:
            op.execute(f"DROP TRIGGER IF EXISTS catalog_changes_{table} ON {table}")
        op.execute("DROP FUNCTION IF EXISTS catalog_note_change()")
    else:
        for table in WATCHED:
            for operation in OPERATIONS:
                op.execute(f"DROP TRIGGER IF EXISTS catalog_changes_{table}_{operation}")
    op.drop_index(op.f("ix_catalog_changes_changed_at"), table_name="catalog_changes")
    op.drop_table("catalog_changes")
