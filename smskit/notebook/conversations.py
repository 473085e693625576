"""The conversations view: batch progress and controls, open sessions, transcripts, replies.

Every refresh reads the project through `Project` methods, which open the database for one
short transaction each, so the view never keeps the runner from writing. Refreshes run on a
button, after a reply, and on a background thread that stops by itself after a few minutes.
"""

from __future__ import annotations

import html
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from smskit.analysis import TASK_STATES, task_states
from smskit.attributes import SMS_PROVIDER
from smskit.notebook.tables import (
    Form,
    folder_html,
    import_widgets,
    message_html,
    table_html,
)

if TYPE_CHECKING:
    import polars as pl

    from smskit.project import Project

logger = logging.getLogger(__name__)

SESSION_COLUMNS = ("task_id", "batch", "phone_number", "replies", "ends_at", "time_left")
# A second click on Cancel within this many seconds confirms it.
CANCEL_CONFIRM_SECONDS = 10.0
# After a reply, the transcript is read again this often until the runner has applied it.
REPLY_POLL_SECONDS = 0.5
REPLY_WATCH_SECONDS = 15.0


def format_seconds(seconds: float | None) -> str:
    """Format a duration as m:ss, or h:mm:ss from one hour."""
    if seconds is None:
        return ""
    total = max(int(seconds), 0)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


class _BatchRow:
    """One batch's line: title, progress bar, counts by task state and the three controls."""

    def __init__(self, widgets: Any, view: ConversationsView, batch_id: int) -> None:
        self.batch_id = batch_id
        self.label = widgets.HTML(layout={"width": "16em"})
        self.progress = widgets.IntProgress(min=0, max=1, value=0, layout={"width": "14em"})
        self.counts = widgets.HTML()
        self.pause = widgets.Button(description="Pause", layout={"width": "7em"})
        self.resume = widgets.Button(description="Resume", layout={"width": "7em"})
        self.cancel = widgets.Button(
            description="Cancel", button_style="danger", layout={"width": "9em"}
        )
        self.pause.on_click(lambda _button: view.control(batch_id, "pause"))
        self.resume.on_click(lambda _button: view.control(batch_id, "resume"))
        self.cancel.on_click(lambda _button: view.control(batch_id, "cancel"))
        self.box = widgets.HBox(
            [self.label, self.progress, self.pause, self.resume, self.cancel, self.counts]
        )
        self.box.add_class("smskit-batch-row")

    def update(self, counts: Mapping[str, Any], state: str) -> None:
        rows = int(counts["rows"])
        done = int(counts["done"])
        self.label.value = (
            f"<b>{html.escape(str(counts['batch']))}</b> "
            f'<span class="smskit-batch-state">({html.escape(state)})</span>'
        )
        self.progress.max = max(rows, 1)
        self.progress.value = done
        self.progress.bar_style = "success" if done == rows else "info"
        states = ", ".join(
            f"{name.replace('_', ' ')} {counts[name]}" for name in TASK_STATES if counts[name]
        )
        self.counts.value = f"{done}/{rows} done &middot; {html.escape(states)}"
        pending = (
            rows - done - sum(int(counts[name]) for name in ("sending", "in_session", "closing"))
        )
        self.pause.disabled = state != "active"
        self.resume.disabled = state != "paused"
        self.cancel.disabled = state == "cancelled" or pending == 0


