"""The notebook forms without a browser: widgets are driven through their values and methods.

Outside a kernel, ipywidgets keep their state in Python, so setting `form.body.value` runs the
same observers a browser edit would. The verdict update runs at once because no asyncio loop
is running (see `Debouncer`).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

import smskit
from smskit.notebook import (
    BatchForm,
    ConversationsView,
    SettingsForm,
    SuppressionForm,
    export_frames,
)
from smskit.notebook.conversations import format_seconds
from smskit.notebook.tables import Debouncer, frame_html

QUIET_HOURS = "project_attributes_setting_quiet_hours"
BODY = (
    "Phone Number,Reason,First Name\n"
    "+1 202 555 0143,Their plan renews on March 15,Maria\n"
    "+1-202-FLOWERS,Offer a free home energy check,Rosa\n"
    "+1 (202) 555-0143,Their plan renews on March 15,Maria\n"
)


def _project(data_dir: Path) -> smskit.Project:
    return smskit.open(data_dir)


def test_batch_form_shows_verdicts_before_saving(data_dir: Path) -> None:
    project = _project(data_dir)
    form = BatchForm(project)
    form.body.value = BODY
    assert "<b>1</b> valid" in form.counts.value
    assert "<b>1</b> invalid" in form.counts.value
    assert "<b>1</b> duplicate" in form.counts.value
    assert form.verdicts.value.count('class="smskit-row-invalid"') == 1
    assert "contains letters" in form.verdicts.value
    assert "same number as row 1" in form.verdicts.value
    assert project.batches().is_empty()


def test_batch_form_shows_data_folder(data_dir: Path) -> None:
    form = BatchForm(_project(data_dir))
    assert str(data_dir) in form.folder.value


def test_batch_form_region_defaults_to_attribute(data_dir: Path) -> None:
    project = _project(data_dir)
    project.set("project_attributes_setting_default_region", "US")
    form = BatchForm(project)
    assert form.region.value == "US"
    form.body.value = "phone,reason\n(312) 555-0101,Confirm the visit\n"
    assert "<b>1</b> valid" in form.counts.value
    form.region.value = "ZZ"
    assert "smskit-error" in form.counts.value
    assert "ZZ" in form.counts.value


def test_batch_form_unusable_body_shows_error(data_dir: Path) -> None:
    form = BatchForm(_project(data_dir))
    form.body.value = "hello\nworld\n"
    assert "smskit-error" in form.counts.value
    assert "no phone column" in form.counts.value
    assert form.verdicts.value == ""
    form.body.value = ""
    assert "Paste a CSV" in form.counts.value


def test_batch_form_save_stores_and_lists_batch(data_dir: Path) -> None:
    project = _project(data_dir)
    form = BatchForm(project)
    form.title.value = "March renewals"
    form.body.value = BODY
    saved = form.save()
    assert saved is not None
    assert saved["rows"] == 3
    assert "Saved batch 1 &#x27;March renewals&#x27;: 3 rows" in form.message.value
    assert "March renewals" in form.batches.value
    assert project.tasks()["verdict"].to_list() == ["valid", "invalid", "duplicate"]
    assert project.batches()["state"].to_list() == ["active"]


@pytest.mark.parametrize(
    ("title", "message"),
    [("", "the batch title is empty"), ("42", "is a number")],
)
def test_batch_form_save_rejected_title(data_dir: Path, title: str, message: str) -> None:
    form = BatchForm(_project(data_dir))
    form.title.value = title
    form.body.value = BODY
    assert form.save() is None
    assert "smskit-error" in form.message.value
    assert message in form.message.value
    assert "Traceback" not in form.message.value
    assert not form.save_button.disabled


def test_batch_form_save_duplicate_title(data_dir: Path) -> None:
    form = BatchForm(_project(data_dir))
    form.title.value = "March"
    form.body.value = BODY
    assert form.save() is not None
    assert form.save() is None
    assert "already exists" in form.message.value


def test_batch_form_save_paused(data_dir: Path) -> None:
    project = _project(data_dir)
    form = BatchForm(project)
    form.title.value = "Preview"
    form.body.value = BODY
    form.paused.value = True
    form.save()
    assert project.batches()["state"].to_list() == ["paused"]
    assert project.tasks()["state"].to_list() == ["paused", "done", "done"]


def test_batch_form_skip_contacted(data_dir: Path) -> None:
    project = _project(data_dir)
    project.add_batch("First", BODY)
    form = BatchForm(project)
    form.body.value = "phone,reason\n+1 202 555 0143,Ask again\n"
    assert "already contacted" in form.verdicts.value
    assert "<b>1</b> valid" in form.counts.value
    form.skip_contacted.value = True
    assert "<b>1</b> duplicate" in form.counts.value
    form.title.value = "Second"
    form.save()
    assert project.tasks(batch="Second")["verdict"].to_list() == ["duplicate"]


def test_batch_form_upload_fills_body(data_dir: Path) -> None:
    form = BatchForm(_project(data_dir))
    content = BODY.encode("utf-8-sig")
    form.upload.value = (
        {
            "name": "april_renewals.csv",
            "type": "text/csv",
            "size": len(content),
            "content": memoryview(content),
            "last_modified": datetime(2026, 3, 1, tzinfo=UTC),
        },
    )
    assert form.body.value.startswith("Phone Number,Reason")
    assert form.title.value == "april renewals"
    assert "<b>1</b> invalid" in form.counts.value
    assert "april_renewals.csv" in form.message.value


def test_batch_form_large_body_lists_problems_first(data_dir: Path) -> None:
    rows = [f"+1 202 555 {number:04d},Reason {number}" for number in range(100, 350)]
    rows.append("+1-202-FLOWERS,Offer a check")
    form = BatchForm(_project(data_dir), max_rows=50)
    form.body.value = "phone,reason\n" + "\n".join(rows) + "\n"
    assert form.verdicts.value.count("<tr class=") == 50
    assert form.verdicts.value.index("smskit-row-invalid") < form.verdicts.value.index(
        "smskit-row-valid"
    )
    assert "201 more valid rows are not shown" in form.verdicts.value


async def test_debouncer_runs_once_after_burst() -> None:
    calls: list[float] = []
    debounced = Debouncer(0.05, lambda: calls.append(time.monotonic()))
    started = time.monotonic()
    for _ in range(5):
        debounced()
        await asyncio.sleep(0.01)
    assert calls == []
    await asyncio.sleep(0.2)
    assert len(calls) == 1
    assert calls[0] - started >= 0.05


def test_debouncer_without_loop_runs_at_once() -> None:
    calls: list[int] = []
    Debouncer(10.0, lambda: calls.append(1))()
    assert calls == [1]


def test_settings_form_search_filters(data_dir: Path) -> None:
    form = SettingsForm(_project(data_dir))
    form.search.value = "QUIET"
    assert form.name.options == (QUIET_HOURS,)
    assert form.name.value == QUIET_HOURS
    assert "21:00-08:00" in form.details.value
    form.search.value = "no such attribute"
    assert form.name.options == ()
    assert "No attribute matches" in form.table.value


def test_settings_form_search_matches_description(data_dir: Path) -> None:
    form = SettingsForm(_project(data_dir))
    form.search.value = "greeting is sent"
    assert QUIET_HOURS in form.name.options


def test_settings_form_rejected_value_keeps_old(data_dir: Path) -> None:
    project = _project(data_dir)
    project.set(QUIET_HOURS, "22:00-07:00")
    form = SettingsForm(project)
    form.search.value = "quiet"
    form.value.value = "25:00-08:00"
    form.save()
    assert "smskit-error" in form.message.value
    assert "expected HH:MM-HH:MM" in form.message.value
    assert "The stored value is unchanged: &#x27;22:00-07:00&#x27;" in form.message.value
    assert project.get(QUIET_HOURS) == "22:00-07:00"
    assert form.value.value == "25:00-08:00"


def test_settings_form_saves_and_resets(data_dir: Path) -> None:
    project = _project(data_dir)
    form = SettingsForm(project)
    form.search.value = "quiet"
    form.value.value = "22:30-07:15"
    form.save()
    assert "saved" in form.message.value
    assert project.get(QUIET_HOURS) == "22:30-07:15"
    assert "(set)" in form.details.value
    form.reset()
    assert project.get(QUIET_HOURS) == "21:00-08:00"
    assert form.value.value == "21:00-08:00"
    assert "reset to its default" in form.message.value


def test_settings_form_offers_no_results_attribute(data_dir: Path) -> None:
    form = SettingsForm(_project(data_dir))
    form.search.value = "csv_result"
    assert form.name.options == ()
    assert "project_attributes_outbound_call_table_csv_result" in form.table.value


def test_suppression_form_add_export_remove(data_dir: Path) -> None:
    project = _project(data_dir)
    form = SuppressionForm(project)
    assert "empty" in form.table.value
    form.phone.value = "+1 202 555 0143"
    form.add()
    assert "+12025550143 is on the suppression list" in form.message.value
    assert "+12025550143" in form.table.value
    form.export()
    exported = pl.read_csv(data_dir / "exports" / "suppressions.csv")
    assert exported["phone_number"].to_list() == ["+12025550143"]
    form.remove()
    assert project.suppressions().is_empty()
    form.remove()
    assert "is not on the suppression list" in form.message.value
    form.phone.value = "not a number"
    form.add()
    assert "smskit-error" in form.message.value


def test_conversations_view_counts_and_controls(data_dir: Path) -> None:
    project = _project(data_dir)
    project.add_batch("March", BODY)
    view = ConversationsView(project, auto_refresh=False)
    row = view._rows[1]
    assert "2/3 done" in row.counts.value
    assert "queued 1" in row.counts.value
    assert "No runner is running" in view.status.value
    assert "No open sessions" in view.sessions.value
    view.control(1, "pause")
    assert project.batches()["state"].to_list() == ["paused"]
    assert row.resume.disabled is False
    view.control(1, "resume")
    view.control(1, "cancel")
    assert project.batches()["state"].to_list() == ["active"]
    assert "click again" in view.message.value
    view.control(1, "cancel")
    assert project.batches()["state"].to_list() == ["cancelled"]
    assert project.tasks()["outcome"].to_list()[0] == "cancelled"
    view.control(1, "resume")
    assert "cannot be resumed" in view.message.value


def test_conversations_view_picks_task_and_replies(data_dir: Path) -> None:
    project = _project(data_dir)
    project.add_batch("March", BODY)
    view = ConversationsView(project, auto_refresh=False)
    view.reply_watch_seconds = 0.2
    assert "No task picked" in view.transcript.value
    view.pick.value = "+1 202 555 0143"
    assert "Task 1" in view.transcript.value
    assert "No messages yet" in view.transcript.value
    view.pick.value = "99"
    assert "no task with id 99" in view.message.value
    view.pick.value = "1"
    view.reply_text.value = "Yes please"
    view.send_reply()
    assert "written to the spool" in view.message.value
    assert view.reply_text.value == ""
    events = [json.loads(line) for line in project.folder.spool.read_text().splitlines()]
    assert [(event["phone_number"], event["body"]) for event in events] == [
        ("+12025550143", "Yes please")
    ]


def test_conversations_view_reply_needs_text(data_dir: Path) -> None:
    project = _project(data_dir)
    project.add_batch("March", BODY)
    view = ConversationsView(project, auto_refresh=False)
    view.pick.value = "1"
    view.reply_text.value = "   "
    view.send_reply()
    assert "reply text is empty" in view.message.value


def test_conversations_view_auto_refresh_stops_by_itself(data_dir: Path) -> None:
    view = ConversationsView(
        _project(data_dir), interval_seconds=0.05, auto_refresh_minutes=0.3 / 60
    )
    assert view.auto_refreshing
    deadline = time.monotonic() + 10
    while view.auto_refreshing and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not view.auto_refreshing
    assert view.auto.value is False
    assert "stopped after" in view.message.value


def test_conversations_view_stop_auto_refresh(data_dir: Path) -> None:
    view = ConversationsView(_project(data_dir), interval_seconds=0.05)
    assert view.auto_refreshing
    view.stop_auto_refresh()
    assert not view.auto_refreshing
    assert view.auto.value is False
    view.start_auto_refresh()
    assert view.auto_refreshing
    view.stop_auto_refresh()


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, ""), (-5, "0:00"), (59.9, "0:59"), (61, "1:01"), (3600, "1:00:00"), (7325, "2:02:05")],
)
def test_format_seconds(seconds: float | None, text: str) -> None:
    assert format_seconds(seconds) == text


def test_export_frames_writes_csv_and_parquet(data_dir: Path) -> None:
    frame = pl.DataFrame({"phone_number": ["+12025550143"], "summary": ["=SUM(A1)"]})
    paths = export_frames(_project(data_dir), {"funnel": frame})
    assert [path.name for path in paths["funnel"]] == ["funnel.csv", "funnel.parquet"]
    assert (data_dir / "exports" / "funnel.csv").read_text().splitlines()[1] == (
        "+12025550143,'=SUM(A1)"
    )
    assert pl.read_parquet(data_dir / "exports" / "funnel.parquet").equals(frame)


@pytest.mark.parametrize(
    ("frames", "formats", "message"),
    [
        ({"../x": pl.DataFrame()}, ("csv",), "not a plain file name"),
        ({"x": pl.DataFrame()}, ("xlsx",), "unknown export format 'xlsx'"),
    ],
)
def test_export_frames_rejects(
    data_dir: Path, frames: dict[str, pl.DataFrame], formats: tuple[str, ...], message: str
) -> None:
    with pytest.raises(smskit.InvalidInputError, match=message):
        export_frames(_project(data_dir), frames, formats=formats)


def test_frame_html_escapes_and_limits_rows() -> None:
    frame = pl.DataFrame({"text": ["<b>x</b>", "b", "c"]})
    text = frame_html(frame, max_rows=2)
    assert "&lt;b&gt;x&lt;/b&gt;" in text
    assert "showing 2 of 3 rows" in text


def test_notebook_package_loads_widgets_lazily() -> None:
    code = (
        "import sys, smskit, smskit.notebook, smskit.analysis\n"
        "print(sorted(name for name in ('ipywidgets', 'altair', 'vl_convert') "
        "if name in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"
