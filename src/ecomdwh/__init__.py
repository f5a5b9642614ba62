"""ecomdwh: the ecommerce warehouse workbench."""

__version__ = "0.1.0"


def load_ipython_extension(ipython) -> None:
    """`%load_ext ecomdwh` in a notebook: see ecomdwh.notebook."""
    from ecomdwh import notebook

    notebook.load_ipython_extension(ipython)
