"""The backend with the naive relayer (bench/naive_relayer.py), for bench/burst.py's baseline: started as the shipping
backend is, with the relayer swapped.

    python -m bench.naive_backend            the background worker (as `python -m backend.worker`)
    uvicorn bench.naive_backend:app          the API with the relayer in it (as `uvicorn backend.app:app`)
"""

from __future__ import annotations

from backend import worker
from backend.app import create_app
from bench.naive_relayer import NaiveRelayer

app = create_app(relayer_class=NaiveRelayer)


def main() -> None:
    worker.main(NaiveRelayer)


if __name__ == "__main__":
    main()
