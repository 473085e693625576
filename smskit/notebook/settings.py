"""The settings form (search, edit, reset attributes) and the suppression list form."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from smskit.notebook.exports import export_frames
from smskit.notebook.tables import (
    Form,
    folder_html,
    frame_html,
    import_widgets,
    message_html,
)

if TYPE_CHECKING:
    import polars as pl

    from smskit.project import Project

ATTRIBUTE_COLUMNS = ("name", "type", "default", "value", "description")


class SettingsForm(Form):
    """Search the attributes by name, see their type, default and description, edit or reset.

    A rejected value leaves the stored value as it was; the form shows the reason and the
    stored value next to each other.
    """

    def __init__(self, project: Project) -> None:
        widgets = import_widgets()
        self.project = project
        self._attributes: pl.DataFrame | None = None
        self.search = widgets.Text(
            description="Search",
            placeholder="part of a name or description, e.g. quiet",
            continuous_update=True,
            layout={"width": "40em"},
        )
        self.search.add_class("smskit-attribute-search")
        self.table = widgets.HTML()
        self.table.add_class("smskit-attributes")
        self.name = widgets.Dropdown(description="Attribute", layout={"width": "60em"})
        self.name.add_class("smskit-attribute-name")
        self.details = widgets.HTML()
        self.details.add_class("smskit-attribute-details")
        self.value = widgets.Textarea(layout={"width": "60em", "height": "5em"})
        self.value.add_class("smskit-attribute-value")
        self.set_button = widgets.Button(description="Save value", button_style="primary")
        self.set_button.add_class("smskit-attribute-set")
        self.reset_button = widgets.Button(description="Reset to default")
        self.reset_button.add_class("smskit-attribute-reset")
        self.message = widgets.HTML()
        self.message.add_class("smskit-attribute-message")
        self.widget = widgets.VBox(
            [
                widgets.HTML(folder_html(project)),
                self.search,
                self.table,
                widgets.HTML("<b>Edit</b>"),
                self.name,
                self.details,
                self.value,
                widgets.HBox([self.set_button, self.reset_button]),
                self.message,
            ]
        )
        self.widget.add_class("smskit-settings-form")
        self.search.observe(lambda _change: self.apply_search(), names="value")
        self.name.observe(lambda _change: self.show_attribute(), names="value")
        self.set_button.on_click(lambda _button: self.save())
        self.reset_button.on_click(lambda _button: self.reset())
        self.reload()

    def reload(self) -> None:
        """Read the attributes again and show them, keeping the search and the selection."""
        ok, frame = self.attempt(self.project.attributes, "cannot read the attributes")
        if ok:
            self._attributes = frame
            self.apply_search()

    def matching(self) -> pl.DataFrame:
        """Return the attributes whose name or description contains the search text."""
        import polars as pl

        frame = self._attributes
        if frame is None:
            return pl.DataFrame(schema={name: pl.String for name in ATTRIBUTE_COLUMNS})
        text = self.search.value.strip().lower()
        if not text:
            return frame
        return frame.filter(
            pl.col("name").str.to_lowercase().str.contains(text, literal=True)
            | pl.col("description").str.to_lowercase().str.contains(text, literal=True)
        )

    def apply_search(self) -> None:
        """Show the matching attributes and offer the settable ones in the drop-down."""
        matching = self.matching()
        self.table.value = frame_html(
            matching.select(ATTRIBUTE_COLUMNS),
            width=80,
            empty=f"No attribute matches {self.search.value!r}.",
        )
        names = matching.filter(~matching["read_only"])["name"].to_list() if matching.height else []
        selected = self.name.value
        self.name.options = names
        if selected not in names:
            selected = names[0] if names else None
        self.name.value = selected
        self.show_attribute()

    def _row(self, name: str | None) -> dict[str, Any] | None:
        if not name or self._attributes is None:
            return None
        rows = self._attributes.filter(self._attributes["name"] == name).to_dicts()
        return rows[0] if rows else None

    def show_attribute(self) -> None:
        """Show the selected attribute's type, default, description and stored value."""
        row = self._row(self.name.value)
        if row is None:
            self.details.value = message_html("No settable attribute is selected.", "info")
            self.value.value = ""
            return
        self.details.value = details_html(row)
        self.value.value = row["value"] or ""

    def save(self) -> None:
        """Validate and store the edited value; on rejection keep and show the stored one."""
        name = self.name.value
        row = self._row(name)
        if row is None:
            self.show("Choose an attribute first.", "error")
            return
        ok, typed = self.attempt(
            lambda: self.project.set(name, self.value.value), f"{name} not saved"
        )
        if not ok:
            self.message.value += message_html(
                f"The stored value is unchanged: {row['value']!r}.", "info"
            )
            return
        self.reload()
        self.show(f"{name} saved: {typed!r}.", "ok")

    def reset(self) -> None:
        """Reset the selected attribute to its default."""
        name = self.name.value
        if not name:
            self.show("Choose an attribute first.", "error")
            return
        ok, default = self.attempt(lambda: self.project.reset(name), f"{name} not reset")
        if ok:
            self.reload()
            self.show(f"{name} reset to its default: {default!r}.", "ok")


