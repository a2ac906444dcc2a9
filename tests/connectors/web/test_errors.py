"""Input that once caused 500s gets the API's error shape, without its values echoed back."""

from __future__ import annotations

from fastapi.testclient import TestClient


def _error(response, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


BAD_BODIES = [
    (b'{"message": "hi \\ud800"}', "message"),  # a lone surrogate: no valid string
    (b'{"message": "hi", "x": NaN}', "x"),
    (b'{"message": "hi", "x": Infinity}', "x"),
    (b'{"message": -Infinity}', "message"),
    (b'{"message": "hi", "session_id": "\\udfff"}', "session_id"),
    (b'{"message": "hi"', "body"),  # cut short
    (b"[1, 2, 3]", "body"),
]


def test_bad_json_gets_422_naming_the_field_without_echoing_it(client: TestClient) -> None:
    for raw, field in BAD_BODIES:
        response = client.post("/api/v1/chat", content=raw, headers={"Content-Type": "application/json"})
        error = _error(response, 422, "invalid_arguments")
        fields = [e["field"] for e in error["context"]["errors"]]
        assert any(f == field or f.startswith(field) for f in fields), (raw, fields)
        assert "NaN" not in response.text and "Infinity" not in response.text
        assert "\\ud800" not in response.text
        assert all(set(e) == {"field", "message"} for e in error["context"]["errors"])  # no "input"


def test_a_body_that_is_not_utf8_gets_400_in_the_same_shape(client: TestClient) -> None:
    response = client.post(
        "/api/v1/chat", content=b"\xff\xfe not json", headers={"Content-Type": "application/json"}
    )
    _error(response, 400, "bad_request")


def test_unknown_routes_and_methods_get_the_error_shape(client: TestClient) -> None:
    _error(client.get("/api/v1/nothing-here"), 404, "not_found")
    _error(client.delete("/api/v1/chat"), 405, "method_not_allowed")
    assert client.get("/api/v1/chat").headers["allow"] == "POST"


def test_an_invalid_session_id_in_the_path_is_a_422(client: TestClient) -> None:
    _error(client.get("/api/v1/sessions/-starts-badly"), 422, "invalid_arguments")
    _error(client.get("/api/v1/sessions/" + "a" * 129), 422, "invalid_arguments")
    assert client.get("/api/v1/sessions/web-1.2:3_x").status_code == 403  # valid, not the caller's
