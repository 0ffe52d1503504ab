"""The clients are generated from the contract: every operation is a method of each client,
with the request model's fields as parameters, and the generated module is up to date."""

from __future__ import annotations

import inspect

import pytest

from openviking_mcp import AsyncHTTPClient, AsyncOpenViking, OpenViking, SyncHTTPClient
from openviking_mcp.client import _codegen
from openviking_mcp.client._operations import NAMES, ROUTES
from openviking_mcp.client._progress import PROGRESS_PARAMETERS
from openviking_mcp.client._upstream_params import CLIENT_PARAMETERS, UPSTREAM_POSITIONAL
from openviking_mcp.config import OpenVikingConfig
from openviking_mcp.contract.catalog import OPERATIONS
from openviking_mcp.service import ContextService

CLIENTS = (AsyncOpenViking, OpenViking, AsyncHTTPClient, SyncHTTPClient)


def test_generated_module_is_current() -> None:
    assert _codegen.main(["--check"]) == 0, "run: python -m openviking_mcp.client._codegen"


def test_every_operation_is_generated_once() -> None:
    assert tuple(op.name for op in OPERATIONS) == NAMES
    assert len(set(NAMES)) == len(NAMES)


@pytest.mark.parametrize("client", CLIENTS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)
def test_each_operation_is_a_client_method_with_the_request_fields(client: type, op) -> None:
    method = getattr(client, op.name)
    params = inspect.signature(method).parameters
    names = [n for n in params if n != "self"]
    fields = op.request.model_fields
    extras = [n for n in CLIENT_PARAMETERS.get(op.name, ()) if n not in fields]  # SDK-only
    extras += PROGRESS_PARAMETERS.get(op.name, ())  # the clients' own (a callback)
    assert sorted(names) == sorted([*fields, *extras]), op.name
    positional = [n for n, p in params.items() if n != "self" and p.kind is p.POSITIONAL_OR_KEYWORD]
    own = [a for a in op.args if a in fields]
    assert positional[: len(own)] == own  # more only in openviking-sdk's order
    if len(positional) > len(own):
        assert tuple(positional) == UPSTREAM_POSITIONAL[op.name][: len(positional)]
    for name in extras:
        assert params[name].default is None, (op.name, name)
    for name in [n for n in names if n not in extras]:
        field = op.request.model_fields[name]
        if field.is_required():
            assert params[name].default is inspect.Parameter.empty, (op.name, name)
        elif isinstance(field.default, str | int | float | bool) and field.default_factory is None:
            assert params[name].default == field.default, (op.name, name)
    assert inspect.iscoroutinefunction(method) == client.__name__.startswith("Async")


def test_each_operation_is_a_feature_service_method(config: OpenVikingConfig) -> None:
    svc = ContextService(config)  # built, not opened: nothing is read or written
    for op in OPERATIONS:
        method = getattr(getattr(svc, op.feature), op.method)
        assert inspect.iscoroutinefunction(method), op.target
        ctx, request = list(inspect.signature(method).parameters)[:2]
        assert (ctx, request) == ("ctx", "req"), op.target


def test_routes_name_each_path_field() -> None:
    for op in OPERATIONS:
        route = ROUTES[op.name]
        assert (route is None) == (op.http is None), op.name
        if route is None:
            continue
        assert route.method == op.http.method
        assert route.path == op.http.path
        for part in route.path.split("{")[1:]:
            assert part.split("}")[0] in op.request.model_fields, (op.name, part)
