"""The Project API: batches, tasks, attributes, controls and the suppression list."""

from __future__ import annotations

import json

import pytest

from smskit.errors import InvalidInputError
from smskit.project import Project

BODY = (
    "Phone Number,Reason,First Name\n"
    "+1 202 555 0143,Renewal reminder,Maria\n"
    "(312) 555-0101,Boiler service,James\n"
    "+1-202-FLOWERS,Offer,Rosa\n"
    "+12025550143,Renewal reminder,Maria\n"
)


def test_add_batch_stores_one_task_per_row(project: Project) -> None:
    batch = project.add_batch("March", BODY, region="US")
    assert (batch["rows"], batch["valid"], batch["invalid"], batch["duplicate"]) == (4, 2, 1, 1)
    tasks = project.tasks("March")
    assert tasks["row"].to_list() == [1, 2, 3, 4]
    assert tasks["state"].to_list() == ["queued", "queued", "done", "done"]
    assert tasks["outcome"].to_list() == [
        None,
        None,
        "invalid-phone-number",
        "duplicate-phone-number",
    ]
    assert json.loads(tasks["variables"][0]) == {"First Name": "Maria"}


def test_user_id_stable_across_batches(project: Project) -> None:
    project.add_batch("one", "Phone,Reason\n+12025550143,a\n")
    project.add_batch("two", "Phone,Reason\n+12025550143,b\n+12025550178,c\n")
    ids = project.tasks()["user_id"].to_list()
    assert ids[0] == ids[1]
    assert ids[2] != ids[0]
    assert "2025550143" not in ids[0]


def test_rejected_rows_in_results(project: Project) -> None:
    project.add_batch("March", BODY, region="US")
    results = project.results()
    assert results["row"].to_list() == [3, 4]
    assert "letters" in results["summary"][0]


def test_pause_resume_cancel(project: Project) -> None:
    project.add_batch("March", BODY, region="US")
    project.pause("March")
    assert set(project.tasks()["state"].to_list()) == {"paused", "done"}
    project.resume("March")
    assert project.tasks()["state"].to_list()[:2] == ["queued", "queued"]
    project.cancel("March")
    assert project.tasks()["outcome"].to_list()[:2] == ["cancelled", "cancelled"]
    with pytest.raises(InvalidInputError, match="cancelled"):
        project.resume("March")


def test_add_batch_rejects_bad_titles(project: Project) -> None:
    project.add_batch("March", BODY, region="US")
    with pytest.raises(InvalidInputError, match="already exists"):
        project.add_batch("March", BODY, region="US")
    with pytest.raises(InvalidInputError, match="reads as a batch id"):
        project.add_batch("42", BODY)
    with pytest.raises(InvalidInputError, match="empty"):
        project.add_batch("  ", BODY)


def test_skip_contacted_rows(project: Project) -> None:
    project.add_batch("one", "Phone,Reason\n+12025550143,a\n")
    batch = project.add_batch("two", "Phone,Reason\n+12025550143,b\n", skip_contacted=True)
    assert batch["duplicate"] == 1


def test_set_get_reset_attribute(project: Project) -> None:
    name = "project_attributes_setting_agent_tone"
    assert project.get(name) == "friendly"
    assert project.set(name, "Formal") == "formal"
    assert project.get(name) == "formal"
    with pytest.raises(InvalidInputError, match="expected one of"):
        project.set(name, "rude")
    assert project.get(name) == "formal"
    assert project.reset(name) == "friendly"


def test_suppression_list(project: Project) -> None:
    assert project.suppress("+1 202 555 0143") == "+12025550143"
    assert project.suppressions()["phone_number"].to_list() == ["+12025550143"]
    project.unsuppress("+12025550143")
    assert project.suppressions().is_empty()
    with pytest.raises(InvalidInputError, match="not on the suppression list"):
        project.unsuppress("+12025550143")


def test_validate_rejects_non_text(project: Project) -> None:
    with pytest.raises(InvalidInputError, match="text or bytes"):
        project.validate(None)  # type: ignore[arg-type]


def test_status_counts(project: Project) -> None:
    project.add_batch("March", BODY, region="US")
    status = project.status()
    assert status["tasks"]["queued"] == 2
    assert status["tasks"]["done"] == 2
    assert status["runner_pid"] is None
