"""The warehouse side: connections per dbt target, and the silver load.

from ecomdwh import warehouse
con = warehouse.connect()
"""

from ecomdwh.warehouse.connection import connect, read_sql

__all__ = ["connect", "read_sql"]
