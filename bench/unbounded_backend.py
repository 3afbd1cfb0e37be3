"""The background worker with the relayer of before issue #17 (bench/unbounded_relayer.py), for bench/flood.py's
comparison: `python -m bench.unbounded_backend`, started as `python -m backend.worker` is."""

from __future__ import annotations

from backend import worker
from bench.unbounded_relayer import UnboundedRelayer


def main() -> None:
    worker.main(UnboundedRelayer)


if __name__ == "__main__":
    main()
