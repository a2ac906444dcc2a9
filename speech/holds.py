"""What a voice conversation holds between turns, in the conversation database (so it
survives a restart): a low-confidence transcript waiting for "did you say ...?", and the list
items not read out yet (for "more")."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa

from store.failures import translate_storage_errors

metadata = sa.MetaData()
holds = sa.Table(
    "speech_holds",
    metadata,
    sa.Column("session_id", sa.String(128), primary_key=True),
    sa.Column("held_transcript", sa.Text, nullable=True),
    sa.Column("more_items", sa.Text, nullable=False, default="[]"),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)


class VoiceHolds:
    """One row per voice conversation; created (the table too) on first use."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        metadata.create_all(engine, checkfirst=True)

    @classmethod
    def from_url(cls, url: str) -> VoiceHolds:
        return cls(translate_storage_errors(sa.create_engine(url), what="voice holds"))

    def _row(
        self, conn: sa.Connection, session_id: str
    ) -> sa.Row[tuple[str, str | None, str, datetime]] | None:
        return conn.execute(sa.select(holds).where(holds.c.session_id == session_id)).first()

    def _upsert(self, conn: sa.Connection, session_id: str, **values: object) -> None:
        values["updated_at"] = datetime.now(UTC)
        done = conn.execute(sa.update(holds).where(holds.c.session_id == session_id).values(**values))
        if done.rowcount == 0:
            conn.execute(sa.insert(holds).values(session_id=session_id, **{"more_items": "[]", **values}))

    def hold(self, session_id: str, transcript: str) -> None:
        with self.engine.begin() as conn:
            self._upsert(conn, session_id, held_transcript=transcript)

    def held(self, session_id: str) -> str | None:
        with self.engine.connect() as conn:
            row = self._row(conn, session_id)
        return row.held_transcript if row is not None else None

    def take_held(self, session_id: str) -> str | None:
        """The held transcript, removed (so a second answer cannot run it twice)."""
        with self.engine.begin() as conn:
            row = self._row(conn, session_id)
            if row is None or row.held_transcript is None:
                return None
            done = conn.execute(
                sa.update(holds)
                .where(holds.c.session_id == session_id, holds.c.held_transcript == row.held_transcript)
                .values(held_transcript=None, updated_at=datetime.now(UTC))
            )
        return row.held_transcript if done.rowcount == 1 else None

    def set_more(self, session_id: str, items: list[str]) -> None:
        with self.engine.begin() as conn:
            self._upsert(conn, session_id, more_items=json.dumps(items))

    def take_more(self, session_id: str, count: int) -> tuple[list[str], int]:
        """The next ``count`` held list items, and how many are left after them."""
        with self.engine.begin() as conn:
            row = self._row(conn, session_id)
            items: list[str] = json.loads(row.more_items) if row is not None else []
            if items:
                self._upsert(conn, session_id, more_items=json.dumps(items[count:]))
        return items[:count], max(0, len(items) - count)
