"""The smskit command line: exit codes, messages, and the README kept in step with --help."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pytest

from smskit.cli import build_parser, main

REPO = Path(__file__).resolve().parent.parent
CLEAN = "Phone Number,Reason,First Name\n+1 202 555 0143,Renewal reminder,Maria\n"
MIXED = CLEAN + "+1-202-FLOWERS,Offer,Rosa\n+12025550143,Renewal reminder,Maria\n"


def _commands(parser: argparse.ArgumentParser, prefix: str = "") -> list[str]:
    names = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                full = f"{prefix} {name}".strip()
                nested = _commands(sub, full)
                names.extend(nested or [full])
    return names


def _documented_commands(readme: str) -> set[str]:
    """Read the README's command table: `smskit attr list` / `get NAME` / ... rows."""
    documented = set()
    for line in readme.splitlines():
        if not line.startswith("| `smskit "):
            continue
        fragments = re.findall(r"`([^`]*)`", line.split(" | ")[0])
        words = fragments[0].split()
        head = words[1]
        documented.add(head)
        candidates = words[2:3] + [fragment.split()[0] for fragment in fragments[1:]]
        for candidate in candidates:
            for name in candidate.replace("\\|", "|").split("|"):
                if re.fullmatch(r"[a-z]+", name):
                    documented.add(f"{head} {name}")
    return documented


def test_cli_commands_documented_in_readme() -> None:
    documented = _documented_commands((REPO / "README.md").read_text())
    for command in _commands(build_parser()):
        assert command in documented, f"`smskit {command}` is missing from the README"


def test_cli_every_command_has_help() -> None:
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                assert choice.help, f"{choice.dest} has no help text"


def test_validate_exit_codes(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clean, mixed = tmp_path / "clean.csv", tmp_path / "mixed.csv"
    clean.write_text(CLEAN)
    mixed.write_text(MIXED)
    assert main(["validate", str(clean)]) == 0
    capsys.readouterr()
    assert main(["validate", str(mixed), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] == 1
    assert report["invalid"] == 1
    assert report["duplicate"] == 1
    assert main(["validate", str(tmp_path / "missing.csv")]) == 2


def test_attr_set_rejects_and_keeps_old_value(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = "project_attributes_setting_outbound_sms_session_duration"
    assert main(["attr", "set", name, "15"]) == 0
    assert main(["attr", "set", name, "-1"]) == 2
    assert "expected a number > 0" in capsys.readouterr().err
    assert main(["attr", "get", name]) == 0
    assert capsys.readouterr().out.strip() == "15.0"
    assert main(["attr", "reset", name]) == 0
    main(["attr", "get", name])
    assert capsys.readouterr().out.strip().endswith("60.0")


def test_attr_set_results_attribute_rejected(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["attr", "set", "project_attributes_outbound_call_table_csv_result", "x"]) == 2
    assert "written by smskit" in capsys.readouterr().err


def test_batch_add_list_and_control(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = tmp_path / "batch.csv"
    body.write_text(MIXED)
    assert main(["batch", "add", "--title", "March", str(body)]) == 0
    assert "3 rows, 1 valid, 1 invalid, 1 duplicate" in capsys.readouterr().out
    assert main(["batch", "add", "--title", "March", str(body)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["batch", "pause", "March"]) == 0
    assert main(["batch", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert listed[0]["state"] == "paused"
    assert main(["batch", "cancel", "1"]) == 0
    assert main(["batch", "resume", "March"]) == 2
    assert "cancelled" in capsys.readouterr().err
    assert main(["batch", "pause", "Nope"]) == 2


def test_results_formats(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = tmp_path / "batch.csv"
    body.write_text(MIXED)
    main(["batch", "add", "--title", "March", str(body)])
    capsys.readouterr()
    assert main(["results", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["outcome"] for row in rows] == ["invalid-phone-number", "duplicate-phone-number"]
    assert main(["results", "--format", "csv", "--batch", "March"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("task_id,batch_id,batch,row,phone_number")
    assert len(lines) == 3


def test_suppress_commands(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["suppress", "add", "+1 202 555 0143"]) == 0
    assert main(["suppress", "list", "--format", "csv"]) == 0
    assert "+12025550143" in capsys.readouterr().out
    assert main(["suppress", "remove", "+12025550143"]) == 0
    assert main(["suppress", "remove", "+12025550143"]) == 2
    assert main(["suppress", "add", "not a number"]) == 2
    assert main(["suppress", "add"]) == 2


def test_reply_goes_to_spool(data_dir: Path) -> None:
    assert main(["reply", "+12025550143", "Yes please"]) == 0
    spool = (data_dir / "spool" / "events.jsonl").read_text()
    assert '"body":"Yes please"' in spool
    assert main(["reply", "+12025550143", "  "]) == 2


def test_status_runs_on_empty_folder(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status"]) == 0
    assert "no runner running" in capsys.readouterr().out
    assert main(["status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["open_sessions"] == 0
