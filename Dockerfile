# liqmap-bot: the Telegram service (`liqmap run`) in a container.
# Settings come from the environment (docker compose: env_file .env); the database lives on
# the /data volume. How to build, run, check, back up and upgrade: docs/deployment.md.

FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
WORKDIR /src
# The pinned, hash-checked dependencies first (a layer that changes only with the lock file),
# then the package itself without resolving anything again.
COPY requirements.lock ./
RUN /opt/venv/bin/pip install --no-cache-dir --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY liqmap ./liqmap
COPY storage ./storage
COPY jobs ./jobs
COPY bot ./bot
RUN /opt/venv/bin/pip install --no-cache-dir --no-deps .

FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    MPLCONFIGDIR=/home/liqmap/.matplotlib \
    LIQMAP_DB=/data/liqmap.db
# uid/gid 10001 "liqmap"; /data must be owned by it before VOLUME, so a new volume is too
RUN groupadd --gid 10001 liqmap \
    && useradd --uid 10001 --gid liqmap --create-home --shell /usr/sbin/nologin liqmap \
    && mkdir /app /data \
    && chown liqmap:liqmap /app /data
COPY --from=build /opt/venv /opt/venv
USER 10001:10001
WORKDIR /app
# matplotlib builds its font cache once here instead of at every start
RUN python -c "import matplotlib.font_manager"
VOLUME /data

# Offline: settings and database only, so an exchange or Telegram outage (which liqmap rides
# out by itself) does not mark the container unhealthy. `|| exit 1`: Docker reserves status 2.
HEALTHCHECK --interval=1m --timeout=30s --start-period=1m --retries=3 \
    CMD liqmap doctor --offline || exit 1

# liqmap run stops cleanly on SIGTERM (pending alerts stay in the database for the next start)
STOPSIGNAL SIGTERM
CMD ["liqmap", "run"]
