"""`radagent review list|confirm|reject|export|actions|approve|deny|role` and `radagent audit`: the expert's door."""

from __future__ import annotations

from pathlib import Path

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

    @review_app.command("export")
    @friendly_errors
    def export(review_id: str, out: Path = typer.Option(..., "--out", help="JSON file to write."),
               as_json: bool = typer.Option(False, "--json")) -> None:
        """Export a confirmed output; pending or rejected items are refused."""
        from agent import review
        from agent.settings import get_settings

        path = review.export_review(review_id, out, user=get_settings().user)
        emit({"exported": str(path)} if as_json else f"{review_id} exported to {path}", as_json)

    @review_app.command("actions")
    @friendly_errors
    def actions(status: str = typer.Option("pending", help="pending, approved, denied or all"),
                as_json: bool = typer.Option(False, "--json")) -> None:
        """List high-impact tool calls waiting for (or given) an expert's approval."""
        from agent import review

        items = review.list_actions(None if status == "all" else status)
        if as_json:
            emit(items, True)
            return
        if not items:
            typer.echo(f"No {status} actions.")
        for item in items:
            typer.echo(f"{item['id']}  {item['status']:<8}  {item['tool']:<16}  by {item['user']}  {item['args']}")

    def _decide_action(action_id: str, approve: bool, comment: str, as_json: bool) -> None:
        from agent import review
        from agent.settings import get_settings

        settings = get_settings()
        item = review.decide_action(action_id, approve=approve, user=settings.user, role=settings.role,
                                    comment=comment)
        emit(item if as_json else f"{action_id}: {item['status']} by {settings.user}; run the same command again.",
             as_json)

    @review_app.command("approve")
    @friendly_errors
    def approve(action_id: str, comment: str = typer.Option("", help="Optional comment."),
                as_json: bool = typer.Option(False, "--json")) -> None:
        """Approve a pending high-impact tool call (expert role only); it may then run once."""
        _decide_action(action_id, True, comment, as_json)

    @review_app.command("deny")
    @friendly_errors
    def deny(action_id: str, comment: str = typer.Option("", help="Optional comment."),
             as_json: bool = typer.Option(False, "--json")) -> None:
        """Deny a pending high-impact tool call (expert role only)."""
        _decide_action(action_id, False, comment, as_json)

    @review_app.command("role")
    @friendly_errors
    def role(name: str, new_role: str = typer.Argument(..., metavar="ROLE", help="viewer or expert"),
             as_json: bool = typer.Option(False, "--json")) -> None:
        """Set a user's role (expert role only)."""
        from agent import review
        from agent.settings import get_settings

        settings = get_settings()
        emit(review.set_role(name, new_role, by=settings.user, by_role=settings.role), as_json)

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
