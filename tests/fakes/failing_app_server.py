"""The real app with one route that fails the hard way, served as ``openviking-mcp serve``
serves (:func:`http_api.serving.run`): for tests of the failure path.

``GET /boom`` recurses until Python's recursion limit, so the error handler gets an exception
with a traceback of about a thousand frames (what a 1,000-segment URI once caused deep in
``pathlib``). Run: ``python -m tests.fakes.failing_app_server --path DIR --port N``.
"""

from __future__ import annotations

import argparse

from http_api import create_app, serving
from openviking_mcp.config import OpenVikingConfig

__all__ = ["main"]


def _deeper(depth: int) -> int:
    return _deeper(depth + 1) + 1


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--path", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    config = OpenVikingConfig.from_dict(
        {
            "storage": {"workspace": args.path},
            "embedding": {"dense": {"provider": "hashing", "dimension": 64}},
        }
    )
    app = create_app(config)

    @app.get("/boom")
    async def boom() -> dict[str, int]:
        return {"depth": _deeper(0)}  # RecursionError, on the event loop

    serving.run(app, host="127.0.0.1", port=args.port, log_level="info", max_header_bytes=65536)


if __name__ == "__main__":
    main()
