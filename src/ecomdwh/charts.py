"""Charts and tables for the analytics notebooks: each chart function takes an `analytics` DataFrame and
returns a matplotlib Figure; `show` puts it into the notebook as an embedded PNG.

Figures are made with matplotlib's object API, not pyplot, so a figure appears exactly once (where
`show` puts it) and nothing depends on the notebook's matplotlib backend.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

import numpy as np
import pandas as pd
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

DPI = 110
INK = "#1f2a44"
ACCENT = "#2f6fdf"
MUTED = "#9aa5b8"
GOOD = "#2e9e6a"
WARN = "#e0a030"
BAD = "#d0483c"
PALETTE = ["#2f6fdf", "#2e9e6a", "#e0a030", "#d0483c", "#7a5cc8", "#2aa7b8", "#c2559a", "#8a9a3b", "#b86b2a", "#5b6b86"]

MONEY_WORDS = ("revenue", "amount", "value", "price")
LABEL_CHARS = 36  # longest axis label before it is cut
LONG_ROWS = 25  # longer or wider frames become interactive tables in Lab
WIDE_COLUMNS = 10
DAY_LABELS = 31  # most per-day ticks and labels that stay legible at the report's width
SHARE_WORDS = ("share", "retention")


# --- formatting --------------------------------------------------------------------------------------------------


def money(value: float, decimals: int = 0) -> str:
    """A short money label: 950, 12.3k, 1.25M (the contract names no currency)."""
    if pd.isna(value):
        return "-"
    size = abs(value)
    if size >= 1_000_000:
        return f"{value / 1_000_000:,.2f}M"
    if size >= 10_000:
        return f"{value / 1_000:,.1f}k"
    return f"{value:,.{decimals}f}"


def short(text, limit: int = LABEL_CHARS) -> str:
    """A label cut to `limit` characters with an ellipsis: long names (Olist's categories) leave the bars room."""
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _money_axis(axis) -> None:
    axis.set_major_formatter(FuncFormatter(lambda v, _: money(v)))


def _style(ax, title: str | None = None, xlabel: str | None = None, ylabel: str | None = None) -> None:
    if title:
        ax.set_title(title, loc="left", fontsize=11, color=INK, fontweight="bold")
    if xlabel is not None:
        ax.set_xlabel(xlabel, color=INK)
    if ylabel is not None:
        ax.set_ylabel(ylabel, color=INK)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(colors=INK, labelsize=9)
    ax.grid(axis="y", color="#e6e9ef", linewidth=0.8)
    ax.set_axisbelow(True)


def _figure(width: float, height: float, title: str | None = None) -> Figure:
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    if title:
        fig.suptitle(title, x=0.01, ha="left", fontsize=13, color=INK, fontweight="bold")
    return fig


def _empty(fig: Figure, message: str = "no data in the selected range") -> Figure:
    ax = fig.add_subplot()
    ax.text(0.5, 0.5, message, ha="center", va="center", color=MUTED, fontsize=12)
    ax.set_axis_off()
    return fig


def png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    return buffer.getvalue()


def show(fig: Figure) -> None:
    """Display a figure in the notebook as a PNG (embedded in the executed notebook and its HTML)."""
    from IPython.display import Image, display

    display(Image(data=png(fig), format="png"))


def table(
    frame: pd.DataFrame,
    money_columns: Iterable[str] | None = None,
    share_columns: Iterable[str] | None = None,
    rows: int | None = None,
):
    """A readable table: thousands separators, money with two decimals, shares as percentages, no index.

    Columns are recognised by name (revenue/amount/value/price: money; share/retention: percent)
    unless given explicitly.
    """
    frame = frame.head(rows) if rows else frame
    names = [str(c) for c in frame.columns]
    money_set = set(money_columns or [c for c in names if any(w in c for w in MONEY_WORDS)])
    share_set = set(share_columns or [c for c in names if any(w in c for w in SHARE_WORDS)])
    formats = {}
    for column in frame.columns:
        name, dtype = str(column), frame[column].dtype
        if name in share_set:
            formats[column] = "{:.1%}"
        elif name in money_set:
            formats[column] = "{:,.2f}"
        elif pd.api.types.is_bool_dtype(dtype):
            continue
        elif pd.api.types.is_integer_dtype(dtype):
            formats[column] = "{:,}"
        elif pd.api.types.is_float_dtype(dtype):
            formats[column] = "{:,.2f}"
        elif pd.api.types.is_datetime64_any_dtype(dtype):
            formats[column] = lambda v: "-" if pd.isna(v) else v.strftime("%Y-%m-%d %H:%M")
    if rows is None and interactive_tables() and (len(frame) > LONG_ROWS or len(frame.columns) > WIDE_COLUMNS):
        return interactive(frame, money_columns=money_set, share_columns=share_set)
    return frame.style.format(formats, na_rep="-").hide(axis="index")


_itables_loaded = False


def interactive_tables() -> bool:
    """True in a kernel that JupyterLab started under `ecomdwh lab`; papermill-run reports keep static tables."""
    from ecomdwh.settings import get_settings

    if not get_settings().in_lab:
        return False
    from IPython import get_ipython

    return getattr(get_ipython(), "kernel", None) is not None


def interactive(
    frame: pd.DataFrame,
    money_columns: Iterable[str] | None = None,
    share_columns: Iterable[str] | None = None,
    **options,
):
    """A table to sort, search and page through (itables) in `ecomdwh lab`; elsewhere the static `table`.

    The DataTables library comes from the itables wheel (`connected=False`): nothing is fetched. It is put into the
    first interactive table's cell output once per kernel.
    """
    global _itables_loaded
    if not interactive_tables():
        return table(frame, money_columns, share_columns)
    from IPython.display import HTML
    from itables import init_notebook_mode, to_html_datatable

    names = [str(c) for c in frame.columns]
    share_set = set(share_columns or [c for c in names if any(w in c for w in SHARE_WORDS)])
    floats = [c for c in frame.columns if pd.api.types.is_float_dtype(frame[c].dtype)]
    rounded = frame.round({c: 4 if str(c) in share_set else 2 for c in floats})  # money to cents, shares to 0.01 %
    if not _itables_loaded:
        init_notebook_mode(all_interactive=False, connected=False)
        _itables_loaded = True
    return HTML(to_html_datatable(rounded, connected=False, showIndex=False, **options))


def range_label(start_date: str | None, end_date: str | None) -> str:
    """The order-date range in words."""
    if start_date and end_date:
        return f"orders from {start_date} to {end_date}"
    if start_date:
        return f"orders from {start_date} on"
    if end_date:
        return f"orders up to {end_date}"
    return "every order in gold"


def headline(head: pd.DataFrame, start_date: str | None = None, end_date: str | None = None):
    """The report's first lines as Markdown: revenue, orders, items, customers and the range covered."""
    from IPython.display import Markdown

    row = head.iloc[0]
    if pd.isna(row["orders"]) or not row["orders"]:
        return Markdown(f"**No orders** in the selected range ({range_label(start_date, end_date)}).")
    first, last = pd.Timestamp(row["first_ordered_at"]), pd.Timestamp(row["last_ordered_at"])
    return Markdown(
        f"**{money(row['revenue'])} revenue** from **{int(row['orders']):,} orders** "
        f"({int(row['items']):,} items) by **{int(row['customers']):,} customers**, "
        f"ordered {first:%Y-%m-%d} to {last:%Y-%m-%d} ({range_label(start_date, end_date)})."
    )


# --- charts ------------------------------------------------------------------------------------------------------


def revenue_trend(monthly: pd.DataFrame, daily: pd.DataFrame) -> Figure:
    """Revenue per order day (bars) with orders (line), beside revenue per month (the seed's trend)."""
    fig = _figure(11, 4.2, "Revenue trend")
    if monthly.empty:
        return _empty(fig)
    day_ax, month_ax = fig.subplots(1, 2, width_ratios=[3, 1])
    days = pd.to_datetime(daily["date_day"])
    day_ax.bar(days, daily["revenue"], color=ACCENT, width=0.8, label="revenue")
    day_ax.set_ylim(0, max(1.0, daily["revenue"].max()) * 1.25)  # headroom for the legend, clear of the bars
    _money_axis(day_ax.yaxis)
    _style(day_ax, "Per order day", None, "revenue")
    if len(days) <= DAY_LABELS:  # one tick per day, never half days
        day_ax.set_xticks(list(days), [f"{d:%m-%d}" for d in days])
    else:
        locator = AutoDateLocator()
        day_ax.xaxis.set_major_locator(locator)
        day_ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    day_ax.tick_params(axis="x", rotation=45)
    orders_ax = day_ax.twinx()
    orders_ax.plot(days, daily["orders"], color=WARN, marker="o", markersize=3, linewidth=1.5, label="orders")
    orders_ax.set_ylabel("orders", color=WARN)
    orders_ax.set_ylim(0, max(1, daily["orders"].max()) * 1.25)
    orders_ax.tick_params(colors=WARN, labelsize=9)
    orders_ax.spines["top"].set_visible(False)
    handles = day_ax.get_legend_handles_labels()[0] + orders_ax.get_legend_handles_labels()[0]
    day_ax.legend(handles, ["revenue", "orders"], loc="upper left", ncols=2, frameon=False, fontsize=9)

    known = monthly[monthly["year_month"] != "unknown"]
    bars = month_ax.bar(known["year_month"], known["revenue"], color=INK, width=0.6)
    month_ax.bar_label(bars, labels=[money(v) for v in known["revenue"]], fontsize=9, color=INK, padding=2)
    month_ax.set_ylim(0, max(1.0, known["revenue"].max()) * 1.15)
    _money_axis(month_ax.yaxis)
    _style(month_ax, "Per month", None, None)
    month_ax.tick_params(axis="x", rotation=45)
    return fig


def top_products(top: pd.DataFrame) -> Figure:
    """The top products by revenue as horizontal bars, largest on top, labelled with name and category."""
    fig = _figure(10, 0.45 * max(len(top), 3) + 1.2, "Top products by revenue")
    if top.empty:
        return _empty(fig)
    ax = fig.add_subplot()
    ordered = top.iloc[::-1]
    labels = [
        f"{short(n, 28)}  ·  {short(c, 18)}  ({short(p, 12)})"
        for n, c, p in zip(ordered["product_name"], ordered["category"], ordered["product_id"], strict=True)
    ]
    bars = ax.barh(labels, ordered["revenue"], color=ACCENT)
    ax.bar_label(
        bars,
        labels=[f"{money(r)}  ({u:,} units)" for r, u in zip(ordered["revenue"], ordered["units_sold"], strict=True)],
        fontsize=8,
        color=INK,
        padding=3,
    )
    ax.set_xlim(0, ordered["revenue"].max() * 1.3)
    _money_axis(ax.xaxis)
    _style(ax, None, "revenue", None)
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", color="#e6e9ef", linewidth=0.8)
    return fig


def customer_value(customers: pd.DataFrame, segments: pd.DataFrame) -> Figure:
    """Revenue per customer by segment, and how customer lifetime revenue is distributed (log scale)."""
    fig = _figure(11, 4, "Customer lifetime value")
    if customers.empty:
        return _empty(fig)
    seg_ax, dist_ax = fig.subplots(1, 2)
    colors = [PALETTE[i % len(PALETTE)] for i in range(len(segments))]
    bars = seg_ax.bar(segments["segment"], segments["revenue_per_customer"], color=colors)
    seg_ax.bar_label(
        bars,
        labels=[
            f"{money(v)}\n{n:,} customers"
            for v, n in zip(segments["revenue_per_customer"], segments["customers"], strict=True)
        ],
        fontsize=8,
        color=INK,
        padding=2,
    )
    seg_ax.set_ylim(0, segments["revenue_per_customer"].max() * 1.3)
    _money_axis(seg_ax.yaxis)
    _style(seg_ax, "Revenue per customer, by current segment", None, "revenue per customer")

    values = customers["revenue"][customers["revenue"] > 0]
    if values.empty:  # a log scale needs positive revenue
        dist_ax.set_axis_off()
        return fig
    bins = np.geomspace(max(values.min(), 1.0), values.max() * 1.01, 30)
    dist_ax.hist(values, bins=bins, color=ACCENT, edgecolor="white")
    dist_ax.set_xscale("log")
    _money_axis(dist_ax.xaxis)
    median = float(values.median())
    dist_ax.axvline(median, color=WARN, linewidth=1.5)
    dist_ax.text(
        median,
        0.97,
        f" median {money(median, 2)} ",
        color=WARN,
        fontsize=9,
        va="top",
        transform=dist_ax.get_xaxis_transform(),
        bbox={"facecolor": "white", "edgecolor": "none"},
    )
    _style(dist_ax, "Customers by lifetime revenue", "lifetime revenue (log scale)", "customers")
    return fig


def cohort_heatmap(matrix: pd.DataFrame, period: str = "month") -> Figure:
    """Retention per cohort (rows) and periods since the first order (columns), as a shaded grid of percentages."""
    fig = _figure(
        1.1 * max(len(matrix.columns), 4) + 2.5, 0.45 * max(len(matrix), 3) + 1.6, f"Cohort retention by {period}"
    )
    if matrix.empty:
        return _empty(fig)
    ax = fig.add_subplot()
    image = ax.imshow(matrix.to_numpy(dtype=float), cmap="Blues", vmin=0, vmax=1, aspect="auto")
    for (row, col), value in pd.DataFrame(matrix.to_numpy()).stack().items():
        ax.text(col, row, f"{value:.0%}", ha="center", va="center", fontsize=9, color="white" if value > 0.6 else INK)
    ax.set_xticks(range(len(matrix.columns)), [f"+{c}" for c in matrix.columns])
    ax.set_yticks(range(len(matrix)), matrix.index)
    ax.set_xlabel(f"{period}s since the first order", color=INK)
    ax.set_ylabel(f"cohort (first order's {period})", color=INK)
    ax.tick_params(colors=INK, labelsize=9)
    fig.colorbar(image, ax=ax, format=PercentFormatter(1.0), shrink=0.8, label="customers ordering again")
    return fig


def category_mix(mix: pd.DataFrame) -> Figure:
    """Revenue per category over the range, and each month's revenue split by category (100 % bars)."""
    fig = _figure(11, 4.2, "Category mix")
    if mix.empty:
        return _empty(fig)
    total_ax, share_ax = fig.subplots(1, 2, width_ratios=[1, 1])
    totals = mix.groupby("category", as_index=False)[["revenue", "units"]].sum().sort_values("revenue")
    colors = {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(totals["category"].iloc[::-1])}
    bars = total_ax.barh(
        [short(c, 24) for c in totals["category"]], totals["revenue"], color=[colors[c] for c in totals["category"]]
    )
    total_ax.bar_label(
        bars,
        labels=[f"{money(r)}  ({u:,} units)" for r, u in zip(totals["revenue"], totals["units"], strict=True)],
        fontsize=8,
        color=INK,
        padding=3,
    )
    total_ax.set_xlim(0, totals["revenue"].max() * 1.35)
    _money_axis(total_ax.xaxis)
    _style(total_ax, "Revenue per category", "revenue", None)
    total_ax.grid(axis="y", visible=False)

    shares = mix.pivot_table(index="year_month", columns="category", values="share_of_revenue", fill_value=0)
    bottom = pd.Series(0.0, index=shares.index)
    for category in totals["category"].iloc[::-1]:
        share_ax.bar(
            shares.index, shares[category], bottom=bottom, color=colors[category], label=short(category, 24), width=0.6
        )
        bottom += shares[category]
    share_ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    share_ax.set_ylim(0, 1)
    _style(share_ax, "Share of each month's revenue", "order month", None)
    share_ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False, fontsize=8)
    return fig


