"""A JSON-RPC proxy in front of a node that fails the way public RPC providers do, for tests (issue #19):

    python -m tools.devstack.rpc_proxy --port 9000 --upstream http://127.0.0.1:8546

Faults are set over HTTP by the test: `POST /_faults` with `{"fault": "429" | "500" | "timeout" | "drop", "count": n}`
makes the next n requests fail that way (429 with Retry-After: 1; 500; "timeout": the request reaches the node, the
answer comes `delay_s` late; "drop": the request reaches the node and the connection is closed without an answer, so
a transaction may well have been sent), and `{"getlogs_max_blocks": n, "getlogs_max_results": m}` makes eth_getLogs
refuse wider ranges and larger answers as providers do. `GET /_faults` tells how many of each were served.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
import urllib.request
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Faults:
    def __init__(self):
        self.lock = threading.Lock()
        self.queue: list[str] = []
        self.delay_s = 3.0
        self.getlogs_max_blocks: int | None = None
        self.getlogs_max_results: int | None = None
        self.served: Counter[str] = Counter()

    def next(self) -> str | None:
        with self.lock:
            return self.queue.pop(0) if self.queue else None

    def count(self, fault: str) -> None:
        with self.lock:
            self.served[fault] += 1


def make_handler(upstream: str, faults: Faults):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet: the test reads /_faults
            pass

        def _answer(self, status: int, body: bytes, headers: dict | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            with faults.lock:
                body = json.dumps({"served": dict(faults.served), "queued": list(faults.queue)}).encode()
            self._answer(200, body)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.path == "/_faults":
                settings = json.loads(body)
                with faults.lock:
                    if "fault" in settings:
                        faults.queue.extend([settings["fault"]] * int(settings.get("count", 1)))
                    for name in ("delay_s", "getlogs_max_blocks", "getlogs_max_results"):
                        if name in settings:
                            setattr(faults, name, settings[name])
                self._answer(200, b"{}")
                return
            fault = faults.next()
            if fault == "429":
                faults.count(fault)
                self._answer(429, b'{"error": "too many requests"}', {"Retry-After": "1"})
                return
            if fault == "500":
                faults.count(fault)
                self._answer(500, b'{"error": "internal error"}')
                return
            refused = self._getlogs_refusal(body)
            if refused is not None:
                self._answer(200, refused)
                return
            request = urllib.request.Request(upstream, data=body, headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=30) as response:
                answer = response.read()
            refused = self._getlogs_too_many(body, answer)
            if refused is not None:
                self._answer(200, refused)
                return
            if fault == "drop":
                faults.count(fault)
                self.close_connection = True
                self.connection.close()  # the node did it; the client never hears
                return
            if fault == "timeout":
                faults.count(fault)
                time.sleep(faults.delay_s)
            self._answer(200, answer)

        def _getlogs_refusal(self, body: bytes) -> bytes | None:
            if faults.getlogs_max_blocks is None:
                return None
            request = json.loads(body)
            if not isinstance(request, dict) or request.get("method") != "eth_getLogs":
                return None
            query = request["params"][0]
            blocks = int(query["toBlock"], 16) - int(query["fromBlock"], 16) + 1
            if blocks <= faults.getlogs_max_blocks:
                return None
            faults.count("getlogs_range")
            return json.dumps({"jsonrpc": "2.0", "id": request["id"], "error": {
                "code": -32600, "message": f"block range is too wide (max {faults.getlogs_max_blocks})"}}).encode()

        def _getlogs_too_many(self, body: bytes, answer: bytes) -> bytes | None:
            if faults.getlogs_max_results is None:
                return None
            request = json.loads(body)
            if not isinstance(request, dict) or request.get("method") != "eth_getLogs":
                return None
            if len(json.loads(answer).get("result") or []) <= faults.getlogs_max_results:
                return None
            faults.count("getlogs_results")
            return json.dumps({"jsonrpc": "2.0", "id": request["id"], "error": {
                "code": -32005, "message": f"query returned more than {faults.getlogs_max_results} results"}}).encode()

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(args.upstream, Faults()))
    server.daemon_threads = True
    print(f"rpc proxy on 127.0.0.1:{args.port} -> {args.upstream}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
