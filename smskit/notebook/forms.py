"""The batch form: paste or upload a CSV, see every row's verdict, save the batch."""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smskit.attributes import DEFAULT_REGION
from smskit.notebook.tables import (
    Debouncer,
    Form,
    folder_html,
    frame_html,
    import_widgets,
    message_html,
    table_html,
)

if TYPE_CHECKING:
    from smskit.project import Project
    from smskit.validation import Validation

BATCH_COLUMNS = (
    "batch_id",
    "title",
    "state",
    "created_at",
    "rows",
    "valid",
    "invalid",
    "duplicate",
    "pending",
    "active",
    "done",
    "finished",
    "failed",
)
VERDICT_COLUMNS = ("row", "verdict", "input", "phone", "reason", "message", "warnings")
_BODY_PLACEHOLDER = (
    "Phone Number,Reason,First Name\n"
    "+1 202 555 0143,Their plan renews on March 15; ask whether they want to renew,Maria"
)


class BatchForm(Form):
    """Author a batch: title, CSV body, region and options, live verdicts, save, saved batches.

    The verdict table follows the body as it is typed, `debounce_seconds` after the last
    change, and lists at most `max_rows` rows (rows with problems first when there are more).
    """

    def __init__(
        self, project: Project, *, debounce_seconds: float = 0.4, max_rows: int = 200
    ) -> None:
        widgets = import_widgets()
        self.project = project
        self.max_rows = max_rows
        self.last_saved: dict[str, Any] | None = None
        self.folder = widgets.HTML(folder_html(project))
        self.title = widgets.Text(
            description="Title", placeholder="March renewals", layout={"width": "40em"}
        )
        self.title.add_class("smskit-title")
        self.body = widgets.Textarea(
            placeholder=_BODY_PLACEHOLDER,
            continuous_update=True,
            layout={"width": "100%", "height": "12em"},
        )
        self.body.add_class("smskit-body")
        self.upload = widgets.FileUpload(
            accept=".csv,.txt,text/csv,text/plain", multiple=False, description="Upload CSV"
        )
        self.region = widgets.Text(
            value=self._default_region(),
            description="Region",
            placeholder="US",
            tooltip="ISO 3166 country code for numbers written without +country code",
            layout={"width": "14em"},
        )
        self.region.add_class("smskit-region")
        self.skip_contacted = widgets.Checkbox(
            description="skip numbers already contacted", indent=False
        )
        self.paused = widgets.Checkbox(description="save paused (preview first)", indent=False)
        self._build_results(widgets)
        self._layout(widgets)
        self._connect(debounce_seconds)
        self.refresh_batches()
        self.update_verdicts()

    def _build_results(self, widgets: Any) -> None:
        self.counts = widgets.HTML()
        self.counts.add_class("smskit-verdict-counts")
        self.verdicts = widgets.HTML()
        self.verdicts.add_class("smskit-verdicts")
        self.save_button = widgets.Button(description="Save batch", button_style="primary")
        self.save_button.add_class("smskit-save")
        self.message = widgets.HTML()
        self.message.add_class("smskit-save-message")
        self.batches = widgets.HTML()
        self.batches.add_class("smskit-batches")
        self.refresh_button = widgets.Button(description="Refresh list", icon="refresh")
        self.refresh_button.add_class("smskit-refresh-batches")

    def _layout(self, widgets: Any) -> None:
        heading = widgets.HTML
        self.widget = widgets.VBox(
            [
                self.folder,
                self.title,
                heading("<b>CSV body</b>: paste it here, or upload a file"),
                self.body,
                widgets.HBox([self.upload, self.region, self.skip_contacted, self.paused]),
                heading("<b>Verdicts</b> (before saving)"),
                self.counts,
                self.verdicts,
                self.save_button,
                self.message,
                widgets.HBox([heading("<b>Saved batches</b>"), self.refresh_button]),
                self.batches,
            ]
        )
        self.widget.add_class("smskit-batch-form")

    def _connect(self, debounce_seconds: float) -> None:
        self._debounced = Debouncer(debounce_seconds, self.update_verdicts)
        self.body.observe(self._debounced, names="value")
        self.region.observe(self._debounced, names="value")
        self.skip_contacted.observe(self._debounced, names="value")
        self.upload.observe(self._on_upload, names="value")
        self.save_button.on_click(lambda _button: self.save())
        self.refresh_button.on_click(lambda _button: self.refresh_batches())

    def _default_region(self) -> str:
        ok, region = self.attempt(
            lambda: self.project.get(DEFAULT_REGION), "reading the default region failed"
        )
        return str(region) if ok and region else ""

    def _region_argument(self) -> str | None:
        return self.region.value.strip().upper() or None

    # verdicts

    def update_verdicts(self) -> None:
        """Validate the body as it is now and show the counts and the verdict table."""
        body = self.body.value
        if not body.strip():
            self.counts.value = message_html(
                "Paste a CSV with a phone column and a reason column, or upload a file.", "info"
            )
            self.verdicts.value = ""
            return
        ok, validation = self.attempt(
            lambda: self.project.check(
                body, self._region_argument(), skip_contacted=self.skip_contacted.value
            ),
            "cannot read the body",
            target=self.counts,
        )
        if not ok:
            self.verdicts.value = ""
            return
        self.counts.value = counts_html(validation)
        self.verdicts.value = verdicts_html(validation, self.max_rows)

    def _on_upload(self, change: Mapping[str, Any]) -> None:
        files = change.get("new") or ()
        if not files:
            return
        upload = files[-1]
        ok, text = self.attempt(
            lambda: _decode_upload(upload["content"]), f"cannot read {upload['name']!r}"
        )
        if not ok:
            return
        if not self.title.value.strip():
            self.title.value = Path(upload["name"]).stem.replace("_", " ")
        self.body.value = text
        self.show(f"Loaded {upload['name']!r} ({len(text)} characters).", "info")

    # saving and the list of batches

    def save(self) -> dict[str, Any] | None:
        """Store the batch; show what was saved, or why not. Return the saved batch or None."""
        self.save_button.disabled = True
        try:
            ok, saved = self.attempt(
                lambda: self.project.add_batch(
                    self.title.value,
                    self.body.value,
                    region=self._region_argument(),
                    skip_contacted=self.skip_contacted.value,
                    paused=self.paused.value,
                ),
                "Not saved",
            )
        finally:
            self.save_button.disabled = False
        if not ok:
            return None
        self.last_saved = saved
        self.show(
            f"Saved batch {saved['batch_id']} {saved['title']!r}: {saved['rows']} rows, "
            f"{saved['valid']} valid, {saved['invalid']} invalid, {saved['duplicate']} "
            f"duplicate ({saved['state']}).",
            "ok",
        )
        self.refresh_batches()
        return dict(saved)

    def refresh_batches(self) -> None:
        """Read the saved batches again and show them with their task counts."""
        ok, frame = self.attempt(self.project.batches, "cannot read the batches")
        if ok:
            columns = [name for name in BATCH_COLUMNS if name in frame.columns]
            self.batches.value = frame_html(frame.select(columns), empty="No batches saved yet.")


