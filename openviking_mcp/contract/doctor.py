"""Doctor: what ``openviking-mcp doctor`` reports about an installation before it serves.

A :class:`DoctorReport` holds one :class:`CheckResult` per check, in the order they ran
(configuration, data folder, disk space, embedder, search index, LLM, server auth, port,
bundled skills). ``status`` is ``ok``, ``warn`` (works, with a caveat worth knowing) or
``fail`` (the server would not start or not work); every ``warn`` and ``fail`` carries a
``fix``. ``ok`` is false when any check failed. Nothing here holds a secret: API keys are
never reported.
"""

from __future__ import annotations

from typing import Literal

from openviking_mcp.contract.base import Result, omitted

__all__ = ["CheckResult", "CheckStatus", "DoctorReport"]

CheckStatus = Literal["ok", "warn", "fail"]
"""``ok``: fine; ``warn``: works with a caveat; ``fail``: needs fixing first."""


class CheckResult(Result):
    """The outcome of one check."""

    name: str
    """What was checked (``config``, ``data folder``, ``embedder``...)."""
    status: CheckStatus
    detail: str
    """What was found, in one sentence (paths, model ids, the error)."""
    fix: str | None = omitted()
    """What to do about a ``warn`` or ``fail``."""


class DoctorReport(Result):
    """Every check of one ``doctor`` run."""

    ok: bool
    """No check failed (warnings allowed)."""
    checks: list[CheckResult]
    config_source: str | None = None
    """The ``ov.conf`` that was read (``None``: defaults)."""
    workspace: str | None = None
    """The data folder that was checked (``None`` when the configuration did not load)."""

    @classmethod
    def of(
        cls,
        checks: list[CheckResult],
        *,
        config_source: str | None = None,
        workspace: str | None = None,
    ) -> DoctorReport:
        """The report of ``checks``; ``ok`` unless one failed."""
        ok = all(check.status != "fail" for check in checks)
        return cls(ok=ok, checks=checks, config_source=config_source, workspace=workspace)
