# syntax=docker/dockerfile:1.6
# modstream image: the package in a virtualenv on python-slim, running as a non-root user.
#
# Build with a model baked in (the directory `modstream train --out` wrote, inside the
# build context):
#   docker build --build-arg MODEL_DIR=models/default -t modstream:0.1.0 .
# Build without a model and mount one at run time:
#   docker build -t modstream:0.1.0 .
#   docker run -v "$PWD/models/default:/opt/modstream/model:ro" -p 9000:9000 -p 5000:5000 modstream:0.1.0
# The default command is `modstream serve`; the Kafka worker is the same image:
#   docker run --no-healthcheck modstream:0.1.0 stream --bootstrap-servers HOST:9092 \
#       --input-topic comments --output-topic verdicts
# See docs/deploy.md.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
COPY pyproject.toml README* ./
COPY src ./src
# pip compiles the bytecode here: the runtime filesystem may be read-only.
RUN /opt/venv/bin/pip install .
# The model is optional at build time: with MODEL_DIR unset the directory stays empty
# and a volume is expected at run time.
ARG MODEL_DIR=""
RUN --mount=type=bind,source=.,target=/context \
    mkdir -p /opt/modstream/model \
    && if [ -n "${MODEL_DIR}" ]; then \
         cp -r "/context/${MODEL_DIR}/." /opt/modstream/model/ \
         && test -f /opt/modstream/model/manifest.json; \
       fi

FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --gid 10001 modstream \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin modstream
COPY --from=build /opt/venv /opt/venv
COPY --from=build --chown=10001:10001 /opt/modstream/model /opt/modstream/model
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MODSTREAM_MODEL=/opt/modstream/model \
    MODSTREAM_HOST=0.0.0.0 \
    MODSTREAM_METRICS_HOST=0.0.0.0
USER 10001:10001
WORKDIR /tmp
# REST (Seldon v1 + V2), gRPC, and the Kafka worker's metrics.
EXPOSE 9000 5000 9100
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/v2/health/ready' % os.environ.get('MODSTREAM_HTTP_PORT', '9000'), timeout=2)"]
ENTRYPOINT ["modstream"]
CMD ["serve"]
