"""The smallest FastAPI app that looks like one of Kyoso's routes (a sync route behind a sync dependency, a JSON
answer): bench/floor.py measures what uvicorn + FastAPI cost per request with it."""

from typing import Annotated

from fastapi import Depends, FastAPI

app = FastAPI()


def _dependency() -> int:
    return 1


@app.get("/ping")
def ping(value: Annotated[int, Depends(_dependency)]) -> dict:
    return {"id": value}
