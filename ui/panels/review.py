"""Review panel: pending outputs with their artifact, flags and provenance; experts confirm or reject."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import gradio as gr

from agent import review
from agent.errors import RadagentError
from ui.context import badge, error_html
from ui.identity import identify

QUEUE_HEADERS = ["id", "status", "tool", "requested by", "created"]
AUDIT_HEADERS = ["#", "when", "who", "action", "target"]
ACTION_HEADERS = ["id", "tool", "arguments", "requested by", "created"]


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else ""


def refresh(status: str, current: str | None = None) -> tuple[list[list[Any]], Any, list[list[Any]]]:
    """The queue under the chosen filter; the item being looked at stays selected after a decision."""
    items = review.list_reviews(None if status == "all" else status)
    rows = [[i["id"], i["status"], i["tool"], i.get("user") or "", _when(i.get("created"))] for i in items]
    audit = [[e["seq"], _when(e["ts"]), e.get("actor") or "", e["action"], e.get("target") or ""]
             for e in review.audit_entries(200)]
    choices = [r[0] for r in rows]
    if current and current not in choices:
        choices.append(current)
    selected = current or (choices[-1] if choices else None)
    return rows, gr.update(choices=choices, value=selected), audit


def show_item(review_id: str | None) -> tuple[Any, str, dict[str, Any]]:
    if not review_id:
        return None, "", {}
    try:
        item = review.get_review(review_id)
    except RadagentError as err:
        return None, error_html(err.message, err.hint), {}
    result = json.loads(item["result"]) if isinstance(item["result"], str) else item["result"]
    picture = next((a["path"] for a in result.get("artifacts", [])
                    if a.get("kind") in ("overlay", "png", "image", "comparison") and Path(a["path"]).is_file()), None)
    status = badge(item["status"], item["status"])
    status += "".join(badge(f"{f['type']}: {f['detail']}", f["type"]) for f in result.get("flags", []))
    if item.get("decided_by"):
        status += f" <span class='ra-banner'>by {item['decided_by']} at {_when(item.get('decided_at'))}"
        status += f": {item.get('comment') or ''}</span>"
    details = {"tool": item["tool"], "arguments": json.loads(item["args"]) if isinstance(item["args"], str) else item["args"],
               "result": {k: v for k, v in result.items() if k != "artifacts"}, "artifacts": result.get("artifacts", [])}
    return picture, status, details


def pick_row(evt: gr.SelectData) -> Any:
    """Clicking any cell of a queue row selects that row's item (its id is the first column)."""
    row = evt.row_value or []
    return gr.update(value=row[0]) if row else gr.update()


def decide(decision: str, review_id: str | None, comment: str, browser_id: str, request: gr.Request) -> str:
    if not review_id:
        return error_html("Select an item first.")
    ident = identify(request, browser_id)
    try:
        review.decide(review_id, decision=decision, user=ident.user, role=ident.role, comment=comment)
    except RadagentError as err:
        return error_html(err.message, err.hint)
    return badge(f"{review_id} {decision} by {ident.user}", decision)


def refresh_actions(current: str | None = None) -> tuple[list[list[Any]], Any]:
    """Requests for high-impact tools (e.g. generating a synthetic cohort) waiting for an expert."""
    items = review.list_actions("pending")
    rows = [[a["id"], a["tool"], a["args"] if isinstance(a["args"], str) else json.dumps(a["args"]),
             a.get("user") or "", _when(a.get("created"))] for a in items]
    choices = [r[0] for r in rows]
    selected = current if current in choices else (choices[-1] if choices else None)
    return rows, gr.update(choices=choices, value=selected)


def decide_action(approve: bool, action_id: str | None, comment: str, browser_id: str,
                  request: gr.Request) -> str:
    if not action_id:
        return error_html("Select a request first.")
    ident = identify(request, browser_id)
    try:
        item = review.decide_action(action_id, approve=approve, user=ident.user, role=ident.role, comment=comment)
    except RadagentError as err:
        return error_html(err.message, err.hint)
    then = " It runs when the request is made again." if approve else ""
    return badge(f"{action_id} {item['status']} by {ident.user}", "confirmed" if approve else "rejected") + then


