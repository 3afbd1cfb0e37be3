"""Hostile HTTP against the real server (uvicorn, as `make run` serves it), byte by byte over a socket: what a
test client cannot show, such as an answer that comes before the body has been sent."""

from __future__ import annotations

import json
import socket
import time

import pytest

pytestmark = pytest.mark.stack


def connect(stack) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", stack.api_port), timeout=15)
    return sock


def read_response(sock: socket.socket) -> tuple[int, dict]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed without an answer: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = next(int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:"))
    while len(body) < length:
        body += sock.recv(65536)
    return int(lines[0].split()[1]), json.loads(body[:length])


def test_a_huge_content_length_is_refused_without_waiting_for_the_body(stack):
    with connect(stack) as sock:
        sock.sendall(b"POST /api/auth/signup HTTP/1.1\r\nHost: kyoso\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 104857600\r\n\r\n{\"email\": ")  # 100 MiB announced, 10 bytes sent
        started = time.monotonic()
        status, body = read_response(sock)
    assert status == 413 and time.monotonic() - started < 5
    assert body["error"] == "body_too_large"
    assert "1 MiB" in body["message"] and "大きすぎます" in body["message"]


def test_a_chunked_body_is_cut_off_at_the_limit(stack):
    chunk = b"x" * 65536
    with connect(stack) as sock:
        sock.sendall(b"POST /api/organizations HTTP/1.1\r\nHost: kyoso\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n")
        for _ in range(17):  # 1.06 MiB, and the body never ends (no terminating chunk)
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        status, body = read_response(sock)
    assert status == 413 and body["error"] == "body_too_large"


def test_huge_and_undecodable_headers_get_a_clear_4xx(stack):
    with connect(stack) as sock:
        sock.sendall(b"GET /api/me HTTP/1.1\r\nHost: kyoso\r\nAuthorization: Bearer " + b"a" * 1_000_000 + b"\r\n\r\n")
        status, body = read_response(sock)
    assert status == 431 and body["error"] == "headers_too_large" and "16 KiB" in body["message"]
    for header in (b"Authorization: Bearer \xff\xfe\x80", b"Authorization: Basic \xe3\x81\x82",
                   b"Authorization: Bearer", b"Cookie: kyoso_session=\xff; =;;", b"X-Kyoso-Request: \xc0"):
        with connect(stack) as sock:
            sock.sendall(b"GET /api/me HTTP/1.1\r\nHost: kyoso\r\n" + header + b"\r\n\r\n")
            status, body = read_response(sock)
        assert status == 401 and body["error"] == "not_authenticated", header
    with connect(stack) as sock:  # the server still answers as usual afterwards
        sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: kyoso\r\n\r\n")
        assert read_response(sock)[0] == 200
