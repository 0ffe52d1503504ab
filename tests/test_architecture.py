"""The shape of the house: a thin composition root, feature services that inherit nothing,
and every operation of the catalog served by the HTTP app on its route."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

from http_api.app import create_app
from openviking_mcp.config import OpenVikingConfig
from openviking_mcp.contract import chat
from openviking_mcp.contract.catalog import BY_NAME, OPERATIONS
from openviking_mcp.service import ContextService


def test_the_composition_root_has_no_mixins() -> None:
    assert len(ContextService.__mro__) <= 3


def test_feature_services_inherit_nothing(config: OpenVikingConfig) -> None:
    svc = ContextService(config)
    features = [v for v in vars(svc).values() if type(v).__module__.endswith(".service")]
    features += [svc.skill_import, svc.assembler, svc.commits]
    assert len(features) >= 20
    for service in features:
        assert type(service).__mro__[1:] == (object,), type(service)


def test_feature_services_take_their_dependencies_in_the_constructor(
    config: OpenVikingConfig,
) -> None:
    svc = ContextService(config)
    for op in OPERATIONS:
        service = getattr(svc, op.feature)
        params = inspect.signature(type(service)).parameters
        assert "store" in params, type(service)


def test_every_routed_operation_is_served_by_the_app(config: OpenVikingConfig) -> None:
    paths = create_app(config).openapi()["paths"]
    served = {(method.upper(), _shape(path)) for path, item in paths.items() for method in item}
    routed = [op for op in (*OPERATIONS, *chat.OPERATIONS) if op.http is not None]
    assert len(routed) > 70
    for op in routed:
        assert op.http is not None
        assert (op.http.method, _shape(op.http.path)) in served, op.name


def _shape(path: str) -> str:
    """A path template without its placeholder names (``/a/{x}`` -> ``/a/{}``)."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def test_surfaces_call_only_operations_of_the_catalog() -> None:
    """Every ``service.<name>(...)``/``svc.<name>(...)`` call in the CLI, MCP, bot and HTTP
    surfaces names an operation of the catalog or a method of the composition root, so
    renaming or removing an operation breaks here, not in front of a user."""
    root = Path(__file__).resolve().parent.parent
    known = set(BY_NAME) | {n for n in dir(ContextService) if not n.startswith("_")}
    called: set[tuple[str, str]] = set()
    for folder in (
        "openviking_mcp/cli",
        "openviking_mcp/mcp_server",
        "openviking_mcp/bot",
        "http_api",
    ):
        for path in (root / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                    continue
                owner = node.func.value
                name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", None)
                if name in ("service", "svc"):
                    called.add((str(path.relative_to(root)), node.func.attr))
    assert len(called) > 50
    assert [(f, n) for f, n in sorted(called) if n not in known] == []
