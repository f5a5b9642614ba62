"""Tables: static (a pandas Styler) outside `ecomdwh lab` and in reports, an itables table for long or wide
frames in Lab's kernels; long labels are cut so charts keep their bars."""

from __future__ import annotations

import pandas as pd
import pytest

from ecomdwh import charts, kernel

LONG = pd.DataFrame({f"col_{i}": range(40) for i in range(12)})


def test_short_cuts_long_labels_with_an_ellipsis():
    assert charts.short("beauty") == "beauty"
    cut = charts.short("construction_tools_construction_and_more", 20)
    assert len(cut) == 20 and cut.endswith("…")


def test_tables_are_static_outside_lab(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(kernel.LAB_ENV, raising=False)
    assert not charts.interactive_tables()
    assert isinstance(charts.table(LONG), pd.io.formats.style.Styler)
    assert isinstance(charts.interactive(LONG), pd.io.formats.style.Styler)


def test_long_frames_are_interactive_in_labs_kernels(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(kernel.LAB_ENV, "1")
    monkeypatch.setattr(charts, "interactive_tables", lambda: True)
    monkeypatch.setattr(charts, "_itables_loaded", True)  # the library is in the page already
    html = charts.table(LONG)._repr_html_()
    assert "new ITable(" in html and "unpkg" not in html and "https://cdn" not in html
    assert isinstance(charts.table(LONG.head(5).iloc[:, :3]), pd.io.formats.style.Styler)  # small: static
    assert isinstance(charts.table(LONG, rows=10), pd.io.formats.style.Styler)  # cut to rows: static
