# Cognate in a container: the package installed with pip, run as an unprivileged user,
# its data dir a volume. See docs/docker.md (and compose.yaml for PostgreSQL beside it).
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install . \
    && rm -rf /src \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin cognate \
    && mkdir -p /data \
    && chown cognate:cognate /data \
    && chmod 0700 /data

USER cognate
WORKDIR /data
VOLUME ["/data"]
EXPOSE 9229

ENV COGNATE_HOST=0.0.0.0 \
    COGNATE_PORT=9229 \
    COGNATE_DATA_DIR=/data \
    COGNATE_PUBLIC_URL=http://localhost:9229

HEALTHCHECK --interval=10s --timeout=3s --start-period=30s \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:9229/health', timeout=2).status != 200)"]

ENTRYPOINT ["cognate"]
CMD ["serve"]
