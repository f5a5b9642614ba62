"""ecomdwh: the ecommerce warehouse workbench."""

__version__ = "0.1.0"
