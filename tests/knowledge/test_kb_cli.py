"""`radagent kb ...`: add, search --json, stats, remove, reindex, and clean errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from agent.commands import knowledge as kb_commands
from kb_helpers import write_pdf


@pytest.fixture
def cli():
    app = typer.Typer()
    kb_commands.register(app)
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, ["kb", *args])

    return invoke


def test_add_then_search_json(cli, cards: Path) -> None:
    added = cli("add", str(cards), "--json", "--no-progress")
    assert added.exit_code == 0, added.output
    assert len(json.loads(added.stdout)["added"]) == 3
    found = cli("search", "why is DDIM faster than DDPM", "-k", "2", "--json")
    assert found.exit_code == 0, found.output
    rows = json.loads(found.stdout)
    assert len(rows) == 2 and set(rows[0]) == {"text", "source", "score", "title"}
    assert rows[0]["source"].endswith("ddim_sampling.md") and isinstance(rows[0]["score"], float)


def test_a_user_pdf_becomes_searchable(cli, tmp_path: Path) -> None:
    pdf = write_pdf(tmp_path / "hospital_protocol.pdf",
                    [["Hospital protocol: paediatric head CT uses 80 kVp to reduce radiation dose."]],
                    title="Paediatric CT protocol")
    assert cli("add", str(pdf), "--no-progress").exit_code == 0
    rows = json.loads(cli("search", "what kVp for a child's head CT", "-k", "1", "--json").stdout)
    assert rows[0]["source"] == str(pdf.resolve()) and "80 kVp" in rows[0]["text"]


def test_relevant_only_search_is_empty_off_topic(cli, cards: Path) -> None:
    cli("add", str(cards), "--no-progress")
    rows = json.loads(cli("search", "best pizza recipe", "--relevant-only", "--json").stdout)
    assert rows == []


def test_stats_and_remove(cli, cards: Path) -> None:
    cli("add", str(cards), "--no-progress")
    stats = json.loads(cli("stats", "--json").stdout)
    assert stats["sources_total"] == 3 and stats["chunks"] >= 3 and stats["incomplete"] == []
    target = cards / "ct_denoising.md"
    removed = cli("remove", str(target), "--json")
    assert removed.exit_code == 0 and json.loads(removed.stdout)["chunks_removed"] >= 1
    assert json.loads(cli("stats", "--json").stdout)["sources_total"] == 2
    missing = cli("remove", "no-such-source")
    assert missing.exit_code == 2 and "not in the knowledge base" in missing.output


def test_adding_only_bad_files_fails_cleanly(cli, tmp_path: Path) -> None:
    (tmp_path / "empty.md").write_text("")
    result = cli("add", str(tmp_path / "empty.md"), "--no-progress")
    assert result.exit_code == 2
    assert "Nothing could be indexed" in result.output and "Traceback" not in result.output


def test_mixed_batch_reports_skips_and_indexes_the_rest(cli, cards: Path) -> None:
    (cards / "blob.txt").write_bytes(b"\x00\x01\x02" * 100)
    result = cli("add", str(cards), "--json", "--no-progress")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert len(data["added"]) == 3 and "binary" in data["skipped"][0]["reason"]
    assert "blob.txt" in result.stderr


def test_empty_query_is_a_friendly_error(cli) -> None:
    result = cli("search", "  ")
    assert result.exit_code == 2 and "empty" in result.output


def test_reindex_repairs_and_refreshes(cli, cards: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import knowledge.ingest

    (tmp_path / "empty-corpus").mkdir()
    monkeypatch.setattr(knowledge.ingest, "CORPUS_DIR", tmp_path / "empty-corpus")
    cli("add", str(cards), "--no-progress")
    card = cards / "segmentation_sam.md"
    card.write_text(card.read_text() + "\nBox prompts outperform point prompts for tumours.\n")
    data = json.loads(cli("reindex", "--json", "--no-progress").stdout)
    assert str(card.resolve()) in data["replaced"]


def test_human_output_of_stats_and_empty_search(cli, cards: Path) -> None:
    empty = cli("search", "DDIM")
    assert empty.exit_code == 0 and "knowledge base is empty" in empty.output
    cli("add", str(cards), "--no-progress")
    stats = cli("stats")
    assert "3 sources" in stats.output and "ddim_sampling.md" in stats.output