def details_html(row: Mapping[str, Any]) -> str:
    """Render one attribute's description, type, default and stored value."""
    stored = "set" if row["is_set"] else "not set, so it has its default"
    items = [
        ("name", f"<code>{html.escape(row['name'])}</code>"),
        ("description", html.escape(row["description"] or "")),
        ("type", html.escape(row["type"] or "")),
        ("default", f"<code>{html.escape(row['default'] or '(empty)')}</code>"),
        ("value", f"<code>{html.escape(row['value'] or '(empty)')}</code> ({stored})"),
    ]
    cells = "".join(f"<tr><th>{key}</th><td>{value}</td></tr>" for key, value in items)
    return f'<table class="smskit-table">{cells}</table>'


class SuppressionForm(Form):
    """View, export, add to and remove from the suppression list."""

    def __init__(self, project: Project) -> None:
        widgets = import_widgets()
        self.project = project
        self.table = widgets.HTML()
        self.table.add_class("smskit-suppressions")
        self.phone = widgets.Text(description="Phone", placeholder="+1 202 555 0143")
        self.phone.add_class("smskit-suppression-phone")
        self.reason = widgets.Text(description="Reason", value="added by hand")
        self.add_button = widgets.Button(description="Add", icon="ban")
        self.add_button.add_class("smskit-suppression-add")
        self.remove_button = widgets.Button(description="Remove")
        self.remove_button.add_class("smskit-suppression-remove")
        self.export_button = widgets.Button(description="Export CSV", icon="download")
        self.export_button.add_class("smskit-suppression-export")
        self.refresh_button = widgets.Button(description="Refresh", icon="refresh")
        self.message = widgets.HTML()
        self.message.add_class("smskit-suppression-message")
        self.widget = widgets.VBox(
            [
                widgets.HTML(folder_html(project)),
                self.table,
                widgets.HBox([self.phone, self.reason]),
                widgets.HBox(
                    [self.add_button, self.remove_button, self.export_button, self.refresh_button]
                ),
                self.message,
            ]
        )
        self.widget.add_class("smskit-suppression-form")
        self.add_button.on_click(lambda _button: self.add())
        self.remove_button.on_click(lambda _button: self.remove())
        self.export_button.on_click(lambda _button: self.export())
        self.refresh_button.on_click(lambda _button: self.refresh())
        self.refresh()

    def refresh(self) -> None:
        """Read the suppression list again and show it."""
        ok, frame = self.attempt(self.project.suppressions, "cannot read the suppression list")
        if ok:
            self.table.value = frame_html(frame, empty="The suppression list is empty.")

    def add(self) -> None:
        """Add the phone number to the suppression list."""
        ok, number = self.attempt(
            lambda: self.project.suppress(self.phone.value, self.reason.value or "added by hand"),
            "not added",
        )
        if ok:
            self.refresh()
            self.show(f"{number} is on the suppression list; it will not be texted.", "ok")

    def remove(self) -> None:
        """Remove the phone number from the suppression list."""
        ok, number = self.attempt(lambda: self.project.unsuppress(self.phone.value), "not removed")
        if ok:
            self.refresh()
            self.show(f"{number} is no longer on the suppression list.", "ok")

    def export(self) -> None:
        """Write the suppression list to exports/suppressions.csv in the data folder."""
        ok, paths = self.attempt(
            lambda: export_frames(
                self.project, {"suppressions": self.project.suppressions()}, formats=("csv",)
            ),
            "export failed",
        )
        if ok:
            self.show(f"Exported to {paths['suppressions'][0]}", "ok")
