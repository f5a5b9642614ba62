"""The one place that reads the environment.

Every other module takes a `Settings` (usually `get_settings()`); nothing else
looks at os.environ. Defaults describe the offline, on-laptop setup: the
LocalStack emulator on 127.0.0.1:4566 with test/test credentials and the dbt
target `local` (DuckDB).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlparse

EMULATOR_BACKENDS = ("localstack", "moto")
TARGETS = ("local", "pg", "redshift")


def _project_root() -> Path:
    # src/ecomdwh/settings.py -> the repository root
    return Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Settings:
    project: str = "ecomdwh"
    env: str = "dev"
    region: str = "us-east-1"
    # None means real AWS (no emulator): boto3's own credential chain applies.
    endpoint_url: str | None = "http://127.0.0.1:4566"
    emulator_backend: str = "localstack"
    target: str = "local"
    root: Path = field(default_factory=_project_root)
    # Where pid files, emulator data and logs live; gitignored under the root.
    state_root: Path | None = None
    debug: bool = False  # show tracebacks instead of one-sentence errors
    java_home: str | None = None  # JAVA_HOME, where Spark's launcher looks for java first
    glue_parallelism: int = 3  # entity jobs run side by side in the local Spark application
    spark_master: str = "local[2]"  # or a standalone cluster's spark://127.0.0.1:7077
    # ECOMDWH_SPARK_JAVA_OPTIONS: more options for the local Spark driver's JVM (heap, JIT, GC), after ours.
    spark_java_options: str = ""
    # Set by a command whose own Spark reads little new data (glue_local.runtime.spark.for_batch), not by users.
    spark_small_batch: bool = False
    duckdb_path: Path | None = None  # default: <root>/warehouse/ecomdwh.duckdb
    reports_root: Path | None = None  # default: <root>/reports
    # ECOMDWH_REPORTS_URI, s3://<bucket>/<prefix>: each finished report folder is copied there (the pipeline
    # containers' reports would otherwise end with the task). None: reports stay in reports_dir only.
    reports_uri: str | None = None
    # dbt's own DBT_TARGET_PATH and DBT_LOG_PATH, where dbt writes its artifacts and log (default dbt/target, dbt/logs).
    dbt_target_root: Path | None = None
    dbt_log_root: Path | None = None
    chromium: str | None = None  # ECOMDWH_CHROMIUM: a browser binary other than the machine's chromium
    in_lab: bool = False  # ECOMDWH_LAB=1: a kernel started by `ecomdwh lab`, whose output feeds a browser
    # Jupyter's own JUPYTER_TOKEN and JUPYTER_CONFIG_PATH, kept when the user set them.
    jupyter_token: str | None = None
    jupyter_config_path: str | None = None
    # The server targets; passwords only ever come from the environment.
    pg: dict[str, str] = field(default_factory=dict)
    redshift: dict[str, str] = field(default_factory=dict)

    # Bucket names are exactly the ones terraform/modules/data_lake creates.
    @property
    def raw_bucket(self) -> str:
        return f"{self.project}-{self.env}-raw"

    @property
    def staging_bucket(self) -> str:
        return f"{self.project}-{self.env}-staging"

    @property
    def logs_bucket(self) -> str:
        return f"{self.project}-{self.env}-logs"

    @property
    def buckets(self) -> tuple[str, str, str]:
        return (self.raw_bucket, self.staging_bucket, self.logs_bucket)

    @property
    def uses_emulator(self) -> bool:
        return self.endpoint_url is not None

    @property
    def emulator_host(self) -> str:
        return urlparse(self.endpoint_url or "").hostname or "127.0.0.1"

    @property
    def emulator_port(self) -> int:
        return urlparse(self.endpoint_url or "").port or 4566

    # Local emulators take any key; never real credentials.
    emulator_credentials = ("test", "test")

    # Local state, all gitignored.
    @property
    def cache_dir(self) -> Path:
        return self.root / ".cache"

    @property
    def state_dir(self) -> Path:
        return self.state_root or self.root / ".state"

    @property
    def spark_log_path(self) -> Path:
        """Where the JVM's own output goes (log4j, Java warnings, Python workers' stderr): never the terminal."""
        return self.state_dir / "logs" / "spark.log"

    @property
    def jars_dir(self) -> Path:
        return self.cache_dir / "jars"

    @property
    def localstack_python(self) -> Path:
        return self.cache_dir / "localstack-venv" / "bin" / "python"

    @property
    def warehouse_path(self) -> Path:
        return self.duckdb_path or self.root / "warehouse" / "ecomdwh.duckdb"

    @property
    def reports_dir(self) -> Path:
        return self.reports_root or self.root / "reports"

    @property
    def dbt_dir(self) -> Path:
        return self.root / "dbt"

    @property
    def dbt_target_path(self) -> Path:
        return self.dbt_target_root or self.dbt_dir / "target"

    @property
    def dbt_log_path(self) -> Path:
        return self.dbt_log_root or self.dbt_dir / "logs"

    def dbt_env(self) -> dict[str, str]:
        """The variables dbt/profiles.yml reads with env_var(), for a dbt process."""
        env = {"ECOMDWH_TARGET": self.target, "ECOMDWH_DUCKDB_PATH": str(self.warehouse_path)}
        env |= {f"ECOMDWH_PG_{k.upper()}": v for k, v in self.pg.items()}
        env |= {f"ECOMDWH_REDSHIFT_{k.upper()}": v for k, v in self.redshift.items()}
        return env

    def child_env(self) -> dict[str, str]:
        """These settings as the variables load_settings() reads: what a child process (a notebook's
        kernel) needs to see the same buckets, warehouse and target, overrides included."""
        env = self.dbt_env() | {
            "ECOMDWH_PROJECT": self.project,
            "ECOMDWH_ENV": self.env,
            "ECOMDWH_EMULATOR": self.emulator_backend,
            "ECOMDWH_ROOT": str(self.root),
            "ECOMDWH_STATE_DIR": str(self.state_dir),
            "ECOMDWH_REPORTS_DIR": str(self.reports_dir),
            "AWS_DEFAULT_REGION": self.region,
        }
        env |= {"DBT_TARGET_PATH": str(self.dbt_target_root)} if self.dbt_target_root else {}
        env |= {"DBT_LOG_PATH": str(self.dbt_log_root)} if self.dbt_log_root else {}
        if self.endpoint_url:
            return env | {"AWS_ENDPOINT_URL": self.endpoint_url}
        return env | {"ECOMDWH_AWS": "1"}

    @property
    def sample_dir(self) -> Path:
        return self.root / "data_samples" / "bronze"

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **changes)


def _endpoint_from_env(env: dict[str, str]) -> str | None:
    if env.get("ECOMDWH_AWS", "").lower() in ("1", "true", "yes"):
        return env.get("AWS_ENDPOINT_URL") or None
    return env.get("AWS_ENDPOINT_URL") or Settings.endpoint_url


_PG_DEFAULTS = {"host": "127.0.0.1", "port": "5432", "user": "ecomdwh", "password": "", "dbname": "ecomdwh"}
_REDSHIFT_KEYS = ("host", "port", "user", "password", "dbname", "method", "iam_role", "cluster_id", "region")


def _prefixed(env: dict[str, str], prefix: str, keys, defaults: dict[str, str] | None = None) -> dict[str, str]:
    values = dict(defaults or {})
    values |= {k: env[f"{prefix}{k.upper()}"] for k in keys if env.get(f"{prefix}{k.upper()}")}
    return values


def _positive_int(env: dict[str, str], name: str, default: int) -> int:
    text = env.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, not {text!r}")
    return int(text)


def _s3_uri(env: dict[str, str], name: str) -> str | None:
    text = env.get(name, "").strip()
    if not text:
        return None
    parsed = urlparse(text)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ValueError(f"{name} must be an S3 location like s3://<bucket>/reports, not {text!r}")
    return text.rstrip("/")


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    defaults = Settings()
    backend = env.get("ECOMDWH_EMULATOR", defaults.emulator_backend)
    if backend not in EMULATOR_BACKENDS:
        raise ValueError(f"ECOMDWH_EMULATOR must be one of {', '.join(EMULATOR_BACKENDS)}, not {backend!r}")
    target = env.get("ECOMDWH_TARGET", defaults.target)
    if target not in TARGETS:
        raise ValueError(f"ECOMDWH_TARGET must be one of {', '.join(TARGETS)}, not {target!r}")
    return Settings(
        project=env.get("ECOMDWH_PROJECT", defaults.project),
        env=env.get("ECOMDWH_ENV", defaults.env),
        region=env.get("AWS_DEFAULT_REGION", defaults.region),
        endpoint_url=_endpoint_from_env(env),
        emulator_backend=backend,
        target=target,
        root=Path(env["ECOMDWH_ROOT"]) if env.get("ECOMDWH_ROOT") else defaults.root,
        state_root=Path(env["ECOMDWH_STATE_DIR"]) if env.get("ECOMDWH_STATE_DIR") else None,
        debug=env.get("ECOMDWH_DEBUG", "").lower() in ("1", "true", "yes"),
        java_home=env.get("JAVA_HOME") or None,
        glue_parallelism=_positive_int(env, "ECOMDWH_GLUE_PARALLELISM", defaults.glue_parallelism),
        spark_master=env.get("ECOMDWH_SPARK_MASTER") or defaults.spark_master,
        spark_java_options=env.get("ECOMDWH_SPARK_JAVA_OPTIONS", "").strip(),
        duckdb_path=Path(env["ECOMDWH_DUCKDB_PATH"]) if env.get("ECOMDWH_DUCKDB_PATH") else None,
        reports_root=Path(env["ECOMDWH_REPORTS_DIR"]) if env.get("ECOMDWH_REPORTS_DIR") else None,
        reports_uri=_s3_uri(env, "ECOMDWH_REPORTS_URI"),
        dbt_target_root=Path(env["DBT_TARGET_PATH"]) if env.get("DBT_TARGET_PATH") else None,
        dbt_log_root=Path(env["DBT_LOG_PATH"]) if env.get("DBT_LOG_PATH") else None,
        chromium=env.get("ECOMDWH_CHROMIUM") or None,
        in_lab=env.get("ECOMDWH_LAB") == "1",
        jupyter_token=env.get("JUPYTER_TOKEN") or None,
        jupyter_config_path=env.get("JUPYTER_CONFIG_PATH") or None,
        pg=_prefixed(env, "ECOMDWH_PG_", _PG_DEFAULTS, _PG_DEFAULTS),
        redshift=_prefixed(env, "ECOMDWH_REDSHIFT_", _REDSHIFT_KEYS),
    )


# What load_settings reads: a change to any of these (`%env ECOMDWH_TARGET=pg` in a notebook) is seen.
_READ_PREFIXES = (
    "ECOMDWH_",
    "AWS_",
    "JAVA_HOME",
    "DBT_TARGET_PATH",
    "DBT_LOG_PATH",
    "JUPYTER_TOKEN",
    "JUPYTER_CONFIG_PATH",
)


def get_settings() -> Settings:
    """The settings of the environment as it is now (parsed once per distinct environment)."""
    return _settings_for(tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith(_READ_PREFIXES))))


@lru_cache(maxsize=8)
def _settings_for(environment: tuple[tuple[str, str], ...]) -> Settings:
    return load_settings(dict(environment))


# Tests and callers that changed the environment by hand used to clear the cache; it still works.
get_settings.cache_clear = _settings_for.cache_clear  # type: ignore[attr-defined]
