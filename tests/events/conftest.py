"""The live server of the event tests (:mod:`tests.events._live`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from openviking_mcp import ContextService, SyncHTTPClient
from tests.events._live import ROOT_KEY, config_for, serving


@pytest.fixture
def live(workspace: Path) -> Iterator[tuple[str, str, str]]:
    """The server's URL, the key of ann (ADMIN of acme) and of ben (USER of acme)."""
    with serving(ContextService(config_for(workspace))) as url:
        with SyncHTTPClient(url, ROOT_KEY, timeout=30.0) as root:
            ann = root.create_account("acme", "ann")["user_key"]
            ben = root.create_user("acme", "ben")["user_key"]
        yield url, ann, ben
