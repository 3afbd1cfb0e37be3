"""Hostile input to the JSON API: oversized bodies, JSON that is not what a route takes, and header garbage each get
a clear 4xx in the app's error shape ({"error", "message"}, both languages), never a 500, and nothing is stored.

These need no contracts: the app runs with a real SQLite database and no chain node (as in development before
`make deploy`), so the tests run without brownie's network too (`-p no:pytest-brownie`)."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from backend.api.limits import MAX_BODY_BYTES
from backend.platform.config import Settings
from backend.app import create_app
from tools.devstack.processes import free_port

SIGNUP = "/auth/signup"


@pytest.fixture
def api(tmp_path):
    settings = Settings(environment="test", database_url=f"sqlite:///{tmp_path / 'kyoso.db'}",
                        rpc_url=f"http://127.0.0.1:{free_port()}", rpc_timeout_s=1, public_base_url="http://testserver")
    with TestClient(create_app(settings), base_url="http://testserver/api", raise_server_exceptions=False) as client:
        yield client


def padded(body: dict, size: int) -> bytes:
    """The JSON of body, padded with spaces (still valid JSON) to exactly size bytes."""
    raw = json.dumps(body).encode()
    return raw + b" " * (size - len(raw))


def signup(email: str) -> dict:
    return {"email": email, "password": "kenrokuen-2026"}


def can_log_in(api, email: str) -> bool:
    return api.post("/auth/login", json=signup(email)).status_code == 200


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["error"], str) and isinstance(body["message"], str)
    if code is not None:
        assert body["error"] == code, body
    return body


def test_a_body_over_1_mib_is_refused_and_nothing_is_stored(api):
    body = assert_error(api.post(SIGNUP, content=padded(signup("big@example.jp"), MAX_BODY_BYTES + 1),
                                 headers={"Content-Type": "application/json"}), 413, "body_too_large")
    assert "1 MiB" in body["message"] and "リクエストの本文が大きすぎます" in body["message"]
    assert not can_log_in(api, "big@example.jp")
    # exactly at the limit is still taken: the limit is on size, not on what a proposal's long text needs
    response = api.post(SIGNUP, content=padded(signup("fits@example.jp"), MAX_BODY_BYTES),
                        headers={"Content-Type": "application/json"})
    assert response.status_code == 202, response.text
    assert can_log_in(api, "fits@example.jp")


def test_a_chunked_body_without_content_length_is_counted(api):
    def chunks():
        for _ in range(20):
            yield b" " * 65536  # 1.25 MiB of whitespace, sent without a Content-Length

    response = api.post(SIGNUP, content=chunks(), headers={"Content-Type": "application/json"})
    assert "content-length" not in response.request.headers
    assert_error(response, 413, "body_too_large")


def test_a_content_length_that_is_no_number_is_a_400(api):
    response = api.post(SIGNUP, content=b"{}", headers={"Content-Type": "application/json", "Content-Length": "2x"})
    assert_error(response, 400, "invalid_content_length")


@pytest.mark.parametrize("raw, why", [
    (b'{"email": "a@example.jp", "password": ', "cut off"),
    (b"\xff\xfe{}", "not UTF-8"),
    (b"[" * 100_000 + b"]" * 100_000, "nested 100,000 levels deep"),
    (b'{"email": "a@example.jp", "password": ' + b"9" * 5000 + b"}", "a number of 5000 digits"),
    (b'{"email": "a@example.jp", "password": NaN}', "NaN"),
    (b'{"email": "a@example.jp", "password": 1e999}', "a number beyond floating point"),
    (b'{"email": "a@example.jp", "password": "kenrokuen-2026", "locale": {"ja": [[[[[[[[[[]]]]]]]]]]}}',
     "an object where a string belongs"),
    (b'{"email": ["a@example.jp"], "password": true}', "wrong types"),
    (b'"a@example.jp"', "a string where an object belongs"),
    (b'{"email": "a@example.jp", "password": "kenrokuen-2026", "admin": true}', "an unknown field"),
    (b'{"email": "\\ud800@example.jp", "password": "kenrokuen-2026"}', "a lone surrogate"),
])
def test_json_garbage_is_a_clear_4xx(api, raw, why):
    response = api.post(SIGNUP, content=raw, headers={"Content-Type": "application/json"})
    body = assert_error(response, response.status_code)
    assert response.status_code in (400, 422), (why, response.text)
    assert body["error"] in ("invalid_body", "invalid_request"), (why, body)
    if body["error"] == "invalid_body":
        assert "UTF-8" in body["message"] and "読み取れませんでした" in body["message"]


def test_json_in_the_wrong_content_type_is_refused(api):
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        response = api.post(SIGNUP, content=json.dumps(signup("type@example.jp")), headers={"Content-Type": content_type})
        assert_error(response, 422, "invalid_request")
    assert not can_log_in(api, "type@example.jp")


@pytest.mark.parametrize("authorization", [
    "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer a b c", "bearer " + "x" * 8000, "Token abc",
    b"Bearer \xff\xfe\x80", b"Bearer \xe3\x81\x82",  # not UTF-8; UTF-8 that is no token
])
def test_a_bad_authorization_header_is_401(api, authorization):
    body = assert_error(api.get("/me", headers={"Authorization": authorization}), 401, "not_authenticated")
    assert "ログインしてください" in body["message"]


def test_headers_over_16_kib_are_431(api):
    body = assert_error(api.get("/me", headers={"Authorization": "Bearer " + "a" * 20_000}), 431, "headers_too_large")
    assert "16 KiB" in body["message"]
    assert api.get("/health", headers={"X-Padding": "a" * 8000}).status_code in (200, 503)  # 8 KiB is fine


def test_ids_beyond_64_bits_are_422_not_500(api):
    assert api.post(SIGNUP, json=signup("ids@example.jp")).status_code == 202
    token = api.post("/auth/login", json=signup("ids@example.jp")).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    for path in ("/claims/99999999999999999999999", "/events/99999999999999999999999",
                 "/organizations/99999999999999999999999", "/events/-1/kiosk"):
        assert_error(api.get(path, headers=headers), 422, "invalid_request")
    assert_error(api.get("http://testserver/metadata/" + "f" * 64 + ".json"), 404, "badge_not_found")
    assert_error(api.get("http://testserver/metadata/" + "9" * 4000 + ".json"), 404, "badge_not_found")


def test_unknown_routes_answer_in_both_languages(api):
    assert "ページが見つかりません" in assert_error(api.get("/no-such-route"), 404, "not_found")["message"]
    assert "メソッド" in assert_error(api.put("/health"), 405, "method_not_allowed")["message"]
