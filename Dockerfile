# syntax=docker/dockerfile:1
# The pipeline image: what the Step Functions' ECS tasks run (ecomdwh load | dbt | report ...).
# Build: `make image`; push and deploy: docs/deployment.md, "The pipeline image".
#
# Only the project's own dependencies are installed, not the `local` extra (pyspark and the Glue library,
# moto, JupyterLab): the Glue scripts run on AWS Glue, never in this image.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
WORKDIR /build
COPY requirements/image.txt ./requirements.txt
COPY pyproject.toml README.md ./
COPY src ./src
# Every package, dependencies of dependencies included, is pinned in requirements/image.txt (`make image-lock`)
# and a wheel: no resolver, no compiler, the same image from the same commit; pip check proves the set whole.
# Bytecode is compiled here, once, since the running container's root filesystem is read-only.
RUN /opt/venv/bin/pip install --no-compile --no-deps -r requirements.txt \
    && /opt/venv/bin/pip install --no-compile --no-deps . \
    && /opt/venv/bin/pip check \
    && /opt/venv/bin/python -m compileall -q /opt/venv/lib

FROM ${PYTHON_IMAGE}
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ECOMDWH_ROOT=/app \
    GX_ANALYTICS_ENABLED=false \
    DO_NOT_TRACK=1 \
    HOME=/scratch \
    TMPDIR=/scratch \
    ECOMDWH_STATE_DIR=/scratch/state \
    ECOMDWH_REPORTS_DIR=/scratch/reports \
    DBT_TARGET_PATH=/scratch/dbt-target \
    DBT_LOG_PATH=/scratch/dbt-logs
RUN useradd --system --uid 10001 --user-group --home-dir /scratch --no-create-home ecomdwh \
    && mkdir -p /scratch \
    && chown ecomdwh:ecomdwh /scratch
COPY --from=build /opt/venv /opt/venv
# What the tasks read beside the package: the dbt project, the report notebooks, the GX suites.
WORKDIR /app
COPY dbt ./dbt
COPY notebooks ./notebooks
COPY expectations ./expectations
USER 10001:10001
ENTRYPOINT ["ecomdwh"]
CMD ["--help"]