class ConversationsView(Form):
    """Watch batches and conversations, control batches and reply as a recipient.

    The transcript shows the task picked by id or phone number, else the open session that
    closes first. With `auto_refresh`, the view refreshes every `interval_seconds` for
    `auto_refresh_minutes`, then stops.
    """

    def __init__(
        self,
        project: Project,
        *,
        interval_seconds: float = 3.0,
        auto_refresh_minutes: float = 5.0,
        auto_refresh: bool = True,
    ) -> None:
        widgets = import_widgets()
        self._widgets = widgets
        self.project = project
        self.interval_seconds = interval_seconds
        self.auto_refresh_minutes = auto_refresh_minutes
        self.reply_watch_seconds = REPLY_WATCH_SECONDS
        self.task_id: int | None = None
        self._tasks: pl.DataFrame | None = None
        self._rows: dict[int, _BatchRow] = {}
        self._cancel_clicks: dict[int, float] = {}
        self._lock = threading.RLock()
        self._stop: threading.Event | None = None
        self._thread: threading.Thread | None = None
        self._build(widgets)
        self.refresh()
        self.auto.value = auto_refresh

    def _build(self, widgets: Any) -> None:
        self.status = widgets.HTML()
        self.status.add_class("smskit-runner-status")
        self.batches = widgets.VBox()
        self.batches.add_class("smskit-batch-progress")
        self.sessions = widgets.HTML()
        self.sessions.add_class("smskit-sessions")
        self.pick = widgets.Text(
            description="Task or phone",
            placeholder="task id, or +1 202 555 0143",
            continuous_update=False,
            style={"description_width": "initial"},
        )
        self.pick.add_class("smskit-transcript-pick")
        self.show_button = widgets.Button(description="Show transcript")
        self.show_button.add_class("smskit-transcript-show")
        self.transcript = widgets.HTML()
        self.transcript.add_class("smskit-transcript")
        self.reply_text = widgets.Text(
            placeholder="a reply, as the recipient would text it", layout={"width": "40em"}
        )
        self.reply_text.add_class("smskit-reply-text")
        self.reply_button = widgets.Button(description="Reply as recipient")
        self.reply_button.add_class("smskit-reply-send")
        self.reply_box = widgets.HBox([self.reply_text, self.reply_button])
        self.refresh_button = widgets.Button(description="Refresh", icon="refresh")
        self.refresh_button.add_class("smskit-refresh")
        self.auto = widgets.Checkbox(
            description=f"refresh every {self.interval_seconds:g} s "
            f"(stops after {self.auto_refresh_minutes:g} minutes)",
            indent=False,
            layout={"width": "30em"},
        )
        self.auto.add_class("smskit-auto-refresh")
        self.message = widgets.HTML()
        self.message.add_class("smskit-conversations-message")
        heading = widgets.HTML
        self.widget = widgets.VBox(
            [
                heading(folder_html(self.project)),
                widgets.HBox([self.refresh_button, self.auto]),
                self.status,
                heading("<b>Batches</b>"),
                self.batches,
                self.message,
                heading("<b>Open sessions</b>"),
                self.sessions,
                heading("<b>Transcript</b>"),
                widgets.HBox([self.pick, self.show_button]),
                self.transcript,
                self.reply_box,
            ]
        )
        self.widget.add_class("smskit-conversations")
        self.refresh_button.on_click(lambda _button: self.refresh())
        self.show_button.on_click(lambda _button: self.pick_task())
        self.pick.observe(lambda _change: self.pick_task(), names="value")
        self.reply_button.on_click(lambda _button: self.send_reply())
        self.auto.observe(self._on_auto, names="value")

    # refreshing

    def refresh(self) -> None:
        """Read the runner status, batches, sessions and the transcript again."""
        with self._lock:
            self._refresh_status()
            self._refresh_batches()
            self._refresh_sessions()
            self._refresh_transcript()

    def _refresh_status(self) -> None:
        ok, status = self.attempt(self.project.status, "cannot read the status", self.status)
        if not ok:
            return
        ok, provider = self.attempt(
            lambda: self.project.get(SMS_PROVIDER), "cannot read the provider", self.status
        )
        self.reply_box.layout.display = None if ok and provider == "local" else "none"
        if status["runner_pid"] is None:
            self.show(
                "No runner is running: nothing is sent, and replies wait in the spool until "
                "`python runner.py` starts.",
                "info",
                self.status,
            )
            return
        ok, now = self.attempt(self.project.now, "cannot read the project time", self.status)
        if not ok:
            return
        self.show(
            f"Runner running (pid {status['runner_pid']}), "
            f"project time {now.strftime('%Y-%m-%d %H:%M:%S')} UTC, "
            f"{status['open_sessions']} open sessions.",
            "ok",
            self.status,
        )

    def _refresh_batches(self) -> None:
        ok, tasks = self.attempt(self.project.tasks, "cannot read the tasks")
        if not ok:
            return
        ok, batches = self.attempt(self.project.batches, "cannot read the batches")
        if not ok:
            return
        self._tasks = tasks
        states = {row["batch_id"]: row["state"] for row in batches.iter_rows(named=True)}
        counts = task_states(tasks).to_dicts()
        ids = [int(row["batch_id"]) for row in counts]
        if ids != list(self._rows):
            self._rows = {batch_id: _BatchRow(self._widgets, self, batch_id) for batch_id in ids}
            if not ids:
                self.batches.children = [
                    self._widgets.HTML(message_html("No batches saved yet.", "info"))
                ]
            else:
                self.batches.children = [row.box for row in self._rows.values()]
        for row in counts:
            self._rows[int(row["batch_id"])].update(row, states.get(row["batch_id"], "active"))

    def _refresh_sessions(self) -> None:
        ok, frame = self.attempt(self.project.sessions, "cannot read the sessions")
        if not ok:
            return
        rows = [
            {
                **row,
                "ends_at": row["session_ends_at"],
                "time_left": format_seconds(row["seconds_left"]),
            }
            for row in frame.iter_rows(named=True)
        ]
        self.sessions.value = table_html(rows, SESSION_COLUMNS, empty="No open sessions.")
        if self.task_id is None and rows:
            self.task_id = int(rows[0]["task_id"])

    # transcripts and replies

    def pick_task(self) -> None:
        """Show the transcript of the task id or phone number typed in the picker."""
        ok, task_id = self.attempt(
            lambda: self._resolve(self.pick.value), "cannot show the transcript"
        )
        if ok:
            self.task_id = task_id
            with self._lock:
                self._refresh_transcript()

    def _resolve(self, text: str) -> int:
        from smskit.errors import InvalidInputError
        from smskit.phones import normalize_phone

        text = text.strip()
        tasks = self._tasks if self._tasks is not None else self.project.tasks()
        if text.isdigit() and len(text) <= 7:
            if int(text) not in tasks["task_id"]:
                raise InvalidInputError(f"no task with id {text}; pick one from the sessions")
            return int(text)
        check = normalize_phone(text)
        if check.e164 is None:
            raise InvalidInputError(
                f"{text!r} is neither a task id nor a phone number: {check.error}", value=text
            )
        matches = tasks.filter(tasks["phone_number"] == check.e164)
        if matches.is_empty():
            raise InvalidInputError(
                f"no task has the number {check.e164}; check the number or type a task id",
                value=text,
            )
        # The latest task that texts the number; duplicate rows of it are never sent.
        valid = matches.filter(matches["verdict"] == "valid")
        return int((valid if valid.height else matches)["task_id"][-1])

    def _task(self, task_id: int) -> dict[str, Any] | None:
        if self._tasks is None:
            return None
        rows = self._tasks.filter(self._tasks["task_id"] == task_id).to_dicts()
        return rows[0] if rows else None

    def _refresh_transcript(self) -> int:
        """Show the selected task's transcript and return its number of messages."""
        if self.task_id is None:
            self.transcript.value = message_html(
                "No task picked: type a task id or a phone number above.", "info"
            )
            return 0
        task_id = self.task_id
        ok, messages = self.attempt(
            lambda: self.project.messages(task_id), "cannot read the messages", self.transcript
        )
        if not ok:
            return 0
        self.transcript.value = transcript_html(self._task(task_id), task_id, messages)
        return int(messages.height)

    def send_reply(self) -> None:
        """Deliver the reply text as an SMS from the picked task's recipient."""
        task = self._task(self.task_id) if self.task_id is not None else None
        if task is None or not task["phone_number"]:
            self.show("Pick a task with a valid phone number first.", "error")
            return
        text = self.reply_text.value
        ok, _ = self.attempt(lambda: self.project.reply(task["phone_number"], text), "not sent")
        if not ok:
            return
        self.reply_text.value = ""
        self.show(
            f"Reply from {task['phone_number']} written to the spool; the running runner "
            "applies it within a second.",
            "ok",
        )
        before = self._refresh_transcript()
        threading.Thread(
            target=self._watch_reply, args=(before,), daemon=True, name="smskit-reply-watch"
        ).start()

    def _watch_reply(self, before: int) -> None:
        """Read the transcript again until the reply and the agent's response appear."""
        deadline = time.monotonic() + self.reply_watch_seconds
        while time.monotonic() < deadline:
            time.sleep(REPLY_POLL_SECONDS)
            with self._lock:
                count = self._refresh_transcript()
            if count >= before + 2:
                break
        with self._lock:
            self._refresh_batches()
            self._refresh_sessions()

    # batch controls

    def control(self, batch_id: int, action: str) -> None:
        """Pause, resume or cancel a batch. Cancelling needs a second click to confirm."""
        if action == "cancel" and not self._confirmed(batch_id):
            return
        actions: dict[str, Callable[[int], None]] = {
            "pause": self.project.pause,
            "resume": self.project.resume,
            "cancel": self.project.cancel,
        }
        ok, _ = self.attempt(lambda: actions[action](batch_id), f"cannot {action} the batch")
        if ok:
            self.show(f"Batch {batch_id}: {action} done.", "ok")
            self.refresh()

    def _confirmed(self, batch_id: int) -> bool:
        first = self._cancel_clicks.pop(batch_id, None)
        row = self._rows.get(batch_id)
        if first is not None and time.monotonic() - first <= CANCEL_CONFIRM_SECONDS:
            if row is not None:
                row.cancel.description = "Cancel"
            return True
        self._cancel_clicks[batch_id] = time.monotonic()
        if row is not None:
            row.cancel.description = "Click to confirm"
        self.show(
            f"Cancelling batch {batch_id} ends its unsent tasks for good; click again within "
            f"{CANCEL_CONFIRM_SECONDS:g} s to confirm.",
            "info",
        )
        return False

    # automatic refresh

    def _on_auto(self, change: Mapping[str, Any]) -> None:
        if change["new"]:
            self._start_thread()
        else:
            self._stop_thread()

    def start_auto_refresh(self) -> None:
        """Refresh every `interval_seconds` on a background thread until stopped or timed out."""
        if self.auto.value:
            self._start_thread()
        else:
            self.auto.value = True

    def stop_auto_refresh(self) -> None:
        """Stop the automatic refresh."""
        if self.auto.value:
            self.auto.value = False
        else:
            self._stop_thread()

    def _start_thread(self) -> None:
        self._stop_thread()
        stop = threading.Event()
        deadline = time.monotonic() + self.auto_refresh_minutes * 60
        self._stop = stop
        self._thread = threading.Thread(
            target=self._auto_loop, args=(stop, deadline), daemon=True, name="smskit-refresh"
        )
        self._thread.start()

    def _stop_thread(self) -> None:
        if self._stop is not None:
            self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=self.interval_seconds + 5)
        self._stop = None
        self._thread = None

    @property
    def auto_refreshing(self) -> bool:
        """Whether the automatic refresh thread is running."""
        return self._thread is not None and self._thread.is_alive()

    def _auto_loop(self, stop: threading.Event, deadline: float) -> None:
        while not stop.wait(self.interval_seconds):
            if time.monotonic() >= deadline:
                self.show(
                    f"Automatic refresh stopped after {self.auto_refresh_minutes:g} minutes; "
                    "click Refresh, or tick the box to start it again.",
                    "info",
                )
                stop.set()
                self.auto.value = False
                return
            try:
                self.refresh()
            except Exception:
                logger.exception("automatic refresh failed")


