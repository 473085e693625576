"""Altair charts of the `smskit.analysis` frames, rendered offline as SVG.

Altair's default renderer loads Vega from a CDN and gives every output a random id, so charts
stay blank without internet. `enable_offline` switches to the SVG renderer, which draws the
chart in the kernel with vl-convert-python. Altair is imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from smskit.errors import SmskitError

if TYPE_CHECKING:
    import polars as pl

FUNNEL_STEPS = ("rows", "valid", "sent", "replied", "finished")
WIDTH = 480
# vl-convert sizes the SVG with its own fonts. A browser that draws the labels with a wider
# sans-serif font would cut off long axis and legend labels at the edges without this margin.
LABEL_MARGIN = {"left": 30, "top": 5, "right": 30, "bottom": 5}


def _altair() -> Any:
    try:
        import altair
    except ImportError:
        raise SmskitError(
            "the charts need altair and vl-convert-python; install them with "
            "`pip install altair vl-convert-python`"
        ) from None
    return altair


def enable_offline() -> None:
    """Render charts as SVG in the kernel, which needs no internet (vl-convert-python)."""
    try:
        import vl_convert  # noqa: F401 - checked here so the error names the package
    except ImportError:
        raise SmskitError(
            "offline charts need vl-convert-python; install it with `pip install vl-convert-python`"
        ) from None
    _altair().renderers.enable("svg")


def funnel_chart(funnel: pl.DataFrame) -> Any:
    """Draw each batch's funnel (rows, valid, sent, replied, finished) as grouped bars."""
    import polars as pl

    alt = _altair()
    long = funnel.unpivot(index=["batch_id", "batch"], on=list(FUNNEL_STEPS), variable_name="step")
    long = long.with_columns(tasks=pl.col("value"))
    return (
        alt.Chart(long, title="Funnel per batch", width=WIDTH, padding=LABEL_MARGIN)
        .mark_bar()
        .encode(
            x=alt.X("step:N", sort=list(FUNNEL_STEPS), title=None, axis=alt.Axis(labelAngle=0)),
            xOffset=alt.XOffset("batch:N"),
            y=alt.Y("tasks:Q", title="tasks"),
            color=alt.Color("batch:N", title="batch", legend=alt.Legend(labelLimit=400)),
            tooltip=["batch", "step", "tasks"],
        )
    )


def outcomes_chart(outcomes: pl.DataFrame) -> Any:
    """Draw the outcome counts as horizontal bars, coloured by status."""
    alt = _altair()
    return (
        alt.Chart(outcomes, title="Outcomes", width=WIDTH, padding=LABEL_MARGIN)
        .mark_bar()
        .encode(
            y=alt.Y("outcome:N", sort="-x", title=None),
            x=alt.X("sum(tasks):Q", title="tasks"),
            color=alt.Color("status:N", scale=alt.Scale(domain=["finished", "failed"])),
            tooltip=["outcome", "status", "sum(tasks)"],
        )
    )


def reply_rate_chart(rates: pl.DataFrame, by: str) -> Any:
    """Draw the reply rate per group of `by` (the output of `analysis.reply_rate`)."""
    alt = _altair()
    return (
        alt.Chart(rates, title=f"Reply rate by {by}", width=WIDTH)
        .mark_bar()
        .encode(
            x=alt.X(f"{_field(by)}:N", title=by, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("reply_rate:Q", title="reply rate", axis=alt.Axis(format="%")),
            tooltip=[alt.Tooltip(f"{_field(by)}:N", title=by), "sent", "replied", "reply_rate"],
        )
    )


def histogram_chart(values: pl.Series, title: str, unit: str, *, bins: int = 20) -> Any:
    """Draw a histogram of `values`, binned in Polars so the chart holds only the bin counts."""
    import polars as pl

    alt = _altair()
    values = values.drop_nulls()
    if values.is_empty():
        data = pl.DataFrame({"start": [0.0], "end": [0.0], "count": [0]})
    else:
        counts = values.cast(pl.Float64).hist(bin_count=bins, include_category=False)
        ends = counts.get_column("breakpoint")
        width = (float(values.max()) - float(values.min())) / bins or 1.0  # type: ignore[arg-type]
        data = pl.DataFrame(
            {"start": ends - width, "end": ends, "count": counts.get_column("count")}
        )
    return (
        alt.Chart(data, title=title, width=WIDTH)
        .mark_bar()
        .encode(
            x=alt.X("start:Q", bin="binned", title=unit),
            x2="end:Q",
            y=alt.Y("count:Q", title="tasks", axis=alt.Axis(tickMinStep=1)),
            tooltip=["start", "end", "count"],
        )
    )


def messages_chart(counts: pl.DataFrame) -> Any:
    """Draw how many conversations had each number of messages."""
    alt = _altair()
    return (
        alt.Chart(counts, title="Messages per conversation", width=WIDTH)
        .mark_bar()
        .encode(
            x=alt.X("messages:O", title="messages sent and received", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("conversations:Q", axis=alt.Axis(tickMinStep=1)),
            tooltip=["messages", "conversations"],
        )
    )


def fields_chart(distributions: pl.DataFrame) -> Any:
    """Draw one bar chart per payload-schema field, from `analysis.field_distributions`."""
    alt = _altair()
    base = (
        alt.Chart(distributions, width=WIDTH)
        .mark_bar()
        .encode(
            y=alt.Y("value:N", sort="-x", title=None),
            x=alt.X("count:Q", title="conversations"),
            tooltip=["field", "value", "count", alt.Tooltip("share:Q", format=".0%")],
        )
    )
    return (
        base.facet(
            row=alt.Row(
                "field:N",
                title=None,
                header=alt.Header(labelAngle=0, labelAlign="left", labelOrient="top"),
            )
        )
        .resolve_scale(y="independent")
        .properties(title="Payload-schema fields", padding=LABEL_MARGIN)
    )


def _field(name: str) -> str:
    """Escape a column name for a Vega-Lite field string (dots and brackets are paths)."""
    return name.replace("\\", "\\\\").replace(".", "\\.").replace("[", "\\[").replace("]", "\\]")
