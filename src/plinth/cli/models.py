"""``plinth models``: register, promote through gates, approve, roll back, and the gates,
approvers and webhooks around them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from plinth.cli import models_import
from plinth.cli.context import console, fail, state
from plinth.cli.registry_render import (
    deliveries_table,
    gate_results_table,
    model_detail,
    models_table,
    moves_table,
    requests_table,
    versions_table,
    webhooks_table,
)
from plinth.entities.registry import PromotionResult, RequestStatus
from plinth.errors import InvalidArgument, PlinthError
from plinth.registry.gates import describe
from plinth.registry.service import RegistryService

app = typer.Typer(
    help="Registered models: versions, aliases, gated promotion.", no_args_is_help=True
)
gates_app = typer.Typer(help="Promotion gates of a model.", no_args_is_help=True)
approvers_app = typer.Typer(help="Who may approve a model's promotions.", no_args_is_help=True)
webhooks_app = typer.Typer(help="Registry events sent to URLs.", no_args_is_help=True)
app.add_typer(gates_app, name="gates")
app.add_typer(approvers_app, name="approvers")
app.add_typer(webhooks_app, name="webhooks")
app.command("import-mlflow")(models_import.import_mlflow)  # model packaging's command

PENDING_EXIT_CODE = 3
"""``promote`` exits with this when a promotion request was opened instead of a move."""

Alias = Annotated[str, typer.Option("--alias", "-a", help="Alias name, e.g. champion.")]
Reason = Annotated[str, typer.Option(help="Why: kept in the alias's history.")]
Comment = Annotated[str, typer.Option(help="Kept with the decision.")]
MaxResults = Annotated[int, typer.Option(min=1, max=10_000)]


def _registry(ctx: typer.Context) -> RegistryService:
    return state(ctx).platform.registry


@app.command("list")
def list_(
    ctx: typer.Context,
    project: Annotated[str | None, typer.Option(help="Only this project.")] = None,
    name_like: Annotated[str | None, typer.Option(help="Names containing this.")] = None,
    max_results: MaxResults = 100,
) -> None:
    """Registered models, by name."""
    try:
        page = _registry(ctx).store.list_models(project, name_like, max_results)
    except PlinthError as exc:
        fail(exc)
    console.print(models_table(page.items))


@app.command()
def show(ctx: typer.Context, name: str, max_results: MaxResults = 20) -> None:
    """A model, its newest versions and its open promotion requests."""
    try:
        store = _registry(ctx).store
        model = store.get_model(name)
        versions = store.list_versions(name, max_results).items
        requests = store.list_requests(name, RequestStatus.OPEN)
    except PlinthError as exc:
        fail(exc)
    console.print(model_detail(model))
    console.print(versions_table(versions))
    if requests:
        console.print(requests_table(requests))


@app.command()
def register(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="runs:/RUN_ID/PATH of a logged model.")],
    name: str,
    description: Annotated[str, typer.Option(help="What this version is.")] = "",
) -> None:
    """Register a logged model as the next version of NAME (created on first use)."""
    try:
        version = _registry(ctx).register_model(source, name, description=description)
    except PlinthError as exc:
        fail(exc)
    console.print(f"registered {version.uri} (digest {version.digest[:12]})")


@app.command()
def promote(
    ctx: typer.Context,
    name: str,
    version: Annotated[str, typer.Argument(help="A number or models:/NAME/VERSION.")],
    alias: Alias,
    reason: Reason = "",
    expected_version: Annotated[
        int | None, typer.Option(help="Move only if this version holds the alias now.")
    ] = None,
) -> None:
    """Evaluate every gate: move the alias, or open a promotion request (exit code 3)."""
    try:
        result = _registry(ctx).promote(
            name, version, alias, reason=reason, expected_version=expected_version
        )
    except PlinthError as exc:
        fail(exc)
    _print_result(result)
    if not result.moved:
        raise typer.Exit(code=PENDING_EXIT_CODE)


def _print_result(result: PromotionResult) -> None:
    if result.gate_results:
        console.print(gate_results_table(result.gate_results))
    if result.moved and result.move is not None:
        m = result.move
        was = f"v{m.from_version}" if m.from_version else "nothing"
        console.print(f"moved {m.name}@{m.alias}: {was} -> v{m.to_version}")
    elif result.request is not None:
        r = result.request
        console.print(
            f"promotion request {r.id} is {r.status.value}: {r.name} v{r.version} -> "
            f"@{r.alias} waits for the failing gates (approve with "
            f"`plinth models approve {r.id}`)"
            if r.status is RequestStatus.OPEN
            else f"promotion request {r.id} is {r.status.value}"
        )


@app.command()
def approve(ctx: typer.Context, request_id: str, comment: Comment = "") -> None:
    """Approve a promotion request; the approval that lets every gate pass moves the alias."""
    try:
        result = _registry(ctx).approve(request_id, comment)
    except PlinthError as exc:
        fail(exc)
    _print_result(result)


@app.command()
def reject(ctx: typer.Context, request_id: str, comment: Comment = "") -> None:
    """Reject a promotion request (it closes)."""
    try:
        result = _registry(ctx).reject(request_id, comment)
    except PlinthError as exc:
        fail(exc)
    _print_result(result)


@app.command()
def rollback(ctx: typer.Context, name: str, alias: Alias, reason: Reason = "") -> None:
    """Move an alias back to the version it held before."""
    try:
        move = _registry(ctx).rollback(name, alias, reason=reason)
    except PlinthError as exc:
        fail(exc)
    console.print(f"rolled {name}@{alias} back: v{move.from_version} -> v{move.to_version}")


@app.command()
def aliases(ctx: typer.Context, name: str) -> None:
    """A model's aliases and the versions they point at."""
    try:
        items = _registry(ctx).store.list_aliases(name)
    except PlinthError as exc:
        fail(exc)
    for a in items:
        console.print(f"@{a.alias} -> v{a.version}  (moved by {a.updated_by})")


