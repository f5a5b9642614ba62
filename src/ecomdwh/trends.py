"""Quality trends over the recorded runs (the `ops` schema, see ecomdwh.run_history), for
notebooks/quality_trends.ipynb (`ecomdwh report trends`): what each run counted and checked, over time,
and what changed since the previous run.

    from ecomdwh import trends
    history = trends.load(target="local", last_runs=60)
    history.quarantine_rates(); history.changes().text()

Reads through a read-only connection: the local warehouse is held only while a query runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from ecomdwh import charts
from ecomdwh.run_history import METRICS, RUNS, SCHEMA, STEPS
from ecomdwh.settings import Settings, get_settings

LAYERS = {"bronze_rows": "bronze", "silver_rows": "silver", "warehouse_rows": "warehouse", "gold_rows": "gold"}


def _exists(con, table: str) -> bool:
    from ecomdwh.warehouse import read_sql

    found = read_sql(
        con,
        "select count(*) as n from information_schema.tables "
        f"where table_schema = '{SCHEMA}' and table_name = '{table}'",
    )
    return bool(int(found.iloc[0, 0]))


def load(settings: Settings | None = None, target: str | None = None, last_runs: int = 60) -> History:
    """The newest `last_runs` records of the target's warehouse (runs and scheduled reconciliations)."""
    from ecomdwh.warehouse import read_sql
    from ecomdwh.warehouse.connection import connect, resolve_target

    settings = settings or get_settings()
    target = resolve_target(settings, target)
    con = connect(settings, target, read_only=True)
    try:
        if not _exists(con, RUNS):
            return History(target)
        runs = read_sql(con, f"select * from {SCHEMA}.{RUNS} order by run_id desc limit {int(last_runs)}")
        if runs.empty:
            return History(target)
        runs = runs.sort_values("run_id", ignore_index=True)
        oldest = str(runs["run_id"].iloc[0]).replace("'", "''")
        steps = read_sql(con, f"select * from {SCHEMA}.{STEPS} where run_id >= '{oldest}' order by run_id, step_order")
        metrics = read_sql(con, f"select * from {SCHEMA}.{METRICS} where run_id >= '{oldest}'")
    finally:
        con.close()
    metrics["value"] = metrics["value"].astype(float)
    steps["seconds"] = steps["seconds"].astype(float)
    return History(target, runs, steps, metrics)


RUN_COLUMNS = ["run_id", "kind", "run_date", "env", "started_at", "status", "verdict", "seconds", "message"]


