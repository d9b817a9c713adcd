# Production image: dependencies from uv.lock without the dev and embedded groups.
FROM python:3.11-slim AS build
COPY --from=ghcr.io/astral-sh/uv:0.8 /uv /usr/local/bin/uv
WORKDIR /app
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-install-project --no-default-groups
COPY service service
COPY schemas schemas
COPY migrations migrations
COPY web/dist web/dist
COPY alembic.ini README.md ./
RUN uv sync --frozen --no-default-groups

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 banshi && mkdir -p /var/lib/banshi/attachments \
    && chown banshi:banshi /var/lib/banshi/attachments
WORKDIR /app
COPY --from=build --chown=banshi:banshi /app /app
ENV PATH="/app/.venv/bin:$PATH"
USER banshi
EXPOSE 8000
CMD ["banshi", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "4"]