def transcript_html(task: Mapping[str, Any] | None, task_id: int, messages: pl.DataFrame) -> str:
    """Render a task's heading and its messages, one line each, oldest first."""
    heading = f"Task {task_id}"
    if task is not None:
        heading += (
            f" &middot; {html.escape(str(task['phone_number'] or task['input_phone']))}"
            f" &middot; batch {html.escape(repr(task['batch']))} &middot; {task['state']}"
        )
        if task["outcome"]:
            heading += f" &middot; {html.escape(str(task['outcome']))}"
    lines = [f'<div class="smskit-transcript-heading"><b>{heading}</b></div>']
    for message in messages.iter_rows(named=True):
        inbound = message["direction"] == "inbound"
        speaker = "Recipient" if inbound else "Agent"
        css = "smskit-recipient" if inbound else "smskit-agent"
        at = message["created_at"].strftime("%H:%M:%S") if message["created_at"] else ""
        notes = [] if inbound else [str(message["status"])]
        if message["after_session"]:
            notes.append("after the session closed")
        note = f" <small>({html.escape(', '.join(notes))})</small>" if notes else ""
        lines.append(
            f'<div class="smskit-transcript-line {css}"><small>{at}</small> '
            f"<b>{speaker}:</b> {html.escape(message['body'] or '')}{note}</div>"
        )
    if messages.is_empty():
        lines.append(message_html("No messages yet.", "info"))
    return "".join(lines)