@app.command()
def history(
    ctx: typer.Context,
    name: str,
    alias: Annotated[str | None, typer.Option("--alias", "-a", help="Only this alias.")] = None,
    max_results: MaxResults = 100,
) -> None:
    """Alias moves, newest first: who, when, why and the gate results."""
    try:
        moves = _registry(ctx).store.alias_history(name, alias, max_results)
    except PlinthError as exc:
        fail(exc)
    console.print(moves_table(moves))


@app.command()
def requests(
    ctx: typer.Context,
    name: str,
    status: Annotated[RequestStatus | None, typer.Option(help="open, applied, rejected.")] = None,
) -> None:
    """A model's promotion requests, newest first."""
    try:
        items = _registry(ctx).store.list_requests(name, status)
    except PlinthError as exc:
        fail(exc)
    console.print(requests_table(items))


# gates --------------------------------------------------------------------------------------


@gates_app.command("set")
def gates_set(
    ctx: typer.Context,
    name: str,
    file: Annotated[Path | None, typer.Option(help="YAML: gates: [accuracy >= 0.9, ...]")] = None,
    gate: Annotated[
        list[str] | None, typer.Option("--gate", "-g", help="A gate as text (repeatable).")
    ] = None,
) -> None:
    """Replace a model's promotion gates (from --file, --gate, or both; neither clears them)."""
    document: list[Any] = list(gate or [])
    try:
        if file is not None:
            document = _read_gates_file(file) + document
        result = _registry(ctx).set_gates(name, document)
    except PlinthError as exc:
        fail(exc)
    console.print(f"{name}: {len(result.gates)} gate(s)")
    for g in result.gates:
        console.print(f"  {describe(g)}")


def _read_gates_file(path: Path) -> list[Any]:
    try:
        parsed = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidArgument.for_field("file", f"cannot read {path}: {exc}") from None
    if isinstance(parsed, dict):
        parsed = parsed.get("gates") or []
    if parsed is None:
        return []
    if not isinstance(parsed, list):
        raise InvalidArgument.for_field("file", "holds neither a list nor {gates: [...]}")
    return parsed


@gates_app.command("show")
def gates_show(ctx: typer.Context, name: str) -> None:
    """A model's promotion gates, as text."""
    try:
        gates = _registry(ctx).store.get_gates(name)
    except PlinthError as exc:
        fail(exc)
    if not gates.gates:
        console.print(f"{name} has no gates: promotions move aliases directly")
    for g in gates.gates:
        console.print(describe(g))


# approvers ----------------------------------------------------------------------------------

Role = Annotated[str, typer.Option(help="Role name, e.g. ml-lead.")]


@approvers_app.command("add")
def approvers_add(ctx: typer.Context, name: str, user: str, role: Role) -> None:
    """Give USER a ROLE for the model's approval gates."""
    try:
        _registry(ctx).add_approver(name, user, role)
    except PlinthError as exc:
        fail(exc)
    console.print(f"{user} holds {role} for {name}")


@approvers_app.command("remove")
def approvers_remove(ctx: typer.Context, name: str, user: str, role: Role) -> None:
    """Take a role away."""
    try:
        _registry(ctx).store.remove_approver(name, user, role)
    except PlinthError as exc:
        fail(exc)
    console.print(f"{user} no longer holds {role} for {name}")


@approvers_app.command("list")
def approvers_list(ctx: typer.Context, name: str) -> None:
    """Who holds which role for the model."""
    try:
        items = _registry(ctx).store.list_approvers(name)
    except PlinthError as exc:
        fail(exc)
    for a in items:
        console.print(f"{a.user}  {a.role}  (added by {a.added_by})")


# webhooks -----------------------------------------------------------------------------------


@webhooks_app.command("add")
def webhooks_add(
    ctx: typer.Context,
    url: str,
    event: Annotated[
        list[str] | None,
        typer.Option(help="dev.plinth.registry.* event type (repeatable); default: all."),
    ] = None,
    model: Annotated[str | None, typer.Option(help="Only events of this model.")] = None,
    secret: Annotated[str | None, typer.Option(help="HMAC key; generated when absent.")] = None,
) -> None:
    """Send registry events to URL; prints the signing secret once."""
    try:
        hook = _registry(ctx).add_webhook(url, events=event or [], model=model, secret=secret)
    except PlinthError as exc:
        fail(exc)
    console.print(f"webhook {hook.id}\nsecret {hook.secret}")


@webhooks_app.command("list")
def webhooks_list(ctx: typer.Context) -> None:
    """Active webhooks."""
    try:
        items = _registry(ctx).store.list_webhooks()
    except PlinthError as exc:
        fail(exc)
    console.print(webhooks_table(items))


@webhooks_app.command("remove")
def webhooks_remove(ctx: typer.Context, webhook_id: str) -> None:
    """Stop a webhook (its delivery history stays)."""
    try:
        _registry(ctx).store.delete_webhook(webhook_id)
    except PlinthError as exc:
        fail(exc)
    console.print(f"removed webhook {webhook_id}")


@webhooks_app.command("deliveries")
def webhooks_deliveries(ctx: typer.Context, webhook_id: str, max_results: MaxResults = 50) -> None:
    """A webhook's deliveries, newest first, with their attempts' outcome."""
    try:
        items = _registry(ctx).store.list_deliveries(webhook_id, max_results)
    except PlinthError as exc:
        fail(exc)
    console.print(deliveries_table(items))
