"""The Alembic migrations build exactly the schema the models describe: a model change without
its migration (or a migration that drifts from the model) fails here."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from store.db import Database
from store.models import Base

pytestmark = pytest.mark.databases


def test_migrated_schema_matches_the_models(empty_db_url):
    db = Database(empty_db_url)
    db.migrate()
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    db.dispose()
    assert differences == []
