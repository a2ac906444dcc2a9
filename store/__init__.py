"""The shop's database: SQLAlchemy models, Alembic migrations, and the engine and sessions."""
