"""Shared pieces of the notebook forms: HTML tables and messages, debouncing, error display."""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from smskit.errors import SmskitError

if TYPE_CHECKING:
    import polars as pl

    from smskit.project import Project

logger = logging.getLogger(__name__)

# Styles shared by every form; classes are prefixed so that they never clash with JupyterLab's.
STYLE = """<style>
.smskit-table { border-collapse: collapse; font-size: 12px; margin: 4px 0; }
.smskit-table th, .smskit-table td { border: 1px solid #d0d0d0; padding: 2px 6px;
  text-align: left; vertical-align: top; max-width: 40em; }
.smskit-table th { background: #f3f3f3; }
.smskit-row-invalid td { background: #fde2e1; }
.smskit-row-duplicate td { background: #fff4cc; }
.smskit-row-warning td { background: #eef5ff; }
.smskit-message { padding: 4px 8px; border-radius: 3px; margin: 4px 0; }
.smskit-ok { background: #e3f4e4; }
.smskit-error { background: #fde2e1; }
.smskit-info { background: #eef5ff; }
.smskit-transcript-line { margin: 2px 0; white-space: pre-wrap; }
.smskit-agent { color: #1a4d8f; }
.smskit-recipient { color: #2b6b2b; }
</style>"""


def import_widgets() -> Any:
    """Import ipywidgets, or raise an error with the command that installs it."""
    try:
        import ipywidgets
    except ImportError:
        raise SmskitError(
            "the notebook forms need ipywidgets; install it with `pip install ipywidgets`"
        ) from None
    return ipywidgets


def cell_text(value: Any, width: int = 120) -> str:
    """Format one table cell: empty for null, ISO 8601 for times, cut to `width` characters."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        text = value.strftime("%Y-%m-%d %H:%M:%S")
    elif isinstance(value, date):
        text = value.isoformat()
    elif isinstance(value, float):
        text = f"{value:.4g}"
    elif isinstance(value, list | tuple):
        text = ", ".join(str(item) for item in value)
    else:
        text = str(value)
    if len(text) > width:
        text = text[: width - 1] + "…"
    return text


def table_html(
    rows: Iterable[Mapping[str, Any]],
    columns: Iterable[str],
    *,
    row_class: Callable[[Mapping[str, Any]], str] | None = None,
    width: int = 120,
    empty: str = "nothing to show",
) -> str:
    """Render rows as an escaped HTML table with the given columns in order."""
    names = list(columns)
    lines = []
    for row in rows:
        css = f' class="{html.escape(row_class(row))}"' if row_class else ""
        cells = "".join(f"<td>{html.escape(cell_text(row.get(n), width))}</td>" for n in names)
        lines.append(f"<tr{css}>{cells}</tr>")
    if not lines:
        return message_html(empty, "info")
    header = "".join(f"<th>{html.escape(name)}</th>" for name in names)
    return (
        f'<table class="smskit-table"><thead><tr>{header}</tr></thead>'
        f"<tbody>{''.join(lines)}</tbody></table>"
    )


def frame_html(
    frame: pl.DataFrame, *, max_rows: int = 200, width: int = 120, empty: str = "nothing yet"
) -> str:
    """Render a Polars frame as an HTML table of at most `max_rows` rows, saying how many more."""
    shown = frame.head(max_rows)
    text = table_html(shown.iter_rows(named=True), frame.columns, width=width, empty=empty)
    if frame.height > max_rows:
        text += message_html(f"showing {max_rows} of {frame.height} rows", "info")
    return text


def message_html(text: str, kind: str = "info") -> str:
    """Render a one-line message; `kind` is ok, error or info."""
    return f'<div class="smskit-message smskit-{kind}">{html.escape(text)}</div>'


def folder_html(project: Project) -> str:
    """Render the line that names the project's data folder."""
    return STYLE + (
        f'<div class="smskit-folder">Data folder: <code>{html.escape(str(project.path))}</code>'
        "</div>"
    )


def error_text(error: BaseException) -> str:
    """Return the message to show for an error caught at a form's boundary."""
    if isinstance(error, SmskitError):
        return str(error)
    return f"{type(error).__name__}: {error}"


class Debouncer:
    """Call `callback` once, `delay` seconds after the last of a burst of calls.

    Inside a Jupyter kernel the call is scheduled on the kernel's running asyncio loop. Where
    no loop is running (a plain script or a test), the callback runs at once.
    """

    def __init__(self, delay: float, callback: Callable[[], None]) -> None:
        self.delay = delay
        self._callback = callback
        self._handle: asyncio.TimerHandle | None = None

    def __call__(self, *_args: Any) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._callback()
            return
        if self._handle is not None:
            self._handle.cancel()
        self._handle = loop.call_later(self.delay, self._run)

    def _run(self) -> None:
        self._handle = None
        try:
            self._callback()
        except Exception:
            # The loop would only log it; the callbacks show their own errors in the form.
            logger.exception("debounced update failed")


class Form:
    """Base of the forms: displays as its `widget` and shows errors in `message`."""

    widget: Any
    message: Any

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def show(self, text: str, kind: str = "info", target: Any = None) -> None:
        """Show a message in `target`, by default the form's message line."""
        (target or self.message).value = message_html(text, kind)

    def attempt(
        self, action: Callable[[], Any], failure: str, target: Any = None
    ) -> tuple[bool, Any]:
        """Run `action`; on an error show `failure: <message>` and return (False, None).

        The message goes to `target`, by default the form's message line. Errors smskit raises
        on purpose already name the fix. Anything else is logged with its traceback and
        shown as one line, so a form never prints a traceback in the cell.
        """
        try:
            return True, action()
        except SmskitError as error:
            self.show(f"{failure}: {error}", "error", target)
        except Exception as error:
            logger.exception("%s", failure)
            self.show(f"{failure}: {error_text(error)}", "error", target)
        return False, None
