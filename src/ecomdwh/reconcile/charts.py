"""Charts of the reconciliation report: the row flow per entity and money per landing day."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.ticker import MaxNLocator

STAGES = [
    ("bronze_rows", "bronze"),
    ("rows_read", "read by Glue"),
    ("rows_written", "written"),
    ("rows_quarantined", "quarantined"),
    ("rows_deduplicated", "deduplicated"),
    ("silver_rows", "silver parquet"),
    ("warehouse_rows", "warehouse silver"),
    ("gold_rows", "gold fact"),
]


def layer_flow(counts: pd.DataFrame):
    """One small chart per entity: the rows at each stage, bars that should line up where they must."""
    entities = list(counts["entity"])
    cols = 3
    rows = -(-len(entities) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 3.2 * rows), squeeze=False)
    for ax, (_, row) in zip(axes.flat, counts.iterrows(), strict=False):
        stages = [(label, row[col]) for col, label in STAGES if pd.notna(row[col])]
        labels, values = zip(*stages, strict=True)
        colors = ["#c44e52" if label == "quarantined" else "#8c8c8c" if label == "deduplicated" else "#4c72b0"
                  for label in labels]  # fmt: skip
        ax.barh(labels, values, color=colors)
        ax.invert_yaxis()
        ax.set_title(row["entity"])
        ax.tick_params(axis="y", labelsize=8)
        for y, value in enumerate(values):
            ax.annotate(f"{int(value):,}", (value, y), xytext=(3, 0), textcoords="offset points", va="center", size=7)
        ax.set_xlim(0, max(values) * 1.25 or 1)
        ax.xaxis.set_major_locator(MaxNLocator(4))
        ax.xaxis.set_major_formatter(lambda v, _: f"{v:,.0f}")
    for ax in list(axes.flat)[len(entities) :]:
        ax.axis("off")
    fig.suptitle("Rows per layer and entity")
    fig.tight_layout()
    return fig


def money_per_day(money: pd.DataFrame):
    """Silver line amounts and gold totals per landing day, with the difference beneath."""
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 5), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    days = money["ingest_date"].astype(str)
    top.plot(days, money["silver_amount"], marker="o", label="silver line amounts")
    top.plot(days, money["gold_amount"], marker="x", linestyle="--", label="gold total_amount")
    top.set_ylabel("amount")
    top.yaxis.set_major_formatter(lambda v, _: f"{v:,.0f}")
    top.legend()
    top.set_title("Money per landing day")
    bottom.bar(days, money["difference"], color=["#c44e52" if d else "#55a868" for d in money["difference"]])
    bottom.axhline(0, color="black", linewidth=0.8)
    bottom.set_ylabel("gold - silver")
    bottom.tick_params(axis="x", rotation=45, labelsize=8)
    fig.tight_layout()
    return fig
