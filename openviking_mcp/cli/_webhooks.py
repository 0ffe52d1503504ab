"""`webhooks` commands: the account's webhooks (docs/webhooks.md). ``create`` prints the
signing secret once; ``ping`` sends a signed test event and prints how the receiver replied;
``deliveries`` lists the delivery attempts, newest first."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from openviking_mcp.cli._core import app, emit, run

__all__ = ["webhooks_app"]

webhooks_app = typer.Typer(
    help="Webhooks: the account's events sent as signed POSTs to your endpoints.",
    no_args_is_help=True,
)
app.add_typer(webhooks_app, name="webhooks")

_Account = Annotated[str | None, typer.Option("--account-id", help="ROOT only: another account.")]
_Events = Annotated[
    list[str] | None,
    typer.Option(
        "--event",
        help="An event type to send (resource.indexed, task.failed, session.committed, "
        "memory.changed, skill.changed, key.revoked); repeat for several. None: all.",
    ),
]


def _given(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


@webhooks_app.command("create")
def create(
    url: str,
    event: _Events = None,
    description: Annotated[str, typer.Option(help="A note for people.")] = "",
    disabled: Annotated[bool, typer.Option("--disabled", help="Create it disabled.")] = False,
    account_id: _Account = None,
) -> None:
    """Register a webhook; prints its signing secret once."""
    fields = _given(events=event or [], description=description, account_id=account_id)
    emit(run(lambda s, c: s.create_webhook(c, url, enabled=not disabled, **fields)))


@webhooks_app.command("list")
def list_webhooks(account_id: _Account = None) -> None:
    """The account's webhooks (never their secrets)."""
    emit(run(lambda s, c: s.list_webhooks(c, **_given(account_id=account_id)), reader=True))


@webhooks_app.command("show")
def show(webhook_id: str, account_id: _Account = None) -> None:
    """One webhook, with how its last delivery went."""
    fields = _given(account_id=account_id)
    emit(run(lambda s, c: s.get_webhook(c, webhook_id, **fields), reader=True))


@webhooks_app.command("update")
def update(
    webhook_id: str,
    url: Annotated[str | None, typer.Option(help="A new URL.")] = None,
    event: _Events = None,
    all_events: Annotated[
        bool, typer.Option("--all-events", help="Send every event type (clears --event).")
    ] = False,
    description: Annotated[str | None, typer.Option(help="A new note.")] = None,
    rotate_secret: Annotated[
        bool, typer.Option("--rotate-secret", help="A new signing secret, printed once.")
    ] = False,
    account_id: _Account = None,
) -> None:
    """Change a webhook's URL, events or description, or rotate its secret."""
    events = [] if all_events else event
    fields = _given(url=url, events=events, description=description, account_id=account_id)
    emit(run(lambda s, c: s.update_webhook(c, webhook_id, rotate_secret=rotate_secret, **fields)))


@webhooks_app.command("enable")
def enable(webhook_id: str, account_id: _Account = None) -> None:
    """Send events to the webhook again, from now on."""
    emit(run(lambda s, c: s.enable_webhook(c, webhook_id, **_given(account_id=account_id))))


@webhooks_app.command("disable")
def disable(webhook_id: str, account_id: _Account = None) -> None:
    """Stop sending events to the webhook (those meanwhile are not sent later)."""
    emit(run(lambda s, c: s.disable_webhook(c, webhook_id, **_given(account_id=account_id))))


@webhooks_app.command("delete")
def delete(webhook_id: str, account_id: _Account = None) -> None:
    """Remove the webhook; its pending deliveries are dropped."""
    emit(run(lambda s, c: s.delete_webhook(c, webhook_id, **_given(account_id=account_id))))


@webhooks_app.command("ping")
def ping(webhook_id: str, account_id: _Account = None) -> None:
    """Send a signed webhook.ping now; prints how the receiver replied."""
    emit(run(lambda s, c: s.ping_webhook(c, webhook_id, **_given(account_id=account_id))))


@webhooks_app.command("deliveries")
def deliveries(
    webhook_id: str,
    before: Annotated[int | None, typer.Option(help="next_before of the last page.")] = None,
    limit: Annotated[int, typer.Option(help="Attempts per page (1..500).")] = 50,
    account_id: _Account = None,
) -> None:
    """The webhook's delivery attempts, newest first, with the cursor of the next page."""
    fields = _given(before=before, account_id=account_id)
    emit(
        run(
            lambda s, c: s.list_webhook_deliveries(c, webhook_id, limit=limit, **fields),
            reader=True,
        )
    )