def payment_methods(methods: pd.DataFrame) -> Figure:
    """Share of orders and of revenue per payment method; deferred methods (paid after delivery) marked."""
    fig = _figure(10, 0.5 * max(len(methods), 3) + 1.4, "Payment-method mix")
    if methods.empty:
        return _empty(fig)
    ax = fig.add_subplot()
    ordered = methods.sort_values("share_of_revenue")
    y = range(len(ordered))
    deferred = [bool(v) if pd.notna(v) else False for v in ordered["is_deferred"]]  # unknown: None
    colors = [WARN if d else ACCENT for d in deferred]
    ax.barh([i + 0.2 for i in y], ordered["share_of_orders"], height=0.4, color=MUTED, label="share of orders")
    bars = ax.barh(
        [i - 0.2 for i in y], ordered["share_of_revenue"], height=0.4, color=colors, label="share of revenue"
    )
    ax.bar_label(
        bars,
        labels=[
            f"{s:.1%} · {money(r)} · avg order {money(a, 2)}"
            for s, r, a in zip(
                ordered["share_of_revenue"], ordered["revenue"], ordered["average_order_value"], strict=True
            )
        ],
        fontsize=8,
        color=INK,
        padding=3,
    )
    names = [
        f"{short(n, 24)}{'  (deferred)' if d else ''}"
        for n, d in zip(ordered["payment_method_name"], deferred, strict=True)
    ]
    ax.set_yticks(list(y), names)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlim(0, max(ordered["share_of_revenue"].max(), ordered["share_of_orders"].max()) * 1.6)
    _style(ax, None, "share", None)
    ax.grid(axis="y", visible=False)
    ax.legend(loc="lower right", frameon=False, fontsize=8)
    return fig


