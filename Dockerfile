# syntax=docker/dockerfile:1
# The platform's one image: every service of docker-compose.yml is `ville-autonome <subcommand>`
# (simulate, gateway, ingest, api, report, check-config). docs/deployment.md explains the stack.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VA_CONFIG=/etc/ville-autonome/amiens.yaml

# an unprivileged user; its home is the working directory where relative state paths
# (gateway buffers: var/<gateway>.buffer.sqlite) land, on a volume in docker-compose.yml
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/ville-autonome --create-home va \
    && mkdir -p /var/lib/ville-autonome/var /etc/ville-autonome \
    && chown -R va:va /var/lib/ville-autonome

# the locked third-party versions first (a layer that changes only with requirements/full.lock: the
# core and every feature, PDF/XLSX reports and what-if planning included), then the package (what
# .dockerignore lets through: sources, pyproject.toml, README.md, config/)
COPY requirements/full.lock /tmp/full.lock
RUN pip install -r /tmp/full.lock && rm /tmp/full.lock
COPY . /src
RUN pip install --no-deps /src \
    && cp /src/config/*.yaml /etc/ville-autonome/ \
    && install -m 0755 /src/deploy/healthcheck.py /usr/local/bin/va-healthcheck \
    && rm -rf /src

USER va
WORKDIR /var/lib/ville-autonome
ENTRYPOINT ["ville-autonome"]
CMD ["--help"]