def _decode_upload(content: Any) -> str:
    from smskit.batchfile import decode_body

    return decode_body(bytes(content))


def counts_html(validation: Validation) -> str:
    """Render the verdict counts and the columns the header was read as."""
    counts = validation.counts
    total = sum(counts.values())
    parts = [
        f'<span class="smskit-count-{name}"><b>{counts[name]}</b> {name}</span>'
        for name in ("valid", "invalid", "duplicate")
    ]
    columns = f"phone column <code>{html.escape(validation.phone_column)}</code>, "
    columns += f"reason column <code>{html.escape(validation.reason_column)}</code>"
    if validation.columns:
        names = ", ".join(f"<code>{html.escape(name)}</code>" for name in validation.columns)
        columns += f", extra columns {names}"
    kind = "ok" if counts["invalid"] == 0 and counts["duplicate"] == 0 else "info"
    return (
        f'<div class="smskit-message smskit-{kind}">{total} rows: {", ".join(parts)} '
        f"({columns})</div>"
    )


def verdicts_html(validation: Validation, max_rows: int) -> str:
    """Render one table row per CSV row; beyond `max_rows`, rows with problems come first."""
    rows = validation.rows
    if len(rows) > max_rows:
        problems = [v for v in rows if v.verdict != "valid" or v.warnings]
        rows = (problems + [v for v in rows if v.verdict == "valid" and not v.warnings])[:max_rows]
    records = [
        {
            "row": verdict.row,
            "verdict": verdict.verdict,
            "input": verdict.input,
            "phone": verdict.phone,
            "reason": verdict.reason,
            "message": verdict.message,
            "warnings": verdict.warnings,
        }
        for verdict in rows
    ]
    text = table_html(records, VERDICT_COLUMNS, row_class=_verdict_class, width=160)
    hidden = len(validation.rows) - len(rows)
    if hidden:
        text += message_html(
            f"{hidden} more valid rows are not shown (the table lists {max_rows} rows, "
            "rows with problems first)",
            "info",
        )
    return text


def _verdict_class(row: Mapping[str, Any]) -> str:
    if row["verdict"] != "valid":
        return f"smskit-row-{row['verdict']}"
    return "smskit-row-warning" if row["warnings"] else "smskit-row-valid"
