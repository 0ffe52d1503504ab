"""Fuzz the REST API as a USER (schemathesis), share 1 of 2 of the schema's operations
(:mod:`tests.adversarial._schemathesis`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.adversarial._schemathesis import fuzz_as_user

# about 15 s on an idle 2-core machine (450 cases); the timeout catches a hang
pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def test_user_key_never_gets_a_server_error(tmp_path: Path) -> None:
    fuzz_as_user(tmp_path, 0, 2)