def shipment_status(statuses: pd.DataFrame) -> Figure:
    """Share of order items per latest shipment status, in pipeline order; green delivered, amber open,
    red closed without delivery."""
    fig = _figure(10, 0.45 * max(len(statuses), 3) + 1.4, "Shipment status of order items")
    if statuses.empty:
        return _empty(fig)
    ax = fig.add_subplot()
    ordered = statuses.sort_values("stage_order", ascending=False)
    colors = [
        GOOD if d else (BAD if f else WARN) for d, f in zip(ordered["is_delivered"], ordered["is_final"], strict=True)
    ]
    bars = ax.barh([short(n) for n in ordered["shipment_status_name"]], ordered["share_of_items"], color=colors)
    ax.bar_label(
        bars,
        labels=[
            f"{s:.1%}  ({n:,} items)" for s, n in zip(ordered["share_of_items"], ordered["order_items"], strict=True)
        ],
        fontsize=8,
        color=INK,
        padding=3,
    )
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlim(0, ordered["share_of_items"].max() * 1.3)
    _style(ax, None, "share of order items", None)
    ax.grid(axis="y", visible=False)
    return fig


def open_shipments(backlog: pd.DataFrame, sla_days: int) -> Figure:
    """Orders by age in days, split into delivered / closed undelivered / still open, with the SLA line."""
    fig = _figure(11, 4.2, f"Open shipments by order age (SLA: final status within {sla_days} days)")
    if backlog.empty:
        return _empty(fig)
    ax = fig.add_subplot()
    ages = backlog["age_days"]
    parts = (
        ("delivered_orders", "delivered", GOOD),
        ("closed_undelivered_orders", "returned or lost", BAD),
        ("open_orders", "still open", WARN),
    )
    bottom = pd.Series(0, index=backlog.index)
    for column, label, color in parts:
        ax.bar(ages, backlog[column], bottom=bottom, color=color, label=label, width=0.8)
        bottom = bottom + backlog[column]
    if ages.max() > sla_days:  # the SLA line only where there are orders past it, else it stretches the axis
        ax.axvline(sla_days + 0.5, color=INK, linestyle="--", linewidth=1)
        ax.text(
            sla_days + 0.6,
            0.98,
            "past the SLA → (% still open)",
            color=INK,
            fontsize=9,
            va="top",
            transform=ax.get_xaxis_transform(),
        )
    ax.set_ylim(0, bottom.max() * 1.25)
    late = backlog[backlog["age_days"] > sla_days]
    if len(late) <= DAY_LABELS:  # beyond that the share labels overlap one another
        for age, open_orders, share in zip(late["age_days"], late["open_orders"], late["open_share"], strict=True):
            if open_orders:
                ax.text(
                    age, bottom[ages == age].iloc[0], f"{share:.0%}", ha="center", va="bottom", fontsize=8, color=BAD
                )
    ax.set_xlim(ages.min() - 0.6, ages.max() + 0.6)
    if len(ages) <= DAY_LABELS:
        ax.set_xticks(list(ages))
    else:
        ax.xaxis.set_major_locator(MaxNLocator(nbins=DAY_LABELS, integer=True))
    _style(ax, None, "days since the order (as of the newest order)", "orders")
    # Above the axes, clear of the SLA note and the bars.
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=9, ncols=3)
    return fig


