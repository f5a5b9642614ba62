"""dbt's command line, started without jsonschema's optional IRI format checker.

jsonschema imports `rfc3987-syntax` when it is installed (JupyterLab's event schemas
install it) and builds its grammar at import: 1.6 s of every dbt start here. dbt never
validates IRIs, so the checker is left out and dbt runs as its own `dbt` script would.
"""

import sys

sys.modules["rfc3987_syntax"] = None  # makes `import rfc3987_syntax` fail: jsonschema skips the checker

from dbt.cli.main import cli  # noqa: E402

if __name__ == "__main__":
    sys.exit(cli())
