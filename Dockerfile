# Production image of the Banshi API.
#
# Build stage: uv installs the dependencies pinned in uv.lock, without the dev and
# embedded groups (the embedded PostgreSQL is for laptops only), and compiles bytecode.
# Final stage: python:3.11-slim with the virtual environment and the application only,
# run as an unprivileged user; no compilers, no uv, no package caches.
#
# The container serves; it never migrates. Migrations run once per release, before the
# API starts, as a separate one-off container from this same image
# (`banshi db upgrade && banshi load-reference`: the `migrate` service in compose.yaml).
#
#   docker build -t banshi:latest .

ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS build
# The uv that wrote uv.lock (lock revision 5); an older uv may not read it.
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /usr/local/bin/uv
WORKDIR /app
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never
# Dependencies first, in a layer of their own that survives changes to the code.
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=uv.lock,target=uv.lock \
    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \
    uv sync --locked --no-install-project --no-default-groups
COPY pyproject.toml uv.lock README.md alembic.ini ./
COPY service service
COPY schemas schemas
COPY migrations migrations
COPY web/dist web/dist
# The project itself, as an editable install: service/ finds migrations/ and web/dist/
# beside it in /app. Its own sources are compiled here, since /app is read-only later
# (hash-based and unchecked: the code in an image never changes).
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --locked --no-default-groups \
    && python -m compileall -q --invalidation-mode unchecked-hash service schemas migrations

FROM ${PYTHON_IMAGE}
RUN groupadd --system --gid 10001 banshi \
    && useradd --system --uid 10001 --gid banshi --no-log-init --create-home --shell /usr/sbin/nologin banshi \
    && mkdir -p /var/lib/banshi/attachments \
    && chown -R banshi:banshi /var/lib/banshi
WORKDIR /app
# Owned by root: the service can read its code but not change it.
COPY --from=build /app /app
ENV PATH="/app/.venv/bin:$PATH" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    BANSHI_DATA_DIR=/var/lib/banshi \
    BANSHI_ATTACHMENTS_DIR=/var/lib/banshi/attachments \
    BANSHI_WEB_DIR=/app/web/dist \
    PROMETHEUS_MULTIPROC_DIR=/tmp/banshi-metrics \
    BANSHI_LOG_FORMAT=json
USER 10001:10001
EXPOSE 8000
# slim has no curl: ask /health with the standard library.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status != 200)"]
# uvicorn directly, not `banshi serve` (which migrates first). The workers' Prometheus
# counts go to files in PROMETHEUS_MULTIPROC_DIR, emptied at each start as `banshi serve`
# does. `exec` makes uvicorn PID 1, so it gets the stop signal and shuts its workers down
# gracefully. Set BANSHI_WORKERS for the number of processes and FORWARDED_ALLOW_IPS to the
# reverse proxy's address as this container sees it (X-Forwarded-For is trusted from those
# addresses only). --http names uvicorn's protocol with a bound on the request head (431).
CMD ["sh", "-c", "if [ -n \"$PROMETHEUS_MULTIPROC_DIR\" ]; then rm -rf \"$PROMETHEUS_MULTIPROC_DIR\" && mkdir -p \"$PROMETHEUS_MULTIPROC_DIR\"; fi && exec uvicorn service.app:create_app --factory --host 0.0.0.0 --port 8000 --workers \"${BANSHI_WORKERS:-4}\" --proxy-headers --forwarded-allow-ips \"${FORWARDED_ALLOW_IPS:-127.0.0.1}\" --http service.adapters.http_server:BoundedHttpToolsProtocol"]