def key_values(values: dict):
    """A summary dict as a two-column table (lists joined with commas)."""
    rows = [
        (k, ", ".join(map(str, v)) if isinstance(v, list | tuple) else ("-" if v is None else v))
        for k, v in values.items()
    ]
    frame = pd.DataFrame(rows, columns=["measure", "value"])
    return frame.style.format(lambda v: f"{v:,}" if isinstance(v, int | float) else v, subset="value").hide(
        axis="index"
    )


# --- reconciliation ----------------------------------------------------------------------------------------------

_LAYER_STAGES = [
    ("bronze_rows", "bronze"),
    ("rows_read", "read by Glue"),
    ("rows_written", "written"),
    ("rows_quarantined", "quarantined"),
    ("rows_deduplicated", "deduplicated"),
    ("silver_rows", "silver parquet"),
    ("warehouse_rows", "warehouse silver"),
    ("gold_rows", "gold fact"),
]
_STAGE_COLORS = {"quarantined": BAD, "deduplicated": MUTED}


def layer_flow(counts: pd.DataFrame) -> Figure:
    """One small chart per entity: the rows at each stage, bars that should line up where they must."""
    cols = 3
    rows = -(-len(counts) // cols)
    fig = _figure(5 * cols, 3.2 * rows, "Rows per layer and entity")
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax, (_, row) in zip(axes.flat, counts.iterrows(), strict=False):
        labels, values = zip(*[(label, row[c]) for c, label in _LAYER_STAGES if pd.notna(row[c])], strict=True)
        ax.barh(labels, values, color=[_STAGE_COLORS.get(label, ACCENT) for label in labels])
        ax.invert_yaxis()
        for y, value in enumerate(values):
            ax.annotate(f"{int(value):,}", (value, y), xytext=(3, 0), textcoords="offset points", va="center", size=7)
        ax.set_xlim(0, max(values) * 1.25 or 1)
        _money_axis(ax.xaxis)  # short labels: 12.3k
        _style(ax, row["entity"])
    for ax in list(axes.flat)[len(counts) :]:
        ax.set_axis_off()
    return fig


def money_per_day(money_frame: pd.DataFrame) -> Figure:
    """Silver line amounts and gold totals per landing day, with the difference beneath."""
    fig = _figure(11, 5, "Money per landing day")
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    days = money_frame["ingest_date"].astype(str)
    top.plot(days, money_frame["silver_amount"], marker="o", label="silver line amounts")
    top.plot(days, money_frame["gold_amount"], marker="x", linestyle="--", label="gold total_amount")
    _money_axis(top.yaxis)
    top.legend()
    _style(top, ylabel="amount")
    differences = money_frame["difference"]
    bottom.bar(days, differences, color=[BAD if d else GOOD for d in differences])
    bottom.axhline(0, color=INK, linewidth=0.8)
    _style(bottom, ylabel="gold - silver")
    bottom.tick_params(axis="x", rotation=45, labelsize=8)
    return fig
