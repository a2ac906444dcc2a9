from pathlib import Path

from speech.holds import VoiceHolds


def test_a_held_transcript_survives_a_new_process_and_runs_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sessions.db'}"
    VoiceHolds.from_url(url).hold("s1", "cancel order #W0000001")
    restarted = VoiceHolds.from_url(url)  # the table exists; a new engine reads the row
    assert restarted.held("s1") == "cancel order #W0000001"
    assert restarted.take_held("s1") == "cancel order #W0000001"
    assert restarted.take_held("s1") is None
    assert restarted.take_held("unknown") is None


def test_more_items_are_read_in_pages(tmp_path: Path) -> None:
    holds = VoiceHolds.from_url(f"sqlite:///{tmp_path / 'sessions.db'}")
    holds.set_more("s1", ["Fourth, a.", "Fifth, b.", "Sixth, c.", "Seventh, d."])
    assert holds.take_more("s1", 3) == (["Fourth, a.", "Fifth, b.", "Sixth, c."], 1)
    assert holds.take_more("s1", 3) == (["Seventh, d."], 0)
    assert holds.take_more("s1", 3) == ([], 0)
