"""The reconciliation as a person reads it in the report: the verdict first, then what failed, in colour.

    from ecomdwh.reconcile import present
    display(present.verdict(result))          # heading, verdict, and the failed checks (layer, row, expected, found)
    display(present.check_table(result))      # every check, full text, ✓ passed / ✗ failed
    display(present.dbt_tests(result))        # the dbt tests of the last recorded build: counts, what failed

Plain HTML with inline styles: it renders the same in JupyterLab and in the exported report.
"""

from __future__ import annotations

from html import escape

import pandas as pd
from IPython.display import HTML

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
    what = []
    if failed:
        what.append(f"{failed} of {total} checks failed, {len(failures)} failure(s)")
    if result.dbt_tests is not None and not result.dbt_tests.passed:
        what.append(f"{len(result.dbt_tests.failed) or 'some'} dbt test(s) of the last build failed")
    return (
        f'<h1 style="color:{FAILED}">Reconciliation FAILED: {on}</h1>'
        f'<p style="background:{_FAILED_BG};color:{FAILED};padding:8px 12px;font-weight:600">'
        f"✗ {'; '.join(what)}: fix the layer or model named below, then rebuild and reconcile again.</p>"
        + (_table(failures, lambda row: _FAILED_BG) if failed else "")
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


def dbt_tests_html(result) -> str:
    """The dbt tests of the last build recorded in the run history: how many passed and failed, by status, and
    the names of the failed ones; a plain sentence when no build is recorded."""
    tests = result.dbt_tests
    if tests is None:
        return (
            "<p>No dbt build is recorded in this warehouse's run history (ops schema), so there are no dbt test "
            "results to show: <code>ecomdwh run</code> records each build's tests.</p>"
        )
    colour, background = (PASSED, _PASSED_BG) if tests.passed else (FAILED, _FAILED_BG)
    sign = "✓" if tests.passed else "✗"
    counts = pd.DataFrame(sorted(tests.counts.items()), columns=["status", "tests"])
    line = (
        f'<p style="background:{background};color:{colour};padding:6px 12px;font-weight:600">{sign} '
        f"{escape(tests.sentence())} (run date {escape(tests.run_date)})</p>"
    )
    failed = pd.DataFrame({"failed test": tests.failed})
    return line + _table(counts) + (_table(failed, lambda row: _FAILED_BG) if tests.failed else "")


def dbt_tests(result) -> HTML:
    return HTML(dbt_tests_html(result))
