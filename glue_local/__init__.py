"""Glue 5.0 jobs and the local runtime that runs them unchanged."""
