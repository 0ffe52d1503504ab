"""`skills` commands: skills of the local store (``openviking-mcp skills ...``).

``import-mcp`` imports (or refreshes) the tools of a live MCP server as skills. Further
subcommands register on :data:`skills_app` the same way.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from openviking_mcp.cli._core import app, emit, opts, run

__all__ = ["skills_app"]

skills_app = typer.Typer(
    help="Skills: SKILL.md folders under viking://agent/skills and viking://~/skills.",
    no_args_is_help=True,
)
app.add_typer(skills_app, name="skills")


def _pairs(values: list[str] | None, sep: str, option: str) -> dict[str, str]:
    """``["Name: value", ...]`` (or ``KEY=VALUE``) as a dict; a malformed item is a usage
    error that names the option."""
    result: dict[str, str] = {}
    for item in values or []:
        name, found, value = item.partition(sep)
        if not found or not name.strip():
            example = "'Name: value'" if sep == ":" else "KEY=VALUE"
            raise typer.BadParameter(f"expected {example}, got {item!r}", param_hint=option)
        result[name.strip()] = value.strip() if sep == ":" else value
    return result


# -- import-mcp ----------------------------------------------------------------------------


@skills_app.command(
    "import-mcp",
    context_settings={"allow_interspersed_args": False},
)
def import_mcp(
    command: Annotated[
        list[str] | None,
        typer.Argument(
            help="The MCP server's command and arguments, after '--' (stdio).",
            show_default=False,
        ),
    ] = None,
    url: Annotated[
        str | None, typer.Option("--url", help="Streamable-HTTP endpoint of the MCP server.")
    ] = None,
    header: Annotated[
        list[str] | None,
        typer.Option("--header", "-H", help="'Name: value' sent to --url (repeatable)."),
    ] = None,
    env: Annotated[
        list[str] | None,
        typer.Option("--env", "-e", help="KEY=VALUE for the command (repeatable)."),
    ] = None,
    target: Annotated[
        str | None,
        typer.Option(
            "--target",
            help="viking://~/skills (default: yours) or viking://agent/skills (the account's).",
        ),
    ] = None,
    prune: Annotated[
        bool, typer.Option("--prune", help="Delete skills whose tool the server no longer has.")
    ] = False,
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait until the skills are indexed.")
    ] = False,
    timeout: Annotated[
        float | None, typer.Option("--timeout", help="Seconds to connect and list (default 60).")
    ] = None,
) -> None:
    """Import the tools of a live MCP server as skills; run again to refresh.

    Prints {server, added, updated, unchanged, removed, pruned, errors}. Header and env values
    are used for the connection only and never stored.

    \b
    openviking-mcp skills import-mcp -- npx -y @modelcontextprotocol/server-everything
    openviking-mcp skills import-mcp --url http://127.0.0.1:8000/mcp -H 'Authorization: Bearer T'
    """
    headers = _pairs(header, ":", "--header")
    variables = _pairs(env, "=", "--env")
    emit(
        run(
            lambda s, c: s.import_mcp_server(
                c,
                command=command or None,
                url=url,
                headers=headers or None,
                env=variables or None,
                target_uri=target,
                prune=prune,
                wait=wait,
                timeout=timeout,
            )
        )
    )


# -- the store's skills ----------------------------------------------------------------------

AddTarget = Annotated[
    str | None,
    typer.Option(
        "--target",
        help="viking://~/skills (default: yours) or viking://agent/skills (the account's).",
    ),
]
Target = Annotated[
    str | None,
    typer.Option(
        "--target",
        help="Only viking://~/skills or viking://agent/skills (default: both).",
    ),
]


@app.command("add-skill")
@skills_app.command("add")
def add(
    source: Annotated[
        str, typer.Argument(help="A SKILL.md file, a skill folder or a zip; '-' reads stdin.")
    ],
    target: AddTarget = None,
    wait: Annotated[bool, typer.Option("--wait", help="Wait until indexed.")] = False,
) -> None:
    """Add a skill (a skill with the same name is replaced); without --target it is yours
    alone."""
    data: object = sys.stdin.read() if source == "-" else Path(source)
    emit(run(lambda s, c: s.add_skill(c, data, target_uri=target, wait=wait)))


@skills_app.command("update")
def update(
    name: Annotated[str, typer.Argument(help="The skill to replace.")],
    source: Annotated[
        str, typer.Argument(help="A SKILL.md file, a skill folder or a zip; '-' reads stdin.")
    ],
    target: Target = None,
    wait: Annotated[bool, typer.Option("--wait", help="Wait until indexed.")] = False,
) -> None:
    """Replace an existing skill; the new content must have the same name."""
    data: object = sys.stdin.read() if source == "-" else Path(source)
    emit(
        run(lambda s, c: s.update_skill(c, name, data, target_uri=target, wait=wait)),
    )


@skills_app.command("find")
def find(
    query: Annotated[str, typer.Argument(help="What the skill should do.")],
    limit: Annotated[int, typer.Option("--limit", "-n", help="At most this many.")] = 10,
    threshold: Annotated[
        float | None, typer.Option("--threshold", help="Drop hits scoring below this.")
    ] = None,
    target: Target = None,
) -> None:
    """Find skills by what they do (one hit per skill, best first)."""
    found = run(
        lambda s, c: s.find_skills(
            c, query, limit=limit, score_threshold=threshold, target_uri=target
        )
    )
    emit(
        [
            {"name": k["name"], "score": round(k["score"], 3), "uri": k["uri"]}
            for k in found["skills"]
        ]
        if opts.output != "json"
        else found
    )


@skills_app.command("validate")
def validate(
    source: Annotated[str, typer.Argument(help="A SKILL.md file; '-' reads stdin.")],
    strict: Annotated[
        bool, typer.Option("--strict", help="Agent Skills format rules are errors.")
    ] = False,
) -> None:
    """Check a SKILL.md without storing it; exits 1 when it is not valid."""
    if source == "-":
        text, path, folder = sys.stdin.read(), None, None
    else:
        file = Path(source)
        text, path, folder = file.read_text(encoding="utf-8"), str(file), file.parent.name
    report = run(
        lambda s, c: s.validate_skill(
            c, text, strict=strict, source_path=path, skill_dir_name=folder
        )
    )
    emit(report)
    if not report["valid"]:
        raise typer.Exit(1)


@skills_app.command("list")
def list_(
    target: Target = None,
    node_limit: Annotated[
        int, typer.Option("--node-limit", help="At most this many per skills root.")
    ] = 1000,
) -> None:
    """Skills you can use (a private skill hides an account skill of the same name)."""
    skills = run(lambda s, c: s.list_skills(c, node_limit=node_limit, target_uri=target))
    emit(
        [{"name": k["name"], "scope": k["scope"], "description": k["description"]} for k in skills]
        if opts.output != "json"
        else skills
    )


@skills_app.command("get")
def get(
    name: Annotated[str, typer.Argument(help="The skill's name.")],
    target: Target = None,
    content: Annotated[bool, typer.Option("--content", help="Print SKILL.md only.")] = False,
) -> None:
    """Show one skill: summary, tiers, files (or its SKILL.md with --content)."""
    skill = run(lambda s, c: s.get_skill(c, name, target_uri=target))
    emit(skill["content"] if content else skill)


@skills_app.command("rm")
def remove(
    name: Annotated[str, typer.Argument(help="The skill's name.")],
    target: Target = None,
) -> None:
    """Delete a skill and its index entries."""
    emit(run(lambda s, c: s.delete_skill(c, name, target_uri=target)))


@skills_app.command("install-bundled")
def install_bundled(
    only_missing: Annotated[
        bool, typer.Option("--only-missing", help="Keep skills that already exist.")
    ] = False,
    wait: Annotated[bool, typer.Option("--wait", help="Wait until indexed.")] = False,
) -> None:
    """Add the skills shipped with the package to viking://agent/skills."""
    emit(run(lambda s, c: s.install_bundled_skills(c, only_missing=only_missing, wait=wait)))
