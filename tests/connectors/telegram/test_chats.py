from pathlib import Path

from connectors.telegram.chats import ChatDirectory, ChatLink


def test_a_chat_keeps_its_session_across_restarts_and_reset_starts_a_new_one(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sessions.db'}"
    directory = ChatDirectory.from_url(url)
    assert directory.session_for(42) == "tg:42" == directory.session_for(42)
    assert directory.session_for(-100123) == "tg:-100123"
    fresh = directory.reset(42)
    assert fresh.startswith("tg:42:") and fresh != "tg:42"
    directory.close()
    reopened = ChatDirectory.from_url(url)
    assert reopened.session_for(42) == fresh
    assert set(reopened.links_for(["tg:42", fresh, "tg:-100123"])) == {fresh, "tg:-100123"}


def test_the_delivery_cursor_is_claimed_once_and_can_be_put_back(tmp_path: Path) -> None:
    directory = ChatDirectory.from_url(f"sqlite:///{tmp_path / 'sessions.db'}")
    sid = directory.session_for(7)
    link = directory.links_for([sid])[sid]
    assert link == ChatLink(7, sid, 0)
    assert directory.claim(link, 5) is True
    assert directory.claim(link, 5) is False, "a second worker with the same view loses the claim"
    assert directory.release(ChatLink(7, sid, 5), 3) is True
    assert directory.links_for([sid])[sid].delivered_seq == 3
