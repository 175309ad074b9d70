"""`radagent review list|confirm|reject` and `radagent audit`: the expert's door onto the queue."""

from __future__ import annotations

import typer

from agent.commands.output import emit, friendly_errors


def register(app: typer.Typer) -> None:
    review_app = typer.Typer(help="The review queue: outputs that could inform care wait for an expert.",
                             no_args_is_help=True)

    @review_app.command("list")
    @friendly_errors
    def list_items(status: str = typer.Option("pending", help="pending, confirmed, rejected or all"),
                   as_json: bool = typer.Option(False, "--json")) -> None:
        """List review items."""
        from agent import review

        items = review.list_reviews(None if status == "all" else status)
        if as_json:
            emit(items, True)
            return
        if not items:
            typer.echo(f"No {status} review items.")
        for item in items:
            typer.echo(f"{item['id']}  {item['status']:<9}  {item['tool']:<18}  by {item['user']}")

    def _decide(review_id: str, decision: str, comment: str, as_json: bool) -> None:
        from agent import review
        from agent.settings import get_settings

        settings = get_settings()
        item = review.decide(review_id, decision=decision, user=settings.user, role=settings.role, comment=comment)
        emit(item if as_json else f"{review_id}: {decision} by {settings.user}", as_json)

    @review_app.command("confirm")
    @friendly_errors
    def confirm(review_id: str, comment: str = typer.Option("", help="Optional comment."),
                as_json: bool = typer.Option(False, "--json")) -> None:
        """Confirm a pending output (expert role only)."""
        _decide(review_id, "confirmed", comment, as_json)

    @review_app.command("reject")
    @friendly_errors
    def reject(review_id: str, comment: str = typer.Option("", help="Optional comment."),
               as_json: bool = typer.Option(False, "--json")) -> None:
        """Reject a pending output (expert role only)."""
        _decide(review_id, "rejected", comment, as_json)

    app.add_typer(review_app, name="review")

    @app.command("audit")
    @friendly_errors
    def audit_log(limit: int = typer.Option(50, help="How many recent events."),
                  as_json: bool = typer.Option(False, "--json")) -> None:
        """Show the append-only audit log, newest first."""
        from agent import review

        entries = review.audit_entries(limit)
        if as_json:
            emit(entries, True)
            return
        for e in entries:
            typer.echo(f"#{e['seq']} {e['ts']:.0f} {e['actor']} {e['action']} {e['target']}")
