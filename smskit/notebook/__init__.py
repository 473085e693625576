"""Notebook forms, views and charts over a `Project`.

Each form is an object whose `widget` is an ipywidgets box; the object displays as that box,
so a notebook cell ends with the form itself::

    from smskit.notebook import BatchForm
    BatchForm(project)

ipywidgets and Altair are imported when a form or chart is built, not when this package is.
Result widgets carry stable CSS classes (`smskit-verdicts`, `smskit-batches`,
`smskit-transcript`, ...) so that browser tests and custom styles can find them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from smskit.notebook.conversations import ConversationsView
    from smskit.notebook.exports import export_frames
    from smskit.notebook.forms import BatchForm
    from smskit.notebook.settings import SettingsForm, SuppressionForm

__all__ = [
    "BatchForm",
    "ConversationsView",
    "SettingsForm",
    "SuppressionForm",
    "export_frames",
]

_HOMES = {
    "BatchForm": "smskit.notebook.forms",
    "ConversationsView": "smskit.notebook.conversations",
    "SettingsForm": "smskit.notebook.settings",
    "SuppressionForm": "smskit.notebook.settings",
    "export_frames": "smskit.notebook.exports",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'smskit.notebook' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(home), name)