def whoami(browser_id: str, request: gr.Request) -> str:
    ident = identify(request, browser_id)
    can = "can confirm and reject" if ident.role == "expert" else "can view; only experts confirm"
    return f"<span class='ra-banner'>Signed in as <b>{ident.user}</b> ({ident.role}): {can}.</span>"


def build(browser_id: gr.BrowserState) -> dict[str, Any]:
    who = gr.HTML(elem_id="review-whoami")
    with gr.Row():
        status = gr.Radio(["pending", "confirmed", "rejected", "all"], value="pending", label="Show")
        refresh_btn = gr.Button("Refresh", elem_id="review-refresh")
    queue = gr.Dataframe(headers=QUEUE_HEADERS, label="Review queue", interactive=False, elem_id="review-queue")
    with gr.Row():
        with gr.Column():
            item_id = gr.Dropdown(label="Item", choices=[], elem_id="review-item", allow_custom_value=True)
            artifact = gr.Image(label="Artifact", interactive=False, height=320)
        with gr.Column():
            item_status = gr.HTML(elem_id="review-item-status")
            details = gr.JSON(label="Flags, provenance and numbers", elem_id="review-item-details")
            comment = gr.Textbox(label="Comment (optional)", elem_id="review-comment")
            with gr.Row():
                confirm_btn = gr.Button("Confirm", variant="primary", elem_id="review-confirm")
                reject_btn = gr.Button("Reject", variant="stop", elem_id="review-reject")
            outcome = gr.HTML(elem_id="review-outcome")
    with gr.Accordion("Actions awaiting approval (high-impact tools run only after an expert approves)",
                      open=True):
        actions = gr.Dataframe(headers=ACTION_HEADERS, label="Requested actions", interactive=False,
                               elem_id="review-actions")
        with gr.Row():
            action_id = gr.Dropdown(label="Request", choices=[], elem_id="review-action", allow_custom_value=True)
            action_comment = gr.Textbox(label="Comment (optional)", elem_id="review-action-comment")
        with gr.Row():
            approve_btn = gr.Button("Approve", variant="primary", elem_id="review-approve")
            deny_btn = gr.Button("Deny", variant="stop", elem_id="review-deny")
        action_outcome = gr.HTML(elem_id="review-action-outcome")
    audit = gr.Dataframe(headers=AUDIT_HEADERS, label="Audit trail (append-only)", interactive=False,
                         elem_id="review-audit")

    hidden = {"api_visibility": "undocumented"}
    refresh_btn.click(refresh, status, [queue, item_id, audit], api_name="review_list")
    status.change(refresh, status, [queue, item_id, audit], **hidden)
    queue.select(pick_row, None, item_id, **hidden)
    item_id.change(show_item, item_id, [artifact, item_status, details], api_name="review_item")
    def confirm(rid: str | None, note: str, browser: str, request: gr.Request) -> str:
        return decide("confirmed", rid, note, browser, request)

    def reject(rid: str | None, note: str, browser: str, request: gr.Request) -> str:
        return decide("rejected", rid, note, browser, request)

    for button, handler in ((confirm_btn, confirm), (reject_btn, reject)):
        button.click(handler, [item_id, comment, browser_id], outcome, api_name=f"review_{handler.__name__}") \
            .then(refresh, [status, item_id], [queue, item_id, audit], **hidden) \
            .then(show_item, item_id, [artifact, item_status, details], **hidden)

    def approve(aid: str | None, note: str, browser: str, request: gr.Request) -> str:
        return decide_action(True, aid, note, browser, request)

    def deny(aid: str | None, note: str, browser: str, request: gr.Request) -> str:
        return decide_action(False, aid, note, browser, request)

    actions.select(pick_row, None, action_id, **hidden)
    refresh_btn.click(refresh_actions, action_id, [actions, action_id], api_name="review_actions")
    for button, handler in ((approve_btn, approve), (deny_btn, deny)):
        button.click(handler, [action_id, action_comment, browser_id], action_outcome,
                     api_name=f"review_{handler.__name__}") \
            .then(refresh_actions, action_id, [actions, action_id], **hidden) \
            .then(refresh, [status, item_id], [queue, item_id, audit], **hidden)
    return {"whoami": (whoami, [browser_id], who), "refresh": (refresh, [status], [queue, item_id, audit]),
            "refresh_actions": (refresh_actions, [], [actions, action_id])}
