"""Developer tooling: the local S3 emulator, tool venvs and jars, a throwaway PostgreSQL, JupyterLab, headless
Chromium, `ecomdwh bench` and the dbt launcher. The data path (contract, landing, lake, warehouse, reconcile) does
not belong here."""