def _empty_frame(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


@dataclass
class Changes:
    """What changed between the newest record and the one before it."""

    latest: str | None
    previous: str | None
    rows: pd.DataFrame  # metric, entity, previous, latest, change (only what changed)
    revenue: pd.DataFrame  # day, previous, latest, change (only days that changed or are new)
    new_quarantine_reasons: pd.DataFrame  # entity, reason, rows (reasons no earlier run quarantined for)
    new_failures: list[str] = field(default_factory=list)  # failing checks and dbt tests the previous did not have
    fixed: list[str] = field(default_factory=list)  # failing before, passing now

    def text(self) -> str:
        if self.latest is None:
            return "No run is recorded yet, so there is nothing to compare."
        if self.previous is None:
            return f"Only one run is recorded ({self.latest}), so there is nothing to compare it with yet."
        parts = [f"Run {self.latest} against the previous record, {self.previous}:"]
        parts.append(f"- {len(self.rows)} row count(s) changed." if len(self.rows) else "- No row count changed.")
        parts.append(
            f"- Revenue changed on {len(self.revenue)} landing day(s)."
            if len(self.revenue)
            else "- Revenue per landing day is unchanged."
        )
        reasons = [f"{r.entity}: {r.reason}" for r in self.new_quarantine_reasons.itertuples()]
        parts.append(f"- New quarantine reasons: {', '.join(reasons)}." if reasons else "- No new quarantine reason.")
        parts.append(
            f"- Newly failing: {'; '.join(self.new_failures)}." if self.new_failures else "- Nothing newly failing."
        )
        parts.append(f"- Fixed since: {'; '.join(self.fixed)}." if self.fixed else "- Nothing fixed since.")
        return "\n".join(parts)

    def summary(self) -> dict:
        return {
            "latest_run": self.latest,
            "previous_run": self.previous,
            "rows": _records(self.rows),
            "revenue": _records(self.revenue),
            "new_quarantine_reasons": _records(self.new_quarantine_reasons),
            "new_failures": self.new_failures,
            "fixed": self.fixed,
        }


def _records(frame: pd.DataFrame) -> list[dict]:
    return json.loads(frame.to_json(orient="records"))


@dataclass
class History:
    target: str
    runs: pd.DataFrame = field(default_factory=lambda: _empty_frame(RUN_COLUMNS))
    steps: pd.DataFrame = field(default_factory=lambda: _empty_frame(["run_id", "step_order", "step", "seconds"]))
    metrics: pd.DataFrame = field(
        default_factory=lambda: _empty_frame(["run_id", "metric", "entity", "detail", "value"])
    )

    @property
    def count(self) -> int:
        return len(self.runs)

    def headline(self) -> str:
        if self.count == 0:
            return (
                f"No run is recorded in the `{self.target}` warehouse's `{SCHEMA}` schema yet: "
                "`ecomdwh run` or `ecomdwh report reconcile` records one."
            )
        last = self.runs.iloc[-1]
        newest = f"the newest, {last['run_id']} ({last['kind']} for {last['run_date']}), is {last['status']}"
        if self.count == 1:
            return (
                f"Only one run is recorded on `{self.target}`: {newest}. Trends need two runs or more; "
                "the charts show this one run."
            )
        return f"{self.count} runs recorded on `{self.target}`; {newest}."

    def runs_table(self) -> pd.DataFrame:
        return self.runs[[c for c in RUN_COLUMNS if c in self.runs]].set_index("run_id")

    def labels(self) -> list[str]:
        """A short label per run for the charts' x axis: its start (UTC) and kind."""
        return [
            f"{pd.Timestamp(r.started_at):%m-%d %H:%M:%S}" + ("" if r.kind == "run" else f" {r.kind}")
            for r in self.runs.itertuples()
        ]

    def _pivot(self, metric: str, detail: str | None = None) -> pd.DataFrame:
        rows = self.metrics[self.metrics["metric"] == metric]
        if detail is not None:
            rows = rows[rows["detail"] == detail]
        table = rows.pivot_table(index="run_id", columns="entity", values="value", aggfunc="sum")
        return table.reindex(self.runs["run_id"])

    def _totals(self, metric: str, detail: str | None = None) -> pd.Series:
        table = self._pivot(metric, detail)
        return table.sum(axis=1, min_count=1) if not table.empty else pd.Series(index=table.index, dtype=float)

    def quarantine_rates(self) -> pd.DataFrame:
        """Per run: the share of rows quarantined in the whole lake, and in the run's own Glue batch."""
        lake = self._totals("layer.rows_quarantined") / self._totals("layer.rows_read").where(lambda s: s > 0)
        read = self._totals("glue.rows_read")
        batch = self._totals("glue.rows_quarantined", "total") / read.where(read > 0)
        return pd.DataFrame({"lake": lake, "this run's batch": batch})

    def unknown_shares(self) -> pd.DataFrame:
        """Per run and dimension: the share of fact rows on the unknown member."""
        return self._pivot("unknown_member_share")

    def layer_rows(self) -> pd.DataFrame:
        """Per run: rows in bronze, silver (committed parquet), the warehouse's silver and the gold fact."""
        return pd.DataFrame({label: self._totals(f"layer.{column}") for column, label in LAYERS.items()})

    def freshness(self) -> pd.DataFrame:
        """Per run and entity: days between the newest landing day in the warehouse and the run date."""
        return self._pivot("freshness_lag_days")

    def step_seconds(self) -> pd.DataFrame:
        """Per run and step: seconds taken."""
        if self.steps.empty:
            return pd.DataFrame(index=self.runs["run_id"])
        table = self.steps.pivot_table(index="run_id", columns="step", values="seconds", aggfunc="sum", sort=False)
        return table.reindex(self.runs["run_id"])

    def _failures(self, run_id: str) -> set[str]:
        rows = self.metrics[(self.metrics["run_id"] == run_id) & (self.metrics["metric"] == "check_failed")]
        return {f"{r.entity}: {r.detail}" for r in rows.itertuples()}

    def changes(self) -> Changes:
        empty_rows = _empty_frame(["metric", "entity", "previous", "latest", "change"])
        empty_days = _empty_frame(["day", "previous", "latest", "change"])
        empty_reasons = _empty_frame(["entity", "reason", "rows"])
        if self.count < 2:
            latest = self.runs["run_id"].iloc[-1] if self.count else None
            return Changes(latest, None, empty_rows, empty_days, empty_reasons)
        previous, latest = self.runs["run_id"].iloc[-2], self.runs["run_id"].iloc[-1]
        m = self.metrics

        def values(run_id: str, mask: pd.Series, keys: list[str]) -> pd.Series:
            return m[(m["run_id"] == run_id) & mask].groupby(keys)["value"].sum()

        counted = m["metric"].str.startswith(("layer.", "glue.")) & m["detail"].isin(["", "total"])
        rows = pd.DataFrame(
            {
                "previous": values(previous, counted, ["metric", "entity"]),
                "latest": values(latest, counted, ["metric", "entity"]),
            }
        )
        rows["change"] = rows["latest"].fillna(0) - rows["previous"].fillna(0)
        rows = rows[rows["change"] != 0].reset_index() if not rows.empty else empty_rows

        revenue_mask = m["metric"] == "revenue"
        days = pd.DataFrame(
            {"previous": values(previous, revenue_mask, ["detail"]), "latest": values(latest, revenue_mask, ["detail"])}
        )
        days["change"] = (days["latest"].fillna(0) - days["previous"].fillna(0)).round(2)
        changed_days = days["change"].ne(0) | days["previous"].isna() | days["latest"].isna()
        days = days[changed_days].rename_axis("day").reset_index() if not days.empty else empty_days

        reasons = m[(m["metric"] == "glue.rows_quarantined") & ~m["detail"].isin(["", "total"]) & (m["value"] > 0)]
        earlier = set(zip(*(reasons.loc[reasons["run_id"] < latest, c] for c in ("entity", "detail")), strict=True))
        now = reasons[reasons["run_id"] == latest]
        unseen = [(e, d) not in earlier for e, d in zip(now["entity"], now["detail"], strict=True)]
        new = now[pd.Series(unseen, index=now.index, dtype=bool)]
        new = new.rename(columns={"detail": "reason", "value": "rows"})[["entity", "reason", "rows"]]

        before, after = self._failures(previous), self._failures(latest)
        return Changes(
            latest,
            previous,
            rows,
            days,
            new.reset_index(drop=True),
            sorted(after - before),
            sorted(before - after),
        )

    def summary(self) -> dict:
        last = self.runs.iloc[-1] if self.count else None
        changes = self.changes()
        return {
            "target": self.target,
            "runs": self.count,
            "headline": self.headline(),
            "latest": None if last is None else {k: str(last[k]) for k in ("run_id", "kind", "run_date", "status")},
            "changes": changes.summary(),
            "changes_text": changes.text(),
        }


def write_summary(report_dir: str | Path | None, history: History) -> Path | None:
    """summary.json in the report folder; None (and nothing written) outside a report run."""
    if not report_dir:
        return None
    from ecomdwh.reports import SUMMARY

    path = Path(report_dir) / SUMMARY
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(history.summary(), indent=2, default=str) + "\n", encoding="utf-8")
    return path


