"""The benchmarks' load generator, run as a separate process: `python bench/load.py job.json out.json`.

job.json: {"base": "http://127.0.0.1:<port>", "concurrency": N, "deadline_s": T, "timeout_s": t,
           "requests": [{"method": "POST", "path": "/api/...", "token": "...", "json": {...}, "at": s}, ...]}

N clients (asyncio tasks over one aiohttp connection pool of N connections) take the requests in order, each
request with its own bearer token, until all are done or T seconds have passed (then it stops by itself). Only
loopback addresses are allowed. A request with "at" is not sent before `at` seconds after the job's start (an arrival
schedule instead of a closed loop: bench/flood.py). out.json: one record per request, in the job's order: {"start",
"end" (wall-clock seconds, comparable with the backend's timestamps), "status" (0: no answer), "id" (the answer's
"id", if any)}.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from urllib.parse import urlparse

import aiohttp

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
MAX_CONCURRENCY = 1000


async def run(job: dict) -> list[dict]:
    if urlparse(job["base"]).hostname not in LOOPBACK:
        raise SystemExit("bench/load.py only talks to loopback addresses")
    concurrency = max(1, min(int(job["concurrency"]), MAX_CONCURRENCY))
    requests = job["requests"]
    records: list[dict | None] = [None] * len(requests)
    stop_at = time.monotonic() + float(job.get("deadline_s", 600))
    timeout = aiohttp.ClientTimeout(total=float(job.get("timeout_s", 60)))
    next_index = 0
    started = time.monotonic()

    async def client(http: aiohttp.ClientSession) -> None:
        nonlocal next_index
        while next_index < len(requests) and time.monotonic() < stop_at:
            index, next_index = next_index, next_index + 1
            request = requests[index]
            if request.get("at") is not None and (wait := started + float(request["at"]) - time.monotonic()) > 0:
                await asyncio.sleep(wait)
            headers = {"Authorization": f"Bearer {request['token']}"} if request.get("token") else {}
            start, status, ident = time.time(), 0, None
            try:
                async with http.request(request["method"], job["base"] + request["path"], json=request.get("json"),
                                        headers=headers) as response:
                    status = response.status
                    body = await response.read()
                    if body[:1] == b"{":
                        ident = json.loads(body).get("id")
            except (aiohttp.ClientError, asyncio.TimeoutError):
                pass
            records[index] = {"start": start, "end": time.time(), "status": status, "id": ident}

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        await asyncio.gather(*(client(http) for _ in range(concurrency)))
    return [r if r is not None else {"start": None, "end": None, "status": -1, "id": None} for r in records]


def main() -> None:
    job = json.loads(open(sys.argv[1]).read())
    records = asyncio.run(run(job))
    with open(sys.argv[2], "w") as out:
        json.dump(records, out)


if __name__ == "__main__":
    main()
