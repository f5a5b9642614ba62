"""dbt's `{{ ref('model') }}` and `{{ source('shop', 'orders') }}` as the warehouse's relation names.

SQL written once with dbt's references runs outside dbt too (`%%sql` cells in notebooks):

    relations.ref("fact_order_items")          # 'gold.fact_order_items'
    relations.source("shop", "orders")         # 'silver.orders'
    relations.render("select * from {{ ref('dim_date') }}")   # 'select * from gold.dim_date'

Names come from the dbt project's files, as dbt names them: a model's schema is the `+schema` of its
folder in dbt_project.yml (or its own `config(schema=...)`), a seed's the seeds' `+schema`, a source's
its `schema:` in the models' YAML. The project's generate_schema_name uses that schema as it is, on
every target, so the names are the same on DuckDB, PostgreSQL and Redshift.

Sources are named by source system (shop, payments, logistics), all in the warehouse schema `silver`. The old
single source `silver` is gone: asking for it raises an error that names the source holding the table now.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from ecomdwh.errors import UserError

_REF = re.compile(r"\{\{\s*ref\(\s*['\"](\w+)['\"]\s*\)\s*\}\}")
_SOURCE = re.compile(r"\{\{\s*source\(\s*['\"](\w+)['\"]\s*,\s*['\"](\w+)['\"]\s*\)\s*\}\}")
_JINJA = re.compile(r"\{\{|\{%")
_CONFIG = re.compile(r"config\((?P<args>[^)]*)\)", re.S)


def ref(name: str, dbt_dir: Path | None = None) -> str:
    """The relation of a model or seed: `schema.name`, as dbt builds it."""
    dbt_dir = dbt_dir or _default_dbt_dir()
    project = _project(dbt_dir)
    for path in sorted((dbt_dir / "models").rglob(f"{name}.sql")):
        folders = path.relative_to(dbt_dir / "models").parts[:-1]
        config = _model_config(path.read_text(encoding="utf-8"))
        schema = config.get("schema") or _folder_schema(project.get("models", {}), folders)
        return f"{schema}.{config.get('alias', name)}"
    if list((dbt_dir / "seeds").rglob(f"{name}.csv")):
        return f"{_folder_schema(project.get('seeds', {}), ())}.{name}"
    raise UserError(f"There is no model or seed named {name!r} in {dbt_dir}.")


def source(source_name: str, table: str, dbt_dir: Path | None = None) -> str:
    """The relation of a dbt source's table: `schema.table` (the source's schema defaults to its name)."""
    import yaml

    dbt_dir = dbt_dir or _default_dbt_dir()
    in_schema: list[str] = []
    for path in sorted((dbt_dir / "models").rglob("*.yml")):
        for entry in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("sources") or []:
            schema = entry.get("schema") or entry.get("name")
            for item in entry.get("tables") or []:
                if item.get("name") != table:
                    continue
                if entry.get("name") == source_name:
                    return f"{schema}.{item.get('identifier') or table}"
                if schema == source_name:
                    in_schema.append(f"source('{entry.get('name')}', '{table}')")
    if in_schema:
        # A source named after its schema (the old `silver`): say which source now holds the table.
        raise UserError(
            f"There is no source named {source_name!r}: the table {source_name}.{table} is {' or '.join(in_schema)}."
        )
    raise UserError(f"There is no source table {source_name}.{table} in {dbt_dir / 'models'}.")


def render(sql: str, ref: Callable[[str], str] = ref, source: Callable[[str, str], str] = source) -> str:
    """`sql` with every `{{ ref('x') }}` and `{{ source('s', 't') }}` replaced by `ref(x)` and `source(s, t)`
    (by default the dbt project's relation names); any other Jinja is refused (compile it with dbt)."""
    rendered = _SOURCE.sub(lambda m: source(m.group(1), m.group(2)), _REF.sub(lambda m: ref(m.group(1)), sql))
    if _JINJA.search(rendered):
        raise ValueError(
            "Only {{ ref('model') }} and {{ source('name', 'table') }} are rendered here; compile other Jinja with dbt."
        )
    return rendered


def _default_dbt_dir() -> Path:
    from ecomdwh.settings import get_settings

    return get_settings().dbt_dir


def _project(dbt_dir: Path) -> dict:
    import yaml

    return yaml.safe_load((dbt_dir / "dbt_project.yml").read_text(encoding="utf-8"))


def _folder_schema(config: dict, folders: tuple[str, ...]) -> str:
    """The `+schema` that applies to a folder: the deepest one set on its path (dbt's inheritance)."""
    node = config.get("ecomdwh", {})
    schema = node.get("+schema") or _target_schema()
    for folder in folders:
        node = node.get(folder) or {}
        schema = node.get("+schema", schema)
    return schema


def _target_schema() -> str:
    """The profile's schema of the current target, where dbt puts what sets no schema of its own."""
    import yaml

    from ecomdwh.settings import get_settings

    settings = get_settings()
    profiles = yaml.safe_load((settings.dbt_dir / "profiles.yml").read_text(encoding="utf-8"))
    return profiles["ecomdwh"]["outputs"][settings.target]["schema"]


def _model_config(text: str) -> dict[str, str]:
    """`schema` and `alias` set in a model's own `{{ config(...) }}`."""
    found: dict[str, str] = {}
    for match in _CONFIG.finditer(text):
        for key in ("schema", "alias"):
            value = re.search(rf"\b{key}\s*=\s*['\"](\w+)['\"]", match.group("args"))
            if value:
                found[key] = value.group(1)
    return found