# --- charts ------------------------------------------------------------------------------------------------------

NO_RUNS = "no run recorded yet"


def _lines(history: History, frame: pd.DataFrame, title: str, ylabel: str, percent: bool = False) -> Figure:
    fig = charts._figure(11, 3.8, title)
    if history.count == 0 or frame.dropna(how="all").empty:
        return charts._empty(fig, NO_RUNS if history.count == 0 else "nothing measured in these runs")
    ax = fig.add_subplot()
    x = range(history.count)
    for i, column in enumerate(frame.columns):
        series = frame[column].to_numpy(dtype=float)
        ax.plot(x, series * (100 if percent else 1), marker="o", color=charts.PALETTE[i % 10], label=str(column))
    ax.set_xticks(list(x), history.labels(), rotation=30, ha="right", fontsize=8)
    if percent:
        from matplotlib.ticker import PercentFormatter

        ax.yaxis.set_major_formatter(PercentFormatter(decimals=1))
    ax.set_ylim(bottom=0)
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.02), ncols=min(len(frame.columns), 6), frameon=False, fontsize=8)
    ax.set_xlim(-0.5, history.count - 0.5)
    charts._style(ax, ylabel=ylabel)
    return fig


def quarantine_chart(history: History) -> Figure:
    return _lines(history, history.quarantine_rates(), "Quarantine rate", "rows quarantined", percent=True)


def unknown_share_chart(history: History) -> Figure:
    return _lines(history, history.unknown_shares(), "Fact rows on an unknown member", "share", percent=True)


def layer_rows_chart(history: History) -> Figure:
    fig = _lines(history, history.layer_rows(), "Rows per layer", "rows")
    for ax in fig.axes:
        charts._money_axis(ax.yaxis)  # short labels: 12.3k
    return fig


def freshness_chart(history: History) -> Figure:
    return _lines(history, history.freshness(), "Freshness lag behind the run date", "days")


def step_seconds_chart(history: History) -> Figure:
    """Stacked seconds per step, one bar per run."""
    fig = charts._figure(11, 3.8, "Seconds per step")
    table = history.step_seconds()
    if history.count == 0 or table.empty:
        return charts._empty(fig, NO_RUNS)
    ax = fig.add_subplot()
    x = list(range(history.count))
    bottom = pd.Series(0.0, index=table.index)
    for i, step in enumerate(table.columns):
        values = table[step].fillna(0.0)
        ax.bar(x, values, bottom=bottom, color=charts.PALETTE[i % 10], label=str(step))
        bottom += values
    ax.set_xticks(x, history.labels(), rotation=30, ha="right", fontsize=8)
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.02), ncols=min(len(table.columns), 6), frameon=False, fontsize=8)
    charts._style(ax, ylabel="seconds")
    return fig
