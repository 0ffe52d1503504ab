"""A live server for the event stream tests: the real app on an in-thread uvicorn, in api_key
mode with a tiny keep-alive interval, and a raw reader of its server-sent events."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from openviking_mcp import OpenVikingConfig
from tests.servers import serving

__all__ = ["KEEPALIVE", "ROOT_KEY", "Frames", "config_for", "serving"]

ROOT_KEY = "root-secret-key-for-event-tests"
KEEPALIVE = 0.3


def config_for(workspace: Path, **sections: Any) -> OpenVikingConfig:
    return OpenVikingConfig.from_dict(
        {
            "storage": {"workspace": str(workspace)},
            "embedding": {"dense": {"provider": "hashing", "dimension": 256}},
            "server": {"root_api_key": ROOT_KEY},
            "events": {"keepalive_seconds": KEEPALIVE, "poll_seconds": 0.2},
            **sections,
        }
    )


@dataclass
class Frames:
    """A raw reader of one open stream: its comments and its events, as they came."""

    lines: AsyncIterator[str]
    comments: list[str] = field(default_factory=list)
    _frame: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, response: httpx.Response) -> Frames:
        return cls(response.aiter_lines())

    async def next(self) -> dict[str, Any] | None:
        """The next event (``None`` for a keep-alive comment), checking that the ``id:`` and
        ``event:`` lines agree with the JSON in ``data:``."""
        async for line in self.lines:
            if line.startswith(":"):
                self.comments.append(line[1:].strip())
                if line[1:].strip() == "keep-alive":
                    return None
            elif line:
                name, _, value = line.partition(":")
                self._frame[name] = value.strip()
            elif self._frame:
                frame, self._frame = self._frame, {}
                event: dict[str, Any] = json.loads(frame["data"])
                assert frame["id"] == str(event["id"])
                assert frame["event"] == event["type"]
                return event
        raise AssertionError("the stream ended")

    async def events(self, count: int) -> list[dict[str, Any]]:
        """The next ``count`` events (keep-alives in between skipped)."""
        got: list[dict[str, Any]] = []
        while len(got) < count:
            event = await self.next()
            if event is not None:
                got.append(event)
        return got

    async def until_quiet(self) -> list[dict[str, Any]]:
        """The events up to the next keep-alive: all there were, once the stream went quiet."""
        got: list[dict[str, Any]] = []
        while (event := await self.next()) is not None:
            got.append(event)
        return got
