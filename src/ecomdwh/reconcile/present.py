"""The reconciliation as a person reads it in the report: the verdict first, then what failed, in colour.

    from ecomdwh.reconcile import present
    display(present.verdict(result))          # heading, verdict, and the failed checks (layer, row, expected, found)
    display(present.check_table(result))      # every check, full text, ✓ passed / ✗ failed
    present.domain_table(result.layers.domains)   # each enum column's values, a readable list

Plain HTML with inline styles: it renders the same in JupyterLab and in the exported report.
"""

from __future__ import annotations

from html import escape

import pandas as pd
from IPython.display import HTML

from ecomdwh.contract import DOMAINS
from ecomdwh.reconcile.measure import DOMAIN_COLUMNS

PASSED, FAILED = "#1a7f37", "#cf222e"  # green, red
_PASSED_BG, _FAILED_BG = "#dafbe1", "#ffebe9"
_CELL = "padding:4px 10px;border-bottom:1px solid #d0d7de;text-align:left;vertical-align:top;white-space:normal"


def failed_checks(result) -> pd.DataFrame:
    """One row per failure: layer, the entity or day it failed for, the check, what it expected and found."""
    rows = [
        {
            "layer": f.layer,
            "entity or day": f.row,
            "check": f.check,
            "expected": f.expected or "-",
            "found": f.found or f.detail,
        }
        for f in result.failures
    ]
    return pd.DataFrame(rows, columns=["layer", "entity or day", "check", "expected", "found"])


def _table(frame: pd.DataFrame, row_colour=None) -> str:
    head = "".join(f'<th style="{_CELL};font-weight:600">{escape(str(c))}</th>' for c in frame.columns)
    body = []
    for _, row in frame.iterrows():
        colour = row_colour(row) if row_colour else None
        style = f' style="background:{colour}"' if colour else ""
        cells = "".join(f'<td style="{_CELL}">{escape(str(v))}</td>' for v in row)
        body.append(f"<tr{style}>{cells}</tr>")
    return (
        '<table class="ecomdwh-table" style="border-collapse:collapse;margin:6px 0 14px 0;table-layout:auto">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def verdict_html(result) -> str:
    """The report's opening: a heading with the verdict, a coloured line, and the failed checks as a table."""
    total, failed = len(result.checks), sum(not c.success for c in result.checks)
    on = f"{escape(str(result.run_date))} on {escape(str(result.target))}"
    if result.passed:
        return (
            f'<h1 style="color:{PASSED}">Reconciliation passed: {on}</h1>'
            f'<p style="background:{_PASSED_BG};color:{PASSED};padding:8px 12px;font-weight:600">'
            f"✓ All {total} checks passed: every layer reconciles, bronze to gold.</p>"
        )
    failures = failed_checks(result)
    return (
        f'<h1 style="color:{FAILED}">Reconciliation FAILED: {on}</h1>'
        f'<p style="background:{_FAILED_BG};color:{FAILED};padding:8px 12px;font-weight:600">'
        f"✗ {failed} of {total} checks failed, {len(failures)} failure(s): fix the layer named below, then rebuild "
        "and reconcile again.</p>" + _table(failures, lambda row: _FAILED_BG)
    )


def full(frame: pd.DataFrame) -> HTML:
    """A frame as a table with every cell's text whole (pandas' own display cuts long text)."""
    return HTML(_table(frame))


def verdict(result) -> HTML:
    return HTML(verdict_html(result))


def check_rows(result) -> pd.DataFrame:
    """Every check: layer, suite, the check in full, ✓ passed or ✗ failed, and what it failed for."""
    return pd.DataFrame(
        [
            {
                "layer": c.layer,
                "suite": c.suite,
                "check": c.check,
                "result": "✓ passed" if c.success else "✗ failed",
                "failed for": ", ".join(f.row for f in c.failures) or "-",
            }
            for c in result.checks
        ],
        columns=["layer", "suite", "check", "result", "failed for"],
    )


def check_table(result) -> HTML:
    """The check table with full text (no column cut short), failed rows red, passed rows green."""
    rows = check_rows(result)
    return HTML(_table(rows, lambda row: _PASSED_BG if row["result"].startswith("✓") else _FAILED_BG))


def domain_table(domains: pd.DataFrame) -> pd.DataFrame:
    """Each enum column once: its entity, column and contract domain, the values found with their row counts,
    and any value outside the domain (the measured frame holds one column per domain, mostly empty)."""
    rows = []
    for (entity, column), part in domains.groupby(["entity", "column"], sort=False):
        domain = DOMAIN_COLUMNS.get((entity, column))
        if domain is None or domain not in part or part.empty:
            rows.append({"entity": entity, "column": column, "values found (rows)": "-", "outside the domain": "-"})
            continue
        found = part[[domain, "row_count"]].dropna(subset=[domain]).sort_values("row_count", ascending=False)
        values = ", ".join(f"{v} ({int(n):,})" for v, n in found.itertuples(index=False))
        outside = [str(v) for v in found[domain] if v not in DOMAINS[domain]]
        nulls = part.loc[part[domain].isna(), "row_count"].sum()
        if nulls:
            values += f", null ({int(nulls):,})"
        rows.append(
            {
                "entity": entity,
                "column": column,
                "values found (rows)": values,
                "outside the domain": ", ".join(outside) or "none",
            }
        )
    return pd.DataFrame(rows, columns=["entity", "column", "values found (rows)", "outside the domain"])
